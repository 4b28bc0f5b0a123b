import { describe, expect, it } from 'vitest';
import { dsHash, fnv1a32, hrwScore } from '../../../src/dispatch/hash.js';

// Golden values: Kamailio's ds_get_hash (src/modules/dispatcher/dispatch.c) compiled with gcc on
// x86-64 (signed char) and run on these inputs. A change in dsHash that breaks compatibility with
// Kamailio's picks fails here.
const ONE_STRING: [string, number][] = [
  ['', 1],
  ['a', 109],
  ['abc', 7167810],
  ['abcd', 1834959896],
  ['abcde', 1834960001],
  ['a84b4c76e66710@pc33.atlanta.com', 2175018094],
  ['3848276298220188511@atlanta.example.com', 3416024093],
  ['~~~~~~~~', 3817270447],
  // Bytes >= 0x80 are negative chars in C: UTF-8 input exercises the sign extension.
  ['héllo-wörld', 2820194998],
  ['€uro', 4258905066],
];

const TWO_STRINGS: [string, string, number][] = [
  ['alice', 'atlanta.com', 1053853112],
  ['bob', '[2001:db8::1]:5070', 499091971],
  ['', 'example.com:5080', 2330445957],
];

describe('dsHash (Kamailio ds_get_hash)', () => {
  it.each(ONE_STRING)('hash(%j) = %i', (s, h) => {
    expect(dsHash(s)).toBe(h);
  });

  it.each(TWO_STRINGS)('hash(%j, %j) = %i', (a, b, h) => {
    expect(dsHash(a, b)).toBe(h);
  });

  it('an empty second string hashes like none (Kamailio skips a null key2, adds 0 for an empty one)', () => {
    expect(dsHash('alice', '')).toBe(dsHash('alice'));
  });

  it('is never 0 and always an unsigned 32-bit integer', () => {
    for (let i = 0; i < 2000; i++) {
      const h = dsHash(`k${i}\u00ff${i * 7}`);
      expect(Number.isInteger(h) && h > 0 && h <= 0xffffffff).toBe(true);
    }
  });
});

describe('rendezvous scores', () => {
  it('rank destinations independently per key (no destination wins for most keys)', () => {
    const seeds = ['1:sip:a', '1:sip:b', '1:sip:c', '1:sip:d'].map(fnv1a32);
    const wins = [0, 0, 0, 0];
    for (let k = 0; k < 8000; k++) {
      const h = dsHash(`call-${k}@host`);
      const scores = seeds.map((s) => hrwScore(h, s));
      wins[scores.indexOf(Math.max(...scores))]!++;
    }
    // Each of 4 should win about 2000 of 8000; allow ±15%.
    for (const w of wins) {
      expect(w).toBeGreaterThan(1700);
      expect(w).toBeLessThan(2300);
    }
  });
});
