// The consumer's loop around a DatagramRing: drain in batches, sleep on the ring when it is empty,
// wake on the producer's notify. Used by dispatch workers (ingress) and by the main thread (egress).
import { type DatagramRing, type RecordCallback } from './ring.js';

export interface RingConsumerOptions {
  /** Records per read() before the loop yields to the event loop (timers, control messages). */
  readonly batch?: number;
  /** After each batch: e.g. wake the peer once for everything the batch wrote to the other ring. */
  readonly onBatchEnd?: () => void;
  /** When onRecord throws. Default: rethrown from a microtask, i.e. an uncaught exception. */
  readonly onError?: (err: unknown) => void;
  /**
   * Hold a ref'd timer while started. DESIGN.md: a pending Atomics.waitAsync does not keep a
   * worker's event loop alive; a worker whose only work is that wait exits silently and the
   * producer's notify then wakes nobody. Default true.
   */
  readonly keepAlive?: boolean;
}

const DEFAULT_BATCH = 256;
/** Rounds of read-then-recheck in one turn before yielding anyway, so a steady trickle cannot starve timers. */
const MAX_ROUNDS = 8;
const KEEPALIVE_MS = 2 ** 31 - 1;
const noop = (): void => {};

export class RingConsumer {
  /** Records handed to onRecord (a throwing record counts as handled). */
  records = 0;
  /** Times the loop slept and was woken by a notify. */
  wakeups = 0;
  /** Callbacks that threw. */
  errors = 0;

  private readonly batch: number;
  private readonly onBatchEnd: (() => void) | undefined;
  private readonly onError: (err: unknown) => void;
  private readonly keepAlive: boolean;
  private state: 'new' | 'running' | 'stopped' = 'new';
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly ring: DatagramRing,
    private readonly onRecord: RecordCallback,
    opts: RingConsumerOptions = {},
  ) {
    this.batch = opts.batch ?? DEFAULT_BATCH;
    this.onBatchEnd = opts.onBatchEnd;
    this.onError =
      opts.onError ??
      ((err) =>
        queueMicrotask(() => {
          throw err;
        }));
    this.keepAlive = opts.keepAlive ?? true;
  }

  start(): void {
    if (this.state !== 'new') throw new Error('a RingConsumer starts once');
    this.state = 'running';
    if (this.keepAlive) this.timer = setInterval(noop, KEEPALIVE_MS);
    // Never call onRecord from inside start(): its caller may not have finished setting up (a
    // worker's `const rings = attachRings(..., cb)` whose cb uses `rings` would throw TDZ errors).
    setImmediate(this.turn);
  }

  /**
   * Stops the loop and releases the keep-alive handle. A wait still pending settles on some later
   * notify and does nothing; it does not hold the event loop (the pitfall above, used on purpose).
   */
  stop(): void {
    this.state = 'stopped';
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Bytes the producer wrote that this loop has not read yet. */
  get pendingBytes(): number {
    return this.ring.pendingBytes;
  }

  /** Reads everything there is now, outside the loop (e.g. a last drain before a ring is dropped). */
  drainNow(): number {
    let total = 0;
    for (let n = this.readBatch(); n > 0; n = this.readBatch()) total += n;
    return total;
  }

  private readBatch(): number {
    const before = this.records;
    try {
      this.records += this.ring.read(this.batch, this.onRecord);
    } catch (err) {
      // read() advanced past the throwing record; count it and go on with the rest.
      this.errors++;
      this.records++;
      this.onError(err);
    }
    return this.records - before;
  }

  private readonly turn = (): void => {
    for (let round = 0; this.state === 'running'; round++) {
      const n = this.readBatch();
      if (n > 0) this.onBatchEnd?.();
      if (n >= this.batch || round === MAX_ROUNDS) {
        // More may be waiting: come back after the event loop had its turn, without sleeping.
        setImmediate(this.turn);
        return;
      }
      const settled = this.ring.sleep();
      if (settled !== null) {
        void settled.then(this.woken);
        return;
      }
      // A record arrived between read() and publishing SLEEPING: read again.
    }
  };

  private readonly woken = (): void => {
    if (this.state !== 'running') return;
    this.ring.awake();
    this.wakeups++;
    this.turn();
  };
}
