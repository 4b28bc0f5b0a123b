// Main thread: delivers destination events to SIPLB_EVENT_WEBHOOK as HTTP POSTs of JSON. Nothing
// here is on the datagram path: the watcher pushes an event and returns; delivery runs on its own.
// A receiver that is slow or down must not cost the proxy more than this queue's bound:
//
//   - one delivery at a time, in order (a receiver sees dst-down before the dst-up that follows);
//   - each attempt has WEBHOOK_TIMEOUT_MS for the whole exchange; only a 2xx delivers;
//   - a failed attempt is retried after a back-off, BACKOFF_FIRST_MS doubling up to BACKOFF_CAP_MS,
//     at most `retries` times, and never once the event is MAX_AGE_MS old (a stale dst-down would
//     page someone for a destination that may be long back);
//   - events wait in a queue of `capacity`; when it is full the oldest waiting one is dropped and
//     counted: memory stays bounded however long the receiver is down.
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Log } from '../server.js';
import type { DestEvent } from './event.js';

/** A receiver that takes longer than this to answer is treated as down for that attempt. */
export const WEBHOOK_TIMEOUT_MS = 2000;
export const BACKOFF_FIRST_MS = 500;
export const BACKOFF_CAP_MS = 30_000;
export const MAX_AGE_MS = 10 * 60_000;

export interface WebhookOptions {
  /** http:// or https:// (checked by the config's webhookUrl). */
  readonly url: string;
  /** Events waiting, besides the one being delivered. */
  readonly capacity: number;
  /** Attempts after the first. */
  readonly retries: number;
  readonly log: Log;
  readonly timeoutMs?: number;
  readonly backoffFirstMs?: number;
  readonly backoffCapMs?: number;
  readonly maxAgeMs?: number;
  readonly now?: () => number;
}

export interface WebhookCounters {
  /** Answered 2xx. */
  delivered: number;
  /** Given up: out of retries, or too old. */
  failed: number;
  /** Pushed out of a full queue before any attempt. */
  dropped: number;
}

/** The wait after `failed` failed attempts (1, 2, ...): first, doubling, capped. */
export function backoffMs(failed: number, first = BACKOFF_FIRST_MS, cap = BACKOFF_CAP_MS): number {
  return Math.min(cap, first * 2 ** Math.max(0, failed - 1));
}

interface Item {
  readonly event: DestEvent;
  readonly body: string;
  readonly born: number;
}

export class WebhookQueue {
  readonly counters: WebhookCounters = { delivered: 0, failed: 0, dropped: 0 };
  readonly #url: URL;
  readonly #o: WebhookOptions;
  readonly #now: () => number;
  // A plain array: shift() is a memmove of at most 100,000 pointers (SIPLB_EVENT_QUEUE's ceiling),
  // once per event, which is nothing next to an HTTP request.
  readonly #waiting: Item[] = [];
  #current: Item | undefined;
  #stopped = false;
  readonly #cancel = new AbortController();
  #wake: (() => void) | undefined;
  /** Set at the first drop, cleared by a delivery: one warning per outage, not one per event. */
  #dropping = false;

  constructor(opts: WebhookOptions) {
    this.#o = opts;
    this.#url = new URL(opts.url);
    this.#now = opts.now ?? Date.now;
  }

  /** Events not yet delivered nor given up: waiting, and the one in delivery. */
  get queued(): number {
    return this.#waiting.length + (this.#current === undefined ? 0 : 1);
  }

