// siplb as users run it (node bin/siplb.js start), real UDP on 127.0.0.1, real worker threads
// when SIPLB_WORKERS=2, with small TypeScript UAC/UAS peers that show what is on the wire.
import { afterEach, describe, expect, it } from 'vitest';
import { startProxy, writeList, type ProxyProcess } from '../../helpers/proxy-process.js';
import { Peer, answer, type Received } from '../../helpers/udp-peer.js';
import { headerValues } from '../../helpers/sip-messages.js';

interface Rig {
  proxy: ProxyProcess;
  uac: Peer;
  a: Peer;
  b: Peer;
}

const open: Array<{ close(): Promise<void> } | ProxyProcess> = [];
afterEach(async () => {
  for (const x of open.splice(0)) await ('stop' in x ? x.stop() : x.close());
});

/** Two UAS peers answering INVITE/BYE by `rule`, behind a proxy with round-robin. */
async function rig(env: Record<string, string>, rule: (uas: 'a' | 'b', r: Received) => number | null = () => 200): Promise<Rig> {
  const a = await Peer.open();
  const b = await Peer.open();
  const uac = await Peer.open();
  open.push(a, b, uac);
  for (const [name, uas] of [['a', a], ['b', b]] as const) {
    uas.onMessage = (r) => {
      const method = r.first.split(' ')[0];
      if (method === 'ACK' || r.first.startsWith('SIP/2.0')) return;
      const status = method === 'INVITE' ? rule(name, r) : 200;
      if (status === null) return; // silent
      uas.send(answer(r.text, status, status === 200 ? 'OK' : 'Failed', { toTag: `uas-${name}`, contact: `<sip:ms@127.0.0.1:${uas.port}>` }), r.from.port, r.from.address);
    };
  }
  const list = writeList(`1 sip:127.0.0.1:${a.port} 0 10 duid=a\n1 sip:127.0.0.1:${b.port} 0 5 duid=b\n`);
  const proxy = await startProxy({ SIPLB_LIST_FILE: list, SIPLB_ALG: '4', SIPLB_FR_TIMER: '1500', ...env });
  open.unshift(proxy);
  return { proxy, uac, a, b };
}

