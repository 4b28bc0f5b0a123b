// The generic-param grammar shared by Via and name-addr headers (RFC 3261 25.1):
//   *( SEMI token [ EQUAL ( token / host / quoted-string ) ] ), with LWS allowed around ; and =.
import { C_LWS, S_PVALUE, ch, is, scan, skipLws, skipQuoted, skipToken } from "./chars";

// The parameter found by the last nextParam() call. Module globals: one parse runs at a time.
export let paramName: i32 = 0;
export let paramNameLen: i32 = 0;
export let paramValue: i32 = -1; // -1 when the parameter has no value
export let paramValueLen: i32 = 0;

/**
 * Reads one ";name[=value]" starting at p (which must be at the ';', after optional LWS).
 * Returns the offset after the parameter and its trailing LWS, or -1 when malformed.
 */
export function nextParam(p: i32, end: i32): i32 {
  p = skipLws(p, end);
  if (p >= end || ch(p) != 0x3b) return -1;
  p = skipLws(p + 1, end);
  const n = p;
  p = skipToken(p, end);
  if (p == n) return -1;
  paramName = n;
  paramNameLen = p - n;
  paramValue = -1;
  paramValueLen = 0;
  p = skipLws(p, end);
  if (p < end && ch(p) == 0x3d) {
    p = skipLws(p + 1, end);
    const v = p;
    if (p < end && ch(p) == 0x22) {
      p = skipQuoted(p, end);
      if (p < 0) return -1;
    } else if (p < end && ch(p) == 0x5b) {
      while (p < end && ch(p) != 0x5d) p++;
      if (p >= end) return -1;
      p++;
    } else {
      // token, or a host (token characters cover hostnames and IPv4 addresses)
      p = scan(p, end, S_PVALUE);
    }
    if (p == v) return -1;
    paramValue = v;
    paramValueLen = p - v;
  }
  if (p < end && !is(ch(p), C_LWS) && ch(p) != 0x3b && ch(p) != 0x2c) return -1; // , ends a list value
  return skipLws(p, end);
}
