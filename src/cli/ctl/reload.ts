// `siplb ctl reload`, `ctl add SET URI [FLAGS [PRIORITY [ATTRS]]]`, `ctl remove SET URI`:
// siplb.reload, siplb.add and siplb.remove (dispatcher.* with an answer that says what changed). Each prints what the list in service
// became; a refused change is siplb's reason, and the list in service stays.
import type { ReloadOutcome } from '../../list/service.js';
import { SiplbUsageError } from '../../errors.js';
import { asJson, noOptions, setArg, type CtlCommand } from './command.js';

function outcome(o: ReloadOutcome): string {
  return (
    `${o.destinations} destination${o.destinations === 1 ? '' : 's'} in service: ${o.kept} kept with their state, ` +
    `${o.added} added, ${o.removed} removed${o.reflagged > 0 ? `, ${o.reflagged} restarted from new list flags` : ''} (${o.ms} ms)\n`
  );
}

export const reloadCommand: CtlCommand = {
  usage: 'reload',
  help: 'read the list file again; destinations in both lists keep their state, calls and latency\n(refused, with the reason, when the file is bad or sooner than SIPLB_RELOAD_DELTA)',
  async run(args, ctx) {
    noOptions('reload', args);
    if (args.length > 0) throw new SiplbUsageError(`ctl reload takes no arguments: got '${args[0]}'`);
    const o = (await ctx.client.call('siplb.reload')) as ReloadOutcome;
    return ctx.json ? asJson(o) : outcome(o);
  },
};

export const addCommand: CtlCommand = {
  usage: 'add SET URI [FLAGS [PRIORITY [ATTRS]]]',
  help: 'add a destination to the list in service, checked as a list line is\n(the next reload from the file replaces the list, as in Kamailio)',
  async run(args, ctx) {
    noOptions('add', args);
    const [set, uri, flags, priority, attrs, ...extra] = args;
    const setId = setArg('add', set);
    if (uri === undefined) throw new SiplbUsageError('ctl add: no URI');
    if (extra.length > 0) throw new SiplbUsageError(`ctl add: unexpected argument '${extra[0]}'`);
    for (const [what, v] of [['FLAGS', flags], ['PRIORITY', priority]] as const) {
      if (v !== undefined && !/^-?[0-9]{1,10}$/.test(v)) throw new SiplbUsageError(`ctl add: ${what} must be an integer, got '${v}'`);
    }
    const params = [setId, uri, ...(flags === undefined ? [] : [Number(flags)]), ...(priority === undefined ? [] : [Number(priority)]), ...(attrs === undefined ? [] : [attrs])];
    const o = (await ctx.client.call('siplb.add', params)) as ReloadOutcome;
    return ctx.json ? asJson(o) : outcome(o);
  },
};

export const removeCommand: CtlCommand = {
  usage: 'remove SET URI',
  help: 'remove every record of URI from SET of the list in service',
  async run(args, ctx) {
    noOptions('remove', args);
    const [set, uri, ...extra] = args;
    const setId = setArg('remove', set);
    if (uri === undefined) throw new SiplbUsageError('ctl remove: no URI');
    if (extra.length > 0) throw new SiplbUsageError(`ctl remove: unexpected argument '${extra[0]}'`);
    const o = (await ctx.client.call('siplb.remove', [setId, uri])) as ReloadOutcome;
    return ctx.json ? asJson(o) : outcome(o);
  },
};
