// URI parsing (RFC 3261 19.1, RFC 3966 for tel:) into a URI block of the table (U_* slots).
// Escapes stay verbatim: the parser reports spans, it never decodes. The scanner stops at the first
// byte that cannot be part of a URI (or at ';' for an addr-spec) and returns where it stopped, so
// callers need no separate pass to find the URI's end.
import {
  SCHEME_OTHER, SCHEME_SIP, SCHEME_SIPS, SCHEME_TEL,
  U_HEADERS_LEN, U_HEADERS_OFF, U_HOST_LEN, U_HOST_OFF, U_LEN, U_LR, U_OFF, U_PARAMS_LEN, U_PARAMS_OFF,
  U_PASSWORD_LEN, U_PASSWORD_OFF, U_PORT, U_SCHEME, U_SCHEME_LEN, U_USER_LEN, U_USER_OFF,
} from "./constants";
import { C_HEX, C_PARAM_STOP, C_SCHEME, C_URI_BAD, S_HOST, S_PARAM_RUN, S_USER_RUN, ch, is, lower, scan, setF } from "./chars";

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

// @ts-ignore: decorator
@inline function isLws(c: i32): bool {
  return c == 0x20 || c == 0x09 || c == 0x0d || c == 0x0a;
}

/**
 * Parses host [":" port] starting at p. Host is an IPv6 reference in brackets, or hostname/IPv4
 * characters. Writes the host span at hostSlot and the port at portSlot; returns the offset after
 * the port, or -1 when malformed. Used for URIs and (with LWS around ':') for Via sent-by.
 */
export function parseHostPort(p: i32, end: i32, hostSlot: i32, portSlot: i32, lwsAroundColon: bool, hostEnd: i32 = -1): i32 {
  const h = p;
  if (hostEnd > p) {
    p = hostEnd; // the caller already scanned the host characters
  } else if (p < end && ch(p) == 0x5b) {
    // IPv6reference: "[" hex, ':' and '.' (an IPv4 tail) "]"
    p++;
    while (p < end && (is(ch(p), C_HEX) || ch(p) == 0x3a || ch(p) == 0x2e)) p++;
    if (p >= end || ch(p) != 0x5d || p == h + 1) return -1;
    p++;
  } else {
    p = scan(p, end, S_HOST);
    if (p == h) return -1;
  }
  setF(hostSlot, h);
  setF(hostSlot + 1, p - h);
  setF(portSlot, 0);
  let q = p;
  if (lwsAroundColon) while (q < end && isLws(ch(q))) q++;
  if (q < end && ch(q) == 0x3a) {
    q++;
    if (lwsAroundColon) while (q < end && isLws(ch(q))) q++;
    // port = 1*DIGIT (leading zeros allowed); the value saturates so a long run cannot overflow
    let port = 0;
    const d = q;
    while (q < end && ch(q) >= 48 && ch(q) <= 57) {
      port = min(port * 10 + ch(q) - 48, 65536);
      q++;
    }
    if (q == d || port > 65535) return -1;
    setF(portSlot, port);
    return q;
  }
  return p;
}

/** Scheme of [s, s+len) (without the ':'), compared without a literal table. */
function schemeKind(s: i32, len: i32): i32 {
  if (len < 3 || len > 4) return SCHEME_OTHER;
  const a = lower(ch(s));
  const b = lower(ch(s + 1));
  const c = lower(ch(s + 2));
  if (a == 0x73 && b == 0x69 && c == 0x70) {
    if (len == 3) return SCHEME_SIP;
    if (lower(ch(s + 3)) == 0x73) return SCHEME_SIPS;
  } else if (len == 3 && a == 0x74 && b == 0x65 && c == 0x6c) {
    return SCHEME_TEL;
  }
  return SCHEME_OTHER;
}

/** True when [q, end) starts with the parameter name `lr` (any case) followed by a delimiter. */
// @ts-ignore: decorator
@inline function atLr(q: i32, end: i32): bool {
  return q + 2 <= end && lower(ch(q)) == 0x6c && lower(ch(q + 1)) == 0x72 &&
    (q + 2 == end || ch(q + 2) == 0x3b || ch(q + 2) == 0x3d || ch(q + 2) == 0x3f || is(ch(q + 2), C_URI_BAD));
}

/**
 * Parses the URI starting at s into block b, reading no further than end. Stops at the first byte
 * that cannot belong to it (a C_URI_BAD byte such as '>', LWS or '"'; with addrSpec also ';', whose
 * parameters then belong to the header, RFC 3261 20.10). Returns the stop offset, or -1 when the
 * URI is malformed. For sip/sips the user part may hold ';', '?' and '/' (user-unreserved), so the
 * userinfo is everything before the '@'.
 */
