// dispatcher.reload, dispatcher.add and dispatcher.remove: the list in service changed through
// the list service (src/list/service.ts), which checks everything before any thread sees it. A
// refused change answers error 500 with the reason, as Kamailio's RPC does, and the list in
// service stays.
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

export function listMethods(list: ListService): Map<string, RpcMethod> {
  return new Map<string, RpcMethod>([
    [
      'dispatcher.reload',
      {
        summary: 'read the list file again; destinations in both lists keep their state (refused sooner than SIPLB_RELOAD_DELTA)',
        handler: () => guard(() => list.reload('rpc')),
      },
    ],
    [
      'dispatcher.add',
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
      'dispatcher.remove',
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
