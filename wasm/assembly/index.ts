// siplb's SIP parser: one parse() per datagram, writing spans into the table (constants.ts has
// the memory map). Malformed input is data: parse() records the first error it finds and goes on
// where it safely can, so a proxy still finds the Via, Call-ID and CSeq it needs to answer 400.
// It never traps, reads only [0, len), and is linear in len.
import {
  ABI_VERSION, TABLE_SLOTS, MEMORY_BASE, INPUT_CAPACITY, INPUT_PTR, TABLE_PTR, FIELDS, HDR_BASE, HDR_STRIDE, MAX_HEADERS, VAL_BASE, MAX_VALUES,
  H_ID, H_NAME_OFF, H_NAME_LEN, H_VALUE_OFF, H_VALUE_LEN, H_FIRST_VAL, H_VAL_COUNT, H_FLAGS, HF_FOLDED, HF_LIST,
  F_KIND, F_ERROR, F_ERROR_OFF, F_ERROR_DETAIL, F_MSG_LEN, F_START_OFF, F_START_LEN, F_METHOD_ID, F_METHOD_OFF,
  F_METHOD_LEN, F_STATUS, F_REASON_OFF, F_REASON_LEN, F_VERSION_OFF, F_VERSION_LEN, F_HDR_COUNT, F_VAL_COUNT,
  F_HEADERS_END, F_BODY_OFF, F_BODY_LEN, F_CONTENT_LENGTH, F_MAX_FORWARDS, F_CALL_ID_OFF, F_CALL_ID_LEN,
  F_CSEQ_NUM, F_CSEQ_METHOD_OFF, F_CSEQ_METHOD_LEN, F_CSEQ_METHOD_ID, F_VIA_COUNT, F_VIA1_HDR, F_VIA2_HDR,
  F_ROUTE_COUNT, F_RR_COUNT, F_NOTES, F_URI_SCRATCH_ERR, F_RURI, F_URI_SCRATCH, F_ROUTE1, F_RR1, F_FROM, F_TO,
  F_VIA1, F_VIA2, U_HEADERS_OFF, N_OFF, N_URI,
  KIND_REQUEST, KIND_RESPONSE, METHOD_OTHER, METHOD_INVITE, METHOD_ACK, METHOD_BYE, METHOD_CANCEL, METHOD_OPTIONS,
  METHOD_REGISTER, METHOD_PRACK, METHOD_SUBSCRIBE, METHOD_NOTIFY, METHOD_PUBLISH, METHOD_INFO, METHOD_REFER,
  METHOD_MESSAGE, METHOD_UPDATE,
  NOTE_LEADING_CRLF, NOTE_8BIT, NOTE_FOLDED, NOTE_BARE_LF, NOTE_NO_CONTENT_LENGTH, NOTE_TRAILING_OCTETS,
  ERR_TOO_LARGE, ERR_EMPTY, ERR_START_LINE, ERR_VERSION, ERR_METHOD, ERR_REQUEST_URI, ERR_STATUS,
  ERR_HEADER_SYNTAX, ERR_HEADERS_UNTERMINATED, ERR_TOO_MANY_HEADERS, ERR_MISSING_VIA, ERR_MISSING_FROM,
  ERR_MISSING_TO, ERR_MISSING_CALL_ID, ERR_MISSING_CSEQ, ERR_DUPLICATE_HEADER, ERR_VIA, ERR_FROM, ERR_TO,
  ERR_CALL_ID, ERR_CSEQ, ERR_CSEQ_METHOD, ERR_MAX_FORWARDS, ERR_CONTENT_LENGTH, ERR_BODY_SHORT, ERR_ROUTE, ERR_URI,
  HDR_OTHER, HDR_VIA, HDR_FROM, HDR_TO, HDR_CALL_ID, HDR_CSEQ, HDR_MAX_FORWARDS, HDR_CONTENT_LENGTH, HDR_ROUTE,
  HDR_RECORD_ROUTE,
} from "./constants";
import { HASH_MASK, SLOTS, ENTRY_ID, ENTRY_OFF, ENTRY_LEN, NAMES } from "./header-table.generated";
import {
  C_LWS, C_TOKEN, C_WS, ch, eqBytes, eqLit, findByte, findLF, getF, is, lfBits, lower, parseDigits, resetLfBits, setF, skipLws,
  skipQuoted, skipToken, trimEnd,
} from "./chars";
import { clearUri, parseUri } from "./uri";
import { clearVia, parseVia } from "./via";
import { clearNameAddr, parseNameAddr } from "./nameaddr";

