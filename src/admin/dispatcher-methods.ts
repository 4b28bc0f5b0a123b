// The dispatcher.* methods with Kamailio's names, parameters (kamcmd's positional order) and result
// shapes (src/modules/dispatcher/dispatcher.c, dispatcher_rpc_*), plus siplb.oc_set_attrs and
// siplb.stats. State changes are compareExchanges on the shared table (DestTable.set), so every
// worker sees them on its next selection and the event watcher (src/events/watch.ts) reports a
// dst-down/dst-up for them as for any other change.
import { buildSets, type Destination } from '../dispatch/sets.js';
import { dsHash } from '../dispatch/hash.js';
import { ocList, ocSetAttrs } from '../dispatch/overload-control.js';
import { flatten } from '../proxy/targets.js';
import { DS_DISABLED, parseStateArg } from '../shared/dest-state.js';
import type { DestTable } from '../shared/dest-table.js';
import { dispatcherList } from './dispatcher-list.js';
import { args, intParam, invalidParams, stringParam, type RpcMethod } from './rpc.js';
import type { AdminSources } from './server.js';

/** What Kamailio answers after a state change (rpl_printf in dispatcher_rpc_set_state_helper). */
export const STATE_UPDATED = 'Ok. Dispatcher state updated.';

/** Kamailio's digits for the state argument (0 inactive, 1 active, 2 disabled, 3 trying). */
const DIGIT_STATES: Readonly<Record<string, string>> = { '0': 'i', '1': 'a', '2': 'd', '3': 't' };

/** The state argument as state bits, or a clear -32602. */
export function stateParam(v: unknown): number {
  const raw = stringParam(v, 'state');
  const bits = parseStateArg((DIGIT_STATES[raw[0]!] ?? raw[0]!) + raw.slice(1));
  if (bits === undefined) {
    const bad = /^[aitd0-3]/i.test(raw) ? raw.slice(1) : raw[0]!;
    throw invalidParams(`bad state letter '${bad}' in '${raw}': expected a (active), i (inactive), d (disabled) or t (trying), optionally followed by p (probing)`);
  }
  // Kamailio's helper reads p only after a, i and t: disabled is disabled alone
  return bits & DS_DISABLED ? DS_DISABLED : bits;
}

interface Flat {
  readonly flat: readonly Destination[];
  readonly table: DestTable;
}

function inSet(src: AdminSources, setId: number): Flat {
  const flat = flatten(buildSets(src.records()));
  if (!flat.some((d) => d.setId === setId)) throw invalidParams(`unknown set ${setId}`);
  return { flat, table: src.states() };
}

/** Applies `state` to every destination of set `setId` that `match` picks; how many it changed. */
function setState(f: Flat, setId: number, state: number, match: (d: Destination) => boolean): number {
  let n = 0;
  f.flat.forEach((d, i) => {
    if (d.setId !== setId || !match(d)) return;
    f.table.set(i, state);
    n++;
  });
  return n;
}

