// SipHash-2-4 (Aumasson and Bernstein, 2012): a keyed 64-bit hash, the MAC of what siplb writes
// into the messages it forwards and must recognise when they come back (the Record-Route token,
// the stateless Via branch, the To tag of its own answers). HMAC-SHA256 through node:crypto costs
// about 5 µs per call on this machine (an object per call and a hop into C++), far too much for
// one per forwarded request and one per response; this runs in plain JS on 32-bit halves, with
// no allocation, in well under a microsecond for the short fields SIP gives it.
//
// Fields go in as a sequence: each is prefixed with its length, so ("ab", "c") and ("a", "bc")
// differ. A UTF-16 code unit below 0xff is one byte; anything else is 0xff and its two bytes, so
// distinct strings are distinct byte sequences.

/** A SipHash-2-4 keyed by 16 bytes. Not reentrant: begin() ... digest() runs without interleaving. */
export class SipHash {
  /** k0 and k1 as (high, low) 32-bit halves. */
  readonly #k: Int32Array;
  /** The message so far: fields are gathered here, then compressed in one loop by digest(). */
  #buf = new Uint8Array(512);
  #len = 0;
  /** The last digest: high and low 32 bits. */
  hi = 0;
  lo = 0;

  constructor(key: Uint8Array) {
    if (key.length !== 16) throw new RangeError('SipHash needs a 16-byte key');
    const dv = new DataView(key.buffer, key.byteOffset, 16);
    this.#k = Int32Array.of(dv.getInt32(4, true), dv.getInt32(0, true), dv.getInt32(12, true), dv.getInt32(8, true));
  }

  begin(): this {
    this.#len = 0;
    return this;
  }

