// Stateless mode's memory of where each new request went: (Call-ID, CSeq number) -> destination for
// 64*T1, so its retransmissions, its CANCEL and the ACK of a non-2xx answer follow it whatever the
// algorithm (a hash on another field, round-robin). Bounded by SIPLB_MAX_TRANSACTIONS: when full,
// the proxy refuses new requests instead of forgetting routes still in use (a flood must not make
// the ACK of a real call go astray). Every entry lives the same time, so the Map's insertion order
// is expiry order: the clock tick removes from the oldest end. A key is an owned string: the
// Call-ID the parser hands out is a slice of the request's header text, which it would keep alive.
import { ownString } from '../shared/own-string.js';
import type { RouteTarget } from './types.js';

export class RouteCache {
  readonly #routes = new Map<string, { target: RouteTarget; expires: number }>();

  constructor(
    private readonly ttlMs: number,
    readonly max: number,
  ) {}

  get size(): number {
    return this.#routes.size;
  }

  get full(): boolean {
    return this.#routes.size >= this.max;
  }

  get(callId: string, cseq: number, now: number): RouteTarget | undefined {
    const hit = this.#routes.get(key(callId, cseq));
    return hit === undefined || hit.expires < now ? undefined : hit.target;
  }

  /** Remembers the route; false (nothing kept) when the cache is full. */
  set(callId: string, cseq: number, target: RouteTarget, now: number): boolean {
    const k = key(callId, cseq);
    if (this.#routes.size >= this.max && !this.#routes.has(k)) return false;
    this.#routes.delete(k); // a re-set moves to the young end
    this.#routes.set(ownString(k), { target, expires: now + this.ttlMs });
    return true;
  }

  /** Drops expired routes from the oldest end; called from the clock tick. */
  expire(now: number): void {
    for (const [k, v] of this.#routes) {
      if (v.expires >= now) break;
      this.#routes.delete(k);
    }
  }
}

function key(callId: string, cseq: number): string {
  return `${callId}|${cseq}`;
}
