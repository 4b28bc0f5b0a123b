// The shared destination table: every slot of its SharedArrayBuffer, in one place (STYLE.md habit
// 5), and the only code that reads or writes them. One entry per destination, indexed by the
// destination's position in the flat list built at load (src/proxy/targets.ts flatten). The main
// thread creates the buffer and hands it to every worker; the state transitions themselves are
// the pure functions of src/shared/dest-state.ts.
//
//   byte 0        64            L             Q             F
//        +-------------+-------------+-------------+-------------+--------------------+
//        | HEADER      | STATE       | LOAD        | LAT_SEQ     | LATENCY            |
//        | MAGIC COUNT | Int32/dest: | Int32/dest: | Int32/dest: | 8 Float64/dest:    |
//        | PROBING_ and| flags and   | active      | seqlock of  | AVERAGE STDEV      |
//        | INACTIVE_   | probing_    | calls       | LATENCY     | ESTIMATE M2 MIN    |
//        | THRESHOLD,  | count       |             |             | MAX COUNT TIMEOUTS |
//        | USABLE_GEN  |             |             |             |                    |
//        | LATENCY_GEN |             |             |             |                    |
//        +-------------+-------------+-------------+-------------+--------------------+
//          create();     any thread,   any worker,   probe worker  probe worker
//          GENs: add     CAS           add and CAS   (one writer)  (one writer)
//
//   byte O             C                  C + 24*count
//        +-------------+------------------+
//        | OC_SEQ      | OC               |
//        | Int32/dest: | 3 Float64/dest:  |
//        | seqlock of  | UNTIL RATE SEQ   |
//        | OC          |                  |
//        +-------------+------------------+
//          any thread:   the thread holding
//          CAS to odd    the OC_SEQ word
//
// Each region starts on a 64-byte line (L, Q, F, O and C are rounded up), so the words dispatch
// workers read on every selection (STATE) do not share a line with the ones they add to per call
// (LOAD) or with the latency the probe worker writes every keepalive.
//
// USABLE_GEN and LATENCY_GEN let a dispatch worker keep something it derived from the table (the
// relative-weight table of algorithm 11) until it is stale, without reading every destination per
// call: USABLE_GEN moves after every change that makes a destination selectable or not,
// LATENCY_GEN after every latency record published. Both are bumped after the change itself, so a
// reader that loads the generation first and then the states never keeps a result built from
// states older than the generation it saw (a change it missed bumps the generation once more).
//
// STATE word: bits 0-7 the destination's flags (DS_*), bits 8-30 Kamailio's probing_count. They
// share one word so that one compareExchange moves both: a failover mark from a dispatch worker
// and a keepalive result from the probe worker may race, and ds_update_state reads and writes both.
// The count means consecutive failures while the destination is not inactive and consecutive
// successes while it is (failures() and successes() read it that way).
//
// LATENCY is Float64 (milliseconds, as Kamailio keeps them) because M2, Welford's sum of squares,
// outgrows any scaled Int32; Float64 accesses are not tear-free, so each record has a seqlock
// word (LAT_SEQ; src/shared/seqlock.ts says how it orders the plain accesses).
//
// OC is Kamailio's ocdata (ds_oc_set_attrs, algorithm 64): the skip rate an overload report set,
// its sequence number and the wall-clock time (Date.now(), comparable across threads) it is valid
// until, under its own seqlock word (OC_SEQ). Its writers are rare (an operator, the admin API)
// and may be on any thread: the seqlock's compareExchange keeps two of them apart.
import {
  applyState,
  DS_DISABLED,
  DS_FLAGS_MASK,
  DS_INACTIVE,
  KAMAILIO_THRESHOLDS,
  isUsable,
  probeState,
  updateState,
  type Thresholds,
} from './dest-state.js';
import { CACHE_LINE, type Region } from './layout.js';
import { beginWrite, endWrite, readRecord } from './seqlock.js';