  /** One raw byte. */
  byte(b: number): void {
    if (this.#len === this.#buf.length) this.#grow(1);
    this.#buf[this.#len++] = b;
  }

  /** A string field: its length, then its code units. */
  str(s: string): this {
    const n = s.length;
    if (this.#len + 2 + 3 * n > this.#buf.length) this.#grow(2 + 3 * n);
    const buf = this.#buf;
    let p = this.#len;
    buf[p++] = n >>> 8;
    buf[p++] = n;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (c < 0xff) buf[p++] = c;
      else {
        buf[p++] = 0xff;
        buf[p++] = c >>> 8;
        buf[p++] = c;
      }
    }
    this.#len = p;
    return this;
  }

  /** A non-negative integer field below 2^32. */
  num(v: number): this {
    if (this.#len + 5 > this.#buf.length) this.#grow(5);
    const buf = this.#buf;
    const p = this.#len;
    buf[p] = 4;
    buf[p + 1] = v >>> 24;
    buf[p + 2] = v >>> 16;
    buf[p + 3] = v >>> 8;
    buf[p + 4] = v;
    this.#len = p + 5;
    return this;
  }

  /** A byte-string field: its length, then its bytes. */
  bytes(b: Uint8Array, start = 0, end = b.length): this {
    const n = end - start;
    if (this.#len + 2 + n > this.#buf.length) this.#grow(2 + n);
    this.#buf[this.#len++] = n >>> 8;
    this.#buf[this.#len++] = n;
    this.#buf.set(b.subarray(start, end), this.#len);
    this.#len += n;
    return this;
  }

  /**
   * Compresses the message; the 64-bit result is in `hi` and `lo`. Everything runs on int32 locals
   * with the SipRound written out twice: measured, module-level state (boxed numbers) or a closure
   * over the locals made a digest 3-4 times slower.
   */
  digest(): this {
    const k = this.#k;
    const buf = this.#buf;
    const len = this.#len;
    let v0h = k[0]! ^ 0x736f6d65;
    let v0l = k[1]! ^ 0x70736575;
    let v1h = k[2]! ^ 0x646f7261;
    let v1l = k[3]! ^ 0x6e646f6d;
    let v2h = k[0]! ^ 0x6c796765;
    let v2l = k[1]! ^ 0x6e657261;
    let v3h = k[2]! ^ 0x74656462;
    let v3l = k[3]! ^ 0x79746573;
    let l = 0;
    let t = 0;
    const full = len - (len % 8);
    for (let p = 0; p <= full; p += 8) {
      let ml = 0;
      let mh = 0;
      if (p < full) {
        ml = buf[p]! | (buf[p + 1]! << 8) | (buf[p + 2]! << 16) | (buf[p + 3]! << 24);
        mh = buf[p + 4]! | (buf[p + 5]! << 8) | (buf[p + 6]! << 16) | (buf[p + 7]! << 24);
      } else {
        // the last word: the remaining bytes, and the length (mod 256) in the top byte
        mh = (len & 0xff) << 24;
        for (let i = p; i < len; i++) {
          const shift = (i - p) * 8;
          if (shift < 32) ml |= buf[i]! << shift;
          else mh |= buf[i]! << (shift - 32);
        }
      }
      v3h ^= mh;
      v3l ^= ml;
      for (let r = 0; r < 2; r++) {
        // SipRound (c = 2 per word): v0 += v1; v1 <<<= 13; v1 ^= v0; v0 <<<= 32; v2 += v3; v3 <<<= 16;
        // v3 ^= v2; v0 += v3; v3 <<<= 21; v3 ^= v0; v2 += v1; v1 <<<= 17; v1 ^= v2; v2 <<<= 32
        l = (v0l + v1l) | 0;
        v0h = (v0h + v1h + (l >>> 0 < v0l >>> 0 ? 1 : 0)) | 0;
        v0l = l;
        t = v1h;
        v1h = ((v1h << 13) | (v1l >>> 19)) ^ v0h;
        v1l = ((v1l << 13) | (t >>> 19)) ^ v0l;
        t = v0h;
        v0h = v0l;
        v0l = t;
        l = (v2l + v3l) | 0;
        v2h = (v2h + v3h + (l >>> 0 < v2l >>> 0 ? 1 : 0)) | 0;
        v2l = l;
        t = v3h;
        v3h = ((v3h << 16) | (v3l >>> 16)) ^ v2h;
        v3l = ((v3l << 16) | (t >>> 16)) ^ v2l;
        l = (v0l + v3l) | 0;
        v0h = (v0h + v3h + (l >>> 0 < v0l >>> 0 ? 1 : 0)) | 0;
        v0l = l;
        t = v3h;
        v3h = ((v3h << 21) | (v3l >>> 11)) ^ v0h;
        v3l = ((v3l << 21) | (t >>> 11)) ^ v0l;
        l = (v2l + v1l) | 0;
        v2h = (v2h + v1h + (l >>> 0 < v2l >>> 0 ? 1 : 0)) | 0;
        v2l = l;
        t = v1h;
        v1h = ((v1h << 17) | (v1l >>> 15)) ^ v2h;
        v1l = ((v1l << 17) | (t >>> 15)) ^ v2l;
        t = v2h;
        v2h = v2l;
        v2l = t;
      }
      v0h ^= mh;
      v0l ^= ml;
    }
    v2l ^= 0xff;
    for (let r = 0; r < 4; r++) {
      // SipRound (d = 4 to finish), as above
      l = (v0l + v1l) | 0;
      v0h = (v0h + v1h + (l >>> 0 < v0l >>> 0 ? 1 : 0)) | 0;
      v0l = l;
      t = v1h;
      v1h = ((v1h << 13) | (v1l >>> 19)) ^ v0h;
      v1l = ((v1l << 13) | (t >>> 19)) ^ v0l;
      t = v0h;
      v0h = v0l;
      v0l = t;
      l = (v2l + v3l) | 0;
      v2h = (v2h + v3h + (l >>> 0 < v2l >>> 0 ? 1 : 0)) | 0;
      v2l = l;
      t = v3h;
      v3h = ((v3h << 16) | (v3l >>> 16)) ^ v2h;
      v3l = ((v3l << 16) | (t >>> 16)) ^ v2l;
      l = (v0l + v3l) | 0;
      v0h = (v0h + v3h + (l >>> 0 < v0l >>> 0 ? 1 : 0)) | 0;
      v0l = l;
      t = v3h;
      v3h = ((v3h << 21) | (v3l >>> 11)) ^ v0h;
      v3l = ((v3l << 21) | (t >>> 11)) ^ v0l;
      l = (v2l + v1l) | 0;
      v2h = (v2h + v1h + (l >>> 0 < v2l >>> 0 ? 1 : 0)) | 0;
      v2l = l;
      t = v1h;
      v1h = ((v1h << 17) | (v1l >>> 15)) ^ v2h;
      v1l = ((v1l << 17) | (t >>> 15)) ^ v2l;
      t = v2h;
      v2h = v2l;
      v2l = t;
    }
    this.hi = (v0h ^ v1h ^ v2h ^ v3h) >>> 0;
    this.lo = (v0l ^ v1l ^ v2l ^ v3l) >>> 0;
    return this;
  }

  /** The digest as 11 base64url characters (URI-safe, a SIP token: RFC 3261 25.1). */
  token(): string {
    return encode64(this.hi, this.lo);
  }

  #grow(need: number): void {
    const next = new Uint8Array(Math.max(this.#buf.length * 2, this.#len + need));
    next.set(this.#buf.subarray(0, this.#len));
    this.#buf = next;
  }
}

const B64URL = [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'];

/**
 * 64 bits (two 32-bit halves) as 11 base64url characters, big-endian. Measured: a table lookup per
 * 6 bits costs a fifth of two Number.toString(36) calls with padding, which were 5% of a call.
 */
export function encode64(hi: number, lo: number): string {
  const t = B64URL;
  return (
    t[hi >>> 26]! +
    t[(hi >>> 20) & 63]! +
    t[(hi >>> 14) & 63]! +
    t[(hi >>> 8) & 63]! +
    t[(hi >>> 2) & 63]! +
    t[((hi & 3) << 4) | (lo >>> 28)]! +
    t[(lo >>> 22) & 63]! +
    t[(lo >>> 16) & 63]! +
    t[(lo >>> 10) & 63]! +
    t[(lo >>> 4) & 63]! +
    t[(lo & 15) << 2]!
  );
}
