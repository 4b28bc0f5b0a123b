// dispatcher.list as Kamailio's RPC returns it (dispatcher module, ds_rpc_print_set), built from
// the list's records and the shared destination table at the moment of the call, so scripts
// written for kamcmd/jsonrpcs read it unchanged. siplb adds LOAD (active calls, every worker) to
// each DEST, and TARGET (`name:port`) to each target of an SRV name; JSON readers that do not
// know them skip them.
import type { DestinationRecord } from '../dispatch/list-file.js';
import { buildSets } from '../dispatch/sets.js';
import type { DestTable } from '../shared/dest-table.js';
import { stateLetters } from '../shared/dest-state.js';
import { flatten } from '../proxy/targets.js';
import { EMPTY_ATTRS } from '../dispatch/attrs.js';
import type { BindingTable } from '../shared/binding-table.js';


export interface DispatcherDest {
  DEST: {
    URI: string;
    FLAGS: string;
    PRIORITY: number;
    ATTRS: {
      BODY: string;
      DUID: string;
      MAXLOAD: number;
      WEIGHT: number;
      RWEIGHT: number;
      SOCKET: string;
      SOCKNAME: string;
      OBPROXY: string;
    };
    LATENCY?: { AVG: number; STD: number; EST: number; MAX: number; TIMEOUT: number };
    LOAD: number;
    /** The SRV target (`name:port`) a destination of an SRV name stands for. */
    TARGET?: string;
  };
}

export interface DispatcherList {
  NRSETS: number;
  RECORDS: Array<{ SET: { ID: number; TARGETS: DispatcherDest[] } }>;
}

const round = (n: number): number => Math.round(n * 1000) / 1000;

/**
 * `bindings`: registration-based destinations, listed in their sets after the list's, from the
 * table's binding slots (its last `bindings.slots` entries); ATTRS.BODY shows `registered;expires=<unix s>`.
 */
export function dispatcherList(records: readonly DestinationRecord[], table: DestTable, latency: boolean, bindings?: BindingTable): DispatcherList {
  const sets = new Map<number, DispatcherDest[]>();
  const flat = flatten(buildSets(records));
  const listSlots = table.count - (bindings?.slots ?? 0);
  const live = (bindings?.all() ?? []).map((b) => ({ setId: b.setId, uri: b.uri, priority: b.priority, attrs: { ...EMPTY_ATTRS, raw: `registered;expires=${b.expires}` }, slot: listSlots + b.slot }));
  [...flat, ...live].forEach((d) => {
    const i = d.slot;
    const a = d.attrs;
    const dest: DispatcherDest = {
      DEST: {
        URI: d.uri,
        FLAGS: stateLetters(table.flags(i)),
        PRIORITY: d.priority,
        ATTRS: {
          BODY: a.raw,
          DUID: a.duid ?? '',
          MAXLOAD: a.maxload,
          WEIGHT: a.weight,
          RWEIGHT: a.rweight,
          SOCKET: a.socket ?? '',
          SOCKNAME: a.sockname ?? '',
          OBPROXY: a.obproxy ?? '',
        },
        LOAD: table.load(i),
      },
    };
    if ('target' in d && d.target !== undefined) dest.DEST.TARGET = d.target;
    if (latency) {
      const l = table.latency(i);
      dest.DEST.LATENCY = { AVG: round(l.AVERAGE), STD: round(l.STDEV), EST: round(l.ESTIMATE), MAX: l.MAX, TIMEOUT: l.TIMEOUTS };
    }
    let list = sets.get(d.setId);
    if (!list) sets.set(d.setId, (list = []));
    list.push(dest);
  });
  return { NRSETS: sets.size, RECORDS: [...sets].map(([ID, TARGETS]) => ({ SET: { ID, TARGETS } })) };
}
