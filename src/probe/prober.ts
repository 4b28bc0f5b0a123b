// The probe worker's logic, free of threads and sockets so a test can drive it with a fake clock:
// which destination is pinged when, retransmissions, timeouts, matching a reply to its record,
// and what a result does to the shared table (Kamailio's ds_ping_set, ds_options_callback and
// ds_update_latency, dispatch.c).
//
// Pacing: every destination has a fixed slot in the interval (index * interval / count), so
// thousands of destinations are pinged evenly, never in one burst; the first round is squeezed
// into at most FIRST_ROUND_MS so that a destination dead at start is found within seconds. Whether
// a slot sends is decided when it comes (shouldPing on the flags of that moment).
//
// A keepalive is a non-INVITE client transaction over UDP (RFC 3261 §17.1.2): retransmitted at
// T1, doubling up to T2 (Timer E), until a final reply or the keepalive timeout (Kamailio: the
// OPTIONS transaction's fr_timer). One lost datagram therefore costs no false failure.
import { randomBytes } from 'node:crypto';
import { isAcceptedReply, type ReplyCodes } from '../config/parse.js';
import type { SipMessage } from '../parser/index.js';
import type { DestTable, LatencyStats } from '../shared/dest-table.js';
import { SIPLB_VACANT, shouldPing } from '../shared/dest-state.js';
import { CALL_ID_PREFIX, keepaliveBranch, parseKeepaliveBranch } from '../shared/keepalive-marker.js';
import { buildKeepalive, type ProbeTarget } from './keepalive.js';
import { addSample, addTimeout, emptyLatency } from './latency.js';
import { RttHistograms } from './rtt-histograms.js';

export interface ProberOptions {
  /** SIPLB_DS_PING_INTERVAL in ms; 0 = no keepalives. */
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly t1: number;
  readonly t2: number;
  readonly method: string;
  readonly probingMode: number;
  readonly replyCodes: ReplyCodes;
  readonly latencyStats: boolean;
  /** Weight of the old estimate, 0-1. */
  readonly alpha: number;
  readonly userAgent: string;
}

export interface ProberIO {
  send(bytes: Uint8Array, address: string, port: number, socket: number): void;
}

export interface ProbeCounters {
  /** Keepalives started (first sends). */
  sent: number;
  retransmits: number;
  /** Final replies matched to a pending keepalive. */
  replies: number;
  /** Replies that count as alive (2xx or SIPLB_DS_PING_REPLY_CODES). */
  ok: number;
  /** Final replies that count as a failure. */
  rejected: number;
  timeouts: number;
  /** Replies to no pending keepalive: late, duplicated, or forged. */
  unmatched: number;
  /** Datagrams that did not parse as a SIP response. */
  malformed: number;
}

/** A round spreads its pings over this at most when the proxy starts. */
const FIRST_ROUND_MS = 1000;

interface Pending {
  readonly target: ProbeTarget;
  readonly seq: number;
  readonly nonce: string;
  readonly bytes: Buffer;
  readonly sentAt: number;
  readonly deadline: number;
  nextRetransmit: number;
  interval: number;
}

function initialLatency(t: ProbeTarget): LatencyStats {
  const s = emptyLatency();
  if (t.initialLatency !== undefined) {
    // Kamailio's latency attr: a trained estimate the samples then move slowly.
    Object.assign(s, { AVERAGE: t.initialLatency, ESTIMATE: t.initialLatency, MIN: t.initialLatency, MAX: t.initialLatency, COUNT: 10_000 });
  }
  return s;
}

