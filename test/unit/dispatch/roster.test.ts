// The roster gives each destination of the list a table entry and keeps it across reloads: the
// first list in table order, kept ids keep their slot, new ones take free slots first-freed-last,
// changed list flags are told apart, and a list larger than the table is refused.
import { describe, expect, it } from 'vitest';
import { Roster } from '../../../src/dispatch/roster.js';
import { makeDestinationRecord, type DestinationRecord } from '../../../src/dispatch/list-file.js';

function rec(setId: number, uri: string, flags = 0, priority = 0): DestinationRecord {
  const r = makeDestinationRecord({ setId: String(setId), destination: uri, flags: String(flags), priority: String(priority) }, 1);
  if (!r.ok) throw new Error(r.reason);
  return r.value;
}

function commit(roster: Roster, list: DestinationRecord[]): ReturnType<Roster['plan']> {
  const plan = roster.plan(list);
  if ('error' in plan) throw new Error(plan.error);
  roster.commit(plan);
  return plan;
}

const slotOf = (roster: Roster, uri: string): number[] => roster.records.filter((r) => r.uri === uri).map((r) => r.slot!);

describe('Roster', () => {
  it('numbers a first list in table order (set ascending, Kamailio order in the set)', () => {
    const roster = new Roster(8);
    commit(roster, [rec(2, 'sip:10.0.0.9'), rec(1, 'sip:10.0.0.1'), rec(1, 'sip:10.0.0.2', 0, 5)]);
    // set 1: priority 5 first; then set 2
    expect([slotOf(roster, 'sip:10.0.0.2'), slotOf(roster, 'sip:10.0.0.1'), slotOf(roster, 'sip:10.0.0.9')]).toEqual([[0], [1], [2]]);
  });

  it('keeps the slot of a destination in both lists, gives new ones free slots, and frees the removed ones last', () => {
    const roster = new Roster(5);
    commit(roster, [rec(1, 'sip:a'), rec(1, 'sip:b'), rec(1, 'sip:c')]);
    const [a, b, c] = [slotOf(roster, 'sip:a')[0], slotOf(roster, 'sip:b')[0], slotOf(roster, 'sip:c')[0]];
    const p = commit(roster, [rec(1, 'sip:b'), rec(1, 'sip:a'), rec(1, 'sip:d')]);
    expect(slotOf(roster, 'sip:a')).toEqual([a]);
    expect(slotOf(roster, 'sip:b')).toEqual([b]);
    if ('error' in p) throw new Error();
    expect(p.kept.sort()).toEqual([a, b].sort());
    expect(p.added).toEqual([3]); // a never-used slot before c's freed one
    expect(p.removed).toEqual([c]);
    const q = commit(roster, [rec(1, 'sip:a'), rec(1, 'sip:b'), rec(1, 'sip:d'), rec(1, 'sip:e'), rec(1, 'sip:f')]);
    if ('error' in q) throw new Error();
    expect(q.added).toEqual([4, c]); // then the freed one
  });

  it('tells a kept destination whose list flags changed from one that kept them', () => {
    const roster = new Roster(4);
    commit(roster, [rec(1, 'sip:a'), rec(1, 'sip:b')]);
    const p = roster.plan([rec(1, 'sip:a', 4), rec(1, 'sip:b')]);
    if ('error' in p) throw new Error(p.error);
    expect(p.reflagged).toEqual(slotOf(roster, 'sip:a'));
    expect(p.kept).toEqual(slotOf(roster, 'sip:b'));
  });

  it('duplicates of one URI in a set are destinations of their own, kept by position', () => {
    const roster = new Roster(4);
    commit(roster, [rec(1, 'sip:a'), rec(1, 'sip:a')]);
    const before = slotOf(roster, 'sip:a');
    commit(roster, [rec(1, 'sip:a'), rec(1, 'sip:a'), rec(1, 'sip:a')]);
    expect(slotOf(roster, 'sip:a').slice(0, 2)).toEqual(before);
  });

  it('refuses a list larger than the table, and nothing changes', () => {
    const roster = new Roster(2);
    commit(roster, [rec(1, 'sip:a')]);
    expect(roster.plan([rec(1, 'sip:a'), rec(1, 'sip:b'), rec(1, 'sip:c')])).toEqual({ error: 'the list has 3 destinations, more than SIPLB_MAX_DESTINATIONS (2)' });
    expect(roster.records.map((r) => r.uri)).toEqual(['sip:a']);
  });
});
