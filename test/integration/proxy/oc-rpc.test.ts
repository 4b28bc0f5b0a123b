// Algorithm 64's overload reports set at run time through the control channel: a real siplb,
// two TypeScript backends, siplb.oc_set_attrs over JSON-RPC skipping one destination 100 times in
// 100 while the report holds, dispatcher.oclist showing it, and clear errors for bad parameters.
import { afterEach, describe, expect, it } from 'vitest';
import { freeTcpPort, startProxy, writeList, type ProxyProcess } from '../../helpers/proxy-process.js';
import { Peer, answer } from '../../helpers/udp-peer.js';

const open: Array<{ close(): Promise<void> } | ProxyProcess> = [];
afterEach(async () => {
  for (const x of open.splice(0)) await ('stop' in x ? x.stop() : x.close());
});


async function backend(): Promise<Peer & { calls: () => number }> {
  const p = await Peer.open();
  open.push(p);
  p.onMessage = (r) => {
    if (!r.first.startsWith('SIP/2.0') && !r.first.startsWith('ACK')) p.send(answer(r.text, 200, 'OK', { toTag: 'b' }), r.from.port, r.from.address);
  };
  return Object.assign(p, { calls: () => p.received.filter((r) => r.first.startsWith('MESSAGE')).length });
}

let n = 0;
async function messages(uac: Peer, proxyPort: number, count: number): Promise<void> {
  const before = uac.received.length;
  for (let i = 0; i < count; i++) {
    const k = ++n;
    uac.send(
      `MESSAGE sip:svc@127.0.0.1:${proxyPort} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:${uac.port};branch=z9hG4bK-oc-${k};rport\r\nMax-Forwards: 70\r\n` +
        `From: <sip:a@127.0.0.1>;tag=t${k}\r\nTo: <sip:svc@127.0.0.1>\r\nCall-ID: oc-${k}@test\r\nCSeq: 1 MESSAGE\r\nContent-Length: 0\r\n\r\n`,
      proxyPort,
    );
  }
  await uac.waitFor((got) => got.slice(before).filter((g) => g.first.startsWith('SIP/2.0 200')).length === count, 5000);
}

describe('overload reports at run time (algorithm 64)', () => {
  it('siplb.oc_set_attrs skips a destination while its report holds; dispatcher.oclist shows it', async () => {
    const a = await backend();
    const b = await backend();
    const admin = await freeTcpPort();
    const uriA = `sip:127.0.0.1:${a.port}`;
    const proxy = await startProxy({ SIPLB_LIST_FILE: writeList(`1 ${uriA} 0 0 ocmax=100\n1 sip:127.0.0.1:${b.port} 0\n`), SIPLB_ALG: '64', SIPLB_ADMIN: `127.0.0.1:${admin}` });
    open.unshift(proxy);
    const uac = await Peer.open();
    open.push(uac);
    const rpc = async (method: string, params: unknown[]): Promise<{ result?: unknown; error?: { code: number; message: string } }> =>
      (await (await fetch(`http://127.0.0.1:${admin}/RPC`, { method: 'POST', body: JSON.stringify({ jsonrpc: '2.0', method, params, id: 1 }) })).json()) as { result?: unknown; error?: { code: number; message: string } };

    await messages(uac, proxy.port, 10);
    expect([a.calls(), b.calls()]).toEqual([5, 5]); // round-robin without a report

    expect((await rpc('siplb.oc_set_attrs', [1, uriA, 100, 1500, 1])).result).toEqual({ TAKEN: 1 });
    const list = (await rpc('dispatcher.oclist', [1])).result as { TARGETS: Array<{ uri: string; ocrate: number; active: boolean }> };
    expect(list.TARGETS.find((t) => t.uri === uriA)).toMatchObject({ ocrate: 100, active: true });
    await messages(uac, proxy.port, 10);
    expect([a.calls(), b.calls()]).toEqual([5, 15]); // skipped 100 times in 100

    expect((await rpc('siplb.oc_set_attrs', [1, uriA, 100, 1500, 1])).result).toEqual({ TAKEN: 0 }); // a sequence number not above the last
    await new Promise((r) => setTimeout(r, 1700)); // the report expires
    await messages(uac, proxy.port, 10);
    expect(a.calls()).toBeGreaterThanOrEqual(9);

    expect((await rpc('siplb.oc_set_attrs', [9, uriA, 50, 500, 2])).error).toEqual({ code: -32602, message: 'unknown set 9' });
    expect((await rpc('siplb.oc_set_attrs', [1, uriA, 150, 500, 2])).error?.message).toMatch(/rate from 0 to 100/);
    expect((await rpc('dispatcher.nope', [])).error?.code).toBe(-32601);
  }, 20_000);
});
