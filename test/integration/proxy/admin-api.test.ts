// The control channel against a real siplb: an operator disables a destination over JSON-RPC and
// real INVITEs stop going to it, `a` brings it back; the same through REST; batches and the
// JSON-RPC error codes over HTTP; bounded bodies; and the events watcher counting the operator's
// change as a dst-down/dst-up.
import { afterEach, describe, expect, it } from 'vitest';
import { freeTcpPort, startProxy, writeList, type ProxyProcess } from '../../helpers/proxy-process.js';
import { Peer } from '../../helpers/udp-peer.js';
import { answeringBackend, requestsThrough } from '../../helpers/answering-peer.js';

const open: Array<{ close(): Promise<void> } | ProxyProcess> = [];
afterEach(async () => {
  for (const x of open.splice(0)) await ('stop' in x ? x.stop() : x.close());
});

async function backend(): ReturnType<typeof answeringBackend> {
  const p = await answeringBackend();
  open.push(p);
  return p;
}

const invites = (uac: Peer, proxyPort: number, count: number): Promise<void> => requestsThrough(uac, proxyPort, count);

async function setup(): Promise<{ proxy: ProxyProcess; admin: string; a: Awaited<ReturnType<typeof backend>>; b: Awaited<ReturnType<typeof backend>>; uac: Peer; uriA: string }> {
  const a = await backend();
  const b = await backend();
  const port = await freeTcpPort();
  const uriA = `sip:127.0.0.1:${a.port}`;
  const proxy = await startProxy({ SIPLB_LIST_FILE: writeList(`1 ${uriA} 0 0 duid=media-a\n1 sip:127.0.0.1:${b.port} 0 0 duid=media-b\n`), SIPLB_ALG: '4', SIPLB_ADMIN: `127.0.0.1:${port}` });
  open.unshift(proxy);
  const uac = await Peer.open();
  open.push(uac);
  return { proxy, admin: `http://127.0.0.1:${port}`, a, b, uac, uriA };
}