let inputLen: i32 = 0;

// Via values past the second are parsed (so a malformed one is caught) into this block, which lies
// past the end of the table JS sees.
const VIA_SINK: i32 = TABLE_SLOTS;

/** ABI version of this module; the JS binding refuses a module it was not generated for. */
export function abiVersion(): i32 {
  return ABI_VERSION;
}
/** Where JS copies the datagram. Called once per thread at start. */
export function inputPtr(): i32 {
  return INPUT_PTR;
}
/** Where the i32 table starts. Called once per thread at start. */
export function tablePtr(): i32 {
  return TABLE_PTR;
}

// @ts-ignore: decorator
@inline function fail(code: i32, off: i32, detail: i32): void {
  if (getF(F_ERROR) == 0) {
    setF(F_ERROR, code);
    setF(F_ERROR_OFF, off);
    setF(F_ERROR_DETAIL, detail);
  }
}
// @ts-ignore: decorator
@inline function note(bit: i32): void {
  setF(F_NOTES, getF(F_NOTES) | bit);
}

// Methods are case-sensitive (RFC 3261 7.1): compare little-endian words of the exact bytes.
// @ts-ignore: decorator
@inline function w32(p: i32): u32 {
  return load<u32>(<usize>p);
}
// @ts-ignore: decorator
@inline function w16(p: i32): u32 {
  return <u32>load<u16>(<usize>p);
}

function methodId(p: i32, len: i32): i32 {
  switch (len) {
    case 3: {
      const w = w16(p) | (<u32>ch(p + 2) << 16);
      if (w == 0x4b4341) return METHOD_ACK; // "ACK"
      if (w == 0x455942) return METHOD_BYE; // "BYE"
      break;
    }
    case 4:
      if (w32(p) == 0x4f464e49) return METHOD_INFO; // "INFO"
      break;
    case 5: {
      const w = w32(p);
      const c = ch(p + 4);
      if (w == 0x43415250 && c == 0x4b) return METHOD_PRACK; // "PRAC" "K"
      if (w == 0x45464552 && c == 0x52) return METHOD_REFER; // "REFE" "R"
      break;
    }
    case 6: {
      const w = w32(p);
      const t = w16(p + 4);
      if (w == 0x49564e49 && t == 0x4554) return METHOD_INVITE; // "INVI" "TE"
      if (w == 0x434e4143 && t == 0x4c45) return METHOD_CANCEL; // "CANC" "EL"
      if (w == 0x49544f4e && t == 0x5946) return METHOD_NOTIFY; // "NOTI" "FY"
      if (w == 0x41445055 && t == 0x4554) return METHOD_UPDATE; // "UPDA" "TE"
      break;
    }
    case 7: {
      const w = w32(p);
      const t = w16(p + 4) | (<u32>ch(p + 6) << 16);
      if (w == 0x4954504f && t == 0x534e4f) return METHOD_OPTIONS; // "OPTI" "ONS"
      if (w == 0x4c425550 && t == 0x485349) return METHOD_PUBLISH; // "PUBL" "ISH"
      if (w == 0x5353454d && t == 0x454741) return METHOD_MESSAGE; // "MESS" "AGE"
      break;
    }
    case 8:
      if (w32(p) == 0x49474552 && w32(p + 4) == 0x52455453) return METHOD_REGISTER; // "REGI" "STER"
      break;
    case 9:
      if (w32(p) == 0x53425553 && w32(p + 4) == 0x42495243 && ch(p + 8) == 0x45) return METHOD_SUBSCRIBE; // "SUBS" "CRIB" "E"
      break;
  }
  return METHOD_OTHER;
}

