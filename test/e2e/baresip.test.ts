// A real UA stack through siplb (issue 8, "A real UA stack"): baresip (Debian) as the caller and as
// the media server behind siplb, in both modes. A call with hold and resume (re-INVITEs with
// sendonly and sendrecv SDP) that the caller hangs up, one that the media server hangs up, and the
// CANCEL of a ringing call; judged on the wire by a capture on lo (tcpdump), and by what each UA
// reports. The capture then shows whether every datagram siplb sent left from its listening address
// and port (RFC 3581 section 4; issue 8 defect 11).
//
// Three loopback addresses keep the capture unambiguous: siplb on 127.0.0.10, the caller on
// 127.0.0.11, the media server on 127.0.0.12 (the one destination of siplb's list).
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BARESIP_MISSING, Baresip, baresipVersion } from '../helpers/baresip.js';
import { type Capture, startCapture, TCPDUMP_MISSING, tcpdumpVersion, udpSocketsOf, type UdpSocketInfo } from '../helpers/capture.js';
import { type Datagram } from '../helpers/pcap.js';
import { startProxy, writeList, type ProxyProcess } from '../helpers/proxy-process.js';
import { freeUdpPortIn } from './helpers/ports.js';
import { describeDatagram, type Endpoint, flowAt, mediaOf, readSip, sameEndpoint } from './helpers/sip-wire.js';

const SIPLB = '127.0.0.10';
const CALLER = '127.0.0.11';
const MEDIA = '127.0.0.12';
/** How long any one step may take: a call through a proxy on loopback needs milliseconds. */
const STEP_MS = 3_000;
/** The UAs' SIP ports: below the ephemeral range, and below baresip's RTP ports (20000-29999). */
const uaPort = (address: string): Promise<number> => freeUdpPortIn(address, 15_000, 20_000);

/** Why these tests cannot run here, or undefined. Under CI=true a missing tool is a failure. */
async function unavailable(): Promise<string | undefined> {
  let why = baresipVersion() === undefined ? `${BARESIP_MISSING}, or a module of /usr/lib/baresip/modules missing` : undefined;
  why ??= tcpdumpVersion() === undefined ? TCPDUMP_MISSING : undefined;
  if (why === undefined) {
    try {
      await (await startCapture('lo', 'udp port 9')).remove();
    } catch (e) {
      why = `cannot capture on lo: ${(e as Error).message}`;
    }
  }
  if (why === undefined) return undefined;
  if (process.env.CI === 'true') throw new Error(`${why}; required under CI=true`);
  console.warn(`SKIP baresip e2e tests: ${why}`);
  return why;
}

const skip = await unavailable();

/** Every message of the call on the wire, for failure messages, and what went astray. */
function wire(d: Datagram[], callId: string): string {
  const call = d.filter((x) => readSip(x)?.callId === callId);
  // A UA answers a request at the Via's address, or at received= when the request came from another
  // address than the Via names (RFC 3261 18.2.2): when siplb sends from 127.0.0.1, replies miss it.
  const astray = call.filter((x) => (x.src === CALLER || x.src === MEDIA) && x.dst !== SIPLB);
  const note = astray.length === 0 ? '' : `\n${astray.length} SIP datagrams of the UAs went elsewhere than siplb's ${SIPLB}: answers to requests siplb sent from another address (issue 8 defect 11)`;
  return `${call.map(describeDatagram).join('\n')}${note}`;
}

/** How many times `step` occurs in a flow. */
const count = (flow: string[], step: string): number => flow.filter((s) => s === step).length;

