// Registration-based destinations through a real siplb process: TypeScript media servers on real
// UDP REGISTER to the address-of-record of set 10, calls follow their bindings and their q, the
// registrar's refusals (403, 423) are what RFC 3261 §10.3 says, a binding that expires or is
// removed takes its destination away, and bindings are probed like any destination.
import { afterEach, describe, expect, it } from 'vitest';
import type { DispatcherList } from '../../../src/admin/dispatcher-list.js';
import { freeTcpPort, startProxy, writeList, type ProxyProcess } from '../../helpers/proxy-process.js';
import { Peer, answer } from '../../helpers/udp-peer.js';

const open: Array<{ close(): Promise<void> } | ProxyProcess> = [];
afterEach(async () => {
  for (const x of open.splice(0)) await ('stop' in x ? x.stop() : x.close());
});
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));


/** A media server: answers OPTIONS and calls with 200, and registers itself. */
async function mediaServer(host = '127.0.0.1'): Promise<Peer & { calls: () => number }> {
  const p = await Peer.open(0, host);
  open.push(p);
  p.onMessage = (r) => {
    const method = r.first.split(' ')[0]!;
    if (method === 'ACK' || r.first.startsWith('SIP/2.0')) return;
    p.send(answer(r.text, 200, 'OK', { toTag: 'ms' }), r.from.port, r.from.address);
  };
  return Object.assign(p, { calls: () => p.received.filter((r) => r.first.startsWith('MESSAGE')).length });
}

