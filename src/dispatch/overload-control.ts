// Overload control at run time (algorithm 64): Kamailio's ds_oc_set_attrs, which a script calls
// when a destination reports overload (RFC 7339's oc parameters, say), and the dispatcher.oclist
// command. A report lives in the shared destination table (src/shared/dest-table.ts, OC), so the
// thread that takes it (the admin API, an operator's tool) and the dispatch workers that act on
// it on their next selection exchange no message. `flat` is every destination of the list
// (sets.ts flatten): its `slot` is its entry in the table.
import type { OverloadReport } from '../shared/dest-table.js';
import type { Destination } from './sets.js';

/** The slice of the shared table overload control uses. */
export interface OverloadSlots {
  setOverload(i: number, rate: number, until: number, seq: number): boolean;
  readOverload(i: number, out: OverloadReport): OverloadReport;
}

/** ds_oc_set_attrs: a validity of 0 or less means this many ms. */
export const OC_DEFAULT_VALIDITY_MS = 500;

export interface OcReport {
  /** Selections in 100 that skip the destination; clamped to its ocmin..ocmax. */
  rate: number;
  /** How long the report holds, ms; 0 or less: OC_DEFAULT_VALIDITY_MS. */
  validityMs: number;
  /** Taken only when above the destination's last one (ocseq). */
  seq: number;
}

/**
 * ds_oc_set_attrs(setid, uri, rate, validity, seq): every destination of set `setId` whose URI is
 * `uri` (compared without case, as Kamailio) takes the report unless its last one had a sequence
 * number as high. Returns how many took it: Kamailio answers 1 when any did, -2 when none.
 */
export function ocSetAttrs(slots: OverloadSlots, flat: readonly Destination[], setId: number, uri: string, r: OcReport, now: number): number {
  const until = now + (r.validityMs > 0 ? r.validityMs : OC_DEFAULT_VALIDITY_MS);
  const want = uri.toLowerCase();
  let taken = 0;
  flat.forEach((d) => {
    const i = d.slot;
    if (d.setId !== setId || d.uri.toLowerCase() !== want) return;
    const rate = Math.min(d.attrs.ocmax, Math.max(d.attrs.ocmin, Math.trunc(r.rate)));
    if (slots.setOverload(i, rate, until, r.seq)) taken++;
  });
  return taken;
}

/** One row of dispatcher.oclist. */
export interface OcRow {
  uri: string;
  ocmin: number;
  ocmax: number;
  /** The last report's rate, or the `ocrate` attr before any report. */
  ocrate: number;
  /** Date.now() the last report is valid until; 0 before any. */
  octime: number;
  ocseq: number;
  /** The report holds now: algorithm 64 skips the destination at `ocrate`. */
  active: boolean;
}

/** dispatcher.oclist: the overload-control attributes of set `setId`, in set order. */
export function ocList(slots: OverloadSlots, flat: readonly Destination[], setId: number, now: number): OcRow[] {
  const out: OcRow[] = [];
  const r: OverloadReport = { until: 0, rate: 0, seq: 0 };
  flat.forEach((d) => {
    const i = d.slot;
    if (d.setId !== setId) return;
    slots.readOverload(i, r);
    const reported = r.seq > 0;
    out.push({
      uri: d.uri,
      ocmin: d.attrs.ocmin,
      ocmax: d.attrs.ocmax,
      ocrate: reported ? r.rate : d.attrs.ocrate,
      octime: r.until,
      ocseq: r.seq,
      active: reported && r.until >= now,
    });
  });
  return out;
}
