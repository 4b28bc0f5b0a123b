// Single-producer single-consumer ring of datagram records in one SharedArrayBuffer. The main
// thread and a dispatch worker each hold a DatagramRing over the same SAB: one only writes
// (tryWrite, wakeIfSleeping), the other only reads (read, sleep). Layout: ./layout.ts.
//
// Why a ring and not postMessage: 0.2-0.4 µs per datagram against 4-8 µs (DESIGN.md, "Measured on
// this kind of machine"). bench/micro/ring.bench.ts, 600-byte datagrams, Node 20.20, 2 cores:
// write + read 0.22-0.30 µs on one thread, 0.26-0.34 µs wall (0.46-0.71 µs CPU, both threads)
// streamed to a worker; postMessage 2.6-3.4 µs wall (3.7-4.6 µs CPU). Why the sleeping flag: a relay
// that notified once per datagram each way cost 1.8x the CPU of the inline relay, so the consumer
// publishes SLEEPING before it waits and the producer notifies only when it sees the flag.
import { formatAddress, parseIPv4, parseIPv6 } from './address.js';
import { CTRL, CTRL_BYTES, MAX_CAPACITY, MIN_CAPACITY, REC, REC_HEADER_BYTES, RING_MAGIC, SKIP, recordBytes } from './layout.js';

// tsconfig's lib is ES2023 and Atomics.waitAsync is ES2024, though Node has shipped it since 16.
type WaitAsyncResult = { async: false; value: 'not-equal' | 'timed-out' } | { async: true; value: Promise<'ok' | 'timed-out'> };
const waitAsync = (Atomics as unknown as { waitAsync(this: void, ta: Int32Array, index: number, value: number): WaitAsyncResult }).waitAsync;

/** Where a datagram came from (ingress) or goes to (egress), and a word for the users. */
export interface DatagramMeta {
  address: string;
  port: number;
  family: 4 | 6;
  /** Index of the listening socket it arrived on / must leave from. */
  socket: number;
  /** A uint32 for the users of the ring (e.g. a receive timestamp); rings never read it. */
  tag: number;
}

/** Called once per record. Both arguments are reused: valid only during the call. */
export type RecordCallback = (payload: Uint8Array, meta: DatagramMeta) => void;

export class DatagramRing {
  /** A zeroed ring with a data area of `bytes` rounded up to a power of two (4 KiB - 1 GiB). */
  static create(bytes: number): SharedArrayBuffer {
    let capacity = MIN_CAPACITY;
    while (capacity < bytes && capacity < MAX_CAPACITY) capacity *= 2;
    const sab = new SharedArrayBuffer(CTRL_BYTES + capacity);
    const i32 = new Int32Array(sab, 0, CTRL_BYTES / 4);
    i32[CTRL.CAPACITY] = capacity;
    i32[CTRL.MAGIC] = RING_MAGIC;
    return sab;
  }

  readonly sab: SharedArrayBuffer;
  readonly capacity: number;
  /** Largest payload tryWrite accepts: a record of half the data area always fits in an empty ring. */
  readonly maxPayload: number;
  /** Producer side: writes refused because the address was not an IP literal of its family. */
  rejected = 0;

  private readonly i32: Int32Array;
  private readonly u8: Uint8Array;
  private readonly u16: Uint16Array;
  private readonly mask: number;
  // Side-local copies. Only the producer touches writePos/readSeen, only the consumer readPos.
  private writePos: number;
  private readSeen: number;
  private readPos: number;
  private readonly meta: DatagramMeta = { address: '', port: 0, family: 4, socket: 0, tag: 0 };

  constructor(sab: SharedArrayBuffer) {
    this.i32 = new Int32Array(sab);
    if (sab.byteLength < CTRL_BYTES + MIN_CAPACITY || this.i32[CTRL.MAGIC] !== RING_MAGIC) {
      throw new TypeError('not a DatagramRing buffer (use DatagramRing.create)');
    }
    this.sab = sab;
    this.u8 = new Uint8Array(sab);
    this.u16 = new Uint16Array(sab);
    this.capacity = this.i32[CTRL.CAPACITY] ?? 0;
    this.mask = this.capacity - 1;
    this.maxPayload = this.capacity / 2 - REC_HEADER_BYTES;
    this.writePos = Atomics.load(this.i32, CTRL.WRITE_POS) >>> 0;
    this.readPos = Atomics.load(this.i32, CTRL.READ_POS) >>> 0;
    this.readSeen = this.readPos;
  }

