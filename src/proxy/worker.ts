// A dispatch worker: one ProxyCore fed from its ingress ring, sending through its egress ring. It
// joins the rotation when it posts READY (STYLE.md habit 4); the main thread replaces it if it dies.
// Control messages (postMessage, never per datagram): stats (answered msgpackr-packed), drain, latency-reset.
import { getHeapStatistics } from 'node:v8';
import { parentPort, workerData } from 'node:worker_threads';
import { reviveConfig } from '../config/load.js';
import type { SiplbConfig } from '../config/types.js';
import type { DestinationRecord } from '../dispatch/list-file.js';
import { compileRoutes } from '../dispatch/routes.js';
import type { RoutesConfig } from '../config/routes.js';
import { READY, isRingWorkerData } from '../shared/worker-protocol.js';
import { attachRings, type AttachedRings, type RingStats } from '../transport/worker-side.js';
import { coreConfig } from './core-config.js';
import { targetsFrom } from './targets.js';
import { buildSets } from '../dispatch/sets.js';
import { ProxyCore } from './core.js';
import { DestTable } from '../shared/dest-table.js';
import { BindingTable } from '../shared/binding-table.js';
import { LagWindow, SharedDelay } from './overload.js';
import { warmUp } from './warmup.js';
import { Latency } from './latency.js';
import { DirectSender } from '../transport/direct-send.js';
import { nowMicros, tagOf } from '../shared/clock.js';
import { gcMillis } from '../shared/gc-time.js';
import { collectWhenIdle } from '../shared/idle-gc.js';
import { packStats } from '../shared/stats-codec.js';

/** workerData.init of a dispatch worker. */
export interface DispatchWorkerInit {
  config: SiplbConfig;
  records: DestinationRecord[];
  states: SharedArrayBuffer;
  /** The main thread's socket queueing delay (overload.ts SharedDelay). */
  socketDelay: SharedArrayBuffer;
  /** The registration sets' bindings (SIPLB_REGISTER_SETS), when there are any. */
  bindings?: SharedArrayBuffer;
}

/** A REGISTER for the registrar in the probe worker, by way of the main thread (control plane: a few per minute per media server). */
export interface RegisterMessage {
  type: 'register';
  bytes: Uint8Array;
  address: string;
  port: number;
  socket: number;
}

export type WorkerRequest =
  | { type: 'stats'; id: number }
  | { type: 'drain' }
  | { type: 'latency-reset' }
  /** New routing rules, already checked by the main thread (compileRoutes); undefined = none. */
  | { type: 'routes'; routes: RoutesConfig | undefined }
  /** A reloaded list (records with their slots); answered with WorkerReloaded once it selects from it. */
  | { type: 'reload'; id: number; records: DestinationRecord[] };

export interface WorkerReloaded {
  type: 'reloaded';
  id: number;
  index: number;
}

/** What a worker posts for 'stats': its WorkerStats packed (shared/stats-codec.ts). */
export interface WorkerStatsMessage {
  type: 'stats';
  id: number;
  packed: Uint8Array;
}

export interface WorkerStats {
  type: 'stats';
  id: number;
  index: number;
  counters: ReturnType<ProxyCore['counters']['snapshot']>;
  pending: number;
  rings: RingStats;
  /** This thread's V8 heap in use, bytes. */
  heapUsed: number;
  /** This thread's total GC pause time since it started, ms. */
  gcMs: number;
  /** How it sends: 'direct' on its own descriptors (with its latency histogram here), or 'ring'. */
  send: 'direct' | 'ring';
  /** Receive-to-send latency of what it sent itself (Latency.encode()); undefined on the ring. */
  latency: string | undefined;
  /** Datagrams it sent itself, and those the kernel refused at once (direct only). */
  sent: number;
  sendErrors: number;
  /** The overload guard now: share refused (0-1) and the last queueing delay sampled (ms). */
  overload: { shed: number; delayMs: number };
  /** Requests each routing rule took here, the default rule last (TargetSelector.hits). */
  routeHits: number[];
}

