// Algorithms 10 (call load) and 64 (overload control) over plain state: which destination, which
// failover list, and what a maxload or an overload report does to them (Kamailio dispatch.c:
// ds_get_leastloaded, ds_manage_routes_fill_xavp, ds_oc_skip).
import { describe, expect, it } from 'vitest';
import { createSetRuntime, select, type SelectOptions } from '../../../src/dispatch/algorithms.js';
import type { DestinationSet } from '../../../src/dispatch/sets.js';
import { fakeState, hosts, opts, ordered, seeded, setOf, tally, upExcept } from './fixtures.js';

const ABC = setOf(ordered(['sip:a.test', 'sip:b.test', 'sip:c.test'], ['maxload=2', 'maxload=2', '']));
const allUp = upExcept();

describe('algorithm 10: call load', () => {
  const pickWith = (load: Record<string, number>, o: Partial<SelectOptions> = {}, usable = allUp, set: DestinationSet = ABC): string[] => {
    const { reader } = fakeState({ load: new Map(Object.entries(load)) });
    return hosts(select(set, 10, { key: undefined, invite: true }, usable, opts({ reader, ...o }), createSetRuntime()));
  };

  it('picks the usable destination with the fewest active calls; on a tie the first in set order', () => {
    expect(pickWith({ 'a.test': 1, 'b.test': 0, 'c.test': 3 })).toEqual(['b.test']);
    expect(pickWith({ 'a.test': 1, 'b.test': 1, 'c.test': 1 })).toEqual(['a.test']);
    expect(pickWith({ 'a.test': 1, 'b.test': 0, 'c.test': 3 }, {}, upExcept('b.test'))).toEqual(['a.test']);
  });

  it('passes over a destination at its maxload, in the pick and in the failover list', () => {
    expect(pickWith({ 'a.test': 2, 'b.test': 1, 'c.test': 5 })).toEqual(['b.test']);
    expect(pickWith({ 'a.test': 2, 'b.test': 1, 'c.test': 5 }, { failover: true })).toEqual(['b.test', 'c.test']);
    expect(pickWith({ 'a.test': 0, 'b.test': 2, 'c.test': 5 }, { failover: true })).toEqual(['a.test', 'c.test']);
  });

  it('selects nothing when every usable destination is at its maxload (the caller gets SIPLB_NO_DEST_CODE)', () => {
    const full = setOf(ordered(['sip:a.test', 'sip:b.test'], ['maxload=1', 'maxload=3']));
    expect(pickWith({ 'a.test': 1, 'b.test': 3 }, { failover: true }, allUp, full)).toEqual([]);
    expect(pickWith({ 'a.test': 1, 'b.test': 2 }, { failover: true }, allUp, full)).toEqual(['b.test']);
  });

  it('keeps the use_default destination back, and uses it only below its own maxload', () => {
    const set = setOf(ordered(['sip:a.test', 'sip:b.test', 'sip:d.test'], ['maxload=1', 'maxload=1', 'maxload=1']));
    expect(pickWith({ 'a.test': 1, 'b.test': 1 }, { useDefault: true }, allUp, set)).toEqual(['d.test']);
    expect(pickWith({ 'a.test': 1, 'b.test': 1, 'd.test': 1 }, { useDefault: true }, allUp, set)).toEqual([]);
    expect(pickWith({ 'd.test': 0 }, { useDefault: true, failover: true }, allUp, set)).toEqual(['a.test', 'b.test', 'd.test']);
  });

  it('sends a request that is not an INVITE to the first usable destination, as Kamailio ("use first entry")', () => {
    const { reader } = fakeState({ load: new Map([['a.test', 2]]) });
    const sel = (o: Partial<SelectOptions>) => hosts(select(ABC, 10, { key: undefined, invite: false }, upExcept('b.test'), opts({ reader, ...o }), createSetRuntime()));
    expect(sel({})).toEqual(['a.test']); // its maxload is for calls: an OPTIONS or MESSAGE still goes
    expect(sel({ failover: true })).toEqual(['a.test', 'c.test']);
  });

  it('puts every new call on a least-loaded destination while calls end at random', () => {
    const set = setOf(ordered(['sip:a.test', 'sip:b.test', 'sip:c.test']));
    const { state, reader } = fakeState();
    const load = (h: string): number => state.load.get(h) ?? 0;
    const rng = seeded(4);
    const calls: string[] = [];
    for (let k = 0; k < 5000; k++) {
      if (calls.length > 0 && rng() < 0.45) {
        const [ended] = calls.splice(Math.floor(rng() * calls.length), 1);
        state.load.set(ended!, load(ended!) - 1);
      }
      const least = Math.min(...['a.test', 'b.test', 'c.test'].map(load));
      const host = select(set, 10, { key: undefined, invite: true }, allUp, opts({ reader }), createSetRuntime())[0]!.host;
      expect(load(host)).toBe(least);
      state.load.set(host, load(host) + 1);
      calls.push(host);
    }
  });

  it('needs a reader', () => {
    expect(() => select(ABC, 10, { key: undefined, invite: true }, allUp, opts(), createSetRuntime())).toThrow(/needs a DestReader/);
  });
});