  push(event: DestEvent): void {
    if (this.#stopped) return;
    if (this.#waiting.length >= this.#o.capacity) {
      const old = this.#waiting.shift()!;
      this.counters.dropped++;
      if (!this.#dropping) {
        this.#dropping = true;
        this.#o.log.warn('event webhook queue full: dropping the oldest events (SIPLB_EVENT_QUEUE)', { capacity: this.#o.capacity, event: old.event.event, id: old.event.id });
      }
    }
    this.#waiting.push({ event, body: JSON.stringify(event), born: this.#now() });
    if (this.#current === undefined) {
      this.#run().catch((err: unknown) => this.#o.log.error('event webhook delivery stopped', { error: String(err) }));
    }
  }

  /** Drops what waits, aborts the attempt in flight and any back-off. Nothing is sent afterwards. */
  stop(): void {
    this.#stopped = true;
    this.#waiting.length = 0;
    this.#cancel.abort();
    this.#wake?.();
  }

  async #run(): Promise<void> {
    // #current is set before the first await: a push() meanwhile sees the loop running.
    while (!this.#stopped && (this.#current = this.#waiting.shift()) !== undefined) {
      await this.#deliver(this.#current);
    }
    this.#current = undefined;
  }

  async #deliver(item: Item): Promise<void> {
    const maxAge = this.#o.maxAgeMs ?? MAX_AGE_MS;
    for (let attempt = 1; ; attempt++) {
      if (this.#now() - item.born > maxAge) return this.#giveUp(item, attempt - 1, `not delivered within ${maxAge} ms`);
      const r = await postJson(this.#url, item.body, this.#o.timeoutMs ?? WEBHOOK_TIMEOUT_MS, this.#cancel.signal);
      if (this.#stopped) return;
      if (r.ok) {
        this.counters.delivered++;
        this.#dropping = false;
        return;
      }
      if (attempt > this.#o.retries) return this.#giveUp(item, attempt, r.error);
      await this.#sleep(backoffMs(attempt, this.#o.backoffFirstMs, this.#o.backoffCapMs));
      if (this.#stopped) return;
    }
  }

  #giveUp(item: Item, attempts: number, why: string): void {
    this.counters.failed++;
    this.#o.log.warn('event webhook gave up on an event', { event: item.event.event, id: item.event.id, attempts, error: why });
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.#wake = undefined;
        resolve();
      };
      const timer = setTimeout(wake, ms);
      timer.unref(); // a back-off alone must not hold a stopping process open
      this.#wake = wake;
    });
  }
}

export interface PostResult {
  readonly ok: boolean;
  /** Why it did not deliver: `HTTP 500`, `connect ECONNREFUSED ...`, a timeout. */
  readonly error: string;
}

/**
 * One POST of `body` as JSON. Never rejects. The timeout covers the whole exchange, response body
 * included (read and discarded); a status that arrived before it fired still counts. A fresh
 * connection each time (`agent: false`): events are rare, and a kept-alive socket the receiver
 * has closed meanwhile would fail the next attempt for nothing.
 */
export function postJson(url: URL, body: string, timeoutMs: number, cancel: AbortSignal): Promise<PostResult> {
  return new Promise((resolve) => {
    if (cancel.aborted) return resolve({ ok: false, error: 'stopped' });
    const abort = new AbortController();
    let status: number | undefined;
    let why: string | undefined;
    let settled = false;
    const stopNow = (reason: string): void => {
      why ??= reason;
      abort.abort();
    };
    const timer = setTimeout(() => stopNow(`no answer within ${timeoutMs} ms`), timeoutMs);
    const onCancel = (): void => stopNow('stopped');
    cancel.addEventListener('abort', onCancel);
    const done = (error?: string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      cancel.removeEventListener('abort', onCancel);
      const ok = status !== undefined && status >= 200 && status < 300;
      resolve({ ok, error: ok ? '' : (status !== undefined ? `HTTP ${status}` : (why ?? error ?? 'no response')) });
    };
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const headers = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'user-agent': 'siplb' };
    const req = send(url, { method: 'POST', headers, agent: false, signal: abort.signal }, (res: IncomingMessage) => {
      status = res.statusCode;
      res.resume();
      res.on('end', () => done());
      res.on('error', () => done()); // cut off mid-body by the timeout: the status decides
      res.on('close', () => done());
    });
    req.on('error', (err) => done(err.message));
    req.end(body);
  });
}
