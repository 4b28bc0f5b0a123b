// Relay attempts against a running siplb (DESIGN.md, "Never an open relay"; issue 8): inside a
// private network namespace, sink sockets listen on the victim addresses 198.51.100.7:5099 and
// 203.0.113.9:5060, and tcpdump watches every UDP datagram on the namespace's lo. Each attack must
// reach no victim and no media server, and get 403 or silence; legitimate calls through the same
// proxy must still complete. Every mode/worker combination, because the rules run in the proxy core
// of each thread.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Capture, type Datagram, Netns, netnsAvailable, type NsSocket } from '../helpers/netns.js';
import { type NsProxy, startNsProxy } from '../helpers/ns-proxy.js';
import {
  callIdOf,
  type Dialog,
  header,
  headers,
  inDialog,
  inDialogRequest,
  placeCall,
  sipRequest,
  statusOf,
  UasPeer,
  unique,
} from '../helpers/ns-sip.js';

const A = {
  proxy: { host: '10.0.0.1', port: 5060 },
  msA: { host: '10.0.1.10', port: 5070 },
  msB: { host: '10.0.1.11', port: 5070 },
  caller: { host: '10.0.2.20', port: 5062 },
  attacker: { host: '10.0.3.66', port: 5064 },
  victim1: { host: '198.51.100.7', port: 5099 },
  victim2: { host: '203.0.113.9', port: 5060 },
};
const OURS = new Set([A.proxy.host, A.msA.host, A.msB.host, A.caller.host, A.attacker.host]);
/** After the barrier's answer, how long the agent gets to pass on what arrived with it. */
const SETTLE_MS = 100;
/** How long an expected 403 may take. */
const ANSWER_MS = 2_000;
const PROXY_URI = `sip:${A.proxy.host}:${A.proxy.port}`;

const available = netnsAvailable('the relay-attack tests (test/e2e/relay-attack.test.ts)');

let ns: Netns;
let capture: Capture;
let probe: NsSocket;
let callerSock: NsSocket;
let attacker: NsSocket;
let victims: NsSocket[];
let servers: UasPeer[];

beforeAll(async () => {
  if (!available) return;
  ns = Netns.create([A.proxy.host, A.msA.host, A.msB.host, A.caller.host, A.attacker.host, A.victim1.host, A.victim2.host]);
  const agent = await ns.agent();
  capture = await ns.capture();
  probe = await agent.bind(A.caller.host, 0);
  callerSock = await agent.bind(A.caller.host, A.caller.port);
  new UasPeer(callerSock); // the caller answers the media server's BYE
  attacker = await agent.bind(A.attacker.host, A.attacker.port);
  victims = [await agent.bind(A.victim1.host, A.victim1.port), await agent.bind(A.victim2.host, A.victim2.port)];
  servers = [new UasPeer(await agent.bind(A.msA.host, A.msA.port)), new UasPeer(await agent.bind(A.msB.host, A.msB.port))];
}, 30_000);

