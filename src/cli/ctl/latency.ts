// `siplb ctl latency [--reset] [--json]`: the latency distributions of a running siplb
// (siplb.latency; with --reset, the distribution up to the reset, and every histogram starts
// afresh). Receive-to-send time overall and per thread, and keepalive round trip per
// destination, as one table in milliseconds.
import type { LatencyReport, Percentiles } from '../../admin/latency-api.js';
import { SiplbUsageError } from '../../errors.js';
import { asJson, type CtlCommand } from './command.js';

export const latencyCommand: CtlCommand = {
  usage: 'latency [--reset]',
  help:
    'latency percentiles in ms: receive to send (all threads merged, then per thread), and each\n' +
    "destination's keepalive round trip; --reset prints them up to now and starts them afresh",
  async run(args, ctx) {
    const bad = args.find((a) => a !== '--reset');
    if (bad !== undefined) throw new SiplbUsageError(`ctl latency: unknown ${bad.startsWith('-') ? 'option' : 'argument'} '${bad}'; usage: siplb ctl latency [--reset] [--json]`);
    const reset = args.includes('--reset');
    const report = (await ctx.client.call('siplb.latency', reset ? ['reset'] : [])) as LatencyReport;
    return ctx.json ? asJson(report) : formatLatency(report) + (reset ? 'reset: every histogram starts afresh\n' : '');
  },
};

const msText = (us: number): string => (us / 1000).toFixed(3);

/** The table `ctl latency` prints; columns padded to their widest cell. */
export function formatLatency(r: LatencyReport): string {
  const rows: string[][] = [['WHAT', 'COUNT', 'P50 ms', 'P90 ms', 'P99 ms', 'P99.9 ms', 'MAX ms']];
  const row = (what: string, p: Percentiles): void => {
    rows.push([what, String(p.count), ...[p.p50, p.p90, p.p99, p['p99.9'], p.max].map(msText)]);
  };
  row('receive to send, all', r.overall);
  for (const w of r.workers) row(`  ${w.worker === 'main' ? 'main thread' : `worker ${w.worker}`}`, w);
  if (r.destinations.length > 0) rows.push(['keepalive rtt', '', '', '', '', '', '']);
  for (const d of r.destinations) row(`  set ${d.set} ${d.uri}`, d);
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((x) => x[c]!.length)));
  return `${rows.map((x) => x.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ').trimEnd()).join('\n')}\n`;
}

