// One coarse clock for every transaction timer (RFC 3261 17.1.1.2 Timer A/B, 17.1.2.2 E/F, 17.2.1
// G/H, and siplb's final-response timers) instead of a setTimeout each: a call sets up to four
// timers and most are cancelled long before they fire, so insert and cancel must be O(1) and
// allocation-light (undici's fast timers make the same trade). Resolution is one tick (10 ms);
// SIP timers are 500 ms and up, so the rounding is harmless.

export interface TimerHandle {
  /** Absolute due time in ms (clock of the wheel). */
  due: number;
  /** Slot index while scheduled, -1 when fired or cancelled. */
  slot: number;
  fire: () => void;
}

export class TimerWheel {
  readonly #tick: number;
  readonly #slots: Set<TimerHandle>[];
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
    this.#slots = Array.from({ length: slots }, () => new Set<TimerHandle>());
  }

  get size(): number {
    return this.#size;
  }

  /** Schedules `fire` after `delay` ms. */
  set(delay: number, fire: () => void): TimerHandle {
    const base = this.#clock === undefined ? this.#now : Math.max(this.#now, this.#clock());
    const h: TimerHandle = { due: base + Math.max(delay, 0), slot: -1, fire };
    this.#insert(h);
    return h;
  }

  /** Cancels a pending timer; a fired or cancelled one is ignored. */
  clear(h: TimerHandle | undefined): void {
    if (!h || h.slot < 0) return;
    this.#slots[h.slot]!.delete(h);
    h.slot = -1;
    this.#size--;
  }

  /** Advances the clock to `now`, firing every timer due by then, in slot order. */
  advance(now: number): void {
    const ticks = Math.floor((now - this.#now) / this.#tick);
    const n = this.#slots.length;
    for (let i = 0; i < ticks; i++) {
      this.#now += this.#tick;
      this.#cursor = (this.#cursor + 1) % n;
      const slot = this.#slots[this.#cursor]!;
      if (slot.size === 0) continue;
      for (const h of [...slot]) {
        if (h.due > this.#now) continue; // wrapped around: a later lap
        slot.delete(h);
        h.slot = -1;
        this.#size--;
        h.fire();
      }
    }
  }

  #insert(h: TimerHandle): void {
    const n = this.#slots.length;
    const ticks = Math.max(1, Math.ceil((h.due - this.#now) / this.#tick));
    // A timer further than one lap away sits in its slot until the lap that makes it due.
    h.slot = (this.#cursor + ticks) % n;
    this.#slots[h.slot]!.add(h);
    this.#size++;
  }
}