/** SIP-Version = "SIP" "/" 1*DIGIT "." 1*DIGIT ("SIP" case-insensitive). Returns its end or -1. */
function versionEnd(p: i32, e: i32): i32 {
  if (e - p < 7) return -1;
  if (lower(ch(p)) != 0x73 || lower(ch(p + 1)) != 0x69 || lower(ch(p + 2)) != 0x70 || ch(p + 3) != 0x2f) return -1;
  let q = p + 4;
  const d1 = q;
  while (q < e && ch(q) >= 48 && ch(q) <= 57) q++;
  if (q == d1 || q >= e || ch(q) != 0x2e) return -1;
  q++;
  const d2 = q;
  while (q < e && ch(q) >= 48 && ch(q) <= 57) q++;
  if (q == d2) return -1;
  return q;
}
function isVersion20(p: i32, end: i32): bool {
  return end - p == 7 && ch(p + 4) == 0x32 && ch(p + 5) == 0x2e && ch(p + 6) == 0x30;
}

function parseStartLine(s: i32, e: i32): void {
  setF(F_START_OFF, s);
  setF(F_START_LEN, e - s);
  if (e - s >= 4 && lower(ch(s)) == 0x73 && lower(ch(s + 1)) == 0x69 && lower(ch(s + 2)) == 0x70 && ch(s + 3) == 0x2f) {
    // Status-Line = SIP-Version SP Status-Code SP Reason-Phrase
    setF(F_KIND, KIND_RESPONSE);
    const v = versionEnd(s, e);
    if (v < 0) return fail(ERR_START_LINE, s, 0);
    setF(F_VERSION_OFF, s);
    setF(F_VERSION_LEN, v - s);
    if (!isVersion20(s, v)) fail(ERR_VERSION, s, 0);
    if (v >= e || ch(v) != 0x20) return fail(ERR_START_LINE, v, 0);
    let p = v + 1;
    const d = p;
    while (p < e && ch(p) >= 48 && ch(p) <= 57) p++;
    if (p - d != 3) return fail(ERR_STATUS, d, 0);
    const code = <i32>parseDigits(d, p, 999);
    if (code < 100 || code > 699) return fail(ERR_STATUS, d, 0);
    setF(F_STATUS, code);
    if (p < e) {
      if (ch(p) != 0x20) return fail(ERR_STATUS, d, 0);
      p++;
    }
    setF(F_REASON_OFF, p);
    setF(F_REASON_LEN, e - p);
    return;
  }
  // Request-Line = Method SP Request-URI SP SIP-Version
  setF(F_KIND, KIND_REQUEST);
  const m = skipToken(s, e);
  if (m == s) return fail(ERR_METHOD, s, 0);
  setF(F_METHOD_OFF, s);
  setF(F_METHOD_LEN, m - s);
  setF(F_METHOD_ID, methodId(s, m - s));
  if (m >= e) return fail(ERR_START_LINE, m, 0);
  if (ch(m) != 0x20) return fail(ERR_METHOD, m, 0);
  // Fast path, one forward pass: the URI scanner stops at the SP before the version.
  const q = parseUri(F_RURI, m + 1, e, false);
  if (q > m + 1 && q < e && ch(q) == 0x20 && versionEnd(q + 1, e) == e) {
    setF(F_VERSION_OFF, q + 1);
    setF(F_VERSION_LEN, e - q - 1);
    if (!isVersion20(q + 1, e)) fail(ERR_VERSION, q + 1, 0);
    // RFC 3261 19.1.1: headers are not allowed in a Request-URI (RFC 4475 3.1.2.11)
    if (getF(F_RURI + U_HEADERS_OFF) >= 0) fail(ERR_REQUEST_URI, getF(F_RURI + U_HEADERS_OFF), 0);
    return;
  }
  // Slow path: say precisely what is wrong.
  let last = e - 1;
  while (last > m && ch(last) != 0x20) last--;
  if (last == m) return fail(ERR_START_LINE, m, 0); // no SIP-Version
  const v = versionEnd(last + 1, e);
  if (v != e) return fail(ERR_START_LINE, last + 1, 0);
  setF(F_VERSION_OFF, last + 1);
  setF(F_VERSION_LEN, e - last - 1);
  const u0 = m + 1;
  const u1 = last;
  if (u0 >= u1 || ch(u0) == 0x20 || ch(u1 - 1) == 0x20) return fail(ERR_START_LINE, u0, 0);
  if (!isVersion20(last + 1, e)) fail(ERR_VERSION, last + 1, 0);
  for (let q = u0; q < u1; q++) {
    if (is(ch(q), C_LWS)) return fail(ERR_REQUEST_URI, q, 0); // RFC 4475 3.1.2.8: no LWS in a Request-URI
  }
  clearUri(F_RURI); // the fast path may have filled part of it
  if (parseUri(F_RURI, u0, u1, false) != u1) return fail(ERR_REQUEST_URI, u0, 0);
  // RFC 3261 19.1.1: headers are not allowed in a Request-URI (RFC 4475 3.1.2.11)
  if (getF(F_RURI + U_HEADERS_OFF) >= 0) fail(ERR_REQUEST_URI, getF(F_RURI + U_HEADERS_OFF), 0);
}

