// siplb.overview and siplb.events: what the live page (page.ts) shows, in one read-only call so
// the page makes one request a refresh and every number in it comes from the same moment.
// Also GET /api/overview and GET /api/events by the REST rule (rest.ts). Counters are cumulative;
// the page (or a script) turns two readings into rates and shares of traffic.
import * as hdr from 'hdr-histogram-js';
import type { DestEvent } from '../events/event.js';
import { buildSets } from '../dispatch/sets.js';
import { flatten } from '../proxy/targets.js';
import { DS_PROBING, stateLetters } from '../shared/dest-state.js';
import { CLASSES } from '../proxy/message-kind.js';
import { destLabels } from './dest-labels.js';
import { percentiles, type Percentiles } from './latency-api.js';
import type { AdminMetricsSources } from './metrics.js';
import { hdrToBuckets } from './prom-histogram.js';
import type { RpcMethod } from './rpc.js';

/** Bar bounds of the page's latency chart, µs: 1-2-5 steps from 10 µs to 5 s, then everything above. */
export const CHART_BOUNDS_US: readonly number[] = [10, 20, 50, 100, 200, 500, 1e3, 2e3, 5e3, 1e4, 2e4, 5e4, 1e5, 2e5, 5e5, 1e6, 2e6, 5e6];

export interface OverviewDest {
  /** The slot of the shared destination table (stable across reloads for a kept destination). */
  slot: number;
  uri: string;
  /** Kamailio's state letters (AP, IP, DX, TX...). */
  flags: string;
  /** Takes new calls now. */
  usable: boolean;
  /**
   * The state that puts it back in service (the page's Enable): `ap` when its list line flags it
   * for probing (8), so keepalives resume for it, else `a`.
   */
  enable: 'a' | 'ap';
  /** Active calls (algorithm 10's load). */
  load: number;
  /** Requests sent to it since start, every thread. */
  requests: number;
  /** Responses from it since start, by class. */
  replies: Record<string, number>;
  /** Keepalive round trip, ms (with SIPLB_DS_PING_LATENCY_STATS). */
  latency?: { avg: number; est: number; max: number; timeouts: number };
}

export interface Overview {
  /** When the numbers were read (ms since the epoch): the page divides by the time between two. */
  time: number;
  sets: Array<{ id: number; destinations: OverviewDest[] }>;
  /** Receive to send, every thread merged, since start or the last latency reset, µs. */
  latency: Omit<Percentiles, 'hdr'> & { unit: 'us'; buckets: Array<{ le: number | null; count: number }> };
  /** The last dst-down/dst-up events (at most RECENT_EVENTS), oldest first. */
  events: readonly DestEvent[];
}

export interface OverviewSources extends AdminMetricsSources {
  readonly events?: () => readonly DestEvent[];
}

const round = (n: number): number => Math.round(n * 1000) / 1000;

/** The receive-to-send distribution as the chart's bars (counts per bucket, not cumulative). */
export function chartBuckets(h: hdr.Histogram): Array<{ le: number | null; count: number }> {
  // hdrToBuckets takes bounds in seconds and values in µs: bounds given in µs with a unit of 1 µs
  const cumulative = hdrToBuckets(h, CHART_BOUNDS_US, 1).buckets;
  return cumulative.map((b, i) => ({ le: Number.isFinite(b.le) ? b.le : null, count: b.count - (i === 0 ? 0 : cumulative[i - 1]!.count) }));
}

export async function overview(src: OverviewSources): Promise<Overview> {
  const stats = await src.metrics.stats();
  const table = src.states();
  const sets = new Map<number, OverviewDest[]>();
  const records = src.records();
  const listFlags = new Map(flatten(buildSets(records)).map((d) => [d.slot, d.flags]));
  for (const d of destLabels(records, table.count, src.bindings)) {
    const flags = table.flags(d.slot);
    const replies: Record<string, number> = {};
    CLASSES.forEach((c, i) => {
      const n = stats.counters.destReplies[d.slot * CLASSES.length + i] ?? 0;
      if (n > 0) replies[c] = n;
    });
    const dest: OverviewDest = { slot: d.slot, uri: d.uri, flags: stateLetters(flags), usable: table.usable(d.slot), enable: (listFlags.get(d.slot) ?? 0) & DS_PROBING ? 'ap' : 'a', load: table.load(d.slot), requests: stats.counters.destRequests[d.slot] ?? 0, replies };
    if (src.latency) {
      const l = table.latency(d.slot);
      dest.latency = { avg: round(l.AVERAGE), est: round(l.ESTIMATE), max: l.MAX, timeouts: l.TIMEOUTS };
    }
    let list = sets.get(d.set);
    if (list === undefined) sets.set(d.set, (list = []));
    list.push(dest);
  }
  const h = hdr.decodeFromCompressedBase64(stats.latencyHdr);
  const p = percentiles(h);
  return {
    time: Date.now(),
    sets: [...sets].map(([id, destinations]) => ({ id, destinations })),
    latency: { unit: 'us', count: p.count, p50: p.p50, p90: p.p90, p99: p.p99, 'p99.9': p['p99.9'], max: p.max, mean: p.mean, buckets: chartBuckets(h) },
    events: src.events?.() ?? [],
  };
}

/** The methods of this module for the admin server's table. */
export function overviewMethods(src: OverviewSources): Map<string, RpcMethod> {
  return new Map<string, RpcMethod>([
    ['siplb.overview', { readOnly: true, params: [], summary: 'what the live page shows: destinations with state, load, latency and request counters, the latency chart, recent events', handler: () => overview(src) }],
    ['siplb.events', { readOnly: true, params: [], summary: 'the last 200 dst-down/dst-up events, oldest first', handler: () => ({ events: src.events?.() ?? [] }) }],
  ]);
}
