// From, To, Route and Record-Route values (RFC 3261 20.20, 20.39, 20.34, 20.30):
//   ( name-addr / addr-spec ) *( SEMI param ),  name-addr = [ display-name ] LAQUOT addr-spec RAQUOT
import {
  N_DISPLAY_LEN, N_DISPLAY_OFF, N_LEN, N_OFF, N_PARAMS_LEN, N_PARAMS_OFF, N_TAG_LEN, N_TAG_OFF, N_URI,
  NOTE_URI_SPACES, F_NOTES,
} from "./constants";
import { C_LWS, C_TOKEN, ch, getF, is, lower, setF, skipLws, skipQuoted, trimEnd } from "./chars";
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
  // Blocks start absent (the reset template); From and To are parsed once per message.
  if (b >= 0) {
    setF(b + N_OFF, s);
    setF(b + N_LEN, end - s);
  }
  let p = s;
  let angle = true;
  const ub = b >= 0 ? b + N_URI : uriBlock;
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
    // *(token LWS) then '<' is a name-addr; a URI scheme's ':' (or anything else) makes an addr-spec
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
      p = parseUri(ub, p, end, true);
      if (p < 0) return false;
      angle = false;
    }
  }
  if (angle) {
    // name-addr: "<" [LWS] URI [LWS] ">" (LWS inside is liberal: RFC 4475 3.1.2.14)
    const u = skipLws(p + 1, end);
    const q = parseUri(ub, u, end, false);
    if (q < 0) return false;
    const r = skipLws(q, end);
    if (r >= end || ch(r) != 0x3e) return false;
    if (u != p + 1 || r != q) setF(F_NOTES, getF(F_NOTES) | NOTE_URI_SPACES);
    p = r + 1;
  }
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
    if (b >= 0 && paramNameLen == 3 && lower(ch(paramName)) == 0x74 && lower(ch(paramName + 1)) == 0x61 &&
      lower(ch(paramName + 2)) == 0x67) {
      if (paramValue < 0) return false;
      setF(b + N_TAG_OFF, paramValue);
      setF(b + N_TAG_LEN, paramValueLen);
    }
  }
  return true;
}
