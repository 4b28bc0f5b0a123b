// A consumer thread for the ring wake-up test: drains its ring with the real RingConsumer and
// publishes how many records it has read in word 0 of workerData.counter.
import { workerData } from 'node:worker_threads';
import { DatagramRing } from '../../dist/src/shared/ring.js';
import { RingConsumer } from '../../dist/src/shared/ring-consumer.js';

const counter = new Int32Array(workerData.counter);
const consumer = new RingConsumer(new DatagramRing(workerData.ring), () => Atomics.add(counter, 0, 1));
consumer.start();
