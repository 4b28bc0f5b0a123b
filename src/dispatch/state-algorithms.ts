// The algorithms that read destination state besides usability: 10 call load, 11 relative weight
// (with congestion control), 13 latency, 64 overload control. Pure functions over what a
// DestReader says now (the shared table in the proxy, plain arrays in tests) and the per-set
// runtime of algorithms.ts; they follow Kamailio's dispatch.c function by function, cited below.
import type { LatencySample, OverloadReport } from '../shared/dest-table.js';
import { buildRelativeWeightTable, shuffle100, type Destination, type Rng } from './sets.js';

/** What the state-aware algorithms read about the destinations of a set, now. */
export interface DestReader {
  /** Active calls on `d`, all dispatch workers together (algorithm 10). */
  load(d: Destination): number;
  /** `d`'s latency record into `out`; count 0 when never measured. */
  latency(d: Destination, out: LatencySample): LatencySample;
  /** `d`'s last overload report into `out`; seq 0 when it never had one. */
  overload(d: Destination, out: OverloadReport): OverloadReport;
  /** Wall-clock ms, the clock overload reports are valid until. */
  now(): number;
  /** Moves whenever a destination becomes usable or stops being so. */
  usableGeneration(): number;
  /** Moves whenever a latency record changes. */
  latencyGeneration(): number;
}

type Usable = (d: Destination) => boolean;

/** Algorithm 11's table and algorithm 64's skip patterns, kept per set per thread (SetRuntime). */
export interface StateRuntime {
  rwlast: number;
  /** Built for the generations below; undefined until the first selection. */
  rwTable: Uint32Array | undefined;
  rwUsableGen: number;
  rwLatencyGen: number;
  /** Per destination (set position): the skip pattern of its current overload report. */
  oc: (OcCursor | undefined)[];
}

interface OcCursor {
  /** The report this pattern was made for. */
  seq: number;
  /** Kamailio's ocdist: 0 = skip, 1 = use, `rate` zeros shuffled among 100. */
  dist: Uint8Array;
  idx: number;
}

// Scratch records filled per destination: a selection runs to completion on one thread, and
// reading them allocates nothing.
const sample: LatencySample = { estimate: 0, average: 0, count: 0 };
const report: OverloadReport = { until: 0, rate: 0, seq: 0 };
const lat = { estimate: 0, congestion: 0, measured: false };

/** Algorithm 10 may add a call to `d`: no maxload, or fewer active calls than it. */
export function belowMaxload(d: Destination, reader: DestReader): boolean {
  return d.attrs.maxload === 0 || reader.load(d) < d.attrs.maxload;
}

/**
 * Algorithm 10 (ds_get_leastloaded): the usable destination with the fewest active calls among
 * those below their maxload; on a tie the first in set order. -1 when every one is down or full.
 */
export function leastLoaded(dests: readonly Destination[], count: number, usable: Usable, reader: DestReader): number {
  let best = -1;
  let least = Infinity;
  for (let j = 0; j < count; j++) {
    const d = dests[j]!;
    if (!usable(d)) continue;
    const load = reader.load(d);
    if ((d.attrs.maxload === 0 || load < d.attrs.maxload) && load < least) {
      best = j;
      least = load;
    }
  }
  return best;
}

/**
 * The latency algorithms 11 and 13 work from: the measured EWMA estimate, or until a reply has
 * been measured the `latency=` attr (Kamailio seeds its record with it, latency_stats_init).
 * `congestion` is estimate - average, Kamailio's measure of how far a destination is from its
 * normal latency; 0 until measured. Both truncated to whole ms, as Kamailio's ints do.
 */
function latencyOf(d: Destination, reader: DestReader): typeof lat {
  const s = reader.latency(d, sample);
  lat.measured = s.count > 0;
  lat.estimate = lat.measured ? Math.trunc(s.estimate) : (d.attrs.latency ?? 0);
  lat.congestion = lat.measured ? Math.trunc(s.estimate - s.average) : 0;
  return lat;
}

/**
 * Algorithm 11's weight of each destination below `count` (0 = not usable). Without cc it is the
 * `rweight` attr. With cc (any value but 0, as Kamailio's test) and a `weight`, once latency is
 * measured, it is weight minus the congestion in ms, never below 0
 * (ds_update_weighted_congestion_control); and when every
 * destination has cc=1 and at least two are congested (weight down to 0) with none normal, the
 * load follows the inverse of the congestion instead: (sum of congestion << 4) / congestion
 * (ds_update_latency). Kamailio counts inactive destinations too; siplb only the usable ones,
 * since the others take no calls and their latency is stale.
 */
