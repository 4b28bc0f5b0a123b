// Byte-level building blocks for the rewrites: header-entry access on the parser's span table and a
// splice that turns (offset, end, text) edits of the original datagram into one output Buffer.
// Outputs are built from byte ranges of the datagram plus small new strings: no decode/encode of the
// message, one allocation, one copy per kept range (the proxy core calls this per forwarded message).
import * as C from '../parser/constants.generated.js';

/** Table index of header entry `i`. */
export function entry(i: number): number {
  return C.HDR_BASE + i * C.HDR_STRIDE;
}

/** Offset just past the line ending (LF) of header entry at base `b`: value spans end before it. */
export function lineEnd(bytes: Uint8Array, table: Int32Array, b: number): number {
  const lf = bytes.indexOf(10, table[b + C.H_VALUE_OFF]! + table[b + C.H_VALUE_LEN]!);
  return lf < 0 ? bytes.length : lf + 1;
}

/** Offset of value `v` of the values table (list headers). */
export function valueOff(table: Int32Array, v: number): number {
  return table[C.VAL_BASE + v * 2]!;
}

/** Index of the first header entry with header id `id`, or -1. */
export function findHeader(table: Int32Array, id: number): number {
  const n = table[C.F_HDR_COUNT]!;
  for (let i = 0; i < n; i++) if (table[entry(i) + C.H_ID] === id) return i;
  return -1;
}

/** Offset where the first header line starts (after the start line's line ending). */
export function headersStart(bytes: Uint8Array, table: Int32Array): number {
  if (table[C.F_HDR_COUNT]! > 0) return table[entry(0) + C.H_NAME_OFF]!;
  const lf = bytes.indexOf(10, table[C.F_START_OFF]! + table[C.F_START_LEN]!);
  return lf < 0 ? table[C.F_HEADERS_END]! : lf + 1;
}

/** `bytes` as a Buffer without copying: Buffer.copy() measured faster than set(subarray()). */
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
}

/**
 * Copies src[a, b) to out at pos; returns the byte count. Buffer.copy() allocates a view per call
 * (about 0.1 µs): short ranges, common between nearby edits, are cheaper byte by byte.
 */
function copy(src: Buffer, out: Buffer, pos: number, a: number, b: number): number {
  if (b - a > 32) return src.copy(out, pos, a, b);
  for (let i = a; i < b; i++) out[pos++] = src[i]!;
  return b - a;
}

/**
 * Edits of one datagram, applied in offset order by toBuffer(). Edits must not overlap; several
 * insertions at one offset keep the order they were added in, before a removal starting there.
 */
export class Splice {
  readonly #offs: number[] = [];
  readonly #ends: number[] = [];
  readonly #texts: string[] = [];

  /** Replaces [off, end) with `text` (empty text: removal; off === end: insertion). */
  replace(off: number, end: number, text: string): void {
    const offs = this.#offs;
    const ends = this.#ends;
    const texts = this.#texts;
    offs.push(off);
    ends.push(end);
    texts.push(text);
    // insertion sort by (offset, insertions before a removal): a handful of edits per message,
    // and Array.prototype.splice measured slower than the whole rewrite around it
    for (let i = offs.length - 1; i > 0; i--) {
      const o = offs[i - 1]!;
      if (o < off || (o === off && (off !== end || ends[i - 1] === o))) break;
      offs[i] = o;
      ends[i] = ends[i - 1]!;
      texts[i] = texts[i - 1]!;
      offs[i - 1] = off;
      ends[i - 1] = end;
      texts[i - 1] = text;
    }
  }

  insert(off: number, text: string): void {
    this.replace(off, off, text);
  }

  /** The bytes [start, end) of `bytes` with the edits applied. */
  toBuffer(bytes: Uint8Array, start: number, end: number): Buffer {
    const src = asBuffer(bytes);
    const n = this.#offs.length;
    let total = end - start;
    for (let i = 0; i < n; i++) {
      total += Buffer.byteLength(this.#texts[i]!) - (this.#ends[i]! - this.#offs[i]!);
    }
    const out = Buffer.allocUnsafe(total);
    let pos = 0;
    let cursor = start;
    // Each Buffer write or copy costs about 0.1 µs whatever its size: texts with no bytes between
    // them go out as one write.
    let pending = '';
    for (let i = 0; i < n; i++) {
      const off = this.#offs[i]!;
      if (off > cursor) {
        if (pending.length > 0) pos += out.write(pending, pos);
        pending = '';
        pos += copy(src, out, pos, cursor, off);
      }
      pending += this.#texts[i]!;
      cursor = Math.max(cursor, this.#ends[i]!);
    }
    if (pending.length > 0) pos += out.write(pending, pos);
    if (end > cursor) pos += copy(src, out, pos, cursor, end);
    return pos === total ? out : out.subarray(0, pos);
  }
}

/**
 * A new message assembled in order from new text and byte ranges of an existing datagram.
 * Adjacent texts are joined and adjacent ranges merged, so the output costs few writes and copies.
 */
export class Assembler {
  readonly #src: Buffer;
  /** A string, or a range as two numbers (off, end). */
  readonly #parts: (string | number)[] = [];
  #pending = '';
  #total = 0;

  constructor(bytes: Uint8Array) {
    this.#src = asBuffer(bytes);
  }

  text(s: string): this {
    this.#pending += s;
    return this;
  }

  range(off: number, end: number): this {
    this.#flush();
    const parts = this.#parts;
    const last = parts.length - 1;
    // a number last is the end of a range: extend it when this one follows on
    if (last > 0 && parts[last] === off) parts[last] = end;
    else parts.push(off, end);
    this.#total += end - off;
    return this;
  }

  /** Appends the line of header entry `b` with a CRLF: its own when it has one, saving a write. */
  line(table: Int32Array, b: number): this {
    const src = this.#src;
    const end = table[b + C.H_VALUE_OFF]! + table[b + C.H_VALUE_LEN]!;
    if (src[end] === 13 && src[end + 1] === 10) return this.range(table[b + C.H_NAME_OFF]!, end + 2);
    return this.range(table[b + C.H_NAME_OFF]!, end).text('\r\n');
  }

  #flush(): void {
    if (this.#pending.length === 0) return;
    this.#parts.push(this.#pending);
    this.#total += Buffer.byteLength(this.#pending);
    this.#pending = '';
  }

  toBuffer(): Buffer {
    this.#flush();
    const out = Buffer.allocUnsafe(this.#total);
    const parts = this.#parts;
    let pos = 0;
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i]!;
      if (typeof p === 'string') pos += out.write(p, pos);
      else pos += copy(this.#src, out, pos, p, parts[++i] as number);
    }
    return out;
  }
}
