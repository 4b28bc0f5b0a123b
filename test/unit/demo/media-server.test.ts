// The demo media server driven by a raw UDP client on 127.0.0.1. Small T1 values keep the
// retransmission cases to tens of milliseconds.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MediaServer, type MediaServerOptions } from '../../../src/demo/media-server.js';
import { request, SipClient, sleep, type Reply } from './udp-client.js';

let server: MediaServer;
let client: SipClient;
let port: number;
let logs: string[];

async function boot(options: MediaServerOptions = {}): Promise<void> {
  logs = [];
  server = new MediaServer({ log: (line) => logs.push(line), ...options });
  ({ port } = await server.start(0, '127.0.0.1'));
}

beforeEach(async () => {
  client = await SipClient.open();
});
afterEach(async () => {
  await server.stop();
  await client.close();
});

const is = (status: number, cseq: string) => (r: Reply) => r.status === status && r.cseq === cseq;
const spec = (method: string, callId: string, cseq = 1, branch = `z9hG4bK-${callId}-${cseq}`) =>
  ({ method, callId, cseq, branch, clientPort: client.port, serverPort: port });

describe('demo media server', () => {
  it('answers OPTIONS with 200, Via values and CSeq copied, a To tag and Allow', async () => {
    await boot();
    client.send(request(spec('OPTIONS', 'opt-1')), port);
    const [ok] = await client.waitFor(is(200, '1 OPTIONS'));
    expect(ok?.headers.get('Via')).toEqual([
      `SIP/2.0/UDP 127.0.0.1:${client.port};branch=z9hG4bK-opt-1-1;rport`,
      'SIP/2.0/UDP 127.0.0.1:5999;branch=z9hG4bKuac',
    ]);
    expect(ok?.toTag).toMatch(/^[0-9a-f]+$/);
    expect(ok?.headers.get('Allow')?.join(', ')).toContain('INVITE');
    expect(server.stats.options).toBe(1);
  });

  it('INVITE: 100, 180, 200 with To tag, Contact, Record-Route and SDP; 200 repeats until ACK; BYE gets 200', async () => {
    await boot({ t1Ms: 20 });
    const rr = ['Record-Route: <sip:127.0.0.1:5062;lr>'];
    client.send(request({ ...spec('INVITE', 'call-1'), extraHeaders: rr }), port);
    await client.waitFor(is(100, '1 INVITE'));
    const [ringing] = await client.waitFor(is(180, '1 INVITE'));
    // Retransmitted 200s: T1 20 ms, then 40: at least two copies arrive within about 60 ms.
    const oks = await client.waitFor(is(200, '1 INVITE'), 3);
    const ok = oks[0]!;
    expect(client.replies.find(is(100, '1 INVITE'))?.toTag).toBeUndefined();
    expect(ok.toTag).toBeDefined();
    expect(ok.toTag).toBe(ringing?.toTag);
    expect(ok.headers.get('Contact')).toEqual([`<sip:demo@127.0.0.1:${port}>`]);
    expect(ok.headers.get('Record-Route')).toEqual(['<sip:127.0.0.1:5062;lr>']);
    expect(ok.headers.get('Content-Type')).toEqual(['application/sdp']);
    expect(ok.body).toMatch(/^v=0\r\n/);
    expect(ok.body).toContain(`m=audio ${port + 2} RTP/AVP 0`);
    expect(Number(ok.headers.get('Content-Length')?.[0])).toBe(Buffer.byteLength(ok.body));

    client.send(request({ ...spec('ACK', 'call-1', 1, 'z9hG4bK-ack-1'), toTag: ok.toTag }), port);
    await sleep(30); // a copy already in flight may still land
    const afterAck = client.count(is(200, '1 INVITE'));
    await sleep(150);
    expect(client.count(is(200, '1 INVITE'))).toBe(afterAck);
    expect(server.stats).toMatchObject({ invites: 1, answered: 1, confirmed: 1, active: 1 });

    client.send(request({ ...spec('BYE', 'call-1', 2), toTag: ok.toTag }), port);
    await client.waitFor(is(200, '2 BYE'));
    expect(server.stats).toMatchObject({ completed: 1, active: 0 });
    expect(logs.some((l) => l.includes('call-1') && l.includes('ended by BYE'))).toBe(true);
  });

  it('a retransmitted INVITE repeats the last response and starts no second call', async () => {
    await boot({ ringMs: 5_000 });
    const invite = request(spec('INVITE', 'call-2'));
    client.send(invite, port);
    await client.waitFor(is(180, '1 INVITE'));
    client.send(invite, port);
    await client.waitFor(is(180, '1 INVITE'), 2);
    expect(server.stats.invites).toBe(1);
  });

  it('CANCEL while ringing: 200 to the CANCEL, 487 to the INVITE until ACK; a later BYE gets 481', async () => {
    await boot({ ringMs: 5_000, t1Ms: 20 });
    client.send(request(spec('INVITE', 'call-3')), port);
    const [ringing] = await client.waitFor(is(180, '1 INVITE'));
    // Same branch as the INVITE (RFC 3261 9.1).
    client.send(request({ ...spec('CANCEL', 'call-3', 1, 'z9hG4bK-call-3-1') }), port);
    await client.waitFor(is(200, '1 CANCEL'));
    const [terminated] = await client.waitFor(is(487, '1 INVITE'), 2);
    expect(terminated?.toTag).toBe(ringing?.toTag);
    client.send(request({ ...spec('ACK', 'call-3', 1, 'z9hG4bK-call-3-1'), toTag: terminated?.toTag }), port);
    await sleep(30);
    const afterAck = client.count(is(487, '1 INVITE'));
    await sleep(150);
    expect(client.count(is(487, '1 INVITE'))).toBe(afterAck);
    expect(client.count(is(200, '1 INVITE'))).toBe(0);
    expect(server.stats).toMatchObject({ cancelled: 1, answered: 0, active: 0 });

    client.send(request({ ...spec('BYE', 'call-3', 2), toTag: terminated?.toTag }), port);
    await client.waitFor(is(481, '2 BYE'));
  });

  it('gives up on a 200 that is never acknowledged, after maxRetransmits', async () => {
    await boot({ t1Ms: 5, t2Ms: 10, maxRetransmits: 3 });
    client.send(request(spec('INVITE', 'call-4')), port);
    await client.waitFor(is(200, '1 INVITE'), 4); // the original and 3 retransmissions
    await sleep(60);
    expect(client.count(is(200, '1 INVITE'))).toBe(4);
    expect(server.stats).toMatchObject({ noAck: 1, active: 0 });
    expect(logs.some((l) => l.includes('no ACK'))).toBe(true);
  });

  it('counts garbage, answers unknown dialogs with 481 and other methods with 501, and keeps serving', async () => {
    await boot();
    client.send('\x00\x01 not sip at all\r\n\r\n', port);
    client.send(request({ ...spec('BYE', 'nobody', 2), toTag: 'x' }), port);
    client.send(request(spec('CANCEL', 'nobody-2')), port);
    client.send(request(spec('REGISTER', 'reg-1')), port);
    client.send(request(spec('OPTIONS', 'opt-2')), port);
    await client.waitFor(is(481, '2 BYE'));
    await client.waitFor(is(481, '1 CANCEL'));
    await client.waitFor(is(501, '1 REGISTER'));
    await client.waitFor(is(200, '1 OPTIONS'));
    expect(server.stats.malformed).toBe(1);
  });
});