describe('algorithm 64: round-robin with overload control', () => {
  const AB = setOf(ordered(['sip:a.test', 'sip:b.test']));

  it('is plain round-robin while no overload report is valid (none, or expired)', () => {
    const { state, reader } = fakeState();
    const rt = createSetRuntime();
    const run = (n: number) => Array.from({ length: n }, () => select(AB, 64, { key: undefined }, allUp, opts({ reader, rng: seeded(1) }), rt)[0]!.host);
    expect(run(4)).toEqual(['a.test', 'b.test', 'a.test', 'b.test']);
    state.overload.set('a.test', [999, 100, 1]); // valid until 999 ms, now is 1000
    expect(run(4)).toEqual(['a.test', 'b.test', 'a.test', 'b.test']);
  });

  it('skips a destination exactly `rate` times in each 100 checks while the report is valid', () => {
    const solo = setOf(['sip:a.test']);
    const { reader } = fakeState({ overload: new Map([['a.test', [5000, 30, 1]]]) });
    const rt = createSetRuntime();
    for (let round = 0; round < 3; round++) {
      const picks = Array.from({ length: 100 }, () => select(solo, 64, { key: undefined }, allUp, opts({ reader, rng: seeded(round) }), rt).length);
      expect(picks.filter((n) => n === 0)).toHaveLength(30); // skipped and nothing else: no destination
    }
  });

  it('shares traffic as skipping a destination on its turn predicts: (1 - r) / (2 - r) of two at r = 0.5', () => {
    // a skipped turn goes to b and the next selection starts at a again, so a is checked more often
    const { reader } = fakeState({ overload: new Map([['a.test', [5000, 50, 7]]]) });
    const rt = createSetRuntime();
    const t = tally(Array.from({ length: 9000 }, () => select(AB, 64, { key: undefined }, allUp, opts({ reader, rng: seeded(3) }), rt)[0]!.host));
    expect(Math.abs(t.get('a.test')! / 9000 - 1 / 3)).toBeLessThan(0.01);
  });

  it('takes a new report (higher sequence) with a new rate, and keeps a skipped destination in the failover list', () => {
    const solo = setOf(['sip:a.test']);
    const { state, reader } = fakeState({ overload: new Map([['a.test', [5000, 100, 1]]]) });
    const rt = createSetRuntime();
    const sel = (o: Partial<SelectOptions> = {}) => select(solo, 64, { key: undefined }, allUp, opts({ reader, rng: seeded(2), ...o }), rt);
    expect(Array.from({ length: 10 }, () => sel().length)).toEqual(new Array(10).fill(0));
    state.overload.set('a.test', [5000, 0, 2]);
    expect(Array.from({ length: 10 }, () => sel().length)).toEqual(new Array(10).fill(1));
    const two = setOf(ordered(['sip:a.test', 'sip:b.test']));
    state.overload.set('a.test', [5000, 100, 3]);
    expect(hosts(select(two, 64, { key: undefined }, allUp, opts({ reader, failover: true }), createSetRuntime()))).toEqual(['b.test', 'a.test']);
  });

  it('uses the use_default destination alone only when its own report lets it through', () => {
    const set = setOf(ordered(['sip:a.test', 'sip:d.test']));
    const { reader } = fakeState({ overload: new Map([['a.test', [5000, 100, 1]], ['d.test', [5000, 100, 1]]]) });
    expect(select(set, 64, { key: undefined }, allUp, opts({ reader, useDefault: true }), createSetRuntime())).toEqual([]);
    const { reader: r2 } = fakeState({ overload: new Map([['a.test', [5000, 100, 1]]]) });
    expect(hosts(select(set, 64, { key: undefined }, allUp, opts({ reader: r2, useDefault: true }), createSetRuntime()))).toEqual(['d.test']);
  });
});
