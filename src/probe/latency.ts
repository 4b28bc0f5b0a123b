// Keepalive round-trip statistics, as Kamailio's dispatcher keeps them (latency_stats_update in
// dispatch.c): Welford's online mean and standard deviation, min, max, and an exponentially
// weighted estimate that algorithms 11 (cc=1) and 13 read. Pure: the probe worker applies it to a
// copy of the record and writes the copy back to the shared table (dest-table.ts writeLatency).
import type { LatencyStats } from '../shared/dest-table.js';

/** After this many samples the mean becomes a weighted one (Kamailio: ~24 days at 1 s). */
const COUNT_CAP = 2_097_152;
/** Kamailio jumps the count here once the deviation is tiny, so the estimator stops training. */
const TRAINING_COUNT = 10_000;
/** Below this many samples the estimate is the mean, not yet the EWMA. */
const EWMA_FROM = 10;

export function emptyLatency(initialEstimate = 0): LatencyStats {
  return { AVERAGE: 0, STDEV: 0, ESTIMATE: initialEstimate, M2: 0, MIN: 0, MAX: 0, COUNT: 0, TIMEOUTS: 0 };
}

/** One measured round trip of `ms` milliseconds; `alpha` is the weight of the old estimate, 0-1. */
export function addSample(s: LatencyStats, ms: number, alpha: number): void {
  if (s.COUNT < COUNT_CAP) s.COUNT++;
  else s.M2 -= s.M2 / s.COUNT; // keep the sum of squares in proportion to a count that stopped
  if (s.COUNT === 1) {
    s.STDEV = 0;
    s.M2 = 0;
    s.MIN = s.MAX = s.AVERAGE = s.ESTIMATE = ms;
  }
  if (s.COUNT > EWMA_FROM && s.COUNT < TRAINING_COUNT && s.STDEV < 0.5) s.COUNT = TRAINING_COUNT;
  if (ms < s.MIN) s.MIN = ms;
  if (ms > s.MAX) s.MAX = ms;
  if (s.COUNT > 1) {
    const delta = ms - s.AVERAGE;
    s.AVERAGE += delta / s.COUNT;
    s.M2 += delta * (ms - s.AVERAGE);
    s.STDEV = Math.sqrt(s.M2 / (s.COUNT - 1));
  }
  s.ESTIMATE = s.COUNT < EWMA_FROM ? s.AVERAGE : s.ESTIMATE * alpha + ms * (1 - alpha);
}

/** A keepalive that got no reply (Kamailio counts a 408 the same way). */
export function addTimeout(s: LatencyStats): void {
  if (s.TIMEOUTS < 0xffff_ffff) s.TIMEOUTS++;
}
