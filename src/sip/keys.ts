// The keys of what siplb signs into messages and checks when they come back: the Record-Route
// token, the stateless Via branch and the To tag of its own answers. One secret (SIPLB_RR_SECRET,
// shared by nodes that share dialogs), one SipHash key per use, so a value made for one purpose
// never verifies as another.
import { createHmac } from 'node:crypto';
import { SipHash } from './siphash.js';

export interface ProxyKeys {
  readonly token: SipHash;
  readonly branch: SipHash;
  readonly tag: SipHash;
}

function derive(secret: string, label: string): SipHash {
  return new SipHash(createHmac('sha256', secret).update(`siplb ${label} key`).digest().subarray(0, 16));
}

/** The keys for `secret`; each thread makes its own (a SipHash is not shared between threads). */
export function deriveKeys(secret: string): ProxyKeys {
  return { token: derive(secret, 'token'), branch: derive(secret, 'branch'), tag: derive(secret, 'tag') };
}