/**
 * Header id of the name [n, n+len). The hash mixes the length with the first, second and last
 * bytes (lower-cased) so the scan that finds the name's end does no arithmetic per byte; the
 * byte comparison that follows settles collisions. scripts/gen-constants.mjs builds the same table.
 */
// @ts-ignore: decorator
@inline function headerId(n: i32, len: i32): i32 {
  if (len == 0 || len > 255) return HDR_OTHER;
  const key: u32 = (<u32>ch(n) | (<u32>ch(n + (len > 1 ? 1 : 0)) << 8) | (<u32>ch(n + len - 1) << 16) | 0x202020) |
    (<u32>len << 24);
  const slots = changetype<usize>(SLOTS);
  const names = changetype<usize>(NAMES);
  const lens = changetype<usize>(ENTRY_LEN);
  let slot = (key * 0x9e3779b1) >> 23;
  while (true) {
    const e = <usize>load<u8>(slots + <usize>slot);
    if (e == 0) return HDR_OTHER;
    if (<i32>load<u8>(lens + e) == len) {
      // The name's bytes are token characters, for which OR 0x20 lower-cases letters and changes
      // nothing a known name contains: compare eight bytes at a time.
      // Words past the name's end are masked off: on the input side they are the ':' and value
      // (inside memory: INPUT is followed by the table), on the table side the next name.
      const o = names + <usize>load<u16>(changetype<usize>(ENTRY_OFF) + (e << 1));
      let i = 0;
      while (i + 8 <= len && (load<u64>(<usize>(n + i)) | 0x2020202020202020) == load<u64>(o + <usize>i)) i += 8;
      const rest = len - i;
      if (rest == 0) return <i32>load<u8>(changetype<usize>(ENTRY_ID) + e);
      if (rest < 8) {
        const mask: u64 = (<u64>1 << (<u64>rest << 3)) - 1;
        if (((load<u64>(<usize>(n + i)) | 0x2020202020202020) & mask) == (load<u64>(o + <usize>i) & mask)) {
          return <i32>load<u8>(changetype<usize>(ENTRY_ID) + e);
        }
      }
    }
    slot = (slot + 1) & HASH_MASK;
  }
}

