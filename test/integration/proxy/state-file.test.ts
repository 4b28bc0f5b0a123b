// SIPLB_STATE_FILE against real siplb processes: an operator's disable and the keepalive latency
// survive a stop and a start; a line whose flags changed meanwhile starts from its new flags; a
// destination no longer listed is forgotten; a foreign file is said in one line and ignored.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freeTcpPort, startProxy, writeList, type ProxyProcess } from '../../helpers/proxy-process.js';
import { Peer, answer } from '../../helpers/udp-peer.js';

const open: Array<{ close(): Promise<void> } | ProxyProcess> = [];
afterEach(async () => {
  for (const x of open.splice(0)) await ('stop' in x ? x.stop() : x.close());
});

async function backend(): Promise<Peer & { uri: string }> {
  const p = await Peer.open();
  open.push(p);
  p.onMessage = (r) => {
    if (!r.first.startsWith('SIP/2.0') && !r.first.startsWith('ACK')) p.send(answer(r.text, 200, 'OK', { toTag: 'b' }), r.from.port, r.from.address);
  };
  return Object.assign(p, { uri: `sip:127.0.0.1:${p.port}` });
}

interface Dest {
  URI: string;
  FLAGS: string;
  LATENCY?: { AVG: number; TIMEOUT: number };
}

async function rpc(admin: string, method: string, params: unknown[] = []): Promise<unknown> {
  const res = await fetch(`${admin}/RPC`, { method: 'POST', body: JSON.stringify({ jsonrpc: '2.0', method, params, id: 1 }) });
  return ((await res.json()) as { result: unknown }).result;
}

async function dests(admin: string): Promise<Map<string, Dest>> {
  const list = (await rpc(admin, 'dispatcher.list')) as { RECORDS: Array<{ SET: { TARGETS: Array<{ DEST: Dest }> } }> };
  return new Map(list.RECORDS.flatMap((r) => r.SET.TARGETS.map((t) => [t.DEST.URI, t.DEST] as const)));
}

async function until(pred: () => Promise<boolean>, ms = 6000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await pred())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('SIPLB_STATE_FILE', () => {
  it('keeps an operator disable and the keepalive latency across a restart; not for a line whose flags changed', async () => {
    const [a, b, c] = [await backend(), await backend(), await backend()];
    const stateFile = join(mkdtempSync(join(tmpdir(), 'siplb-state-')), 'state.msgpack');
    const file = writeList(`1 ${a.uri} 8\n1 ${b.uri} 8\n1 ${c.uri} 8\n`);
    const start = async (env: Record<string, string> = {}): Promise<{ proxy: ProxyProcess; admin: string }> => {
      const port = await freeTcpPort();
      const proxy = await startProxy({ SIPLB_LIST_FILE: file, SIPLB_ADMIN: `127.0.0.1:${port}`, SIPLB_STATE_FILE: stateFile, ...env });
      open.unshift(proxy);
      return { proxy, admin: `http://127.0.0.1:${port}` };
    };

    const first = await start({ SIPLB_DS_PING_INTERVAL: '1' });
    await until(async () => ((await dests(first.admin)).get(a.uri)?.LATENCY?.AVG ?? 0) > 0);
    await rpc(first.admin, 'dispatcher.set_state', ['d', 1, b.uri]);
    await rpc(first.admin, 'dispatcher.set_state', ['d', 1, c.uri]);
    const before = (await dests(first.admin)).get(a.uri)!.LATENCY!;
    const stopped = await first.proxy.stop();
    expect(stopped.code).toBe(0);
    open.splice(open.indexOf(first.proxy), 1);

    // c's line now has other flags (an operator edited it): it starts from them
    writeFileSync(file, `1 ${a.uri} 8\n1 ${b.uri} 8\n1 ${c.uri} 0\n`);
    // no keepalives this time: what the list shows of a's latency can only be the restored record
    const second = await start({ SIPLB_DS_PING_INTERVAL: '0' });
    const after = await dests(second.admin);
    expect(after.get(b.uri)!.FLAGS).toBe('DX');
    expect(after.get(c.uri)!.FLAGS).toBe('AX');
    expect(after.get(a.uri)!.LATENCY!.AVG).toBe(before.AVG);
    expect(second.proxy.stderr()).toMatch(/"file":"[^"]+state.msgpack","restored":2,"of":3,.*"msg":"destination state restored"/);
  }, 30_000);

  it('a file that is not a state file is said in one line and ignored; a missing one is a first start', async () => {
    const a = await backend();
    const dir = mkdtempSync(join(tmpdir(), 'siplb-state-'));
    const foreign = join(dir, 'foreign');
    writeFileSync(foreign, 'not msgpack at all\n');
    const port = await freeTcpPort();
    const proxy = await startProxy({ SIPLB_LIST_FILE: writeList(`1 ${a.uri}\n`), SIPLB_ADMIN: `127.0.0.1:${port}`, SIPLB_STATE_FILE: foreign });
    open.unshift(proxy);
    expect((await dests(`http://127.0.0.1:${port}`)).get(a.uri)!.FLAGS).toBe('AX');
    expect(proxy.stderr()).toContain('SIPLB_STATE_FILE: ' + foreign + ' is not a siplb state file of version 1; every destination starts from its list flags');
    const fresh = await startProxy({ SIPLB_LIST_FILE: writeList(`1 ${a.uri}\n`), SIPLB_STATE_FILE: join(dir, 'new') });
    open.unshift(fresh);
    expect(fresh.stderr()).not.toContain('SIPLB_STATE_FILE');
  }, 20_000);
});