/** Int32 indexes of the header words. */
export const HDR = Object.freeze({
  /** DEST_TABLE_MAGIC, written by create(): a table given a foreign SAB fails loudly. */
  MAGIC: 0,
  /** Number of destinations. */
  COUNT: 1,
  /** ds_probing_threshold: in the buffer, so every thread's transitions use the same one. */
  PROBING_THRESHOLD: 2,
  /** ds_inactive_threshold. */
  INACTIVE_THRESHOLD: 3,
  /** Bumped after every change that makes a destination selectable or not. */
  USABLE_GEN: 4,
  /** Bumped after every latency record published. */
  LATENCY_GEN: 5,
});
export const DEST_TABLE_MAGIC = 0x53_49_50_44; // "SIPD"
export const HEADER_BYTES = CACHE_LINE;

/** Float64 index of each field inside a destination's LATENCY record (ds_latency_stats_t). */
export const LAT = Object.freeze({
  /** Mean keepalive round trip, ms. */
  AVERAGE: 0,
  /** Standard deviation of the round trip, ms. */
  STDEV: 1,
  /** EWMA estimate (ds_latency_estimator_alpha), ms. */
  ESTIMATE: 2,
  /** Welford's running sum of squared deviations, behind STDEV. */
  M2: 3,
  MIN: 4,
  MAX: 5,
  /** Replies measured. */
  COUNT: 6,
  /** Keepalives that timed out. */
  TIMEOUTS: 7,
});
export const LAT_FIELDS = 8;
export const LAT_RECORD_BYTES = LAT_FIELDS * 8;

/** Float64 index of each field inside a destination's OC record (Kamailio's ds_ocdata_t). */
export const OC = Object.freeze({
  /** Date.now() until which the report holds (octime); 0 = never reported. */
  UNTIL: 0,
  /** Selections in 100 that skip the destination while the report holds (ocrate, clamped). */
  RATE: 1,
  /** The report's sequence number (ocseq): a report is taken only with a higher one. */
  SEQ: 2,
});
export const OC_FIELDS = 3;
export const OC_RECORD_BYTES = OC_FIELDS * 8;

/** Bit position and ceiling of probing_count inside a STATE word. */
export const COUNT_SHIFT = 8;
export const COUNT_MAX = 0x7f_ffff;

/** Who writes each region (and the header), for readers of the layout. */
export const WRITER = Object.freeze({
  HEADER: 'create',
  STATE: 'any thread, compareExchange',
  LOAD: 'dispatch workers, Atomics.add and compareExchange',
  LAT_SEQ: 'probe worker (single writer)',
  LATENCY: 'probe worker (single writer)',
  OC_SEQ: 'any thread, compareExchange to odd',
  OC: 'the thread holding OC_SEQ odd',
});

const line = (bytes: number): number => Math.ceil(bytes / CACHE_LINE) * CACHE_LINE;

/** Byte offsets of the regions for `count` destinations, and the buffer size. */
export function destTableLayout(count: number): { state: number; load: number; seq: number; latency: number; ocSeq: number; oc: number; bytes: number } {
  const state = HEADER_BYTES;
  const load = state + line(count * 4);
  const seq = load + line(count * 4);
  const latency = seq + line(count * 4);
  const ocSeq = latency + line(count * LAT_RECORD_BYTES);
  const oc = ocSeq + line(count * 4);
  return { state, load, seq, latency, ocSeq, oc, bytes: oc + count * OC_RECORD_BYTES };
}

/** Every slot of a table of `count` destinations, for the overlap test and for printing the layout. */
export function destTableRegions(count: number): Region[] {
  const l = destTableLayout(count);
  const regions: Region[] = (Object.keys(HDR) as Array<keyof typeof HDR>).map((name) => ({ name, start: HDR[name] * 4, size: 4 }));
  for (let i = 0; i < count; i++) {
    regions.push({ name: `STATE[${i}]`, start: l.state + i * 4, size: 4 });
    regions.push({ name: `LOAD[${i}]`, start: l.load + i * 4, size: 4 });
    regions.push({ name: `LAT_SEQ[${i}]`, start: l.seq + i * 4, size: 4 });
    for (const [f, k] of Object.entries(LAT)) regions.push({ name: `LATENCY[${i}].${f}`, start: l.latency + i * LAT_RECORD_BYTES + k * 8, size: 8 });
    regions.push({ name: `OC_SEQ[${i}]`, start: l.ocSeq + i * 4, size: 4 });
    for (const [f, k] of Object.entries(OC)) regions.push({ name: `OC[${i}].${f}`, start: l.oc + i * OC_RECORD_BYTES + k * 8, size: 8 });
  }
  return regions;
}

