// The running proxy, main thread: loads the destination list, binds the sockets, and runs the
// proxy core inline (SIPLB_WORKERS=0) or in dispatch workers fed by Call-ID shard. Owns the shared
// destination state table, the latency histogram of what it sends, stats merging and the drain.
import { readFile } from 'node:fs/promises';
import type { SiplbConfig } from './config/types.js';
import { SiplbBindError, SiplbConfigError } from './errors.js';
import type { DestinationRecord } from './dispatch/list-file.js';
import { checkSockets } from './list/check.js';
import { ListService } from './list/service.js';
import { closeControlPool } from './pool/control-pool.js';
import { restoreState, saveState } from './list/state-file.js';
import { readDestinationSource, type DestinationSource } from './sources/index.js';
import { startEvents, type EventStats } from './events/hub.js';
import { coreConfig } from './proxy/core-config.js';
import { ProxyCore } from './proxy/core.js';
import { type CounterSnapshot, mergeSnapshots } from './proxy/counters.js';
import { DestTable } from './shared/dest-table.js';
import { targetsFrom } from './proxy/targets.js';
import { Latency, nowMicros, type LatencySnapshot } from './proxy/latency.js';
import { OVERLOAD_WINDOW_MS, SharedDelay } from './proxy/overload.js';
import { warmUp } from './proxy/warmup.js';
import type { DispatchWorkerInit, WorkerRequest, WorkerStats, WorkerStatsMessage } from './proxy/worker.js';
import { unpackStats } from './shared/stats-codec.js';
import { compileRoutes } from './dispatch/routes.js';
import { parseRoutes, type RoutesConfig } from './config/routes.js';
import { routesAnswer, sumRouteHits, type RoutesAnswer } from './admin/routes.js';
import type { ProbeCounters } from './probe/prober.js';
import type { RegistrationCounters } from './probe/registrations.js';
import type { ProbeRequest, ProbeStats, ProbeWarning, ProbeWorkerInit } from './probe/worker.js';
import { startAdmin, type AdminServer, type AdminSources } from './admin/server.js';
import { BindingTable } from './shared/binding-table.js';
import { VACANT_SLOT } from './shared/dest-state.js';
import type { RegisterMessage } from './proxy/worker.js';
import { CALL_ID_PREFIX_BYTES } from './shared/keepalive-marker.js';
import { isReplyWithCallIdPrefix } from './transport/shard.js';
import { gcMillis } from './shared/gc-time.js';
import { collectWhenIdle } from './shared/idle-gc.js';
import { floodGuardFor } from './transport/flood-setup.js';
import { WorkerPool, type WorkerRingState } from './transport/pool.js';
import { UdpTransport, type BoundSocket } from './transport/udp.js';

