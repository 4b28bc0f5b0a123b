// Plain-array builders for the dispatcher tests: records and sets without a list file, a seeded
// random source, and a usability test driven by a set of "down" URIs.
import { makeDestinationRecord, type DestinationRecord } from '../../../src/dispatch/list-file.js';
import { buildSets, type Destination, type DestinationSet } from '../../../src/dispatch/sets.js';
import type { DestReader, SelectOptions } from '../../../src/dispatch/algorithms.js';

export interface Spec {
  uri: string;
  flags?: number;
  priority?: number;
  attrs?: string;
}

export function record(setId: number, s: Spec, line = 0): DestinationRecord {
  const r = makeDestinationRecord(
    { setId: String(setId), destination: s.uri, flags: String(s.flags ?? 0), priority: String(s.priority ?? 0), attrs: s.attrs ?? '' },
    line,
  );
  if (!r.ok) throw new Error(r.reason);
  return r.value;
}

/** mulberry32: small, seeded, good enough to make distribution tests repeatable. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One set (id 1) from specs given in file order; Kamailio's ordering then applies. */
export function setOf(specs: (Spec | string)[], seed = 1): DestinationSet {
  const records = specs.map((s, i) => record(1, typeof s === 'string' ? { uri: s } : s, i + 1));
  return buildSets(records, { rng: seeded(seed) }).get(1)!;
}

/** Specs with distinct priorities so that set order equals the order given (highest first). */
export function ordered(uris: string[], attrs: string[] = []): Spec[] {
  return uris.map((uri, i) => ({ uri, priority: uris.length - i, attrs: attrs[i] ?? '' }));
}

/** Usable unless its host is listed in `down`. */
export function upExcept(...down: string[]): (d: Destination) => boolean {
  return (d) => !down.includes(d.host);
}

export const hosts = (list: readonly Destination[]): string[] => list.map((d) => d.host);

export const opts = (o: Partial<SelectOptions> = {}): SelectOptions => ({
  limit: 0,
  hashMode: 'rehash',
  useDefault: false,
  failover: false,
  ...o,
});

/** Distinct Call-ID-like keys. */
export function callIds(n: number, prefix = 'call'): string[] {
  return Array.from({ length: n }, (_, i) => `${prefix}-${i}-${(i * 2654435761) >>> 0}@client.example.com`);
}

/** Count of picks per host. */
export function tally(picks: string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const p of picks) m.set(p, (m.get(p) ?? 0) + 1);
  return m;
}

/** Destination state by host, as a DestReader over plain maps; tests change it between selections. */
export interface FakeState {
  load: Map<string, number>;
  /** host -> [estimate, average, count] */
  latency: Map<string, [number, number, number]>;
  /** host -> [until, rate, seq] */
  overload: Map<string, [number, number, number]>;
  now: number;
  usableGen: number;
  latencyGen: number;
}

export function fakeState(init: Partial<FakeState> = {}): { state: FakeState; reader: DestReader } {
  const state: FakeState = { load: new Map(), latency: new Map(), overload: new Map(), now: 1000, usableGen: 0, latencyGen: 0, ...init };
  const reader: DestReader = {
    load: (d) => state.load.get(d.host) ?? 0,
    latency: (d, out) => {
      const [estimate, average, count] = state.latency.get(d.host) ?? [0, 0, 0];
      return Object.assign(out, { estimate, average, count });
    },
    overload: (d, out) => {
      const [until, rate, seq] = state.overload.get(d.host) ?? [0, 0, 0];
      return Object.assign(out, { until, rate, seq });
    },
    now: () => state.now,
    usableGeneration: () => state.usableGen,
    latencyGeneration: () => state.latencyGen,
  };
  return { state, reader };
}
