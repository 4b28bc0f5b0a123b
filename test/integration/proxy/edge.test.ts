// The edge defects of issue 8 through the real path: `siplb start` as users run it, real UDP on
// 127.0.0.1, real worker threads, small TypeScript UAC/UAS peers that show what is on the wire.
// (The relay attacks with foreign victim addresses run in a private network namespace:
// test/e2e/relay*.test.ts.)
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startProxy, writeList, type ProxyProcess } from '../../helpers/proxy-process.js';
import { headerValues, request } from '../../helpers/sip-messages.js';
import { Peer, answer, type Received } from '../../helpers/udp-peer.js';

const open: Array<Peer | ProxyProcess> = [];
afterEach(async () => {
  for (const x of open.splice(0)) await ('stop' in x ? x.stop() : x.close());
});

interface Rig {
  proxy: ProxyProcess;
  uac: Peer;
  a: Peer;
  b: Peer;
}

/** Two destinations a (priority 10) and b (5) behind a proxy with algorithm 8 (a first, b on failover). */
async function rig(env: Record<string, string>): Promise<Rig> {
  const a = await Peer.open();
  const b = await Peer.open();
  const uac = await Peer.open();
  open.push(a, b, uac);
  const list = writeList(`1 sip:127.0.0.1:${a.port} 0 10 duid=a\n1 sip:127.0.0.1:${b.port} 0 5 duid=b\n`);
  const proxy = await startProxy({ SIPLB_LIST_FILE: list, SIPLB_ALG: '8', SIPLB_FR_TIMER: '1000', ...env });
  open.unshift(proxy);
  return { proxy, uac, a, b };
}

function invite(r: Rig, id: string, extra: Partial<Parameters<typeof request>[0]> = {}): Buffer {
  return request({
    ruri: `sip:service@127.0.0.1:${r.proxy.port}`,
    via: [`SIP/2.0/UDP 127.0.0.1:${r.uac.port};branch=z9hG4bK-${id};rport`],
    from: `f-${id}`,
    callId: `${id}@127.0.0.1`,
    contact: `<sip:alice@127.0.0.1:${r.uac.port}>`,
    ...extra,
  });
}

const methods = (p: Peer): string[] => p.received.map((x) => x.first.split(' ')[0]!);
const finals = (p: Peer): string[] => p.received.filter((x) => /^SIP\/2\.0 [2-6]/.test(x.first)).map((x) => x.first);
const reply = (p: Peer, req: Received, status: number, toTag = 'ms'): void =>
  p.send(answer(req.text, status, status === 200 ? 'OK' : 'Reason', { toTag, contact: `<sip:ms@127.0.0.1:${p.port}>` }), req.from.port, req.from.address);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe.each([
  { mode: 'stateful', workers: '0' },
  { mode: 'stateless', workers: '2' },
])('strict routing and the ACK of a non-2xx ($mode, SIPLB_WORKERS=$workers)', ({ mode, workers }) => {
  it('a strict router sends our Record-Route URI as Request-URI: rewritten from the last Route (RFC 3261 16.4)', async () => {
    const r = await rig({ SIPLB_MODE: mode, SIPLB_WORKERS: workers });
    r.a.onMessage = (m) => m.first.startsWith('INVITE') && reply(r.a, m, 200);
    r.uac.send(invite(r, 'strict'), r.proxy.port);
    await r.uac.waitFor(() => finals(r.uac).length === 1);
    const ok = r.uac.received.find((x) => x.first.startsWith('SIP/2.0 200'))!;
    const rr = headerValues(ok.text, 'Record-Route')[0]!;
    const bye = request({
      method: 'BYE',
      ruri: rr.slice(1, -1), // what a strict router puts in the Request-URI: the next hop's URI
      via: [`SIP/2.0/UDP 127.0.0.1:${r.uac.port};branch=z9hG4bK-strict-bye;rport`],
      route: [`<sip:ms@127.0.0.1:${r.a.port}>`], // ... and the remote target as the last Route
      from: 'f-strict',
      to: `${headerValues(ok.text, 'To')[0]!}`,
      callId: 'strict@127.0.0.1',
      cseq: 2,
      contact: null,
    });
    r.uac.send(bye, r.proxy.port);
    await r.a.waitFor(() => methods(r.a).includes('BYE'));
    const got = r.a.received.find((x) => x.first.startsWith('BYE'))!;
    expect(got.first).toBe(`BYE sip:ms@127.0.0.1:${r.a.port} SIP/2.0`);
    expect(headerValues(got.text, 'Route')).toEqual([]);
  });

  it('the ACK of a 486 reaches the destination that sent it', async () => {
    const r = await rig({ SIPLB_MODE: mode, SIPLB_WORKERS: workers, SIPLB_FAILOVER_CODES: '5xx' });
    r.a.onMessage = (m) => m.first.startsWith('INVITE') && reply(r.a, m, 486);
    r.uac.send(invite(r, 'busy'), r.proxy.port);
    await r.uac.waitFor(() => finals(r.uac).length === 1);
    expect(finals(r.uac)).toEqual(['SIP/2.0 486 Reason']);
    const busy = r.uac.received.find((x) => x.first.startsWith('SIP/2.0 486'))!;
    r.uac.send(invite(r, 'busy', { method: 'ACK', to: headerValues(busy.text, 'To')[0]!, contact: null }), r.proxy.port);
    // stateful: the proxy ACKs hop by hop and absorbs the caller's; stateless: the caller's goes on
    await r.a.waitFor(() => methods(r.a).includes('ACK'));
    await sleep(200);
    expect(methods(r.a).filter((x) => x === 'ACK')).toHaveLength(1);
    expect(methods(r.b)).toEqual([]);
  });
});

