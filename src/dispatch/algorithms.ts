// Destination selection: pure functions over a set, a key and a usability test (STYLE.md habit 7).
// The skeleton is Kamailio's ds_manage_routes (dispatch.c): an algorithm yields a number n, the
// pick is n % count (count leaves out the use_default destination), and the failover list is the
// pick followed by the usable destinations after it in set order, then those before it
// (ds_manage_routes_fill_xavp), then the default destination.
//
// siplb goes further in 'rehash' mode (DISPATCHER.md, issue 2361): a hash pick that is down is
// re-hashed by rendezvous over the usable destinations, so its calls spread evenly and every other
// call keeps its destination; a weight pick that is down moves on to the next table slot, so the
// weights of the live destinations keep their proportions. 'kamailio' mode walks to the next usable
// neighbour as Kamailio does.
//
// Algorithms 10, 11, 13 and 64 also read load, latency or overload reports: state-algorithms.ts,
// through the DestReader in the options. Algorithm 12 picks no one: its list is every usable
// destination, each to be a branch of one parallel fork (the proxy does the forking).
import { dsHash, hrwScore } from './hash.js';
import type { SelectInput } from './keys.js';
import type { Destination, DestinationSet, Rng } from './sets.js';
import {
  belowMaxload,
  latencyOrder,
  leastLoaded,
  overloadSkip,
  relativeWeightPick,
  type DestReader,
  type StateRuntime,
} from './state-algorithms.js';

export { dsHash } from './hash.js';
export type { SelectInput } from './keys.js';
export type { DestReader } from './state-algorithms.js';

/**
 * Per-set state that outlives one selection, per thread: Kamailio's idx->last (round-robin, and
 * the start of algorithm 13's walk), idx->wlast, and algorithm 11's and 64's tables.
 */
export interface SetRuntime extends StateRuntime {
  rr: number;
  wlast: number;
}

export function createSetRuntime(): SetRuntime {
  return { rr: 0, wlast: 0, rwlast: 0, rwTable: undefined, rwUsableGen: 0, rwLatencyGen: 0, oc: [] };
}

export interface SelectOptions {
  /** Most destinations returned, first included; 0 = no cap (ds_select_dst_limit). */
  limit: number;
  hashMode: 'rehash' | 'kamailio';
  /** Kamailio use_default: the last destination is kept back and appended last. */
  useDefault: boolean;
  /** Module flag 2: return the failover list, not just the pick. */
  failover: boolean;
  /** Uniform in [0, 1); Math.random when absent. Algorithms 6, 11 (its table), 15 and 64 (its patterns). */
  rng?: Rng;
  /** Load, latency and overload reports: required by algorithms 10, 11, 13 and 64. */
  reader?: DestReader;
}

export const ALGORITHMS: readonly number[] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 64];

/** The algorithms that read more than usability. */
const STATEFUL = new Set([10, 11, 13, 64]);

type Usable = (d: Destination) => boolean;

/** The 32-bit number a hash algorithm starts from; URI keys hash user and host[:port] apart. */
export function keyHash(alg: number, key: string): number {
  if (alg >= 1 && alg <= 3) {
    const at = key.lastIndexOf('@');
    if (at >= 0) return dsHash(key.slice(0, at), key.slice(at + 1));
  }
  return dsHash(key);
}

/** Kamailio's walk: from `start`, the next usable index below `count`, or -1. */
function walk(dests: readonly Destination[], start: number, count: number, usable: Usable): number {
  for (let n = 0; n < count; n++) {
    const i = (start + n) % count;
    if (usable(dests[i]!)) return i;
  }
  return -1;
}

/** Rendezvous: the usable index below `count` with the highest score for this key hash. */
function rendezvous(dests: readonly Destination[], h: number, count: number, usable: Usable): number {
  let best = -1;
  let bestScore = -1;
  for (let i = 0; i < count; i++) {
    const d = dests[i]!;
    if (!usable(d)) continue;
    const score = hrwScore(h, d.seed);
    if (score > bestScore) {
      best = i;
      bestScore = score;
    }
  }
  return best;
}

/** Algorithm 15 (RFC 2782 §"Usage rules"): lowest priority value first, weighted random inside a level. */
function srvOrder(dests: readonly Destination[], count: number, usable: Usable, rng: Rng): number[] {
  const live = dests.slice(0, count).filter(usable);
  const levels = [...new Set(live.map((d) => d.priority))].sort((a, b) => a - b);
  const out: number[] = [];
  for (const level of levels) {
    const group = live.filter((d) => d.priority === level);
    // Zero-weight entries go first so that they keep a small chance of being picked.
    const left = [...group.filter((d) => d.attrs.weight === 0), ...group.filter((d) => d.attrs.weight > 0)];
    while (left.length > 0) {
      const sum = left.reduce((s, d) => s + d.attrs.weight, 0);
      const r = Math.floor(rng() * (sum + 1));
      let running = 0;
      const k = left.findIndex((d) => (running += d.attrs.weight) >= r);
      out.push(left.splice(k, 1)[0]!.index);
    }
  }
  return out;
}

/**
 * Algorithm 12 (ds_manage_routes, then ds_add_branches): the walk from the first entry finds the
 * first usable destination, and every entry after it, the use_default one included, is appended as
 * a branch. Kamailio appends the entries after the first without asking whether they are up;
 * siplb leaves the unusable ones out (a branch to a destination known down only waits for its
 * timeout), so the list is the usable destinations in set order.
 */
function parallelOrder(dests: readonly Destination[], usable: Usable): number[] {
  const order: number[] = [];
  for (let i = 0; i < dests.length; i++) if (usable(dests[i]!)) order.push(i);
  return order;
}

