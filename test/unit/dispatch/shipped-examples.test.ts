// The examples the shipped dispatcher.list carries as comments, uncommented: every line loads
// with load mode 1 (no bad line), and each set does what its comment says with its algorithm.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createSetRuntime, select } from '../../../src/dispatch/algorithms.js';
import { parseDispatcherList } from '../../../src/dispatch/list-file.js';
import { buildSets, type Destination } from '../../../src/dispatch/sets.js';
import { isUsable } from '../../../src/shared/dest-state.js';
import { fakeState } from './fixtures.js';

const file = join(import.meta.dirname, '..', '..', '..', 'dispatcher.list');
const text = readFileSync(file, 'utf8')
  .split('\n')
  .map((l) => (/^# [0-9]+ sip:/.test(l) ? l.slice(2) : l))
  .join('\n');

describe('the shipped dispatcher.list with its examples uncommented', () => {
  const parsed = parseDispatcherList(text, { file, loadMode: 1 });
  const sets = buildSets(parsed.destinations);

  it('loads every line, with no warning', () => {
    expect(parsed.destinations).toHaveLength(10);
    expect(parsed.warnings).toEqual([]);
    expect([...sets.keys()]).toEqual([1, 2, 3, 4, 5]);
  });

  const pick = (setId: number, alg: number, n: number, load?: Map<string, number>): string[] => {
    const set = sets.get(setId)!;
    const { reader } = fakeState(load ? { load } : {});
    const rt = createSetRuntime();
    const usable = (d: Destination): boolean => isUsable(d.flags);
    return Array.from({ length: n }, (_, i) => {
      const d = select(set, alg, { key: `call-${i}`, invite: true }, usable, { limit: 0, hashMode: 'rehash', useDefault: false, failover: true, reader }, rt)[0];
      return d?.attrs.duid ?? d?.host ?? 'none';
    });
  };

  it('set 1, algorithm 9: the two demo media servers 50/50', () => {
    const picks = pick(1, 9, 100);
    expect(picks.filter((p) => p === 'ms1')).toHaveLength(50);
  });

  it('set 2, algorithm 8: the primary first, the backup only after it', () => {
    expect(new Set(pick(2, 8, 10))).toEqual(new Set(['primary']));
    const list = select(sets.get(2)!, 8, { key: 'x' }, () => true, { limit: 0, hashMode: 'rehash', useDefault: false, failover: true }, createSetRuntime());
    expect(list.map((d) => d.attrs.duid)).toEqual(['primary', 'backup']);
  });

  it('set 3, algorithm 10: the least loaded below its maxload; none when both are full', () => {
    expect(pick(3, 10, 1, new Map([['10.0.2.10', 5], ['10.0.2.11', 2]]))).toEqual(['fs2']);
    expect(pick(3, 10, 1, new Map([['10.0.2.10', 150], ['10.0.2.11', 100]]))).toEqual(['fs1']); // fs2 is at its maxload of 100
    const full = select(sets.get(3)!, 10, { key: 'x', invite: true }, () => true, { limit: 0, hashMode: 'rehash', useDefault: false, failover: true, reader: fakeState({ load: new Map([['10.0.2.10', 200], ['10.0.2.11', 100]]) }).reader }, createSetRuntime());
    expect(full).toEqual([]);
  });

  it('set 4, algorithm 11: the trunks 70/30 by rweight', () => {
    const picks = pick(4, 11, 100);
    expect(picks.filter((p) => p === 'trunk-a.example.com')).toHaveLength(70);
  });

  it('set 5: the disabled destination (flag 4) is never chosen', () => {
    for (const alg of [0, 4, 8, 9, 10, 11, 13, 14, 15, 64]) expect(new Set(pick(5, alg, 20)), `algorithm ${alg}`).toEqual(new Set(['v6a']));
  });
});
