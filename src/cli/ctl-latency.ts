// `siplb ctl latency [--reset] [--json]`: the latency distributions of a running siplb, from its
// control channel (GET /api/latency; with --reset, POST /api/latency/reset, which answers the
// distribution up to the reset and starts every histogram afresh). Receive-to-send time overall
// and per thread, and keepalive round trip per destination, as one table in milliseconds.
import { request } from 'node:http';
import { adminAddress, type AdminAddress } from '../config/parse.js';
import { SCHEMA } from '../config/schema.js';
import { SiplbCtlError, SiplbUsageError } from '../errors.js';
import type { LatencyReport, Percentiles } from '../admin/latency-api.js';
import { EXIT_OK, type CliIo } from './io.js';

export const CTL_LATENCY_HELP = `Usage: siplb ctl latency [--reset] [--json]

Ask the running siplb on SIPLB_ADMIN (default ${SCHEMA.admin.default}) for its latency
histograms and print percentiles in milliseconds:
  receive to send   from a datagram's arrival to the send it caused, all threads
                    merged, then per thread (worker N, or main with SIPLB_WORKERS=0)
  keepalive rtt     round trip of each destination's keepalives (SIPLB_DS_PING_INTERVAL)

Options:
  --reset     print the distributions up to now, then start them all afresh
  --json      print the answer as JSON (values in microseconds, with each HdrHistogram)
  -h, --help  show this text
`;

export async function ctlLatency(args: readonly string[], io: CliIo, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    io.stdout(CTL_LATENCY_HELP);
    return EXIT_OK;
  }
  const bad = args.find((a) => a !== '--reset' && a !== '--json');
  if (bad !== undefined) throw new SiplbUsageError(`ctl latency: unknown ${bad.startsWith('-') ? 'option' : 'argument'} '${bad}'; usage: siplb ctl latency [--reset] [--json]`);
  const address = adminAddress(env.SIPLB_ADMIN ?? SCHEMA.admin.default, 'SIPLB_ADMIN');
  if (address === undefined) throw new SiplbUsageError('ctl: SIPLB_ADMIN is empty, so there is no control channel to ask');
  const reset = args.includes('--reset');
  const report = (await call(address, reset ? 'POST' : 'GET', reset ? '/api/latency/reset' : '/api/latency', env.SIPLB_ADMIN_TOKEN)) as LatencyReport;
  io.stdout(args.includes('--json') ? `${JSON.stringify(report, null, 2)}\n` : formatLatency(report) + (reset ? 'reset: every histogram starts afresh\n' : ''));
  return EXIT_OK;
}

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

function call(a: AdminAddress, method: 'GET' | 'POST', path: string, token: string | undefined): Promise<unknown> {
  const where = `${a.host.includes(':') ? `[${a.host}]` : a.host}:${a.port}`;
  const headers = token ? { authorization: `Bearer ${token}` } : undefined;
  return new Promise((resolve, reject) => {
    const req = request({ host: a.host, port: a.port, path, method, timeout: 5000, ...(headers ? { headers } : {}) }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => {
        if (res.statusCode !== 200) return reject(new SiplbCtlError(`siplb on ${where} answered ${res.statusCode}: ${body.slice(0, 200)}`));
        try {
          resolve(JSON.parse(body));
        } catch (err) {
          reject(new SiplbCtlError(`siplb on ${where} sent something that is not JSON`, { cause: err }));
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error('no answer in 5 s')));
    req.on('error', (err: NodeJS.ErrnoException) =>
      reject(new SiplbCtlError(`no siplb control channel on ${where} (SIPLB_ADMIN): ${err.code ?? err.message}`, { cause: err })),
    );
    req.end();
  });
}
