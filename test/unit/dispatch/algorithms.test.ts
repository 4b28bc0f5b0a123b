import { describe, expect, it } from 'vitest';
import { ALGORITHMS, createSetRuntime, select, type SelectOptions } from '../../../src/dispatch/algorithms.js';
import { ALGORITHMS as ACCEPTED } from '../../../src/config/types.js';
import type { DestinationSet } from '../../../src/dispatch/sets.js';
import { hosts, opts, ordered, seeded, setOf, tally, upExcept, type Spec } from './fixtures.js';

const ABC = setOf(ordered(['sip:a.test', 'sip:b.test', 'sip:c.test']));
const ABCD = setOf(ordered(['sip:a.test', 'sip:b.test', 'sip:c.test', 'sip:d.test']));
const allUp = upExcept();

/** `n` successive selections with one runtime, first pick of each. */
function run(set: DestinationSet, alg: number, n: number, o: Partial<SelectOptions> = {}, usable = allUp, key?: string): string[] {
  const rt = createSetRuntime();
  return Array.from({ length: n }, () => select(set, alg, { key }, usable, opts(o), rt)[0]?.host ?? '-');
}
const list = (set: DestinationSet, alg: number, o: Partial<SelectOptions>, usable = allUp, key?: string) =>
  hosts(select(set, alg, { key }, usable, opts(o), createSetRuntime()));

describe('algorithm 4: round-robin', () => {
  it('cycles through the set in order', () => {
    expect(run(ABC, 4, 7)).toEqual(['a.test', 'b.test', 'c.test', 'a.test', 'b.test', 'c.test', 'a.test']);
  });

  it('follows Kamailio order: equal priorities run in reverse file order', () => {
    expect(run(setOf(['sip:a.test', 'sip:b.test', 'sip:c.test']), 4, 3)).toEqual(['c.test', 'b.test', 'a.test']);
  });

  it('moves an unusable pick to the next usable one and continues after it', () => {
    expect(run(ABC, 4, 6, {}, upExcept('b.test'))).toEqual(['a.test', 'c.test', 'a.test', 'c.test', 'a.test', 'c.test']);
  });

  it('splits evenly: 3,000 picks give exactly 1,000 each', () => {
    const t = tally(run(ABC, 4, 3000));
    expect([...t.values()]).toEqual([1000, 1000, 1000]);
  });
});

describe('algorithm 6: random', () => {
  it('spreads 9,000 picks evenly (each 1/3 ± 2 points) using the injected rng', () => {
    const t = tally(run(ABC, 6, 9000, { rng: seeded(5) }));
    for (const n of t.values()) expect(Math.abs(n / 9000 - 1 / 3)).toBeLessThan(0.02);
  });

  it('rehash mode spreads a dead destination evenly; kamailio mode doubles its neighbour', () => {
    const rehash = tally(run(ABC, 6, 9000, { rng: seeded(5) }, upExcept('a.test')));
    expect(Math.abs(rehash.get('b.test')! / 9000 - 0.5)).toBeLessThan(0.02);
    const walk = tally(run(ABC, 6, 9000, { rng: seeded(5), hashMode: 'kamailio' }, upExcept('a.test')));
    expect(Math.abs(walk.get('b.test')! / 9000 - 2 / 3)).toBeLessThan(0.02);
  });
});

describe('algorithm 8: serial by priority', () => {
  it('picks the highest priority and lists the rest in priority order', () => {
    const set = setOf([{ uri: 'sip:low.test', priority: 1 }, { uri: 'sip:top.test', priority: 10 }, { uri: 'sip:mid.test', priority: 5 }]);
    expect(list(set, 8, {})).toEqual(['top.test']);
    expect(list(set, 8, { failover: true })).toEqual(['top.test', 'mid.test', 'low.test']);
    expect(list(set, 8, { failover: true }, upExcept('top.test'))).toEqual(['mid.test', 'low.test']);
  });
});

