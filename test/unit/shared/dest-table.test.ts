// The shared destination table: its slots (STYLE.md habit 5) and the state machine, transition by
// transition, against Kamailio's ds_update_state and ds_options_callback (dispatch.c).
import { describe, expect, it } from 'vitest';
import {
  DS_DISABLED as D,
  DS_INACTIVE as I,
  DS_NOPING,
  DS_PROBING as P,
  DS_TRYING as T,
  PROBE_ALL,
  PROBE_INACTIVE,
  PROBE_NONE,
  PROBE_ONLYFLAGGED,
  parseStateArg,
  probeState,
  shouldPing,
  stateLetters,
  updateState,
  type Thresholds,
} from '../../../src/shared/dest-state.js';
import {
  DestTable,
  HDR,
  HEADER_BYTES,
  LAT,
  LAT_FIELDS,
  OC,
  OC_FIELDS,
  destTableLayout,
  destTableRegions,
} from '../../../src/shared/dest-table.js';
import { CACHE_LINE, type Region } from '../../../src/shared/layout.js';

function overlaps(regions: readonly Region[]): string[] {
  const sorted = [...regions].sort((a, b) => a.start - b.start);
  const found: string[] = [];
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1]!;
    const cur = sorted[i]!;
    if (prev.start + prev.size > cur.start) found.push(`${prev.name}/${cur.name}`);
  }
  return found;
}

describe('destination table layout', () => {
  it.each([0, 1, 2, 3, 17, 300])('%i destinations: every slot named once, no overlap, inside the buffer', (n) => {
    const regions = destTableRegions(n);
    const { bytes } = destTableLayout(n);
    expect(overlaps(regions)).toEqual([]);
    expect(new Set(regions.map((r) => r.name)).size).toBe(regions.length);
    expect(regions.length).toBe(Object.keys(HDR).length + n * (3 + LAT_FIELDS + 1 + OC_FIELDS));
    expect(Object.keys(OC)).toHaveLength(OC_FIELDS);
    for (const r of regions) expect(r.start + r.size).toBeLessThanOrEqual(bytes);
    expect(DestTable.create(new Array<number>(n).fill(0)).byteLength).toBe(bytes);
  });

  it('starts each region on its own cache line, the Float64 record 8-aligned', () => {
    for (const n of [1, 15, 16, 17]) {
      const l = destTableLayout(n);
      expect(l.state).toBe(HEADER_BYTES);
      for (const start of [l.state, l.load, l.seq, l.latency, l.ocSeq, l.oc]) expect(start % CACHE_LINE).toBe(0);
      expect(l.load - l.state).toBeGreaterThanOrEqual(n * 4);
      expect(l.latency - l.seq).toBeGreaterThanOrEqual(n * 4);
      expect(l.ocSeq - l.latency).toBeGreaterThanOrEqual(n * LAT_FIELDS * 8);
      expect(l.oc - l.ocSeq).toBeGreaterThanOrEqual(n * 4);
    }
  });

  it('keeps the thresholds in the buffer, Kamailio\'s by default', () => {
    expect(new DestTable(DestTable.create([0])).thresholds).toEqual({ probing: 1, inactive: 1 });
    expect(new DestTable(DestTable.create([0], { probing: 3, inactive: 2 })).thresholds).toEqual({ probing: 3, inactive: 2 });
  });

  it('refuses a buffer that is not a table', () => {
    expect(() => new DestTable(new SharedArrayBuffer(256))).toThrow(/not a destination table/);
  });

  it('holds the initial flags, options included', () => {
    const t = new DestTable(DestTable.create([0, P, D, I | P | DS_NOPING]));
    expect(t.count).toBe(4);
    expect(t.snapshot()).toEqual([0, P, D, I | P | DS_NOPING]);
    expect([0, 1, 2, 3].map((i) => t.usable(i))).toEqual([true, true, false, false]);
  });
});

const K: Thresholds = { probing: 3, inactive: 2 };
const step = (flags: number, count: number, state: number, th = K): [string, number] => {
  const r = updateState(flags, count, state, th);
  return [stateLetters(r.flags), r.count];
};

