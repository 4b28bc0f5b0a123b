// Trust at the edge, one decision at a time (test/helpers/core-harness.ts: real parser, rewriting
// and dispatcher; no sockets): no open relay through Route, Request-URI, token or forged response;
// a preloaded Route to us; strict routing; scanners; SIPLB_ALLOW; unique To tags of our answers.
import { describe, expect, it } from 'vitest';
import { DEST_A, DEST_B, UAC, harness, type Harness, type Sent } from '../../helpers/core-harness.js';
import { headerValues, request, response, startLine } from '../../helpers/sip-messages.js';
import { param } from '../../../src/proxy/routing.js';
import { DS_INACTIVE } from '../../../src/shared/dest-state.js';

const VICTIM = { address: '198.51.100.7', port: 5099 };
const MODES = [{ SIPLB_MODE: 'stateful' }, { SIPLB_MODE: 'stateless' }];

const lines = (out: Sent[]): string[][] => out.map((s) => [startLine(s.bytes), `${s.address}:${s.port}`]);
const toVictim = (h: Harness): Sent[] => h.sent.filter((s) => s.address === VICTIM.address);

/** A call through the proxy: the INVITE as the destination got it and the 200 as the caller got it. */
function call(h: Harness, callId = 'call-1@127.0.0.1'): { fwd: Sent; ok: Sent; rr: string } {
  const fwd = h.feed(request({ callId, via: [`SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-${callId.replace(/[^A-Za-z0-9]/g, "")};rport`] }), UAC).find((s) => startLine(s.bytes).startsWith('INVITE'))!;
  const ok = h.feed(response({ status: 200, via: headerValues(fwd.bytes, 'Via'), toTag: 'ms1', callId, recordRoute: headerValues(fwd.bytes, 'Record-Route'), contact: `<sip:ms@${DEST_A.address}:${DEST_A.port}>` }), DEST_A)[0]!;
  return { fwd, ok, rr: headerValues(fwd.bytes, 'Record-Route')[0]! };
}

/** An in-dialog request of the caller's (From tag a1, To tag ms1) through `route`. */
function inDialog(method: string, route: string[], opts: { ruri?: string; callId?: string; from?: string; cseq?: number } = {}): Buffer {
  return request({
    method,
    ruri: opts.ruri ?? `sip:ms@${DEST_A.address}:${DEST_A.port}`,
    via: [`SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-${method}-${opts.cseq ?? 2};rport`],
    route,
    to: '<sip:service@127.0.0.1:5060>;tag=ms1',
    ...(opts.from ? { from: opts.from } : {}),
    callId: opts.callId ?? 'call-1@127.0.0.1',
    cseq: opts.cseq ?? 2,
    contact: null,
  });
}

const tokenOf = (rr: string): string => /;slb=([A-Za-z0-9_-]+)/.exec(rr)![1]!;

describe.each(MODES)('new requests never follow a foreign Route ($SIPLB_MODE)', (mode) => {
  it('answers 403 to our Route followed by another host, and sends nothing there', () => {
    const h = harness(mode);
    const out = h.feed(request({ method: 'MESSAGE', route: ['<sip:127.0.0.1:5060;lr>, <sip:198.51.100.7:5099;lr>'], contact: null }), UAC);
    expect(lines(out)).toEqual([['SIP/2.0 403 Forbidden', '127.0.0.1:5061']]);
    expect(toVictim(h)).toEqual([]);
    expect(h.core.counters.values.relay_foreign_route).toBe(1);
  });

  it('answers 403 to a foreign Route on top, or drops it silently with SIPLB_FOREIGN_ROUTE=drop', () => {
    const route = ['<sip:198.51.100.7:5099;lr>'];
    expect(lines(harness(mode).feed(request({ route }), UAC))).toEqual([['SIP/2.0 403 Forbidden', '127.0.0.1:5061']]);
    const h = harness({ ...mode, SIPLB_FOREIGN_ROUTE: 'drop' });
    expect(h.feed(request({ route }), UAC)).toEqual([]);
    expect(h.core.counters.values.relay_foreign_route).toBe(1);
  });

  it('removes a preloaded Route to us (siplb as outbound proxy) and dispatches', () => {
    const h = harness(mode);
    const out = h.feed(request({ route: ['<sip:127.0.0.1:5060;lr>'] }), UAC);
    const fwd = out.find((s) => startLine(s.bytes).startsWith('INVITE'))!;
    expect(`${fwd.address}:${fwd.port}`).toBe(`${DEST_A.address}:${DEST_A.port}`);
    expect(headerValues(fwd.bytes, 'Route')).toEqual([]);
  });
});

