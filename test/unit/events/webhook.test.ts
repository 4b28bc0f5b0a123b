// The webhook queue against a real HTTP receiver on 127.0.0.1: delivery, order, retries with
// back-off, a receiver that is down (bounded queue, oldest dropped and counted), timeouts, the
// age limit, stop(). Back-off and timeouts are shortened through the options so each test takes
// well under a second of waiting; the production values are checked as numbers.
import { afterEach, describe, expect, it } from 'vitest';
import type { DestEvent } from '../../../src/events/event.js';
import { BACKOFF_CAP_MS, BACKOFF_FIRST_MS, MAX_AGE_MS, WEBHOOK_TIMEOUT_MS, WebhookQueue, backoffMs, type WebhookOptions } from '../../../src/events/webhook.js';
import { closedTcpPort, memoryLog, startReceiver, type HttpReceiver } from '../../helpers/http-receiver.js';

const open: Array<HttpReceiver | WebhookQueue> = [];
afterEach(async () => {
  for (const x of open.splice(0)) await ('stop' in x ? x.stop() : x.close());
});

function ev(n: number, event: DestEvent['event'] = 'dst-down'): DestEvent {
  const uri = `sip:10.0.0.${n}:5060`;
  return { event, time: new Date(0).toISOString(), node: '127.0.0.1:5060', set: 1, uri, index: n, id: `1:${uri}`, duid: null, oldState: 'AX', newState: 'IX', reason: 'inactive' };
}

function queue(url: string, opts: Partial<WebhookOptions> = {}): WebhookQueue & { log: ReturnType<typeof memoryLog> } {
  const log = memoryLog();
  const q = Object.assign(new WebhookQueue({ url, capacity: 100, retries: 3, log, backoffFirstMs: 20, backoffCapMs: 80, timeoutMs: 500, ...opts }), { log });
  open.push(q);
  return q;
}

async function receiver(): Promise<HttpReceiver> {
  const r = await startReceiver();
  open.push(r);
  return r;
}

async function until(done: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!done()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('webhook back-off', () => {
  it('doubles from 0.5 s and stops growing at 30 s; 2 s per attempt; 10 minutes at most', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8, 50].map((n) => backoffMs(n))).toEqual([500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
    expect([BACKOFF_FIRST_MS, BACKOFF_CAP_MS, WEBHOOK_TIMEOUT_MS, MAX_AGE_MS]).toEqual([500, 30_000, 2000, 600_000]);
  });
});

