// Keepalive round trips per destination as HDR histograms, beside Kamailio's mean and estimate
// (latency.ts): an operator asking "how slow is this media server at its worst" needs the tail,
// which a mean hides. One small histogram per destination slot, made at its first reply; a few
// samples per destination per ping interval, so recording costs nothing that matters.
import * as hdr from 'hdr-histogram-js';

/** 1 µs to 60 s at 2 significant digits: a round trip is known to 1%, in a few KiB per destination. */
function build(): hdr.Histogram {
  return hdr.build({ bitBucketSize: 'packed', lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 2 });
}

export class RttHistograms {
  readonly #bySlot = new Map<number, hdr.Histogram>();

  /** A reply to a keepalive of destination `slot` after `ms` milliseconds. */
  record(slot: number, ms: number): void {
    let h = this.#bySlot.get(slot);
    if (h === undefined) this.#bySlot.set(slot, (h = build()));
    const us = Math.round(ms * 1000);
    if (us < 60_000_000) h.recordValue(Math.max(1, us));
  }

  /** The slot got a new occupant (a registration came or went): its history is not the newcomer's. */
  forget(slot: number): void {
    this.#bySlot.delete(slot);
  }

  reset(): void {
    this.#bySlot.clear();
  }

  /** Every slot with samples, its histogram encoded (HdrHistogram compressed base64, µs). */
  encode(): Array<{ slot: number; hdr: string }> {
    return [...this.#bySlot].sort((a, b) => a[0] - b[0]).map(([slot, h]) => ({ slot, hdr: hdr.encodeIntoCompressedBase64(h) }));
  }
}