  /** Producer: copies one datagram in. False when full (DROPPED counts it) or the address is bad. */
  tryWrite(payload: Uint8Array, meta: DatagramMeta): boolean {
    const len = payload.length;
    if (len > this.maxPayload) return this.drop();
    const size = recordBytes(len);
    let w = this.writePos;
    const off = w & this.mask;
    const tail = this.capacity - off;
    const need = size <= tail ? size : tail + size;
    if (this.capacity - ((w - this.readSeen) >>> 0) < need) {
      // Acquire: bytes behind READ_POS have been read by the consumer, so they may be overwritten.
      // Reloaded only when the cached value says "full": one atomic load per wrap, not per record.
      this.readSeen = Atomics.load(this.i32, CTRL.READ_POS) >>> 0;
      if (this.capacity - ((w - this.readSeen) >>> 0) < need) return this.drop();
    }
    let at = CTRL_BYTES + off;
    if (size > tail) {
      this.i32[at >> 2] = SKIP | 0;
      w = (w + tail) >>> 0;
      at = CTRL_BYTES;
    }
    if (meta.family === 4 ? !parseIPv4(meta.address, this.u8, at + REC.ADDRESS) : !parseIPv6(meta.address, this.u8, at + REC.ADDRESS)) {
      this.rejected++;
      return false;
    }
    if (meta.family === 4) {
      const a = (at + REC.ADDRESS) >> 2; // IPv4 uses word 0; the formatter's cache keys on all four
      this.i32[a + 1] = 0;
      this.i32[a + 2] = 0;
      this.i32[a + 3] = 0;
    }
    this.i32[(at + REC.LENGTH) >> 2] = len;
    this.i32[(at + REC.TAG) >> 2] = meta.tag;
    this.u16[(at + REC.PORT) >> 1] = meta.port;
    this.u16[(at + REC.SOCKET) >> 1] = meta.socket;
    this.u8[at + REC.FAMILY] = meta.family;
    this.u8.set(payload, at + REC.PAYLOAD);
    this.writePos = (w + size) >>> 0;
    // Release: the plain stores above (skip marker, header, payload) happen before this store, and
    // the consumer reads WRITE_POS with Atomics.load before it reads any record byte, so a record it
    // finds below that position is complete. Atomics operations are sequentially consistent in JS.
    Atomics.store(this.i32, CTRL.WRITE_POS, this.writePos | 0);
    return true;
  }

  /**
   * Producer, once after a batch of writes: notify the consumer if it published SLEEPING. The CAS
   * (not a plain store of 0) matters: a consumer that woke for another reason and set the flag
   * again must keep it, or its next wait would never be notified.
   */
  wakeIfSleeping(): boolean {
    if (Atomics.load(this.i32, CTRL.SLEEPING) === 0) return false;
    if (Atomics.compareExchange(this.i32, CTRL.SLEEPING, 1, 0) !== 1) return false;
    Atomics.add(this.i32, CTRL.NOTIFIES, 1);
    // All waiters, not one: a waiter left behind by a terminated thread must not take the wake.
    Atomics.notify(this.i32, CTRL.SLEEPING);
    return true;
  }

