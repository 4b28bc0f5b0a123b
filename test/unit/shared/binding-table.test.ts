// The binding table's layout (STYLE.md habit 5: regions named and not overlapping) and its
// single-writer seqlock: a reader never sees half a binding, and the generation moves on each write.
import { describe, expect, it } from 'vitest';
import { ADDRESS_BYTES, BindingTable, HEADER_BYTES, SLOT, SLOT_BYTES, URI_BYTES, bindingTableBytes } from '../../../src/shared/binding-table.js';

describe('binding table layout', () => {
  it('slot fields do not overlap and fill the slot', () => {
    const fields = [
      ['SEQ', SLOT.SEQ, 4],
      ['SET', SLOT.SET, 4],
      ['PORT', SLOT.PORT, 4],
      ['PRIORITY', SLOT.PRIORITY, 4],
      ['EXPIRES', SLOT.EXPIRES, 4],
      ['URI_LEN', SLOT.URI_LEN, 4],
      ['ADDR_LEN', SLOT.ADDR_LEN, 4],
      ['ADDRESS', SLOT.ADDRESS, ADDRESS_BYTES],
      ['URI', SLOT.URI, URI_BYTES],
    ] as const;
    const sorted = [...fields].sort((a, b) => a[1] - b[1]);
    for (let i = 1; i < sorted.length; i++) expect(sorted[i]![1], sorted[i]![0]).toBeGreaterThanOrEqual(sorted[i - 1]![1] + sorted[i - 1]![2]);
    expect(SLOT.URI + URI_BYTES).toBe(SLOT_BYTES);
    expect(SLOT_BYTES % 64).toBe(0);
    expect(bindingTableBytes(3)).toBe(HEADER_BYTES + 3 * SLOT_BYTES);
  });

  it('writes, reads and frees a binding; the generation moves on every write', () => {
    const t = new BindingTable(BindingTable.create(4));
    expect(t.all()).toEqual([]);
    const g0 = t.generation;
    t.write(2, { setId: 10, uri: 'sip:ms1@10.0.0.5:5080', address: '10.0.0.5', port: 5080, priority: 700, expires: 1_900_000_000 });
    expect(t.generation).toBe(g0 + 1);
    expect(t.read(2)).toEqual({ slot: 2, setId: 10, uri: 'sip:ms1@10.0.0.5:5080', address: '10.0.0.5', port: 5080, priority: 700, expires: 1_900_000_000 });
    t.write(2, { setId: 10, uri: 'sip:[2001:db8::1]:5060', address: '2001:db8::1', port: 5060, priority: 1000, expires: 1_900_000_100 });
    expect(t.read(2)?.uri).toBe('sip:[2001:db8::1]:5060');
    t.write(2, undefined);
    expect(t.read(2)).toBeUndefined();
    expect(t.generation).toBe(g0 + 3);
  });

  it('refuses a foreign buffer and a binding too long for its slot', () => {
    expect(() => new BindingTable(new SharedArrayBuffer(1024))).toThrow(/not a binding table/);
    const t = new BindingTable(BindingTable.create(1));
    expect(() => t.write(0, { setId: 1, uri: `sip:${'a'.repeat(300)}@10.0.0.1`, address: '10.0.0.1', port: 5060, priority: 0, expires: 1 })).toThrow(RangeError);
  });
});