function addValue(s: i32, e: i32, id: i32): i32 {
  s = skipLws(s, e);
  e = trimEnd(s, e);
  if (s == e) {
    return 0;
  }
  const n = getF(F_VAL_COUNT);
  if (n >= MAX_VALUES) {
    fail(ERR_TOO_MANY_HEADERS, s, id);
    return 0;
  }
  setF(VAL_BASE + n * 2, s);
  setF(VAL_BASE + n * 2 + 1, e - s);
  setF(F_VAL_COUNT, n + 1);
  return 1;
}

/** Splits a list header value at commas outside quotes and <>; returns how many values it wrote. */
function splitList(s: i32, e: i32, errCode: i32, id: i32): i32 {
  let count = 0;
  let start = s;
  let p = s;
  while (p < e) {
    const c = ch(p);
    if (c == 0x22) {
      const q = skipQuoted(p, e);
      if (q < 0) {
        fail(errCode, p, id);
        break;
      }
      p = q;
      continue;
    }
    if (c == 0x3c) {
      const q = findByte(p, e, 0x3e);
      if (q < 0) {
        fail(errCode, p, id);
        break;
      }
      p = q + 1;
      continue;
    }
    if (c == 0x2c) {
      count += addValue(start, p, id);
      start = p + 1;
    }
    p++;
  }
  return count + addValue(start, e, id);
}

/** True when [p, end) may hold a byte below 0x21 (SP, HTAB, CR, LF, controls); eight bytes at a time. */
function hasLowByte(p: i32, end: i32): bool {
  while (p + 8 <= end) {
    const x = load<u64>(<usize>p);
    if (((x - 0x2121212121212121) & ~x & 0x8080808080808080) != 0) return true;
    p += 8;
  }
  while (p < end) {
    if (ch(p) < 0x21) return true;
    p++;
  }
  return false;
}

/** Records the values a Via, Route or Record-Route entry was split into, and flags it a list. */
// @ts-ignore: decorator
@inline function listEntry(entry: i32, first: i32, n: i32): void {
  const b = HDR_BASE + entry * HDR_STRIDE;
  setF(b + H_FIRST_VAL, first);
  setF(b + H_VAL_COUNT, n);
  setF(b + H_FLAGS, getF(b + H_FLAGS) | HF_LIST);
}

