// Reload without restart against a real siplb: a destination present before and after keeps its
// state (an operator's disable), latency and table entry; a new one takes traffic at once and a
// removed one none; a bad file, a reload sooner than SIPLB_RELOAD_DELTA and a list larger than
// SIPLB_MAX_DESTINATIONS are refused with the reason and the list in service stays;
// dispatcher.add/remove and `siplb ctl reload|add|remove`; SIPLB_WATCH_LIST. Dispatch workers and
// the inline core both.
import { writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { freeTcpPort, startProxy, writeList, type ProxyProcess } from '../../helpers/proxy-process.js';
import { runCliEnv } from '../../helpers/run-cli.js';
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

interface Dest {
  URI: string;
  FLAGS: string;
  LATENCY?: { AVG: number; EST: number };
}

async function rpc(admin: string, method: string, params: unknown[] = []): Promise<{ result?: unknown; error?: { code: number; message: string } }> {
  const res = await fetch(`${admin}/RPC`, { method: 'POST', body: JSON.stringify({ jsonrpc: '2.0', method, params, id: 1 }) });
  return (await res.json()) as { result?: unknown; error?: { code: number; message: string } };
}

async function dests(admin: string): Promise<Map<string, Dest>> {
  const list = (await rpc(admin, 'dispatcher.list')).result as { RECORDS: Array<{ SET: { TARGETS: Array<{ DEST: Dest }> } }> };
  return new Map(list.RECORDS.flatMap((r) => r.SET.TARGETS.map((t) => [t.DEST.URI, t.DEST] as const)));
}

async function until(pred: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await pred())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe.each(['0', '2'])('reload, SIPLB_WORKERS=%s', (workers) => {
  it('keeps the state and latency of destinations in both lists, routes to the new one, none to the removed one; refuses bad files, too-soon reloads and too many destinations', async () => {
    const [a, b, c] = [await backend(), await backend(), await backend()];
    const port = await freeTcpPort();
    const admin = `http://127.0.0.1:${port}`;
    // flag 8: probed (SIPLB_DS_PROBING_MODE 3 pings only those)
    const file = writeList(`1 ${a.uri} 8\n1 ${b.uri}\n`);
    const proxy = await startProxy({
      SIPLB_LIST_FILE: file,
      SIPLB_ALG: '4',
      SIPLB_WORKERS: workers,
      SIPLB_ADMIN: `127.0.0.1:${port}`,
      SIPLB_DS_PING_INTERVAL: '1',
      SIPLB_RELOAD_DELTA: '2',
      SIPLB_MAX_DESTINATIONS: '3',
    });
    open.unshift(proxy);
    const uac = await Peer.open();
    open.push(uac);

    // b disabled by the operator; a measured by keepalives
    expect((await rpc(admin, 'dispatcher.set_state', ['d', 1, b.uri])).result).toBe('Ok. Dispatcher state updated.');
    await until(async () => ((await dests(admin)).get(a.uri)?.LATENCY?.AVG ?? 0) > 0);
    const latencyBefore = (await dests(admin)).get(a.uri)!.LATENCY!;
    await new Promise((r) => setTimeout(r, 2000)); // SIPLB_RELOAD_DELTA counts from the start

    writeFileSync(file, `1 ${a.uri} 8\n1 ${b.uri}\n1 ${c.uri}\n`);
    const reloaded = await rpc(admin, 'siplb.reload');
    expect(reloaded.result).toMatchObject({ destinations: 3, kept: 2, added: 1, removed: 0, reflagged: 0 });
    const after = await dests(admin);
    expect(after.get(b.uri)!.FLAGS).toBe('DX'); // Kamailio would have it active again
    expect(after.get(c.uri)!.FLAGS).toMatch(/^A/);
    // the keepalive history is the same record, not a new one (a reset one would average 0 or one sample)
    expect(after.get(a.uri)!.LATENCY!.AVG).toBeGreaterThan(0);
    expect(Math.abs(after.get(a.uri)!.LATENCY!.EST - latencyBefore.EST)).toBeLessThan(latencyBefore.EST * 10 + 1);

    // round-robin per thread: with two workers the split depends on the Call-ID shards
    await invites(uac, proxy.port, 10);
    expect(b.invites()).toBe(0);
    expect(c.invites()).toBeGreaterThanOrEqual(workers === '0' ? 5 : 1);
    expect(a.invites() + c.invites()).toBe(10);
    const aBefore = a.invites();

    // too soon
    const soon = await rpc(admin, 'dispatcher.reload');
    expect(soon.error?.code).toBe(500);
    expect(soon.error?.message).toMatch(/reload refused: the last one was .* s ago and SIPLB_RELOAD_DELTA is 2 s/);

    // a bad line: refused with the line, the list in service stays
    await new Promise((r) => setTimeout(r, 2000));
    writeFileSync(file, `1 ${a.uri} 8\n1 sip:127.0.0.1:notaport\n`);
    const bad = await rpc(admin, 'dispatcher.reload');
    expect(bad.error?.message).toMatch(/1 bad line in [\s\S]*:2: bad destination URI/);
    expect([...(await dests(admin)).keys()].sort()).toEqual([a.uri, b.uri, c.uri].sort());

    // more than SIPLB_MAX_DESTINATIONS: refused, nothing changed
    await new Promise((r) => setTimeout(r, 2000));
    writeFileSync(file, `1 ${a.uri} 8\n1 ${b.uri}\n1 ${c.uri}\n2 sip:127.0.0.1:9\n`);
    const big = await rpc(admin, 'dispatcher.reload');
    expect(big.error?.message).toMatch(/the list has 4 destinations, more than SIPLB_MAX_DESTINATIONS \(3\)/);

    // removed: a gets nothing more; b stays disabled
    await new Promise((r) => setTimeout(r, 2000));
    writeFileSync(file, `1 ${b.uri}\n1 ${c.uri}\n`);
    // Kamailio's method answers Kamailio's words
    expect(await rpc(admin, 'dispatcher.reload')).toMatchObject({ result: 'Ok. Dispatcher successfully reloaded.' });
    // its log line says what changed (stderr is read as it comes)
    await until(() => /"trigger":"rpc","destinations":2,"kept":2,"reflagged":0,"added":0,"removed":1/.test(proxy.stderr()));
    await invites(uac, proxy.port, 4);
    expect(a.invites()).toBe(aBefore);
    expect(c.invites()).toBe(14 - aBefore);
    expect(proxy.stderr()).toContain('reload failed; the list in service stays');
  }, 40_000);
});

describe('dispatcher.add and dispatcher.remove, siplb ctl', () => {
  it('add and remove change the list in service; ctl reload|add|remove print what it became; bad input is refused with the reason', async () => {
    const [a, b] = [await backend(), await backend()];
    const port = await freeTcpPort();
    const env = { SIPLB_ADMIN: `127.0.0.1:${port}` };
    const file = writeList(`1 ${a.uri}\n`);
    const proxy = await startProxy({ SIPLB_LIST_FILE: file, SIPLB_ALG: '4', SIPLB_WORKERS: '0', SIPLB_RELOAD_DELTA: '0', ...env });
    open.unshift(proxy);
    const uac = await Peer.open();
    open.push(uac);

    const added = await runCliEnv(['ctl', 'add', '1', b.uri, '0', '5', 'duid=media-b'], env);
    expect(added.code, added.stderr).toBe(0);
    expect(added.stdout).toBe(`2 destinations in service: 1 kept with their state, 1 added, 0 removed (${/\(([0-9.]+) ms\)/.exec(added.stdout)![1]} ms)\n`);
    await invites(uac, proxy.port, 4);
    expect([a.invites(), b.invites()]).toEqual([2, 2]);

    const badUri = await runCliEnv(['ctl', 'add', '1', 'sip:bad host'], env);
    expect(badUri.code).toBe(1);
    expect(badUri.stderr).toMatch(/dispatcher.add: bad destination URI/);
    const badSocket = await runCliEnv(['ctl', 'add', '1', 'sip:127.0.0.1:5999', '0', '0', 'socket=udp:10.9.9.9:5060'], env);
    expect(badSocket.code).toBe(1);
    expect(badSocket.stderr).toMatch(/socket/);

    const removed = await runCliEnv(['ctl', 'remove', '1', a.uri, '--json'], env);
    expect(removed.code, removed.stderr).toBe(0);
    expect(JSON.parse(removed.stdout)).toMatchObject({ destinations: 1, kept: 1, removed: 1 });
    await invites(uac, proxy.port, 2);
    expect([a.invites(), b.invites()]).toEqual([2, 4]);
    const missing = await runCliEnv(['ctl', 'remove', '1', a.uri], env);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/no destination sip:127.0.0.1:\d+ in set 1/);

    // a reload from the file replaces what add and remove did, as in Kamailio
    const reload = await runCliEnv(['ctl', 'reload'], env);
    expect(reload.code, reload.stderr).toBe(0);
    expect(reload.stdout).toMatch(/^1 destination in service: 0 kept with their state, 1 added, 1 removed/);
    await invites(uac, proxy.port, 2);
    expect([a.invites(), b.invites()]).toEqual([4, 4]);
  }, 30_000);
});

describe('SIPLB_WATCH_LIST', () => {
  it('reloads by itself when the file is replaced (an editor save, a mv over it)', async () => {
    const [a, b] = [await backend(), await backend()];
    const file = writeList(`1 ${a.uri}\n`);
    const proxy = await startProxy({ SIPLB_LIST_FILE: file, SIPLB_WATCH_LIST: '1', SIPLB_RELOAD_DELTA: '0' });
    open.unshift(proxy);
    const uac = await Peer.open();
    open.push(uac);
    const tmp = `${file}.new`;
    writeFileSync(tmp, `1 ${b.uri}\n`);
    const { renameSync } = await import('node:fs');
    renameSync(tmp, file);
    await until(() => proxy.stderr().includes('"trigger":"watch"'));
    await invites(uac, proxy.port, 2);
    expect([a.invites(), b.invites()]).toEqual([0, 2]);
  }, 20_000);
});
