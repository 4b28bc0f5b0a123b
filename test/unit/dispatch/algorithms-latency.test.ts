// Algorithms 11 (relative weight, with congestion control) and 13 (latency optimised) over plain
// state: shares per 100 picks, the rebuild when a destination goes down, and the rankings of
// Kamailio's documentation (dispatcher_admin.xml, algorithms 11 and 13; dispatch.c
// dp_init_relative_weights, ds_update_latency, ds_manage_route_algo13).
import { describe, expect, it } from 'vitest';
import { createSetRuntime, select, type SelectOptions } from '../../../src/dispatch/algorithms.js';
import type { DestinationSet } from '../../../src/dispatch/sets.js';
import { fakeState, hosts, opts, ordered, seeded, setOf, tally, upExcept, type FakeState } from './fixtures.js';
import type { Destination } from '../../../src/dispatch/sets.js';

/** `n` first picks with one runtime. */
function run(set: DestinationSet, alg: number, n: number, st: ReturnType<typeof fakeState>, usable: (d: Destination) => boolean = upExcept(), o: Partial<SelectOptions> = {}, rt = createSetRuntime()): string[] {
  return Array.from({ length: n }, () => select(set, alg, { key: undefined }, usable, opts({ reader: st.reader, rng: seeded(6), ...o }), rt)[0]?.host ?? '-');
}
const share = (picks: string[]): Record<string, number> => Object.fromEntries(tally(picks));

describe('algorithm 11: relative weight', () => {
  const R = setOf(ordered(['sip:a.test', 'sip:b.test', 'sip:c.test'], ['rweight=1', 'rweight=2', 'rweight=1']));

  it('gives rweight 1/2/1 exactly 25/50/25 of every 100 picks, mixed', () => {
    const st = fakeState();
    const rt = createSetRuntime();
    for (let round = 0; round < 5; round++) expect(share(run(R, 11, 100, st, upExcept(), {}, rt))).toEqual({ 'a.test': 25, 'b.test': 50, 'c.test': 25 });
    expect(new Set(run(R, 11, 6, st)).size).toBeGreaterThan(1);
  });

  it('re-spreads over the live ones when a destination goes down: 33/67 (Kamailio\'s example), not its share to a neighbour', () => {
    const st = fakeState();
    const rt = createSetRuntime();
    run(R, 11, 37, st, upExcept(), {}, rt); // mid-table
    const down = upExcept('c.test');
    st.state.usableGen++; // what the shared table does when c.test goes down
    expect(share(run(R, 11, 100, st, down, {}, rt))).toEqual({ 'a.test': 33, 'b.test': 67 });
    st.state.usableGen++; // and back up
    expect(share(run(R, 11, 100, st, upExcept(), {}, rt))).toEqual({ 'a.test': 25, 'b.test': 50, 'c.test': 25 });
  });

  it('rebuilds its table when the generation moves, not per selection', () => {
    const st = fakeState();
    const rt = createSetRuntime();
    run(R, 11, 1, st, upExcept(), {}, rt);
    const table = rt.rwTable;
    run(R, 11, 50, st, upExcept(), {}, rt);
    expect(rt.rwTable).toBe(table);
    // down without a generation move: the stale slots of c.test walk on to a.test (Kamailio's walk)
    expect(run(R, 11, 100, st, upExcept('c.test'), {}, rt)).not.toContain('c.test');
    expect(rt.rwTable).toBe(table);
  });

  it('spreads 70/30 of 10,000 picks within 1 point with any number of picks per table', () => {
    const set = setOf(ordered(['sip:a.test', 'sip:b.test'], ['rweight=70', 'rweight=30']));
    const t = share(run(set, 11, 10_000, fakeState()));
    expect(Math.abs(t['a.test']! / 10_000 - 0.7)).toBeLessThan(0.01);
  });

  describe('cc=1: congestion control from the latency record', () => {
    const CC = setOf(ordered(['sip:a.test', 'sip:b.test'], ['rweight=50;weight=50;cc=1', 'rweight=50;weight=50;cc=1']));
    const withLatency = (lat: FakeState['latency']) => {
      const st = fakeState({ latency: lat });
      return share(run(CC, 11, 100, st));
    };

    it('lowers the weight by one per ms of congestion (estimate - average): 20 and 50 give 28/72', () => {
      expect(withLatency(new Map([['a.test', [50, 20, 12]], ['b.test', [20, 20, 12]]]))).toEqual({ 'a.test': 28, 'b.test': 72 });
    });

    it('uses rweight until latency is measured, and ignores a latency below average', () => {
      expect(withLatency(new Map([['a.test', [90, 10, 0]], ['b.test', [5, 20, 12]]]))).toEqual({ 'a.test': 50, 'b.test': 50 });
    });

    it('when every destination is congested, shares by the inverse of the congestion: 60 and 120 ms give 66/34', () => {
      expect(withLatency(new Map([['a.test', [80, 20, 12]], ['b.test', [140, 20, 12]]]))).toEqual({ 'a.test': 66, 'b.test': 34 });
    });

    it('follows latency changes (LATENCY_GEN) in a set with cc=1', () => {
      const st = fakeState({ latency: new Map([['a.test', [20, 20, 12]], ['b.test', [20, 20, 12]]]) });
      const rt = createSetRuntime();
      expect(share(run(CC, 11, 100, st, upExcept(), {}, rt))).toEqual({ 'a.test': 50, 'b.test': 50 });
      st.state.latency.set('a.test', [50, 20, 13]);
      st.state.latencyGen++;
      expect(share(run(CC, 11, 100, st, upExcept(), {}, rt))).toEqual({ 'a.test': 28, 'b.test': 72 });
    });
  });
});