afterAll(async () => {
  if (available) await ns.close();
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Where every socket's received list and the capture stand now. */
function mark(): { sockets: Map<NsSocket, number>; packets: number } {
  const all = [probe, callerSock, attacker, ...victims, ...servers.map((s) => s.sock)];
  return { sockets: new Map(all.map((s) => [s, s.received.length])), packets: capture.packets.length };
}

function since(m: ReturnType<typeof mark>, s: NsSocket): Datagram[] {
  return s.received.slice(m.sockets.get(s) ?? 0);
}

/** Datagrams of `callId` sent to an address that is not one of the test's own since `m`: a relay. */
function foreign(m: ReturnType<typeof mark>, callId: string): string[] {
  return capture.packets
    .slice(m.packets)
    .filter((p) => !OURS.has(p.dst) && p.payload.includes(callId))
    .map((p) => p.line);
}

const show = (ds: Datagram[]): string[] => ds.map((d) => `${d.first} (from ${d.from.address}:${d.from.port})`);
const ofCall = (ds: Datagram[], callId: string): Datagram[] => ds.filter((d) => callIdOf(d.text) === callId);

/**
 * Waits until siplb has handled everything `from` sent in `callId` before now: an OPTIONS to siplb
 * itself in the same Call-ID (so the same worker, in order) is answered after it, and whatever the
 * earlier datagram made siplb send was sent before that answer. Then a little more for the agent
 * to pass it on.
 */
async function barrier(from: NsSocket, callId: string): Promise<void> {
  const mark0 = from.received.length;
  await from.send(
    sipRequest({ method: 'OPTIONS', ruri: PROXY_URI, via: from, from: `<sip:b@${from.address}>;tag=${unique('b')}`, to: `<${PROXY_URI}>`, callId, cseq: 99 }),
    A.proxy.host,
    A.proxy.port,
  );
  await from.waitFor((d) => callIdOf(d.text) === callId && (header(d.text, 'CSeq') ?? '') === '99 OPTIONS', ANSWER_MS, mark0);
  await sleep(SETTLE_MS);
}

/**
 * The wire after an attack: no victim got anything of `callId`, no media server got it, nothing of it
 * went to a foreign address; then the attacker got `status` (or nothing at all for null).
 */
async function expectRefused(m: ReturnType<typeof mark>, callId: string, status: 403 | null): Promise<void> {
  if (status !== null) {
    await attacker.waitFor((d) => callIdOf(d.text) === callId && statusOf(d) >= 200, ANSWER_MS, m.sockets.get(attacker)).catch(() => undefined);
  }
  await barrier(attacker, callId);
  expect(show(ofCall(victims.flatMap((v) => since(m, v)), callId)), 'datagrams that reached a victim').toEqual([]);
  expect(foreign(m, callId), 'datagrams sent to a foreign address').toEqual([]);
  expect(show(ofCall(servers.flatMap((s) => since(m, s.sock)), callId)), 'requests that reached a media server').toEqual([]);
  const answers = ofCall(since(m, attacker), callId).filter((d) => statusOf(d) >= 200 && !(header(d.text, 'CSeq') ?? '').endsWith('OPTIONS'));
  expect(answers.map((d) => d.first), 'what the attacker got back').toEqual(status === null ? [] : [expect.stringMatching(new RegExp(`^SIP/2\\.0 ${status} `))]);
}

/** A BYE with a To tag from the attacker: in-dialog by its looks, aimed at `ruri`. */
function attackBye(o: { ruri: string; route?: string[]; callId?: string; fromTag?: string; toTag?: string; method?: string }): { text: string; callId: string } {
  const callId = o.callId ?? unique('atk-');
  const method = o.method ?? 'BYE';
  const text = sipRequest({
    method,
    ruri: o.ruri,
    via: attacker,
    ...(o.route ? { route: o.route } : {}),
    from: `<sip:caller@${A.attacker.host}>;tag=${o.fromTag ?? unique('f')}`,
    to: `<sip:x@${A.victim1.host}>;tag=${o.toTag ?? unique('t')}`,
    callId,
    cseq: 7,
  });
  return { text, callId };
}

const send = (s: NsSocket, text: string): Promise<void> => s.send(text, A.proxy.host, A.proxy.port);
const victimUri = `sip:x@${A.victim1.host}:${A.victim1.port}`;

/** A token with its authentication tag altered: still canonical base64url, wrong MAC. */
function forge(token: string): string {
  const b = Buffer.from(token, 'base64url');
  b[b.length - 1] = b[b.length - 1]! ^ 0x5a;
  return b.toString('base64url');
}

/** The media server that holds the dialog `callId`. */
const serverOf = (callId: string): UasPeer => {
  const s = servers.find((x) => x.dialogs.has(callId));
  if (!s) throw new Error(`no media server got the INVITE of ${callId}`);
  return s;
};

function attacks(mode: string, workers: string): void {
  let proxy: NsProxy;
  let first: Dialog;

  beforeAll(async () => {
    proxy = await startNsProxy(ns, probe, {
      ...A.proxy,
      list: `1 sip:${A.msA.host}:${A.msA.port}\n1 sip:${A.msB.host}:${A.msB.port}\n`,
      env: { SIPLB_MODE: mode, SIPLB_WORKERS: workers },
    });
  }, 30_000);

  afterAll(async () => {
    const r = await proxy.stop();
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/uncaught|TypeError|RangeError/i);
  }, 30_000);

  it('a legitimate call completes: INVITE, 200, ACK, BYE from the caller', async () => {
    first = await placeCall(callerSock, A.proxy);
    expect(first.token, 'siplb Record-Routes with a token').toMatch(/^[A-Za-z0-9_-]+$/);
    expect(first.routeSet[0]).toContain(`${A.proxy.host}:${A.proxy.port};lr`);
    const ms = serverOf(first.callId);
    await ms.sock.waitFor((d) => d.first.startsWith('ACK ') && callIdOf(d.text) === first.callId, 2_000);
    const bye = await inDialog(callerSock, A.proxy, first, 'BYE');
    expect(bye.first).toBe('SIP/2.0 200 OK');
    expect(ms.requests(first.callId).map((d) => d.first.split(' ')[0])).toEqual(['INVITE', 'ACK', 'BYE']);
  });

  it('Route relay on a new MESSAGE: ours on top, the victim second: 403, nobody gets it', async () => {
    const m = mark();
    const callId = unique('atk-');
    await send(
      attacker,
      sipRequest({
        method: 'MESSAGE',
        ruri: `sip:service@${A.proxy.host}`,
        via: attacker,
        route: [`<${PROXY_URI};lr>`, `<sip:${A.victim1.host}:${A.victim1.port};lr>`],
        from: `<sip:a@${A.attacker.host}>;tag=${unique('f')}`,
        to: '<sip:service@10.0.0.1>',
        callId,
        cseq: 1,
        body: 'relay me',
      }),
    );
    await expectRefused(m, callId, 403);
  });

  it("Route relay on a new MESSAGE: the victim's Route on top: 403, nobody gets it", async () => {
    const m = mark();
    const callId = unique('atk-');
    await send(
      attacker,
      sipRequest({
        method: 'MESSAGE',
        ruri: `sip:service@${A.proxy.host}`,
        via: attacker,
        route: [`<sip:${A.victim2.host}:${A.victim2.port};lr>`, `<${PROXY_URI};lr>`],
        from: `<sip:a@${A.attacker.host}>;tag=${unique('f')}`,
        to: '<sip:service@10.0.0.1>',
        callId,
        cseq: 1,
        body: 'relay me',
      }),
    );
    await expectRefused(m, callId, 403);
  });

  it('in-dialog BYE with a garbled slb= token and the victim in the Request-URI: 403', async () => {
    const m = mark();
    const atk = attackBye({ ruri: victimUri, route: [`<${PROXY_URI};lr;slb=garbled~not.a.token>`] });
    await send(attacker, atk.text);
    await expectRefused(m, atk.callId, 403);
  });

  it('in-dialog ACK with a garbled token: dropped silently', async () => {
    const m = mark();
    const atk = attackBye({ method: 'ACK', ruri: victimUri, route: [`<${PROXY_URI};lr;slb=garbled~not.a.token>`] });
    await send(attacker, atk.text);
    await expectRefused(m, atk.callId, null);
  });

  it('in-dialog BYE with a forged token (canonical base64url, wrong MAC): 403', async () => {
    const m = mark();
    const atk = attackBye({ ruri: victimUri, route: [`<${PROXY_URI};lr;slb=${forge(first.token ?? '')}>`] });
    await send(attacker, atk.text);
    await expectRefused(m, atk.callId, 403);
  });

  it('a real token replayed in another dialog (other Call-ID, same tags): 403', async () => {
    const m = mark();
    const atk = attackBye({ ruri: victimUri, route: first.routeSet, fromTag: first.fromTag, toTag: first.toTag });
    await send(attacker, atk.text);
    await expectRefused(m, atk.callId, 403);
  });

  it('a real token replayed in its own Call-ID with another From tag: 403', async () => {
    const m = mark();
    const atk = attackBye({ ruri: victimUri, route: first.routeSet, callId: first.callId, toTag: first.toTag });
    await send(attacker, atk.text);
    await expectRefused(m, atk.callId, 403);
  });

  it('in-dialog BYE without any Route: 403', async () => {
    const m = mark();
    const atk = attackBye({ ruri: victimUri });
    await send(attacker, atk.text);
    await expectRefused(m, atk.callId, 403);
  });

  it('forged response (our Via on top with a made-up branch, the victim second): dropped silently', async () => {
    const m = mark();
    const callId = unique('atk-');
    const text = [
      'SIP/2.0 200 OK',
      `Via: SIP/2.0/UDP ${A.proxy.host}:${A.proxy.port};branch=z9hG4bK${unique('forged')}`,
      `Via: SIP/2.0/UDP ${A.victim2.host}:${A.victim2.port};branch=z9hG4bK${unique('v')}`,
      `From: <sip:v@${A.victim2.host}>;tag=${unique('f')}`,
      `To: <sip:x@${A.proxy.host}>;tag=${unique('t')}`,
      `Call-ID: ${callId}`,
      'CSeq: 1 INVITE',
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n');
    await send(attacker, text);
    await expectRefused(m, callId, null);
  });

  it("a new INVITE whose Via brings received= naming the victim: the media server's answers come back to the sender, none to the victim", async () => {
    // the Via names the sender's own address, so siplb would add no received= of its own; the one
    // the sender wrote would route every response to this request (stateless: by Via) to the victim
    const m = mark();
    const callId = unique('atk-rx-');
    const text = sipRequest({
      method: 'INVITE',
      ruri: `sip:service@${A.proxy.host}`,
      via: attacker,
      from: `<sip:a@${A.attacker.host}>;tag=${unique('f')}`,
      to: '<sip:service@10.0.0.1>',
      callId,
      cseq: 1,
    }).replace(/;rport\r\n/, `;received=${A.victim2.host};rport\r\n`);
    await send(attacker, text);
    await attacker.waitFor((d) => callIdOf(d.text) === callId && statusOf(d) >= 200, ANSWER_MS, m.sockets.get(attacker));
    await barrier(attacker, callId);
    expect(show(ofCall(victims.flatMap((v) => since(m, v)), callId)), 'datagrams that reached a victim').toEqual([]);
    expect(foreign(m, callId), 'datagrams sent to a foreign address').toEqual([]);
  });

  it('valid token, the victim in the Request-URI, from the caller: the BYE reaches the media server, not the victim', async () => {
    const d = await placeCall(callerSock, A.proxy);
    const ms = serverOf(d.callId);
    await ms.sock.waitFor((x) => x.first.startsWith('ACK ') && callIdOf(x.text) === d.callId, 2_000);
    const m = mark();
    const cseq = ++d.cseq;
    await send(callerSock, inDialogRequest(callerSock, d, 'BYE', cseq, { ruri: victimUri }));
    const answer = await callerSock.waitFor((x) => callIdOf(x.text) === d.callId && statusOf(x) >= 200, ANSWER_MS, m.sockets.get(callerSock)).catch(() => undefined);
    await barrier(callerSock, d.callId);
    expect(show(ofCall(victims.flatMap((v) => since(m, v)), d.callId)), 'datagrams that reached a victim').toEqual([]);
    expect(foreign(m, d.callId), 'datagrams sent to a foreign address').toEqual([]);
    expect(ofCall(since(m, ms.sock), d.callId).map((x) => x.first.split(' ')[0]), 'what the media server got').toEqual(['BYE']);
    expect(answer?.first).toBe('SIP/2.0 200 OK');
  });

  it('preloaded Route to siplb only (outbound proxy): dispatched, the destination does not see our Route', async () => {
    for (const ruri of [`sip:service@${A.proxy.host}:${A.proxy.port}`, victimUri]) {
      const m = mark();
      const callId = unique('obp-');
      await send(
        callerSock,
        sipRequest({
          method: 'MESSAGE',
          ruri,
          via: callerSock,
          route: [`<${PROXY_URI};lr>`],
          from: `<sip:caller@${A.caller.host}>;tag=${unique('f')}`,
          to: `<${ruri}>`,
          callId,
          cseq: 1,
          body: 'hello',
        }),
      );
      const answer = await callerSock.waitFor((x) => callIdOf(x.text) === callId && statusOf(x) >= 200, ANSWER_MS, m.sockets.get(callerSock)).catch(() => undefined);
      await barrier(callerSock, callId);
      expect(show(ofCall(victims.flatMap((v) => since(m, v)), callId)), `${ruri}: datagrams that reached a victim`).toEqual([]);
      expect(foreign(m, callId), `${ruri}: datagrams sent to a foreign address`).toEqual([]);
      const got = ofCall(servers.flatMap((s) => since(m, s.sock)), callId);
      expect(got.map((x) => x.first.split(' ')[0]), `${ruri}: dispatched to one media server`).toEqual(['MESSAGE']);
      expect(headers(got[0]!.text, 'Route'), `${ruri}: Route headers the media server got`).toEqual([]);
      expect(answer?.first).toBe('SIP/2.0 200 OK');
    }
  });

  it('legitimate calls still complete: the caller hangs up, and the media server hangs up', async () => {
    const d1 = await placeCall(callerSock, A.proxy);
    expect((await inDialog(callerSock, A.proxy, d1, 'BYE')).first).toBe('SIP/2.0 200 OK');
    const d2 = await placeCall(callerSock, A.proxy);
    const ms = serverOf(d2.callId);
    await ms.sock.waitFor((x) => x.first.startsWith('ACK ') && callIdOf(x.text) === d2.callId, 2_000);
    const m = mark();
    const r = await ms.hangUp(d2.callId);
    expect(r.first).toBe('SIP/2.0 200 OK');
    const bye = since(m, callerSock).find((x) => x.first.startsWith('BYE ') && callIdOf(x.text) === d2.callId);
    expect(bye, 'the caller got the BYE').toBeDefined();
    expect(header(bye!.text, 'Route'), 'siplb removed its own Route').toBeUndefined();
  });
}

describe.skipIf(!available)(available ? 'relay attacks against siplb in a network namespace' : 'relay attacks (skipped: no network namespace)', () => {
  describe.each([
    ['stateful', '0'],
    ['stateless', '0'],
    ['stateful', '2'],
    ['stateless', '2'],
  ])('SIPLB_MODE=%s SIPLB_WORKERS=%s', attacks);

  describe('SIPLB_FOREIGN_ROUTE=drop', () => {
    let proxy: NsProxy;
    beforeAll(async () => {
      proxy = await startNsProxy(ns, probe, {
        ...A.proxy,
        list: `1 sip:${A.msA.host}:${A.msA.port}\n`,
        env: { SIPLB_FOREIGN_ROUTE: 'drop' },
      });
    }, 30_000);
    afterAll(async () => {
      expect((await proxy.stop()).code).toBe(0);
    }, 30_000);

    it.each([
      ['ours on top, the victim second', [`<${PROXY_URI};lr>`, `<sip:${A.victim1.host}:${A.victim1.port};lr>`]],
      ["the victim's on top", [`<sip:${A.victim2.host}:${A.victim2.port};lr>`, `<${PROXY_URI};lr>`]],
    ])('a foreign Route on a new INVITE (%s): dropped silently, nobody gets it', async (_what, route) => {
      const m = mark();
      const callId = unique('atk-');
      await send(
        attacker,
        sipRequest({ method: 'INVITE', ruri: `sip:service@${A.proxy.host}`, via: attacker, route, from: `<sip:a@${A.attacker.host}>;tag=${unique('f')}`, to: '<sip:service@10.0.0.1>', callId, cseq: 1 }),
      );
      await expectRefused(m, callId, null);
      // not even 100 Trying, which would tell the attacker that siplb took it
      expect(ofCall(since(m, attacker), callId).filter((d) => !(header(d.text, 'CSeq') ?? '').endsWith('OPTIONS')).map((d) => d.first)).toEqual([]);
    });

    it('a legitimate call still completes', async () => {
      const d = await placeCall(callerSock, A.proxy);
      expect((await inDialog(callerSock, A.proxy, d, 'BYE')).first).toBe('SIP/2.0 200 OK');
    });
  });

  it('over the whole file, no datagram went to a victim or any other foreign address', async () => {
    await sleep(SETTLE_MS);
    expect(capture.packets.filter((p) => !OURS.has(p.dst)).map((p) => p.line)).toEqual([]);
    expect(capture.packets.length, 'the capture saw the traffic').toBeGreaterThan(50);
  });
});