function invite(proxyPort: number, uacPort: number, i: number, extra: string[] = []): string {
  return [
    `INVITE sip:service@127.0.0.1:${proxyPort} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${uacPort};branch=z9hG4bK-it-${i};rport`,
    'Max-Forwards: 70',
    `From: <sip:alice@127.0.0.1:${uacPort}>;tag=f${i}`,
    `To: <sip:service@127.0.0.1:${proxyPort}>`,
    `Call-ID: it-${i}@127.0.0.1`,
    `CSeq: 1 INVITE`,
    `Contact: <sip:alice@127.0.0.1:${uacPort}>`,
    ...extra,
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

/** ACK and BYE for an answered call, routed by the Record-Route of the 200 (RFC 3261 12.1.2). */
function inDialog(method: 'ACK' | 'BYE', ok: string, uacPort: number, i: number, cseq: number): string {
  const routes = headerValues(ok, 'Record-Route'); // UAC side: the route set is the Record-Route list
  const contact = headerValues(ok, 'Contact')[0]!.replace(/^<|>$/g, '');
  return [
    `${method} ${contact} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${uacPort};branch=z9hG4bK-it-${method}-${i};rport`,
    'Max-Forwards: 70',
    ...routes.map((r) => `Route: ${r}`),
    `From: <sip:alice@127.0.0.1:${uacPort}>;tag=f${i}`,
    `To: ${headerValues(ok, 'To')[0]!}`,
    `Call-ID: it-${i}@127.0.0.1`,
    `CSeq: ${cseq} ${method}`,
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

const finals = (r: Received[]): Received[] => r.filter((x) => /^SIP\/2\.0 [2-6]\d\d /.test(x.first) && !x.first.startsWith('SIP/2.0 100'));

describe.each([
  { mode: 'stateful', workers: '0', send: 'direct' },
  { mode: 'stateful', workers: '2', send: 'direct' },
  { mode: 'stateful', workers: '2', send: 'ring' },
  { mode: 'stateless', workers: '0', send: 'direct' },
  { mode: 'stateless', workers: '2', send: 'direct' },
  { mode: 'stateless', workers: '2', send: 'ring' },
])('calls through siplb ($mode, SIPLB_WORKERS=$workers, SIPLB_WORKER_SEND=$send)', ({ mode, workers, send }) => {
  it('completes INVITE/ACK/BYE calls, split evenly by round-robin, and drains on SIGTERM', async () => {
    const { proxy, uac, a, b } = await rig({ SIPLB_MODE: mode, SIPLB_WORKERS: workers, SIPLB_WORKER_SEND: send });
    const calls = 6;
    for (let i = 0; i < calls; i++) uac.send(invite(proxy.port, uac.port, i), proxy.port);
    await uac.waitFor((r) => finals(r).length === calls);
    const oks = finals(uac.received);
    expect(oks.every((r) => r.first === 'SIP/2.0 200 OK')).toBe(true);
    // with workers, each keeps its own round-robin counter: the split is even per worker, near even overall
    const invitesAt = (p: Peer): number => p.received.filter((r) => r.first.startsWith('INVITE')).length;
    expect(invitesAt(a) + invitesAt(b)).toBe(calls);
    if (workers === '0') expect([invitesAt(a), invitesAt(b)]).toEqual([3, 3]);
    for (const ok of oks) {
      const i = Number(/it-(\d+)@/.exec(ok.text)![1]);
      uac.send(inDialog('ACK', ok.text, uac.port, i, 1), proxy.port);
      uac.send(inDialog('BYE', ok.text, uac.port, i, 2), proxy.port);
    }
    await uac.waitFor((r) => finals(r).length === 2 * calls);
    const byes = [...a.received, ...b.received].filter((r) => r.first.startsWith('BYE'));
    expect(byes).toHaveLength(calls);
    expect(byes.every((r) => headerValues(r.text, 'Route').length === 0)).toBe(true); // our Route popped
    expect([...a.received, ...b.received].filter((r) => r.first.startsWith('ACK'))).toHaveLength(calls);
    const { code, stdout } = await proxy.stop();
    expect(code).toBe(0);
    expect(stdout).toContain('siplb counters:');
    expect(stdout).toMatch(/fwd_in_dialog \d+/);
    if (workers !== '0') expect(stdout).toMatch(new RegExp(`worker_1 ok send=${send} `));
    // every datagram the proxy sent is counted, whichever thread sent it
    const sent = Number(/udp_sent (\d+)/.exec(stdout)?.[1]);
    const got = uac.received.length + a.received.length + b.received.length;
    expect(sent).toBeGreaterThanOrEqual(got);
  });

  it('answers 483 to Max-Forwards 0 and 400 to a malformed request, and keeps serving', async () => {
    const { proxy, uac } = await rig({ SIPLB_MODE: mode, SIPLB_WORKERS: workers, SIPLB_WORKER_SEND: send });
    uac.send(invite(proxy.port, uac.port, 1).replace('Max-Forwards: 70', 'Max-Forwards: 0'), proxy.port);
    uac.send(invite(proxy.port, uac.port, 2).replace(';branch=z9hG4bK-it-2;rport', ';;'), proxy.port);
    uac.send(Buffer.from([0x00, 0xff, 0x13, 0x37]), proxy.port); // garbage: dropped, never a crash
    await uac.waitFor((r) => finals(r).length === 2);
    expect(finals(uac.received).map((r) => r.first).sort()).toEqual(['SIP/2.0 400 malformed Via header', 'SIP/2.0 483 Too Many Hops']);
    uac.send(invite(proxy.port, uac.port, 3), proxy.port);
    await uac.waitFor((r) => finals(r).length === 3);
    expect(finals(uac.received)[2]!.first).toBe('SIP/2.0 200 OK');
  });
});

describe.each([{ workers: '0' }, { workers: '2' }])('failover (stateful, SIPLB_WORKERS=$workers)', ({ workers }) => {
  it('a destination answering 503: the call completes on the other one', async () => {
    const { proxy, uac, a, b } = await rig({ SIPLB_WORKERS: workers, SIPLB_ALG: '8' }, (uas) => (uas === 'a' ? 503 : 200));
    uac.send(invite(proxy.port, uac.port, 1), proxy.port);
    await uac.waitFor((r) => finals(r).length === 1);
    expect(finals(uac.received)[0]!.first).toBe('SIP/2.0 200 OK');
    expect(a.received.map((r) => r.first.split(' ')[0])).toEqual(['INVITE', 'ACK']); // hop-by-hop ACK of the 503
    expect(b.received.filter((r) => r.first.startsWith('INVITE'))).toHaveLength(1);
  });

  it('a destination that never answers: the call completes on the other one within the timer', async () => {
    const { proxy, uac, b } = await rig({ SIPLB_WORKERS: workers, SIPLB_ALG: '8' }, (uas) => (uas === 'a' ? null : 200));
    const t0 = Date.now();
    uac.send(invite(proxy.port, uac.port, 1), proxy.port);
    await uac.waitFor((r) => finals(r).length === 1, 8000);
    expect(finals(uac.received)[0]!.first).toBe('SIP/2.0 200 OK');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1400); // SIPLB_FR_TIMER=1500
    expect(b.received.filter((r) => r.first.startsWith('INVITE'))).toHaveLength(1);
  });
});