describe.each(MODES)('in-dialog requests need our token, bound to the dialog ($SIPLB_MODE)', (mode) => {
  it('routes a BYE with a valid token to the destination, never to its Request-URI host', () => {
    const h = harness(mode);
    const { rr } = call(h);
    const out = h.feed(inDialog('BYE', [rr], { ruri: 'sip:victim@198.51.100.7:5099' }), UAC);
    const bye = out.find((s) => startLine(s.bytes).startsWith('BYE'))!;
    expect(`${bye.address}:${bye.port}`).toBe(`${DEST_A.address}:${DEST_A.port}`);
    expect(headerValues(bye.bytes, 'Route')).toEqual([]); // ours popped
    expect(toVictim(h)).toEqual([]);
  });

  it.each([
    ['no Route at all', (): string[] => [], 'relay_no_route'],
    ['our Route without a token', (): string[] => ['<sip:127.0.0.1:5060;lr>'], 'relay_token_missing'],
    ['a garbled token', (): string[] => ['<sip:127.0.0.1:5060;lr;slb=!!garbage!!>'], 'relay_token_garbled'],
    ['a forged token (well framed, made-up MAC)', (rr: string) => [rr.replace(tokenOf(rr), forge(tokenOf(rr)))], 'relay_token_invalid'],
  ] as const)('answers 403 to %s, and drops such an ACK', (_name, route, counter) => {
    const h = harness(mode);
    const { rr } = call(h);
    const bye = h.feed(inDialog('BYE', route(rr), { ruri: 'sip:victim@198.51.100.7:5099' }), UAC);
    expect(lines(bye)).toEqual([['SIP/2.0 403 Forbidden', '127.0.0.1:5061']]);
    // (CSeq 5: an ACK matching nothing; the ACK of the INVITE's own non-2xx follows the INVITE)
    expect(h.feed(inDialog('ACK', route(rr), { ruri: 'sip:victim@198.51.100.7:5099', cseq: 5 }), UAC)).toEqual([]);
    expect(toVictim(h)).toEqual([]);
    expect(h.core.counters.values[counter]).toBe(2);
  });

  it('refuses a token replayed in another call or with another caller tag', () => {
    const h = harness(mode);
    const { rr } = call(h);
    call(h, 'call-2@127.0.0.1');
    expect(lines(h.feed(inDialog('BYE', [rr], { callId: 'call-2@127.0.0.1' }), UAC))).toEqual([['SIP/2.0 403 Forbidden', '127.0.0.1:5061']]);
    expect(lines(h.feed(inDialog('BYE', [rr], { from: 'other-tag' }), UAC))).toEqual([['SIP/2.0 403 Forbidden', '127.0.0.1:5061']]);
    expect(h.core.counters.values.relay_token_invalid).toBe(2);
  });

  it('refuses a foreign Route after ours from outside the destinations', () => {
    const h = harness(mode);
    const { rr } = call(h);
    const out = h.feed(inDialog('BYE', [rr, '<sip:198.51.100.7:5099;lr>']), UAC);
    expect(lines(out)).toEqual([['SIP/2.0 403 Forbidden', '127.0.0.1:5061']]);
    expect(toVictim(h)).toEqual([]);
  });

  it('routes a request from a destination towards the caller by its Request-URI (loose routing)', () => {
    const h = harness(mode);
    const { rr } = call(h);
    // the media server hangs up: the caller's tag is in To, the Request-URI is the caller's Contact
    const bye = request({
      method: 'BYE',
      ruri: 'sip:alice@127.0.0.1:5061',
      via: [`SIP/2.0/UDP ${DEST_A.address}:${DEST_A.port};branch=z9hG4bK-ms-bye`],
      route: [rr],
      from: 'ms1',
      to: '<sip:alice@127.0.0.1:5061>;tag=a1',
      cseq: 7,
      contact: null,
    });
    const out = h.feed(bye, DEST_A).filter((s) => startLine(s.bytes).startsWith('BYE'));
    expect(out.map((s) => `${s.address}:${s.port}`)).toEqual(['127.0.0.1:5061']);
  });

  it('sends an in-dialog request to the second destination of its token when the first is down', () => {
    const h = harness({ ...mode, SIPLB_ALG: '8' });
    const { rr } = call(h);
    h.states.mark(0, DS_INACTIVE); // destination A inactive
    const out = h.feed(inDialog('BYE', [rr]), UAC).filter((s) => startLine(s.bytes).startsWith('BYE'));
    expect(out.map((s) => `${s.address}:${s.port}`)).toEqual([`${DEST_B.address}:${DEST_B.port}`]);
    expect(h.core.counters.values.in_dialog_failover).toBe(1);
  });
});