describe.each([{ workers: '0' }, { workers: '2' }])('failover keeps every branch (stateful, SIPLB_WORKERS=$workers)', ({ workers }) => {
  it('a retransmitted 503 from the first destination never reaches the caller; its late 200 does, and cancels the second', async () => {
    const r = await rig({ SIPLB_WORKERS: workers });
    let inviteA: Received | undefined;
    r.a.onMessage = (m) => {
      if (!m.first.startsWith('INVITE')) return;
      inviteA = m;
      reply(r.a, m, 503);
    };
    r.b.onMessage = (m) => m.first.startsWith('INVITE') && reply(r.b, m, 180, 'msb');
    r.uac.send(invite(r, 'late'), r.proxy.port);
    await r.b.waitFor(() => methods(r.b).includes('INVITE'));
    await r.uac.waitFor((x) => x.some((y) => y.first.startsWith('SIP/2.0 180')));
    reply(r.a, inviteA!, 503); // A retransmits its 503: absorbed (ACKed again), never relayed
    await r.a.waitFor(() => methods(r.a).filter((x) => x === 'ACK').length === 2);
    reply(r.a, inviteA!, 200, 'msa'); // A answers after all
    await r.uac.waitFor(() => finals(r.uac).length >= 1);
    await r.b.waitFor(() => methods(r.b).includes('CANCEL'));
    expect(finals(r.uac)).toEqual(['SIP/2.0 200 OK']);
    expect(r.uac.received.some((x) => x.first.startsWith('SIP/2.0 503'))).toBe(false);
  });

  it('a destination that never answers fails over with SIPLB_FAILOVER_CODES=5xx (no 408 listed)', async () => {
    const r = await rig({ SIPLB_WORKERS: workers, SIPLB_FAILOVER_CODES: '5xx' });
    r.b.onMessage = (m) => m.first.startsWith('INVITE') && reply(r.b, m, 200);
    r.uac.send(invite(r, 'silent'), r.proxy.port);
    await r.uac.waitFor(() => finals(r.uac).length === 1, 5000);
    expect(finals(r.uac)).toEqual(['SIP/2.0 200 OK']);
    expect(methods(r.a).filter((x) => x === 'INVITE').length).toBeGreaterThanOrEqual(1);
  });

  it('a destination that rang and then timed out is cancelled, and nobody else is rung', async () => {
    const r = await rig({ SIPLB_WORKERS: workers, SIPLB_FR_INV_TIMER: '1000' });
    r.a.onMessage = (m) => m.first.startsWith('INVITE') && reply(r.a, m, 180);
    r.uac.send(invite(r, 'ring'), r.proxy.port);
    await r.uac.waitFor(() => finals(r.uac).length === 1, 5000);
    expect(finals(r.uac)).toEqual(['SIP/2.0 408 Request Timeout']);
    await r.a.waitFor(() => methods(r.a).includes('CANCEL'));
    expect(methods(r.b)).toEqual([]);
  });
});

