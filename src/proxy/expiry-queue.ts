// Finished transactions in the order they finished, with the time each expires. They all live the
// same 64*T1, so that order is expiry order: the clock tick removes from the old end, and a held
// transaction costs one slot of two arrays here instead of a timer handle (and the boxed number
// of its due time) of its own. A ring that doubles when full; never shrinks below what it held.

export class ExpiryQueue<T> {
  #items: (T | undefined)[];
  #expires: Float64Array;
  #head = 0;
  #size = 0;

  constructor(capacity = 1024) {
    this.#items = new Array<T | undefined>(capacity).fill(undefined);
    this.#expires = new Float64Array(capacity);
  }

  get size(): number {
    return this.#size;
  }

  /** Adds `item`, expiring at `at` (not before the last one added: the caller's clock is monotonic). */
  push(item: T, at: number): void {
    if (this.#size === this.#items.length) this.#grow();
    const i = (this.#head + this.#size) % this.#items.length;
    this.#items[i] = item;
    this.#expires[i] = at;
    this.#size++;
  }

  /** Removes every item expired by `now`, oldest first, handing each to `onExpire`. */
  expire(now: number, onExpire: (item: T) => void): void {
    const n = this.#items.length;
    while (this.#size > 0 && this.#expires[this.#head]! <= now) {
      const item = this.#items[this.#head]!;
      this.#items[this.#head] = undefined;
      this.#head = (this.#head + 1) % n;
      this.#size--;
      onExpire(item);
    }
  }

  #grow(): void {
    const n = this.#items.length;
    const items = new Array<T | undefined>(n * 2).fill(undefined);
    const expires = new Float64Array(n * 2);
    for (let k = 0; k < this.#size; k++) {
      items[k] = this.#items[(this.#head + k) % n];
      expires[k] = this.#expires[(this.#head + k) % n]!;
    }
    this.#items = items;
    this.#expires = expires;
    this.#head = 0;
  }
}
