// The proxy's rewrites of a parsed datagram (RFC 3261 16.6, 16.7, 8.2.6; RFC 3581). Each reads the
// parser's span table (`parser.table`, valid until that parser's next parse) and copies byte ranges
// of the datagram around a few new strings, so headers we do not touch leave byte-exact.
import * as C from '../parser/constants.generated.js';
import { reasonPhrase } from './responses.js';
import { Assembler, Splice, entry, findHeader, headersStart, lineEnd, valueOff } from './splice.js';

export { buildAck, buildCancel } from './hop.js';

export interface ForwardEdits {
  /** Full via-parm of our new top Via, e.g. 'SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK...'. */
  via: string;
  /** Parameters to stamp on the received top Via (RFC 3581 4, RFC 3261 18.2.1). */
  stampTopVia?: { received?: string; rport?: number };
  /** Full Record-Route value, e.g. '<sip:10.0.0.1:5060;lr>', written as the first Record-Route. */
  recordRoute?: string;
  /** Max-Forwards value to write (the caller decrements; RFC 3261 16.6 step 3). */
  maxForwards: number;
  /** Remove the top Route value (RFC 3261 16.4 pre-processing: it names us). */
  popRoute?: boolean;
  /** Remove the last Route value (RFC 3261 16.4: a strict router sent us our Record-Route as Request-URI). */
  popLastRoute?: boolean;
  /** New Request-URI (RFC 3261 16.6 step 2). */
  requestUri?: string;
}

/**
 * The request to forward: `edits` applied to the message proper. Trailing octets after the body are
 * dropped (RFC 3261 18.3), the body is copied byte-exact, Content-Length is kept, or added when the
 * request had none (UDP allows that; the next hop may be a stream).
 */
export function forwardRequest(bytes: Uint8Array, table: Int32Array, edits: ForwardEdits): Buffer {
  const s = new Splice();
  const t = table;
  if (edits.requestUri !== undefined) {
    const off = t[C.F_RURI + C.U_OFF]!;
    s.replace(off, off + t[C.F_RURI + C.U_LEN]!, edits.requestUri);
  }
  // Record-Route and a missing Max-Forwards go first in the header section; our Via goes right
  // before the received top Via's line, so it is the first Via value (RFC 3261 16.6 step 8).
  const top = headersStart(bytes, t);
  if (edits.recordRoute !== undefined) s.insert(top, `Record-Route: ${edits.recordRoute}\r\n`);
  const mf = findHeader(t, C.HDR_MAX_FORWARDS);
  if (mf < 0) {
    s.insert(top, `Max-Forwards: ${edits.maxForwards}\r\n`);
  } else {
    const off = t[entry(mf) + C.H_VALUE_OFF]!;
    s.replace(off, off + t[entry(mf) + C.H_VALUE_LEN]!, String(edits.maxForwards));
  }
  const viaHdr = t[C.F_VIA1_HDR]!;
  s.insert(viaHdr >= 0 ? t[entry(viaHdr) + C.H_NAME_OFF]! : top, `Via: ${edits.via}\r\n`);
  if (edits.stampTopVia !== undefined && t[C.F_VIA1 + C.V_OFF]! >= 0) stampVia(bytes, t, s, edits.stampTopVia);
  if (edits.popRoute === true || edits.popLastRoute === true) removeRoutes(bytes, t, s, edits.popRoute === true, edits.popLastRoute === true);
  if (t[C.F_CONTENT_LENGTH] === -1) s.insert(t[C.F_HEADERS_END]!, `Content-Length: ${t[C.F_BODY_LEN]!}\r\n`);
  return s.toBuffer(bytes, t[C.F_START_OFF]!, t[C.F_MSG_LEN]!);
}

/**
 * Removes the first and/or the last Route value. Each removal takes its separator with it; a header
 * line left with no value goes whole, so the two edits never overlap.
 */
function removeRoutes(bytes: Uint8Array, t: Int32Array, s: Splice, first: boolean, last: boolean): void {
  const headers: number[] = [];
  const n = t[C.F_HDR_COUNT]!;
  for (let i = 0; i < n; i++) if (t[entry(i) + C.H_ID] === C.HDR_ROUTE && t[entry(i) + C.H_VAL_COUNT]! !== 0) headers.push(entry(i));
  const top = headers[0];
  const bottom = headers[headers.length - 1];
  if (top === undefined || bottom === undefined) return;
  const count = (b: number): number => Math.max(1, t[b + C.H_VAL_COUNT]!);
  if (top === bottom && first && last && count(top) <= 2) {
    s.replace(t[top + C.H_NAME_OFF]!, lineEnd(bytes, t, top), '');
    return;
  }
  if (first) removeFirstValue(bytes, t, s, top);
  if (last) {
    if (count(bottom) <= 1) {
      if (!(first && bottom === top)) s.replace(t[bottom + C.H_NAME_OFF]!, lineEnd(bytes, t, bottom), '');
    } else {
      // from the end of the value before it: the comma and any LWS go with it
      const v = t[bottom + C.H_FIRST_VAL]! + t[bottom + C.H_VAL_COUNT]! - 1;
      s.replace(valueOff(t, v - 1) + t[C.VAL_BASE + (v - 1) * 2 + 1]!, valueOff(t, v) + t[C.VAL_BASE + v * 2 + 1]!, '');
    }
  }
}

