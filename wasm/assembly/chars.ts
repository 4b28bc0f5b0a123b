// Byte classes and raw-memory helpers shared by every part of the parser. The input datagram lives
// at INPUT_PTR (0), so a byte offset is also a pointer; callers keep every read below `end`.
import { TABLE_PTR } from "./constants";

export const C_TOKEN: u16 = 1; // RFC 3261 token: alphanum and -.!%*_+`'~
export const C_WS: u16 = 2; // SP, HTAB
export const C_LWS: u16 = 4; // SP, HTAB, CR, LF (inside a header value CR/LF only occur in folds)
export const C_DIGIT: u16 = 8;
export const C_HOST: u16 = 16; // hostname and IPv4 characters: alphanum - . _
export const C_SCHEME: u16 = 32; // URI scheme characters after the first: alphanum + - .
export const C_URI_BAD: u16 = 64; // never in a URI: CTL, SP, " < > \ ^ ` { | }
export const C_HEX: u16 = 128; // hex digits (IPv6 references)
// Composite stops, so a scanning loop tests one bit per byte and sorts out the rare stop after:
export const C_USER_STOP: u16 = 256; // ends a run of userinfo: URI_BAD, '@', ':', ';'
export const C_PARAM_STOP: u16 = 512; // ends a run of URI params: URI_BAD, '?', ';', '@'
export const C_PVALUE: u16 = 1024; // gen-value characters: token and ':' (IPv6 without brackets)

// 256 byte classes, filled once when the module is instantiated.
const CLASS: usize = memory.data(512);

function mark(from: i32, to: i32, bits: u16): void {
  for (let c = from; c <= to; c++) store<u16>(CLASS + (<usize>c << 1), load<u16>(CLASS + (<usize>c << 1)) | bits);
}
function markChars(chars: string, bits: u16): void {
  for (let i = 0; i < chars.length; i++) mark(chars.charCodeAt(i), chars.charCodeAt(i), bits);
}

mark(48, 57, C_TOKEN | C_DIGIT | C_HOST | C_SCHEME | C_HEX);
mark(65, 90, C_TOKEN | C_HOST | C_SCHEME);
mark(97, 122, C_TOKEN | C_HOST | C_SCHEME);
mark(65, 70, C_HEX);
mark(97, 102, C_HEX);
markChars("-.!%*_+`'~", C_TOKEN);
markChars("-._", C_HOST);
markChars("+-.", C_SCHEME);
markChars(" \t", C_WS | C_LWS);
markChars("\r\n", C_LWS);
mark(0, 32, C_URI_BAD | C_USER_STOP | C_PARAM_STOP);
mark(127, 127, C_URI_BAD | C_USER_STOP | C_PARAM_STOP);
markChars("\"<>\\^`{|}", C_URI_BAD | C_USER_STOP | C_PARAM_STOP);
markChars("@:;", C_USER_STOP);
markChars("?;@", C_PARAM_STOP);
for (let c = 0; c < 256; c++) if ((load<u16>(CLASS + (<usize>c << 1)) & C_TOKEN) != 0) mark(c, c, C_PVALUE);
markChars(":", C_PVALUE);

// ---- Runs scanned sixteen bytes at a time (wasm SIMD) ----
// Any set of bytes whose members are ASCII (or whose rows 0x80..0xff are all alike) can be tested
// with two 16-entry tables: row pattern bits by the high nibble, low-nibble membership by the low
// one (the simdjson classification). Built once from CLASS at instantiation and checked byte by byte.
export const S_TOKEN: i32 = 0; // token characters
export const S_HOST: i32 = 1; // hostname / IPv4 characters
export const S_PVALUE: i32 = 2; // gen-value characters (token and ':')
export const S_USER_RUN: i32 = 3; // bytes that do not end a run of userinfo (not C_USER_STOP)
export const S_PARAM_RUN: i32 = 4; // bytes that do not end a run of URI params (not C_PARAM_STOP)
const NIBBLES: usize = memory.data(32 * 5, 16);

