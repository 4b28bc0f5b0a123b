// `siplb ctl ping-active [on|off]`: dispatcher.ping_active, keepalives switched off (say, while a
// network is being worked on, so they do not mark everything down) and on again, or just shown.
import { SiplbUsageError } from '../../errors.js';
import { asJson, type CtlCommand } from './command.js';

const word = (v: number): string => (v === 1 ? 'on' : 'off');

export const pingActiveCommand: CtlCommand = {
  usage: 'ping-active [on|off]',
  help: 'keepalives on or off (kept while siplb runs); without an argument, show',
  async run(args, ctx) {
    const [arg, ...extra] = args;
    if (extra.length > 0) throw new SiplbUsageError(`ctl ping-active: unexpected argument '${extra[0]}'`);
    const set = arg === undefined ? undefined : { on: 1, off: 0, '1': 1, '0': 0 }[arg];
    if (arg !== undefined && set === undefined) throw new SiplbUsageError(`ctl ping-active: expected on or off, got '${arg}'`);
    const r = (await ctx.client.call('dispatcher.ping_active', set === undefined ? [] : [set])) as { NewPingState?: number; OldPingState: number };
    if (ctx.json) return asJson(r);
    return r.NewPingState === undefined ? `keepalives ${word(r.OldPingState)}\n` : `keepalives ${word(r.NewPingState)} (were ${word(r.OldPingState)})\n`;
  },
};
