// Via (RFC 3261 20.42, RFC 3581): via-parm = sent-protocol LWS sent-by *( SEMI via-params ),
// with LWS (folds included) allowed around '/', ':' , ';' and '='.
import {
  TRANSPORT_OTHER, TRANSPORT_SCTP, TRANSPORT_TCP, TRANSPORT_TLS, TRANSPORT_UDP, TRANSPORT_WS, TRANSPORT_WSS,
  V_BRANCH_LEN, V_BRANCH_OFF, V_HOST_OFF, V_LEN, V_MADDR_LEN, V_MADDR_OFF, V_OFF, V_PARAMS_LEN, V_PARAMS_OFF,
  V_PORT, V_RECEIVED_LEN, V_RECEIVED_OFF, V_RPORT, V_TRANSPORT, V_TRANSPORT_LEN, V_TRANSPORT_OFF,
} from "./constants";
import { C_LWS, ch, eqLower, is, parseDigits, setF, skipLws, skipToken } from "./chars";
import { nextParam, paramName, paramNameLen, paramValue, paramValueLen } from "./params";
import { parseHostPort } from "./uri";

export function clearVia(b: i32): void {
  setF(b + V_OFF, -1);
  setF(b + V_LEN, 0);
  setF(b + V_TRANSPORT, 0);
  setF(b + V_TRANSPORT_OFF, -1);
  setF(b + V_TRANSPORT_LEN, 0);
  setF(b + V_HOST_OFF, -1);
  setF(b + V_HOST_OFF + 1, 0);
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
  if (eqLower(p, len, "udp")) return TRANSPORT_UDP;
  if (eqLower(p, len, "tcp")) return TRANSPORT_TCP;
  if (eqLower(p, len, "tls")) return TRANSPORT_TLS;
  if (eqLower(p, len, "sctp")) return TRANSPORT_SCTP;
  if (eqLower(p, len, "ws")) return TRANSPORT_WS;
  if (eqLower(p, len, "wss")) return TRANSPORT_WSS;
  return TRANSPORT_OTHER;
}

/** Expects SWS "/" SWS at p; returns the offset after it or -1. */
function slash(p: i32, end: i32): i32 {
  p = skipLws(p, end);
  if (p >= end || ch(p) != 0x2f) return -1;
  return skipLws(p + 1, end);
}

/** Parses one via-parm [s, end) (already trimmed) into Via block b; true when well-formed. */
export function parseVia(b: i32, s: i32, end: i32): bool {
  clearVia(b);
  setF(b + V_OFF, s);
  setF(b + V_LEN, end - s);
  let p = skipToken(s, end); // protocol-name
  if (p == s) return false;
  p = slash(p, end);
  if (p < 0) return false;
  let q = skipToken(p, end); // protocol-version
  if (q == p) return false;
  p = slash(q, end);
  if (p < 0) return false;
  q = skipToken(p, end); // transport
  if (q == p) return false;
  setF(b + V_TRANSPORT, transportId(p, q - p));
  setF(b + V_TRANSPORT_OFF, p);
  setF(b + V_TRANSPORT_LEN, q - p);
  if (q >= end || !is(ch(q), C_LWS)) return false;
  p = parseHostPort(skipLws(q, end), end, b + V_HOST_OFF, b + V_PORT, true);
  if (p < 0) return false;
  p = skipLws(p, end);
  if (p == end) return true;
  if (ch(p) != 0x3b) return false;
  setF(b + V_PARAMS_OFF, skipLws(p + 1, end));
  setF(b + V_PARAMS_LEN, end - skipLws(p + 1, end));
  while (p < end) {
    p = nextParam(p, end);
    if (p < 0) return false;
    if (eqLower(paramName, paramNameLen, "branch")) {
      if (paramValue < 0) return false;
      setF(b + V_BRANCH_OFF, paramValue);
      setF(b + V_BRANCH_LEN, paramValueLen);
    } else if (eqLower(paramName, paramNameLen, "received")) {
      if (paramValue < 0) return false;
      setF(b + V_RECEIVED_OFF, paramValue);
      setF(b + V_RECEIVED_LEN, paramValueLen);
    } else if (eqLower(paramName, paramNameLen, "rport")) {
      if (paramValue < 0) {
        setF(b + V_RPORT, 0);
      } else {
        const port = parseDigits(paramValue, paramValue + paramValueLen, 65535);
        if (port < 0) return false;
        setF(b + V_RPORT, <i32>port);
      }
    } else if (eqLower(paramName, paramNameLen, "maddr")) {
      if (paramValue < 0) return false;
      setF(b + V_MADDR_OFF, paramValue);
      setF(b + V_MADDR_LEN, paramValueLen);
    }
  }
  return true;
}
