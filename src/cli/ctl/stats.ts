// `siplb ctl stats`: siplb.stats, the counters report `siplb start` prints on SIGUSR2, read over
// the control channel instead of the process's stdout.
import { SiplbUsageError } from '../../errors.js';
import type { Stats } from '../../server.js';
import { formatStats } from '../format-stats.js';
import { asJson, noOptions, type CtlCommand } from './command.js';

export const statsCommand: CtlCommand = {
  usage: 'stats',
  help: 'the counters, one `name value` a line, and the latency distribution\n(what kill -USR2 prints)',
  async run(args, ctx) {
    noOptions('stats', args);
    if (args.length > 0) throw new SiplbUsageError(`ctl stats takes no arguments: got '${args[0]}'`);
    const s = (await ctx.client.call('siplb.stats')) as Stats;
    return ctx.json ? asJson(s) : `${formatStats(s)}\n`;
  },
};
