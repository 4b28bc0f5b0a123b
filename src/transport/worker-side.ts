// The worker's end of the two rings. A worker.ts (the proxy's, the test echo worker) reads its
// workerData and hands the buffers here; this file never touches parentPort or workerData itself
// (STYLE.md layout rule, enforced by eslint.config.js).
//
//   ingress ring --read in batches--> onDatagram(payload, meta) --send()--> egress ring --> main
//
// Wake-ups cost more than the copies (DESIGN.md: one notify per datagram each way made a relay
// 1.8x dearer), so the egress ring is notified once per ingress batch, not once per send().
import { DatagramRing, type DatagramMeta, type RecordCallback } from '../shared/ring.js';
import { RingConsumer } from '../shared/ring-consumer.js';

export interface AttachOptions {
  /** Ingress records per batch before yielding to the event loop. Default 256. */
  readonly batch?: number;
  /** When onDatagram throws. Default: rethrown as an uncaught exception (the pool restarts the worker). */
  readonly onError?: (err: unknown) => void;
}

export interface RingStats {
  /** Datagrams handed to onDatagram. */
  readonly received: number;
  /** Datagrams written to the egress ring. */
  readonly sent: number;
  /** send() refused: egress ring full. */
  readonly dropped: number;
  /** send() refused: address not an IP literal of its family (the ring carries no names). */
  readonly rejected: number;
  /** Times the ingress loop was woken by the main thread. */
  readonly wakeups: number;
}

export interface AttachedRings {
  /**
   * Queues a datagram for the main thread to send from listening socket `socket`. The payload is
   * copied: the caller may reuse it at once. False when it was dropped (ring full, bad address).
   */
  send(payload: Uint8Array, address: string, port: number, socket: number, tag?: number): boolean;
  readonly stats: RingStats;
  /** Stops draining ingress and releases the keep-alive handle. */
  close(): void;
}

class Attached implements AttachedRings {
  private readonly ingress: DatagramRing;
  private readonly egress: DatagramRing;
  private readonly consumer: RingConsumer;
  private readonly meta: DatagramMeta = { address: '', port: 0, family: 4, socket: 0, tag: 0 };
  private sent = 0;
  /** Records written to egress since the last wake check. */
  private unflushed = false;
  /** True while a batch runs: its end flushes; outside (timers) a microtask does. */
  private inBatch = false;
  private flushQueued = false;

  constructor(ingressSab: SharedArrayBuffer, egressSab: SharedArrayBuffer, onDatagram: RecordCallback, opts: AttachOptions) {
    this.ingress = new DatagramRing(ingressSab);
    this.egress = new DatagramRing(egressSab);
    const onRecord: RecordCallback = (payload, meta) => {
      this.inBatch = true;
      onDatagram(payload, meta);
    };
    this.consumer = new RingConsumer(this.ingress, onRecord, {
      batch: opts.batch,
      onError: opts.onError,
      onBatchEnd: this.flush,
      keepAlive: true,
    });
    this.consumer.start();
  }

  send(payload: Uint8Array, address: string, port: number, socket: number, tag = 0): boolean {
    const m = this.meta;
    m.address = address;
    m.family = address.indexOf(':') >= 0 ? 6 : 4;
    m.port = port;
    m.socket = socket;
    m.tag = tag;
    if (!this.egress.tryWrite(payload, m)) return false;
    this.sent++;
    this.unflushed = true;
    if (!this.inBatch && !this.flushQueued) {
      // Sent from a timer or a control message: wake once for everything this task sends.
      this.flushQueued = true;
      queueMicrotask(this.flush);
    }
    return true;
  }

  get stats(): RingStats {
    return {
      received: this.consumer.records,
      sent: this.sent,
      dropped: this.egress.dropped,
      rejected: this.egress.rejected,
      wakeups: this.consumer.wakeups,
    };
  }

  close(): void {
    this.consumer.stop();
    this.flush();
  }

  private readonly flush = (): void => {
    this.inBatch = false;
    this.flushQueued = false;
    if (!this.unflushed) return;
    this.unflushed = false;
    this.egress.wakeIfSleeping();
  };
}

/**
 * Starts draining `ingressSab` into onDatagram (payload and meta valid only during the call) and
 * returns the sending side. Holds a ref'd handle until close(), so the worker stays alive.
 */
export function attachRings(
  ingressSab: SharedArrayBuffer,
  egressSab: SharedArrayBuffer,
  onDatagram: RecordCallback,
  opts: AttachOptions = {},
): AttachedRings {
  return new Attached(ingressSab, egressSab, onDatagram, opts);
}
