// How a keepalive and its reply are told apart from calls, on both sides of the probe worker's
// rings. The probe worker writes a Call-ID starting with CALL_ID_PREFIX, so the main thread can
// divert replies with the byte scan it already does for sharding (transport/shard.ts), without
// parsing; and a branch that names the destination's record and a per-keepalive secret, so the
// probe worker matches a reply to its record (two records with one URI keep separate states, as
// Kamailio does with its per-destination From tag) and ignores forged or late ones.
//
//   Call-ID: siplb-ka.<32 hex>
//   Via: SIP/2.0/UDP host:port;branch=z9hG4bK-siplb-ka.<record>.<seq>.<16 hex nonce>;rport

export const CALL_ID_PREFIX = 'siplb-ka.';
export const CALL_ID_PREFIX_BYTES: Uint8Array = new TextEncoder().encode(CALL_ID_PREFIX);
export const BRANCH_PREFIX = 'z9hG4bK-siplb-ka.';

export function keepaliveBranch(record: number, seq: number, nonce: string): string {
  return `${BRANCH_PREFIX}${record}.${seq}.${nonce}`;
}

/** The record, sequence and nonce of a keepalive branch, or undefined when it is not one of ours. */
export function parseKeepaliveBranch(branch: string): { record: number; seq: number; nonce: string } | undefined {
  if (!branch.startsWith(BRANCH_PREFIX)) return undefined;
  const m = /^([0-9]{1,9})\.([0-9]{1,15})\.([0-9a-f]{16})$/.exec(branch.slice(BRANCH_PREFIX.length));
  if (!m) return undefined;
  return { record: Number(m[1]), seq: Number(m[2]), nonce: m[3]! };
}
