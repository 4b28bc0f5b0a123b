import { describe, expect, it } from 'vitest';
import { createSetRuntime, keyHash, select } from '../../../src/dispatch/algorithms.js';
import { dsHash } from '../../../src/dispatch/hash.js';
import { callIds, hosts, opts, ordered, setOf, tally, upExcept } from './fixtures.js';

const ABCD = setOf(ordered(['sip:a.test', 'sip:b.test', 'sip:c.test', 'sip:d.test']));
const ABC = setOf(ordered(['sip:a.test', 'sip:b.test', 'sip:c.test']));
const allUp = upExcept();
const pick1 = (set: typeof ABCD, alg: number, key: string | undefined, usable = allUp, mode: 'rehash' | 'kamailio' = 'rehash') =>
  select(set, alg, { key }, usable, opts({ hashMode: mode }), createSetRuntime())[0]?.host;

describe('hash algorithms: the pick is ds_get_hash(key) % count, as Kamailio', () => {
  it('algorithm 0 hashes the Call-ID as one string', () => {
    // dsHash of this Call-ID is 2175018094 (golden value from Kamailio's C, hash.test.ts).
    const cid = 'a84b4c76e66710@pc33.atlanta.com';
    expect(dsHash(cid)).toBe(2175018094);
    expect(pick1(ABC, 0, cid)).toBe(['a.test', 'b.test', 'c.test'][2175018094 % 3]);
    expect(pick1(ABCD, 0, cid)).toBe(['a.test', 'b.test', 'c.test', 'd.test'][2175018094 % 4]);
  });

  it('algorithms 1-3 hash user and host[:port] as two strings, like get_uri_hash_keys', () => {
    expect(keyHash(1, 'alice@atlanta.com')).toBe(1053853112); // dsHash('alice', 'atlanta.com') in C
    expect(keyHash(2, 'bob@[2001:db8::1]:5070')).toBe(499091971);
    expect(keyHash(3, '@example.com:5080')).toBe(2330445957); // URI without user
    expect(keyHash(1, 'alice')).toBe(dsHash('alice')); // module flag 1: user only
    expect(keyHash(0, 'alice@atlanta.com')).toBe(dsHash('alice@atlanta.com')); // Call-ID: one string
    expect(pick1(ABC, 1, 'alice@atlanta.com')).toBe(['a.test', 'b.test', 'c.test'][1053853112 % 3]);
  });

  it('algorithms 5 and 7 hash their key as one string', () => {
    for (const alg of [5, 7]) expect(pick1(ABCD, alg, 'alice')).toBe(hosts(ABCD.destinations)[dsHash('alice') % 4]);
  });

  it('the same key always gives the same destination', () => {
    for (const k of callIds(50)) expect(pick1(ABCD, 0, k)).toBe(pick1(ABCD, 0, k));
  });

  it('spreads Call-IDs evenly: each of 4 destinations gets 25% ± 2 points of 20,000 calls', () => {
    const t = tally(callIds(20000).map((k) => pick1(ABCD, 0, k)!));
    for (const h of ['a.test', 'b.test', 'c.test', 'd.test']) {
      expect(t.get(h)! / 20000).toBeGreaterThan(0.23);
      expect(t.get(h)! / 20000).toBeLessThan(0.27);
    }
  });

  it('selects nothing without a key for 0-3 and 7 (Kamailio fails the selection)', () => {
    for (const alg of [0, 1, 2, 3, 7]) expect(pick1(ABCD, alg, undefined)).toBeUndefined();
  });

  it('algorithm 5 without credentials falls back to round-robin', () => {
    const rt = createSetRuntime();
    const picks = [0, 1, 2, 3, 4].map(() => select(ABCD, 5, { key: undefined }, allUp, opts(), rt)[0]!.host);
    expect(picks).toEqual(['a.test', 'b.test', 'c.test', 'd.test', 'a.test']);
  });
});

describe('hash algorithms with a destination down', () => {
  const keys = callIds(12000);
  const before = new Map(keys.map((k) => [k, pick1(ABCD, 0, k)!]));
  const ofB = keys.filter((k) => before.get(k) === 'b.test');

  it('rehash mode: calls of other destinations keep their pick', () => {
    for (const k of keys) {
      if (before.get(k) !== 'b.test') expect(pick1(ABCD, 0, k, upExcept('b.test'))).toBe(before.get(k));
    }
  });

  it("rehash mode: the dead destination's calls spread over the others (each 1/3 ± 6 points)", () => {
    const t = tally(ofB.map((k) => pick1(ABCD, 0, k, upExcept('b.test'))!));
    expect(t.has('b.test')).toBe(false);
    for (const h of ['a.test', 'c.test', 'd.test']) {
      expect(t.get(h)! / ofB.length).toBeGreaterThan(0.27);
      expect(t.get(h)! / ofB.length).toBeLessThan(0.39);
    }
  });

  it('rehash mode: two down, the survivors still split the orphans evenly and keep their own', () => {
    const usable = upExcept('b.test', 'c.test');
    const t = tally(keys.map((k) => pick1(ABCD, 0, k, usable)!));
    expect([...t.keys()].sort()).toEqual(['a.test', 'd.test']);
    expect(t.get('a.test')! / keys.length).toBeGreaterThan(0.45);
    expect(t.get('a.test')! / keys.length).toBeLessThan(0.55);
    for (const k of keys) if (['a.test', 'd.test'].includes(before.get(k)!)) expect(pick1(ABCD, 0, k, usable)).toBe(before.get(k));
  });

  it("kamailio mode: all the dead destination's calls go to its neighbour, the others keep theirs", () => {
    for (const k of keys) {
      const now = pick1(ABCD, 0, k, upExcept('b.test'), 'kamailio');
      expect(now).toBe(before.get(k) === 'b.test' ? 'c.test' : before.get(k));
    }
    // The walk wraps: the last destination's calls go to the first.
    const ofD = keys.filter((k) => before.get(k) === 'd.test');
    for (const k of ofD) expect(pick1(ABCD, 0, k, upExcept('d.test'), 'kamailio')).toBe('a.test');
  });

  it('both modes select nothing when every destination is down', () => {
    const none = upExcept('a.test', 'b.test', 'c.test', 'd.test');
    expect(pick1(ABCD, 0, keys[0], none)).toBeUndefined();
    expect(pick1(ABCD, 0, keys[0], none, 'kamailio')).toBeUndefined();
  });
});
