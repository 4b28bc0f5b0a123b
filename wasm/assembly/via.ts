// Via (RFC 3261 20.42, RFC 3581): via-parm = sent-protocol LWS sent-by *( SEMI via-params ),
// with LWS (folds included) allowed around '/', ':' , ';' and '='.
import {
  TRANSPORT_OTHER, TRANSPORT_SCTP, TRANSPORT_TCP, TRANSPORT_TLS, TRANSPORT_UDP, TRANSPORT_WS, TRANSPORT_WSS,
  V_BRANCH_LEN, V_BRANCH_OFF, V_HOST_LEN, V_HOST_OFF, V_LEN, V_MADDR_LEN, V_MADDR_OFF, V_OFF, V_PARAMS_LEN, V_PARAMS_OFF,
  V_PORT, V_RECEIVED_LEN, V_RECEIVED_OFF, V_RPORT, V_TRANSPORT, V_TRANSPORT_LEN, V_TRANSPORT_OFF,
} from "./constants";
import { C_LWS, ch, eqLower, is, lower, parseDigits, setF, skipLws, skipToken, trimEnd } from "./chars";
import { nextParam, paramName, paramNameLen, paramValue, paramValueLen } from "./params";
import { parseHostPort } from "./uri";

export function clearVia(b: i32): void {
  setF(b + V_OFF, -1);
  setF(b + V_LEN, 0);
  setF(b + V_TRANSPORT, 0);
  setF(b + V_TRANSPORT_OFF, -1);
  setF(b + V_TRANSPORT_LEN, 0);
  setF(b + V_HOST_OFF, -1);
  setF(b + V_HOST_LEN, 0);
  setF(b + V_PORT, 0);
  setF(b + V_BRANCH_OFF, -1);
  setF(b + V_BRANCH_LEN, 0);
  setF(b + V_RECEIVED_OFF, -1);
  setF(b + V_RECEIVED_LEN, 0);
  setF(b + V_RPORT, -1);
  setF(b + V_MADDR_OFF, -1);
  setF(b + V_MADDR_LEN, 0);
  setF(b + V_PARAMS_OFF, -1);
  setF(b + V_PARAMS_LEN, 0);
}

function transportId(p: i32, len: i32): i32 {
  const a = lower(ch(p));
  const b = len > 1 ? lower(ch(p + 1)) : 0;
  if (len == 3) {
    const c = lower(ch(p + 2));
    if (a == 0x75 && b == 0x64 && c == 0x70) return TRANSPORT_UDP;
    if (a == 0x74 && b == 0x63 && c == 0x70) return TRANSPORT_TCP;
    if (a == 0x74 && b == 0x6c && c == 0x73) return TRANSPORT_TLS;
    if (a == 0x77 && b == 0x73 && c == 0x73) return TRANSPORT_WSS;
  } else if (len == 2) {
    if (a == 0x77 && b == 0x73) return TRANSPORT_WS;
  } else if (len == 4 && eqLower(p, 4, "sctp")) {
    return TRANSPORT_SCTP;
  }
  return TRANSPORT_OTHER;
}

/** Expects SWS "/" SWS at p; returns the offset after it or -1. */
function slash(p: i32, end: i32): i32 {
  p = skipLws(p, end);
  if (p >= end || ch(p) != 0x2f) return -1;
  return skipLws(p + 1, end);
}

/**
 * Parses one via-parm starting at s into Via block b, reading no further than end. Returns the
 * offset where it stopped (end, or the ',' before the next via-parm), or -1 when malformed.
 */
export function parseVia(b: i32, s: i32, end: i32): i32 {
  // The block starts absent (the reset template, or clearVia() for the sink).
  setF(b + V_OFF, s);
  let p: i32;
  let q: i32;
  // Nearly every Via starts "SIP/2.0/" with no LWS inside: one 8-byte compare (letters OR 0x20).
  if (s + 8 < end && (load<u64>(<usize>s) | 0x0000000000202020) == 0x2f302e322f706973) {
    p = s + 8;
    q = skipToken(p, end);
  } else {
    p = skipToken(s, end); // protocol-name
    if (p == s) return -1;
    p = slash(p, end);
    if (p < 0) return -1;
    q = skipToken(p, end); // protocol-version
    if (q == p) return -1;
    p = slash(q, end);
    if (p < 0) return -1;
    q = skipToken(p, end); // transport
  }
  if (q == p) return -1;
  setF(b + V_TRANSPORT, transportId(p, q - p));
  setF(b + V_TRANSPORT_OFF, p);
  setF(b + V_TRANSPORT_LEN, q - p);
  if (q >= end || !is(ch(q), C_LWS)) return -1;
  p = parseHostPort(skipLws(q, end), end, b + V_HOST_OFF, b + V_PORT, true);
  if (p < 0) return -1;
  p = skipLws(p, end);
  if (p < end && ch(p) == 0x3b) {
    const ps = skipLws(p + 1, end);
    setF(b + V_PARAMS_OFF, ps);
    while (p < end && ch(p) != 0x2c) {
      p = nextParam(p, end);
      if (p < 0) return -1;
      // parameter names are case-insensitive tokens: OR 0x20 folds the letters of these four
      const n = paramNameLen;
      const w = n >= 4 ? load<u32>(<usize>paramName) | 0x20202020 : 0;
      if (n == 6 && w == 0x6e617262 && (<u32>load<u16>(<usize>paramName + 4) | 0x2020) == 0x6863) { // "bran" "ch"
        if (paramValue < 0) return -1;
        setF(b + V_BRANCH_OFF, paramValue);
        setF(b + V_BRANCH_LEN, paramValueLen);
      } else if (n == 8 && w == 0x65636572 && (load<u32>(<usize>paramName + 4) | 0x20202020) == 0x64657669) { // "rece" "ived"
        if (paramValue < 0) return -1;
        setF(b + V_RECEIVED_OFF, paramValue);
        setF(b + V_RECEIVED_LEN, paramValueLen);
      } else if (n == 5 && w == 0x726f7072 && (ch(paramName + 4) | 0x20) == 0x74) { // "rpor" "t"
        if (paramValue < 0) {
          setF(b + V_RPORT, 0);
        } else {
          const port = parseDigits(paramValue, paramValue + paramValueLen, 65535);
          if (port < 0) return -1;
          setF(b + V_RPORT, <i32>port);
        }
      } else if (n == 5 && w == 0x6464616d && (ch(paramName + 4) | 0x20) == 0x72) { // "madd" "r"
        if (paramValue < 0) return -1;
        setF(b + V_MADDR_OFF, paramValue);
        setF(b + V_MADDR_LEN, paramValueLen);
      }
    }
    setF(b + V_PARAMS_LEN, trimEnd(ps, p) - ps);
  }
  if (p < end && ch(p) != 0x2c) return -1;
  setF(b + V_LEN, trimEnd(s, p) - s);
  return p;
}