async function eventsReach(admin: string, want: { dstDown: number; dstUp: number }): Promise<void> {
  const until = Date.now() + 5000;
  for (;;) {
    const stats = (await (await fetch(`${admin}/api/stats`)).json()) as { events: { dstDown: number; dstUp: number } };
    if ((stats.events.dstDown === want.dstDown && stats.events.dstUp === want.dstUp) || Date.now() > until) return void expect(stats.events).toMatchObject(want);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function post(url: string, body: unknown): Promise<{ status: number; json: unknown }> {
  const res = await fetch(url, { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, json: text === '' ? undefined : JSON.parse(text) };
}

describe('admin API on a running proxy', () => {
  it('set_state d takes a destination out of rotation for real INVITEs; a brings it back; events see both', async () => {
    const { proxy, admin, a, b, uac, uriA } = await setup();
    const rpc = (method: string, params: unknown): Promise<{ status: number; json: unknown }> => post(`${admin}/RPC`, { jsonrpc: '2.0', method, params, id: 7 });

    await invites(uac, proxy.port, 10);
    expect([a.invites(), b.invites()]).toEqual([5, 5]);

    expect((await rpc('dispatcher.set_state', ['d', 1, uriA])).json).toEqual({ jsonrpc: '2.0', result: 'Ok. Dispatcher state updated.', id: 7 });
    // the watcher polls every 100 ms: the operator's down is an event like any other (waited for,
    // so that a loaded machine's late poll cannot miss a down and up that came within one poll)
    await eventsReach(admin, { dstDown: 1, dstUp: 0 });
    await invites(uac, proxy.port, 10);
    expect([a.invites(), b.invites()]).toEqual([5, 15]);
    const list = (await (await fetch(`${admin}/api/dispatcher/list`)).json()) as { RECORDS: Array<{ SET: { TARGETS: Array<{ DEST: { URI: string; FLAGS: string } }> } }> };
    expect(list.RECORDS[0]!.SET.TARGETS.map((t) => t.DEST.FLAGS).sort()).toEqual(['AX', 'DX']);

    // the same through REST, by name
    const rest = await post(`${admin}/api/dispatcher/set_state`, { state: 'a', group: 1, address: uriA });
    expect(rest).toEqual({ status: 200, json: 'Ok. Dispatcher state updated.' });
    await invites(uac, proxy.port, 10);
    expect([a.invites(), b.invites()]).toEqual([10, 20]);

    await eventsReach(admin, { dstDown: 1, dstUp: 1 });

    // by duid, whole set
    expect((await rpc('dispatcher.set_duid_state', { state: 'i', group: 1, duid: 'media-b' })).json).toMatchObject({ result: 'Ok. Dispatcher state updated.' });
    await invites(uac, proxy.port, 4);
    expect([a.invites(), b.invites()]).toEqual([14, 20]);
    await rpc('dispatcher.set_state', ['a', 1, 'all']);
    await invites(uac, proxy.port, 4);
    expect([a.invites(), b.invites()]).toEqual([16, 22]);
  }, 30_000);

  it('batches, JSON-RPC errors, REST status codes and bounded bodies', async () => {
    const { admin, uriA } = await setup();
    const batch = await post(`${admin}/RPC`, [
      { jsonrpc: '2.0', method: 'dispatcher.set_state', params: ['dp', 1, uriA], id: 1 },
      { jsonrpc: '2.0', method: 'dispatcher.hash', params: [4, 'alice', 'atlanta.com'] },
      { jsonrpc: '2.0', method: 'dispatcher.hash', params: [4, 'alice', 'atlanta.com'], id: 'h' },
      { jsonrpc: '2.0', method: 'dispatcher.set_state', params: ['x', 1, uriA], id: 2 },
      { jsonrpc: '2.0', method: 'dispatcher.set_state', params: ['a', 9, uriA], id: 3 },
      { jsonrpc: '2.0', method: 'dispatcher.set_state', params: ['a', 1, 'sip:192.0.2.9'], id: 4 },
      { jsonrpc: '2.0', method: 'dispatcher.nope', id: 5 },
    ]);
    expect(batch).toEqual({
      status: 200,
      json: [
        { jsonrpc: '2.0', result: 'Ok. Dispatcher state updated.', id: 1 },
        { jsonrpc: '2.0', result: { hashid: 1053853112, slot: 0 }, id: 'h' },
        { jsonrpc: '2.0', error: { code: -32602, message: "bad state letter 'x' in 'x': expected a (active), i (inactive), d (disabled) or t (trying), optionally followed by p (probing)" }, id: 2 },
        { jsonrpc: '2.0', error: { code: -32602, message: 'unknown set 9' }, id: 3 },
        { jsonrpc: '2.0', error: { code: -32602, message: 'unknown destination sip:192.0.2.9 in set 1' }, id: 4 },
        { jsonrpc: '2.0', error: { code: -32601, message: 'Method not found: dispatcher.nope' }, id: 5 },
      ],
    });
    expect(await post(`${admin}/RPC`, [])).toEqual({ status: 200, json: { jsonrpc: '2.0', error: { code: -32600, message: 'Invalid Request: empty batch' }, id: null } });
    expect(await post(`${admin}/RPC`, '{"jsonrpc": "2.0", "method"')).toEqual({ status: 200, json: { jsonrpc: '2.0', error: { code: -32700, message: 'Parse error: the body is not JSON' }, id: null } });
    expect(await post(`${admin}/RPC`, { jsonrpc: '2.0', method: 'dispatcher.list' })).toEqual({ status: 204, json: undefined }); // a notification

    const get = async (path: string): Promise<{ status: number; json: unknown }> => {
      const res = await fetch(`${admin}${path}`);
      return { status: res.status, json: await res.json() };
    };
    expect(await get('/api/dispatcher/hash?nslots=4&val1=alice&val2=atlanta.com')).toEqual({ status: 200, json: { hashid: 1053853112, slot: 0 } });
    expect(await get('/api/dispatcher/hash?nslots=four&val1=a')).toEqual({ status: 400, json: { error: 'nslots must be an integer, got "four"', code: -32602 } });
    expect((await get('/api/dispatcher/set_state?state=d&group=1&address=all')).status).toBe(405);
    expect((await get('/api/dispatcher/nope')).status).toBe(404);
    expect((await post(`${admin}/api/dispatcher/set_state`, { state: 'd', group: 1, uri: uriA })).json).toEqual({ error: "unknown parameter 'uri': dispatcher.set_state takes state, group, address", code: -32602 });
    expect((await post(`${admin}/RPC`, 'x'.repeat(70 * 1024))).status).toBe(413);
    const flags = ((await get('/api/dispatcher/list')).json as { RECORDS: Array<{ SET: { TARGETS: Array<{ DEST: { URI: string; FLAGS: string } }> } }> }).RECORDS[0]!.SET.TARGETS.find((t) => t.DEST.URI === uriA)!.DEST.FLAGS;
    expect(flags).toBe('DX'); // 'dp' sets disabled only: Kamailio's disabled leaves no other state bit
  }, 20_000);
});
