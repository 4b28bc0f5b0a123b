// Destination sets as Kamailio builds them, so that an index means the same destination here and
// on a Kamailio box loaded with the same list.
//
// Order (verified in kamailio/kamailio src/modules/dispatcher/dispatch.c): add_dest2list inserts
// each record into a linked list after every entry whose priority is <= its own (ascending,
// file order among equals); reindex_dests then copies that list into the array backwards. The
// array is therefore by priority, highest first, and records of equal priority come in REVERSE
// file order: with `1 A`, `1 B`, `1 C` at priority 0, index 0 is C. Algorithm 8 ("highest priority
// first") takes index 0, and round-robin starts there.
import { fnv1a32 } from './hash.js';
import type { DestinationRecord } from './list-file.js';

export interface Destination extends DestinationRecord {
  /**
   * Stable across reloads and unique across sets: `${setId}:${uri}`, with `#2`, `#3`... for
   * further records of the same URI in a set (they keep separate states, as in Kamailio), and
   * `${setId}:${uri}@${target}` for each target of an SRV name (src/list/resolve.ts).
   */
  readonly id: string;
  /** Position in its set (Kamailio's index, see the order above). */
  readonly index: number;
  /** Rendezvous-hash seed derived from `id`. */
  readonly seed: number;
  /** Entry in the shared destination table: the record's slot, or -1 until flatten() numbers it. */
  readonly slot: number;
}

export interface DestinationSet {
  readonly id: number;
  readonly destinations: readonly Destination[];
  /** Algorithm 9: 100 slots of destination indexes (dp_init_weights). */
  readonly weightTable: Uint32Array;
}

export type Rng = () => number;

/** Kamailio's shuffle_uint100array (and shuffle_char100array): k = j + rand % (100 - j), swap. */
export function shuffle100(table: Uint32Array | Uint8Array, rng: Rng): void {
  for (let j = 0; j < 100; j++) {
    const k = j + Math.floor(rng() * (100 - j));
    const t = table[j]!;
    table[j] = table[k]!;
    table[k] = t;
  }
}

/**
 * dp_init_weights: each destination gets `weight` slots in set order until 100 are filled; a sum
 * under 100 leaves the rest to the last destination. When the first destination has no weight
 * Kamailio leaves the table zeroed (every pick is index 0), and so do we.
 */
export function buildWeightTable(dests: readonly { attrs: { weight: number } }[], rng: Rng): Uint32Array {
  const table = new Uint32Array(100);
  if (dests.length === 0 || dests[0]!.attrs.weight === 0) return table;
  let t = 0;
  for (let j = 0; j < dests.length && t < 100; j++) {
    for (let k = 0; k < dests[j]!.attrs.weight && t < 100; k++) table[t++] = j;
  }
  for (; t < 100; t++) table[t] = dests.length - 1;
  shuffle100(table, rng);
  return table;
}

/**
 * dp_init_relative_weights: slots proportional to each weight (truncated), the remainder to the
 * last one inserted. `weights[j]` is destination j's relative weight, 0 for one that is not
 * usable (Kamailio skips those) or has none. Kamailio rebuilds it whenever a destination changes
 * usability (ds_reinit_rweight_on_state_change) or congestion control changes a weight
 * (ds_update_latency); algorithm 11 (state-algorithms.ts) rebuilds it when the table's
 * generations say so. Fewer than two destinations or no weight at all: every slot is index 0.
 */
export function buildRelativeWeightTable(weights: readonly number[], rng: Rng): Uint32Array {
  const table = new Uint32Array(100);
  if (weights.length < 2) return table;
  let sum = 0;
  for (const w of weights) sum += w;
  if (sum === 0) return table;
  let t = 0;
  weights.forEach((w, j) => {
    const slice = Math.trunc((w * 100) / sum);
    for (let k = 0; k < slice; k++) table[t++] = j;
  });
  const last = t > 0 ? table[t - 1]! : weights.length - 1;
  for (; t < 100; t++) table[t] = last;
  shuffle100(table, rng);
  return table;
}

/**
 * The destination ids of one set's records, in file order: `${setId}:${uri}`, `#2`, `#3`... for
 * further records of one URI. They follow file order so that adding a later duplicate never
 * renames an earlier one (an id is what a reload matches to keep a destination's state).
 */
function setIds(inFile: readonly DestinationRecord[]): string[] {
  const seen = new Map<string, number>();
  return inFile.map((r) => {
    // an SRV target: `set:uri@name:port`, one destination per target of the line's SRV set
    const key = r.target === undefined ? r.uri : `${r.uri}@${r.target}`;
    const n = (seen.get(key) ?? 0) + 1;
    seen.set(key, n);
    return n === 1 ? `${r.setId}:${key}` : `${r.setId}:${key}#${n}`;
  });
}

/** Every record's destination id (Destination.id), in the records' order. */
export function recordIds(records: readonly DestinationRecord[]): string[] {
  const bySet = new Map<number, number[]>();
  records.forEach((r, i) => {
    const list = bySet.get(r.setId);
    if (list) list.push(i);
    else bySet.set(r.setId, [i]);
  });
  const ids = new Array<string>(records.length);
  for (const positions of bySet.values()) {
    const setIdsOf = setIds(positions.map((i) => records[i]!));
    positions.forEach((i, k) => (ids[i] = setIdsOf[k]!));
  }
  return ids;
}

/** Groups records into sets in Kamailio's order and precomputes the weight tables. */
export function buildSets(records: readonly DestinationRecord[], opts: { rng?: Rng } = {}): Map<number, DestinationSet> {
  const rng = opts.rng ?? Math.random;
  const bySet = new Map<number, DestinationRecord[]>();
  for (const r of records) {
    const list = bySet.get(r.setId);
    if (list) list.push(r);
    else bySet.set(r.setId, [r]);
  }
  const sets = new Map<number, DestinationSet>();
  for (const setId of [...bySet.keys()].sort((a, b) => a - b)) {
    const inFile = bySet.get(setId)!;
    const ids = setIds(inFile);
    const order = inFile.map((_, i) => i).reverse();
    order.sort((a, b) => inFile[b]!.priority - inFile[a]!.priority); // stable: ties stay reversed
    const destinations = order.map((fileIdx, index): Destination => {
      const id = ids[fileIdx]!;
      return Object.freeze({ ...inFile[fileIdx]!, id, index, seed: fnv1a32(id), slot: inFile[fileIdx]!.slot ?? -1 });
    });
    sets.set(setId, {
      id: setId,
      destinations: Object.freeze(destinations),
      weightTable: buildWeightTable(destinations, rng),
    });
  }
  return sets;
}

/**
 * Every destination of every set in one list: set id ascending, then Kamailio's order in the set.
 * A destination without a table slot (records not loaded through the roster, as in unit tests)
 * gets its position in this list, which is what the roster gives a first load.
 */
export function flatten(sets: ReadonlyMap<number, DestinationSet>): Destination[] {
  return [...sets.keys()]
    .sort((a, b) => a - b)
    .flatMap((id) => [...sets.get(id)!.destinations])
    .map((d, i) => (d.slot >= 0 ? d : Object.freeze({ ...d, slot: i })));
}
