// The live page's server side against a real siplb: its files are served without the token and
// with their security headers, everything else still needs the token; siplb.overview (GET
// /api/overview) counts real INVITEs per destination, folds the latency histogram into the chart's
// bars and carries the dst-down/dst-up events an operator's set_state causes, as siplb.events does.
// The page itself in a browser: test/e2e/page.test.ts.
import { afterEach, describe, expect, it } from 'vitest';
import { freeTcpPort, startProxy, writeList, type ProxyProcess } from '../../helpers/proxy-process.js';
import { Peer } from '../../helpers/udp-peer.js';
import { answeringBackend, requestsThrough } from '../../helpers/answering-peer.js';
import type { Overview } from '../../../src/admin/overview.js';

const TOKEN = 'page-test-token-0123456789';
const open: Array<Peer | ProxyProcess> = [];
afterEach(async () => {
  for (const x of open.splice(0)) await ('stop' in x ? x.stop() : x.close());
});

async function backend(): ReturnType<typeof answeringBackend> {
  const p = await answeringBackend();
  open.push(p);
  return p;
}

const invites = (uac: Peer, proxyPort: number, count: number): Promise<void> => requestsThrough(uac, proxyPort, count);

describe('the live page on a running proxy', () => {
  it('serves its files without the token and with CSP; data paths need the token; overview and events answer', async () => {
    const a = await backend();
    const b = await backend();
    const port = await freeTcpPort();
    const uriA = `sip:127.0.0.1:${a.port}`;
    const uriB = `sip:127.0.0.1:${b.port}`;
    const proxy = await startProxy({ SIPLB_LIST_FILE: writeList(`1 ${uriA} 0 0\n1 ${uriB} 8 0\n`), SIPLB_ALG: '4', SIPLB_ADMIN: `127.0.0.1:${port}`, SIPLB_ADMIN_TOKEN: TOKEN, SIPLB_RELOAD_DELTA: '60' });
    open.unshift(proxy);
    const base = `http://127.0.0.1:${port}`;
    const auth = { authorization: `Bearer ${TOKEN}` };

    for (const [path, type] of [['/', 'text/html'], ['/ui/app.js', 'text/javascript'], ['/ui/app.css', 'text/css'], ['/ui/icon.svg', 'image/svg+xml']] as const) {
      const res = await fetch(`${base}${path}`);
      expect([path, res.status]).toEqual([path, 200]);
      expect(res.headers.get('content-type')).toContain(type);
      expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('cache-control')).toBe('no-cache');
    }
    const html = await (await fetch(`${base}/`)).text();
    expect(html).toContain('<script src="/ui/app.js" defer></script>');
    expect(html).not.toMatch(/<script>|on(click|load)=/); // no inline script: the CSP would refuse it anyway
    // the exception is GET and HEAD of those four paths, nothing more
    expect((await fetch(`${base}/`, { method: 'HEAD' })).status).toBe(200);
    for (const [path, method] of [['/', 'POST'], ['/ui/other.js', 'GET'], ['/api/overview', 'GET'], ['/api/events', 'GET'], ['/index.html', 'GET']] as const) {
      expect([path, method, (await fetch(`${base}${path}`, { method })).status]).toEqual([path, method, 401]);
    }

    const uac = await Peer.open();
    open.push(uac);
    await invites(uac, proxy.port, 10);
    const get = async (path: string): Promise<unknown> => {
      const res = await fetch(`${base}${path}`, { headers: auth });
      expect(res.status).toBe(200);
      return res.json();
    };
    const o1 = (await get('/api/overview')) as Overview;
    expect(o1.sets.map((s) => s.id)).toEqual([1]);
    // in dispatcher.list's order (Kamailio's: the later line of equal priority first)
    const dests = [...o1.sets[0]!.destinations].sort((x, y) => (x.uri === uriA ? -1 : y.uri === uriA ? 1 : 0));
    expect(dests.map((d) => [d.uri, d.flags, d.usable, d.enable, d.requests])).toEqual([
      [uriA, 'AX', true, 'a', 5],
      [uriB, 'AP', true, 'ap', 5],
    ]);
    expect(dests.map((d) => d.replies['2xx'])).toEqual([5, 5]);
    expect(dests[0]!.latency).toMatchObject({ avg: 0, est: 0, max: 0, timeouts: 0 }); // no keepalives here (QUIET_DEFAULTS)
    // the chart's bars hold every send the histogram counted; percentiles are in order
    const l = o1.latency;
    expect(l.count).toBeGreaterThanOrEqual(20);
    expect(l.buckets.reduce((s, x) => s + x.count, 0)).toBe(l.count);
    expect(l.buckets.at(-1)!.le).toBeNull();
    expect(l.p50).toBeLessThanOrEqual(l.p90);
    expect(l.p99).toBeLessThanOrEqual(l['p99.9']);
    expect(o1.events).toEqual([]);

    // an operator's disable and enable, through the same RPC the page's buttons call
    const rpc = async (method: string, params: unknown[]): Promise<unknown> =>
      (await fetch(`${base}/RPC`, { method: 'POST', headers: auth, body: JSON.stringify({ jsonrpc: '2.0', method, params, id: 1 }) })).json();
    expect(await rpc('dispatcher.set_state', ['d', 1, uriA])).toMatchObject({ result: 'Ok. Dispatcher state updated.' });
    await invites(uac, proxy.port, 6);
    const o2 = (await get('/api/overview')) as Overview;
    const after = new Map(o2.sets[0]!.destinations.map((d) => [d.uri, [d.flags, d.usable, d.requests]]));
    expect([after.get(uriA), after.get(uriB)]).toEqual([
      ['DX', false, 5],
      ['AP', true, 11],
    ]);
    expect(o2.time).toBeGreaterThanOrEqual(o1.time);
    // the event watcher polls the table (every 100 ms): a change it has not seen yet is no event
    const events = async (): Promise<Overview['events']> => ((await get('/api/events')) as Pick<Overview, 'events'>).events;
    await expect.poll(async () => (await events()).length, { timeout: 3_000 }).toBe(1);
    await rpc('dispatcher.set_state', ['a', 1, uriA]);
    await expect.poll(async () => (await events()).length, { timeout: 3_000 }).toBe(2);
    const seen = await events();
    expect(seen.map((e) => [e.event, e.uri, e.oldState, e.newState, e.reason])).toEqual([
      ['dst-down', uriA, 'AX', 'DX', 'disabled'],
      ['dst-up', uriA, 'DX', 'AX', 'disabled'],
    ]);
    expect(((await get('/api/overview')) as Overview).events).toEqual(seen);
    // the reload button's call: refused within SIPLB_RELOAD_DELTA of the start, an error the page shows as it is
    const again = (await rpc('dispatcher.reload', [])) as { error?: { message: string } };
    expect(again.error?.message).toMatch(/^reload refused: .* SIPLB_RELOAD_DELTA is 60 s/);
  }, 30_000);
});
