// Kamailio's keepalive latency statistics (latency_stats_update): Welford mean and deviation,
// min/max, the mean as estimate for the first samples, then the EWMA.
import { describe, expect, it } from 'vitest';
import { addSample, addTimeout, emptyLatency } from '../../../src/probe/latency.js';

describe('latency statistics', () => {
  it('mean, sample standard deviation, min and max by Welford', () => {
    const s = emptyLatency();
    for (const ms of [10, 20, 30, 40]) addSample(s, ms, 0.9);
    expect(s).toMatchObject({ COUNT: 4, AVERAGE: 25, MIN: 10, MAX: 40, ESTIMATE: 25, TIMEOUTS: 0 });
    expect(s.STDEV).toBeCloseTo(Math.sqrt(500 / 3), 10); // squares of (-15,-5,5,15) over n-1
  });

  it('the estimate follows the mean for 9 samples, then moves by alpha', () => {
    const s = emptyLatency();
    for (let i = 0; i < 9; i++) addSample(s, i % 2 === 0 ? 10 : 12, 0.9);
    expect(s.COUNT).toBe(9);
    expect(s.ESTIMATE).toBeCloseTo(s.AVERAGE, 12);
    const before = s.ESTIMATE;
    addSample(s, 100, 0.9);
    expect(s.ESTIMATE).toBeCloseTo(before * 0.9 + 100 * 0.1, 10);
  });

  it('a steady destination is declared trained: the count jumps to 10,000 (Kamailio)', () => {
    const s = emptyLatency();
    for (let i = 0; i < 11; i++) addSample(s, 5, 0.9);
    expect(s.COUNT).toBe(10_000);
    expect(s.AVERAGE).toBe(5);
  });

  it('a timeout is counted and is no sample', () => {
    const s = emptyLatency();
    addSample(s, 7, 0.9);
    addTimeout(s);
    addTimeout(s);
    expect(s).toMatchObject({ COUNT: 1, AVERAGE: 7, TIMEOUTS: 2 });
  });
});