export type LatencyStats = { -readonly [K in keyof typeof LAT]: number };

/** What selection reads of a latency record, filled in place (no allocation per read). */
export interface LatencySample {
  estimate: number;
  average: number;
  /** Replies measured; 0 = never measured. */
  count: number;
}

/** An overload report as read, filled in place. */
export interface OverloadReport {
  until: number;
  rate: number;
  seq: number;
}

export class DestTable {
  readonly #words: Int32Array;
  readonly #state: number;
  readonly #load: number;
  readonly #seq: number;
  readonly #lat: Float64Array;
  readonly #ocSeq: number;
  readonly #oc: Float64Array;
  /** A consistent copy of the record being read: one per table object, so reads allocate nothing. */
  readonly #copy = new Float64Array(Math.max(LAT_FIELDS, OC_FIELDS));
  readonly count: number;

  constructor(readonly buffer: SharedArrayBuffer) {
    this.#words = new Int32Array(buffer);
    if (this.#words[HDR.MAGIC] !== DEST_TABLE_MAGIC) throw new Error('not a destination table buffer');
    this.count = this.#words[HDR.COUNT]!;
    const l = destTableLayout(this.count);
    this.#state = l.state / 4;
    this.#load = l.load / 4;
    this.#seq = l.seq / 4;
    this.#lat = new Float64Array(buffer, l.latency, this.count * LAT_FIELDS);
    this.#ocSeq = l.ocSeq / 4;
    this.#oc = new Float64Array(buffer, l.oc, this.count * OC_FIELDS);
  }

  /** A table for `initial.length` destinations holding their flags from the list. */
  static create(initial: readonly number[], thresholds: Thresholds = KAMAILIO_THRESHOLDS): SharedArrayBuffer {
    const sab = new SharedArrayBuffer(destTableLayout(initial.length).bytes);
    const words = new Int32Array(sab);
    const state = destTableLayout(initial.length).state / 4;
    initial.forEach((f, i) => (words[state + i] = f & DS_FLAGS_MASK));
    words[HDR.COUNT] = initial.length;
    words[HDR.PROBING_THRESHOLD] = thresholds.probing;
    words[HDR.INACTIVE_THRESHOLD] = thresholds.inactive;
    words[HDR.MAGIC] = DEST_TABLE_MAGIC;
    return sab;
  }

  /** The thresholds every thread's marks and keepalive results use. */
  get thresholds(): Thresholds {
    return { probing: Atomics.load(this.#words, HDR.PROBING_THRESHOLD), inactive: Atomics.load(this.#words, HDR.INACTIVE_THRESHOLD) };
  }

  flags(i: number): number {
    return Atomics.load(this.#words, this.#state + i) & DS_FLAGS_MASK;
  }

  /** Selectable: neither inactive nor disabled (trying still takes traffic). */
  usable(i: number): boolean {
    return isUsable(Atomics.load(this.#words, this.#state + i));
  }

  /** Every destination's flags now, in table order (e.g. for a private copy). */
  snapshot(): number[] {
    return Array.from({ length: this.count }, (_, i) => this.flags(i));
  }

  /** Consecutive failures counted towards the probing threshold (0 while inactive). */
  failures(i: number): number {
    const w = Atomics.load(this.#words, this.#state + i);
    return w & DS_INACTIVE ? 0 : w >>> COUNT_SHIFT;
  }

  /** Consecutive successes of an inactive destination towards the inactive threshold. */
  successes(i: number): number {
    const w = Atomics.load(this.#words, this.#state + i);
    return w & DS_INACTIVE ? w >>> COUNT_SHIFT : 0;
  }

  /** ds_mark_dst: ds_update_state with parsed state bits (dest-state.ts parseStateArg). Returns the new flags. */
  mark(i: number, state: number): number {
    return this.#update(i, () => state);
  }

  /**
   * The failover mark (SIPLB_MARK_FAILED): ds_mark_dst, except that a destination an operator
   * disabled while the call was in flight stays disabled. Kamailio's ds_mark_dst would overwrite
   * the disable; DISPATCHER.md says a disabled destination never changes by itself.
   */
  markFailed(i: number, state: number): number {
    return this.#update(i, (flags) => (flags & DS_DISABLED ? undefined : state));
  }

  /** A keepalive result (ds_options_callback): ok = a 2xx or an accepted code. Returns the new flags. */
  probeResult(i: number, ok: boolean, probingMode: number): number {
    return this.#update(i, (flags) => probeState(flags, ok, probingMode));
  }

  /** dispatcher.set_state (ds_reinit_state): replaces the state bits, no thresholds, count kept. */
  set(i: number, state: number): number {
    return this.#cas(i, (w) => applyState(w, state));
  }

  /**
   * A new occupant for slot `i` (a registration-based destination, registrar.ts): every flag bit
   * replaced, the counter and the active calls zeroed. Only for slots nothing else marks: a
   * vacant slot is disabled, so no failover or keepalive writes to it meanwhile.
   */
  reset(i: number, flags: number): number {
    Atomics.store(this.#words, this.#load + i, 0);
    return this.#cas(i, () => flags & DS_FLAGS_MASK);
  }

  /**
   * A free entry taken by a destination new to the list (a reload, dispatcher.add): nothing of its
   * last occupant stays (active calls, latency, overload report), and it starts from its list
   * flags. Only the main thread calls it, on an entry no thread selects or probes yet.
   */
  occupy(i: number, flags: number): number {
    const latSeq = this.#seq + i;
    const heldLat = beginWrite(this.#words, latSeq);
    this.#lat.fill(0, i * LAT_FIELDS, (i + 1) * LAT_FIELDS);
    endWrite(this.#words, latSeq, heldLat);
    const ocSeq = this.#ocSeq + i;
    const heldOc = beginWrite(this.#words, ocSeq);
    this.#oc.fill(0, i * OC_FIELDS, (i + 1) * OC_FIELDS);
    endWrite(this.#words, ocSeq, heldOc);
    return this.reset(i, flags);
  }

  /**
   * A destination kept by a reload whose line now gives other flags (an operator edited them):
   * it takes them, with a probing count of 0; its calls and latency stay.
   */
  setListFlags(i: number, flags: number): number {
    return this.#cas(i, () => flags & DS_FLAGS_MASK);
  }

  #update(i: number, ask: (flags: number) => number | undefined): number {
    return this.#cas(i, (w) => {
      const state = ask(w & DS_FLAGS_MASK);
      if (state === undefined) return w;
      const next = updateState(w & DS_FLAGS_MASK, w >>> COUNT_SHIFT, state, this.thresholds);
      return next.flags | (Math.min(next.count, COUNT_MAX) << COUNT_SHIFT);
    });
  }

  /** Retries until no other thread changed the word between the read and the write. */
  #cas(i: number, step: (word: number) => number): number {
    const at = this.#state + i;
    for (;;) {
      const old = Atomics.load(this.#words, at);
      const next = step(old);
      if (next === old) return next & DS_FLAGS_MASK;
      if (Atomics.compareExchange(this.#words, at, old, next) === old) {
        if (isUsable(old) !== isUsable(next)) Atomics.add(this.#words, HDR.USABLE_GEN, 1); // after the change: see the header comment
        return next & DS_FLAGS_MASK;
      }
    }
  }

  /** Moves whenever a destination becomes selectable or stops being so. */
  get usableGeneration(): number {
    return Atomics.load(this.#words, HDR.USABLE_GEN);
  }

  /** Moves whenever a latency record is published. */
  get latencyGeneration(): number {
    return Atomics.load(this.#words, HDR.LATENCY_GEN);
  }

  /** Active calls on destination `i`, summed over every worker. */
  load(i: number): number {
    return Atomics.load(this.#words, this.#load + i);
  }

  /** One more active call (taken on the INVITE). */
  takeLoad(i: number): void {
    Atomics.add(this.#words, this.#load + i, 1);
  }

  /**
   * One more active call unless destination `i` already has `max` (0 = no limit): the check and
   * the add are one compareExchange, so workers racing for the last slot below a maxload cannot
   * both take it. False when full.
   */
  takeLoadBelow(i: number, max: number): boolean {
    const at = this.#load + i;
    for (;;) {
      const old = Atomics.load(this.#words, at);
      if (max > 0 && old >= max) return false;
      if (Atomics.compareExchange(this.#words, at, old, old + 1) === old) return true;
    }
  }

  /** One call fewer; never below zero (Kamailio's DS_LOAD_DEC), so a stray release is harmless. */
  releaseLoad(i: number): void {
    const at = this.#load + i;
    for (;;) {
      const old = Atomics.load(this.#words, at);
      if (old <= 0 || Atomics.compareExchange(this.#words, at, old, old - 1) === old) return;
    }
  }

  /** A consistent copy of destination `i`'s latency record (allocates: for reports, not selection). */
  latency(i: number): LatencyStats {
    const copy = readRecord(this.#words, this.#seq + i, this.#lat, i * LAT_FIELDS, LAT_FIELDS, this.#copy);
    const out = {} as LatencyStats;
    for (const [f, k] of Object.entries(LAT)) out[f as keyof LatencyStats] = copy[k]!;
    return out;
  }

  /** What selection needs of destination `i`'s latency record, into `out`, allocating nothing. */
  readLatency(i: number, out: LatencySample): LatencySample {
    const copy = readRecord(this.#words, this.#seq + i, this.#lat, i * LAT_FIELDS, LAT_FIELDS, this.#copy);
    out.estimate = copy[LAT.ESTIMATE]!;
    out.average = copy[LAT.AVERAGE]!;
    out.count = copy[LAT.COUNT]!;
    return out;
  }

  /** Replaces destination `i`'s latency record. Single writer only (the probe worker). */
  writeLatency(i: number, stats: Readonly<LatencyStats>): void {
    const seq = this.#seq + i;
    const base = i * LAT_FIELDS;
    const held = beginWrite(this.#words, seq);
    for (const [f, k] of Object.entries(LAT)) this.#lat[base + k] = stats[f as keyof LatencyStats];
    endWrite(this.#words, seq, held);
    Atomics.add(this.#words, HDR.LATENCY_GEN, 1);
  }

  /**
   * Kamailio's ds_oc_set_attrs for destination `i`: from now until `until` (Date.now() ms), `rate`
   * selections in 100 skip it. Taken only when `seq` is above the last report's (ocseq), as
   * Kamailio does; the caller clamps the rate to the destination's ocmin..ocmax
   * (src/dispatch/overload-control.ts). True when taken.
   */
  setOverload(i: number, rate: number, until: number, seq: number): boolean {
    const at = this.#ocSeq + i;
    const held = beginWrite(this.#words, at);
    const base = i * OC_FIELDS;
    const taken = seq > this.#oc[base + OC.SEQ]!;
    if (taken) {
      this.#oc[base + OC.UNTIL] = until;
      this.#oc[base + OC.RATE] = rate;
      this.#oc[base + OC.SEQ] = seq;
    }
    endWrite(this.#words, at, held);
    return taken;
  }

  /** Destination `i`'s last overload report, into `out`; all 0 when it never had one. */
  readOverload(i: number, out: OverloadReport): OverloadReport {
    const copy = readRecord(this.#words, this.#ocSeq + i, this.#oc, i * OC_FIELDS, OC_FIELDS, this.#copy);
    out.until = copy[OC.UNTIL]!;
    out.rate = copy[OC.RATE]!;
    out.seq = copy[OC.SEQ]!;
    return out;
  }
}