export interface Log {
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export interface Stats {
  counters: CounterSnapshot;
  latency: string;
  latencyCount: number;
  /** The same distribution as a compressed HdrHistogram (base64), for tools: two of them subtract into an interval's. */
  latencyHdr: string;
  pending: number;
  udp: UdpTransport['counters'];
  workerRestarts: number;
  /** Datagrams dropped because a worker's ingress ring was full. */
  ringDrops: number;
  /** Load shedding now, the worst of the cores: share of new requests refused (%) and queueing delay (ms). */
  overload: { shedPercent: number; delayMs: number };
  /** Flood control: datagrams dropped, blocks begun, sources blocked now (all 0 when SIPLB_FLOOD_LIMIT=0). */
  flood: { dropped: number; blocks: number; blockedSources: number };
  /** Bytes: the process's resident set, and the V8 heap in use of the main thread and of each dispatch worker. */
  memory: { rss: number; heapUsed: number; workersHeapUsed: number };
  /** Total GC pause time since start, ms: the main thread, and the dispatch workers together. */
  gc: { mainMs: number; workersMs: number };
  /** The probe worker's keepalive counters; undefined when keepalives are off (SIPLB_DS_PING_INTERVAL=0). */
  probe: (ProbeCounters & { pending: number; active: boolean; restarts: number; registrations: RegistrationCounters | undefined }) | undefined;
  /** Per dispatch worker: its rings seen from the main thread, and what the worker itself reported. */
  workers: Array<WorkerRingState & { received: number; wakeups: number; egressDrops: number; replied: boolean; send: 'direct' | 'ring' | 'unknown' }>;
  /** Destination events (src/events/): dst-down/dst-up seen, webhook and command outcomes. */
  events: EventStats;
  /** New requests each routing rule took (SIPLB_ROUTES order, the default rule last), all threads. */
  routeHits: number[];
}

export interface Server {
  readonly sockets: readonly BoundSocket[];
  /** The list in service (it changes at a reload), every record with its table entry. */
  readonly records: readonly DestinationRecord[];
  /** Reloads, dispatcher.add and dispatcher.remove (src/list/service.ts). */
  readonly list: ListService;
  readonly states: DestTable;
  stats(): Promise<Stats>;
  /** Latency distributions per thread and keepalive round trips per destination (admin/latency-api.ts). */
  latency(): Promise<LatencySnapshot>;
  /** Every thread and the probe worker start their latency histograms afresh. */
  resetLatency(): void;
  /** The routing rules in service (SIPLB_ROUTES), for `siplb.routes`. */
  readonly routes: RoutesConfig | undefined;
  /**
   * Puts routing rules already checked (parseRoutes/compileRoutes, off the data path) in service in
   * every thread at once: one control message per worker. Hit counts start again from zero.
   */
  setRoutes(routes: RoutesConfig | undefined): void;
  /** New INVITEs get 503; resolves when no transaction is pending or after `timeoutMs`. */
  drain(timeoutMs: number): Promise<void>;
  /** Test hook only (src/cli/test-hooks.ts): terminates dispatch worker `index`, which the pool replaces. */
  terminateWorker(index: number): boolean;
  close(): Promise<void>;
}

/** Reads and checks the list file or table; ListService.start resolves its names (the hot path sends to addresses). */
export async function loadDestinations(config: SiplbConfig, log: Log): Promise<DestinationSource> {
  const source = await readDestinationSource(config);
  const checked = checkSockets(source, config, source.origin);
  for (const w of checked.warnings) log.warn(w);
  if (checked.destinations.length > config.maxDestinations) {
    throw new SiplbConfigError('SIPLB_MAX_DESTINATIONS', `${source.origin.name} has ${checked.destinations.length} destinations, more than the table's ${config.maxDestinations}: raise SIPLB_MAX_DESTINATIONS`);
  }
  return { ...checked, origin: source.origin };
}

/**
 * An empty list or a SIPLB_SET with no destination in it is a working configuration that routes
 * nothing: say so once, at start, instead of letting every caller find out.
 */
export function warnIfNoDestination(config: SiplbConfig, records: readonly DestinationRecord[], log: Log): void {
  if (records.some((r) => r.setId === config.set)) return;
  const sets = [...new Set(records.map((r) => r.setId))].join(', ');
  const [why, fix] =
    records.length === 0
      ? ['the list has no destination', `add destinations to ${config.dbUrl === '' ? 'SIPLB_LIST_FILE' : `table ${config.dbTable} (SIPLB_DB_URL)`}`]
      : [`the list has no destination in set ${config.set} (SIPLB_SET)`, `set SIPLB_SET to a set the list has (${sets}) or add destinations to set ${config.set}`];
  log.warn(`${why}: every new call will be answered ${config.noDestCode} ${config.noDestReason} (SIPLB_NO_DEST_CODE, SIPLB_NO_DEST_REASON); ${fix}`, {
    ...(config.dbUrl === '' ? { listFile: config.listFile } : { table: config.dbTable }),
    set: config.set,
    destinations: records.length,
  });
}

/** A rule that routes to a set the list has no destination in: its requests get SIPLB_NO_DEST_CODE. */
export function warnRoutesWithoutDestination(routes: RoutesConfig | undefined, records: readonly DestinationRecord[], config: SiplbConfig, log: Log): void {
  routes?.rules.forEach((r, i) => {
    if (r.reject !== undefined || records.some((d) => d.setId === (r.set ?? config.set))) return;
    log.warn(`${routes.file}: rule ${i + 1}${r.name ? ` (${r.name})` : ''} routes to set ${r.set ?? config.set}, which has no destination in the list: its requests will be answered ${config.noDestCode} ${config.noDestReason}`);
  });
}

export async function startServer(config: SiplbConfig, log: Log): Promise<Server> {
  gcMillis(); // GC time counts from the start
  const loaded = await loadDestinations(config, log);
  warnIfNoDestination(config, loaded.destinations, log);
  warnRoutesWithoutDestination(config.routes, loaded.destinations, config, log);
  let routes = config.routes;
  // The table: the list's entries (SIPLB_MAX_DESTINATIONS, the free ones vacant until a reload
  // takes them), then the registration-based destinations' slots (all vacant at start).
  const registerSlots = config.registerSets.size > 0 ? config.registerMax : 0;
  const bindings = registerSlots > 0 ? new BindingTable(BindingTable.create(registerSlots)) : undefined;
  if (bindings && config.registerAllow.blocks.length === 0) {
    log.warn('SIPLB_REGISTER_SETS is set but SIPLB_REGISTER_ALLOW is empty: every REGISTER to those addresses-of-record will be answered 403', { registerSets: [...config.registerSets.keys()] });
  }
  const initial = Array<number>(config.maxDestinations + registerSlots).fill(VACANT_SLOT);
  const states = new DestTable(DestTable.create(initial, { probing: config.probingThreshold, inactive: config.inactiveThreshold }));
  // Pushes a reloaded list to whoever is up when it comes (set once the threads exist).
  let pushList: (records: readonly DestinationRecord[]) => Promise<void> = () => Promise.resolve();
  let localList: (records: readonly DestinationRecord[]) => void = () => undefined;
  const ref: { server?: Server } = {}; // the server object, for the reload hook below
  const list = new ListService(
    config,
    states,
    {
      threads: (r) => pushList(r),
      local: (r) => localList(r),
      // the routing rules file is read again with the list, and checked as at start
      ...(config.routes ? { prepare: () => rereadRoutes(config.routes!.file, config, (next) => ref.server?.setRoutes(next)) } : {}),
    },
    log,
    config.maxDestinations,
  );
  const records = await list.start(loaded.destinations, loaded.origin);
  for (const r of records) states.occupy(r.slot!, r.flags);
  // before any thread reads the table: a restart does not forget what the last run knew
  if (config.stateFile !== '') await restoreState(config.stateFile, records, states, log);
  const keeper = config.stateFile === '' ? undefined : keepState(config.stateFile, config.stateInterval, () => list.records, states, log);
  /** A REGISTER for the registrar (probe worker), from the inline core or a dispatch worker. */
  const toRegistrar = (bytes: Uint8Array, address: string, port: number, socket: number): void => {
    const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
    probeDispatch?.(buf, { address, port, family: address.includes(':') ? 'IPv6' : 'IPv4', size: buf.length }, socket);
  };
  const udp = new UdpTransport(
    config.listen.map((l) => ({ host: l.address, port: l.port, family: l.family })),
    {
      recvBufferSize: config.socketBuffer,
      sendBufferSize: config.socketBuffer,
      reusePort: config.reusePort,
      log: (level, msg, fields) => log[level](msg, fields),
    },
  );
  const latency = new Latency();
  /** Receive-to-send of what each dispatch worker sent through its egress ring, by worker index. */
  const ringLatency: Latency[] = [];
  const sockets = await udp.listen().catch((err: unknown) => {
    // An operator's mistake (port taken, address not here, privileged port): one line naming the
    // variable, not a stack trace. `address` and `port` are those of the socket that failed.
    const e = err as NodeJS.ErrnoException & { address?: string; port?: number };
    if (e.syscall !== 'bind' || e.code === undefined) throw err;
    const l = config.listen.find((x) => x.address === e.address && x.port === e.port);
    const host = l?.host ?? (e.address?.includes(':') ? `[${e.address}]` : e.address);
    throw new SiplbBindError('SIPLB_LISTEN', `udp:${host}:${l?.port ?? e.port}`, e.code, { cause: err });
  });
  if (config.overloadDelay > 0) udp.startQueueProbe(OVERLOAD_WINDOW_MS / 2);
  // In front of sharding and parsing, on the main thread: a blocked source costs a table lookup.
  // Its clock is the datagram's arrival stamp in ms (nowMicros), read once per datagram inline.
  const flood = floodGuardFor(config, records.map((r) => r.address), log);
  const guard = flood?.guard;
  // Keepalive replies go to the probe worker: a response whose Call-ID has the keepalive prefix,
  // found by the byte scan sharding uses (no parse on the main thread); so do REGISTERs for the
  // registrar. It is up before the data path, so neither finds it missing, but sends its first
  // keepalive only once the data path is warm ('go' below): a reply held up behind the warm-up
  // would count as a timeout.
  let probe: WorkerPool | undefined;
  try {
    probe = await startProbe(config, records, states, bindings, udp, log);
  } catch (err) {
    await udp.close();
    throw err;
  }
  const probeDispatch = probe?.dispatch;
  // Before any datagram is handled, so no state change escapes it; the table as loaded is the
  // baseline (a destination loaded inactive did not go down). Its timer does not hold the process.
  const events = startEvents(config, records, states, log, bindings ? { bindings } : {});
  let inline: ProxyCore | undefined;
  let pool: WorkerPool | undefined;
  let ticker: NodeJS.Timeout | undefined;
  let delayTimer: NodeJS.Timeout | undefined;
  let idleGc: NodeJS.Timeout | undefined;

  if (config.workers === 0) {
    const core = new ProxyCore(
      coreConfig(config, records),
      states,
      {
        send(bytes, address, port, socket, origin) {
          udp.send(socket, bytes, port, address);
          latency.record(origin);
        },
        register: (bytes, src) => toRegistrar(bytes, src.address, src.port, src.socket),
      },
      Date.now,
      () => udp.queueDelayMs(),
      bindings,
    );
    inline = core;
    if (config.warmupCalls > 0) {
      const w = warmUp(core.config, states.snapshot(), config.warmupCalls);
      log.info('warmed up', { thread: 'main', ...w });
    }
    udp.onDatagram((buf, rinfo, socket) => {
      const now = nowMicros();
      if (guard?.admit(rinfo.address, now / 1000) === false) return;
      if (probeDispatch !== undefined && isReplyWithCallIdPrefix(buf, CALL_ID_PREFIX_BYTES)) return probeDispatch(buf, rinfo, socket, now);
      core.onDatagram(buf, { address: rinfo.address, port: rinfo.port, socket }, now);
    });
    ticker = setInterval(() => core.tick(), 10);
    idleGc = collectWhenIdle(() => core.held, () => udp.counters.received);
  } else {
    // The sockets' queueing delay, for the workers' shedding (they add their ring's wait to it).
    const socketDelay = new SharedDelay(SharedDelay.create());
    if (config.overloadDelay > 0) {
      delayTimer = setInterval(() => socketDelay.set(udp.queueDelayMs()), OVERLOAD_WINDOW_MS / 2);
      delayTimer.unref();
    }
    const init: DispatchWorkerInit = { config, records: [...records], states: states.buffer, socketDelay: socketDelay.buffer, ...(bindings ? { bindings: bindings.buffer } : {}) };
    pool = new WorkerPool({
      script: new URL('./proxy/worker.js', import.meta.url),
      workers: config.workers,
      init,
      ...(config.workerSend === 'direct' ? { sendFds: () => udp.duplicate() } : {}),
      sender: {
        send(socket, buf, port, address) {
          udp.send(socket, buf, port, address);
        },
        sent(tag, worker) {
          (ringLatency[worker] ??= new Latency()).record(tag);
        },
      },
    });
    pool.on('restart', (e) => log.error('dispatch worker died; replaced', { worker: e.index, exitCode: e.exitCode, error: String(e.error), restarts: e.workerRestarts }));
    const fallBack = (worker: number, error: string): void =>
      log.warn('SIPLB_WORKER_SEND=direct could not start for a worker; it sends through the main thread (ring)', { worker, error });
    pool.on('sendFdsFailed', (worker, err) => fallBack(worker, String(err)));
    pool.on('message', (worker, msg) => {
      const m = msg as { type?: string; error?: string };
      if (m.type === 'direct-send-failed') fallBack(worker, m.error ?? '');
      else if (m.type === 'register') {
        const r = msg as RegisterMessage;
        toRegistrar(r.bytes, r.address, r.port, r.socket);
      }
    });
    await pool.start();
    idleGc = collectWhenIdle(() => 0, () => udp.counters.received);
    const poolDispatch = pool.dispatch;
    const dispatch: typeof poolDispatch =
      config.pingInterval === 0 && bindings === undefined
        ? poolDispatch
        : (buf, rinfo, socket, arrived) => {
            if (probeDispatch !== undefined && isReplyWithCallIdPrefix(buf, CALL_ID_PREFIX_BYTES)) probeDispatch(buf, rinfo, socket, arrived);
            else poolDispatch(buf, rinfo, socket, arrived);
          };
    udp.onDatagram(
      guard === undefined
        ? dispatch
        : (buf, rinfo, socket) => {
            const now = nowMicros();
            if (guard.admit(rinfo.address, now / 1000)) dispatch(buf, rinfo, socket, now);
          },
    );
  }
  let admin: AdminServer | undefined;
  /** dispatcher.ping_active (Kamailio starts with keepalives on). */
  let pingActive = true;
  try {
    if (probe) {
      probe.postAll({ type: 'go' } satisfies ProbeRequest);
      probe.init = { ...(probe.init as ProbeWorkerInit), go: true }; // a replacement starts pinging at once
    }
    const routesNow = async (): Promise<RoutesAnswer> => routesAnswer(routes, config, (await stats()).routeHits);
    pushList = async (next) => {
      const copy = [...next];
      inline?.reloadList(copy, targetsFrom(copy, config.listen));
      await Promise.all([
        pool && reloadThreads(pool, copy, 'reloaded', (id) => ({ type: 'reload', id, records: copy }) satisfies WorkerRequest),
        probe && reloadThreads(probe, copy, 'probe-reloaded', (id) => ({ type: 'reload', id, records: copy }) satisfies ProbeRequest),
      ]);
    };
    localList = (next) => {
      events.reload(next);
      flood?.setDestinations(next.map((r) => r.address));
    };
    if (config.watchList) list.watch();
    list.refreshDnsEvery(config.dsDnsInterval);
    if (config.admin !== undefined) {
      const sources: AdminSources = {
        records: () => list.records,
        states: () => states,
        latency: config.pingLatencyStats,
        ...(bindings ? { bindings } : {}),
        stats: () => stats(),
        list,
        metrics: { stats: () => stats(), latency: () => latencySnapshot(), resetLatency: () => resetLatency() },
        events: () => events.recent(),
        methods: new Map([['siplb.routes', { readOnly: true, summary: 'the routing rules (SIPLB_ROUTES) with their hit counts, the default rule last', handler: () => routesNow() }]]),
        pingActive: (set) => {
          const was = pingActive;
          if (set !== undefined) {
            pingActive = set;
            probe?.postAll({ type: 'ping-active', active: set } satisfies ProbeRequest);
            if (probe) probe.init = { ...(probe.init as ProbeWorkerInit), active: set }; // a replacement keeps it
          }
          return was;
        },
      };
      admin = await startAdmin(config.admin, sources, { reusePort: config.reusePort, token: config.adminToken });
    }
  } catch (err) {
    clearInterval(ticker);
    clearInterval(idleGc);
    clearInterval(delayTimer);
    await pool?.close();
    await probe?.close();
    await udp.close();
    throw err;
  }
  log.info('siplb listening', {
    sockets: sockets.map((s) => `${s.family === 6 ? `[${s.host}]` : s.host}:${s.port}`),
    mode: config.mode,
    workers: config.workers,
    destinations: records.length,
    admin: config.admin === undefined ? 'off' : `http://${config.admin.host.includes(':') ? `[${config.admin.host}]` : config.admin.host}:${admin?.port ?? config.admin.port}`,
    keepalives: probe === undefined ? 'off' : `every ${config.pingInterval} s, probing mode ${config.probingMode}`,
  });

  let statsId = 0;
  const workerStats = (): Promise<WorkerStats[]> => {
    if (!pool) return Promise.resolve([]);
    const p = pool;
    const id = ++statsId;
    return new Promise((resolve) => {
      const got: WorkerStats[] = [];
      const onMessage = (_i: number, msg: unknown): void => {
        const m = msg as WorkerStatsMessage;
        if (m.type === 'stats' && m.id === id) got.push(unpackStats<WorkerStats>(m.packed));
        if (got.length === p.size) finish();
      };
      const finish = (): void => {
        clearTimeout(timer);
        p.off('message', onMessage);
        resolve(got);
      };
      const timer = setTimeout(finish, 1000); // a dead worker must not hang a stats request
      p.on('message', onMessage);
      p.postAll({ type: 'stats', id } satisfies WorkerRequest);
    });
  };

  const stats = async (): Promise<Stats> => {
    const ws = await workerStats();
    const snaps = [...(inline ? [inline.counters.snapshot()] : []), ...ws.map((w) => w.counters)];
    // workers that send for themselves measured their own latency; the main thread, the rest
    const merged = Latency.merge(ws.flatMap((w) => (w.latency === undefined ? [] : [w.latency])), [latency, ...ringLatency.filter((l) => l !== undefined)]);
    return {
      counters: mergeSnapshots(snaps),
      latency: Latency.report(merged),
      latencyCount: merged.totalCount,
      latencyHdr: Latency.encodeHistogram(merged),
      pending: (inline?.pending ?? 0) + ws.reduce((n, w) => n + w.pending, 0),
      udp: { ...udp.counters, sent: udp.counters.sent + ws.reduce((n, w) => n + w.sent, 0), sendErrors: udp.counters.sendErrors + ws.reduce((n, w) => n + w.sendErrors, 0) },
      workerRestarts: pool?.counters.workerRestarts ?? 0,
      ringDrops: pool?.counters.dropped ?? 0,
      overload: [...(inline ? [inline.overload] : []), ...ws.map((w) => w.overload)].reduce(
        (a, o) => ({ shedPercent: Math.max(a.shedPercent, Math.round(o.shed * 100)), delayMs: Math.max(a.delayMs, Math.round(o.delayMs)) }),
        { shedPercent: 0, delayMs: 0 },
      ),
      flood: { dropped: guard?.counters.dropped ?? 0, blocks: guard?.counters.blocks ?? 0, blockedSources: guard?.blockedSources(nowMicros() / 1000) ?? 0 },
      memory: {
        rss: process.memoryUsage.rss(),
        heapUsed: process.memoryUsage().heapUsed,
        workersHeapUsed: ws.reduce((n, w) => n + w.heapUsed, 0),
      },
      gc: { mainMs: Math.round(gcMillis()), workersMs: Math.round(ws.reduce((n, w) => n + w.gcMs, 0)) },
      probe: await probeStats(probe),
      workers: (pool?.workers() ?? []).map((r) => {
        const w = ws.find((x) => x.index === r.index);
        return { ...r, received: w?.rings.received ?? 0, wakeups: w?.rings.wakeups ?? 0, egressDrops: w?.rings.dropped ?? 0, replied: w !== undefined, send: w?.send ?? 'unknown' };
      }),
      events: events.stats(),
      routeHits: sumRouteHits([...(inline ? [inline.selector.hits] : []), ...ws.map((w) => w.routeHits)], routes?.rules.length ?? 0),
    };
  };

  const latencySnapshot = async (): Promise<LatencySnapshot> => {
    const ws = await workerStats();
    const threads: LatencySnapshot['threads'] = inline ? [{ worker: 'main', hdr: latency.encode() }] : [];
    for (let i = 0; i < (pool?.size ?? 0); i++) {
      // a worker that sends for itself measured its own; the main thread measured what came through its ring
      const own = ws.find((w) => w.index === i)?.latency;
      const ring = ringLatency[i];
      threads.push({ worker: i, hdr: Latency.encodeHistogram(Latency.merge(own === undefined ? [] : [own], ring === undefined ? [] : [ring])) });
    }
    return { threads, rtt: (await askProbe(probe, true))?.rtt ?? [] };
  };
  const resetLatency = (): void => {
    // messages to one worker arrive in order: a stats request posted after this sees the reset
    latency.reset();
    for (const l of ringLatency) l?.reset();
    pool?.postAll({ type: 'latency-reset' } satisfies WorkerRequest);
    probe?.postAll({ type: 'latency-reset' } satisfies ProbeRequest);
  };

  const server: Server = {
    sockets,
    get records() {
      return list.records;
    },
    list,
    states,
    stats,
    latency: latencySnapshot,
    resetLatency,
    get routes() {
      return routes;
    },
    setRoutes(next) {
      routes = next;
      inline?.setRoutes(next === undefined ? undefined : compileRoutes(next, next.file));
      pool?.postAll({ type: 'routes', routes: next } satisfies WorkerRequest);
    },
    terminateWorker: (index) => pool?.terminate(index) ?? false,
    async drain(timeoutMs) {
      inline?.drain();
      pool?.postAll({ type: 'drain' });
      const until = Date.now() + timeoutMs;
      while (Date.now() < until) {
        if ((await stats()).pending === 0) return;
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async close() {
      await list.close();
      await keeper?.stop(); // after the last reload, before the threads stop writing the table
      events.stop();
      if (ticker) clearInterval(ticker);
      clearInterval(idleGc);
      clearInterval(delayTimer);
      flood?.reporter.flush();
      await admin?.close();
      await pool?.close();
      await probe?.close();
      await udp.close();
      await closeControlPool();
    },
  };
  ref.server = server;
  return server;
}

/**
 * Writes SIPLB_STATE_FILE every `intervalS` and once more at stop. A failure is said once (and
 * again when it works again), not at every interval.
 */
function keepState(path: string, intervalS: number, records: () => readonly DestinationRecord[], states: DestTable, log: Log): { stop(): Promise<void> } {
  let failing = false;
  const save = async (): Promise<void> => {
    try {
      await saveState(path, records(), states);
      if (failing) log.info('SIPLB_STATE_FILE is written again', { file: path });
      failing = false;
    } catch (err) {
      if (!failing) log.warn(`SIPLB_STATE_FILE: cannot write ${path}; destination states will not survive a restart`, { error: (err as NodeJS.ErrnoException).code ?? String(err) });
      failing = true;
    }
  };
  const timer = setInterval(() => void save(), intervalS * 1000);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await save();
    },
  };
}

/**
 * SIPLB_ROUTES read again for a reload: checked (compiled) here, so a bad file refuses the reload
 * before anything changed; the function returned puts the rules in service.
 */
async function rereadRoutes(file: string, config: SiplbConfig, put: (r: RoutesConfig) => void): Promise<() => void> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new SiplbConfigError('SIPLB_ROUTES', `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { cause: err });
  }
  const opts = { mode: config.mode, alg: config.alg };
  const next = parseRoutes(text, file, opts);
  compileRoutes(next, file, opts);
  return () => put(next);
}

/**
 * A reloaded list to every thread of `pool`: replacements started from now on get it in their
 * init, and the running ones by message. Resolves when all answered, or after 2 s (a dead thread
 * is replaced with the new init, so it cannot keep the old list).
 */
function reloadThreads(pool: WorkerPool, records: DestinationRecord[], answer: string, message: (id: number) => unknown): Promise<void> {
  pool.init = { ...(pool.init as object), records };
  const id = Math.floor(Math.random() * 2 ** 31);
  return new Promise((resolve) => {
    let got = 0;
    const onMessage = (_i: number, msg: unknown): void => {
      const m = msg as { type?: string; id?: number };
      if (m.type === answer && m.id === id && ++got === pool.size) finish();
    };
    const finish = (): void => {
      clearTimeout(timer);
      pool.off('message', onMessage);
      resolve();
    };
    const timer = setTimeout(finish, 2000);
    pool.on('message', onMessage);
    pool.postAll(message(id));
  });
}

/**
 * The probe worker: a pool of one (its rings, READY, replacement when it dies). Its egress ring is
 * drained by the main thread onto the listening sockets, so keepalives leave from them.
 */
async function startProbe(
  config: SiplbConfig,
  records: readonly DestinationRecord[],
  states: DestTable,
  bindings: BindingTable | undefined,
  udp: UdpTransport,
  log: Log,
): Promise<WorkerPool | undefined> {
  // it is also the registrar of registration sets, keepalives or not
  // an empty list still gets it: a reload may fill the list
  if (bindings === undefined && config.pingInterval === 0) return undefined;
  const init: ProbeWorkerInit = {
    config,
    records: [...records],
    states: states.buffer,
    sockets: coreConfig(config, records).sockets.map((s) => s.hostport),
    ...(bindings ? { bindings: bindings.buffer } : {}),
  };
  const probe = new WorkerPool({
    script: new URL('./probe/worker.js', import.meta.url),
    workers: 1,
    init,
    ringBytes: 1 << 18,
    sender: { send: (socket, buf, port, address) => udp.send(socket, buf, port, address) },
  });
  probe.on('restart', (e) => log.error('probe worker died; replaced', { exitCode: e.exitCode, error: String(e.error), restarts: e.workerRestarts }));
  probe.on('message', (_i, msg) => {
    const m = msg as ProbeWarning;
    if (m.type === 'probe-warning') log.warn(m.message);
  });
  await probe.start();
  return probe;
}

async function probeStats(probe: WorkerPool | undefined): Promise<Stats['probe']> {
  if (probe === undefined) return undefined;
  const got = await askProbe(probe, false);
  const restarts = probe.counters.workerRestarts;
  if (got === undefined) return { sent: 0, retransmits: 0, replies: 0, ok: 0, rejected: 0, timeouts: 0, unmatched: 0, malformed: 0, pending: 0, active: false, restarts, registrations: undefined };
  return { ...got.counters, pending: got.pending, active: got.active, restarts, registrations: got.registrations };
}

/** The probe worker's stats answer (with its round-trip histograms if `rtt`); undefined if it did not answer in 1 s. */
async function askProbe(probe: WorkerPool | undefined, rtt: boolean): Promise<ProbeStats | undefined> {
  if (probe === undefined) return undefined;
  const id = Math.floor(Math.random() * 2 ** 31);
  const got = await new Promise<ProbeStats | undefined>((resolve) => {
    const onMessage = (_i: number, msg: unknown): void => {
      const m = msg as ProbeStats;
      if (m.type === 'probe-stats' && m.id === id) finish(m);
    };
    const finish = (m: ProbeStats | undefined): void => {
      clearTimeout(timer);
      probe.off('message', onMessage);
      resolve(m);
    };
    const timer = setTimeout(() => finish(undefined), 1000); // a dead probe worker must not hang stats
    probe.on('message', onMessage);
    probe.postAll({ type: 'stats', id, ...(rtt ? { rtt } : {}) } satisfies ProbeRequest);
  });
  return got;
}