export class Prober {
  readonly counters: ProbeCounters = { sent: 0, retransmits: 0, replies: 0, ok: 0, rejected: 0, timeouts: 0, unmatched: 0, malformed: 0 };
  /** Round trips per destination slot, the whole distribution (siplb ctl latency). */
  readonly rtt = new RttHistograms();
  /** dispatcher.ping_active: keepalives are sent only while true. */
  active = true;
  readonly #pending = new Map<number, Pending>();
  readonly #targets: ProbeTarget[];
  readonly #pendingOf: Int32Array;
  readonly #latency: LatencyStats[];
  #seq = 0;
  #roundStart = -1;
  #roundLength = 0;
  #nextSlot = 0;
  /**
   * Table entries of this round, taken when it starts: the occupied ones only, so a table with
   * room for reloads (free entries) or empty registration slots does not dilute the pacing.
   */
  #round: number[] = [];

  constructor(
    targets: readonly ProbeTarget[],
    private readonly table: DestTable,
    private readonly opts: ProberOptions,
    private readonly io: ProberIO,
  ) {
    this.#targets = [...targets];
    this.#pendingOf = new Int32Array(targets.length);
    // a record already in the table (restored from SIPLB_STATE_FILE, or written by the probe worker
    // this one replaces) goes on from where it was
    this.#latency = targets.map((t) => {
      const held = table.latency(t.index);
      return held.COUNT > 0 || held.TIMEOUTS > 0 ? held : initialLatency(t);
    });
    if (opts.latencyStats) this.#latency.forEach((s, i) => table.writeLatency(i, s));
  }

  get targets(): readonly ProbeTarget[] {
    return this.#targets;
  }

  /**
   * A new occupant for slot `t.index` (a registration-based destination came or went): its
   * keepalive in flight is forgotten and its latency starts afresh.
   */
  setTarget(t: ProbeTarget): void {
    const seq = this.#pendingOf[t.index]!;
    if (seq !== 0) {
      this.#pending.delete(seq);
      this.#pendingOf[t.index] = 0;
    }
    this.#targets[t.index] = t;
    this.#latency[t.index] = initialLatency(t);
    this.rtt.forget(t.index);
    if (this.opts.latencyStats) this.table.writeLatency(t.index, this.#latency[t.index]!);
  }

  get pending(): number {
    return this.#pending.size;
  }

  /**
   * The destination in table entry `t.index` changed its address, socket or From but stays the
   * same destination (a reload): its latency record stays, a keepalive in flight is forgotten.
   */
  updateTarget(t: ProbeTarget): void {
    const seq = this.#pendingOf[t.index]!;
    if (seq !== 0) {
      this.#pending.delete(seq);
      this.#pendingOf[t.index] = 0;
    }
    this.#targets[t.index] = t;
  }

  #occupied(): number[] {
    return this.#targets.flatMap((t) => (this.table.flags(t.index) & SIPLB_VACANT ? [] : [t.index]));
  }

  /** Sends what is due at `now` (ms, monotonic): new keepalives, retransmissions, timeouts. */
  tick(now: number): void {
    this.#expire(now);
    if (this.opts.intervalMs <= 0 || this.#targets.length === 0) return;
    if (this.#roundStart < 0) {
      this.#roundStart = now;
      this.#roundLength = Math.min(this.opts.intervalMs, FIRST_ROUND_MS);
      this.#round = this.#occupied();
    } else if (now >= this.#roundStart + this.#roundLength) {
      const end = this.#roundStart + this.#roundLength;
      // A thread that was stalled for more than a round starts afresh instead of catching up in a burst.
      this.#roundStart = now - end > this.opts.intervalMs ? now : end;
      this.#roundLength = this.opts.intervalMs;
      this.#nextSlot = 0;
      this.#round = this.#occupied();
    }
    const n = this.#round.length;
    while (this.#nextSlot < n && now >= this.#roundStart + (this.#nextSlot * this.#roundLength) / n) {
      // by entry: an occupant replaced since the round began is the one pinged
      const t = this.#targets[this.#round[this.#nextSlot++]!]!;
      if (this.active && this.#pendingOf[t.index] === 0 && shouldPing(this.table.flags(t.index), this.opts.probingMode)) this.#start(t, now);
    }
  }

  /** When tick() next has something to do (ms, the same clock), for the caller's one timer. */
  nextDue(now: number): number {
    let due = Infinity;
    for (const p of this.#pending.values()) due = Math.min(due, p.nextRetransmit, p.deadline);
    if (this.opts.intervalMs > 0 && this.#targets.length > 0) {
      const n = this.#round.length;
      due = Math.min(
        due,
        this.#roundStart < 0 ? now : this.#nextSlot < n ? this.#roundStart + (this.#nextSlot * this.#roundLength) / n : this.#roundStart + this.#roundLength,
      );
    }
    return due;
  }

  /** A response the main thread diverted here (its Call-ID has our prefix). */
  onReply(m: SipMessage, now: number): void {
    const key = parseKeepaliveBranch(m.via?.branch ?? '');
    const p = key === undefined ? undefined : this.#pending.get(key.seq);
    if (p === undefined || key === undefined || p.target.index !== key.record || p.nonce !== key.nonce) {
      this.counters.unmatched++;
      return;
    }
    const status = m.status;
    if (status < 200) {
      p.interval = this.opts.t2; // RFC 3261 §17.1.2.2, Proceeding: retransmit at T2
      return;
    }
    this.#finish(p);
    this.counters.replies++;
    const ok = isAcceptedReply(this.opts.replyCodes, status);
    if (ok) this.counters.ok++;
    else this.counters.rejected++;
    if (status !== 408) this.rtt.record(p.target.index, now - p.sentAt);
    if (this.opts.latencyStats) {
      const s = this.#latency[p.target.index]!;
      if (status === 408) addTimeout(s); // Kamailio counts a 408 reply as a timeout, without a sample
      else addSample(s, now - p.sentAt, this.opts.alpha);
      this.table.writeLatency(p.target.index, s);
    }
    this.table.probeResult(p.target.index, ok, this.opts.probingMode);
  }

  /** Latest latency record of destination `i` as this worker keeps it. */
  latency(i: number): Readonly<LatencyStats> | undefined {
    return this.#latency[i];
  }

  #start(t: ProbeTarget, now: number): void {
    const seq = ++this.#seq;
    const nonce = randomBytes(8).toString('hex');
    const bytes = buildKeepalive(t, {
      method: this.opts.method,
      branch: keepaliveBranch(t.index, seq, nonce),
      callId: `${CALL_ID_PREFIX}${randomBytes(16).toString('hex')}`,
      fromTag: randomBytes(6).toString('hex'),
      userAgent: this.opts.userAgent,
    });
    const p: Pending = { target: t, seq, nonce, bytes, sentAt: now, deadline: now + this.opts.timeoutMs, nextRetransmit: now + this.opts.t1, interval: this.opts.t1 };
    this.#pending.set(seq, p);
    this.#pendingOf[t.index] = seq;
    this.counters.sent++;
    this.io.send(bytes, t.address, t.port, t.socket);
  }

  #expire(now: number): void {
    for (const p of this.#pending.values()) {
      if (now >= p.deadline) {
        this.#finish(p);
        this.counters.timeouts++;
        if (this.opts.latencyStats) {
          const s = this.#latency[p.target.index]!;
          addTimeout(s);
          this.table.writeLatency(p.target.index, s);
        }
        this.table.probeResult(p.target.index, false, this.opts.probingMode);
      } else if (now >= p.nextRetransmit) {
        p.interval = Math.min(p.interval * 2, this.opts.t2);
        p.nextRetransmit = now + p.interval;
        this.counters.retransmits++;
        this.io.send(p.bytes, p.target.address, p.target.port, p.target.socket);
      }
    }
  }

  #finish(p: Pending): void {
    this.#pending.delete(p.seq);
    if (this.#pendingOf[p.target.index] === p.seq) this.#pendingOf[p.target.index] = 0;
  }
}
