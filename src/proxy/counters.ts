// Counters of one proxy core (one per thread), merged by the main thread on request. Every drop
// and every locally generated answer has a named reason, so an operator can tell bad input from
// bad routing at a glance. Messages are also counted by method and response class, in and out,
// and per destination (by table slot): requests sent to it, replies from it by class.
import { CLASSES, METHODS, classIndex, methodIndex } from './message-kind.js';

export const COUNTER_NAMES = [
  'rx_requests',
  'rx_responses',
  'tx_requests',
  'tx_responses',
  'fwd_new',
  'fwd_in_dialog',
  'fwd_responses',
  'local_replies',
  'drop_malformed_request',
  'drop_malformed_response',
  'drop_response_not_ours',
  'drop_response_forged',
  'drop_response_no_transaction',
  'drop_response_no_next_hop',
  'drop_response_broadcast',
  'drop_ack_unmatched',
  'ack_local_reply',
  'drop_in_dialog_unresolvable',
  'drop_keepalive',
  'relay_foreign_route',
  'relay_no_route',
  'relay_token_missing',
  'relay_token_garbled',
  'relay_token_invalid',
  'relay_destination_gone',
  'source_denied',
  'scanner_dropped',
  'tx_limit_rejected',
  'retrans_absorbed',
  'retrans_sent',
  'late_response_absorbed',
  'remap_503_500',
  'failover',
  'failover_exhausted',
  'in_dialog_failover',
  'no_destination',
  'timeout',
  'cancel_matched',
  'cancel_unmatched',
  'draining_rejected',
  'overload_rejected',
  'call_load_expired',
  'register_to_registrar',
  'mark_kept_last',
  'register_denied',
] as const;

export type CounterName = (typeof COUNTER_NAMES)[number];

/**
 * The index of each counter: the hot path passes numbers (`counters.inc(C.rx_requests)`), not
 * names. A name looked up in a record on every datagram was a megamorphic keyed access (about 2%
 * of a call's busy time in the steady-state profile).
 */
export const C: { readonly [K in CounterName]: number } = Object.freeze(Object.fromEntries(COUNTER_NAMES.map((n, i) => [n, i])) as { [K in CounterName]: number });

export class Counters {
  /** By index (C): what inc() adds to. */
  readonly counts = new Float64Array(COUNTER_NAMES.length);
  /** Locally generated answers by status code ("400", "483"...). */
  readonly replies = new Map<number, number>();
  /** Parse errors by ERR_* name. */
  readonly parseErrors = new Map<string, number>();
  /** Requests by METHODS index and responses by CLASSES index (message-kind.ts), received and sent. */
  readonly requestsIn = new Float64Array(METHODS.length);
  readonly requestsOut = new Float64Array(METHODS.length);
  readonly responsesIn = new Float64Array(CLASSES.length);
  readonly responsesOut = new Float64Array(CLASSES.length);
  /** Per destination table slot: requests sent to it, and replies from it (slot * CLASSES.length + class). */
  readonly destRequests: Float64Array;
  readonly destReplies: Float64Array;

  /** `slots`: the destination table's size (list and registration slots). */
  constructor(slots = 0) {
    this.destRequests = new Float64Array(slots);
    this.destReplies = new Float64Array(slots * CLASSES.length);
  }

  /** Every counter by name (a new object: for reports and tests, not the hot path). */
  get values(): Record<CounterName, number> {
    return Object.fromEntries(COUNTER_NAMES.map((n, i) => [n, this.counts[i]!])) as Record<CounterName, number>;
  }

  inc(index: number, by = 1): void {
    this.counts[index]! += by;
  }

  reply(status: number): void {
    this.replies.set(status, (this.replies.get(status) ?? 0) + 1);
  }

  /** A request received. */
  requestIn(b: Uint8Array): void {
    this.requestsIn[methodIndex(b)]! += 1;
  }

  /** A response received, from destination `slot` (-1: from none). */
  responseIn(b: Uint8Array, slot: number): void {
    const c = classIndex(b);
    this.responsesIn[c]! += 1;
    if (slot >= 0 && slot < this.destRequests.length) this.destReplies[slot * CLASSES.length + c]! += 1;
  }

  /** A request sent, to destination `slot` (-1: to none). */
  requestOut(b: Uint8Array, slot: number): void {
    this.requestsOut[methodIndex(b)]! += 1;
    if (slot >= 0 && slot < this.destRequests.length) this.destRequests[slot]! += 1;
  }

  responseOut(b: Uint8Array): void {
    this.responsesOut[classIndex(b)]! += 1;
  }

  parseError(name: string): void {
    this.parseErrors.set(name, (this.parseErrors.get(name) ?? 0) + 1);
  }

  snapshot(): CounterSnapshot {
    return {
      values: this.values,
      replies: Object.fromEntries(this.replies),
      parseErrors: Object.fromEntries(this.parseErrors),
      requestsIn: byName(METHODS, this.requestsIn),
      requestsOut: byName(METHODS, this.requestsOut),
      responsesIn: byName(CLASSES, this.responsesIn),
      responsesOut: byName(CLASSES, this.responsesOut),
      destRequests: Array.from(this.destRequests),
      destReplies: Array.from(this.destReplies),
    };
  }
}

function byName(names: readonly string[], counts: Float64Array): Record<string, number> {
  return Object.fromEntries(names.map((n, i) => [n, counts[i]!]));
}

export interface CounterSnapshot {
  values: Record<string, number>;
  replies: Record<string, number>;
  parseErrors: Record<string, number>;
  /** By method name (METHODS) and by response class (CLASSES). */
  requestsIn: Record<string, number>;
  requestsOut: Record<string, number>;
  responsesIn: Record<string, number>;
  responsesOut: Record<string, number>;
  /** By destination table slot; destReplies is slot * CLASSES.length + class index. */
  destRequests: number[];
  destReplies: number[];
}

const KEYED = ['values', 'replies', 'parseErrors', 'requestsIn', 'requestsOut', 'responsesIn', 'responsesOut'] as const;

/** Sums snapshots from several threads. */
export function mergeSnapshots(all: readonly CounterSnapshot[]): CounterSnapshot {
  const out: CounterSnapshot = { values: {}, replies: {}, parseErrors: {}, requestsIn: {}, requestsOut: {}, responsesIn: {}, responsesOut: {}, destRequests: [], destReplies: [] };
  for (const s of all) {
    for (const part of KEYED) {
      for (const [k, v] of Object.entries(s[part])) out[part][k] = (out[part][k] ?? 0) + v;
    }
    for (const part of ['destRequests', 'destReplies'] as const) s[part].forEach((v, i) => (out[part][i] = (out[part][i] ?? 0) + v));
  }
  return out;
}