/** The response with another status line (the 503 a proxy relays as 500, RFC 3261 16.7 step 6). */
export function withStatus(bytes: Buffer, status: number, reason: string): Buffer {
  const eol = bytes.indexOf(10);
  if (eol < 0) return bytes;
  const crlf = bytes[eol - 1] === 13 ? eol - 1 : eol;
  return Buffer.concat([Buffer.from(`SIP/2.0 ${status} ${reason}`, 'latin1'), bytes.subarray(crlf)]);
}

/** The response without its top Via value (RFC 3261 16.7 step 3); trailing octets dropped. */
export function forwardResponse(bytes: Uint8Array, table: Int32Array): Buffer {
  const s = new Splice();
  const viaHdr = table[C.F_VIA1_HDR]!;
  if (viaHdr >= 0) removeFirstValue(bytes, table, s, entry(viaHdr));
  return s.toBuffer(bytes, table[C.F_START_OFF]!, table[C.F_MSG_LEN]!);
}

/** Removes the first value of a list header: the whole line when it is the only one. */
function removeFirstValue(bytes: Uint8Array, t: Int32Array, s: Splice, b: number): void {
  const first = t[b + C.H_FIRST_VAL]!;
  if (t[b + C.H_VAL_COUNT]! <= 1) s.replace(t[b + C.H_NAME_OFF]!, lineEnd(bytes, t, b), '');
  // up to the next value: the comma and any LWS (folds included) go with it
  else s.replace(valueOff(t, first), valueOff(t, first + 1), '');
}

/**
 * RFC 3581 4: fill a valueless rport with the source port (or add it: rport is forced, as
 * Kamailio's force_rport() does); RFC 3261 18.2.1: add or replace received.
 */
function stampVia(bytes: Uint8Array, t: Int32Array, s: Splice, stamp: { received?: string; rport?: number }): void {
  const end = t[C.F_VIA1 + C.V_OFF]! + t[C.F_VIA1 + C.V_LEN]!;
  // rport before received: a valueless rport that ends the Via gets its value at `end`, where an
  // added received goes too, and insertions at one offset keep the order they were made in
  if (stamp.rport !== undefined) {
    // The table says whether rport is there but not where: find it among the via-params.
    const param = t[C.F_VIA1 + C.V_RPORT]! < 0 ? null : findParam(bytes, t[C.F_VIA1 + C.V_PARAMS_OFF]!, end, RPORT);
    if (param === null) s.insert(end, `;rport=${stamp.rport}`);
    else if (param.value < 0) s.insert(param.nameEnd, `=${stamp.rport}`);
    else s.replace(param.value, param.valueEnd, String(stamp.rport));
  }
  if (stamp.received !== undefined) {
    const off = t[C.F_VIA1 + C.V_RECEIVED_OFF]!;
    if (off >= 0) s.replace(off, off + t[C.F_VIA1 + C.V_RECEIVED_LEN]!, stamp.received);
    else s.insert(end, `;received=${stamp.received}`);
  }
}

const RPORT = [0x72, 0x70, 0x6f, 0x72, 0x74]; // "rport", lower case

const isLws = (c: number | undefined): boolean => c === 0x20 || c === 0x09 || c === 0x0d || c === 0x0a;

/**
 * Finds parameter `name` (lower-case bytes) in `;`-separated params starting at `p` (the first
 * param's name, as V_PARAMS_OFF gives it). value is -1 when the param has no '='.
 */
function findParam(bytes: Uint8Array, p: number, end: number, name: number[]): { nameEnd: number; value: number; valueEnd: number } | null {
  while (p < end) {
    while (p < end && isLws(bytes[p])) p++;
    let q = p;
    while (q < end && q - p < name.length && (bytes[q]! | 0x20) === name[q - p]) q++;
    const match = q - p === name.length && (q === end || !isToken(bytes[q]!));
    let r = q;
    while (r < end && bytes[r] !== 0x3b) {
      if (bytes[r] === 0x22) r = skipQuoted(bytes, r, end);
      else r++;
    }
    if (match) {
      let v = q;
      while (v < r && isLws(bytes[v])) v++;
      if (v >= r || bytes[v] !== 0x3d) return { nameEnd: q, value: -1, valueEnd: -1 };
      v++;
      while (v < r && isLws(bytes[v])) v++;
      let ve = r;
      while (ve > v && isLws(bytes[ve - 1])) ve--;
      return { nameEnd: q, value: v, valueEnd: ve };
    }
    p = r + 1;
  }
  return null;
}

