// The To tag of the final responses siplb makes itself (400, 403, 483, 503...). RFC 3261 8.2.6.2
// asks for a tag that identifies the UAS side of the transaction; a stateless UAS must give a
// retransmission the same one (8.2.7). So it is a keyed hash of the transaction's identity (Call-ID,
// From tag, CSeq number): unique per transaction, the same for its retransmissions, and checkable
// when the ACK of that response comes back, whatever thread or restart made it.
import type { SipHash } from './siphash.js';

export const LOCAL_TAG_PREFIX = 'slb';

export function localTag(mac: SipHash, callId: string, fromTag: string | undefined, cseq: number): string {
  return LOCAL_TAG_PREFIX + mac.begin().str(callId).str(fromTag ?? '').num(cseq).digest().token();
}