/** The pick of every algorithm except 12, 13 and 15, or -1 when no destination below `count` is usable. */
function pick(set: DestinationSet, alg: number, input: SelectInput, usable: Usable, opts: SelectOptions, state: SetRuntime, count: number, reader: DestReader): number {
  const dests = set.destinations;
  const nr = dests.length;
  const rehash = opts.hashMode === 'rehash';
  const roundRobin = (ok: Usable = usable): number => {
    const i = walk(dests, state.rr % count, count, ok);
    // ds_manage_routes: the next round starts after the destination actually used (the default
    // one, index nr - 1, when it stands in for all the others; select() decides on it).
    const used = i >= 0 ? i : count < nr && usable(dests[nr - 1]!) ? nr - 1 : state.rr;
    state.rr = (used + 1) % nr;
    return i;
  };
  if (alg === 14) {
    const p = dests[0]!.priority;
    alg = p > 0 && dests.every((d) => d.priority === p) ? 4 : 8;
  }
  switch (alg) {
    case 0: case 1: case 2: case 3: case 5: case 7: {
      if (input.key === undefined) return alg === 5 ? roundRobin() : -1;
      const h = keyHash(alg, input.key);
      const i = h % count;
      if (!rehash || usable(dests[i]!)) return walk(dests, i, count, usable);
      return rendezvous(dests, h, count, usable);
    }
    case 4:
      return roundRobin();
    case 6: {
      const rng = opts.rng ?? Math.random;
      const i = Math.floor(rng() * 0x100000000) % count;
      if (!rehash || usable(dests[i]!)) return walk(dests, i, count, usable);
      const live = dests.slice(0, count).filter(usable);
      return live.length === 0 ? -1 : live[Math.floor(rng() * live.length)]!.index;
    }
    case 8:
      return walk(dests, 0, count, usable);
    case 9: {
      const next = (): number => {
        const n = set.weightTable[state.wlast % 100]!;
        state.wlast = (state.wlast + 1) % 100;
        return n % count;
      };
      let i = next();
      for (let tries = 1; rehash && !usable(dests[i]!) && tries < 100; tries++) i = next();
      return walk(dests, i, count, usable);
    }
    case 10:
      return leastLoaded(dests, count, usable, reader);
    case 11:
      // the table holds only usable destinations; a walk covers one that went down since
      return walk(dests, relativeWeightPick(dests, count, usable, reader, state, opts.rng ?? Math.random) % count, count, usable);
    case 64: {
      // ds_manage_routes: round-robin, moving on past a destination that is down or whose
      // overload report says skip this time
      const rng = opts.rng ?? Math.random;
      return roundRobin((d) => usable(d) && !overloadSkip(d, reader, state, rng));
    }
    default:
      throw new RangeError(`dispatcher algorithm ${alg} is not implemented (supported: ${ALGORITHMS.join(', ')})`);
  }
}

/**
 * Selects from `set` with algorithm `alg`. Returns the chosen destination first and, when
 * `opts.failover`, the failover order after it, capped by `opts.limit`; empty when nothing is
 * usable. Algorithm 12 returns every usable destination, failover or not (they are all tried at
 * once), capped by `opts.limit` too. Updates `state` for the algorithms that keep one
 * (round-robin, weights, 11, 13, 64).
 */
export function select(set: DestinationSet, alg: number, input: SelectInput, usable: Usable, opts: SelectOptions, state: SetRuntime): Destination[] {
  const dests = set.destinations;
  const nr = dests.length;
  if (nr === 0) return [];
  // ds_manage_routes: only an INVITE starts a call; algorithm 10 takes any other request to the
  // first usable entry, failover in set order (Kamailio's "use first entry", alg reset to 0)
  if (alg === 10 && input.invite !== true) alg = 8;
  const reader = opts.reader;
  if (reader === undefined && STATEFUL.has(alg)) throw new RangeError(`dispatcher algorithm ${alg} needs a DestReader (opts.reader)`);
  const useDefault = opts.useDefault && nr > 1; // Kamailio: a set of one has no default
  const count = useDefault ? nr - 1 : nr;
  // algorithm 10 passes over a destination at its maxload, in the failover list too (ds_manage_routes_fill_xavp)
  const listable: Usable = alg === 10 ? (d) => usable(d) && belowMaxload(d, reader!) : usable;
  const fallback = useDefault && listable(dests[nr - 1]!) ? nr - 1 : -1;
  const limit = opts.limit > 0 ? opts.limit : Infinity;

  let order: number[];
  if (alg === 12) return parallelOrder(dests, usable).slice(0, limit).map((i) => dests[i]!);
  if (alg === 15 || alg === 13) {
    if (alg === 15) order = srvOrder(dests, count, usable, opts.rng ?? Math.random);
    else {
      // ds_manage_route_algo13: the walk starts at idx->last, which moves past the pick
      order = latencyOrder(dests, count, usable, reader!, state.rr % count);
      if (order.length > 0) state.rr = (order[0]! + 1) % nr;
    }
    if (!opts.failover) order = order.slice(0, 1);
  } else {
    const first = pick(set, alg, input, usable, opts, state, count, reader!);
    order = first < 0 ? [] : [first];
    if (first >= 0 && opts.failover) {
      for (let n = 1; n < count; n++) {
        const i = (first + n) % count;
        if (listable(dests[i]!)) order.push(i);
      }
    }
  }
  // The default destination is the last resort: alone when nothing else is usable, last otherwise;
  // alone under algorithm 64 only if its own overload report lets it through (ds_manage_routes).
  if (fallback >= 0 && (order.length === 0 || opts.failover)) {
    const skipped = order.length === 0 && alg === 64 && overloadSkip(dests[fallback]!, reader!, state, opts.rng ?? Math.random);
    if (!skipped) order.push(fallback);
  }
  return order.slice(0, limit).map((i) => dests[i]!);
}