describe('strict routing (RFC 3261 16.4)', () => {
  it.each(MODES)('a strict router sending our Record-Route as Request-URI: the last Route becomes the Request-URI ($SIPLB_MODE)', (mode) => {
    const h = harness(mode);
    const { rr } = call(h);
    const ourUri = rr.slice(1, -1);
    const out = h.feed(inDialog('BYE', [`<sip:ms@${DEST_A.address}:${DEST_A.port}>`], { ruri: ourUri }), UAC);
    const bye = out.find((s) => startLine(s.bytes).startsWith('BYE'))!;
    expect(bye).toBeDefined();
    expect(startLine(bye.bytes)).toBe(`BYE sip:ms@${DEST_A.address}:${DEST_A.port} SIP/2.0`);
    expect(headerValues(bye.bytes, 'Route')).toEqual([]);
    expect(`${bye.address}:${bye.port}`).toBe(`${DEST_A.address}:${DEST_A.port}`);
  });
});

describe('responses only down a branch we made', () => {
  it('stateless: a response with our Via on top, a made-up branch and a victim below is dropped', () => {
    const h = harness({ SIPLB_MODE: 'stateless' });
    call(h);
    const forged = response({ status: 200, via: ['SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKsl00000000000000aaaaaaaaaaaaaa', 'SIP/2.0/UDP 198.51.100.7:5099;branch=z9hG4bKv'], toTag: 'x' });
    expect(h.feed(forged, DEST_A)).toEqual([]);
    expect(toVictim(h)).toEqual([]);
    expect(h.core.counters.values.drop_response_forged).toBe(1);
  });

  it('stateless: a real branch with the victim put in the second Via is dropped too', () => {
    const h = harness({ SIPLB_MODE: 'stateless' });
    const { fwd } = call(h);
    const [ours] = headerValues(fwd.bytes, 'Via');
    expect(h.feed(response({ status: 180, via: [ours!, 'SIP/2.0/UDP 198.51.100.7:5099;branch=z9hG4bK-uac-1'], toTag: 'x' }), DEST_A)).toEqual([]);
    expect(toVictim(h)).toEqual([]);
  });

  it('stateless: a received= the client wrote itself is replaced, so responses go to the real source', () => {
    // the Via names the sender's own address, so no received would be added; the one it brought
    // would send every response for this request to the victim
    const h = harness({ SIPLB_MODE: 'stateless' });
    const fwd = h.feed(request({ via: ['SIP/2.0/UDP 127.0.0.1:5061;received=198.51.100.7;branch=z9hG4bK-rx;rport'] }), UAC)[0]!;
    expect(headerValues(fwd.bytes, 'Via')[1]).toBe('SIP/2.0/UDP 127.0.0.1:5061;received=127.0.0.1;branch=z9hG4bK-rx;rport=5061');
    const out = h.feed(response({ status: 200, via: headerValues(fwd.bytes, 'Via'), toTag: 'x' }), DEST_A);
    expect(out.map((s) => `${s.address}:${s.port}`)).toEqual(['127.0.0.1:5061']);
    expect(toVictim(h)).toEqual([]);
  });

  it('stateful: a response without a live client transaction is dropped, never routed by Via', () => {
    const h = harness({ SIPLB_MODE: 'stateful' });
    const forged = response({ status: 200, via: ['SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKsfanything', 'SIP/2.0/UDP 198.51.100.7:5099;branch=z9hG4bKv'], toTag: 'x' });
    expect(h.feed(forged, DEST_A)).toEqual([]);
    expect(h.core.counters.values.drop_response_no_transaction).toBe(1);
  });
});