/** Per-header work for the headers a proxy reads. */
function onHeader(id: i32, entry: i32, vs: i32, ve: i32): void {
  switch (id) {
    case HDR_VIA: {
      // one pass over every via-parm of the line; values past the second are checked, not kept
      const first = getF(F_VAL_COUNT);
      let n = 0;
      let p = vs;
      while (true) {
        p = skipLws(p, ve);
        if (p >= ve) {
          fail(ERR_VIA, p, id); // empty value or a trailing comma
          break;
        }
        const c = getF(F_VIA_COUNT) + 1;
        setF(F_VIA_COUNT, c);
        if (c > 2) clearVia(VIA_SINK);
        const q = parseVia(c == 1 ? F_VIA1 : c == 2 ? F_VIA2 : VIA_SINK, p, ve);
        if (q < 0) {
          fail(ERR_VIA, p, id);
          break;
        }
        if (c <= 2) setF(c == 1 ? F_VIA1_HDR : F_VIA2_HDR, entry);
        n += addValue(p, q, id);
        if (q >= ve) break;
        p = q + 1; // past the ','
      }
      if (entry >= 0) {
        listEntry(entry, first, n);
      }
      return;
    }
    case HDR_ROUTE:
    case HDR_RECORD_ROUTE: {
      const first = getF(F_VAL_COUNT);
      const n = splitList(vs, ve, ERR_ROUTE, id);
      if (n == 0) fail(ERR_ROUTE, vs, id); // route-param *(COMMA route-param): never empty
      const countSlot = id == HDR_ROUTE ? F_ROUTE_COUNT : F_RR_COUNT;
      const block = id == HDR_ROUTE ? F_ROUTE1 : F_RR1;
      if (n > 0 && getF(countSlot) == 0) {
        const off = getF(VAL_BASE + first * 2);
        const len = getF(VAL_BASE + first * 2 + 1);
        if (!parseNameAddr(-1, block, off, off + len, true)) fail(ERR_ROUTE, off, id);
      }
      setF(countSlot, getF(countSlot) + n);
      if (entry >= 0) {
        listEntry(entry, first, n);
      }
      return;
    }
    case HDR_FROM:
    case HDR_TO: {
      const block = id == HDR_FROM ? F_FROM : F_TO;
      if (getF(block + N_OFF) >= 0) return fail(ERR_DUPLICATE_HEADER, vs, id);
      if (!parseNameAddr(block, -1, vs, ve, false)) {
        fail(id == HDR_FROM ? ERR_FROM : ERR_TO, vs, id);
        setF(block + N_OFF, vs); // seen, even if malformed: a second one is still a duplicate
      }
      return;
    }
    case HDR_CALL_ID: {
      if (getF(F_CALL_ID_OFF) >= 0) return fail(ERR_DUPLICATE_HEADER, vs, id);
      setF(F_CALL_ID_OFF, vs);
      setF(F_CALL_ID_LEN, ve - vs);
      if (vs == ve) return fail(ERR_CALL_ID, vs, id);
      if (hasLowByte(vs, ve)) {
        for (let q = vs; q < ve; q++) if (is(ch(q), C_LWS)) return fail(ERR_CALL_ID, q, id);
      }
      return;
    }
    case HDR_CSEQ: {
      if (getF(F_CSEQ_METHOD_OFF) >= 0 || getF(F_CSEQ_NUM) >= 0) return fail(ERR_DUPLICATE_HEADER, vs, id);
      let p = vs;
      while (p < ve && ch(p) >= 48 && ch(p) <= 57) p++;
      const num = parseDigits(vs, p, 0x7fffffff); // RFC 3261 8.1.1.5: less than 2**31
      if (num < 0 || p >= ve || !is(ch(p), C_LWS)) return fail(ERR_CSEQ, vs, id);
      setF(F_CSEQ_NUM, <i32>num);
      p = skipLws(p, ve);
      const m = skipToken(p, ve);
      if (m == p || m != ve) return fail(ERR_CSEQ, vs, id);
      setF(F_CSEQ_METHOD_OFF, p);
      setF(F_CSEQ_METHOD_LEN, m - p);
      setF(F_CSEQ_METHOD_ID, methodId(p, m - p));
      return;
    }
    case HDR_MAX_FORWARDS: {
      if (getF(F_MAX_FORWARDS) >= 0) return fail(ERR_DUPLICATE_HEADER, vs, id);
      const mf = parseDigits(vs, ve, 255);
      if (mf < 0) return fail(ERR_MAX_FORWARDS, vs, id);
      setF(F_MAX_FORWARDS, <i32>mf);
      return;
    }
    case HDR_CONTENT_LENGTH: {
      // two Content-Length headers are a framing error even when they agree (RFC 4475 3.3.9)
      if (getF(F_CONTENT_LENGTH) != -1) return fail(ERR_CONTENT_LENGTH, vs, id);
      const cl = parseDigits(vs, ve, 0x7fffffff);
      if (cl < 0) {
        setF(F_CONTENT_LENGTH, -2); // seen but unusable; never used as a length
        return fail(ERR_CONTENT_LENGTH, vs, id);
      }
      setF(F_CONTENT_LENGTH, <i32>cl);
      return;
    }
    // Other list headers (Contact, Allow, Supported...) are split by the binding when read: the proxy
    // forwards them untouched, and splitting them here cost a pass over their bytes per message.
  }
}

// The fixed fields as every parse starts them: spans absent (offset -1, length 0), counters 0.
// Built once at instantiation, copied over the fields by each parse. It sits in the free memory
// between the table's end and MEMORY_BASE.
const TEMPLATE: usize = <usize>MEMORY_BASE - 4096;

