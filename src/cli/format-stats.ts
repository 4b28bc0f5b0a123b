// The counters report: printed by `siplb start` on exit and on SIGUSR2, and by `siplb ctl stats`
// from siplb.stats. One `name value` a line, so a shell script can grep it.
import type { Stats } from '../server.js';

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
