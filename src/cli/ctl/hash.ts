// `siplb ctl hash NSLOTS VAL [VAL2]`: dispatcher.hash, Kamailio's dispatcher hash of the values and
// the slot it picks among NSLOTS, to check which destination a key goes to (algorithms 0-3, 5, 7).
import { SiplbUsageError } from '../../errors.js';
import { asJson, table, type CtlCommand } from './command.js';

export const hashCommand: CtlCommand = {
  usage: 'hash NSLOTS VAL [VAL2]',
  help: "Kamailio's dispatcher hash of VAL (and VAL2) and its slot among NSLOTS,\nas kamcmd dispatcher.hash prints them",
  async run(args, ctx) {
    const [n, v1, v2, ...extra] = args;
    if (n === undefined || !/^[0-9]{1,9}$/.test(n)) throw new SiplbUsageError(`ctl hash: NSLOTS must be a number, got ${n === undefined ? 'nothing' : `'${n}'`}`);
    if (v1 === undefined) throw new SiplbUsageError('ctl hash: no VAL to hash');
    if (extra.length > 0) throw new SiplbUsageError(`ctl hash: unexpected argument '${extra[0]}'`);
    const r = (await ctx.client.call('dispatcher.hash', [Number(n), v1, ...(v2 === undefined ? [] : [v2])])) as { hashid: number; slot: number };
    return ctx.json ? asJson(r) : table([['HASHID', 'SLOT'], [String(r.hashid), String(r.slot)]]);
  },
};
