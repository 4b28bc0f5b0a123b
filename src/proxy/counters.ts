// Counters of one proxy core (one per thread), merged by the main thread on request. Every drop
// and every locally generated answer has a named reason, so an operator can tell bad input from
// bad routing at a glance.

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

  parseError(name: string): void {
    this.parseErrors.set(name, (this.parseErrors.get(name) ?? 0) + 1);
  }

  snapshot(): CounterSnapshot {
    return {
      values: this.values,
      replies: Object.fromEntries(this.replies),
      parseErrors: Object.fromEntries(this.parseErrors),
    };
  }
}

export interface CounterSnapshot {
  values: Record<string, number>;
  replies: Record<string, number>;
  parseErrors: Record<string, number>;
}

/** Sums snapshots from several threads. */
export function mergeSnapshots(all: readonly CounterSnapshot[]): CounterSnapshot {
  const out: CounterSnapshot = { values: {}, replies: {}, parseErrors: {} };
  for (const s of all) {
    for (const part of ['values', 'replies', 'parseErrors'] as const) {
      for (const [k, v] of Object.entries(s[part])) out[part][k] = (out[part][k] ?? 0) + v;
    }
  }
  return out;
}