export function dispatcherMethods(src: AdminSources): Array<[string, RpcMethod]> {
  const list = (): unknown => dispatcherList(src.records(), src.states(), src.latency, src.bindings);
  return [
    ['dispatcher.list', { readOnly: true, params: [], summary: 'every set and destination: URI, state letters, priority, attrs, latency, active calls', handler: list }],
    [
      'dispatcher.set_state',
      {
        params: ['state', 'group', 'address'],
        summary: "set a destination's state (a, i, d, t, optionally p) by URI, or of the whole set with `all`",
        handler: (p) => {
          const [s, g, a] = args(p);
          const state = stateParam(s);
          const setId = intParam(g, 'group');
          const address = stringParam(a, 'address');
          const f = inSet(src, setId);
          // Kamailio changes the first record with the URI; siplb every one (the same server listed twice)
          const changed = address === 'all' ? setState(f, setId, state, () => true) : setState(f, setId, state, (d) => d.uri.toLowerCase() === address.toLowerCase());
          if (changed === 0) throw invalidParams(`unknown destination ${address} in set ${setId}`);
          return STATE_UPDATED;
        },
      },
    ],
    [
      'dispatcher.set_duid_state',
      {
        params: ['state', 'group', 'duid'],
        summary: 'set the state of the destinations whose duid attribute matches, or of the whole set with `all`',
        handler: (p) => {
          const [s, g, u] = args(p);
          const state = stateParam(s);
          const setId = intParam(g, 'group');
          const duid = stringParam(u, 'duid');
          const f = inSet(src, setId);
          const changed = duid === 'all' ? setState(f, setId, state, () => true) : setState(f, setId, state, (d) => d.attrs.duid?.toLowerCase() === duid.toLowerCase());
          if (changed === 0) throw invalidParams(`unknown duid ${duid} in set ${setId}`);
          return STATE_UPDATED;
        },
      },
    ],
    [
      'dispatcher.ping_active',
      {
        params: ['state'],
        summary: 'keepalives on (1) or off (0); without a parameter, only tell',
        handler: (p) => {
          const [s] = args(p);
          const old = src.pingActive?.() ?? false;
          if (s === undefined) return { OldPingState: old ? 1 : 0 };
          const v = s === true ? 1 : s === false ? 0 : intParam(s, 'state');
          if (v !== 0 && v !== 1) throw invalidParams(`state must be 0 or 1, got ${v}`);
          if (src.pingActive === undefined) throw invalidParams('keepalives cannot be switched in this process');
          src.pingActive(v === 1);
          return { NewPingState: v, OldPingState: old ? 1 : 0 };
        },
      },
    ],
    [
      'dispatcher.hash',
      {
        readOnly: true,
        params: ['nslots', 'val1', 'val2'],
        summary: "Kamailio's dispatcher hash of one or two strings, and its slot among nslots",
        handler: (p) => {
          const [n, v1, v2] = args(p);
          const nslots = intParam(n, 'nslots');
          if (typeof v1 !== 'string') throw invalidParams('val1 must be a string');
          if (v2 !== undefined && typeof v2 !== 'string') throw invalidParams('val2 must be a string');
          const hashid = dsHash(v1, v2);
          return { hashid, slot: nslots > 0 ? hashid % nslots : 0 };
        },
      },
    ],
    [
      'dispatcher.oclist',
      {
        readOnly: true,
        params: ['group'],
        summary: "algorithm 64's overload reports of a set",
        handler: (p) => {
          const setId = intParam(args(p)[0], 'group');
          const f = inSet(src, setId);
          return { SET: setId, TARGETS: ocList(f.table, f.flat, setId, Date.now()) };
        },
      },
    ],
    [
      'siplb.oc_set_attrs',
      {
        params: ['group', 'address', 'rate', 'validity', 'seq'],
        summary: "an overload report for algorithm 64 (Kamailio's ds_oc_set_attrs): skip rate %, validity ms, sequence number",
        handler: (p) => {
          const [g, uri, rate, validityMs, seq] = args(p);
          const setId = intParam(g, 'group');
          const f = inSet(src, setId);
          const address = stringParam(uri, 'address');
          if (typeof rate !== 'number' || rate < 0 || rate > 100) throw invalidParams('rate must be a rate from 0 to 100');
          if (typeof validityMs !== 'number') throw invalidParams('validity must be a validity in ms');
          if (typeof seq !== 'number' || !Number.isInteger(seq) || seq < 1) throw invalidParams('seq must be a sequence number >= 1');
          if (!f.flat.some((d) => d.setId === setId && d.uri.toLowerCase() === address.toLowerCase())) throw invalidParams(`unknown destination ${address} in set ${setId}`);
          return { TAKEN: ocSetAttrs(f.table, f.flat, setId, address, { rate, validityMs, seq }, Date.now()) };
        },
      },
    ],
    ...(src.stats === undefined
      ? []
      : ([['siplb.stats', { readOnly: true, params: [], summary: 'counters, latency, workers, memory, keepalives and events of the running proxy', handler: () => src.stats?.() }]] as Array<[string, RpcMethod]>)),
  ];
}
