// Transaction state of the stateful proxy (RFC 3261 17 and 16.7), over UDP only. A server
// transaction is the request we received; it owns the ordered destination list the dispatcher
// chose (failover) and every client transaction it started: one per destination tried, kept until
// the server transaction ends, so a late answer from an earlier branch is still recognised (a
// retransmitted 503 is absorbed, a late 200 is relayed and the other branches are cancelled,
// RFC 3261 16.7 step 10 and 16.10). Keys follow RFC 3261 17.2.3 (branch + sent-by + method) when
// the branch has the magic cookie, and the RFC 2543 fields otherwise.
import type { TimerHandle } from './timer-wheel.js';
import type { RouteTarget } from './types.js';

export const enum ServerState {
  /** Waiting for a final response from downstream. */
  Proceeding,
  /** Final non-2xx sent upstream; absorbing retransmissions (and, for INVITE, waiting for ACK). */
  Completed,
  /** 2xx sent upstream (RFC 6026 "Accepted"): INVITE retransmissions are absorbed. */
  Accepted,
}

/** The best final response seen so far (RFC 3261 16.7 step 6); no bytes: one we make ourselves. */
export interface Candidate {
  status: number;
  bytes: Buffer | undefined;
}

export interface ServerTx {
  /** An owned string (shared/own-string.ts): a key held 32 s must not keep its datagram alive. */
  key: string;
  isInvite: boolean;
  /** Where responses go: the request's source address, and the port RFC 3581/3261 18.2.2 name. */
  address: string;
  port: number;
  socket: number;
  /** The request's source port (what a retried forward stamps as rport). */
  srcPort: number;
  /** The request as received (detached copy) for retries and local answers; released once final. */
  request: Buffer | undefined;
  state: ServerState;
  /** Last provisional sent upstream, replayed on a request retransmission while Proceeding. */
  provisional: Buffer | undefined;
  /**
   * The final non-2xx sent upstream, replayed on a retransmission (Completed): a latin1 string, not a
   * Buffer (the bytes round-trip exactly; a string lives in the V8 heap with no external backing
   * store, an ArrayBuffer and a Buffer object, and it is held 32 s). A 2xx is not kept (RFC 6026:
   * INVITE retransmissions are absorbed in Accepted; the 2xx is retransmitted end to end).
   */
  final: string | undefined;
  /** Ordered destinations (first tried first); empty for in-dialog requests. */
  targets: readonly RouteTarget[];
  next: number;
  /** Every branch started, oldest first. */
  clients: ClientTx[];
  canceled: boolean;
  /** The response the caller gets if no branch answers 2xx (RFC 3261 16.7 step 6). */
  best: Candidate | undefined;
  /** Timer G (INVITE final response retransmission), armed in Completed until the ACK. */
  retransmit: TimerHandle | undefined;
  retransmitInterval: number;
}

export interface ClientTx {
  branch: string;
  server: ServerTx;
  target: RouteTarget | undefined;
  address: string;
  port: number;
  socket: number;
  /** The request exactly as sent (for retransmission and CANCEL); released once it cannot be needed. */
  sent: Buffer | undefined;
  /** The ACK of its non-2xx final, sent again when the final is retransmitted (Timer D). */
  ack: Buffer | undefined;
  /** Status of the first final response it got; 0 while none (or after a timeout). */
  status: number;
  isInvite: boolean;
  provisional: boolean;
  /** A CANCEL waits for a provisional response before it may be sent (RFC 3261 9.1). */
  cancelPending: boolean;
  cancelSent: boolean;
  /** A final response came, or the branch timed out: nothing more is expected of it but late answers. */
  done: boolean;
  /** Timer A / E: request retransmission. */
  retransmit: TimerHandle | undefined;
  retransmitInterval: number;
  /** Final-response timer: SIPLB_FR_TIMER, or SIPLB_FR_INV_TIMER after a provisional (Timer C). */
  fr: TimerHandle | undefined;
}

/** RFC 3261 17.2.3 server transaction key; ACK and CANCEL name the INVITE's transaction apart. */
export function serverKey(
  branch: string | undefined,
  sentBy: string,
  method: string,
  callId: string,
  cseq: number,
  fromTag: string | undefined,
): string {
  const m = method === 'ACK' ? 'INVITE' : method;
  if (branch !== undefined && branch.startsWith('z9hG4bK') && branch.length > 7) return `${branch}|${sentBy}|${m}`;
  // RFC 2543 peers: no usable branch (RFC 4475 3.2.1 and 3.4.1)
  return `2543|${callId}|${cseq}|${fromTag ?? ''}|${sentBy}|${m}`;
}

/**
 * Whether `a` is a better final response to relay than `b` (RFC 3261 16.7 step 6): any 6xx; else
 * the lowest class; within 4xx, one that tells the caller how to retry (401, 407, 415, 420, 484);
 * within 5xx, anything but a 503 (which would be relayed as 500 anyway). Between equals the
 * earlier stays.
 */
export function betterFinal(a: number, b: number): boolean {
  const ca = Math.floor(a / 100);
  const cb = Math.floor(b / 100);
  if (ca === 6 || cb === 6) return ca === 6 && cb !== 6;
  if (ca !== cb) return ca < cb;
  if (ca === 5) return a !== 503 && b === 503;
  return ca === 4 && RETRY_INFO.has(a) && !RETRY_INFO.has(b);
}

const RETRY_INFO = new Set([401, 407, 415, 420, 484]);