describe('ds_update_state', () => {
  it('a mark replaces the state bits, keeping option bits', () => {
    expect(step(P, 0, I)).toEqual(['IX', 0]);
    expect(updateState(P | DS_NOPING, 0, I, K).flags).toBe(I | DS_NOPING);
    expect(step(I | P, 5, P, { probing: 1, inactive: 1 })).toEqual(['AP', 0]);
  });

  it('failures on an active destination make it trying, inactive at the probing threshold', () => {
    expect(step(P, 0, T | P)).toEqual(['TP', 1]);
    expect(step(T | P, 1, T | P)).toEqual(['TP', 2]);
    expect(step(T | P, 2, T | P)).toEqual(['IP', 0]);
  });

  it('with the default threshold of 1, one trying mark makes it inactive', () => {
    expect(step(0, 0, parseStateArg('tp')!, { probing: 1, inactive: 1 })).toEqual(['IP', 0]);
    expect(step(0, 0, parseStateArg('t')!, { probing: 1, inactive: 1 })).toEqual(['IX', 0]);
  });

  it('trying on an inactive destination keeps it inactive and restarts the count', () => {
    expect(step(I | P, 1, T | P)).toEqual(['IP', 0]);
    expect(step(I, 0, T)).toEqual(['IX', 0]);
  });

  it('an inactive destination needs the inactive threshold of successes, keeping probing meanwhile', () => {
    expect(step(I | P, 0, 0)).toEqual(['IP', 1]);
    expect(step(I | P, 1, 0)).toEqual(['AX', 0]);
    expect(step(I | P, 1, P)).toEqual(['AP', 0]);
    expect(step(I, 0, P)).toEqual(['IP', 1]); // the asked probing bit is set as well
  });

  it('a success or an explicit mark on a destination that was not inactive resets the count', () => {
    expect(step(T | P, 2, P)).toEqual(['AP', 0]);
    expect(step(T | P, 2, I | P)).toEqual(['IP', 0]);
  });

  it('disabled takes only the disabled bit; on an inactive one below the threshold it stays inactive too', () => {
    expect(step(P, 0, D | P)).toEqual(['DX', 0]);
    expect(updateState(I | P, 0, D, K)).toEqual({ flags: D | I | P, count: 1 }); // Kamailio's own quirk
    expect(updateState(I | P, 0, D, { probing: 1, inactive: 1 })).toEqual({ flags: D, count: 0 });
  });
});

describe('keepalive result (ds_options_callback)', () => {
  it.each([
    [PROBE_NONE, 0, T | P], // siplb keeps the probing bit the destination had (dest-state.ts)
    [PROBE_ALL, P, T | P],
    [PROBE_INACTIVE, 0, T | P],
    [PROBE_ONLYFLAGGED, P, T | P],
  ])('mode %i: success asks %i, failure %i', (mode, ok, fail) => {
    expect(probeState(P, true, mode)).toBe(ok);
    expect(probeState(P, false, mode)).toBe(fail);
  });

  it('never touches a disabled destination, nor in mode 3 one whose probing bit was cleared', () => {
    for (const mode of [0, 1, 2, 3]) expect(probeState(D | P, false, mode)).toBeUndefined();
    expect(probeState(0, true, PROBE_ONLYFLAGGED)).toBeUndefined();
  });

  it('mode 0: a failure keeps the probing bit the destination had, and adds none', () => {
    expect(probeState(P, false, PROBE_NONE)).toBe(T | P);
    expect(probeState(0, false, PROBE_NONE)).toBe(T);
  });
});

describe('which destinations are pinged (ds_ping_result_helper)', () => {
  it.each([
    // flags, mode 0, 1, 2, 3
    [0, false, true, false, false],
    [P, true, true, false, true],
    [I, false, true, false, false],
    [I | P, true, true, true, true],
    [T | P, true, true, false, true],
    [D | P, false, false, false, false],
    [32 | P, false, false, false, false],
    [16 | P, false, false, false, false],
  ])('flags %i: modes 0-3 ping %s %s %s %s', (flags, m0, m1, m2, m3) => {
    expect([0, 1, 2, 3].map((m) => shouldPing(flags, m))).toEqual([m0, m1, m2, m3]);
  });
});

