// `siplb ctl set-state STATE SET URI|all` and `... SET --duid DUID`: dispatcher.set_state and
// dispatcher.set_duid_state, then dispatcher.list in the same batch, so what it prints is the
// state the change left, read after it.
import type { DispatcherList } from '../../admin/dispatcher-list.js';
import { SiplbUsageError } from '../../errors.js';
import { asJson, noOptions, setArg, table, type CtlCommand } from './command.js';

const USAGE = 'set-state STATE SET URI|all\nset-state STATE SET --duid DUID';

export const setStateCommand: CtlCommand = {
  usage: USAGE,
  help: "STATE: a active, i inactive, d disabled, t trying, optionally followed by p\n(probing: keepalives bring it back). A disabled destination stays disabled\nuntil an operator changes it. --duid picks destinations by their duid attribute.",
  async run(argv, ctx) {
    const args = [...argv];
    const at = args.indexOf('--duid');
    let duid: string | undefined;
    if (at >= 0) {
      duid = args[at + 1];
      if (duid === undefined || duid.startsWith('-')) throw new SiplbUsageError('ctl set-state: --duid needs a value');
      args.splice(at, 2);
    }
    noOptions('set-state', args);
    const [state, set, uri, ...extra] = args;
    if (state === undefined) throw new SiplbUsageError(`ctl set-state: no STATE; usage: siplb ctl ${USAGE.replace('\n', ' | ')}`);
    const group = setArg('set-state', set);
    const target = duid ?? uri;
    if (target === undefined) throw new SiplbUsageError('ctl set-state: no URI (or `all`, or --duid DUID)');
    if (duid !== undefined && uri !== undefined) throw new SiplbUsageError('ctl set-state: give a URI or --duid, not both');
    if (extra.length > 0) throw new SiplbUsageError(`ctl set-state: unexpected argument '${extra[0]}'`);
    const method = duid === undefined ? 'dispatcher.set_state' : 'dispatcher.set_duid_state';
    const params = duid === undefined ? { state, group, address: target } : { state, group, duid: target };
    const [result, list] = (await ctx.client.batch([{ method, params }, { method: 'dispatcher.list' }])) as [string, DispatcherList];
    const want = target.toLowerCase();
    const targets = (list.RECORDS.find((r) => r.SET.ID === group)?.SET.TARGETS ?? []).filter(
      ({ DEST: d }) => target === 'all' || (duid === undefined ? d.URI.toLowerCase() === want : d.ATTRS?.DUID?.toLowerCase() === want),
    );
    if (ctx.json) return asJson({ result, set: group, targets });
    return table([['SET', 'URI', 'STATE'], ...targets.map(({ DEST: d }) => [String(group), d.URI, d.FLAGS])]);
  },
};
