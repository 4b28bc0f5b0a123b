// ds_oc_set_attrs and dispatcher.oclist over a real destination table: which records take a
// report, the ocmin/ocmax clamp, the sequence rule and the validity (dispatch.c ds_oc_set_attrs).
import { describe, expect, it } from 'vitest';
import { OC_DEFAULT_VALIDITY_MS, ocList, ocSetAttrs } from '../../../src/dispatch/overload-control.js';
import { buildSets } from '../../../src/dispatch/sets.js';
import { flatten } from '../../../src/proxy/targets.js';
import { DestTable } from '../../../src/shared/dest-table.js';
import { record } from './fixtures.js';

function rig() {
  const flat = flatten(
    buildSets([
      record(1, { uri: 'sip:a.test', priority: 2, attrs: 'ocmin=10;ocmax=80;ocrate=40' }),
      record(1, { uri: 'sip:b.test', priority: 1 }),
      record(2, { uri: 'sip:a.test' }),
    ]),
  );
  return { flat, table: new DestTable(DestTable.create(flat.map(() => 0))) };
}

describe('ds_oc_set_attrs', () => {
  it('reaches the records of that set and URI only (any case), clamped to ocmin..ocmax', () => {
    const { flat, table } = rig();
    expect(ocSetAttrs(table, flat, 1, 'SIP:A.TEST', { rate: 95, validityMs: 2000, seq: 1 }, 10_000)).toBe(1);
    const rows = ocList(table, flat, 1, 10_000);
    expect(rows.map((r) => [r.uri, r.ocrate, r.octime, r.ocseq, r.active])).toEqual([
      ['sip:a.test', 80, 12_000, 1, true],
      ['sip:b.test', 0, 0, 0, false],
    ]);
    expect(ocList(table, flat, 2, 10_000)[0]!.ocseq).toBe(0);
    expect(ocSetAttrs(table, flat, 1, 'sip:a.test', { rate: 1, validityMs: 2000, seq: 2 }, 10_000)).toBe(1);
    expect(ocList(table, flat, 1, 10_000)[0]!.ocrate).toBe(10);
  });

  it('takes a report only with a higher sequence number, and none for an unknown URI (Kamailio: -2)', () => {
    const { flat, table } = rig();
    expect(ocSetAttrs(table, flat, 1, 'sip:b.test', { rate: 50, validityMs: 100, seq: 5 }, 0)).toBe(1);
    expect(ocSetAttrs(table, flat, 1, 'sip:b.test', { rate: 70, validityMs: 100, seq: 5 }, 0)).toBe(0);
    expect(ocSetAttrs(table, flat, 1, 'sip:b.test', { rate: 70, validityMs: 100, seq: 0 }, 0)).toBe(0);
    expect(ocList(table, flat, 1, 0)[1]!.ocrate).toBe(50);
    expect(ocSetAttrs(table, flat, 1, 'sip:nobody.test', { rate: 70, validityMs: 100, seq: 9 }, 0)).toBe(0);
  });

  it('holds for its validity, 500 ms when given none; oclist shows the ocrate attr before any report', () => {
    const { flat, table } = rig();
    expect(ocList(table, flat, 1, 0)[0]!.ocrate).toBe(40);
    ocSetAttrs(table, flat, 1, 'sip:a.test', { rate: 50, validityMs: 0, seq: 1 }, 1000);
    expect(ocList(table, flat, 1, 1000 + OC_DEFAULT_VALIDITY_MS)[0]!.active).toBe(true);
    expect(ocList(table, flat, 1, 1001 + OC_DEFAULT_VALIDITY_MS)[0]!.active).toBe(false);
  });
});