export function relativeWeights(dests: readonly Destination[], count: number, usable: Usable, reader: DestReader): number[] {
  const weights = new Array<number>(count).fill(0);
  const congestion = new Array<number>(count).fill(0);
  let allCc = count > 0;
  let congested = 0;
  let normal = 0;
  let total = 0;
  for (let j = 0; j < count; j++) {
    const d = dests[j]!;
    if (d.attrs.cc === 0) allCc = false;
    if (!usable(d)) continue;
    weights[j] = d.attrs.rweight;
    if (d.attrs.cc === 0 || d.attrs.weight === 0) continue;
    const l = latencyOf(d, reader);
    const c = Math.max(0, l.congestion);
    congestion[j] = c;
    total += c;
    if (!l.measured) {
      normal++;
      continue;
    }
    weights[j] = Math.max(0, d.attrs.weight - c);
    if (weights[j] === 0) congested++;
    else normal++;
  }
  if (allCc && congested > 1 && normal === 0) {
    for (let j = 0; j < count; j++) if (usable(dests[j]!)) weights[j] = Math.trunc((total * 16) / Math.max(1, congestion[j]!));
  }
  return weights;
}

/**
 * Algorithm 11: the next slot of the relative-weight table. The table is rebuilt when a
 * destination changed usability since it was built (ds_reinit_rweight_on_state_change) or, in a
 * set with cc=1, when latency changed (ds_update_latency): two generation reads per selection
 * instead of a pass over the set. The caller walks on from the slot if it is down meanwhile.
 */
export function relativeWeightPick(dests: readonly Destination[], count: number, usable: Usable, reader: DestReader, rt: StateRuntime, rng: Rng): number {
  const usableGen = reader.usableGeneration();
  const cc = dests.some((d) => d.attrs.cc !== 0);
  const latencyGen = cc ? reader.latencyGeneration() : 0;
  if (rt.rwTable === undefined || usableGen !== rt.rwUsableGen || latencyGen !== rt.rwLatencyGen) {
    // generations first, states after: a change made meanwhile moves them again (dest-table.ts)
    rt.rwTable = buildRelativeWeightTable(relativeWeights(dests, count, usable, reader), rng);
    rt.rwUsableGen = usableGen;
    rt.rwLatencyGen = latencyGen;
  }
  const n = rt.rwTable[rt.rwlast]!;
  rt.rwlast = (rt.rwlast + 1) % 100;
  return n;
}

/**
 * Algorithm 13 (ds_manage_route_algo13): the usable destinations ranked by priority lowered by
 * their latency, `priority - latency / priority` when the latency exceeds a positive priority
 * (never below 1), with cc=1 the congestion (estimate - average) instead of the latency. Ties keep
 * the order of a walk starting at `start`, so a caller that starts after its last pick round-robins
 * among the best. Returns set positions, best first.
 */
export function latencyOrder(dests: readonly Destination[], count: number, usable: Usable, reader: DestReader, start: number): number[] {
  const ranked: { j: number; p: number }[] = [];
  for (let y = 0; y < count; y++) {
    const j = (start + y) % count;
    const d = dests[j]!;
    if (!usable(d)) continue;
    const l = latencyOf(d, reader);
    const latency = d.attrs.cc !== 0 ? l.congestion : l.estimate;
    const p = d.priority;
    let rp = latency > p && p > 0 ? p - Math.trunc(latency / p) : p;
    if (rp < 1 && p > 0) rp = 1;
    ranked.push({ j, p: rp });
  }
  ranked.sort((a, b) => b.p - a.p); // stable, as Kamailio's bubble sort
  return ranked.map((r) => r.j);
}

/**
 * Algorithm 64 (ds_oc_skip): true when `d` is to be skipped this time. While its overload report
 * is valid, `rate` of every 100 checks skip it, in a shuffled pattern remade for each new report
 * (ds_oc_prepare); an expired report skips nothing. Each check moves the destination's cursor.
 */
export function overloadSkip(d: Destination, reader: DestReader, rt: StateRuntime, rng: Rng): boolean {
  const r = reader.overload(d, report);
  if (r.seq === 0 || r.until < reader.now()) return false;
  let c = rt.oc[d.index];
  if (c === undefined || c.seq !== r.seq) {
    const dist = new Uint8Array(100).fill(1, Math.min(100, Math.max(0, r.rate)));
    shuffle100(dist, rng);
    c = { seq: r.seq, dist, idx: c?.idx ?? 0 };
    rt.oc[d.index] = c;
  }
  const skip = c.dist[c.idx] === 0;
  c.idx = (c.idx + 1) % 100;
  return skip;
}