  /**
   * Consumer: calls onRecord for up to `max` records in order and frees their space. Returns how
   * many. A callback that throws loses only its own record: the position is advanced before it.
   */
  read(max: number, onRecord: RecordCallback): number {
    const i32 = this.i32;
    const meta = this.meta;
    // Acquire: pairs with the producer's Atomics.store of WRITE_POS; every byte before it is written.
    const w = Atomics.load(i32, CTRL.WRITE_POS) >>> 0;
    let r = this.readPos;
    let n = 0;
    try {
      while (n < max && r !== w) {
        const off = r & this.mask;
        const at = CTRL_BYTES + off;
        const len = i32[at >> 2] ?? 0;
        if (len === (SKIP | 0)) {
          r = (r + this.capacity - off) >>> 0;
          continue;
        }
        const size = recordBytes(len);
        if (len < 0 || size > ((w - r) >>> 0)) {
          r = w; // discard what is pending rather than throw on every later read
          throw new RangeError(`corrupt ring record at ${off}: length ${len}`);
        }
        const family = this.u8[at + REC.FAMILY] === 6 ? 6 : 4;
        meta.family = family;
        meta.address = formatAddress(i32, (at + REC.ADDRESS) >> 2, family);
        meta.port = this.u16[(at + REC.PORT) >> 1] ?? 0;
        meta.socket = this.u16[(at + REC.SOCKET) >> 1] ?? 0;
        meta.tag = (i32[(at + REC.TAG) >> 2] ?? 0) >>> 0;
        r = (r + size) >>> 0;
        n++;
        // A fresh view per record: `new Uint8Array(sab, ...)` costs 49 ns here, subarray() 104 ns.
        onRecord(new Uint8Array(this.sab, at + REC.PAYLOAD, len), meta);
      }
    } finally {
      this.readPos = r;
      // Release, once per batch: the callbacks' reads of the payload views happen before this
      // store; the producer overwrites those bytes only after it loads a READ_POS past them.
      Atomics.store(i32, CTRL.READ_POS, r | 0);
    }
    return n;
  }

  /**
   * Consumer, when read() found nothing: publish SLEEPING, then look at WRITE_POS again. Returns a
   * promise that settles on the producer's notify, or null when a record arrived in between or the
   * flag was already taken back (read instead).
   *
   * Why the wait is on SLEEPING and not on WRITE_POS: the producer wakes once per batch, after the
   * batch, so its CAS may be for records this consumer has already read. That CAS can land between
   * our store of 1 and the wait; a wait on WRITE_POS (unchanged) would then sleep with the flag
   * down, no later write would notify, and the ring would fill and drop until restart (seen under
   * SIPp load with SIPLB_WORKERS=2; test/unit/shared/ring-wake.test.ts reproduces it). Waiting for
   * SLEEPING to still be 1 makes that CAS visible: waitAsync answers 'not-equal' at once.
   * The store-then-load here and the producer's store(WRITE_POS)-then-load(SLEEPING) are both
   * sequentially consistent, so either we see the new record or the producer sees the flag, CASes
   * it to 0 and notifies; a CAS before our wait registers fails the wait's compare, one after it
   * finds the waiter.
   */
  sleep(): Promise<unknown> | null {
    Atomics.store(this.i32, CTRL.SLEEPING, 1);
    const w = Atomics.load(this.i32, CTRL.WRITE_POS);
    if ((w >>> 0) === this.readPos) {
      const result = waitAsync(this.i32, CTRL.SLEEPING, 1);
      if (result.async) return result.value;
    }
    Atomics.store(this.i32, CTRL.SLEEPING, 0);
    return null;
  }

  /** Consumer, after the promise from sleep() settled. */
  awake(): void {
    Atomics.store(this.i32, CTRL.SLEEPING, 0);
  }

  /** Bytes written and not yet read, skip markers included (a snapshot from any thread). */
  get pendingBytes(): number {
    return (Atomics.load(this.i32, CTRL.WRITE_POS) - Atomics.load(this.i32, CTRL.READ_POS)) >>> 0;
  }

  /** Writes refused because the ring was full, as counted in the SAB (readable from any thread). */
  get dropped(): number {
    return Atomics.load(this.i32, CTRL.DROPPED) >>> 0;
  }

  /** The consumer's SLEEPING flag (a snapshot from any thread): 1 while it waits or is about to. */
  get sleeping(): boolean {
    return Atomics.load(this.i32, CTRL.SLEEPING) !== 0;
  }

  /** Atomics.notify calls made by the producer. */
  get notifies(): number {
    return Atomics.load(this.i32, CTRL.NOTIFIES) >>> 0;
  }

  private drop(): false {
    Atomics.add(this.i32, CTRL.DROPPED, 1);
    return false;
  }
}
