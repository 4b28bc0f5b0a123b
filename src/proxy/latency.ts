// Receive-to-send latency, per thread, in an HDR histogram (hdr-histogram-js). Each thread records
// into its own histogram (no locks); the main thread merges them on `kill -USR2` and at shutdown
// and prints the percentile distribution in HDR's text format.
//
// Clock: microseconds since the epoch from performance.timeOrigin + performance.now(), the same
// on every thread, truncated to 32 bits where it rides in a ring record's tag (wraps every 71
// minutes; differences taken modulo 2^32 stay right for anything shorter).
import * as hdr from 'hdr-histogram-js';

import { nowMicros } from '../shared/clock.js';

export { nowMicros, tagOf } from '../shared/clock.js';

export class Latency {
  readonly #h: hdr.Histogram;

  constructor() {
    // 1 µs to 60 s at 3 significant digits
    this.#h = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 });
  }

  /** Records the time from a datagram's arrival (`origin`, µs or its 32-bit tag) to now. */
  record(origin: number, now = nowMicros()): void {
    if (origin === 0) return;
    const d = origin > 0xffffffff ? now - origin : ((now >>> 0) - origin) >>> 0;
    if (d < 60_000_000) this.#h.recordValue(Math.max(1, d));
  }

  get count(): number {
    return this.#h.totalCount;
  }

  /** Compressed form for crossing threads (postMessage of a string). */
  encode(): string {
    return hdr.encodeIntoCompressedBase64(this.#h);
  }

  reset(): void {
    this.#h.reset();
  }

  /** Merges encoded histograms from other threads into a fresh one. */
  static merge(encoded: readonly string[], local?: Latency | readonly Latency[]): hdr.Histogram {
    const out = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 });
    const locals: readonly Latency[] = local === undefined ? [] : local instanceof Latency ? [local] : local;
    for (const l of locals) out.add(l.#h);
    for (const e of encoded) out.add(hdr.decodeFromCompressedBase64(e));
    return out;
  }

  /** A merged histogram in HdrHistogram's compressed base64 form (what `latency_hdr` prints). */
  static encodeHistogram(h: hdr.Histogram): string {
    return hdr.encodeIntoCompressedBase64(h);
  }

  static report(h: hdr.Histogram): string {
    return (
      `latency (µs, receive to send): count=${h.totalCount} p50=${h.getValueAtPercentile(50)} ` +
      `p99=${h.getValueAtPercentile(99)} p99.9=${h.getValueAtPercentile(99.9)} max=${h.maxValue}\n` +
      h.outputPercentileDistribution(5, 1)
    );
  }
}

/**
 * Latency distributions as the admin API reads them, each an encoded HdrHistogram (µs):
 * receive-to-send per thread that handles SIP ('main' for the inline core of SIPLB_WORKERS=0),
 * and keepalive round trip per destination table slot that has had a reply.
 */
export interface LatencySnapshot {
  threads: Array<{ worker: number | 'main'; hdr: string }>;
  rtt: Array<{ slot: number; hdr: string }>;
}