// RFC 3261 25.1 token: alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~"
const TOKEN = new Uint8Array(128);
for (const c of 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.!%*_+`\'~') TOKEN[c.charCodeAt(0)] = 1;
const isToken = (c: number): boolean => c < 128 && TOKEN[c] === 1;

function skipQuoted(bytes: Uint8Array, p: number, end: number): number {
  for (p++; p < end; p++) {
    if (bytes[p] === 0x5c) p++;
    else if (bytes[p] === 0x22) return p + 1;
  }
  return end;
}

export interface ResponseOptions {
  /** Tag added to To when the request's To has none (RFC 3261 8.2.6.2); ignored for 100. */
  toTag?: string;
  /** Extra header lines, e.g. 'Unsupported: foo'. */
  headers?: string[];
  /** Server header value. */
  server?: string;
}

/**
 * A response to the request in `table` (RFC 3261 8.2.6): every Via line in order and as written,
 * From, To (tagged), Call-ID, CSeq, Content-Length: 0. Works on a malformed request's table (after
 * a failed parse) as long as those headers were found; null when one is missing.
 */
export function buildResponse(bytes: Uint8Array, table: Int32Array, status: number, reason?: string, opts?: ResponseOptions): Buffer | null {
  const t = table;
  // The copied lines keep the request's order (RFC 3261 8.2.6.2 asks only that Via values keep
  // theirs): adjacent lines then go out as one copy.
  const picked: number[] = [];
  let seen = 0;
  let to = -1;
  const n = t[C.F_HDR_COUNT]!;
  for (let i = 0; i < n; i++) {
    const b = entry(i);
    const bit = COPIED[t[b + C.H_ID]!]!;
    if (bit === 0 || (bit === TIMESTAMP && status !== 100)) continue; // RFC 3261 8.2.6.1: Timestamp in a 100
    if (bit !== VIA && (seen & bit) !== 0) continue; // one of each of the others
    seen |= bit;
    picked.push(b);
    if (bit === TO) to = b;
  }
  if ((seen & REQUIRED) !== REQUIRED) return null;
  const out = new Assembler(bytes).text(`SIP/2.0 ${status} ${reason ?? reasonPhrase(status)}\r\n`);
  const tag = status > 100 && opts?.toTag !== undefined && !hasTag(bytes, t, to) ? `;tag=${opts.toTag}\r\n` : '';
  for (const b of picked) {
    if (b === to && tag !== '') out.range(t[b + C.H_NAME_OFF]!, t[b + C.H_VALUE_OFF]! + t[b + C.H_VALUE_LEN]!).text(tag);
    else out.line(t, b);
  }
  if (opts?.server !== undefined) out.text(`Server: ${opts.server}\r\n`);
  if (opts?.headers) for (const h of opts.headers) out.text(`${h}\r\n`);
  return out.text('Content-Length: 0\r\n\r\n').toBuffer();
}

// Header id -> bit of the headers a response copies from its request.
const VIA = 1;
const TO = 2;
const TIMESTAMP = 32;
const REQUIRED = VIA | TO | 4 | 8 | 16;
const COPIED = new Uint8Array(C.HDR_COUNT);
COPIED[C.HDR_VIA] = VIA;
COPIED[C.HDR_TO] = TO;
COPIED[C.HDR_FROM] = 4;
COPIED[C.HDR_CALL_ID] = 8;
COPIED[C.HDR_CSEQ] = 16;
COPIED[C.HDR_TIMESTAMP] = TIMESTAMP;

/** The parser's tag slot; without one, a look at the bytes (the To may be one it could not parse). */
function hasTag(bytes: Uint8Array, t: Int32Array, b: number): boolean {
  if (t[C.F_TO + C.N_TAG_OFF]! >= 0) return true;
  const off = t[b + C.H_VALUE_OFF]!;
  const value = Buffer.from(bytes.buffer, bytes.byteOffset + off, t[b + C.H_VALUE_LEN]).toString('latin1');
  // header params follow the URI's closing '>'; a ';tag=' inside <...> is a URI parameter
  return /;\s*tag\s*=/i.test(value.slice(value.lastIndexOf('>') + 1));
}