describe('DestTable', () => {
  const table = (flags: number[], th: Thresholds = K): DestTable => new DestTable(DestTable.create(flags, th));

  it('walks a dead then recovering destination through Kamailio states (mode 1)', () => {
    const t = table([P]);
    const seen: string[] = [];
    const probe = (ok: boolean): void => {
      t.probeResult(0, ok, PROBE_ALL);
      seen.push(`${stateLetters(t.flags(0))}${t.failures(0)}/${t.successes(0)}`);
    };
    [false, false, false, false, true, false, true, true].forEach(probe);
    expect(seen).toEqual(['TP1/0', 'TP2/0', 'IP0/0', 'IP0/0', 'IP0/1', 'IP0/0', 'IP0/1', 'AP0/0']);
  });

  it('an operator-disabled destination never changes by itself', () => {
    const t = table([P]);
    t.set(0, D);
    for (let k = 0; k < 5; k++) t.probeResult(0, k % 2 === 0, PROBE_ALL);
    t.markFailed(0, I | P);
    expect(stateLetters(t.flags(0))).toBe('DX');
  });

  it('ds_mark_dst itself does replace a disable, as in Kamailio', () => {
    const t = table([D]);
    expect(t.mark(0, I | P)).toBe(I | P);
  });

  it('the failover mark goes through the thresholds', () => {
    const t = table([0]);
    expect(t.markFailed(0, T | P)).toBe(T | P);
    expect(t.failures(0)).toBe(1);
    t.markFailed(0, T | P);
    expect(t.markFailed(0, T | P)).toBe(I | P);
    expect(t.usable(0)).toBe(false);
  });

  it('set replaces the state bits without thresholds', () => {
    const t = table([I | P | DS_NOPING]);
    expect(t.set(0, parseStateArg('a')!)).toBe(DS_NOPING);
    expect(t.usable(0)).toBe(true);
  });

  it('counts active calls and never below zero', () => {
    const t = table([0, 0]);
    t.takeLoad(1);
    t.takeLoad(1);
    t.releaseLoad(1);
    t.releaseLoad(0);
    expect([t.load(0), t.load(1)]).toEqual([0, 1]);
  });

  it('keeps each destination latency record apart', () => {
    const t = table([0, 0]);
    const rec = { AVERAGE: 12.5, STDEV: 1.25, ESTIMATE: 11, M2: 1e12, MIN: 3, MAX: 40, COUNT: 9, TIMEOUTS: 2 };
    t.writeLatency(1, rec);
    expect(t.latency(1)).toEqual(rec);
    expect(Object.values(t.latency(0))).toEqual(new Array(Object.keys(LAT).length).fill(0));
  });

  it('takes load below a maxload only while there is room (0 = no limit)', () => {
    const t = table([0, 0]);
    expect([t.takeLoadBelow(0, 2), t.takeLoadBelow(0, 2), t.takeLoadBelow(0, 2)]).toEqual([true, true, false]);
    expect(t.load(0)).toBe(2);
    for (let k = 0; k < 5; k++) expect(t.takeLoadBelow(1, 0)).toBe(true);
    expect(t.load(1)).toBe(5);
  });

  it('moves USABLE_GEN on every change of usability and only then', () => {
    const t = table([P, P]);
    const g0 = t.usableGeneration;
    t.markFailed(0, T | P); // trying: still usable
    expect(t.usableGeneration).toBe(g0);
    t.markFailed(0, T | P);
    t.markFailed(0, T | P); // the third failure (threshold 3): inactive
    expect(t.usableGeneration).toBe(g0 + 1);
    t.set(1, D);
    t.set(1, D); // no change, no move
    expect(t.usableGeneration).toBe(g0 + 2);
    t.set(0, P);
    expect(t.usableGeneration).toBe(g0 + 3);
  });

  it('reads the latency estimate, average and count into a reused object, and moves LATENCY_GEN per record', () => {
    const t = table([0, 0]);
    const g0 = t.latencyGeneration;
    t.writeLatency(1, { AVERAGE: 20, STDEV: 1, ESTIMATE: 45, M2: 3, MIN: 10, MAX: 90, COUNT: 12, TIMEOUTS: 0 });
    const out = { estimate: -1, average: -1, count: -1 };
    expect(t.readLatency(1, out)).toBe(out);
    expect(out).toEqual({ estimate: 45, average: 20, count: 12 });
    expect(t.readLatency(0, out)).toEqual({ estimate: 0, average: 0, count: 0 });
    expect(t.latencyGeneration).toBe(g0 + 1);
  });

  it('keeps an overload report per destination, taken only with a higher sequence number (ds_oc_set_attrs)', () => {
    const t = table([0, 0]);
    const out = { until: -1, rate: -1, seq: -1 };
    expect(t.readOverload(1, out)).toEqual({ until: 0, rate: 0, seq: 0 });
    expect(t.setOverload(1, 30, 5000, 1)).toBe(true);
    expect(t.setOverload(1, 90, 9000, 1)).toBe(false); // ocseq >= seq: skipped
    expect(t.readOverload(1, out)).toEqual({ until: 5000, rate: 30, seq: 1 });
    expect(t.setOverload(1, 50, 7000, 4)).toBe(true);
    expect(t.readOverload(1, out)).toEqual({ until: 7000, rate: 50, seq: 4 });
    expect(t.readOverload(0, out)).toEqual({ until: 0, rate: 0, seq: 0 });
  });

  it('returns from a latency read even when a writer died mid-record', () => {
    const sab = DestTable.create([0]);
    new Int32Array(sab)[destTableLayout(1).seq / 4] = 1; // odd for good
    expect(new DestTable(sab).latency(0).COUNT).toBe(0);
  });
});
