// Via branch parameters of the requests we forward (RFC 3261 8.1.1.7, 16.6 step 8, 16.11).
//
// Stateful:  z9hG4bK sf <10 chars: random per thread> <counter, base36>
// Stateless: z9hG4bK sl <11 chars: 64-bit hash of the incoming request's transaction identity>
//                       <11 chars: SipHash MAC of that hash, the Call-ID and where responses go>
//
// The MAC is what lets a stateless proxy tell its own branches from forged ones: a response is
// forwarded by its second Via, so a response carrying our Via with a made-up branch and a victim
// below it would make us a relay (reflector) for anyone. The MAC covers the address and port the
// response will be sent to, as our received/rport stamps on the request's top Via make them, so
// it verifies only for the hop the request really came from.
//
// 'sf'/'sl' let a capture (or our own response path) tell which mode sent a request. Both forms are
// tokens (RFC 3261 25.1) and start with the magic cookie, which promises RFC 3261 matching.
import { randomBytes } from 'node:crypto';
import { METHOD_ACK } from '../parser/constants.generated.js';
import type { SipMessage } from '../parser/message.js';
import { encode64, type SipHash } from './siphash.js';

export const MAGIC_COOKIE = 'z9hG4bK';
export const STATEFUL_PREFIX = `${MAGIC_COOKIE}sf`;
export const STATELESS_PREFIX = `${MAGIC_COOKIE}sl`;

// Module state is per thread (each worker has its own isolate), so every dispatch thread and every
// restart draws its own prefix: 48 random bits make two of them colliding negligible, and the counter
// makes the branches of one thread unique without a random draw per request.
const prefix = STATEFUL_PREFIX + randomBytes(6).readUIntBE(0, 6).toString(36).padStart(10, '0');
let counter = 0;

/** A new branch for a client transaction (stateful mode): unique across threads, processes and time. */
export function statefulBranch(): string {
  return prefix + (counter++).toString(36);
}

// Two 32-bit lanes of a multiplicative hash (the cyrb53 construction without its 53-bit fold): fast
// on short strings, and 64 bits keep accidental collisions between live transactions negligible.
// Not a MAC: a client that forges collisions only confuses its own transactions.
let h1 = 0;
let h2 = 0;

function feed(s: string): void {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  // a separator, so ("ab", "c") and ("a", "bc") differ
  h1 = Math.imul(h1 ^ 0x1f, 2654435761);
  h2 = Math.imul(h2 ^ 0x1f, 1597334677);
}

function digest(): string {
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507);
  h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507);
  h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return encode64(h1 >>> 0, h2 >>> 0);
}

/** Where the responses to a request go: its top Via's received (or host) and rport (or port). */
export interface ResponseHop {
  address: string;
  port: number;
}

/** The unkeyed hash of the request's transaction identity (RFC 3261 16.11), 11 characters. */
function transactionHash(msg: SipMessage): string {
  h1 = 0xdeadbeef;
  h2 = 0x41c6ce57;
  const via = msg.via;
  const branch = via?.branch;
  if (via !== undefined && branch !== undefined && branch.startsWith(MAGIC_COOKIE)) {
    feed(branch);
    feed(via.host);
    feed(String(via.port));
  } else {
    feed(via?.raw ?? '');
    feed(msg.methodId === METHOD_ACK ? '' : (msg.to.tag ?? ''));
    feed(msg.from.tag ?? '');
    feed(msg.callId);
    feed(String(msg.cseqNumber));
    feed(msg.requestUri?.raw ?? '');
  }
  return digest();
}

function branchMac(mac: SipHash, hash: string, callId: string, hop: ResponseHop): string {
  return mac.begin().str(hash).str(callId).str(hop.address).num(hop.port).digest().token();
}

/**
 * The branch a stateless proxy puts in its Via (RFC 3261 16.11): a function of the incoming
 * request and of `hop`, where its responses go, so a retransmission is forwarded with the same
 * branch and the next hop sees a retransmission too.
 *
 * With the magic cookie, the incoming branch plus the top Via's sent-by identify the transaction
 * (the server-transaction match of RFC 3261 17.2.3, without the method): a CANCEL and the ACK for
 * a non-2xx response carry the INVITE's branch and sent-by, so they get the INVITE's outgoing
 * branch, as the next hop needs to match them. Without it (RFC 2543 clients), the RFC's field list:
 * top Via, To tag, From tag, Call-ID, CSeq number, Request-URI; the To tag is left out for ACK,
 * whose To carries the tag of the response while the INVITE's had none (RFC 3261 17.1.1.3).
 */
export function statelessBranch(msg: SipMessage, mac: SipHash, hop: ResponseHop): string {
  const hash = transactionHash(msg);
  return STATELESS_PREFIX + hash + branchMac(mac, hash, msg.callId, hop);
}

/** True when `branch` is one statelessBranch() made for a request of `callId` whose responses go to `hop`. */
export function verifyStatelessBranch(branch: string, mac: SipHash, callId: string, hop: ResponseHop): boolean {
  if (branch.length !== STATELESS_PREFIX.length + 22 || !branch.startsWith(STATELESS_PREFIX)) return false;
  const hash = branch.slice(STATELESS_PREFIX.length, STATELESS_PREFIX.length + 11);
  return branch.endsWith(branchMac(mac, hash, callId, hop));
}
