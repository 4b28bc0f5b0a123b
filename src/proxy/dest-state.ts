// Destination states shared by every thread: one Int32 of Kamailio state flags per destination
// (DISPATCHER.md: 1 inactive, 2 trying, 4 disabled, 8 probing), indexed by the destination's
// position in the flat list built at load. The main thread creates the buffer; dispatch workers
// read it on every selection and write it when a failover marks a destination; the probe worker
// and the admin commands will write it too.
//
// Memory ordering: flags are whole words written with Atomics.store/compareExchange and read with
// Atomics.load, so a reader sees either the old or the new state of a destination, never a torn
// one. Nothing else is published through this buffer, so no further ordering is needed.

const INACTIVE = 1;
const TRYING = 2;
const DISABLED = 4;
const PROBING = 8;

export class DestinationStates {
  readonly #flags: Int32Array;

  constructor(readonly buffer: SharedArrayBuffer) {
    this.#flags = new Int32Array(buffer);
  }

  /** A buffer for `count` destinations holding their initial flags (from the list file). */
  static create(initial: readonly number[]): SharedArrayBuffer {
    const sab = new SharedArrayBuffer(Math.max(1, initial.length) * 4);
    const flags = new Int32Array(sab);
    initial.forEach((f, i) => (flags[i] = f));
    return sab;
  }

  get count(): number {
    return this.#flags.length;
  }

  /** Every destination's flags now, in table order (e.g. for a private copy). */
  snapshot(): number[] {
    return Array.from({ length: this.count }, (_, i) => this.flags(i));
  }

  flags(i: number): number {
    return Atomics.load(this.#flags, i);
  }

  /** Selectable: neither inactive nor disabled (trying still takes traffic). */
  usable(i: number): boolean {
    return (Atomics.load(this.#flags, i) & (INACTIVE | DISABLED)) === 0;
  }

  /**
   * Applies a Kamailio ds_mark_dst state: 'a' active, 'i' inactive, 't' trying, 'd' disabled, with
   * an optional 'p' (probing). An operator-disabled destination is only changed by 'a' or 'd'.
   */
  mark(i: number, state: string): void {
    for (;;) {
      const old = Atomics.load(this.#flags, i);
      let next = old & ~(INACTIVE | TRYING | DISABLED);
      const s = state.toLowerCase();
      if (s.includes('i')) next |= INACTIVE;
      else if (s.includes('t')) next |= TRYING;
      else if (s.includes('d')) next |= DISABLED;
      if (s.includes('p')) next |= PROBING;
      if ((old & DISABLED) !== 0 && !s.includes('a') && !s.includes('d')) return;
      if (Atomics.compareExchange(this.#flags, i, old, next) === old) return;
    }
  }
}
