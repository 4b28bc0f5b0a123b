// Transaction state of the stateful proxy (RFC 3261 17 and 16.7), over UDP only. A server
// transaction is the request we received; it owns the ordered destination list the dispatcher
// chose (DISPATCHER.md, failover) and at most one live client transaction: the attempt at the
// current destination. Keys follow RFC 3261 17.2.3 (branch + sent-by + method) when the branch
// has the magic cookie, and the RFC 2543 fields otherwise.
import type { TimerHandle } from './timer-wheel.js';
import type { Peer, RouteTarget } from './types.js';

export const enum ServerState {
  /** Waiting for a final response from downstream. */
  Proceeding,
  /** Final non-2xx sent upstream; absorbing retransmissions (and, for INVITE, waiting for ACK). */
  Completed,
  /** 2xx sent upstream (RFC 6026 "Accepted"): INVITE retransmissions are absorbed. */
  Accepted,
}

export interface ServerTx {
  key: string;
  isInvite: boolean;
  /** Where responses go (the source of the request; rport forced). */
  peer: Peer;
  /** The request as received (detached copy) for building local responses; released (empty) once final. */
  request: Buffer;
  state: ServerState;
  /** Last response sent upstream (provisional or final), replayed on a request retransmission. */
  lastResponse: Buffer | undefined;
  /** Ordered destinations (first tried first); empty for in-dialog requests. */
  targets: RouteTarget[];
  next: number;
  client: ClientTx | undefined;
  canceled: boolean;
  /** Last final non-2xx received downstream: what the caller gets when the list runs out. */
  lastFinal: Buffer | undefined;
  /** Timer G (INVITE final response retransmission) and the lifetime timer (H / J / Accepted). */
  retransmit: TimerHandle | undefined;
  lifetime: TimerHandle | undefined;
  retransmitInterval: number;
  /** Created at, for the latency of locally generated answers. */
  createdAt: number;
}

export interface ClientTx {
  branch: string;
  server: ServerTx;
  target: RouteTarget | undefined;
  address: string;
  port: number;
  socket: number;
  /** The request exactly as sent (for retransmission, CANCEL and ACK); released once no ACK can need it. */
  sent: Buffer;
  isInvite: boolean;
  provisional: boolean;
  /** A CANCEL waits for a provisional response before it may be sent (RFC 3261 9.1). */
  cancelPending: boolean;
  done: boolean;
  /** Timer A / E: request retransmission. */
  retransmit: TimerHandle | undefined;
  retransmitInterval: number;
  /** Final-response timer: SIPLB_FR_TIMER, or SIPLB_FR_INV_TIMER after a provisional. */
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
