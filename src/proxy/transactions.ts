// Transaction state of the stateful proxy (RFC 3261 17 and 16.7), over UDP only. A server
// transaction is the request we received; it owns the ordered destination list the dispatcher
// chose (failover) and every client transaction it started: one per destination tried (all of
// them at once under algorithm 12, parallel forking), kept until the server transaction ends, so
// a late answer from an earlier branch is still recognised (a retransmitted 503 is absorbed, a
// late 200 is relayed and the other branches are cancelled, RFC 3261 16.7 step 10 and 16.10).
// Keys follow RFC 3261 17.2.3 (branch + sent-by + method) when the branch has the magic cookie,
// and the RFC 2543 fields otherwise.
import { METHOD_INVITE, METHOD_OTHER } from '../parser/constants.generated.js';
import type { SipMessage } from '../parser/index.js';
import { ownString } from '../shared/own-string.js';
import type { CallEntry } from './call-load.js';
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
  /**
   * Its key in the ServerTable: the Via branch (RFC 3261) or the RFC 2543 fields; an owned string
   * (shared/own-string.ts), since a key held 32 s must not keep its datagram's text alive.
   */
  key: string;
  /** The top Via's sent-by and the method, checked when a branch matches (RFC 3261 17.2.3). */
  viaHost: string;
  viaPort: number;
  methodId: number;
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
  /** Algorithm 10: the call's load, taken when the INVITE went to a destination (call-load.ts). */
  load: CallEntry | undefined;
  /** The algorithm that made `targets` (a routing rule's or SIPLB_ALG): 12 forks, 10 takes load; 0 in-dialog. */
  alg: number;
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

/**
 * Server transactions by their RFC 3261 17.2.3 identity: branch, sent-by and method (ACK and CANCEL
 * find the INVITE's). Looked up for every request without building a key string: a branch with
 * the magic cookie is the key of a map (INVITEs apart, since a CANCEL shares their branch) and the
 * sent-by and method are compared on a hit; RFC 2543 peers (no usable branch: RFC 4475 3.2.1 and
 * 3.4.1) get a key of the fields 17.2.3 lists for them.
 */
export class ServerTable {
  readonly #invites = new Map<string, ServerTx>();
  readonly #others = new Map<string, ServerTx>();
  readonly #legacy = new Map<string, ServerTx>();

  get size(): number {
    return this.#invites.size + this.#others.size + this.#legacy.size;
  }

  *values(): IterableIterator<ServerTx> {
    yield* this.#invites.values();
    yield* this.#others.values();
    yield* this.#legacy.values();
  }

  /** The transaction `m` belongs to, as a request of `methodId` (INVITE for an ACK or a CANCEL). */
  find(m: SipMessage, methodId: number): ServerTx | undefined {
    const via = m.via;
    if (via === undefined) return undefined;
    const branch = via.branch;
    const invite = methodId === METHOD_INVITE;
    if (branch !== undefined && branch.length > 7 && branch.startsWith('z9hG4bK')) {
      const tx = (invite ? this.#invites : this.#others).get(branch);
      return tx !== undefined && tx.viaPort === (via.port || 5060) && tx.viaHost === via.host && (invite || tx.methodId === methodId) ? tx : undefined;
    }
    return this.#legacy.get(legacyKey(m, methodId));
  }

  /** Files `tx` (its key, sent-by and method taken from `m`, its request). */
  add(tx: ServerTx, m: SipMessage): void {
    const via = m.via;
    const branch = via?.branch;
    tx.viaHost = ownString(via?.host ?? '');
    tx.viaPort = via?.port || 5060;
    tx.methodId = m.methodId;
    if (branch !== undefined && branch.length > 7 && branch.startsWith('z9hG4bK')) {
      tx.key = ownString(branch);
      (tx.isInvite ? this.#invites : this.#others).set(tx.key, tx);
    } else {
      tx.key = ownString(legacyKey(m, m.methodId));
      this.#legacy.set(tx.key, tx);
    }
  }

  delete(tx: ServerTx): void {
    const map = this.#legacy.get(tx.key) === tx ? this.#legacy : tx.isInvite ? this.#invites : this.#others;
    if (map.get(tx.key) === tx) map.delete(tx.key);
  }
}

/** RFC 3261 17.2.3 for RFC 2543 requests: Request-URI aside, Call-ID, CSeq number, From tag, sent-by, method. */
function legacyKey(m: SipMessage, methodId: number): string {
  const via = m.via;
  return `2543|${m.callId}|${m.cseq.number}|${m.from.tag ?? ''}|${via?.host ?? ''}:${via?.port || 5060}|${methodId === METHOD_OTHER ? (m.method ?? '') : methodId}`;
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
