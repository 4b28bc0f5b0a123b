// An HdrHistogram as a Prometheus histogram. The threads record latency into HdrHistograms (µs,
// 3 significant digits); at scrape the merged one is folded into fixed buckets in seconds, the
// base unit Prometheus asks for, so histogram_quantile() and heatmaps work on it as on any other.
// prom-client's own Histogram only takes observations one by one, so this is a metric object of
// its own that a prom-client Registry renders (registerMetric needs name, help, type and get()).
import * as hdr from 'hdr-histogram-js';

/** Bucket upper bounds, seconds: 50 µs to 5 s, where a proxy's receive-to-send time can lie. */
export const LATENCY_BUCKETS_SECONDS: readonly number[] = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

export interface PromBuckets {
  /** Cumulative: count of values <= le; the last one is +Inf and equals count. */
  buckets: Array<{ le: number; count: number }>;
  /** Sum of the values, seconds (from the histogram's mean: exact to its precision). */
  sum: number;
  count: number;
}

/**
 * Folds `h` (values in `unitSeconds`, µs by default) into cumulative buckets. A value counts in
 * every bucket whose bound is at or above the lowest value of its HDR bucket, so a value equal
 * to a bound is inside it; a value at most 0.1% above a bound may be too (HDR's precision).
 */
export function hdrToBuckets(h: hdr.Histogram, bounds: readonly number[] = LATENCY_BUCKETS_SECONDS, unitSeconds = 1e-6): PromBuckets {
  const counts = new Array<number>(bounds.length + 1).fill(0);
  if (h.totalCount > 0) {
    if (!(h instanceof hdr.JsHistogram)) throw new TypeError('hdrToBuckets reads a JS histogram (hdr-histogram-js without WebAssembly)');
    const it = h.recordedValuesIterator;
    it.reset();
    while (it.hasNext()) {
      const v = it.next();
      const seconds = h.lowestEquivalentValue(v.valueIteratedTo) * unitSeconds;
      let b = 0;
      while (b < bounds.length && seconds > bounds[b]! * (1 + 1e-9)) b++;
      counts[b]! += v.countAtValueIteratedTo;
    }
  }
  let running = 0;
  const buckets = counts.map((c, i) => ({ le: i < bounds.length ? bounds[i]! : Infinity, count: (running += c) }));
  return { buckets, sum: h.totalCount === 0 ? 0 : h.mean * h.totalCount * unitSeconds, count: h.totalCount };
}

interface MetricValue {
  metricName: string;
  labels: Record<string, string | number>;
  value: number;
}

/** A histogram family for a prom-client Registry whose values come from `read()` at each scrape. */
export class HdrPromHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly read: () => hdr.Histogram | undefined,
    private readonly bounds: readonly number[] = LATENCY_BUCKETS_SECONDS,
  ) {}

  get(): { name: string; help: string; type: string; aggregator: string; values: MetricValue[] } {
    const h = this.read();
    const values: MetricValue[] = [];
    if (h !== undefined) {
      const p = hdrToBuckets(h, this.bounds);
      for (const b of p.buckets) values.push({ metricName: `${this.name}_bucket`, labels: { le: b.le === Infinity ? '+Inf' : b.le }, value: b.count });
      values.push({ metricName: `${this.name}_sum`, labels: {}, value: p.sum });
      values.push({ metricName: `${this.name}_count`, labels: {}, value: p.count });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  reset(): void {}
}
