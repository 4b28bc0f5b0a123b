// `siplb start`: the proxy on the configuration in the environment. Runs until SIGTERM/SIGINT,
// which drain it: new INVITEs get 503, transactions in flight get SIPLB_DRAIN_TIMEOUT to finish,
// then the counters and the latency distribution are printed and the process exits 0.
// `kill -USR2` prints the same report without stopping; SIGHUP reloads the destination list.
import { pino } from 'pino';
import { loadConfig } from '../config/load.js';
import type { SiplbConfig } from '../config/types.js';
import { startServer, type Log, type Server, type Stats } from '../server.js';
import { EXIT_OK, type CliIo } from './io.js';
import { installTestHooks } from './test-hooks.js';

export const START_USAGE = 'start';

/** A pino logger on stderr, as the control-plane log (never on the datagram path). */
export function makeLog(config: SiplbConfig): Log {
  const logger = pino({ level: config.logLevel, base: { name: 'siplb' } }, pino.destination(2));
  return {
    info: (msg, fields) => logger.info(fields ?? {}, msg),
    warn: (msg, fields) => logger.warn(fields ?? {}, msg),
    error: (msg, fields) => logger.error(fields ?? {}, msg),
  };
}

export function formatStats(s: Stats): string {
  const lines: string[] = ['siplb counters:'];
  for (const [k, v] of Object.entries(s.counters.values)) if (v !== 0) lines.push(`  ${k} ${v}`);
  for (const [k, v] of Object.entries(s.counters.replies)) lines.push(`  local_reply_${k} ${v}`);
  for (const [k, v] of Object.entries(s.counters.parseErrors)) lines.push(`  parse_error_${k} ${v}`);
  lines.push(`  udp_received ${s.udp.received}`, `  udp_sent ${s.udp.sent}`, `  udp_send_errors ${s.udp.sendErrors}`);
  lines.push(`  worker_restarts ${s.workerRestarts}`, `  ring_drops ${s.ringDrops}`, `  pending_transactions ${s.pending}`);
  lines.push(`  flood_dropped ${s.flood.dropped}`, `  flood_blocks ${s.flood.blocks}`, `  flood_blocked_sources ${s.flood.blockedSources}`);
  lines.push(`  overload_shed_percent ${s.overload.shedPercent}`, `  queue_delay_ms ${s.overload.delayMs}`);
  lines.push(`  rss_bytes ${s.memory.rss}`, `  heap_used_bytes ${s.memory.heapUsed}`, `  workers_heap_used_bytes ${s.memory.workersHeapUsed}`);
  lines.push(`  gc_ms ${s.gc.mainMs}`, `  workers_gc_ms ${s.gc.workersMs}`);
  if (s.probe !== undefined) {
    const p = s.probe;
    lines.push(
      `  keepalives_sent ${p.sent}`, `  keepalive_retransmits ${p.retransmits}`, `  keepalive_replies_ok ${p.ok}`, `  keepalive_replies_rejected ${p.rejected}`,
      `  keepalive_timeouts ${p.timeouts}`, `  keepalive_replies_unmatched ${p.unmatched}`, `  keepalives_pending ${p.pending}`, `  probe_worker_restarts ${p.restarts}`,
    );
    const r = p.registrations;
    if (r) lines.push(`  registrations_accepted ${r.registered}`, `  registrations_refused ${r.refused}`, `  registrations_expired ${r.expired}`);
  }
  // destination events (README, Events): events_dst_down, events_webhook_delivered, ...
  for (const [k, v] of Object.entries(s.events)) lines.push(`  events_${k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)} ${v}`);
  // the latency distribution since start as a compressed HdrHistogram: the difference of two
  // reports' histograms is the distribution of the interval between them (bench:sipp steady state)
  lines.push(`  latency_hdr ${s.latencyHdr}`);
  for (const w of s.workers) {
    lines.push(
      `  worker_${w.index} ${w.replied ? 'ok' : 'no-reply'} send=${w.send} received=${w.received} wakeups=${w.wakeups} ingress_pending_bytes=${w.ingressPendingBytes} ` +
        `ingress_sleeping=${w.ingressSleeping ? 1 : 0} ingress_notifies=${w.ingressNotifies} ingress_drops=${w.ingressDropped} egress_drops=${w.egressDrops} egress_pending_bytes=${w.egressPendingBytes}`,
    );
  }
  return `${lines.join('\n')}\n${s.latency}`;
}

/** Starts the proxy and wires the signals; resolves with the exit code once it has stopped. */
export async function startCommand(io: CliIo, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const config = loadConfig(env);
  const log = makeLog(config);
  const server = await startServer(config, log);
  const removeHooks = installTestHooks(env, server, log);
  return runUntilSignal(server, config, io, log, () => Promise.resolve(removeHooks()));
}

export function runUntilSignal(server: Server, config: SiplbConfig, io: CliIo, log: Log, extra: () => Promise<void> = async () => {}): Promise<number> {
  return new Promise((resolve) => {
    let stopping = false;
    const report = (): void => {
      void server.stats().then((s) => io.stdout(formatStats(s)));
    };
    const stop = (signal: string): void => {
      if (stopping) return;
      stopping = true;
      log.info('draining', { signal, timeoutMs: config.drainTimeout });
      void (async () => {
        await server.drain(config.drainTimeout);
        io.stdout(formatStats(await server.stats()));
        await server.close();
        await extra();
        process.off('SIGUSR2', report);
        process.off('SIGHUP', onHup);
        process.off('SIGTERM', onTerm);
        process.off('SIGINT', onInt);
        resolve(EXIT_OK);
      })();
    };
    const onTerm = (): void => stop('SIGTERM');
    const onInt = (): void => stop('SIGINT');
    // Node's default for SIGHUP is to exit; operators send it expecting a reload (Kamailio, nginx):
    // the destination list is read again (src/list/service.ts), or kept when it is refused.
    const onHup = (): void => {
      log.info('SIGHUP: reloading the destination list', { signal: 'SIGHUP' });
      server.list.requestReload('sighup');
    };
    process.on('SIGHUP', onHup);
    process.on('SIGUSR2', report);
    process.on('SIGTERM', onTerm);
    process.on('SIGINT', onInt);
  });
}
