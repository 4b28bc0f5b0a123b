// Load shedding (issue 4): past its limit the proxy refuses part of the new work with 503 so the
// work it accepted still completes, instead of letting every call slow down until the callers
// retransmit and the retransmissions finish it off.
//
// The signal is queueing delay: how long a datagram waits before the proxy gets to it. The main
// thread measures its sockets' queues with probes sent to themselves (transport/udp.ts
// startQueueProbe); a dispatch worker adds the wait in its ingress ring (arrival stamp to
// handling). Utilization would be the wrong signal: a loop can be busy all the time while keeping
// up (short runs at the limit complete cleanly on a deep socket buffer); a growing queue cannot.
// Only new out-of-dialog requests are refused: in-dialog requests and responses finish calls
// already paid for, and a refused INVITE costs a parse and one datagram instead of thirteen.
//
// The controller runs once per window (100 ms) from the core's clock tick:
//   delay >= threshold       refuse a larger share of new requests: +10 points per multiple of
//                            the threshold the delay has reached (at most +30), up to 95%;
//                            starting only in the second window in a row over the threshold
//   delay <  threshold / 2   refuse a smaller share (-5 points; -10 under a quarter of it)
//   in between               hold
// Up fast and down slower, so a steady overload settles instead of oscillating; down fast enough
// that 50% shedding is gone one second after the queue empties. Up in proportion, because the
// queue must never reach the socket buffer's end (drops: the calls fail anyway, and lost
// datagrams come back as retransmissions) nor SIP's T1 (500 ms: every caller retransmits).
//
// A retransmission of a refused request is refused again without a new draw (ShedMemory): a
// caller that got 503 for its INVITE must not find a call set up by the copy it sent meanwhile.

import { ownString } from '../shared/own-string.js';

export const OVERLOAD_WINDOW_MS = 100;
const STEP_UP = 0.1;
const STEP_DOWN = 0.05;
const MAX_SHED = 0.95;

/** Queueing delay in ms now (the worst the thread's inputs see). */
export type DelaySample = () => number;

export class OverloadGuard {
  /** Share of new requests refused now (0-0.95). */
  shed = 0;
  /** The last delay sample, ms. */
  delayMs = 0;
  #next = 0;
  #overWindows = 0;

  /**
   * @param thresholdMs queueing delay from which to shed; 0 turns shedding off.
   * @param sample      the delay signal, sampled once per window.
   * @param random      [0,1) per admission decision (a test passes its own).
   */
  constructor(
    readonly thresholdMs: number,
    private readonly sample: DelaySample,
    private readonly random: () => number = Math.random,
  ) {}

  /** Called on every clock tick; re-evaluates once per window. */
  update(nowMs: number): void {
    if (this.thresholdMs === 0 || nowMs < this.#next) return;
    this.#next = nowMs + OVERLOAD_WINDOW_MS;
    const d = this.sample();
    this.delayMs = d;
    const over = d >= this.thresholdMs;
    this.#overWindows = over ? this.#overWindows + 1 : 0;
    // The first refusal waits for a second window over: one stall of the host or of a garbage
    // collection (up to 100-200 ms on this VM) is not an overload, and refusing calls for it is
    // worse than the wait. A real overload keeps the queue over for window after window.
    if (over && (this.shed > 0 || this.#overWindows >= 2)) {
      this.shed = Math.min(MAX_SHED, round2(this.shed + STEP_UP * Math.min(3, Math.floor(d / this.thresholdMs))));
    } else if (d < this.thresholdMs / 2 && this.shed > 0) {
      // an empty queue means the share is too high now: give back twice as fast
      this.shed = Math.max(0, round2(this.shed - (d < this.thresholdMs / 4 ? 2 * STEP_DOWN : STEP_DOWN)));
    }
  }

  /** Whether to take a new out-of-dialog request (false: answer it 503). */
  admit(): boolean {
    return this.shed === 0 || this.random() >= this.shed;
  }
}

const round2 = (x: number): number => Math.round(x * 100) / 100;

/**
 * The requests refused lately, by Call-ID and CSeq, for as long as their retransmissions can come
 * (64*T1). Bounded: past `max` entries the oldest go first (a Map keeps insertion order).
 */
export class ShedMemory {
  readonly #until = new Map<string, number>();
  constructor(
    private readonly ttlMs: number,
    private readonly max = 100_000,
  ) {}

  get size(): number {
    return this.#until.size;
  }

  remember(key: string, nowMs: number): void {
    if (this.#until.size >= this.max) {
      for (const k of this.#until.keys()) {
        this.#until.delete(k);
        if (this.#until.size < this.max * 0.9) break;
      }
    }
    this.#until.set(ownString(key), nowMs + this.ttlMs); // not a slice of the request's text
  }

  has(key: string, nowMs: number): boolean {
    const until = this.#until.get(key);
    if (until === undefined) return false;
    if (until >= nowMs) return true;
    this.#until.delete(key);
    return false;
  }

  /** Drops expired entries from the oldest end; called from the clock tick. */
  expire(nowMs: number): void {
    for (const [k, until] of this.#until) {
      if (until >= nowMs) break;
      this.#until.delete(k);
    }
  }
}

/**
 * A worker's wait in its ingress ring: the longest arrival-to-handling time seen since the last
 * sample (ms). `seen` is called per datagram with the lag in µs.
 */
export class LagWindow {
  #maxMicros = 0;
  seen(lagMicros: number): void {
    if (lagMicros > this.#maxMicros) this.#maxMicros = lagMicros;
  }
  /** The window's worst lag in ms; starts the next window. */
  take(): number {
    const ms = this.#maxMicros / 1000;
    this.#maxMicros = 0;
    return ms;
  }
}

/** A delay in ms that one thread publishes and others read: one Int32 of µs in a SharedArrayBuffer. */
export class SharedDelay {
  static create(): SharedArrayBuffer {
    return new SharedArrayBuffer(4);
  }

  readonly #i32: Int32Array;
  constructor(readonly buffer: SharedArrayBuffer) {
    this.#i32 = new Int32Array(buffer);
  }

  set(ms: number): void {
    Atomics.store(this.#i32, 0, Math.min(2 ** 31 - 1, Math.round(ms * 1000)));
  }

  get(): number {
    return Atomics.load(this.#i32, 0) / 1000;
  }
}
