// `siplb ctl list`: one line per destination, what kamcmd dispatcher.list shows, readable at 3 a.m.
import type { DispatcherList } from '../../admin/dispatcher-list.js';
import { SiplbUsageError } from '../../errors.js';
import { asJson, noOptions, table, type CtlCommand } from './command.js';

export const listCommand: CtlCommand = {
  usage: 'list',
  help: 'one line per destination: set, URI, state letters (AP active and probed,\nTP trying, IP inactive, DX disabled...), priority, keepalive round trip\n(average and estimate, ms; timeouts), active calls, attrs',
  async run(args, ctx) {
    noOptions('list', args);
    if (args.length > 0) throw new SiplbUsageError(`ctl list takes no arguments: got '${args[0]}'`);
    const list = (await ctx.client.call('dispatcher.list')) as DispatcherList;
    return ctx.json ? asJson(list) : formatList(list);
  },
};

/** The table `ctl list` prints. */
export function formatList(list: DispatcherList): string {
  const rows: string[][] = [['SET', 'URI', 'STATE', 'PRIO', 'LATENCY ms (avg/est/timeouts)', 'CALLS', 'ATTRS']];
  for (const { SET } of list.RECORDS) {
    for (const { DEST: d } of SET.TARGETS) {
      const l = d.LATENCY;
      const latency = l === undefined ? '-' : `${l.AVG.toFixed(1)}/${l.EST.toFixed(1)}/${l.TIMEOUT}`;
      rows.push([String(SET.ID), d.URI, d.FLAGS, String(d.PRIORITY), latency, String(d.LOAD), d.ATTRS?.BODY ?? '']);
    }
  }
  const n = rows.length - 1;
  return `${table(rows)}${list.NRSETS} set${list.NRSETS === 1 ? '' : 's'}, ${n} destination${n === 1 ? '' : 's'}\n`;
}