function buildTemplate(): void {
  memory.fill(<usize>TABLE_PTR, 0xff, <usize>FIELDS << 2);
  const zero: StaticArray<i32> = [
    F_KIND, F_ERROR, F_ERROR_DETAIL, F_MSG_LEN, F_START_LEN, F_METHOD_ID, F_METHOD_LEN, F_STATUS, F_REASON_LEN,
    F_VERSION_LEN, F_HDR_COUNT, F_VAL_COUNT, F_BODY_LEN, F_CALL_ID_LEN, F_CSEQ_METHOD_LEN, F_CSEQ_METHOD_ID,
    F_VIA_COUNT, F_ROUTE_COUNT, F_RR_COUNT, F_NOTES, F_URI_SCRATCH_ERR,
  ];
  for (let i = 0; i < zero.length; i++) setF(unchecked(zero[i]), 0);
  clearUri(F_RURI);
  clearUri(F_URI_SCRATCH);
  clearUri(F_ROUTE1);
  clearUri(F_RR1);
  clearNameAddr(F_FROM);
  clearUri(F_FROM + N_URI);
  clearNameAddr(F_TO);
  clearUri(F_TO + N_URI);
  clearVia(F_VIA1);
  clearVia(F_VIA2);
  memory.copy(TEMPLATE, <usize>TABLE_PTR, <usize>FIELDS << 2);
}
buildTemplate();

/**
 * Parses the datagram of `len` bytes at INPUT_PTR. Called by JS once per datagram, after copying
 * the bytes in. Returns 0 or the first ERR_* found; the table holds everything that could be read.
 */
