// Hashes used by selection. dsHash is Kamailio's dispatcher hash (ds_get_hash in
// src/modules/dispatcher/dispatch.c, the same word-sum scheme as core_hash in src/core/hashes.h),
// reproduced bit for bit so that algorithms 0-3, 5 and 7 pick the same destination index as a
// Kamailio box given the same set and message. The golden values in test/unit/dispatch/hash.test.ts
// come from compiling that C function.

/** Bytes of `s` as C sees them: UTF-8, each byte a signed `char` (x86/x86-64 ABI). */
function signedBytes(s: string): ArrayLike<number> | undefined {
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) > 0x7f) return Int8Array.from(Buffer.from(s, 'utf8'), (b) => (b << 24) >> 24);
  }
  return undefined; // pure ASCII: charCodeAt already is the byte, no copy on the hot path
}

/** One ds_get_hash pass over `s`, continuing from `h`. All arithmetic is unsigned 32-bit. */
function update(h: number, s: string): number {
  const bytes = signedBytes(s);
  const len = bytes ? bytes.length : s.length;
  const at = bytes ? (i: number): number => bytes[i]! : (i: number): number => s.charCodeAt(i);
  let i = 0;
  let v: number;
  // `(*p << 24) + (p[1] << 16) + ...` is int arithmetic on signed chars, then stored unsigned.
  for (; i + 4 <= len; i += 4) {
    v = ((at(i) << 24) + (at(i + 1) << 16) + (at(i + 2) << 8) + at(i + 3)) >>> 0;
    h = (h + ((v ^ (v >>> 3)) >>> 0)) >>> 0;
  }
  v = 0;
  for (; i < len; i++) v = ((v << 8) + at(i)) >>> 0;
  return (h + ((v ^ (v >>> 3)) >>> 0)) >>> 0;
}

/**
 * Kamailio's ds_get_hash(s1, s2): the hash behind algorithms 0-3, 5 and 7 and `dispatcher.hash`.
 * URI algorithms hash the user as s1 and `host[:port]` as s2 (no '@' in between). Never 0: Kamailio
 * maps 0 to 1.
 */
export function dsHash(s1: string, s2?: string): number {
  let h = update(0, s1);
  if (s2 !== undefined) h = update(h, s2);
  h = (h + (h >>> 11) + ((h >>> 13) + (h >>> 23))) >>> 0;
  return h === 0 ? 1 : h;
}

/** FNV-1a 32 over the UTF-16 code units of `s`; only used to seed rendezvous scores. */
export function fnv1a32(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * Rendezvous (highest random weight) score of a destination for a key hash. dsHash is a plain sum
 * of words, so hash(key, id) would rank destinations almost the same way for every key; murmur3's
 * finaliser over key ^ seed gives independent rankings, which is what spreads a dead destination's
 * calls evenly over the live ones.
 */
export function hrwScore(keyHash: number, seed: number): number {
  let h = (keyHash ^ seed) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
