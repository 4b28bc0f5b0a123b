// The main thread's side of the dispatch workers: N threads with an ingress and an egress ring each
// (DESIGN.md, "Threads and data flow"). Datagram -> worker shardOf(buf, N), so a call's messages
// share a worker; egress records are sent from here. postMessage is for control only (postAll).
import { type RemoteInfo } from 'node:dgram';
import { EventEmitter } from 'node:events';
import { Worker } from 'node:worker_threads';
import { type DatagramMeta, DatagramRing, type RecordCallback } from '../shared/ring.js';
import { RingConsumer } from '../shared/ring-consumer.js';
import { isReadyMessage, type RingWorkerData } from '../shared/worker-protocol.js';
import { nowMicros, tagOf } from '../shared/clock.js';
import { shardOf } from './shard.js';
import { type DatagramHandler } from './udp.js';

/** What sends egress records: a UdpTransport, or a fake in tests. */
export interface DatagramSender {
  send(socketIndex: number, buf: Uint8Array, port: number, address: string): void;
  /** After each send: the record's tag, the arrival stamp (src/shared/clock.ts) of the datagram it answers, 0 if none; and the worker's index. */
  sent?(tag: number, worker: number): void;
}

export interface WorkerPoolOptions {
  /** Worker entry: a compiled .js/.mjs file (Node 20 worker threads do not load .ts). */
  readonly script: URL;
  readonly workers: number;
  readonly sender: DatagramSender;
  /** Passed to each worker as workerData.init; replacements get the pool's `init` of the day. */
  readonly init?: unknown;
  /** Data area of each ring, both directions; datagrams up to half of it fit. Default 1 MiB (~1,600 x 600 B). */
  readonly ringBytes?: number;
  /** A worker that has not posted { type: 'ready' } by then is terminated (and replaced). Default 10 s. */
  readonly readyTimeoutMs?: number;
  /**
   * First delay before replacing a worker that died before ready or within a second of it (a
   * poison datagram that every replacement meets again); doubles up to 5 s. Default 100 ms.
   */
  readonly restartDelayMs?: number;
  readonly execArgv?: string[];
  /**
   * Descriptors for worker `index` to send on itself (duplicates of the listening sockets, fresh
   * for every start of a worker); undefined, or a rejection, leaves it sending through its ring.
   */
  readonly sendFds?: (index: number) => Promise<readonly number[] | undefined>;
}

export interface WorkerRestartEvent {
  readonly index: number;
  readonly exitCode: number;
  readonly error: Error | undefined;
  readonly wasReady: boolean;
  readonly delayMs: number;
  readonly workerRestarts: number;
}

export interface PoolCounters {
  /** Datagrams written to an ingress ring. */
  ingress: number;
  /** Datagrams dropped because the worker's ingress ring was full (never blocks). */
  dropped: number;
  /** Egress records handed to the sender. */
  egress: number;
  workerRestarts: number;
}

/** One worker's rings as the main thread sees them (for stats and the 3 a.m. question "is it stuck?"). */
export interface WorkerRingState {
  readonly index: number;
  readonly ready: boolean;
  readonly threadId: number;
  readonly ingressPendingBytes: number;
  /** The worker published that it waits for a notify. */
  readonly ingressSleeping: boolean;
  readonly ingressNotifies: number;
  readonly ingressDropped: number;
  readonly egressPendingBytes: number;
  readonly egressWakeups: number;
}

interface Slot {
  readonly index: number;
  readonly ingress: DatagramRing;
  readonly egress: RingConsumer;
  data: RingWorkerData;
  /** Consecutive early deaths (before ready, or soon after): drives the restart backoff. */
  readonly failures: number;
  worker: Worker | undefined;
  ready: boolean;
  readyAt: number;
  error: Error | undefined;
  /** Wake pending for records written since the last flush. */
  unflushed: number;
  timer: NodeJS.Timeout | undefined;
}

const WAKE_EVERY = 64;
const MAX_RESTART_DELAY_MS = 5000;
/** A worker that lived this long after ready died of something new: replace it at once. */
const STABLE_MS = 1000;

/** Until close(), the egress loops hold ref'd handles: an open pool keeps the process alive. */
export class WorkerPool extends EventEmitter<{ restart: [WorkerRestartEvent]; message: [index: number, msg: unknown]; sendFdsFailed: [index: number, err: Error] }> {
  readonly size: number;
  readonly counters: PoolCounters = { ingress: 0, dropped: 0, egress: 0, workerRestarts: 0 };
  private readonly slots: Slot[] = [];
  private readonly dirty: Slot[] = [];
  private readonly meta: DatagramMeta = { address: '', port: 0, family: 4, socket: 0, tag: 0 };
  /** workerData.init for workers started from now on (set it after a config reload). */
  init: unknown;
  private phase: 'new' | 'starting' | 'running' | 'closed' = 'new';
  private startup: { resolve: () => void; reject: (err: Error) => void } | undefined;

