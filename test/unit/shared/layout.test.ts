// STYLE.md habit 5: the ring's slots are named in one file, and this keeps them from overlapping.
import { describe, expect, it } from 'vitest';
import {
  CACHE_LINE,
  CTRL,
  CTRL_BYTES,
  CTRL_REGIONS,
  CTRL_WRITER,
  MIN_CAPACITY,
  REC,
  REC_ALIGN,
  REC_HEADER_BYTES,
  RECORD_REGIONS,
  type Region,
  recordBytes,
} from '../../../src/shared/layout.js';

function overlaps(regions: readonly Region[]): string[] {
  const sorted = [...regions].sort((a, b) => a.start - b.start);
  const found: string[] = [];
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1];
    const cur = sorted[i];
    if (prev !== undefined && cur !== undefined && prev.start + prev.size > cur.start) found.push(`${prev.name}/${cur.name}`);
  }
  return found;
}

describe('ring control block', () => {
  it('names every CTRL slot once, without overlap, inside CTRL_BYTES', () => {
    expect(CTRL_REGIONS.map((r) => r.name).sort()).toEqual(Object.keys(CTRL).sort());
    expect(overlaps(CTRL_REGIONS)).toEqual([]);
    for (const r of CTRL_REGIONS) expect(r.start + r.size).toBeLessThanOrEqual(CTRL_BYTES);
  });

  it('keeps producer, consumer and shared words on different cache lines', () => {
    const line = (name: keyof typeof CTRL): number => Math.floor((CTRL[name] * 4) / CACHE_LINE);
    const linesOf = (writer: string): Set<number> =>
      new Set((Object.keys(CTRL) as Array<keyof typeof CTRL>).filter((k) => CTRL_WRITER[k] === writer).map(line));
    const groups = ['create', 'producer', 'consumer', 'both'].map(linesOf);
    for (let a = 0; a < groups.length; a++) {
      for (let b = a + 1; b < groups.length; b++) {
        for (const l of groups[a] ?? []) expect(groups[b]?.has(l)).toBe(false);
      }
    }
  });

  it('starts the data area 8-byte aligned', () => {
    expect(CTRL_BYTES % REC_ALIGN).toBe(0);
    expect(CTRL_BYTES % CACHE_LINE).toBe(0);
    expect(MIN_CAPACITY % REC_ALIGN).toBe(0);
  });
});

describe('ring record header', () => {
  it('has no overlapping fields, all before the payload', () => {
    expect(overlaps(RECORD_REGIONS)).toEqual([]);
    for (const r of RECORD_REGIONS) expect(r.start + r.size).toBeLessThanOrEqual(REC.PAYLOAD);
    expect(RECORD_REGIONS.map((r) => r.name).sort()).toEqual(Object.keys(REC).filter((k) => k !== 'PAYLOAD').sort());
  });

  it('aligns every field for its typed-array view', () => {
    for (const r of RECORD_REGIONS) expect(r.start % Math.min(r.size, 4)).toBe(0);
    expect(REC_HEADER_BYTES % REC_ALIGN).toBe(0);
  });

  it('rounds records up to the alignment', () => {
    expect(recordBytes(0)).toBe(REC_HEADER_BYTES);
    expect(recordBytes(1)).toBe(REC_HEADER_BYTES + 8);
    expect(recordBytes(8)).toBe(REC_HEADER_BYTES + 8);
    for (let n = 0; n < 100; n++) expect(recordBytes(n) % REC_ALIGN).toBe(0);
  });
});