describe('the source of a transaction is copied (SIPLB_WORKERS=1, SIPLB_FORCE_RPORT=false)', () => {
  it('the 200 goes to the caller even when another source sent the datagram before it', async () => {
    const r = await rig({ SIPLB_WORKERS: '1', SIPLB_FORCE_RPORT: 'false' });
    const other = await Peer.open();
    open.push(other);
    r.a.onMessage = (m) => {
      if (m.first.startsWith('INVITE')) setTimeout(() => reply(r.a, m, 200), 300);
    };
    r.uac.send(invite(r, 'alias'), r.proxy.port);
    await r.a.waitFor(() => methods(r.a).includes('INVITE'));
    // another caller's datagram through the same worker, while the INVITE waits for its answer
    other.send(request({ ruri: `sip:service@127.0.0.1:${r.proxy.port}`, maxForwards: 0, via: [`SIP/2.0/UDP 127.0.0.1:${other.port};branch=z9hG4bK-other`], callId: 'other@x', contact: null }), r.proxy.port);
    await r.uac.waitFor(() => finals(r.uac).length === 1);
    await sleep(100);
    expect(finals(r.uac)).toEqual(['SIP/2.0 200 OK']);
    expect(finals(other)).toEqual(['SIP/2.0 483 Too Many Hops']);
  });
});

describe.each([{ mode: 'stateful' }, { mode: 'stateless' }])('our own answers and the edge filters ($mode)', ({ mode }) => {
  it('a To tag per transaction, a silent drop for scanners, 403 outside SIPLB_ALLOW', async () => {
    const r = await rig({ SIPLB_MODE: mode, SIPLB_ALLOW: '127.0.0.1/32' });
    const tags: string[] = [];
    for (const id of ['t1', 't2', 't1']) {
      r.uac.send(invite(r, id, { maxForwards: 0 }), r.proxy.port);
      await r.uac.waitFor((x) => x.length === tags.length + 1);
      tags.push(/;tag=([^;\s]+)$/.exec(headerValues(r.uac.received.at(-1)!.text, 'To')[0]!)![1]!);
    }
    expect(tags[0]).not.toBe(tags[1]);
    expect(tags[2]).toBe(tags[0]); // a retransmission gets the same one
    r.uac.send(invite(r, 'scan', { extra: ['User-Agent: friendly-scanner'] }), r.proxy.port);
    // a source outside SIPLB_ALLOW (127.0.0.2 is loopback too, but not in the list)
    const outsider = await Peer.open(0, '127.0.0.2');
    open.push(outsider);
    outsider.send(invite(r, 'outsider', { via: [`SIP/2.0/UDP 127.0.0.2:${outsider.port};branch=z9hG4bK-out;rport`] }), r.proxy.port);
    await outsider.waitFor((x) => x.length >= 1);
    expect(finals(outsider)).toEqual(['SIP/2.0 403 Forbidden']);
    await sleep(200);
    expect(r.uac.received).toHaveLength(3); // nothing for the scanner's INVITE
    expect(methods(r.a)).toEqual([]);
    const { stdout } = await r.proxy.stop();
    expect(stdout).toMatch(/scanner_dropped 1\b/);
    expect(stdout).toMatch(/source_denied 1\b/);
  });
});

describe('a 6xx is no failover code', () => {
  it('siplb start refuses SIPLB_FAILOVER_CODES with a 6xx in one line, before binding anything', () => {
    const bin = join(import.meta.dirname, '..', '..', '..', 'bin', 'siplb.js');
    const r = spawnSync(process.execPath, [bin, 'start'], { env: { PATH: process.env.PATH ?? '', SIPLB_FAILOVER_CODES: '5xx,6xx' }, encoding: 'utf8', timeout: 20_000 });
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split('\n')).toEqual(['siplb: SIPLB_FAILOVER_CODES: 6xx cannot fail over (RFC 3261 16.7: a 6xx ends the search): remove "6xx" (SIPLB_ERR_CONFIG)']);
  });
});