if (!parentPort || !isRingWorkerData(workerData)) throw new Error('src/proxy/worker.ts runs as a dispatch worker thread');
const port = parentPort;
const data = workerData;
const init = data.init as DispatchWorkerInit;
const config = reviveConfig(init.config);
// The ring is drained from the event loop (never during attach), so `core` exists by the first call.
const ringLag = new LagWindow();
const shedding = config.overloadDelay > 0;
const rings: AttachedRings = attachRings(data.ingress, data.egress, (payload, meta) => {
  if (shedding) ringLag.seen((tagOf(nowMicros()) - meta.tag) >>> 0); // the wait in the ingress ring, µs
  core.onDatagram(payload, meta, meta.tag);
});
const socketDelay = new SharedDelay(init.socketDelay);
const states = new DestTable(init.states);
// Sending on this worker's own descriptors (SIPLB_WORKER_SEND=direct) spares the main thread a ring
// hop, a copy and a send per datagram; if they cannot be opened, the egress ring is the way out.
let direct: DirectSender | undefined;
let directError: string | undefined;
if (data.sendFds !== undefined) {
  try {
    direct = new DirectSender(data.sendFds, config.listen.map((l) => l.family));
  } catch (err) {
    directError = String(err);
  }
}
const latency = direct ? new Latency() : undefined;
const core = new ProxyCore(
  coreConfig(config, init.records),
  states,
  {
    send(bytes, address, sendPort, socket, origin) {
      if (direct !== undefined) {
        if (direct.send(bytes, address, sendPort, socket)) latency!.record(origin);
        return;
      }
      // the arrival tag rides back with the datagram: the main thread records the latency when it sends
      rings.send(bytes, address, sendPort, socket, origin);
    },
    register(bytes, src) {
      // a copy: the ring slot the request sits in is reused when this batch ends
      port.postMessage({ type: 'register', bytes: Uint8Array.from(bytes), address: src.address, port: src.port, socket: src.socket } satisfies RegisterMessage);
    },
  },
  Date.now,
  // a datagram waits in a socket queue, then in this worker's ring
  () => socketDelay.get() + ringLag.take(),
  init.bindings === undefined ? undefined : new BindingTable(init.bindings),
);
// The coarse clock of every transaction timer (timer-wheel.ts).
setInterval(() => core.tick(), 10);
collectWhenIdle(() => core.held, () => rings.stats.received);

port.on('message', (msg: WorkerRequest) => {
  if (msg.type === 'drain') core.drain();
  else if (msg.type === 'reload') {
    // the sets are built once and serve both (a reload of 1,000 destinations: 3 builds cost a
    // worker about 20 ms of its datagrams' time, profiled with --cpu-prof)
    const sets = buildSets(msg.records);
    core.reloadList(msg.records, targetsFrom(msg.records, config.listen, sets), sets);
    port.postMessage({ type: 'reloaded', id: msg.id, index: data.index } satisfies WorkerReloaded);
  }
  else if (msg.type === 'latency-reset') latency?.reset();
  else if (msg.type === 'routes') core.setRoutes(msg.routes === undefined ? undefined : compileRoutes(msg.routes, msg.routes.file));
  else if (msg.type === 'stats') {
    const reply: WorkerStats = {
      type: 'stats',
      id: msg.id,
      index: data.index,
      counters: core.counters.snapshot(),
      pending: core.pending,
      rings: rings.stats,
      heapUsed: getHeapStatistics().used_heap_size,
      gcMs: gcMillis(),
      send: direct ? 'direct' : 'ring',
      latency: latency?.encode(),
      sent: direct?.sent ?? 0,
      sendErrors: direct?.errors ?? 0,
      overload: { shed: core.overload.shed, delayMs: core.overload.delayMs },
      routeHits: Array.from(core.selector.hits), // a plain array: msgpackr gives a typed array back as bytes
    };
    port.postMessage({ type: 'stats', id: msg.id, packed: packStats(reply) } satisfies WorkerStatsMessage);
  }
});
gcMillis(); // GC time counts from here
// Join the rotation with optimized code (warmup.ts). Datagrams for this shard queue in its ring meanwhile.
if (config.warmupCalls > 0) warmUp(core.config, states.snapshot(), config.warmupCalls);
port.postMessage(READY);
if (directError !== undefined) port.postMessage({ type: 'direct-send-failed', index: data.index, error: directError });
