// Algorithm 12 through siplb as users run it (node bin/siplb.js start), real UDP on 127.0.0.1,
// inline and with two dispatch workers: three TypeScript UAS peers get the INVITE at once, one
// answers, the others ring and are cancelled, and the call goes on with the one that answered.
import { afterEach, describe, expect, it } from 'vitest';
import { startProxy, writeList, type ProxyProcess } from '../../helpers/proxy-process.js';
import { Peer, answer, type Received } from '../../helpers/udp-peer.js';
import { headerValues } from '../../helpers/sip-messages.js';

const open: Array<{ close(): Promise<void> } | ProxyProcess> = [];
afterEach(async () => {
  for (const x of open.splice(0)) await ('stop' in x ? x.stop() : x.close());
});

const methodOf = (r: Received): string => r.first.split(' ')[0]!;
const cseqOf = (r: Received): string => headerValues(r.text, 'CSeq')[0] ?? '';
const vias = (r: Received): number => headerValues(r.text, 'Via').length;

/**
 * A UAS that rings at once and, if `answerAfter` is set, answers 200 that many ms later; else it
 * rings until a CANCEL, which it answers 200, ending the INVITE with 487 (RFC 3261 9.2). Each
 * INVITE branch is answered once: a retransmission from the proxy is ignored.
 */
function uas(peer: Peer, name: string, answerAfter: number | undefined): void {
  const seen = new Set<string>();
  let ringing: Received | undefined;
  peer.onMessage = (r) => {
    if (r.first.startsWith('SIP/2.0')) return;
    const reply = (req: Received, status: number, reason: string): void =>
      peer.send(answer(req.text, status, reason, { toTag: `uas-${name}`, contact: `<sip:${name}@127.0.0.1:${peer.port}>` }), req.from.port, req.from.address);
    const method = methodOf(r);
    if (method === 'INVITE') {
      const branch = headerValues(r.text, 'Via')[0]!;
      if (seen.has(branch)) return;
      seen.add(branch);
      reply(r, 180, 'Ringing');
      if (answerAfter === undefined) ringing = r;
      else setTimeout(() => reply(r, 200, 'OK'), answerAfter);
    } else if (method === 'CANCEL') {
      reply(r, 200, 'OK');
      if (ringing) reply(ringing, 487, 'Request Terminated');
      ringing = undefined;
    } else if (method === 'BYE') reply(r, 200, 'OK');
  };
}

function invite(proxyPort: number, uacPort: number): string {
  return [
    `INVITE sip:service@127.0.0.1:${proxyPort} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${uacPort};branch=z9hG4bK-fork-1;rport`,
    'Max-Forwards: 70',
    `From: <sip:alice@127.0.0.1:${uacPort}>;tag=f1`,
    `To: <sip:service@127.0.0.1:${proxyPort}>`,
    'Call-ID: fork-1@127.0.0.1',
    'CSeq: 1 INVITE',
    `Contact: <sip:alice@127.0.0.1:${uacPort}>`,
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

/** ACK or BYE in the dialog of `ok`, routed by its Record-Route (RFC 3261 12.1.2). */
function inDialog(method: 'ACK' | 'BYE', ok: string, uacPort: number, cseq: number): string {
  return [
    `${method} ${headerValues(ok, 'Contact')[0]!.replace(/^<|>$/g, '')} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${uacPort};branch=z9hG4bK-fork-${method};rport`,
    'Max-Forwards: 70',
    ...headerValues(ok, 'Record-Route').map((r) => `Route: ${r}`),
    `From: <sip:alice@127.0.0.1:${uacPort}>;tag=f1`,
    `To: ${headerValues(ok, 'To')[0]!}`,
    'Call-ID: fork-1@127.0.0.1',
    `CSeq: ${cseq} ${method}`,
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

describe.each([{ workers: '0' }, { workers: '2' }])('parallel forking (SIPLB_ALG=12, SIPLB_WORKERS=$workers)', ({ workers }) => {
  it('rings all three, connects the one that answers, cancels the others', async () => {
    const [uac, a, b, c] = await Promise.all([Peer.open(), Peer.open(), Peer.open(), Peer.open()]);
    open.push(uac, a, b, c);
    uas(b, 'b', 300); // the one that answers, neither first nor last in the set
    uas(a, 'a', undefined);
    uas(c, 'c', undefined);
    const list = writeList([a, b, c].map((p, i) => `1 sip:127.0.0.1:${p.port} 0 ${30 - 10 * i}`).join('\n') + '\n');
    const proxy = await startProxy({ SIPLB_LIST_FILE: list, SIPLB_ALG: '12', SIPLB_WORKERS: workers });
    open.unshift(proxy);

    uac.send(invite(proxy.port, uac.port), proxy.port);
    const inviteFinals = (r: Received[]): Received[] => r.filter((x) => /^SIP\/2\.0 [2-6]/.test(x.first) && cseqOf(x) === '1 INVITE');
    await uac.waitFor((r) => inviteFinals(r).length === 1);
    const ok = inviteFinals(uac.received)[0]!;
    expect(ok.first).toBe('SIP/2.0 200 OK');
    expect(headerValues(ok.text, 'To')[0]).toContain('tag=uas-b');
    // every destination got the INVITE, and each one's ringing reached the caller
    for (const p of [a, b, c]) expect(p.received.filter((r) => methodOf(r) === 'INVITE').length).toBeGreaterThanOrEqual(1);
    const ringers = (r: Received[]): Set<string | undefined> => new Set(r.filter((x) => x.first.startsWith('SIP/2.0 180')).map((x) => headerValues(x.text, 'To')[0]));
    await uac.waitFor((r) => ringers(r).size === 3);

    // the others are cancelled, and the proxy ACKs their 487 hop by hop (one Via: its own)
    for (const p of [a, c]) await p.waitFor((r) => r.some((x) => methodOf(x) === 'CANCEL') && r.some((x) => methodOf(x) === 'ACK'));

    uac.send(inDialog('ACK', ok.text, uac.port, 1), proxy.port);
    uac.send(inDialog('BYE', ok.text, uac.port, 2), proxy.port);
    await uac.waitFor((r) => r.some((x) => x.first === 'SIP/2.0 200 OK' && cseqOf(x) === '2 BYE'));
    // the caller's ACK and BYE reached the answering peer only
    expect(b.received.map(methodOf)).toEqual(['INVITE', 'ACK', 'BYE']);
    expect(vias(b.received[1]!)).toBe(2); // the caller's end-to-end ACK, relayed
    for (const p of [a, c]) {
      expect(p.received.map(methodOf)).toEqual(['INVITE', 'CANCEL', 'ACK']);
      expect(vias(p.received[2]!)).toBe(1); // the proxy's own ACK of the 487
    }
    // exactly one final to the INVITE: the 487s were absorbed
    expect(inviteFinals(uac.received)).toHaveLength(1);
    const { code } = await proxy.stop();
    expect(code).toBe(0);
  });
});