export function parseUri(b: i32, s: i32, end: i32, addrSpec: bool): i32 {
  // The block starts absent (the reset template, or clearUri() before a re-parse).
  setF(b + U_OFF, s);
  // scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":"
  if (s >= end) return -1;
  const c0 = lower(ch(s));
  if (c0 < 97 || c0 > 122) return -1;
  let p = s + 1;
  while (p < end && is(ch(p), C_SCHEME)) p++;
  if (p >= end || ch(p) != 0x3a) return -1;
  const kind = schemeKind(s, p - s);
  setF(b + U_SCHEME, kind);
  setF(b + U_SCHEME_LEN, p - s);
  p++; // past ':'

  if (kind == SCHEME_OTHER || kind == SCHEME_TEL) {
    // opaque (the scheme's owner knows its syntax), or telephone-subscriber *( ";" param )
    const q0 = p;
    let semi = -1;
    while (p < end) {
      const c = ch(p);
      if (is(c, C_URI_BAD)) break;
      if (c == 0x3b) {
        if (addrSpec) break;
        if (semi < 0) semi = p;
      }
      p++;
    }
    if (p == q0) return -1;
    if (kind == SCHEME_TEL) {
      const ue = semi < 0 ? p : semi;
      if (ue == q0) return -1;
      setF(b + U_USER_OFF, q0);
      setF(b + U_USER_LEN, ue - q0);
      if (semi >= 0) {
        setF(b + U_PARAMS_OFF, semi + 1);
        setF(b + U_PARAMS_LEN, p - semi - 1);
      }
    }
    setF(b + U_LEN, p - s);
    return p;
  }

  // sip / sips: [ userinfo "@" ] hostport uri-parameters [ headers ]
  // Scan host characters first: most users ("bob", "alice", digits) are made of them too, so the
  // run stops at '@' (a user), or at what follows a host: no second pass over user-less URIs.
  let q = scan(p, end, S_HOST);
  if (q > p && q < end && ch(q) == 0x40) {
    // "user@host" with a user of host characters: the common case, no second look at the user
    setF(b + U_USER_OFF, p);
    setF(b + U_USER_LEN, q - p);
    return hostPart(b, s, q + 1, end, addrSpec, -1);
  }
  if (q > p) {
    const c = q < end ? ch(q) : 0;
    if (q == end || c == 0x3b || c == 0x3f || is(c, C_URI_BAD) || c == 0x3a) {
      // no '@' in the run: a host, unless a ':' turns out to start a password (user:pw@host)
      let userinfo = false;
      if (c == 0x3a) {
        let r = q + 1;
        while (r < end && ch(r) >= 48 && ch(r) <= 57) r++;
        userinfo = r < end && !is(ch(r), C_PARAM_STOP); // "host:5060" ends there; "u:pw@h" does not
      }
      if (!userinfo) {
        const r = hostPart(b, s, p, end, addrSpec, q);
        if (r != -2) return r;
        // an '@' after all (user-unreserved ';' or '?' in the user part, RFC 4475 3.1.1.9)
        clearUri(b);
        setF(b + U_OFF, s);
        setF(b + U_SCHEME, kind);
        setF(b + U_SCHEME_LEN, p - 1 - s);
      }
    }
  }
  q = p;
  let colon = -1;
  while (true) {
    q = scan(q, end, S_USER_RUN);
    if (q >= end) break;
    const c = ch(q);
    if (c == 0x40 || is(c, C_URI_BAD) || (addrSpec && c == 0x3b)) break;
    if (c == 0x3a && colon < 0) colon = q;
    q++;
  }
  if (q < end && ch(q) == 0x40) {
    const ue = colon < 0 ? q : colon;
    if (ue == p) return -1; // empty user
    setF(b + U_USER_OFF, p);
    setF(b + U_USER_LEN, ue - p);
    if (colon >= 0) {
      setF(b + U_PASSWORD_OFF, colon + 1);
      setF(b + U_PASSWORD_LEN, q - colon - 1);
    }
    p = q + 1;
  }
  return hostPart(b, s, p, end, addrSpec, -1);
}

/**
 * hostport uri-parameters [ headers ] of a sip/sips URI from p; returns the stop offset, -1 when
 * malformed, or -2 when an '@' shows that the part taken for the host was a user part.
 */
function hostPart(b: i32, s: i32, p: i32, end: i32, addrSpec: bool, hostEnd: i32): i32 {
  p = parseHostPort(p, end, b + U_HOST_OFF, b + U_PORT, false, hostEnd);
  if (p < 0) return -1;
  if (p < end && ch(p) == 0x3b && !addrSpec) {
    const ps = p + 1;
    p = ps;
    if (atLr(p, end)) setF(b + U_LR, 1);
    while (true) {
      p = scan(p, end, S_PARAM_RUN);
      if (p >= end) break;
      const c = ch(p);
      if (c == 0x40) return -2; // '@': what looked like the host was the user
      if (c != 0x3b) break; // '?' or a byte that ends the URI
      if (atLr(p + 1, end)) setF(b + U_LR, 1);
      p++;
    }
    setF(b + U_PARAMS_OFF, ps);
    setF(b + U_PARAMS_LEN, p - ps);
  }
  if (p < end && ch(p) == 0x3f) {
    const hs = p + 1;
    p = hs;
    while (p < end && !is(ch(p), C_URI_BAD) && !(addrSpec && ch(p) == 0x3b)) {
      if (ch(p) == 0x40) return -2; // '@': what looked like the host was the user
      p++;
    }
    setF(b + U_HEADERS_OFF, hs);
    setF(b + U_HEADERS_LEN, p - hs);
  }
  // what follows the host must end the URI
  if (p < end && !is(ch(p), C_URI_BAD) && !(addrSpec && ch(p) == 0x3b)) return -1;
  setF(b + U_LEN, p - s);
  return p;
}