let seq = 0;
async function register(from: Peer, proxyPort: number, contact: string, extra: string[] = []): Promise<string> {
  const n = ++seq;
  const before = from.received.length;
  from.send(
    [
      `REGISTER sip:lb.test SIP/2.0`,
      `Via: SIP/2.0/UDP 127.0.0.1:${from.port};branch=z9hG4bK-reg-${n};rport`,
      'Max-Forwards: 70',
      `From: <sip:media@lb.test>;tag=r${n}`,
      `To: <sip:media@lb.test>`,
      `Call-ID: reg-${from.port}@test`,
      `CSeq: ${n} REGISTER`,
      `Contact: ${contact}`,
      ...extra,
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n'),
    proxyPort,
  );
  await from.waitFor((got) => got.slice(before).some((g) => g.first.startsWith('SIP/2.0') && g.text.includes(`CSeq: ${n} REGISTER`)), 3000);
  return from.received.slice(before).find((g) => g.text.includes(`CSeq: ${n} REGISTER`))!.text;
}

async function message(uac: Peer, proxyPort: number): Promise<string> {
  const n = ++seq;
  const before = uac.received.length;
  uac.send(
    [
      `MESSAGE sip:service@127.0.0.1:${proxyPort} SIP/2.0`,
      `Via: SIP/2.0/UDP 127.0.0.1:${uac.port};branch=z9hG4bK-m-${n};rport`,
      'Max-Forwards: 70',
      `From: <sip:alice@127.0.0.1>;tag=m${n}`,
      `To: <sip:service@127.0.0.1>`,
      `Call-ID: m-${n}-${Date.now()}@test`,
      'CSeq: 1 MESSAGE',
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n'),
    proxyPort,
  );
  await uac.waitFor((got) => got.slice(before).some((g) => /^SIP\/2\.0 [2-6]/.test(g.first)), 4000);
  return uac.received.slice(before).find((g) => /^SIP\/2\.0 [2-6]/.test(g.first))!.first;
}

describe.each([0, 2])('registration-based destinations (SIPLB_WORKERS=%i)', (workers) => {
  it('bindings appear, follow q, are probed, refuse what RFC 3261 refuses, and go on expiry or unregister', async () => {
    const admin = await freeTcpPort();
    const proxy = await startProxy({
      SIPLB_LIST_FILE: writeList('1 sip:127.0.0.1:9 0\n'),
      SIPLB_WORKERS: String(workers),
      SIPLB_SET: '10',
      SIPLB_ALG: '8', // priority: the highest q first
      SIPLB_REGISTER_SETS: '10=media@lb.test',
      SIPLB_REGISTER_ALLOW: '127.0.0.1/32',
      SIPLB_REGISTER_MIN_EXPIRES: '2',
      SIPLB_ADMIN: `127.0.0.1:${admin}`,
      SIPLB_DS_PING_INTERVAL: '1',
      SIPLB_DS_PING_TIMEOUT: '400',
      SIPLB_FR_TIMER: '1000',
    });
    open.unshift(proxy);
    const uac = await Peer.open();
    open.push(uac);
    const a = await mediaServer();
    const b = await mediaServer();
    const list = async (): Promise<Array<{ URI: string; FLAGS: string; PRIORITY: number }>> => {
      const l = (await (await fetch(`http://127.0.0.1:${admin}/api/dispatcher/list`)).json()) as DispatcherList;
      return l.RECORDS.filter((r) => r.SET.ID === 10).flatMap((r) => r.SET.TARGETS.map((t) => t.DEST));
    };

    // nothing registered: set 10 is empty
    expect(await message(uac, proxy.port)).toMatch(/^SIP\/2\.0 503/);

    // refusals: too short an expiry (423 with Min-Expires), a source outside SIPLB_REGISTER_ALLOW (403)
    const brief = await register(a, proxy.port, `<sip:a@127.0.0.1:${a.port}>;expires=1`).catch(async (e: unknown) => {
      const r = await proxy.stop();
      throw new Error(`${String(e)}\n${r.stdout}\n${r.stderr}`);
    });
    expect(brief).toMatch(/^SIP\/2\.0 423 /);
    expect(brief).toMatch(/\r\nMin-Expires: 2\r\n/);
    const outsider = await Peer.open(0, '127.0.0.2');
    open.push(outsider);
    expect(await register(outsider, proxy.port, `<sip:x@127.0.0.2:${outsider.port}>`)).toMatch(/^SIP\/2\.0 403 /);

    // A registers with q=0.5: the 200 lists the binding, and calls go to A
    const okA = await register(a, proxy.port, `<sip:a@127.0.0.1:${a.port}>;q=0.5`, ['Expires: 60']);
    expect(okA).toMatch(/^SIP\/2\.0 200 /);
    expect(okA).toContain(`Contact: <sip:a@127.0.0.1:${a.port}>;expires=60;q=0.5`);
    expect(await message(uac, proxy.port)).toMatch(/^SIP\/2\.0 200/);
    expect(a.calls()).toBe(1);
    // probed like any destination
    await a.waitFor((got) => got.some((g) => g.first.startsWith('OPTIONS')), 3000);
    expect(await list()).toEqual([expect.objectContaining({ URI: `sip:a@127.0.0.1:${a.port}`, FLAGS: 'AP', PRIORITY: 500 })]);

    // B registers with q=1: algorithm 8 prefers it
    expect(await register(b, proxy.port, `<sip:b@127.0.0.1:${b.port}>;q=1.0;expires=60`)).toMatch(/^SIP\/2\.0 200 /);
    for (let i = 0; i < 3; i++) expect(await message(uac, proxy.port)).toMatch(/^SIP\/2\.0 200/);
    expect([a.calls(), b.calls()]).toEqual([1, 3]);

    // B unregisters: back to A
    expect(await register(b, proxy.port, `<sip:b@127.0.0.1:${b.port}>;expires=0`)).toMatch(/^SIP\/2\.0 200 /);
    expect(await message(uac, proxy.port)).toMatch(/^SIP\/2\.0 200/);
    expect([a.calls(), b.calls()]).toEqual([2, 3]);

    // A re-registers for 2 s: after it expires, set 10 is empty again
    await register(a, proxy.port, `<sip:a@127.0.0.1:${a.port}>;expires=2`);
    await sleep(3500);
    expect(await list()).toEqual([]);
    expect(await message(uac, proxy.port)).toMatch(/^SIP\/2\.0 503/);
    expect(a.calls()).toBe(2);
  }, 30_000);
});
