// URI parsing (RFC 3261 19.1, RFC 3966 for tel:) into a URI block of the table (U_* slots).
// Escapes stay verbatim: the parser reports spans, it never decodes.
import {
  SCHEME_OTHER, SCHEME_SIP, SCHEME_SIPS, SCHEME_TEL,
  U_HEADERS_LEN, U_HEADERS_OFF, U_HOST_LEN, U_HOST_OFF, U_LEN, U_LR, U_OFF, U_PARAMS_LEN, U_PARAMS_OFF,
  U_PASSWORD_LEN, U_PASSWORD_OFF, U_PORT, U_SCHEME, U_SCHEME_LEN, U_USER_LEN, U_USER_OFF,
} from "./constants";
import { C_HEX, C_HOST, C_SCHEME, C_URI_BAD, ch, eqLower, is, lower, parseDigits, setF } from "./chars";

/** Clears a URI block: every span absent, numbers zero. */
export function clearUri(b: i32): void {
  setF(b + U_OFF, -1);
  setF(b + U_LEN, 0);
  setF(b + U_SCHEME, 0);
  setF(b + U_SCHEME_LEN, 0);
  setF(b + U_USER_OFF, -1);
  setF(b + U_USER_LEN, 0);
  setF(b + U_PASSWORD_OFF, -1);
  setF(b + U_PASSWORD_LEN, 0);
  setF(b + U_HOST_OFF, -1);
  setF(b + U_HOST_LEN, 0);
  setF(b + U_PORT, 0);
  setF(b + U_PARAMS_OFF, -1);
  setF(b + U_PARAMS_LEN, 0);
  setF(b + U_HEADERS_OFF, -1);
  setF(b + U_HEADERS_LEN, 0);
  setF(b + U_LR, 0);
}

/**
 * Parses host [":" port] starting at p. Host is an IPv6 reference in brackets, or hostname/IPv4
 * characters. Writes the host span at hostSlot and the port at portSlot; returns the offset after
 * the port, or -1 when malformed. Used for URIs and for Via sent-by.
 */
export function parseHostPort(p: i32, end: i32, hostSlot: i32, portSlot: i32, lwsAroundColon: bool): i32 {
  const h = p;
  if (p < end && ch(p) == 0x5b) {
    // IPv6reference: "[" hex, ':' and '.' (an IPv4 tail) "]"
    p++;
    while (p < end && (is(ch(p), C_HEX) || ch(p) == 0x3a || ch(p) == 0x2e)) p++;
    if (p >= end || ch(p) != 0x5d || p == h + 1) return -1;
    p++;
  } else {
    while (p < end && is(ch(p), C_HOST)) p++;
    if (p == h) return -1;
  }
  setF(hostSlot, h);
  setF(hostSlot + 1, p - h);
  setF(portSlot, 0);
  let q = p;
  if (lwsAroundColon) while (q < end && (ch(q) == 0x20 || ch(q) == 0x09 || ch(q) == 0x0d || ch(q) == 0x0a)) q++;
  if (q < end && ch(q) == 0x3a) {
    q++;
    if (lwsAroundColon) while (q < end && (ch(q) == 0x20 || ch(q) == 0x09 || ch(q) == 0x0d || ch(q) == 0x0a)) q++;
    const d = q;
    while (q < end && ch(q) >= 48 && ch(q) <= 57) q++;
    const port = parseDigits(d, q, 65535);
    if (port < 0) return -1;
    setF(portSlot, <i32>port);
    return q;
  }
  return p;
}

/** True when the parameter list [p, end) (without its first ';') holds an `lr` parameter. */
function hasLr(p: i32, end: i32): bool {
  while (p < end) {
    let q = p;
    while (q < end && ch(q) != 0x3b && ch(q) != 0x3d) q++;
    if (q - p == 2 && lower(ch(p)) == 0x6c && lower(ch(p + 1)) == 0x72) return true;
    while (q < end && ch(q) != 0x3b) q++;
    p = q + 1;
  }
  return false;
}

/**
 * Parses the URI [s, end) into block b. Returns true when well-formed. For sip/sips the user
 * part may hold ';', '?' and '/' (user-unreserved), so userinfo is everything before the '@'.
 */
export function parseUri(b: i32, s: i32, end: i32): bool {
  clearUri(b);
  setF(b + U_OFF, s);
  setF(b + U_LEN, end - s);
  if (s >= end) return false;
  // scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":"
  let p = s;
  const c0 = lower(ch(p));
  if (c0 < 97 || c0 > 122) return false;
  p++;
  while (p < end && is(ch(p), C_SCHEME)) p++;
  if (p >= end || ch(p) != 0x3a) return false;
  const schemeLen = p - s;
  setF(b + U_SCHEME_LEN, schemeLen);
  for (let q = s; q < end; q++) if (is(ch(q), C_URI_BAD)) return false;
  p++; // past ':'
  if (p >= end) return false;

  let kind = SCHEME_OTHER;
  if (eqLower(s, schemeLen, "sip")) kind = SCHEME_SIP;
  else if (eqLower(s, schemeLen, "sips")) kind = SCHEME_SIPS;
  else if (eqLower(s, schemeLen, "tel")) kind = SCHEME_TEL;
  setF(b + U_SCHEME, kind);
  if (kind == SCHEME_OTHER) return true; // opaque: the scheme's owner knows its syntax

  if (kind == SCHEME_TEL) {
    let q = p;
    while (q < end && ch(q) != 0x3b) q++;
    if (q == p) return false;
    setF(b + U_USER_OFF, p);
    setF(b + U_USER_LEN, q - p);
    if (q < end) {
      setF(b + U_PARAMS_OFF, q + 1);
      setF(b + U_PARAMS_LEN, end - q - 1);
    }
    return true;
  }

  // sip / sips: [ userinfo "@" ] hostport uri-parameters [ headers ]
  let at = -1;
  for (let q = p; q < end; q++) {
    if (ch(q) == 0x40) {
      at = q;
      break;
    }
  }
  if (at >= 0) {
    if (at == p) return false;
    let colon = at;
    for (let q = p; q < at; q++) {
      if (ch(q) == 0x3a) {
        colon = q;
        break;
      }
    }
    if (colon == p) return false;
    setF(b + U_USER_OFF, p);
    setF(b + U_USER_LEN, colon - p);
    if (colon < at) {
      setF(b + U_PASSWORD_OFF, colon + 1);
      setF(b + U_PASSWORD_LEN, at - colon - 1);
    }
    p = at + 1;
  }
  p = parseHostPort(p, end, b + U_HOST_OFF, b + U_PORT, false);
  if (p < 0) return false;
  if (p < end && ch(p) == 0x3b) {
    let q = p + 1;
    while (q < end && ch(q) != 0x3f) q++;
    setF(b + U_PARAMS_OFF, p + 1);
    setF(b + U_PARAMS_LEN, q - p - 1);
    if (hasLr(p + 1, q)) setF(b + U_LR, 1);
    p = q;
  }
  if (p < end && ch(p) == 0x3f) {
    setF(b + U_HEADERS_OFF, p + 1);
    setF(b + U_HEADERS_LEN, end - p - 1);
    p = end;
  }
  return p == end;
}