function buildNibbles(k: i32, bits: u16, negate: bool): void {
  const lo = NIBBLES + (<usize>k << 5);
  const hi = lo + 16;
  let used = 0;
  for (let h = 0; h < 16; h++) {
    let pat = 0;
    for (let l = 0; l < 16; l++) if (((load<u16>(CLASS + (<usize>(h * 16 + l) << 1)) & bits) != 0) != negate) pat |= 1 << l;
    let bit = 0;
    if (pat != 0) {
      for (let g = 0; g < h && bit == 0; g++) {
        let same = true;
        for (let l = 0; l < 16; l++) {
          const c = g * 16 + l;
          const m = ((load<u16>(CLASS + (<usize>c << 1)) & bits) != 0) != negate;
          if (m != ((pat & (1 << l)) != 0)) {
            same = false;
            break;
          }
        }
        if (same) bit = <i32>load<u8>(hi + <usize>g);
      }
      if (bit == 0) {
        if (used == 8) unreachable(); // more than eight row patterns: not representable
        bit = 1 << used++;
      }
      for (let l = 0; l < 16; l++) if ((pat & (1 << l)) != 0) store<u8>(lo + <usize>l, load<u8>(lo + <usize>l) | bit);
    }
    store<u8>(hi + <usize>h, <u8>bit);
  }
  // Every byte must classify as CLASS says; anything else is a bug in this builder.
  for (let c = 0; c < 256; c++) {
    const want = ((load<u16>(CLASS + (<usize>c << 1)) & bits) != 0) != negate;
    const got = (load<u8>(lo + <usize>(c & 15)) & load<u8>(hi + <usize>(c >> 4))) != 0;
    if (want != got) unreachable();
  }
}
buildNibbles(S_TOKEN, C_TOKEN, false);
buildNibbles(S_HOST, C_HOST, false);
buildNibbles(S_PVALUE, C_PVALUE, false);
buildNibbles(S_USER_RUN, C_USER_STOP, true);
buildNibbles(S_PARAM_RUN, C_PARAM_STOP, true);

/**
 * First offset in [p, end) whose byte is not in run class k, or end. Loads may reach 15 bytes past
 * end (still inside the module's memory: the table follows the input); those bytes are masked off
 * and never change the result.
 */
// @ts-ignore: decorator
@inline export function scan(p: i32, end: i32, k: i32): i32 {
  const lo = v128.load(NIBBLES + (<usize>k << 5));
  const hi = v128.load(NIBBLES + (<usize>k << 5) + 16);
  let r = end;
  while (p < end) {
    const w = v128.load(<usize>p);
    const m = v128.and(i8x16.swizzle(lo, v128.and(w, i8x16.splat(0x0f))), i8x16.swizzle(hi, i8x16.shr_u(w, 4)));
    const stop = i8x16.bitmask(i8x16.eq(m, i8x16.splat(0)));
    if (stop != 0) {
      r = min(p + <i32>ctz(stop), end);
      break;
    }
    p += 16;
  }
  return r;
}

// @ts-ignore: decorator
@inline export function ch(p: i32): i32 {
  return <i32>load<u8>(<usize>p);
}
// @ts-ignore: decorator
@inline export function is(c: i32, bits: u16): bool {
  return (load<u16>(CLASS + (<usize>c << 1)) & bits) != 0;
}
// @ts-ignore: decorator
@inline export function lower(c: i32): i32 {
  return c >= 65 && c <= 90 ? c | 0x20 : c;
}
// @ts-ignore: decorator
@inline export function setF(i: i32, v: i32): void {
  store<i32>(<usize>TABLE_PTR + (<usize>i << 2), v);
}
// @ts-ignore: decorator
@inline export function getF(i: i32): i32 {
  return load<i32>(<usize>TABLE_PTR + (<usize>i << 2));
}