  constructor(private readonly opts: WorkerPoolOptions) {
    super();
    if (!Number.isInteger(opts.workers) || opts.workers < 1) throw new RangeError('a WorkerPool needs workers >= 1');
    this.size = opts.workers;
    this.init = opts.init;
  }

  /** Starts every worker; resolves when all posted ready, rejects if one dies or times out first. */
  start(): Promise<void> {
    if (this.phase !== 'new') throw new Error('WorkerPool.start() runs once');
    this.phase = 'starting';
    const done = new Promise<void>((resolve, reject) => (this.startup = { resolve, reject }));
    for (let i = 0; i < this.size; i++) {
      const slot = this.newSlot(i, 0);
      this.slots.push(slot);
      void this.prepare(slot).then(() => this.phase !== 'closed' && this.spawn(slot));
    }
    return done;
  }

  /**
   * Routes one datagram (a UdpTransport handler). Copies it: `buf` is free when this returns.
   * `arrived` is its arrival stamp (nowMicros) when the caller has read the clock already: a clock
   * read costs about 0.1 µs here.
   */
  readonly dispatch = (buf: Buffer, rinfo: RemoteInfo, socketIndex: number, arrived?: number): void => {
    const slot = this.slots[shardOf(buf, this.size)];
    if (slot === undefined) {
      this.counters.dropped++; // before start()
      return;
    }
    const m = this.meta;
    m.address = rinfo.address;
    m.family = rinfo.family === 'IPv6' ? 6 : 4;
    m.port = rinfo.port;
    m.socket = socketIndex;
    m.tag = tagOf(arrived ?? nowMicros()); // arrival stamp: comes back on what this datagram causes (latency)
    // A full ring drops and counts: blocking the main thread would stall every other worker too.
    if (!slot.ingress.tryWrite(buf, m)) {
      this.counters.dropped++;
      return;
    }
    this.counters.ingress++;
    // Batched wake: once per event-loop turn (setImmediate runs after the poll phase that read these
    // datagrams), or every WAKE_EVERY records in a long burst. wakeIfSleeping notifies only when the
    // worker published SLEEPING.
    if (slot.unflushed++ === 0) {
      if (this.dirty.push(slot) === 1) setImmediate(this.flush);
    } else if (slot.unflushed >= WAKE_EVERY) {
      slot.unflushed = 1;
      slot.ingress.wakeIfSleeping();
    }
  };

  /** Sends a control message to every live worker (config reload, admin commands, stats requests). */
  postAll(msg: unknown): void {
    for (const s of this.slots) s.worker?.postMessage(msg);
  }

  /** Per-worker state for the admin API. */
  workers(): WorkerRingState[] {
    return this.slots.map((s) => ({
      index: s.index,
      ready: s.ready,
      threadId: s.worker?.threadId ?? -1,
      ingressPendingBytes: s.ingress.pendingBytes,
      ingressSleeping: s.ingress.sleeping,
      ingressNotifies: s.ingress.notifies,
      ingressDropped: s.ingress.dropped,
      egressPendingBytes: s.egress.pendingBytes,
      egressWakeups: s.egress.wakeups,
    }));
  }

  /**
   * Test hook only (src/cli/test-hooks.ts): ends worker `index` where it stands, as a crash would;
   * its exit is handled like any other death (replaced, counted). False when it is not running.
   */
  terminate(index: number): boolean {
    const worker = this.slots[index]?.worker;
    if (worker === undefined || this.phase === 'closed') return false;
    void worker.terminate();
    return true;
  }

  /** Terminates the workers, sends what they left in their egress rings, releases the handles. */
  async close(): Promise<void> {
    if (this.phase === 'closed') return;
    this.phase = 'closed';
    this.startup?.reject(new Error('WorkerPool closed during start'));
    await Promise.all(
      this.slots.map(async (s) => {
        clearTimeout(s.timer);
        await s.worker?.terminate();
        s.egress.drainNow();
        s.egress.stop();
      }),
    );
  }

  private readonly flush = (): void => {
    for (const s of this.dirty) {
      s.unflushed = 0;
      s.ingress.wakeIfSleeping();
    }
    this.dirty.length = 0;
  };