export function parse(len: i32): i32 {
  memory.copy(<usize>TABLE_PTR, TEMPLATE, <usize>FIELDS << 2);
  resetLfBits();
  inputLen = 0;
  if (len < 0 || len > INPUT_CAPACITY) {
    fail(ERR_TOO_LARGE, 0, 0);
    return ERR_TOO_LARGE;
  }
  inputLen = len;
  let p = 0;
  while (p < len && (ch(p) == 13 || ch(p) == 10)) p++; // RFC 3261 7.5: ignore CRLF before the start line
  if (p > 0) note(NOTE_LEADING_CRLF);
  if (p >= len) {
    fail(ERR_EMPTY, p, 0);
    return getF(F_ERROR);
  }
  let lf = findLF(p, len);
  let le = lf;
  if (le > p && ch(le - 1) == 13) le--;
  else if (lf < len) note(NOTE_BARE_LF);
  parseStartLine(p, le);
  p = lf + 1;

  let headersEnd = len;
  let bodyStart = len;
  let count = 0;
  while (true) {
    if (p >= len) {
      fail(ERR_HEADERS_UNTERMINATED, len, 0);
      break;
    }
    const c0 = ch(p);
    if (c0 == 13 && p + 1 < len && ch(p + 1) == 10) {
      headersEnd = p;
      bodyStart = p + 2;
      break;
    }
    if (c0 == 10) {
      note(NOTE_BARE_LF);
      headersEnd = p;
      bodyStart = p + 1;
      break;
    }
    // header name, hashed as it is scanned
    const n = p;
    p = skipToken(p, len);
    const nameEnd = p;
    while (p < len && is(ch(p), C_WS)) p++;
    const good = nameEnd > n && p < len && ch(p) == 0x3a;
    // the header runs to the first LF not followed by SP/HTAB (a fold)
    const vs0 = good ? p + 1 : p;
    let folded = false;
    lf = findLF(vs0, len);
    while (lf + 1 < len && is(ch(lf + 1), C_WS)) {
      folded = true;
      lf = findLF(lf + 1, len);
    }
    let ve = lf;
    if (ve > vs0 && ch(ve - 1) == 13) ve--;
    else if (lf < len) note(NOTE_BARE_LF);
    p = lf + 1;
    if (!good) {
      fail(ERR_HEADER_SYNTAX, n, 0);
      continue;
    }
    const vs = skipLws(vs0, ve);
    ve = trimEnd(vs, ve);
    const id = headerId(n, nameEnd - n);
    let entry = -1;
    if (count < MAX_HEADERS) {
      entry = count++;
      const b = HDR_BASE + entry * HDR_STRIDE;
      setF(b + H_ID, id);
      setF(b + H_NAME_OFF, n);
      setF(b + H_NAME_LEN, nameEnd - n);
      setF(b + H_VALUE_OFF, vs);
      setF(b + H_VALUE_LEN, ve - vs);
      setF(b + H_FIRST_VAL, -1);
      setF(b + H_VAL_COUNT, -1);
      setF(b + H_FLAGS, folded ? HF_FOLDED : 0);
      if (folded) note(NOTE_FOLDED);
    } else {
      fail(ERR_TOO_MANY_HEADERS, n, 0);
    }
    if (id != HDR_OTHER) onHeader(id, entry, vs, ve);
  }
  setF(F_HDR_COUNT, count);
  setF(F_HEADERS_END, headersEnd);
  if ((lfBits() & 0x8080808080808080) != 0) note(NOTE_8BIT);

  // required headers (RFC 3261 8.1.1) and the CSeq method check (RFC 4475 3.1.2.17)
  if (getF(F_VIA_COUNT) == 0) fail(ERR_MISSING_VIA, headersEnd, HDR_VIA);
  if (getF(F_FROM + N_OFF) < 0) fail(ERR_MISSING_FROM, headersEnd, HDR_FROM);
  if (getF(F_TO + N_OFF) < 0) fail(ERR_MISSING_TO, headersEnd, HDR_TO);
  if (getF(F_CALL_ID_OFF) < 0) fail(ERR_MISSING_CALL_ID, headersEnd, HDR_CALL_ID);
  if (getF(F_CSEQ_NUM) < 0 && getF(F_CSEQ_METHOD_OFF) < 0) fail(ERR_MISSING_CSEQ, headersEnd, HDR_CSEQ);
  if (getF(F_KIND) == KIND_REQUEST && getF(F_METHOD_OFF) >= 0 && getF(F_CSEQ_METHOD_OFF) >= 0) {
    const ml = getF(F_METHOD_LEN);
    if (ml != getF(F_CSEQ_METHOD_LEN) || !eqBytes(getF(F_METHOD_OFF), getF(F_CSEQ_METHOD_OFF), ml)) {
      fail(ERR_CSEQ_METHOD, getF(F_CSEQ_METHOD_OFF), HDR_CSEQ);
    }
  }
  if (getF(F_KIND) == KIND_RESPONSE) setF(F_METHOD_ID, getF(F_CSEQ_METHOD_ID));

  // framing (RFC 3261 18.3): Content-Length decides; without it, the rest of the datagram
  const cl = getF(F_CONTENT_LENGTH);
  let bodyEnd = len;
  if (cl >= 0) {
    if (cl > len - bodyStart) {
      fail(ERR_BODY_SHORT, bodyStart, HDR_CONTENT_LENGTH);
    } else {
      bodyEnd = bodyStart + cl;
      if (bodyEnd < len) note(NOTE_TRAILING_OCTETS);
    }
  } else if (cl == -1) {
    note(NOTE_NO_CONTENT_LENGTH);
  }
  setF(F_BODY_OFF, bodyStart);
  setF(F_BODY_LEN, bodyEnd - bodyStart);
  setF(F_MSG_LEN, bodyEnd);
  return getF(F_ERROR);
}

/**
 * Parses [off, off+len) of the last parsed datagram as a URI into the F_URI_SCRATCH block.
 * Called by JS when it reads a URI the parser does not parse up front (Contact, Refer-To...).
 */
export function parseUriAt(off: i32, len: i32): i32 {
  let r = ERR_URI;
  clearUri(F_URI_SCRATCH);
  if (off >= 0 && len >= 0 && off <= inputLen - len && parseUri(F_URI_SCRATCH, off, off + len, false) == off + len) r = 0;
  setF(F_URI_SCRATCH_ERR, r);
  return r;
}