describe('algorithm 9: weight', () => {
  const W = setOf(ordered(['sip:a.test', 'sip:b.test', 'sip:c.test'], ['weight=50', 'weight=25', 'weight=25']), 11);

  it('gives 50/25/25 of 10,000 picks within ±3 points, and exactly so in every 100 picks', () => {
    const picks = run(W, 9, 10000);
    const t = tally(picks);
    expect(Math.abs(t.get('a.test')! / 10000 - 0.5)).toBeLessThanOrEqual(0.03);
    expect(Math.abs(t.get('b.test')! / 10000 - 0.25)).toBeLessThanOrEqual(0.03);
    expect(Math.abs(t.get('c.test')! / 10000 - 0.25)).toBeLessThanOrEqual(0.03);
    const first100 = tally(picks.slice(0, 100));
    expect([first100.get('a.test'), first100.get('b.test'), first100.get('c.test')]).toEqual([50, 25, 25]);
  });

  it('is mixed, not 50 a.test in a row (the table is shuffled)', () => {
    expect(new Set(run(W, 9, 10)).size).toBeGreaterThan(1);
  });

  it('rehash mode keeps the live weights in proportion; kamailio mode gives the dead share to the neighbour', () => {
    const rehash = tally(run(W, 9, 10000, {}, upExcept('a.test')));
    expect(Math.abs(rehash.get('b.test')! / 10000 - 0.5)).toBeLessThanOrEqual(0.03);
    const walk = tally(run(W, 9, 10000, { hashMode: 'kamailio' }, upExcept('a.test')));
    expect(Math.abs(walk.get('b.test')! / 10000 - 0.75)).toBeLessThanOrEqual(0.03);
  });
});

describe('algorithm 12: parallel forking', () => {
  const ALL = ['a.test', 'b.test', 'c.test', 'd.test'];

  it('lists every usable destination in set order, with failover on or off', () => {
    expect(list(ABCD, 12, {})).toEqual(ALL);
    expect(list(ABCD, 12, { failover: true })).toEqual(ALL);
    expect(list(ABCD, 12, {}, upExcept('a.test', 'c.test'))).toEqual(['b.test', 'd.test']);
    expect(list(ABCD, 12, {}, upExcept(...ALL))).toEqual([]);
  });

  it('follows Kamailio order (equal priorities in reverse file order) and does not rotate between calls', () => {
    expect(run(setOf(['sip:a.test', 'sip:b.test', 'sip:c.test']), 12, 3)).toEqual(['c.test', 'c.test', 'c.test']);
    expect(list(setOf(['sip:a.test', 'sip:b.test', 'sip:c.test']), 12, {})).toEqual(['c.test', 'b.test', 'a.test']);
  });

  it('caps the branches at limit, and forks to the use_default destination too (ds_add_branches)', () => {
    expect(list(ABCD, 12, { limit: 2 })).toEqual(['a.test', 'b.test']);
    expect(list(ABCD, 12, { useDefault: true })).toEqual(ALL);
    expect(list(ABCD, 12, { useDefault: true }, upExcept('d.test'))).toEqual(['a.test', 'b.test', 'c.test']);
    expect(list(ABCD, 12, { useDefault: true }, upExcept('a.test', 'b.test', 'c.test'))).toEqual(['d.test']);
  });
});

describe('algorithm 14: round-robin or serial', () => {
  it('round-robins when every priority is equal and above 0', () => {
    const set = setOf([1, 2, 3].map((i): Spec => ({ uri: `sip:h${i}.test`, priority: 5 })));
    expect(run(set, 14, 3)).toEqual(['h3.test', 'h2.test', 'h1.test']);
  });

  it('is serial when priorities differ or are 0', () => {
    expect(run(ABC, 14, 3)).toEqual(['a.test', 'a.test', 'a.test']);
    expect(run(setOf(['sip:x.test', 'sip:y.test']), 14, 2)).toEqual(['y.test', 'y.test']);
  });
});

