// From, To, Route and Record-Route values (RFC 3261 20.20, 20.39, 20.34, 20.30):
//   ( name-addr / addr-spec ) *( SEMI param ),  name-addr = [ display-name ] LAQUOT addr-spec RAQUOT
import {
  N_DISPLAY_LEN, N_DISPLAY_OFF, N_LEN, N_OFF, N_PARAMS_LEN, N_PARAMS_OFF, N_TAG_LEN, N_TAG_OFF, N_URI,
  NOTE_URI_SPACES, F_NOTES,
} from "./constants";
import { C_LWS, C_TOKEN, ch, eqLower, getF, is, setF, skipLws, skipQuoted, trimEnd } from "./chars";
import { nextParam, paramName, paramNameLen, paramValue, paramValueLen } from "./params";
import { parseUri } from "./uri";

export function clearNameAddr(b: i32): void {
  setF(b + N_OFF, -1);
  setF(b + N_LEN, 0);
  setF(b + N_DISPLAY_OFF, -1);
  setF(b + N_DISPLAY_LEN, 0);
  setF(b + N_TAG_OFF, -1);
  setF(b + N_TAG_LEN, 0);
  setF(b + N_PARAMS_OFF, -1);
  setF(b + N_PARAMS_LEN, 0);
}

/**
 * Parses a name-addr or addr-spec [s, end) with its header params. b is a name-addr block (From,
 * To), or -1 when only the URI is wanted (Route, Record-Route: uriBlock receives it). With
 * requireAngle, the addr-spec form is refused (Route and Record-Route must use <>).
 */
export function parseNameAddr(b: i32, uriBlock: i32, s: i32, end: i32, requireAngle: bool): bool {
  if (b >= 0) {
    clearNameAddr(b);
    setF(b + N_OFF, s);
    setF(b + N_LEN, end - s);
  }
  let p = s;
  let uriStart = -1;
  let uriEnd = -1;
  if (p < end && ch(p) == 0x22) {
    // quoted display name, then optional LWS, then '<'
    const q = skipQuoted(p, end);
    if (q < 0) return false;
    if (b >= 0) {
      setF(b + N_DISPLAY_OFF, p);
      setF(b + N_DISPLAY_LEN, q - p);
    }
    p = skipLws(q, end);
    if (p >= end || ch(p) != 0x3c) return false;
  } else {
    // *(token LWS) then '<' is a name-addr; anything else is an addr-spec
    let q = p;
    while (q < end && (is(ch(q), C_TOKEN) || is(ch(q), C_LWS))) q++;
    if (q < end && ch(q) == 0x3c) {
      const d = trimEnd(p, q);
      if (d > p && b >= 0) {
        setF(b + N_DISPLAY_OFF, p);
        setF(b + N_DISPLAY_LEN, d - p);
      }
      p = q;
    } else {
      if (requireAngle) return false;
      // addr-spec: the URI ends at the first ';' or LWS; what follows are header params
      uriStart = p;
      q = p;
      while (q < end && ch(q) != 0x3b && !is(ch(q), C_LWS)) q++;
      uriEnd = q;
      p = q;
    }
  }
  if (uriStart < 0) {
    // p is at '<': the URI runs to the next '>'
    let q = p + 1;
    while (q < end && ch(q) != 0x3e) q++;
    if (q >= end) return false;
    uriStart = skipLws(p + 1, q);
    uriEnd = trimEnd(uriStart, q);
    if (uriStart != p + 1 || uriEnd != q) setF(F_NOTES, getF(F_NOTES) | NOTE_URI_SPACES);
    p = q + 1;
  }
  const ub = b >= 0 ? b + N_URI : uriBlock;
  if (!parseUri(ub, uriStart, uriEnd)) return false;
  p = skipLws(p, end);
  if (p == end) return true;
  if (ch(p) != 0x3b) return false;
  if (b >= 0) {
    const ps = skipLws(p + 1, end);
    setF(b + N_PARAMS_OFF, ps);
    setF(b + N_PARAMS_LEN, end - ps);
  }
  while (p < end) {
    p = nextParam(p, end);
    if (p < 0) return false;
    if (b >= 0 && eqLower(paramName, paramNameLen, "tag")) {
      if (paramValue < 0) return false;
      setF(b + N_TAG_OFF, paramValue);
      setF(b + N_TAG_LEN, paramValueLen);
    }
  }
  return true;
}
