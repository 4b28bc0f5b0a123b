// `siplb ctl <command>`: talks to a running siplb on its control channel (SIPLB_ADMIN, the same
// variable the proxy reads, so one environment serves both). For now one command, `list`: one
// line per destination, what kamcmd dispatcher.list shows, readable at 3 a.m.
import { request } from 'node:http';
import { adminAddress, type AdminAddress } from '../config/parse.js';
import { SCHEMA } from '../config/schema.js';
import { SiplbCtlError, SiplbUsageError } from '../errors.js';
import type { DispatcherList } from '../admin/dispatcher-list.js';
import { EXIT_OK, type CliIo } from './io.js';
import { ctlLatency } from './ctl-latency.js';
import { ctlDbCommand } from './ctl-db.js';

export const CTL_USAGE = 'ctl list [--json] | ctl latency [--reset] [--json]';

const CTL_HELP = `Usage: siplb ${CTL_USAGE}

Ask the running siplb on SIPLB_ADMIN (default ${SCHEMA.admin.default}) and print:
  list    one line per destination: set, URI, state letters (AP active and probed,
          TP trying, IP inactive, DX disabled...), priority, keepalive round trip
          (average and estimate, ms; timeouts), active calls, attrs
  latency latency percentiles: receive to send, per thread, keepalive round
          trip per destination (siplb ctl latency --help)
  db      edit the dispatcher table of SIPLB_DB_URL: siplb ctl db --help

Options:
  --json      print the answer as JSON (Kamailio's dispatcher.list shape)
  -h, --help  show this text
`;

export async function ctlCommand(args: readonly string[], io: CliIo, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  if (args[0] === 'latency') return ctlLatency(args.slice(1), io, env);
  if (args[0] === 'db') return ctlDbCommand(args.slice(1), io, env); // the database, not the proxy: src/cli/ctl-db.ts
  const json = args.includes('--json');
  const rest = args.filter((a) => a !== '--json');
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout(CTL_HELP);
    return EXIT_OK;
  }
  const unknown = rest.find((a) => a.startsWith('-'));
  if (unknown !== undefined) throw new SiplbUsageError(`ctl: unknown option '${unknown}'`);
  const [command, ...extra] = rest;
  if (command !== 'list') throw new SiplbUsageError(command === undefined ? `ctl: no command; usage: siplb ${CTL_USAGE}` : `ctl: unknown command '${command}'; usage: siplb ${CTL_USAGE}`);
  if (extra.length > 0) throw new SiplbUsageError(`ctl list takes no arguments: got '${extra[0]}'`);
  const address = adminAddress(env.SIPLB_ADMIN ?? SCHEMA.admin.default, 'SIPLB_ADMIN');
  if (address === undefined) throw new SiplbUsageError('ctl: SIPLB_ADMIN is empty, so there is no control channel to ask');
  const list = (await get(address, '/api/dispatcher/list')) as DispatcherList;
  io.stdout(json ? `${JSON.stringify(list, null, 2)}\n` : formatList(list));
  return EXIT_OK;
}

function get(a: AdminAddress, path: string): Promise<unknown> {
  const where = `${a.host.includes(':') ? `[${a.host}]` : a.host}:${a.port}`;
  return new Promise((resolve, reject) => {
    const req = request({ host: a.host, port: a.port, path, method: 'GET', timeout: 5000 }, (res) => {
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

/** The table `ctl list` prints; columns padded to their widest cell. */
export function formatList(list: DispatcherList): string {
  const rows: string[][] = [['SET', 'URI', 'STATE', 'PRIO', 'LATENCY ms (avg/est/timeouts)', 'CALLS', 'ATTRS']];
  for (const { SET } of list.RECORDS) {
    for (const { DEST: d } of SET.TARGETS) {
      const l = d.LATENCY;
      const latency = l === undefined ? '-' : `${l.AVG.toFixed(1)}/${l.EST.toFixed(1)}/${l.TIMEOUT}`;
      rows.push([String(SET.ID), d.URI, d.FLAGS, String(d.PRIORITY), latency, String(d.LOAD), d.ATTRS.BODY]);
    }
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  const lines = rows.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]!))).join('  ').trimEnd());
  return `${lines.join('\n')}\n${list.NRSETS} set${list.NRSETS === 1 ? '' : 's'}, ${rows.length - 1} destination${rows.length === 2 ? '' : 's'}\n`;
}
