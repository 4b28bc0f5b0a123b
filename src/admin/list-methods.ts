// dispatcher.reload, dispatcher.add and dispatcher.remove: the list in service changed through
// the list service (src/list/service.ts), which checks everything before any thread sees it. A
// refused change answers error 500 with the reason, as Kamailio's RPC does, and the list in
// service stays. The dispatcher.* methods answer Kamailio's exact strings (a script may compare
// them; Kamailio 5.6's answers were read off a running one); siplb.reload, siplb.add and
// siplb.remove do the same and answer what changed, which `siplb ctl` prints. Like Kamailio,
// dispatcher.remove of a destination that is not there answers Ok; siplb.remove says so.
import type { ListService } from '../list/service.js';
import { RpcError, args, intParam, invalidParams, stringParam, type RpcMethod } from './rpc.js';

const refused = (err: unknown): RpcError => new RpcError(500, err instanceof Error ? err.message : String(err));

async function guard<T>(op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (err) {
    throw refused(err);
  }
}

function optionalInt(v: unknown, what: string): string | undefined {
  if (v === undefined || v === null) return undefined;
  return String(intParam(v, what));
}

const KAMAILIO_ANSWER: Readonly<Record<string, string>> = {
  reload: 'Ok. Dispatcher successfully reloaded.',
  add: 'Ok. Dispatcher destination added.',
  remove: 'Ok. Dispatcher destination removed.',
};

export function listMethods(list: ListService): Map<string, RpcMethod> {
  const ours = siplbListMethods(list);
  const kamailio = [...ours].map(([name, m]): [string, RpcMethod] => {
    const op = name.slice('siplb.'.length);
    return [
      `dispatcher.${op}`,
      {
        ...m,
        handler: async (params) => {
          try {
            await m.handler(params);
          } catch (err) {
            if (!(op === 'remove' && err instanceof RpcError && /^dispatcher\.remove: no destination/.test(err.message))) throw err;
          }
          return KAMAILIO_ANSWER[op];
        },
      },
    ];
  });
  return new Map([...kamailio, ...ours]);
}

function siplbListMethods(list: ListService): Map<string, RpcMethod> {
  return new Map<string, RpcMethod>([
    [
      'siplb.reload',
      {
        summary: 'read the list file again; destinations in both lists keep their state (refused sooner than SIPLB_RELOAD_DELTA)',
        handler: () => guard(() => list.reload('rpc')),
      },
    ],
    [
      'siplb.add',
      {
        params: ['group', 'address', 'flags', 'priority', 'attrs'],
        summary: 'add a destination to the list in service (a reload from the file replaces it, as in Kamailio)',
        handler: (params) => {
          const [group, address, flags, priority, attrs] = args(params);
          const setId = intParam(group, 'group');
          if (setId < 0) throw invalidParams('group must be a set id (a non-negative integer)');
          const uri = stringParam(address, 'address');
          if (attrs !== undefined && attrs !== null && typeof attrs !== 'string') throw invalidParams('attrs must be a string');
          const f = optionalInt(flags, 'flags');
          const p = optionalInt(priority, 'priority');
          return guard(() =>
            list.add({
              setId: String(setId),
              destination: uri,
              ...(f !== undefined ? { flags: f } : {}),
              ...(p !== undefined ? { priority: p } : {}),
              ...(typeof attrs === 'string' ? { attrs } : {}),
            }),
          );
        },
      },
    ],
    [
      'siplb.remove',
      {
        params: ['group', 'address'],
        summary: 'remove every record of a URI from a set of the list in service',
        handler: (params) => {
          const [group, address] = args(params);
          const setId = intParam(group, 'group');
          const uri = stringParam(address, 'address');
          return guard(() => list.remove(setId, uri));
        },
      },
    ],
  ]);
}
