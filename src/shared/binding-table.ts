// Registration-based destinations: the bindings media servers REGISTER with siplb, in one
// SharedArrayBuffer (STYLE.md habit 5: every slot named here, with a test that none overlap). The
// probe worker, which answers those REGISTERs, is the only writer; dispatch workers and the main
// thread read. Slot k is destination `base + k` of the shared destination table (dest-table.ts),
// which holds its state, load and latency like any other destination's.
//
//   byte 0            64                64 + 320        ...
//        +-----------+-----------------+---------------+
//        | HEADER    | SLOT 0          | SLOT 1        | ...   320 bytes (5 cache lines) a slot
//        | MAGIC     |                 |               |
//        | SLOTS     |                 |               |
//        | GENERATION|                 |               |
//        +-----------+-----------------+---------------+
//
//   slot  0      4      8      12         16          20        24        32          80           320
//         +------+------+------+----------+-----------+---------+---------+-----------+------------+
//         | SEQ  | SET  | PORT | PRIORITY | EXPIRES   | URI_LEN | ADDR_LEN| ADDRESS   | URI        |
//         |      | (-1: |      | (q*1000) | (unix s)  |         |         | 48 bytes  | 240 bytes  |
//         |      | free)|      |          |           |         |         | text      | text       |
//         +------+------+------+----------+-----------+---------+---------+-----------+------------+
//
// Each slot is guarded by its SEQ word, a seqlock with one writer: odd while the slot is being
// written. GENERATION is bumped after every slot change (Atomics.add, after the slot's SEQ is even
// again), so a reader compares one word per selection and re-reads the slots only when it moved.

export const BINDING_MAGIC = 0x53_49_50_42; // "SIPB"
export const HEADER_BYTES = 64;
export const SLOT_BYTES = 320;

/** Int32 indexes of the header words. */
export const BHDR = Object.freeze({ MAGIC: 0, SLOTS: 1, GENERATION: 2 });

/** Byte offsets inside a slot. */
export const SLOT = Object.freeze({
  SEQ: 0,
  SET: 4,
  PORT: 8,
  PRIORITY: 12,
  EXPIRES: 16,
  URI_LEN: 20,
  ADDR_LEN: 24,
  ADDRESS: 32,
  URI: 80,
});
export const ADDRESS_BYTES = 48;
export const URI_BYTES = SLOT_BYTES - SLOT.URI;

/** A live binding as readers see it. */
export interface Binding {
  readonly slot: number;
  readonly setId: number;
  /** The Contact URI, as registered (its parameters removed). */
  readonly uri: string;
  /** IP literal calls and keepalives go to (the Contact's host). */
  readonly address: string;
  readonly port: number;
  /** Kamailio priority from the Contact's q: q * 1000. */
  readonly priority: number;
  /** Unix time (s) the binding expires. */
  readonly expires: number;
}

export function bindingTableBytes(slots: number): number {
  return HEADER_BYTES + slots * SLOT_BYTES;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
/** A reader gives up waiting on a slot whose writer died mid-write after this many tries. */
const MAX_SPINS = 100_000;

export class BindingTable {
  readonly #words: Int32Array;
  readonly #bytes: Uint8Array;
  readonly slots: number;

  constructor(readonly buffer: SharedArrayBuffer) {
    this.#words = new Int32Array(buffer);
    this.#bytes = new Uint8Array(buffer);
    if (this.#words[BHDR.MAGIC] !== BINDING_MAGIC) throw new Error('not a binding table buffer');
    this.slots = this.#words[BHDR.SLOTS]!;
  }

  static create(slots: number): SharedArrayBuffer {
    const sab = new SharedArrayBuffer(bindingTableBytes(slots));
    const words = new Int32Array(sab);
    words[BHDR.SLOTS] = slots;
    for (let k = 0; k < slots; k++) words[(HEADER_BYTES + k * SLOT_BYTES + SLOT.SET) / 4] = -1;
    words[BHDR.MAGIC] = BINDING_MAGIC;
    return sab;
  }

  /** Bumped after every change: equal generations mean equal contents. */
  get generation(): number {
    return Atomics.load(this.#words, BHDR.GENERATION);
  }

  #w(k: number, off: number): number {
    return (HEADER_BYTES + k * SLOT_BYTES + off) / 4;
  }

  /** Writes slot `k` (single writer: the probe worker). A binding of undefined frees it. */
  write(k: number, b: Omit<Binding, 'slot'> | undefined): void {
    const base = HEADER_BYTES + k * SLOT_BYTES;
    const seq = this.#w(k, SLOT.SEQ);
    Atomics.add(this.#words, seq, 1); // odd: readers retry
    if (b === undefined) {
      this.#words[this.#w(k, SLOT.SET)] = -1;
    } else {
      const uri = encoder.encode(b.uri);
      const address = encoder.encode(b.address);
      if (uri.length > URI_BYTES || address.length > ADDRESS_BYTES) throw new RangeError('binding URI or address too long for its slot');
      this.#bytes.set(uri, base + SLOT.URI);
      this.#bytes.set(address, base + SLOT.ADDRESS);
      this.#words[this.#w(k, SLOT.SET)] = b.setId;
      this.#words[this.#w(k, SLOT.PORT)] = b.port;
      this.#words[this.#w(k, SLOT.PRIORITY)] = b.priority;
      this.#words[this.#w(k, SLOT.EXPIRES)] = b.expires;
      this.#words[this.#w(k, SLOT.URI_LEN)] = uri.length;
      this.#words[this.#w(k, SLOT.ADDR_LEN)] = address.length;
    }
    Atomics.add(this.#words, seq, 1); // even: published
    Atomics.add(this.#words, BHDR.GENERATION, 1);
  }

  /** Slot `k`'s binding, or undefined when it is free. */
  read(k: number): Binding | undefined {
    const base = HEADER_BYTES + k * SLOT_BYTES;
    const seq = this.#w(k, SLOT.SEQ);
    for (let spins = 0; ; spins++) {
      const before = Atomics.load(this.#words, seq);
      if ((before & 1) === 1 && spins < MAX_SPINS) continue;
      const setId = this.#words[this.#w(k, SLOT.SET)]!;
      let b: Binding | undefined;
      if (setId >= 0) {
        const uriLen = Math.min(URI_BYTES, this.#words[this.#w(k, SLOT.URI_LEN)]!);
        const addrLen = Math.min(ADDRESS_BYTES, this.#words[this.#w(k, SLOT.ADDR_LEN)]!);
        b = {
          slot: k,
          setId,
          // decode copies: a SharedArrayBuffer view cannot be decoded in place
          uri: decoder.decode(this.#bytes.slice(base + SLOT.URI, base + SLOT.URI + uriLen)),
          address: decoder.decode(this.#bytes.slice(base + SLOT.ADDRESS, base + SLOT.ADDRESS + addrLen)),
          port: this.#words[this.#w(k, SLOT.PORT)]!,
          priority: this.#words[this.#w(k, SLOT.PRIORITY)]!,
          expires: this.#words[this.#w(k, SLOT.EXPIRES)]! >>> 0,
        };
      }
      if (Atomics.load(this.#words, seq) === before || spins >= MAX_SPINS) return b;
    }
  }

  /** Every live binding, slot order. */
  all(): Binding[] {
    const out: Binding[] = [];
    for (let k = 0; k < this.slots; k++) {
      const b = this.read(k);
      if (b) out.push(b);
    }
    return out;
  }
}
