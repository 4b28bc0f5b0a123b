// The soak run's arithmetic (bench/soak/stats.ts): the least-squares slope, the report and /proc
// parsing it samples from, and when a heap trend counts as growth.
import { describe, expect, it } from 'vitest';
import { describeTrend, GROWTH_FLOOR_BYTES_PER_MIN, leastSquares, parseProcStatus, parseReport, type Sample, sampleTable, trend } from '../../../bench/soak/stats.js';

const sample = (t: number, heapBytes: number): Sample => ({ t, rssBytes: 2 * heapBytes, heapBytes, heapFloorBytes: heapBytes, mainHeapBytes: heapBytes, workersHeapBytes: 0, pendingTransactions: 0, vmRssBytes: 0, vmHwmBytes: 0 });

describe('soak statistics', () => {
  it('fits an exact line exactly, with zero error', () => {
    const fit = leastSquares([0, 1, 2, 3, 4].map((x) => [x, 5 + 3 * x] as const));
    expect(fit.slope).toBeCloseTo(3, 12);
    expect(fit.intercept).toBeCloseTo(5, 12);
    expect(fit.slopeStdErr).toBeCloseTo(0, 12);
  });

  it('gives the textbook slope and standard error on noisy points', () => {
    // y = 1, 3, 2, 5, 4 at x = 1..5: b = 0.8, a = 0.6, residuals sum of squares 3.6, se = sqrt(3.6/3/10)
    const fit = leastSquares([[1, 1], [2, 3], [3, 2], [4, 5], [5, 4]]);
    expect(fit.slope).toBeCloseTo(0.8, 12);
    expect(fit.intercept).toBeCloseTo(0.6, 12);
    expect(fit.slopeStdErr).toBeCloseTo(Math.sqrt(0.12), 12);
    expect(leastSquares([[1, 1]]).slope).toBeNaN();
  });

  it('reads the memory lines of a siplb report and of /proc/PID/status', () => {
    const report = 'siplb counters:\n  rx_requests 5\n  pending_transactions 7\n  rss_bytes 104857600\n  heap_used_bytes 20971520\n  workers_heap_used_bytes 10485760\nlatency (µs, receive to send): count=0\n';
    expect(parseReport(report)).toEqual({ rssBytes: 104_857_600, mainHeapBytes: 20_971_520, workersHeapBytes: 10_485_760, pendingTransactions: 7 });
    expect(parseReport('siplb counters:\n  rss_bytes 1\n')).toBeUndefined();
    expect(parseProcStatus('Name:\tnode\nVmHWM:\t  120000 kB\nVmRSS:\t  100000 kB\n')).toEqual({ vmRssBytes: 102_400_000, vmHwmBytes: 122_880_000 });
  });

  it('uses only the samples after the warm-up, and calls growth only above the floor and the noise', () => {
    const flat = [0, 30, 60, 90, 120, 150, 180, 210, 240].map((t, i) => sample(t, 50e6 + (i % 2 === 0 ? 1e6 : -1e6)));
    const rising = [0, 30, 60, 90, 120, 150, 180, 210, 240].map((t) => sample(t, 50e6 + (t / 60) * 4e6));
    // a big start-up step inside the warm-up must not count
    const stepThenFlat = [sample(0, 10e6), sample(30, 30e6), ...flat.slice(2)];
    expect(trend(flat, 2, (s) => s.heapBytes)).toMatchObject({ samples: 5, grows: false });
    expect(trend(rising, 2, (s) => s.heapBytes).bytesPerMinute).toBeCloseTo(4e6, 3);
    expect(trend(rising, 2, (s) => s.heapBytes).grows).toBe(true);
    expect(trend(stepThenFlat, 1, (s) => s.heapBytes).grows).toBe(false);
    const slow = [120, 150, 180, 210, 240].map((t) => sample(t, 50e6 + (t / 60) * (GROWTH_FLOOR_BYTES_PER_MIN / 2)));
    expect(trend(slow, 2, (s) => s.heapBytes).grows).toBe(false);
    expect(describeTrend('heap', trend(rising, 2, (s) => s.heapBytes))).toMatch(/^heap slope after minute 2: 3906 ± 0 KiB\/min \(5 samples\): GROWS$/);
    expect(describeTrend('heap', trend(rising, 9, (s) => s.heapBytes))).toMatch(/not enough samples/);
    expect(sampleTable(flat.slice(0, 1)).split('\n')[1]).toMatch(/^\s+0\s+97\.3\s+48\.6\s+48\.6/);
  });
});