describe('algorithm 13: latency optimised', () => {
  // dispatcher_admin.xml's table: seven gateways of priority 30 and their estimated latencies.
  const latencies = [21, 91, 61, 19, 32, 0, 201];
  const G = setOf(latencies.map((_, i) => ({ uri: `sip:gw${i + 1}.test`, priority: 30 })));
  const measured = () => fakeState({ latency: new Map(latencies.map((l, i) => [`gw${i + 1}.test`, [l, 10, 12]])) });

  it('ranks priority - latency/priority and round-robins among the best (gateways 1, 4 and 6: 33% each)', () => {
    const t = share(run(G, 13, 300, measured()));
    expect(t).toEqual({ 'gw1.test': 100, 'gw4.test': 100, 'gw6.test': 100 });
  });

  it('lists the rest for failover by adjusted priority: 29 (gw5), 28 (gw3), 27 (gw2), 24 (gw7)', () => {
    const order = hosts(select(G, 13, { key: undefined }, upExcept(), opts({ reader: measured().reader, failover: true }), createSetRuntime()));
    expect(order.slice(3)).toEqual(['gw5.test', 'gw3.test', 'gw2.test', 'gw7.test']);
    expect(order.slice(0, 3).sort()).toEqual(['gw1.test', 'gw4.test', 'gw6.test']);
  });

  it('leaves out unusable destinations, and keeps a positive priority at least 1', () => {
    const set = setOf([{ uri: 'sip:slow.test', priority: 2 }, { uri: 'sip:zero.test', priority: 0 }, { uri: 'sip:fast.test', priority: 5 }]);
    const st = fakeState({ latency: new Map([['slow.test', [100, 1, 12]], ['fast.test', [100, 1, 12]]]) });
    // fast: 5 - 100/5 < 1 -> 1; slow: 2 - 50 -> 1; zero: 0
    const order = hosts(select(set, 13, { key: undefined }, upExcept(), opts({ reader: st.reader, failover: true }), createSetRuntime()));
    expect(order.slice(0, 2).sort()).toEqual(['fast.test', 'slow.test']);
    expect(order[2]).toBe('zero.test');
    expect(hosts(select(set, 13, { key: undefined }, upExcept('fast.test', 'slow.test'), opts({ reader: st.reader }), createSetRuntime()))).toEqual(['zero.test']);
  });

  it('with cc=1 ranks by congestion (estimate - average), and uses the latency= attr until measured', () => {
    const set = setOf([
      { uri: 'sip:far.test', priority: 10, attrs: 'cc=1' },
      { uri: 'sip:near.test', priority: 10, attrs: 'latency=45' },
    ]);
    // far: 200 ms, but its normal (average 195): congestion 5 -> 10; near: 45 ms from its attr -> 10 - 4 = 6
    const st = fakeState({ latency: new Map([['far.test', [200, 195, 12]]]) });
    expect(run(set, 13, 4, st)).toEqual(['far.test', 'far.test', 'far.test', 'far.test']);
  });
});