describe('algorithm 15: SRV style', () => {
  const S = setOf([
    { uri: 'sip:x.test', priority: 10, attrs: 'weight=60' },
    { uri: 'sip:y.test', priority: 10, attrs: 'weight=20' },
    { uri: 'sip:z.test', priority: 20, attrs: 'weight=100' },
  ]);

  it('picks within the lowest priority value, by weight (60/20 of 8,000 picks ± 3 points)', () => {
    const t = tally(run(S, 15, 8000, { rng: seeded(9) }));
    expect(t.has('z.test')).toBe(false);
    expect(Math.abs(t.get('x.test')! / 8000 - 0.75)).toBeLessThan(0.03);
  });

  it('orders the failover list level by level, and uses the next level when one is down', () => {
    const l = list(S, 15, { failover: true, rng: seeded(1) });
    expect(l.slice(0, 2).sort()).toEqual(['x.test', 'y.test']);
    expect(l[2]).toBe('z.test');
    expect(list(S, 15, { failover: true, rng: seeded(1) }, upExcept('x.test', 'y.test'))).toEqual(['z.test']);
  });
});

describe('failover list, limit and use_default', () => {
  it('after the pick: the usable ones after it in set order, then those before it', () => {
    const key = 'k';
    const rt = createSetRuntime();
    rt.rr = 1;
    expect(hosts(select(ABCD, 4, { key }, allUp, opts({ failover: true }), rt))).toEqual(['b.test', 'c.test', 'd.test', 'a.test']);
    rt.rr = 1;
    expect(hosts(select(ABCD, 4, { key }, upExcept('c.test'), opts({ failover: true }), rt))).toEqual(['b.test', 'd.test', 'a.test']);
  });

  it('returns only the pick without failover, and caps the list at limit (0 = no cap)', () => {
    expect(list(ABCD, 8, {})).toEqual(['a.test']);
    expect(list(ABCD, 8, { failover: true, limit: 2 })).toEqual(['a.test', 'b.test']);
    expect(list(ABCD, 8, { failover: true, limit: 0 })).toHaveLength(4);
  });

  it('use_default keeps the last destination out of selection and appends it last', () => {
    expect(run(ABCD, 4, 4, { useDefault: true })).toEqual(['a.test', 'b.test', 'c.test', 'a.test']);
    expect(list(ABCD, 8, { useDefault: true, failover: true })).toEqual(['a.test', 'b.test', 'c.test', 'd.test']);
    expect(list(ABCD, 8, { useDefault: true, failover: true, limit: 2 })).toEqual(['a.test', 'b.test']);
    for (const alg of [0, 6, 9, 15]) {
      expect(run(ABCD, alg, 200, { useDefault: true, rng: seeded(2) }, allUp, 'x')).not.toContain('d.test');
    }
  });

  it('use_default stands in when all others are down, and is skipped when itself down', () => {
    const othersDown = upExcept('a.test', 'b.test', 'c.test');
    expect(list(ABCD, 0, { useDefault: true }, othersDown, 'call-1')).toEqual(['d.test']);
    expect(list(ABCD, 4, { useDefault: true, failover: true }, othersDown)).toEqual(['d.test']);
    expect(list(ABCD, 8, { useDefault: true, failover: true }, upExcept('d.test'))).toEqual(['a.test', 'b.test', 'c.test']);
    expect(list(ABCD, 8, { useDefault: true }, upExcept('a.test', 'b.test', 'c.test', 'd.test'))).toEqual([]);
  });

  it('a set of one has no default destination (Kamailio: nr != 1)', () => {
    expect(list(setOf(['sip:solo.test']), 4, { useDefault: true })).toEqual(['solo.test']);
  });

  it('implements exactly the algorithms SIPLB_ALG accepts', () => {
    expect([...ALGORITHMS]).toEqual([...ACCEPTED]);
  });

  it('rejects an algorithm it does not implement', () => {
    expect(() => list(ABC, 16, {})).toThrow(/algorithm 16 is not implemented/);
  });
});