describe('stateless ACK of a non-2xx', () => {
  it('follows the INVITE to its destination with the INVITE branch, though it has a To tag and no Route', () => {
    const h = harness({ SIPLB_MODE: 'stateless', SIPLB_ALG: '4' });
    const inv = h.feed(request(), UAC)[0]!;
    h.feed(request({ callId: 'other@x', via: ['SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-other;rport'] }), UAC); // round-robin moves on
    const busy = h.feed(response({ status: 486, via: headerValues(inv.bytes, 'Via'), toTag: 'ms1' }), DEST_A);
    expect(busy.map((s) => startLine(s.bytes))).toEqual(['SIP/2.0 486 Reason']);
    const ack = request({ method: 'ACK', to: '<sip:service@127.0.0.1:5060>;tag=ms1', contact: null });
    const out = h.feed(ack, UAC);
    expect(out.map((s) => [startLine(s.bytes).split(' ')[0], `${s.address}:${s.port}`])).toEqual([['ACK', `${inv.address}:${inv.port}`]]);
    expect(headerValues(out[0]!.bytes, 'Via')[0]).toBe(headerValues(inv.bytes, 'Via')[0]);
  });
});

describe('our own answers', () => {
  it.each(MODES)('carry a To tag per transaction, the same for a retransmission ($SIPLB_MODE)', (mode) => {
    const h = harness(mode);
    const tagOf = (out: Sent[]): string => /;tag=([^;\s]+)$/.exec(headerValues(out[0]!.bytes, 'To')[0]!)![1]!;
    const a = tagOf(h.feed(request({ maxForwards: 0 }), UAC));
    const b = tagOf(h.feed(request({ maxForwards: 0, callId: 'call-2@127.0.0.1' }), UAC));
    const c = tagOf(h.feed(request({ maxForwards: 0, cseq: 2 }), UAC));
    expect(new Set([a, b, c]).size).toBe(3);
    expect(tagOf(h.feed(request({ maxForwards: 0 }), UAC))).toBe(a);
    // the ACK of our 483 is recognised by that tag and absorbed
    expect(h.feed(request({ method: 'ACK', maxForwards: 0, to: `<sip:service@127.0.0.1:5060>;tag=${a}`, contact: null }), UAC)).toEqual([]);
  });
});

describe('SIPLB_FORCE_RPORT=false', () => {
  it.each(MODES)('answers the source address whatever host its Via names, on the port the Via asks for ($SIPLB_MODE)', (mode) => {
    const h = harness({ ...mode, SIPLB_FORCE_RPORT: 'false' });
    const out = h.feed(request({ maxForwards: 0, via: ['SIP/2.0/UDP 198.51.100.7:5099;received=203.0.113.9;branch=z9hG4bK-x'] }), UAC);
    expect(lines(out)).toEqual([['SIP/2.0 483 Too Many Hops', '127.0.0.1:5099']]);
  });
});

