// Issue 8, defect 11: every datagram siplb sends leaves from the listening address and port it
// belongs to (RFC 3581 section 4: a response MUST leave from the port its request arrived on; our
// Via and Record-Route name that port, and a peer behind NAT or with an ACL drops anything else).
// Before the fix, requests to a destination and replies to what a destination sent left from a
// per-destination socket bound to 0.0.0.0:ephemeral. siplb as users run it, real UDP on loopback.
import { udpSocketsOf } from '../../helpers/capture.js';
import { afterEach, describe, expect, it } from 'vitest';
import { startProxy, writeList, type ProxyProcess } from '../../helpers/proxy-process.js';
import { headerValues } from '../../helpers/sip-messages.js';
import { Peer, answer, type Received } from '../../helpers/udp-peer.js';

const open: Array<Peer | ProxyProcess> = [];
afterEach(async () => {
  for (const x of open.splice(0)) await ('stop' in x ? x.stop() : x.close());
});

const CALL_ID = 'srcport-1@127.0.0.1';
const CALLER_TAG = 'caller-1';

function invite(proxyPort: number, uacPort: number): string {
  return [
    `INVITE sip:service@127.0.0.1:${proxyPort} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${uacPort};branch=z9hG4bK-sp-inv;rport`,
    'Max-Forwards: 70',
    `From: <sip:alice@127.0.0.1:${uacPort}>;tag=${CALLER_TAG}`,
    `To: <sip:service@127.0.0.1:${proxyPort}>`,
    `Call-ID: ${CALL_ID}`,
    'CSeq: 1 INVITE',
    `Contact: <sip:alice@127.0.0.1:${uacPort}>`,
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

/** The ACK of the 200, from the caller, routed by the 200's Record-Route (RFC 3261 12.1.2). */
function ack(ok: string, uacPort: number): string {
  return [
    `ACK ${headerValues(ok, 'Contact')[0]!.replace(/^<|>$/g, '')} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${uacPort};branch=z9hG4bK-sp-ack;rport`,
    'Max-Forwards: 70',
    ...headerValues(ok, 'Record-Route').map((r) => `Route: ${r}`),
    `From: ${headerValues(ok, 'From')[0]!}`,
    `To: ${headerValues(ok, 'To')[0]!}`,
    `Call-ID: ${CALL_ID}`,
    'CSeq: 1 ACK',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

/**
 * The media server hangs up, as a real UAS does (RFC 3261 12.1.1, 12.2.1.1): its route set is
 * the Record-Route of the INVITE it received, in order; the Request-URI is the caller's Contact;
 * From is its own To (with its tag), To is the caller's From (with the caller's tag).
 */
function byeFromUas(inv: string, uasPort: number, uasTag: string): string {
  return [
    `BYE ${headerValues(inv, 'Contact')[0]!.replace(/^<|>$/g, '')} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${uasPort};branch=z9hG4bK-sp-bye;rport`,
    'Max-Forwards: 70',
    ...headerValues(inv, 'Record-Route').map((r) => `Route: ${r}`),
    `From: ${headerValues(inv, 'To')[0]!};tag=${uasTag}`,
    `To: ${headerValues(inv, 'From')[0]!}`,
    `Call-ID: ${CALL_ID}`,
    'CSeq: 1 BYE',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

const sources = (r: Received[]): string[] => [...new Set(r.map((x) => `${x.from.address}:${x.from.port}`))];

describe.each([
  { mode: 'stateful', workers: '0' },
  { mode: 'stateful', workers: '2' },
  { mode: 'stateless', workers: '0' },
  { mode: 'stateless', workers: '2' },
])('every datagram leaves from the listening port ($mode, SIPLB_WORKERS=$workers)', ({ mode, workers }) => {
  it('INVITE to the destination, responses to the caller, and the 200 to the BYE of the destination', async () => {
    const uac = await Peer.open();
    const uas = await Peer.open();
    open.push(uac, uas);
    const uasTag = 'ms-1';
    uas.onMessage = (r) => {
      if (r.first.startsWith('INVITE')) {
        uas.send(answer(r.text, 200, 'OK', { toTag: uasTag, contact: `<sip:ms@127.0.0.1:${uas.port}>` }), r.from.port, r.from.address);
      }
    };
    uac.onMessage = (r) => {
      if (r.first.startsWith('BYE')) uac.send(answer(r.text, 200, 'OK'), r.from.port, r.from.address);
    };
    const proxy = await startProxy({ SIPLB_LIST_FILE: writeList(`1 sip:127.0.0.1:${uas.port}\n`), SIPLB_MODE: mode, SIPLB_WORKERS: workers });
    open.unshift(proxy);
    const listening = `127.0.0.1:${proxy.port}`;

    uac.send(invite(proxy.port, uac.port), proxy.port);
    await uac.waitFor((r) => r.some((x) => x.first === 'SIP/2.0 200 OK'));
    const ok = uac.received.find((x) => x.first === 'SIP/2.0 200 OK')!;
    uac.send(ack(ok.text, uac.port), proxy.port);
    await uas.waitFor((r) => r.some((x) => x.first.startsWith('ACK')));

    const inv = uas.received.find((x) => x.first.startsWith('INVITE'))!;
    expect(headerValues(inv.text, 'Record-Route')[0]).toContain(`127.0.0.1:${proxy.port};lr`);
    uas.send(byeFromUas(inv.text, uas.port, uasTag), proxy.port);
    await uac.waitFor((r) => r.some((x) => x.first.startsWith('BYE')));
    await uas.waitFor((r) => r.some((x) => x.first === 'SIP/2.0 200 OK'));

    // Everything each peer received came from the listening socket: INVITE and ACK at the media
    // server and the 200 answering its BYE; 100 (stateful) and 200 and the BYE at the caller.
    expect(uas.received.map((x) => x.first.split(' ')[0])).toEqual(['INVITE', 'ACK', 'SIP/2.0']);
    expect(sources(uas.received)).toEqual([listening]);
    expect(uac.received.filter((x) => x.first.startsWith('BYE'))).toHaveLength(1);
    expect(sources(uac.received)).toEqual([listening]);
    // and siplb holds no socket but the one SIPLB_LISTEN names: nothing bound to 0.0.0.0
    expect(udpSocketsOf(proxy.child.pid!).map((x) => `${x.local}:${x.localPort}`)).toEqual([listening]);
  });
});