  /** Gets the slot's send descriptors, if the pool's owner gives any; a failure leaves it on its ring. */
  private async prepare(slot: Slot): Promise<void> {
    if (this.opts.sendFds === undefined) return;
    try {
      const fds = await this.opts.sendFds(slot.index);
      if (fds !== undefined) slot.data = { ...slot.data, sendFds: fds };
    } catch (err) {
      this.emit('sendFdsFailed', slot.index, err as Error);
    }
  }

  private newSlot(index: number, failures: number): Slot {
    const bytes = this.opts.ringBytes ?? 1 << 20;
    const data: RingWorkerData = { index, ingress: DatagramRing.create(bytes), egress: DatagramRing.create(bytes), init: this.init };
    const sender = this.opts.sender;
    const sendRecord: RecordCallback = (payload, meta) => {
      // A copy: the ring slot is reused as soon as this batch ends, and dgram.send reads late.
      const copy = Buffer.allocUnsafe(payload.length);
      copy.set(payload);
      this.counters.egress++;
      sender.send(meta.socket, copy, meta.port, meta.address);
      sender.sent?.(meta.tag, index);
    };
    const egress = new RingConsumer(new DatagramRing(data.egress), sendRecord);
    egress.start();
    return { index, ingress: new DatagramRing(data.ingress), egress, data, failures, worker: undefined, ready: false, readyAt: 0, error: undefined, unflushed: 0, timer: undefined };
  }

  private spawn(slot: Slot): Slot {
    const worker = new Worker(this.opts.script, { workerData: slot.data, execArgv: this.opts.execArgv });
    slot.worker = worker;
    slot.timer = setTimeout(() => {
      slot.error = new Error(`worker ${slot.index} did not post ready within ${this.opts.readyTimeoutMs ?? 10_000} ms`);
      void worker.terminate();
    }, this.opts.readyTimeoutMs ?? 10_000);
    worker.on('message', (msg: unknown) => {
      if (!isReadyMessage(msg)) {
        this.emit('message', slot.index, msg);
        return;
      }
      clearTimeout(slot.timer);
      slot.ready = true;
      slot.readyAt = Date.now();
      slot.ingress.wakeIfSleeping(); // datagrams may have queued while it started
      if (this.phase === 'starting' && this.slots.every((s) => s.ready)) {
        this.phase = 'running';
        this.startup?.resolve();
        this.startup = undefined;
      }
    });
    worker.on('error', (err) => (slot.error = err));
    worker.on('exit', (code) => this.replace(slot, code));
    return slot;
  }

  private replace(dead: Slot, exitCode: number): void {
    clearTimeout(dead.timer);
    if (this.phase === 'closed' || this.slots[dead.index] !== dead) return;
    // Replies the worker wrote before it died still leave.
    dead.egress.drainNow();
    dead.egress.stop();
    const error = dead.error ?? new Error(`worker ${dead.index} exited with code ${exitCode}`);
    if (this.phase === 'starting') {
      this.startup?.reject(error);
      this.startup = undefined;
      this.phase = 'running'; // later deaths are replaced; the caller decides whether to close
    }
    const failures = dead.ready && Date.now() - dead.readyAt >= STABLE_MS ? 0 : dead.failures + 1;
    const base = this.opts.restartDelayMs ?? 100;
    const delayMs = failures === 0 ? 0 : Math.min(MAX_RESTART_DELAY_MS, base * 2 ** (failures - 1));
    // Fresh rings: whatever the dead worker left half-read is discarded with them, and no waiter of
    // the dead thread is left on a buffer the new one uses. Datagrams for this shard queue in the
    // new ingress ring (bounded; full means dropped and counted) until the replacement is ready.
    const next = this.newSlot(dead.index, failures);
    this.slots[dead.index] = next;
    this.counters.workerRestarts++;
    next.timer = setTimeout(() => void this.prepare(next).then(() => this.phase !== 'closed' && this.spawn(next)), delayMs);
    this.emit('restart', { index: dead.index, exitCode, error, wasReady: dead.ready, delayMs, workerRestarts: this.counters.workerRestarts });
  }
}

/**
 * The datagram handler for a UdpTransport: the pool's router when workers > 0, or the inline
 * handler (SIPLB_WORKERS=0: dispatch logic on the main thread, no rings, no hop).
 */
export function createDispatch(workers: number, inline: DatagramHandler, pool?: WorkerPool): DatagramHandler {
  if (workers === 0) return inline;
  if (pool === undefined || pool.size !== workers) throw new RangeError(`createDispatch: ${workers} workers need a WorkerPool of that size`);
  return pool.dispatch;
}
