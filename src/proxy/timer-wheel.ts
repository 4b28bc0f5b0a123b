// One coarse clock for every transaction timer (RFC 3261 17.1.1.2 Timer A/B, 17.1.2.2 E/F, 17.2.1
// G/H, and siplb's final-response timers) instead of a setTimeout each: a call sets up to four
// timers and most are cancelled long before they fire, so insert and cancel must be O(1) and
// allocation-free (undici's fast timers make the same trade). Resolution is one tick (10 ms);
// SIP timers are 500 ms and up, so the rounding is harmless.
//
// Each slot is an intrusive doubly linked list of handles: no Set, no array per tick. A handle
// carries its callback and one argument, so a transaction keeps its few handles for its whole life
// and re-arms them (arm), and the callbacks are shared functions, not a closure per timer. A
// steady-state heap snapshot at 2,000 calls/s had a closure, a context, a handle and a Set entry per
// held transaction before this (about 200 bytes each).

export interface TimerHandle {
  /** Absolute due time in ms (clock of the wheel). */
  due: number;
  /** Slot index while scheduled, FIRING while its slot is being fired, -1 when idle. */
  slot: number;
  prev: TimerHandle | null;
  next: TimerHandle | null;
  fire: (arg: never) => void;
  arg: unknown;
}

/** The slot value of a handle in the list being fired by advance(). */
const FIRING = -2;

export class TimerWheel {
  readonly #tick: number;
  readonly #heads: (TimerHandle | null)[];
  /** The handles of the slot advance() is firing: taken out first, so callbacks may set and clear freely. */
  #firing: TimerHandle | null = null;
  #now: number;
  #cursor = 0;
  #size = 0;
  readonly #clock: (() => number) | undefined;

  /**
   * `slots * tick` should exceed the longest common timer; longer ones wrap and are re-checked.
   * `clock`: the wheel's time source. With it, a timer set between ticks is due `delay` after the
   * clock's now, not after the last tick: a thread that stalled (a long task, the start-up
   * warm-up) before its next tick would otherwise fire every timer set meanwhile early by the stall.
   */
  constructor(now: number, tick = 10, slots = 4096, clock?: () => number) {
    this.#tick = tick;
    this.#now = now;
    this.#clock = clock;
    this.#heads = new Array<TimerHandle | null>(slots).fill(null);
  }

  get size(): number {
    return this.#size;
  }

  /** A new idle handle that calls `fire(arg)`; schedule it with arm(). */
  handle<A>(fire: (arg: A) => void, arg: A): TimerHandle {
    return { due: 0, slot: -1, prev: null, next: null, fire, arg };
  }

  /** Schedules `fire` after `delay` ms: a new handle (prefer handle() and arm() on hot paths). */
  set(delay: number, fire: () => void): TimerHandle {
    const h = this.handle(fire, undefined);
    this.arm(h, delay);
    return h;
  }

  /** (Re)schedules `h` to fire `delay` ms from now; a pending schedule is replaced. */
  arm(h: TimerHandle, delay: number): void {
    if (h.slot !== -1) this.clear(h);
    const base = this.#clock === undefined ? this.#now : Math.max(this.#now, this.#clock());
    h.due = base + Math.max(delay, 0);
    this.#insert(h);
  }

  /** Cancels a pending timer; an idle one (fired, cancelled, never armed) is ignored. */
  clear(h: TimerHandle | undefined): void {
    if (!h || h.slot === -1) return;
    if (h.prev !== null) h.prev.next = h.next;
    else if (h.slot === FIRING) this.#firing = h.next;
    else this.#heads[h.slot] = h.next;
    if (h.next !== null) h.next.prev = h.prev;
    h.prev = h.next = null;
    h.slot = -1;
    this.#size--;
  }

  /** Advances the clock to `now`, firing every timer due by then, slot by slot. */
  advance(now: number): void {
    const ticks = Math.floor((now - this.#now) / this.#tick);
    const n = this.#heads.length;
    for (let i = 0; i < ticks; i++) {
      this.#now += this.#tick;
      this.#cursor = (this.#cursor + 1) % n;
      let h: TimerHandle | null = this.#heads[this.#cursor]!;
      if (h === null) continue;
      // take the slot's list out; a callback that clears one of them unlinks it from here
      this.#heads[this.#cursor] = null;
      this.#firing = h;
      for (let x: TimerHandle | null = h; x !== null; x = x.next) x.slot = FIRING;
      while ((h = this.#firing) !== null) {
        this.#firing = h.next;
        if (h.next !== null) h.next.prev = null;
        h.next = null;
        h.slot = -1;
        this.#size--;
        if (h.due > this.#now) this.#insert(h); // wrapped around: a later lap
        else h.fire(h.arg as never);
      }
    }
  }

  #insert(h: TimerHandle): void {
    const n = this.#heads.length;
    const ticks = Math.max(1, Math.ceil((h.due - this.#now) / this.#tick));
    // A timer further than one lap away sits in its slot until the lap that makes it due.
    const slot = (this.#cursor + ticks) % n;
    const head = this.#heads[slot]!;
    h.slot = slot;
    h.prev = null;
    h.next = head;
    if (head !== null) head.prev = h;
    this.#heads[slot] = h;
    this.#size++;
  }
}