describe('WebhookQueue', { timeout: 30_000 }, () => {
  it('POSTs each event as JSON, one at a time and in order; a 2xx delivers', async () => {
    const r = await receiver();
    r.respond = (n) => (n % 2 === 0 ? 200 : 204);
    const q = queue(r.url);
    for (let n = 1; n <= 5; n++) q.push(ev(n));
    await until(() => q.counters.delivered === 5);
    expect(r.requests.map((x) => JSON.parse(x.body) as DestEvent)).toEqual([1, 2, 3, 4, 5].map((n) => ev(n)));
    expect(r.requests.every((x) => x.method === 'POST' && x.path === '/siplb-events' && x.headers['content-type'] === 'application/json')).toBe(true);
    expect(r.maxOpen).toBe(1);
    expect(q.counters).toEqual({ delivered: 5, failed: 0, dropped: 0 });
    expect(q.queued).toBe(0);
  });

  it('retries after a 500 and a 302, after the back-off, then delivers', async () => {
    const r = await receiver();
    r.respond = (n) => [500, 302, 200][n] ?? 200;
    const q = queue(r.url, { backoffFirstMs: 60, backoffCapMs: 1000 });
    q.push(ev(1));
    await until(() => q.counters.delivered === 1);
    expect(r.requests).toHaveLength(3);
    expect(new Set(r.requests.map((x) => x.body))).toEqual(new Set([JSON.stringify(ev(1))]));
    const gaps = [r.requests[1]!.at - r.requests[0]!.at, r.requests[2]!.at - r.requests[1]!.at];
    expect(gaps[0]).toBeGreaterThanOrEqual(55); // 60 ms, then doubled
    expect(gaps[1]).toBeGreaterThanOrEqual(115);
    expect(q.counters).toEqual({ delivered: 1, failed: 0, dropped: 0 });
  });

  it('gives up after the retries, counts it, logs it, and goes on with the next event', async () => {
    const r = await receiver();
    r.respond = (n) => (n < 3 ? 503 : 200);
    const q = queue(r.url, { retries: 2 });
    q.push(ev(1));
    q.push(ev(2));
    await until(() => q.counters.delivered === 1);
    expect(r.requests.map((x) => (JSON.parse(x.body) as DestEvent).index)).toEqual([1, 1, 1, 2]);
    expect(q.counters).toEqual({ delivered: 1, failed: 1, dropped: 0 });
    expect(q.log.lines).toEqual([{ level: 'warn', msg: 'event webhook gave up on an event', fields: { event: 'dst-down', id: '1:sip:10.0.0.1:5060', attempts: 3, error: 'HTTP 503' } }]);
  });

  it('a receiver that is down: the queue stays bounded, the oldest are dropped and counted, the newest delivered once it is back', async () => {
    const port = await closedTcpPort();
    const q = queue(`http://127.0.0.1:${port}/hook`, { capacity: 5, retries: 1000, backoffFirstMs: 20, backoffCapMs: 20 });
    for (let n = 1; n <= 20_000; n++) {
      q.push(ev(n % 250));
      expect(q.queued).toBeLessThanOrEqual(6); // 5 waiting + the one being retried
    }
    expect(q.counters.dropped).toBe(20_000 - 6);
    expect(q.log.lines.filter((l) => l.msg.startsWith('event webhook queue full'))).toHaveLength(1); // one warning per outage
    await new Promise((res) => setTimeout(res, 100)); // a few refused attempts
    expect(q.counters).toMatchObject({ delivered: 0, failed: 0 });
    const r = await startReceiver(port); // back on the same port
    open.push(r);
    await until(() => q.counters.delivered === 6);
    // the first one (in delivery all along), then the newest five in order
    expect(r.requests.map((x) => (JSON.parse(x.body) as DestEvent).index)).toEqual([1, 19_996, 19_997, 19_998, 19_999, 20_000].map((n) => n % 250));
    expect(q.queued).toBe(0);
  });

  it('a receiver that never answers: each attempt ends at the timeout', async () => {
    const r = await receiver();
    r.respond = (n) => (n === 0 ? 'hang' : 200);
    const q = queue(r.url, { timeoutMs: 150, retries: 0 });
    const t0 = Date.now();
    q.push(ev(1));
    q.push(ev(2));
    await until(() => q.counters.delivered === 1);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(q.counters).toEqual({ delivered: 1, failed: 1, dropped: 0 });
    expect(q.log.lines[0]!.fields).toMatchObject({ id: '1:sip:10.0.0.1:5060', error: 'no answer within 150 ms' });
  });

  it('an event older than the age limit is given up whatever retries are left', async () => {
    const port = await closedTcpPort();
    const q = queue(`http://127.0.0.1:${port}/`, { retries: 1000, backoffFirstMs: 20, backoffCapMs: 20, maxAgeMs: 150 });
    q.push(ev(1));
    await until(() => q.counters.failed === 1, 10_000);
    const attempts = q.log.lines.find((l) => l.msg === 'event webhook gave up on an event')!.fields.attempts as number;
    expect(attempts).toBeGreaterThan(1);
    expect(attempts).toBeLessThan(100);
    expect(q.log.lines.at(-1)!.fields.error).toBe('not delivered within 150 ms');
  });

  it('stop() aborts the request in flight and sends nothing more', async () => {
    const r = await receiver();
    r.respond = () => 'hang';
    const q = queue(r.url, { timeoutMs: 5000 });
    q.push(ev(1));
    q.push(ev(2));
    await r.waitFor((x) => x.length === 1);
    q.stop();
    await until(() => q.queued === 0, 10_000);
    q.push(ev(3));
    await new Promise((res) => setTimeout(res, 100));
    expect(r.requests).toHaveLength(1);
    expect(q.counters).toEqual({ delivered: 0, failed: 0, dropped: 0 });
  });
});
