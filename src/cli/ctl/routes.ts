// `siplb ctl routes`: the routing rules of the running siplb (SIPLB_ROUTES) in the order they are
// tried, with the new requests each one took, summed over every thread (siplb.routes, also
// GET /api/routes); --json prints the answer as it came.
import type { RoutesAnswer } from '../../admin/routes.js';
import { SiplbUsageError } from '../../errors.js';
import { asJson, noOptions, type CtlCommand } from './command.js';

export const routesCommand: CtlCommand = {
  usage: 'routes',
  help: 'the routing rules (SIPLB_ROUTES) in the order they are tried: number, name, what it\nmatches, set and algorithm (or the status it rejects with), and the new requests it\ntook; the default rule last',
  async run(args, ctx) {
    noOptions('routes', args);
    if (args.length > 0) throw new SiplbUsageError(`ctl routes takes no arguments: got '${args[0]}'`);
    const answer = (await ctx.client.call('siplb.routes')) as RoutesAnswer;
    return ctx.json ? asJson(answer) : formatRoutes(answer);
  },
};

/** The table `ctl routes` prints; columns padded to their widest cell. */
export function formatRoutes(a: RoutesAnswer): string {
  const rows: string[][] = [['#', 'NAME', 'MATCH', 'SET', 'ALG', 'HITS']];
  for (const r of a.rules) {
    const target = r.reject !== null ? [`reject ${r.reject}`, '-'] : [String(r.set), String(r.alg)];
    rows.push([String(r.number), r.name || '-', r.match, ...target, String(r.hits)]);
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  const lines = rows.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]!))).join('  ').trimEnd());
  const n = a.rules.length - 1;
  const from = a.file === null ? 'no SIPLB_ROUTES: every new request takes the default rule' : `${n} rule${n === 1 ? '' : 's'} from ${a.file}, then the default`;
  return `${lines.join('\n')}\n${from}\n`;
}
