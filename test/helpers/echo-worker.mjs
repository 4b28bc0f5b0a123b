// A ring worker for the transport integration tests: answers every datagram to its sender through
// the egress ring, from the socket it arrived on. Plain JavaScript on purpose: Node 20 worker
// threads cannot load .ts, so it imports the compiled transport from dist/ (built from src/ by
// scripts/build.mjs, which vitest's globalSetup runs before any test).
//
// Payloads that steer it:  "CRASH..." exits the thread (code 7);  "STALL <ms>..." blocks the
// thread that long (its ingress ring fills up behind it).
// init: { annotate?: boolean }  prefix each reply with "W<index> " (which worker answered);
//       { control?: boolean }   listen on parentPort (default true). Without a listener only the
//                               rings' keep-alive handle holds the thread open (DESIGN.md pitfall);
//       { readyDelayMs?: number } wait before posting ready.
import { parentPort, workerData } from 'node:worker_threads';
import { attachRings } from '../../dist/src/transport/worker-side.js';
import { isRingWorkerData, READY } from '../../dist/src/shared/worker-protocol.js';

if (!isRingWorkerData(workerData) || parentPort === null) throw new Error('echo-worker: not started by a WorkerPool');
const port = parentPort;
const { index, ingress, egress } = workerData;
const init = /** @type {{ annotate?: boolean, control?: boolean, readyDelayMs?: number }} */ (workerData.init ?? {});
const prefix = init.annotate === true ? Buffer.from(`W${index} `) : undefined;
const CRASH = Buffer.from('CRASH');
const STALL = Buffer.from('STALL ');

const startsWith = (payload, head) => payload.length >= head.length && Buffer.compare(payload.subarray(0, head.length), head) === 0;

const rings = attachRings(ingress, egress, (payload, meta) => {
  if (startsWith(payload, CRASH)) process.exit(7);
  if (startsWith(payload, STALL)) {
    const ms = Number.parseInt(Buffer.from(payload.subarray(6, 12)).toString('latin1'), 10);
    const until = Date.now() + ms;
    while (Date.now() < until);
  }
  const reply = prefix === undefined ? payload : Buffer.concat([prefix, payload]);
  rings.send(reply, meta.address, meta.port, meta.socket, meta.tag);
});

if (init.control !== false) {
  port.on('message', (msg) => {
    if (msg?.type === 'stats') port.postMessage({ type: 'stats', index, stats: rings.stats });
  });
}

setTimeout(() => port.postMessage(READY), init.readyDelayMs ?? 0);
