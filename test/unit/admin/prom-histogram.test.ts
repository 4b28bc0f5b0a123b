// HdrHistogram (µs) -> Prometheus buckets (seconds): cumulative, +Inf equal to the count, a value
// on a bound inside it, sum from the mean; and the family renders through a prom-client Registry.
import * as hdr from 'hdr-histogram-js';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { HdrPromHistogram, LATENCY_BUCKETS_SECONDS, hdrToBuckets } from '../../../src/admin/prom-histogram.js';
import { parsePromText, sampleKey } from '../../helpers/prom-text.js';

const build = (): hdr.Histogram => hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 });

describe('hdrToBuckets', () => {
  it('an empty histogram: every bucket 0, sum and count 0', () => {
    const p = hdrToBuckets(build());
    expect(p.buckets).toHaveLength(LATENCY_BUCKETS_SECONDS.length + 1);
    expect(p.buckets.every((b) => b.count === 0)).toBe(true);
    expect([p.sum, p.count]).toEqual([0, 0]);
  });

  it('counts each value in the first bucket at or above it, cumulatively', () => {
    const h = build();
    // 50 µs = 0.00005 s exactly on the first bound; 75 µs in the second; 1 ms on a bound; 7 s past the last
    for (const [us, n] of [[50, 3], [75, 2], [1000, 4], [3000, 1], [7_000_000, 1]] as const) h.recordValueWithCount(us, n);
    const p = hdrToBuckets(h);
    const at = (le: number): number => p.buckets.find((b) => b.le === le)!.count;
    expect(at(0.00005)).toBe(3);
    expect(at(0.0001)).toBe(5);
    expect(at(0.0005)).toBe(5);
    expect(at(0.001)).toBe(9);
    expect(at(0.0025)).toBe(9);
    expect(at(0.005)).toBe(10);
    expect(at(5)).toBe(10);
    expect(at(Infinity)).toBe(11);
    expect(p.count).toBe(11);
    for (let i = 1; i < p.buckets.length; i++) expect(p.buckets[i]!.count).toBeGreaterThanOrEqual(p.buckets[i - 1]!.count);
    const exact = (50 * 3 + 75 * 2 + 1000 * 4 + 3000 + 7_000_000) / 1e6;
    expect(p.sum).toBeCloseTo(exact, 2); // HDR's mean: to its 3 significant digits
  });

  it('values within HDR precision above a bound land in the bucket of their HDR bucket', () => {
    const h = build();
    h.recordValue(250_000); // 0.25 s, a bound; HDR buckets are 128 µs wide here
    h.recordValue(250_400); // 0.2504 s: above the bound by more than a bucket
    const p = hdrToBuckets(h);
    expect(p.buckets.find((b) => b.le === 0.25)!.count).toBe(1);
    expect(p.buckets.find((b) => b.le === 0.5)!.count).toBe(2);
  });

  it('custom bounds and units', () => {
    const h = build();
    h.recordValue(5); // 5 ms when the unit is 1 ms
    expect(hdrToBuckets(h, [0.001, 0.01], 1e-3).buckets).toEqual([
      { le: 0.001, count: 0 },
      { le: 0.01, count: 1 },
      { le: Infinity, count: 1 },
    ]);
  });
});

describe('HdrPromHistogram in a prom-client Registry', () => {
  it('renders _bucket, _sum and _count that a Prometheus reader accepts', async () => {
    const h = build();
    h.recordValueWithCount(200, 10);
    const registry = new Registry();
    registry.registerMetric(new HdrPromHistogram('siplb_test_seconds', 'test', () => h) as never);
    const text = await registry.metrics();
    expect(text).toContain('# TYPE siplb_test_seconds histogram');
    const p = parsePromText(text);
    expect(p.samples.get(sampleKey('siplb_test_seconds_bucket', { le: '0.0001' }))).toBe(0);
    expect(p.samples.get(sampleKey('siplb_test_seconds_bucket', { le: '0.00025' }))).toBe(10);
    expect(p.samples.get(sampleKey('siplb_test_seconds_bucket', { le: '+Inf' }))).toBe(10);
    expect(p.samples.get('siplb_test_seconds_count')).toBe(10);
    expect(p.samples.get('siplb_test_seconds_sum')).toBeCloseTo(0.002, 5);
  });

  it('no snapshot: the family is declared with no samples', async () => {
    const registry = new Registry();
    registry.registerMetric(new HdrPromHistogram('siplb_none_seconds', 'none', () => undefined) as never);
    expect(parsePromText(await registry.metrics()).samples.size).toBe(0);
  });
});
