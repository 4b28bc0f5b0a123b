import { describe, expect, it } from 'vitest';
import { buildRelativeWeightTable, buildSets, buildWeightTable, shuffle100 } from '../../../src/dispatch/sets.js';
import { record, seeded, setOf } from './fixtures.js';

const counts = (table: Uint32Array): number[] => {
  const c: number[] = [];
  for (const i of table) c[i] = (c[i] ?? 0) + 1;
  return Array.from(c, (n) => n ?? 0);
};

describe('buildSets: Kamailio order (add_dest2list + reindex_dests)', () => {
  it('puts the highest priority first', () => {
    const set = setOf([{ uri: 'sip:low.test', priority: 1 }, { uri: 'sip:high.test', priority: 9 }, { uri: 'sip:mid.test', priority: 5 }]);
    expect(set.destinations.map((d) => d.host)).toEqual(['high.test', 'mid.test', 'low.test']);
  });

  it('keeps records of equal priority in reverse file order, as Kamailio does', () => {
    const set = setOf([
      { uri: 'sip:a.test', priority: 0 },
      { uri: 'sip:b.test', priority: 0 },
      { uri: 'sip:x.test', priority: 5 },
      { uri: 'sip:c.test', priority: 0 },
    ]);
    expect(set.destinations.map((d) => d.host)).toEqual(['x.test', 'c.test', 'b.test', 'a.test']);
    expect(set.destinations.map((d) => d.index)).toEqual([0, 1, 2, 3]);
  });

  it('groups by set id and gives ids that are unique across sets and stable for duplicates', () => {
    const recs = [record(2, { uri: 'sip:a.test' }), record(1, { uri: 'sip:a.test' }), record(1, { uri: 'sip:a.test' }), record(1, { uri: 'b.test' })];
    const sets = buildSets(recs);
    expect([...sets.keys()]).toEqual([1, 2]);
    const ids = [...sets.values()].flatMap((s) => s.destinations.map((d) => d.id));
    expect(ids.sort()).toEqual(['1:sip:a.test', '1:sip:a.test#2', '1:sip:b.test', '2:sip:a.test']);
    // Ids do not depend on position: a record added in front (higher priority) renames nobody.
    const more = buildSets([...recs, record(1, { uri: 'sip:c.test', priority: 9 })]);
    const moreIds = [...more.values()].flatMap((s) => s.destinations.map((d) => d.id));
    expect(moreIds).toEqual(expect.arrayContaining(ids));
    expect(more.get(1)!.destinations[0]!.id).toBe('1:sip:c.test');
  });
});

describe('weight table (dp_init_weights)', () => {
  const w = (...weights: number[]) => weights.map((weight) => ({ attrs: { weight } }));

  it('gives each destination its weight in slots', () => {
    expect(counts(buildWeightTable(w(50, 25, 25), seeded(1)))).toEqual([50, 25, 25]);
  });

  it('gives what is left under 100 to the last destination', () => {
    expect(counts(buildWeightTable(w(30, 20, 10), seeded(1)))).toEqual([30, 20, 50]);
  });

  it('ignores slots over 100 and destinations with weight 0', () => {
    expect(counts(buildWeightTable(w(60, 0, 60), seeded(1)))).toEqual([60, 0, 40]);
  });

  it('stays all zeros when the first destination has no weight (every pick is index 0)', () => {
    expect(counts(buildWeightTable(w(0, 50, 50), seeded(1)))).toEqual([100]);
  });

  it('is shuffled by the injected rng, deterministically', () => {
    const a = buildWeightTable(w(50, 50), seeded(7));
    expect(a).toEqual(buildWeightTable(w(50, 50), seeded(7)));
    expect(a).not.toEqual(buildWeightTable(w(50, 50), seeded(8)));
    expect(Array.from(a.slice(0, 50)).every((i) => i === 0)).toBe(false);
  });

  it('shuffle100 is a permutation', () => {
    const t = Uint32Array.from({ length: 100 }, (_, i) => i);
    shuffle100(t, seeded(3));
    expect([...t].sort((x, y) => x - y)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect([...t]).not.toEqual(Array.from({ length: 100 }, (_, i) => i));
  });

  it('buildSets computes it over Kamailio order', () => {
    const set = setOf([{ uri: 'sip:a.test', priority: 1, attrs: 'weight=20' }, { uri: 'sip:b.test', priority: 2, attrs: 'weight=80' }]);
    expect(counts(set.weightTable)).toEqual([80, 20]); // b.test is index 0
  });
});

describe('relative weight table (dp_init_relative_weights)', () => {
  it('gives slots proportional to rweight, truncated, the rest to the last one filled', () => {
    expect(counts(buildRelativeWeightTable([1, 1, 1], seeded(1)))).toEqual([33, 33, 34]);
    expect(counts(buildRelativeWeightTable([50, 50], seeded(1)))).toEqual([50, 50]);
    expect(counts(buildRelativeWeightTable([1, 2, 1], seeded(1)))).toEqual([25, 50, 25]);
  });

  it('leaves out destinations of weight 0 (unusable ones are given 0)', () => {
    expect(counts(buildRelativeWeightTable([10, 0, 10], seeded(1)))).toEqual([50, 0, 50]);
    expect(counts(buildRelativeWeightTable([1, 2, 0], seeded(1)))).toEqual([33, 67]); // Kamailio's documented example
  });

  it('takes weights above 100 (congestion ratios) in proportion', () => {
    expect(counts(buildRelativeWeightTable([1600, 400], seeded(1)))).toEqual([80, 20]);
  });

  it('is empty (all index 0) for a single destination or no weights, as Kamailio', () => {
    expect(counts(buildRelativeWeightTable([10], seeded(1)))).toEqual([100]);
    expect(counts(buildRelativeWeightTable([0, 0], seeded(1)))).toEqual([100]);
  });
});