/** Skips linear whitespace (SP, HTAB and the CR LF of folds) from p; returns the first other byte. */
// @ts-ignore: decorator
@inline export function skipLws(p: i32, end: i32): i32 {
  while (p < end && is(ch(p), C_LWS)) p++;
  return p;
}
/** Moves end back over linear whitespace; returns the new end. */
// @ts-ignore: decorator
@inline export function trimEnd(start: i32, end: i32): i32 {
  while (end > start && is(ch(end - 1), C_LWS)) end--;
  return end;
}
/** Skips token characters from p. */
// @ts-ignore: decorator
@inline export function skipToken(p: i32, end: i32): i32 {
  return scan(p, end, S_TOKEN);
}
/** Given p at an opening quote, returns the offset just past the closing quote, or -1 if unterminated. */
export function skipQuoted(p: i32, end: i32): i32 {
  p++;
  while (p < end) {
    const c = ch(p);
    if (c == 0x22) return p + 1;
    if (c == 0x5c) p++; // quoted-pair: the next byte is taken as is
    p++;
  }
  return -1;
}
// OR of every word findLF() read since resetLfBits(): its high bits tell whether the header section
// holds bytes >= 0x80 (so the binding knows whether latin1 decoding is exact). It may include a few
// bytes past the last LF it found; a false "has 8-bit" only costs the binding a slower decode.
let seenBits: u64 = 0;
export function resetLfBits(): void {
  seenBits = 0;
}
export function lfBits(): u64 {
  return seenBits;
}

/** Offset of the first LF at or after p, or end. Eight bytes at a time while they fit. */
// @ts-ignore: decorator
@inline export function findLF(p: i32, end: i32): i32 {
  let bits: u64 = 0;
  while (p + 8 <= end) {
    const w = load<u64>(<usize>p);
    bits |= w;
    const x = w ^ 0x0a0a0a0a0a0a0a0a;
    const t = (x - 0x0101010101010101) & ~x & 0x8080808080808080;
    if (t != 0) {
      seenBits |= bits;
      return p + <i32>(ctz(t) >> 3);
    }
    p += 8;
  }
  while (p < end) {
    const c = ch(p);
    bits |= <u64>c;
    if (c == 10) break;
    p++;
  }
  seenBits |= bits;
  return p;
}
/** Offset of the first byte c in [p, end), or -1. */
export function findByte(p: i32, end: i32, c: i32): i32 {
  while (p < end) {
    if (ch(p) == c) return p;
    p++;
  }
  return -1;
}
/** Case-insensitive comparison of [p, p+len) with an ASCII lower-case literal. */
export function eqLower(p: i32, len: i32, lit: string): bool {
  if (len != lit.length) return false;
  for (let i = 0; i < len; i++) {
    if (lower(ch(p + i)) != lit.charCodeAt(i)) return false;
  }
  return true;
}
/** Case-sensitive comparison of [p, p+len) with [q, q+len). */
export function eqBytes(p: i32, q: i32, len: i32): bool {
  for (let i = 0; i < len; i++) {
    if (ch(p + i) != ch(q + i)) return false;
  }
  return true;
}
/**
 * Parses 1*DIGIT in [p, end) exactly (no other bytes). Returns the value, or -1 when empty,
 * not all digits, or above max. Leading zeros are allowed ("0068").
 */
export function parseDigits(p: i32, end: i32, max: i64): i64 {
  if (p >= end) return -1;
  let v: i64 = 0;
  while (p < end) {
    const c = ch(p);
    if (c < 48 || c > 57) return -1;
    v = v * 10 + <i64>(c - 48);
    if (v > max) return -1;
    p++;
  }
  return v;
}
/** Case-sensitive comparison of [p, p+len) with an ASCII literal. */
export function eqLit(p: i32, len: i32, lit: string): bool {
  if (len != lit.length) return false;
  for (let i = 0; i < len; i++) {
    if (ch(p + i) != lit.charCodeAt(i)) return false;
  }
  return true;
}