describe('scanners and SIPLB_ALLOW', () => {
  it.each(['friendly-scanner', 'sipvicious', 'VaxSIPUserAgent/3.1'])('drops a request from User-Agent %s without a word', (ua) => {
    const h = harness();
    expect(h.feed(request({ method: 'OPTIONS', ruri: 'sip:100@127.0.0.1:5060', extra: [`User-Agent: ${ua}`] }), UAC)).toEqual([]);
    expect(h.feed(request({ method: 'REGISTER', maxForwards: 0, extra: [`User-Agent: ${ua}`] }), UAC)).toEqual([]);
    expect(h.core.counters.values.scanner_dropped).toBe(2);
  });

  it('lets other User-Agents through, and nobody is a scanner with SIPLB_SCANNER_UA empty', () => {
    expect(harness().feed(request({ extra: ['User-Agent: Linphone/5.2'] }), UAC)).toHaveLength(2);
    expect(harness({ SIPLB_SCANNER_UA: '' }).feed(request({ extra: ['User-Agent: friendly-scanner'] }), UAC)).toHaveLength(2);
  });

  it('answers 403 to a new call from outside SIPLB_ALLOW, and routes in-dialog requests by token alone', () => {
    const h = harness({ SIPLB_ALLOW: '10.0.0.0/8' });
    expect(lines(h.feed(request(), UAC))).toEqual([['SIP/2.0 403 Forbidden', '127.0.0.1:5061']]);
    expect(h.core.counters.values.source_denied).toBe(1);
    const inside = { address: '10.1.2.3', port: 5061, socket: 0 };
    expect(h.feed(request({ callId: 'in@x' }), inside).some((s) => startLine(s.bytes).startsWith('INVITE'))).toBe(true);
  });
});

describe('SIPLB_MAX_TRANSACTIONS', () => {
  it.each(MODES)('answers 503 past the cap and keeps what is in flight ($SIPLB_MODE)', (mode) => {
    const h = harness({ ...mode, SIPLB_MAX_TRANSACTIONS: '100' });
    for (let i = 0; i < 100; i++) h.feed(request({ callId: `c${i}`, via: [`SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-c${i};rport`] }), UAC);
    const refused = h.feed(request({ callId: 'c100', via: ['SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-c100;rport'] }), UAC);
    expect(refused.map((s) => startLine(s.bytes))).toEqual(['SIP/2.0 503 Service Unavailable']);
    expect(h.core.counters.values.tx_limit_rejected).toBe(1);
    // the first call is still routed: its CANCEL (stateless: its route) or retransmission (stateful) works
    const again = h.feed(request({ callId: 'c0', via: ['SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-c0;rport'] }), UAC);
    expect(again.length).toBeGreaterThan(0);
    expect(again.every((s) => !startLine(s.bytes).startsWith('SIP/2.0 503'))).toBe(true);
    // once they end (two 5 s timeouts) and expire (64*T1 later), new calls are taken again
    h.advance(60_000);
    const later = h.feed(request({ callId: 'later', via: ['SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-later;rport'] }), UAC);
    expect(later.some((s) => startLine(s.bytes).startsWith('INVITE'))).toBe(true);
  });
});

/** The token with its 8-byte MAC replaced: what a forger who read the format can make. */
function forge(token: string): string {
  const b = Buffer.from(token, 'base64url');
  b.fill(0x5a, b.length - 8);
  return b.toString('base64url');
}

describe('param()', () => {
  it.each([
    [';lr;slb=abc', 'slb', 'abc'],
    ['lr;slb=abc', 'lr', ''],
    [';LR ; SLB = x y ', 'slb', 'x y'],
    [';lr', 'slb', undefined],
    [';slbx=1;slb=2', 'slb', '2'],
    [';;;', 'slb', undefined],
    ['', 'slb', undefined],
    [';transport=udp;slb=', 'slb', ''],
  ])('param(%j, %j) is %j', (params, name, expected) => {
    expect(param(params, name)).toBe(expected);
  });
});
