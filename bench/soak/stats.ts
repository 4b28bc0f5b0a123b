// What the soak run (bench/soak/run.ts) computes from its samples: siplb's memory read from its
// USR2 report and /proc, the heap trend as a least-squares slope over the samples after the
// warm-up (the first minutes hold no finished transaction for its full 32 s yet, DESIGN.md), and
// the table it prints. Pure functions, tested in test/unit/bench/soak-stats.test.ts.

export interface Sample {
  /** Seconds since the load started (0: before it). */
  readonly t: number;
  /** rss_bytes of the report (process.memoryUsage.rss()). */
  readonly rssBytes: number;
  /** heap_used_bytes + workers_heap_used_bytes: the V8 heap in use of every thread. */
  readonly heapBytes: number;
  /**
   * The lowest heapBytes of the probes taken since the previous sample (one every few seconds):
   * close to the heap left after the last collection. The heap in use swings by half its size
   * between two major GCs (130-320 MB at 1,000 calls/s), so a leak shows in this floor long
   * before it shows through the swing.
   */
  readonly heapFloorBytes: number;
  readonly mainHeapBytes: number;
  readonly workersHeapBytes: number;
  readonly pendingTransactions: number;
  /** VmRSS and VmHWM from /proc/PID/status, bytes (0 when unreadable). */
  readonly vmRssBytes: number;
  readonly vmHwmBytes: number;
}

export interface ReportMemory {
  rssBytes: number;
  mainHeapBytes: number;
  workersHeapBytes: number;
  pendingTransactions: number;
}

/** The memory lines of a siplb report (`  rss_bytes N` ...); undefined when one is missing. */
export function parseReport(report: string): ReportMemory | undefined {
  const value = (name: string): number | undefined => {
    const m = new RegExp(`^\\s*${name} (\\d+)$`, 'm').exec(report);
    return m ? Number(m[1]) : undefined;
  };
  const rss = value('rss_bytes');
  const main = value('heap_used_bytes');
  const workers = value('workers_heap_used_bytes');
  if (rss === undefined || main === undefined || workers === undefined) return undefined;
  return { rssBytes: rss, mainHeapBytes: main, workersHeapBytes: workers, pendingTransactions: value('pending_transactions') ?? 0 };
}

/** VmRSS and VmHWM (kB in the file) of /proc/PID/status text, in bytes. */
export function parseProcStatus(text: string): { vmRssBytes: number; vmHwmBytes: number } {
  const kb = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0) * 1024;
  return { vmRssBytes: kb('VmRSS'), vmHwmBytes: kb('VmHWM') };
}

export interface Fit {
  /** y units per x unit. */
  readonly slope: number;
  readonly intercept: number;
  /** Standard error of the slope; NaN with fewer than 3 points. */
  readonly slopeStdErr: number;
  readonly n: number;
}

/** Ordinary least squares y = a + b x. */
export function leastSquares(points: ReadonlyArray<readonly [number, number]>): Fit {
  const n = points.length;
  if (n < 2) return { slope: NaN, intercept: NaN, slopeStdErr: NaN, n };
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  let sxx = 0;
  let sxy = 0;
  for (const [x, y] of points) {
    sxx += (x - mx) ** 2;
    sxy += (x - mx) * (y - my);
  }
  if (sxx === 0) return { slope: NaN, intercept: NaN, slopeStdErr: NaN, n };
  const slope = sxy / sxx;
  const intercept = my - slope * mx;
  const residual = points.reduce((s, [x, y]) => s + (y - intercept - slope * x) ** 2, 0);
  const slopeStdErr = n > 2 ? Math.sqrt(residual / (n - 2) / sxx) : NaN;
  return { slope, intercept, slopeStdErr, n };
}

/**
 * Below this a slope is no growth whatever the statistics say: about one byte per call at 1,000
 * calls/s (60 KB/min), a day of it under 90 MB.
 */
export const GROWTH_FLOOR_BYTES_PER_MIN = 64 * 1024;

export interface Trend {
  /** Samples the fit used: those at or after the warm-up. */
  readonly samples: number;
  readonly fromMinute: number;
  readonly bytesPerMinute: number;
  readonly stdErrBytesPerMinute: number;
  /** True when the slope is over the floor and more than two standard errors above zero. */
  readonly grows: boolean;
}

/** The trend of `pick` (bytes) over the samples taken from `fromMinute` on. */
export function trend(samples: readonly Sample[], fromMinute: number, pick: (s: Sample) => number): Trend {
  const used = samples.filter((s) => s.t >= fromMinute * 60);
  const fit = leastSquares(used.map((s) => [s.t / 60, pick(s)] as const));
  const grows = Number.isFinite(fit.slope) && fit.slope > GROWTH_FLOOR_BYTES_PER_MIN && (!Number.isFinite(fit.slopeStdErr) || fit.slope - 2 * fit.slopeStdErr > 0);
  return { samples: used.length, fromMinute, bytesPerMinute: fit.slope, stdErrBytesPerMinute: fit.slopeStdErr, grows };
}

const mb = (b: number): string => (b / 1024 / 1024).toFixed(1);

/** The samples as a table, MB. */
export function sampleTable(samples: readonly Sample[]): string {
  const head = ['t (s)', 'rss MB', 'heap MB', 'heap floor', 'main heap', 'workers heap', 'pending tx', 'VmHWM MB'];
  const rows = samples.map((s) => [
    String(Math.round(s.t)),
    mb(s.rssBytes),
    mb(s.heapBytes),
    mb(s.heapFloorBytes),
    mb(s.mainHeapBytes),
    mb(s.workersHeapBytes),
    String(s.pendingTransactions),
    mb(s.vmHwmBytes),
  ]);
  const width = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padStart(width[i]!)).join('  ');
  return [line(head), ...rows.map(line)].join('\n');
}

/** One line: the slope with its error, and the verdict. */
export function describeTrend(name: string, t: Trend): string {
  if (t.samples < 2) return `${name}: not enough samples after minute ${t.fromMinute} (${t.samples}) for a slope`;
  const kb = (x: number): string => (Number.isFinite(x) ? (x / 1024).toFixed(0) : '-');
  return `${name} slope after minute ${t.fromMinute}: ${kb(t.bytesPerMinute)} ± ${kb(2 * t.stdErrBytesPerMinute)} KiB/min (${t.samples} samples): ${t.grows ? 'GROWS' : 'does not grow'}`;
}
