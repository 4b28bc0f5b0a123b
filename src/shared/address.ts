// IP literals <-> the 16 raw address bytes a ring record carries. Rings store bytes, not strings,
// so a datagram crosses threads without a string allocation; strings are made on the consumer side
// through a small direct-mapped cache.
//
// Measured (Node 20.20, this machine, 2e6 iterations): formatting "127.0.0.1" from 4 bytes 66 ns,
// an IPv6 address 166 ns; a cache hit 12 ns. Parsing a dotted quad by hand 37 ns, about what a
// Map lookup on a fresh rinfo string costs (43 ns), so IPv4 is parsed every time and only IPv6,
// dearer to parse, goes through a (bounded) Map.
//
// Strings match what Node puts in rinfo.address (libuv's inet_ntop6): lower-case hex, the longest
// run of two or more zero groups as "::", "::ffff:a.b.c.d" for IPv4-mapped addresses. A zone id
// ("%eth0") is dropped: the ring has no room for it, and SIP over link-local is not a use case.

const HEX = '0123456789abcdef';

/** Writes the 4 bytes of a dotted quad at out[offset]; false when `s` is not one. */
export function parseIPv4(s: string, out: Uint8Array, offset: number): boolean {
  let part = 0;
  let value = 0;
  let digits = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 46 /* . */) {
      if (digits === 0 || part === 3) return false;
      out[offset + part++] = value;
      value = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57 && digits < 3) {
      value = value * 10 + c - 48;
      if (value > 255) return false;
      digits++;
    } else {
      return false;
    }
  }
  if (digits === 0 || part !== 3) return false;
  out[offset + 3] = value;
  return true;
}

/** Parses an IPv6 literal (with "::", an embedded dotted quad, a zone id) into 16 bytes. */
function parseIPv6Slow(s: string): Uint8Array | null {
  const zone = s.indexOf('%');
  const end = zone < 0 ? s.length : zone;
  const head: number[] = [];
  const tail: number[] = [];
  let groups = head;
  let compressed = false;
  let i = 0;
  if (s.startsWith('::')) {
    compressed = true;
    groups = tail;
    i = 2;
  }
  while (i < end) {
    let j = i;
    let v = 0;
    for (; j < end && j - i < 5; j++) {
      const d = HEX.indexOf(s.charAt(j).toLowerCase());
      if (d < 0) break;
      v = v * 16 + d;
    }
    if (j < end && s.charCodeAt(j) === 46 /* . */) {
      const quad = new Uint8Array(4);
      if (!parseIPv4(s.slice(i, end), quad, 0)) return null;
      groups.push(((quad[0] ?? 0) << 8) | (quad[1] ?? 0), ((quad[2] ?? 0) << 8) | (quad[3] ?? 0));
      i = end;
      break;
    }
    if (j === i || j - i > 4) return null;
    groups.push(v);
    if (j === end) break;
    if (s.charCodeAt(j) !== 58 /* : */) return null;
    if (s.charCodeAt(j + 1) === 58) {
      if (compressed) return null;
      compressed = true;
      groups = tail;
      i = j + 2;
    } else {
      i = j + 1;
      if (i === end) return null;
    }
  }
  const n = head.length + tail.length;
  if (compressed ? n > 7 : n !== 8) return null;
  const out = new Uint8Array(16);
  const put = (g: number, at: number): void => {
    out[at * 2] = g >> 8;
    out[at * 2 + 1] = g & 0xff;
  };
  head.forEach((g, k) => put(g, k));
  tail.forEach((g, k) => put(g, 8 - tail.length + k));
  return out;
}

const v6Parsed = new Map<string, Uint8Array | null>();
const V6_PARSED_MAX = 4096;

/** Writes the 16 bytes of an IPv6 literal at out[offset]; false when `s` is not one. */
export function parseIPv6(s: string, out: Uint8Array, offset: number): boolean {
  let bytes = v6Parsed.get(s);
  if (bytes === undefined) {
    // Cleared rather than evicted one by one: a scan of many sources costs one re-parse each.
    if (v6Parsed.size >= V6_PARSED_MAX) v6Parsed.clear();
    bytes = parseIPv6Slow(s);
    v6Parsed.set(s, bytes);
  }
  if (bytes === null) return false;
  out.set(bytes, offset);
  return true;
}

function formatIPv4(b: Uint8Array, at: number): string {
  return `${b[at]}.${b[at + 1]}.${b[at + 2]}.${b[at + 3]}`;
}

/** libuv's inet_ntop6 rules, so a formatted address equals Node's rinfo.address. */
export function formatIPv6(b: Uint8Array, at: number): string {
  const w: number[] = [];
  for (let k = 0; k < 8; k++) w.push(((b[at + 2 * k] ?? 0) << 8) | (b[at + 2 * k + 1] ?? 0));
  let best = -1;
  let bestLen = 0;
  for (let k = 0; k < 8; ) {
    if (w[k] !== 0) {
      k++;
      continue;
    }
    let e = k;
    while (e < 8 && w[e] === 0) e++;
    if (e - k > bestLen) [best, bestLen] = [k, e - k];
    k = e;
  }
  if (bestLen < 2) best = -1;
  let s = '';
  for (let k = 0; k < 8; k++) {
    if (k === best) {
      s += ':';
      k += bestLen - 1;
      if (k === 7) s += ':';
      continue;
    }
    if (k !== 0) s += ':';
    if (k === 6 && best === 0 && (bestLen === 6 || (bestLen === 5 && w[5] === 0xffff))) {
      return s + formatIPv4(b, at + 12);
    }
    s += (w[k] ?? 0).toString(16);
  }
  return s;
}

// Direct-mapped cache of formatted addresses, keyed by the four address words and the family.
const SLOTS = 1024;
const keys = new Int32Array(SLOTS * 4);
const keyFamily = new Uint8Array(SLOTS);
const names: string[] = new Array<string>(SLOTS).fill('');
const scratch = new Uint8Array(16);
const scratchWords = new Int32Array(scratch.buffer);

/**
 * The string form of the address stored as four int32 words at words[at..at+3] (IPv4: word 0
 * only, the others zero). Allocation-free on a cache hit.
 */
export function formatAddress(words: Int32Array, at: number, family: 4 | 6): string {
  const w0 = words[at] ?? 0;
  const w1 = words[at + 1] ?? 0;
  const w2 = words[at + 2] ?? 0;
  const w3 = words[at + 3] ?? 0;
  let h = w0 ^ Math.imul(w1, 0x9e3779b1) ^ Math.imul(w2, 0x85ebca6b) ^ Math.imul(w3, 0xc2b2ae35) ^ family;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  const slot = (h ^ (h >>> 15)) & (SLOTS - 1);
  const k = slot * 4;
  if (keyFamily[slot] === family && keys[k] === w0 && keys[k + 1] === w1 && keys[k + 2] === w2 && keys[k + 3] === w3) {
    return names[slot] ?? '';
  }
  scratchWords[0] = w0;
  scratchWords[1] = w1;
  scratchWords[2] = w2;
  scratchWords[3] = w3;
  const name = family === 4 ? formatIPv4(scratch, 0) : formatIPv6(scratch, 0);
  keys[k] = w0;
  keys[k + 1] = w1;
  keys[k + 2] = w2;
  keys[k + 3] = w3;
  keyFamily[slot] = family;
  names[slot] = name;
  return name;
}