describe.skipIf(skip !== undefined)(skip === undefined ? 'baresip through siplb' : `baresip through siplb (skipped: ${skip})`, () => {
  describe.each(['stateful', 'stateless'])('SIPLB_MODE=%s', (mode) => {
    let capture: Capture;
    let proxy: ProxyProcess;
    let media: Endpoint;
    /** siplb's UDP sockets, read from /proc while it runs: who sent a datagram from 127.0.0.1. */
    let sockets: UdpSocketInfo[] = [];
    /** The UAs' SIP endpoints of every test so far: nobody but siplb sends SIP to them. */
    const uaEndpoints: Endpoint[] = [];
    const live: Baresip[] = [];
    /** When the running test started, epoch seconds as in the capture. */
    let started = 0;

    beforeAll(async () => {
      // the capture first: it must see everything siplb sends, from its first datagram
      capture = await startCapture('lo', `udp and (host ${SIPLB} or host ${CALLER} or host ${MEDIA})`);
      media = { address: MEDIA, port: await uaPort(MEDIA) };
      const list = writeList(`1 sip:${MEDIA}:${media.port} 0 0\n`);
      // SIPLB_FR_TIMER 2 s: a request nobody answers ends in a 408 that the flow shows within a step
      proxy = await startProxy({ SIPLB_LIST_FILE: list, SIPLB_MODE: mode, SIPLB_LOG_LEVEL: 'warn', SIPLB_FR_TIMER: '2000' }, [], SIPLB);
      sockets = udpSocketsOf(proxy.child.pid!);
    });

    beforeEach(() => {
      started = Date.now() / 1000;
    });

    afterEach(async (ctx) => {
      const ended = live.splice(0);
      await Promise.all(ended.map((b) => b.stop()));
      if (ctx.task.result?.state !== 'fail') return;
      // a step that timed out says what its UA saw; the wire says what everyone sent
      const at = ended.map((b) => ({ address: b.options.address, port: b.options.sipPort }));
      const lines = (await capture.datagrams())
        .filter((x) => x.time >= started && readSip(x) !== undefined && at.some((u) => sameEndpoint(u, x.src, x.sport) || sameEndpoint(u, x.dst, x.dport)))
        .map(describeDatagram);
      console.log(`SIP to and from the UAs of "${ctx.task.name}" (SIPLB_MODE=${mode}):\n${lines.join('\n')}`);
    });

    afterAll(async () => {
      await proxy?.stop();
      await capture?.remove();
    });

    /** A fresh media server (on the listed address and port) and caller; stopped after the test. */
    async function uas(answerMode: 'auto' | 'manual'): Promise<{ caller: Baresip; server: Baresip; callerAt: Endpoint }> {
      const server = await Baresip.start({ name: 'media server', user: 'ms', address: MEDIA, sipPort: media.port, answerMode });
      live.push(server);
      const callerAt = { address: CALLER, port: await uaPort(CALLER) };
      const caller = await Baresip.start({ name: 'caller', user: 'caller', address: CALLER, sipPort: callerAt.port, answerMode: 'manual' });
      live.push(caller);
      uaEndpoints.push(callerAt, media);
      return { caller, server, callerAt };
    }

    /** Dials the media server's user through siplb; resolves with the Call-ID once both report the call up. */
    async function connectCall(caller: Baresip, server: Baresip): Promise<string> {
      await caller.command('dial', `sip:ms@${SIPLB}:${proxy.port}`);
      const up = await caller.next('CALL_ESTABLISHED', STEP_MS);
      const answered = await server.next('CALL_ESTABLISHED', STEP_MS);
      expect(answered.id, 'both UAs report the same call').toBe(up.id);
      return up.id!;
    }

    it('a call, hold and resume (re-INVITE sendonly, then sendrecv), the caller hangs up', async () => {
      const { caller, server, callerAt } = await uas('auto');
      const callId = await connectCall(caller, server);

      // RTP both ways between the UAs (media does not pass siplb), 20 ms packets: 25 is half a second
      const callerRtp = mediaOf(await capture.datagrams(), callerAt, callId);
      const serverRtp = mediaOf(await capture.datagrams(), media, callId);
      expect(callerRtp, 'the caller offered SDP on the wire').toBeDefined();
      expect(serverRtp, 'the media server answered with SDP on the wire').toBeDefined();
      const rtpTo = (d: Datagram[], to: Endpoint): number => d.filter((x) => sameEndpoint(to, x.dst, x.dport)).length;
      const rtp = await capture.until((d) => rtpTo(d, callerRtp!) >= 25 && rtpTo(d, serverRtp!) >= 25, STEP_MS);
      expect([rtpTo(rtp, serverRtp!), rtpTo(rtp, callerRtp!)].map((n) => n >= 25), 'RTP caller -> media server, media server -> caller').toEqual([true, true]);

      await caller.command('hold');
      await capture.until((d) => flowAt(d, callerAt, callId).includes('200 INVITE recvonly'), STEP_MS);
      await caller.command('resume');
      await capture.until((d) => count(flowAt(d, callerAt, callId), '200 INVITE sendrecv') >= 2, STEP_MS);
      await caller.command('hangup');
      await caller.next('CALL_CLOSED', STEP_MS);
      await server.next('CALL_CLOSED', STEP_MS);
      const d = await capture.until((x) => [callerAt, media].every((at) => flowAt(x, at, callId).some((s) => /^\d{3} BYE$/.test(s))), STEP_MS);

      const expected = [
        ...['INVITE sendrecv', '180 INVITE', '200 INVITE sendrecv', 'ACK'],
        ...['INVITE sendonly', '200 INVITE recvonly', 'ACK'],
        ...['INVITE sendrecv', '200 INVITE sendrecv', 'ACK'],
        ...['BYE', '200 BYE'],
      ];
      expect(flowAt(d, callerAt, callId), `at the caller; the call on the wire:\n${wire(d, callId)}`).toEqual(expected);
      expect(flowAt(d, media, callId), `at the media server; the call on the wire:\n${wire(d, callId)}`).toEqual(expected);
    }, 20_000);

    it('the media server hangs up: its BYE reaches the caller through siplb, and the 200 comes back', async () => {
      const { caller, server, callerAt } = await uas('auto');
      const callId = await connectCall(caller, server);
      await server.command('hangup');
      await server.next('CALL_CLOSED', STEP_MS);
      await caller.next('CALL_CLOSED', STEP_MS);
      const d = await capture.until((x) => [callerAt, media].every((at) => flowAt(x, at, callId).some((s) => /^\d{3} BYE$/.test(s))), STEP_MS);

      const expected = ['INVITE sendrecv', '180 INVITE', '200 INVITE sendrecv', 'ACK', 'BYE', '200 BYE'];
      expect(flowAt(d, callerAt, callId), `at the caller; the call on the wire:\n${wire(d, callId)}`).toEqual(expected);
      expect(flowAt(d, media, callId), `at the media server; the call on the wire:\n${wire(d, callId)}`).toEqual(expected);
    }, 20_000);

    it('CANCEL of a ringing call: 200 to the CANCEL, 487 to the INVITE, ACK, at both ends', async () => {
      // answermode=manual: the media server rings (180) and waits for an accept that never comes
      const { caller, server, callerAt } = await uas('manual');
      await caller.command('dial', `sip:ms@${SIPLB}:${proxy.port}`);
      const incoming = await server.next('CALL_INCOMING', STEP_MS);
      const ringing = await caller.next('CALL_RINGING', STEP_MS);
      const callId = ringing.id!;
      expect(incoming.id).toBe(callId);
      await caller.command('hangup'); // an unanswered outgoing call: baresip sends CANCEL
      await caller.next('CALL_CLOSED', STEP_MS);
      await server.next('CALL_CLOSED', STEP_MS);
      const d = await capture.until((x) => [callerAt, media].every((at) => flowAt(x, at, callId).slice(-1)[0] === 'ACK'), STEP_MS);

      const expected = ['INVITE sendrecv', '180 INVITE', 'CANCEL', '200 CANCEL', '487 INVITE', 'ACK'];
      expect(flowAt(d, callerAt, callId), `at the caller; the call on the wire:\n${wire(d, callId)}`).toEqual(expected);
      expect(flowAt(d, media, callId), `at the media server; the call on the wire:\n${wire(d, callId)}`).toEqual(expected);
    }, 20_000);

    it('every datagram siplb sent in these calls left from its listening address and port', async () => {
      sockets = [...sockets, ...udpSocketsOf(proxy.child.pid!)];
      const d = await capture.datagrams();
      const listen = `${SIPLB}:${proxy.port}`;
      const socketOf = (x: Datagram): UdpSocketInfo | undefined =>
        sockets.find((s) => s.localPort === x.sport && (s.local === '0.0.0.0' || s.local === x.src) && (s.remote === undefined || s.remote === `${x.dst}:${x.dport}`));
      const toUa = (x: Datagram): boolean =>
        uaEndpoints.some((u) => sameEndpoint(u, x.dst, x.dport)) && !uaEndpoints.some((u) => sameEndpoint(u, x.src, x.sport));
      const fromSiplb = d.filter((x) => x.src === SIPLB || socketOf(x) !== undefined || toUa(x));
      // without calls there is nothing to judge: this test needs the ones above (same describe)
      expect(fromSiplb.filter((x) => x.dst === CALLER).length, 'datagrams siplb sent to the caller').toBeGreaterThan(0);
      expect(fromSiplb.filter((x) => x.dst === MEDIA).length, 'datagrams siplb sent to the media server').toBeGreaterThan(0);

      const wrong = fromSiplb
        .filter((x) => `${x.src}:${x.sport}` !== listen)
        .map((x) => {
          const s = socketOf(x);
          const owner = s === undefined ? '' : ` [siplb socket ${s.local}:${s.localPort}${s.remote === undefined ? '' : ` connected to ${s.remote}`}]`;
          return `${describeDatagram(x)}${owner}`;
        });
      expect(wrong, `siplb sent ${wrong.length} of ${fromSiplb.length} datagrams from elsewhere than ${listen} (issue 8 defect 11, RFC 3581 section 4)`).toEqual([]);
      // a socket bound to 0.0.0.0 and then connected shows the local address the kernel chose
      const others = [...new Set(sockets.map((s) => `${s.local}:${s.localPort}`).filter((s) => s !== listen))];
      expect(others, `siplb holds UDP sockets on other addresses or ports than SIPLB_LISTEN (${listen})`).toEqual([]);
    }, 10_000);
  });
});
