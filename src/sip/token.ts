// The Record-Route token: the destination a dialog was sent to and a second one, carried in our
// Record-Route URI (`;slb=TOKEN`), so that an in-dialog request whose destination is dead can go
// to the second one with no state on the proxy (survives restarts, works across nodes that share
// SIPLB_RR_SECRET). Authenticated and bound to its dialog, because it is what lets an in-dialog
// request through: a client cannot name a destination of its own (never an open relay), and a
// token taken from one call cannot open a path in another. Not encrypted: it names destinations,
// which the next hop sees anyway.
//
// Format, version 2: base64url without padding (RFC 4648 5; unreserved URI characters only, so it
// fits a uri-parameter value, RFC 3261 25.1) of
//
//   offset      size  field
//   0           1     version = 2
//   1           1     P = byte length of primary (1..255)
//   2           P     primary, UTF-8
//   2+P         1     S = byte length of secondary (0: none)
//   3+P         S     secondary, UTF-8
//   3+P+S       8     SipHash-2-4(key, bytes [0, 3+P+S), Call-ID, caller's From tag)
//
// The dialog is the Call-ID and the caller's tag: the caller's in-dialog requests carry that tag
// in From, the callee's in To, so a request verifies with one or the other. A 64-bit tag: forging
// one means about 2^63 tries, each a datagram to the proxy.
import type { SipHash } from './siphash.js';

export interface TokenDestinations {
  primary: string;
  secondary?: string;
}

/** The dialog a token is bound to. */
export interface TokenDialog {
  callId: string;
  /** The caller's tag: From tag of the dialog-creating request ('' when it had none). */
  callerTag: string;
}

export type TokenCheck =
  | { ok: true; dest: TokenDestinations; /** The tag that verified was the To tag: a request from the callee side. */ byToTag: boolean }
  | { ok: false; reason: 'garbled' | 'invalid' };

const VERSION = 2;
const MAC_LEN = 8;
/** Two 255-byte ids and the framing, in base64url: anything longer is rejected unread. */
const MAX_TOKEN_CHARS = Math.ceil(((3 + 255 * 2 + MAC_LEN) * 4) / 3);
const BASE64URL = /^[A-Za-z0-9_-]+$/;

function mac(h: SipHash, body: Uint8Array, callId: string, tag: string): SipHash {
  return h.begin().bytes(body).str(callId).str(tag).digest();
}

/** A token naming `dest` for `dialog`. Throws RangeError for an empty primary or an id over 255 bytes. */
export function signToken(h: SipHash, dest: TokenDestinations, dialog: TokenDialog): string {
  const p = Buffer.from(dest.primary, 'utf8');
  const s = Buffer.from(dest.secondary ?? '', 'utf8');
  if (p.length === 0 || p.length > 255 || s.length > 255) {
    throw new RangeError('token destinations must be 1..255 bytes (secondary 0..255)');
  }
  const data = Buffer.allocUnsafe(3 + p.length + s.length + MAC_LEN);
  data[0] = VERSION;
  data[1] = p.length;
  p.copy(data, 2);
  data[2 + p.length] = s.length;
  s.copy(data, 3 + p.length);
  const bodyLen = 3 + p.length + s.length;
  mac(h, data.subarray(0, bodyLen), dialog.callId, dialog.callerTag);
  data.writeUInt32BE(h.hi, bodyLen);
  data.writeUInt32BE(h.lo, bodyLen + 4);
  return data.toString('base64url');
}

/**
 * Checks a token against the dialog of the request carrying it: Call-ID and either tag. Garbled:
 * not a token of ours at all (bad characters, framing, version). Invalid: well-formed but its MAC
 * does not verify: forged, signed with another secret, or taken from another dialog.
 */
export function verifyToken(h: SipHash, token: string, callId: string, fromTag: string, toTag: string): TokenCheck {
  if (token.length > MAX_TOKEN_CHARS || !BASE64URL.test(token)) return { ok: false, reason: 'garbled' };
  const data = Buffer.from(token, 'base64url');
  // Node's decoder ignores what it cannot use (stray bits of the last character): only the
  // canonical spelling is accepted, so every change to the text is a change to the bytes.
  if (data.toString('base64url') !== token) return { ok: false, reason: 'garbled' };
  if (data.length < 3 + 1 + MAC_LEN || data[0] !== VERSION) return { ok: false, reason: 'garbled' };
  const bodyLen = data.length - MAC_LEN;
  const pLen = data[1]!;
  const sLen = data[2 + pLen];
  if (pLen === 0 || sLen === undefined || 3 + pLen + sLen !== bodyLen) return { ok: false, reason: 'garbled' };
  const hi = data.readUInt32BE(bodyLen);
  const lo = data.readUInt32BE(bodyLen + 4);
  const body = data.subarray(0, bodyLen);
  let byToTag = false;
  mac(h, body, callId, fromTag);
  if (h.hi !== hi || h.lo !== lo) {
    mac(h, body, callId, toTag);
    if (h.hi !== hi || h.lo !== lo) return { ok: false, reason: 'invalid' };
    byToTag = true;
  }
  const primary = body.toString('utf8', 2, 2 + pLen);
  const dest: TokenDestinations = sLen === 0 ? { primary } : { primary, secondary: body.toString('utf8', 3 + pLen, 3 + pLen + sLen) };
  return { ok: true, dest, byToTag };
}
