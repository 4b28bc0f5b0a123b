// The in-dialog failover token (DESIGN.md, Proxy behaviour): the destination a dialog was sent to
// and a second one, carried in our Record-Route URI, so an in-dialog request whose destination is
// dead can go to the second one with no state on the proxy (survives restarts, works across nodes
// that share the secret). Authenticated, so a client cannot make us relay to a host it names
// (DESIGN.md: never an open relay). Not encrypted: it names destinations, which the next hop sees anyway.
//
// Format, version 1: base64url without padding (RFC 4648 5; only unreserved URI characters, so it
// fits a uri-parameter value, RFC 3261 25.1) of
//
//   offset      size  field
//   0           1     version = 1
//   1           1     P = byte length of primary (1..255)
//   2           P     primary, UTF-8
//   2+P         1     S = byte length of secondary (0: none)
//   3+P         S     secondary, UTF-8
//   3+P+S       10    first 10 bytes of HMAC-SHA256(secret, bytes [0, 3+P+S))
//
// An 80-bit tag: forging one means about 2^80 tries against a proxy that answers each by datagram.
import { type KeyObject, createHmac, createSecretKey, timingSafeEqual } from 'node:crypto';

export interface TokenDestinations {
  primary: string;
  secondary?: string;
}

const VERSION = 1;
const MAC_LEN = 10;
/** Two 255-byte ids and the framing, in base64url: anything longer is rejected unread. */
const MAX_TOKEN_CHARS = Math.ceil(((3 + 255 * 2 + MAC_LEN) * 4) / 3);
const BASE64URL = /^[A-Za-z0-9_-]+$/;

// The key object is made once per secret: the secret rarely changes, and signing and verifying
// happen per dialog-creating or in-dialog request.
let cachedSecret: string | undefined;
let cachedKey: KeyObject | undefined;

function mac(secret: string, data: Buffer): Buffer {
  if (cachedKey === undefined || cachedSecret !== secret) {
    cachedKey = createSecretKey(Buffer.from(secret, 'utf8'));
    cachedSecret = secret;
  }
  return createHmac('sha256', cachedKey).update(data).digest().subarray(0, MAC_LEN);
}

// A token depends only on the secret and the two ids, so both directions are cached: a proxy with
// N destinations signs at most N*N distinct tokens, and each in-dialog request of a call brings one
// of them back. The profile of a call at 1,500 calls/s had HMAC at 10% of the busy time before.
// Only tokens that verified are remembered, so forged ones cannot fill the cache; the bound is a
// backstop for huge lists (cleared when reached, then refilled by use).
const CACHE_MAX = 4096;
let cacheSecret: string | undefined;
const signed = new Map<string, string>();
const verified = new Map<string, Readonly<TokenDestinations>>();

function cacheFor(secret: string): void {
  if (cacheSecret === secret) return;
  cacheSecret = secret;
  signed.clear();
  verified.clear();
}

/** A token naming `dest`. Throws RangeError for an empty primary or an id over 255 bytes. */
export function signToken(secret: string, dest: TokenDestinations): string {
  cacheFor(secret);
  const key = `${dest.primary.length}:${dest.primary}${dest.secondary ?? ''}`; // length-prefixed: no two pairs share a key
  let token = signed.get(key);
  if (token === undefined) {
    token = sign(secret, dest);
    if (signed.size >= CACHE_MAX) signed.clear();
    signed.set(key, token);
  }
  return token;
}

function sign(secret: string, dest: TokenDestinations): string {
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
  const body = data.subarray(0, 3 + p.length + s.length);
  mac(secret, body).copy(data, body.length);
  return data.toString('base64url');
}

/**
 * The destinations of a token we signed with `secret`; null when it is malformed, altered or
 * foreign. The result is shared between calls (frozen): do not change it.
 */
export function verifyToken(secret: string, token: string): Readonly<TokenDestinations> | null {
  cacheFor(secret);
  const hit = verified.get(token);
  if (hit !== undefined) return hit;
  const dest = verify(secret, token);
  if (dest !== null) {
    if (verified.size >= CACHE_MAX) verified.clear();
    verified.set(token, Object.freeze(dest));
  }
  return dest;
}

function verify(secret: string, token: string): TokenDestinations | null {
  if (token.length > MAX_TOKEN_CHARS || !BASE64URL.test(token)) return null;
  const data = Buffer.from(token, 'base64url');
  // Node's decoder ignores what it cannot use (stray bits of the last character): only the
  // canonical spelling is accepted, so every change to the text is a change to the bytes.
  if (data.toString('base64url') !== token) return null;
  if (data.length < 3 + 1 + MAC_LEN || data[0] !== VERSION) return null;
  const body = data.subarray(0, data.length - MAC_LEN);
  if (!timingSafeEqual(mac(secret, body), data.subarray(body.length))) return null;
  const pLen = body[1]!;
  const sLen = body[2 + pLen];
  if (pLen === 0 || sLen === undefined || 3 + pLen + sLen !== body.length) return null;
  const primary = body.toString('utf8', 2, 2 + pLen);
  if (sLen === 0) return { primary };
  return { primary, secondary: body.toString('utf8', 3 + pLen, 3 + pLen + sLen) };
}
