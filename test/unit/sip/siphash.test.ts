// SipHash-2-4 against the reference vectors (key 00..0f, message 00..n-1) and against a BigInt
// transcription of the reference code on random inputs; and the field framing.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SipHash, encode64 } from '../../../src/sip/siphash.js';

const KEY = Uint8Array.from({ length: 16 }, (_, i) => i);
const M64 = (1n << 64n) - 1n;
const rotl = (x: bigint, b: bigint): bigint => ((x << b) | (x >> (64n - b))) & M64;

/** SipHash-2-4 as the paper writes it, in BigInt: slow, obviously right. */
function reference(key: Uint8Array, msg: Uint8Array): bigint {
  const le = (b: Uint8Array, o: number): bigint => {
    let v = 0n;
    for (let i = 7; i >= 0; i--) v = (v << 8n) | BigInt(b[o + i] ?? 0);
    return v;
  };
  const k0 = le(key, 0);
  const k1 = le(key, 8);
  let v0 = k0 ^ 0x736f6d6570736575n;
  let v1 = k1 ^ 0x646f72616e646f6dn;
  let v2 = k0 ^ 0x6c7967656e657261n;
  let v3 = k1 ^ 0x7465646279746573n;
  const round = (): void => {
    v0 = (v0 + v1) & M64; v1 = rotl(v1, 13n); v1 ^= v0; v0 = rotl(v0, 32n);
    v2 = (v2 + v3) & M64; v3 = rotl(v3, 16n); v3 ^= v2;
    v0 = (v0 + v3) & M64; v3 = rotl(v3, 21n); v3 ^= v0;
    v2 = (v2 + v1) & M64; v1 = rotl(v1, 17n); v1 ^= v2; v2 = rotl(v2, 32n);
  };
  const full = msg.length - (msg.length % 8);
  const words: bigint[] = [];
  for (let o = 0; o < full; o += 8) words.push(le(msg, o));
  let last = BigInt(msg.length & 0xff) << 56n;
  for (let i = full; i < msg.length; i++) last |= BigInt(msg[i]!) << BigInt(8 * (i - full));
  words.push(last);
  for (const m of words) {
    v3 ^= m;
    round();
    round();
    v0 ^= m;
  }
  v2 ^= 0xffn;
  for (let i = 0; i < 4; i++) round();
  return v0 ^ v1 ^ v2 ^ v3;
}

function raw(h: SipHash, msg: Uint8Array): bigint {
  h.begin();
  for (const b of msg) h.byte(b);
  h.digest();
  return (BigInt(h.hi) << 32n) | BigInt(h.lo);
}

describe('SipHash-2-4', () => {
  const h = new SipHash(KEY);

  it.each([
    [0, 0x726fdb47dd0e0e31n],
    [1, 0x74f839c593dc67fdn],
    [2, 0x0d6c8009d9a94f5an],
    [3, 0x85676696d7fb7e2dn],
    [15, 0xa129ca6149be45e5n], // the paper's worked example
  ])('reference vector for %i bytes', (n, expected) => {
    const msg = Uint8Array.from({ length: n }, (_, i) => i);
    expect(raw(h, msg)).toBe(expected);
    expect(reference(KEY, msg)).toBe(expected);
  });

  it('agrees with the reference on random keys and messages', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.uint8Array({ maxLength: 70 }), (key, msg) => {
        expect(raw(new SipHash(key), msg)).toBe(reference(key, msg));
      }),
      { numRuns: 300 },
    );
  });

  it('frames fields so that different splits differ', () => {
    const d = (...parts: string[]): string => {
      h.begin();
      for (const p of parts) h.str(p);
      return h.digest().token();
    };
    expect(d('ab', 'c')).not.toBe(d('a', 'bc'));
    expect(d('\u0100')).not.toBe(d('\u00ff\u0001\u0000'));
    expect(d('x')).toBe(d('x'));
    expect(d('x')).toMatch(/^[A-Za-z0-9_-]{11}$/);
  });

  it('depends on the key', () => {
    const other = new SipHash(Uint8Array.from({ length: 16 }, (_, i) => i + 1));
    const msg = new TextEncoder().encode('z9hG4bK776asdhds');
    expect(raw(h, msg)).not.toBe(raw(other, msg));
  });

  it('encodes 64 bits as 11 base64url characters, the same as Buffer does', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.integer({ min: 0, max: 2 ** 32 - 1 }), (hi, lo) => {
        const b = Buffer.alloc(8);
        b.writeUInt32BE(hi, 0);
        b.writeUInt32BE(lo, 4);
        expect(encode64(hi, lo)).toBe(b.toString('base64url'));
      }),
    );
  });

  it('refuses a key that is not 16 bytes', () => {
    expect(() => new SipHash(new Uint8Array(8))).toThrow(RangeError);
  });
});
