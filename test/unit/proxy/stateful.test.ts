// The transaction-stateful proxy, one decision at a time: real parser, rewriting and dispatcher,
// no sockets, a clock the test moves (test/helpers/core-harness.ts).
import { describe, expect, it } from 'vitest';
import { DEST_A, DEST_B, UAC, harness, type Sent } from '../../helpers/core-harness.js';
import { headerValues, request, response, startLine } from '../../helpers/sip-messages.js';
import { DS_DISABLED, DS_INACTIVE, stateLetters } from '../../../src/shared/dest-state.js';

const RR_ALG = { SIPLB_ALG: '4' };

function viasOf(s: Sent): string[] {
  return headerValues(s.bytes, 'Via').flatMap((v) => v.split(/,(?![^<]*>)/).map((x) => x.trim()));
}

/** The INVITE a destination received, and the response it answers with (its Via lines copied). */
function answer(fwd: Sent, status: number, extra: { toTag?: string; recordRoute?: string[]; contact?: string } = {}): Buffer {
  return response({
    status,
    via: headerValues(fwd.bytes, 'Via'),
    toTag: extra.toTag ?? (status > 100 ? 'ms1' : undefined),
    ...(extra.recordRoute ? { recordRoute: extra.recordRoute } : { recordRoute: headerValues(fwd.bytes, 'Record-Route') }),
    ...(extra.contact ? { contact: extra.contact } : {}),
  });
}

describe('stateful INVITE', () => {
  it('answers 100 Trying and forwards with our Via, Record-Route and Max-Forwards 69', () => {
    const h = harness(RR_ALG);
    const out = h.feed(request(), UAC);
    expect(out).toHaveLength(2);
    const [trying, fwd] = out as [Sent, Sent];
    expect(startLine(trying.bytes)).toBe('SIP/2.0 100 Trying');
    expect([trying.address, trying.port]).toEqual([UAC.address, UAC.port]);
    expect([fwd.address, fwd.port]).toEqual([DEST_A.address, DEST_A.port]);
    const vias = viasOf(fwd);
    expect(vias).toHaveLength(2);
    expect(vias[0]).toMatch(/^SIP\/2\.0\/UDP 127\.0\.0\.1:5060;branch=z9hG4bK/);
    expect(vias[1]).toContain('branch=z9hG4bK-uac-1');
    expect(vias[1]).toContain('rport=5061');
    expect(headerValues(fwd.bytes, 'Max-Forwards')).toEqual(['69']);
    expect(headerValues(fwd.bytes, 'Record-Route')[0]).toMatch(/^<sip:127\.0\.0\.1:5060;lr;slb=[A-Za-z0-9_-]+>$/);
    expect(startLine(fwd.bytes)).toBe('INVITE sip:service@127.0.0.1:5060 SIP/2.0');
  });

  it('passes 180 and 200 upstream without our Via, and absorbs a retransmitted INVITE', () => {
    const h = harness(RR_ALG);
    const fwd = h.feed(request(), UAC)[1]!;
    const ringing = h.feed(answer(fwd, 180), DEST_A);
    expect(ringing).toHaveLength(1);
    expect(startLine(ringing[0]!.bytes)).toBe('SIP/2.0 180 Reason');
    expect(viasOf(ringing[0]!)).toHaveLength(1);
    expect([ringing[0]!.address, ringing[0]!.port]).toEqual([UAC.address, UAC.port]);
    const again = h.feed(request(), UAC); // the UAC retransmits: the 180 is replayed, nothing goes downstream
    expect(again).toHaveLength(1);
    expect(startLine(again[0]!.bytes)).toBe('SIP/2.0 180 Reason');
    const ok = h.feed(answer(fwd, 200), DEST_A);
    expect(ok.map((s) => startLine(s.bytes))).toEqual(['SIP/2.0 200 Reason']);
    expect(h.core.counters.values.retrans_absorbed).toBe(1);
  });

  it('fails over on 503: ACKs it hop by hop, tries the next destination, the caller never sees the 503', () => {
    const h = harness(RR_ALG);
    const fwd = h.feed(request(), UAC)[1]!;
    const out = h.feed(answer(fwd, 503), DEST_A);
    const ack = out.find((s) => startLine(s.bytes).startsWith('ACK'));
    const next = out.find((s) => startLine(s.bytes).startsWith('INVITE'));
    expect(ack && [ack.address, ack.port]).toEqual([DEST_A.address, DEST_A.port]);
    expect(headerValues(ack!.bytes, 'CSeq')).toEqual(['1 ACK']);
    expect(viasOf(ack!)[0]).toBe(viasOf(fwd)[0]); // same branch as the INVITE it acknowledges
    expect(next && [next.address, next.port]).toEqual([DEST_B.address, DEST_B.port]);
    expect(viasOf(next!)[0]).not.toBe(viasOf(fwd)[0]); // a new client transaction, a new branch
    expect(out.some((s) => s.address === UAC.address)).toBe(false);
    const ok = h.feed(answer(next!, 200), DEST_B);
    expect(ok.map((s) => [startLine(s.bytes), s.address])).toEqual([['SIP/2.0 200 Reason', UAC.address]]);
    expect(h.core.counters.values.failover).toBe(1);
  });

  it.each([
    ['tp', 'IP'], // ds_update_state: trying reaches the probing threshold (1) at once
    ['i', 'IX'],
    ['', 'AX'],
  ])('SIPLB_MARK_FAILED=%j leaves the failed destination %s', (mark, letters) => {
    const h = harness({ ...RR_ALG, SIPLB_MARK_FAILED: mark });
    const fwd = h.feed(request(), UAC)[1]!;
    h.feed(answer(fwd, 503), DEST_A);
    expect([stateLetters(h.states.flags(0)), stateLetters(h.states.flags(1))]).toEqual([letters, 'AX']);
  });

  it('the failover mark leaves a destination disabled while the call was in flight disabled', () => {
    const h = harness({ ...RR_ALG, SIPLB_MARK_FAILED: 'ip' });
    const fwd = h.feed(request(), UAC)[1]!;
    h.states.set(0, DS_DISABLED);
    h.feed(answer(fwd, 503), DEST_A);
    expect(stateLetters(h.states.flags(0))).toBe('DX');
  });

  it('gives the caller the last final response when every destination fails', () => {
    const h = harness(RR_ALG);
    const fwdA = h.feed(request(), UAC)[1]!;
    const fwdB = h.feed(answer(fwdA, 503), DEST_A).find((s) => startLine(s.bytes).startsWith('INVITE'))!;
    const out = h.feed(answer(fwdB, 500), DEST_B);
    const up = out.filter((s) => s.address === UAC.address);
    expect(up.map((s) => startLine(s.bytes))).toEqual(['SIP/2.0 500 Reason']);
    expect(h.core.counters.values.failover_exhausted).toBe(1);
    // the final response is retransmitted until the ACK (Timer G) ...
    expect(h.advance(600).filter((s) => s.address === UAC.address)).toHaveLength(1);
    // ... and the ACK is absorbed: it goes nowhere, and the retransmissions stop
    const ack = request({ method: 'ACK', to: '<sip:service@127.0.0.1:5060>;tag=ms1', contact: null });
    expect(h.feed(ack, UAC)).toEqual([]);
    expect(h.advance(5000)).toEqual([]);
  });

  it('still handles retransmissions after the final answer released the stored requests', () => {
    const h = harness({ ...RR_ALG, SIPLB_FLAGS: '0' }); // no failover: the 500 is final at once
    const fwd = h.feed(request(), UAC)[1]!;
    h.feed(answer(fwd, 500), DEST_A);
    // the destination retransmits its 500: ACKed again, hop by hop, with the INVITE's branch
    const again = h.feed(answer(fwd, 500), DEST_A);
    expect(again.map((x) => [startLine(x.bytes).split(' ')[0], x.address])).toEqual([['ACK', DEST_A.address]]);
    expect(viasOf(again[0]!)[0]).toBe(viasOf(fwd)[0]);
    // the caller retransmits its INVITE: the 500 is replayed from the finished transaction
    expect(h.feed(request(), UAC).map((x) => [startLine(x.bytes), x.address])).toEqual([['SIP/2.0 500 Reason', UAC.address]]);
    // a 2xx-answered INVITE (RFC 6026 Accepted): its retransmission is absorbed and nothing is
    // replayed (the UAS retransmits its 2xx end to end); a retransmitted 200 is passed on
    const fwd2 = h.feed(request({ callId: 'c2@x', via: ['SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-uac-2;rport'] }), UAC)[1]!;
    h.feed(answer(fwd2, 200), fwd2.address === DEST_A.address ? DEST_A : DEST_B);
    const replay = h.feed(request({ callId: 'c2@x', via: ['SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-uac-2;rport'] }), UAC);
    expect(replay).toEqual([]);
    expect(h.feed(answer(fwd2, 200), DEST_A).map((x) => [startLine(x.bytes), x.address])).toEqual([['SIP/2.0 200 Reason', UAC.address]]);
  });

  it('fails over when the destination never answers, within the final-response timer', () => {
    const h = harness({ ...RR_ALG, SIPLB_FR_TIMER: '2000' });
    h.feed(request(), UAC);
    const retrans = h.advance(1900);
    expect(retrans.every((s) => s.address === DEST_A.address)).toBe(true);
    expect(retrans.length).toBeGreaterThanOrEqual(2); // Timer A: 500 ms, 1 s
    const after = h.advance(200);
    expect(after.map((s) => [startLine(s.bytes).split(' ')[0], s.address])).toEqual([['INVITE', DEST_B.address]]);
  });

  it('answers 408 when nothing answers anywhere', () => {
    const h = harness({ ...RR_ALG, SIPLB_FR_TIMER: '1000' });
    h.feed(request(), UAC);
    const out = h.advance(2100);
    const up = out.filter((s) => s.address === UAC.address);
    expect(up.map((s) => startLine(s.bytes))).toEqual(['SIP/2.0 408 Request Timeout']);
    expect(headerValues(up[0]!.bytes, 'To')[0]).toMatch(/;tag=/);
  });

  it('CANCEL: 200 to the CANCEL, CANCEL sent after the 180, 487 passed to the caller', () => {
    const h = harness(RR_ALG);
    const fwd = h.feed(request(), UAC)[1]!;
    h.feed(answer(fwd, 180), DEST_A);
    const cancel = request({ method: 'CANCEL', contact: null });
    const out = h.feed(cancel, UAC);
    const ok = out.find((s) => s.address === UAC.address);
    expect(ok && startLine(ok.bytes)).toBe('SIP/2.0 200 OK');
    expect(headerValues(ok!.bytes, 'CSeq')).toEqual(['1 CANCEL']);
    const down = out.find((s) => s.address === DEST_A.address);
    expect(down && startLine(down.bytes)).toBe('CANCEL sip:service@127.0.0.1:5060 SIP/2.0');
    expect(viasOf(down!)).toEqual([viasOf(fwd)[0]]); // only our Via, the INVITE's branch (RFC 3261 9.1)
    const term = h.feed(answer(fwd, 487), DEST_A);
    expect(term.map((s) => [startLine(s.bytes), s.address])).toContainEqual(['SIP/2.0 487 Reason', UAC.address]);
    expect(term.map((s) => startLine(s.bytes).split(' ')[0])).toContain('ACK');
    expect(h.core.counters.values.failover).toBe(0); // a canceled call never fails over
  });

  it('answers 481 to a CANCEL that matches nothing', () => {
    const h = harness(RR_ALG);
    const out = h.feed(request({ method: 'CANCEL', callId: 'nothing@x', contact: null }), UAC);
    expect(out.map((s) => startLine(s.bytes))).toEqual(['SIP/2.0 481 Call/Transaction Does Not Exist']);
  });
});

describe('in-dialog requests', () => {
  function dialog(env: Record<string, string> = {}) {
    const h = harness({ ...RR_ALG, ...env });
    const fwd = h.feed(request(), UAC)[1]!;
    const rr = headerValues(fwd.bytes, 'Record-Route')[0]!;
    h.feed(answer(fwd, 200, { contact: '<sip:ms@127.0.0.11:5070>' }), DEST_A);
    const bye = request({ method: 'BYE', ruri: 'sip:ms@127.0.0.11:5070', to: '<sip:service@127.0.0.1:5060>;tag=ms1', route: [rr], cseq: 2, contact: null });
    return { h, bye };
  }

  it('routes a BYE through our Record-Route to the remote target and pops our Route', () => {
    const { h, bye } = dialog();
    const out = h.feed(bye, UAC);
    const down = out.find((s) => startLine(s.bytes).startsWith('BYE'));
    expect(down && [down.address, down.port]).toEqual([DEST_A.address, DEST_A.port]);
    expect(headerValues(down!.bytes, 'Route')).toEqual([]);
  });

  it('sends it to the second destination when the dialog destination is marked down', () => {
    const { h, bye } = dialog();
    h.states.mark(0, DS_INACTIVE);
    const out = h.feed(bye, UAC);
    const down = out.find((s) => startLine(s.bytes).startsWith('BYE'));
    expect(down && [down.address, down.port]).toEqual([DEST_B.address, DEST_B.port]);
    expect(h.core.counters.values.in_dialog_failover).toBe(1);
  });

  it('refuses an in-dialog request that does not carry our Route (no open relay)', () => {
    const h = harness(RR_ALG);
    const bye = request({ method: 'BYE', ruri: 'sip:victim@127.0.0.99:5060', to: '<sip:x@127.0.0.1>;tag=t', contact: null });
    const out = h.feed(bye, UAC);
    expect(out.map((s) => [startLine(s.bytes), s.address])).toEqual([['SIP/2.0 403 Forbidden', UAC.address]]);
    expect(h.core.counters.values.relay_no_route).toBe(1);
  });
});

describe('validation', () => {
  it.each([
    ['Max-Forwards 0', request({ maxForwards: 0 }), 483],
    ['Proxy-Require', request({ extra: ['Proxy-Require: foo, bar'] }), 420],
    ['sips Request-URI', request({ ruri: 'sips:bob@127.0.0.1' }), 416],
    ['unknown scheme', request({ ruri: 'xyz:opaque' }), 416],
    ['bad version', Buffer.from(request().toString('latin1').replace('SIP/2.0\r\n', 'SIP/7.0\r\n')), 505],
    ['malformed Via', Buffer.from(request().toString('latin1').replace(';branch=z9hG4bK-uac-1;rport', ';;')), 400],
  ])('%s is answered with its status and not forwarded', (_name, msg, status) => {
    const h = harness(RR_ALG);
    const out = h.feed(msg, UAC);
    expect(out.map((s) => s.address)).toEqual([UAC.address]);
    expect(startLine(out[0]!.bytes)).toMatch(new RegExp(`^SIP/2\\.0 ${status} `));
  });

  it('lists the Proxy-Require tags in Unsupported', () => {
    const out = harness(RR_ALG).feed(request({ extra: ['Proxy-Require: foo, bar'] }), UAC);
    expect(headerValues(out[0]!.bytes, 'Unsupported')).toEqual(['foo, bar']);
  });

  it('drops a malformed response and one that is not ours, and counts them', () => {
    const h = harness(RR_ALG);
    expect(h.feed(Buffer.from('SIP/2.0 4294967301 Huge\r\n\r\n'), DEST_A)).toEqual([]);
    expect(h.feed(response({ status: 200, via: ['SIP/2.0/UDP 127.0.0.99:5060;branch=z9hG4bKx'] }), DEST_A)).toEqual([]);
    expect(h.core.counters.values.drop_malformed_response).toBe(1);
    expect(h.core.counters.values.drop_response_not_ours).toBe(1);
  });

  it('answers with the no-destination code when every destination is down', () => {
    const h = harness({ ...RR_ALG, SIPLB_NO_DEST_CODE: '480', SIPLB_NO_DEST_REASON: 'Nobody Home' });
    h.states.mark(0, DS_INACTIVE);
    h.states.mark(1, DS_INACTIVE);
    const out = h.feed(request(), UAC);
    expect(out.map((s) => startLine(s.bytes))).toEqual(['SIP/2.0 480 Nobody Home']);
  });
});

describe('every branch kept until the transaction ends (RFC 3261 16.7, 16.10)', () => {
  const firstTwo = (h: ReturnType<typeof harness>, status: number): { fwdA: Sent; fwdB: Sent } => {
    const fwdA = h.feed(request(), UAC)[1]!;
    const fwdB = h.feed(answer(fwdA, status), DEST_A).find((s) => startLine(s.bytes).startsWith('INVITE'))!;
    return { fwdA, fwdB };
  };

  it('absorbs a retransmitted 503 from the first destination while the second is tried (ACKed again)', () => {
    const h = harness(RR_ALG);
    const { fwdA } = firstTwo(h, 503);
    const again = h.feed(answer(fwdA, 503), DEST_A);
    expect(again.map((s) => [startLine(s.bytes).split(' ')[0], s.address])).toEqual([['ACK', DEST_A.address]]);
    expect(h.core.counters.values.late_response_absorbed).toBe(1);
  });

  it('relays a late 200 from the first destination and cancels the second', () => {
    // A rings past SIPLB_FR_INV_TIMER; with SIPLB_FAILOVER_AFTER_PROVISIONAL on, B is tried
    const h2 = harness({ ...RR_ALG, SIPLB_FR_TIMER: '1000', SIPLB_FAILOVER_AFTER_PROVISIONAL: 'true', SIPLB_FR_INV_TIMER: '2000' });
    const a = h2.feed(request(), UAC)[1]!;
    h2.feed(answer(a, 180), DEST_A);
    const timedOut = h2.advance(2100);
    const cancelA = timedOut.find((s) => startLine(s.bytes).startsWith('CANCEL'));
    const b = timedOut.find((s) => startLine(s.bytes).startsWith('INVITE'));
    expect(cancelA?.address).toBe(DEST_A.address);
    expect(b?.address).toBe(DEST_B.address);
    h2.feed(answer(b!, 180), DEST_B);
    // ...and A answers after all: its 200 goes to the caller and B is cancelled
    const late = h2.feed(answer(a, 200), DEST_A);
    expect(late.map((s) => [startLine(s.bytes).split(' ').slice(0, 2).join(' '), s.address])).toEqual(
      expect.arrayContaining([
        ['SIP/2.0 200', UAC.address],
        ['CANCEL sip:service@127.0.0.1:5060', DEST_B.address],
      ]),
    );
    // B's 487 is ACKed, never relayed
    const b487 = h2.feed(answer(b!, 487), DEST_B);
    expect(b487.map((s) => [startLine(s.bytes).split(' ')[0], s.address])).toEqual([['ACK', DEST_B.address]]);
  });

  it('gives the caller the best final of all branches: the 4xx over the 5xx', () => {
    const h = harness({ ...RR_ALG, SIPLB_FAILOVER_CODES: '5xx,404' });
    const { fwdB } = firstTwo(h, 404);
    const out = h.feed(answer(fwdB, 503), DEST_B).filter((s) => s.address === UAC.address);
    expect(out.map((s) => startLine(s.bytes))).toEqual(['SIP/2.0 404 Reason']);
  });

  it('relays a 503 that is all it got as 500 (RFC 3261 16.7 step 6)', () => {
    const h = harness(RR_ALG);
    const { fwdB } = firstTwo(h, 503);
    const out = h.feed(answer(fwdB, 503), DEST_B).filter((s) => s.address === UAC.address);
    expect(out.map((s) => startLine(s.bytes))).toEqual(['SIP/2.0 500 Server Internal Error']);
    expect(h.core.counters.values.remap_503_500).toBe(1);
  });

  it('ends the search on a 6xx', () => {
    const h = harness({ ...RR_ALG, SIPLB_FAILOVER_CODES: '5xx,4xx' });
    const fwdA = h.feed(request(), UAC)[1]!;
    const out = h.feed(answer(fwdA, 603), DEST_A);
    expect(out.filter((s) => startLine(s.bytes).startsWith('INVITE'))).toEqual([]);
    expect(out.filter((s) => s.address === UAC.address).map((s) => startLine(s.bytes))).toEqual(['SIP/2.0 603 Reason']);
  });
});

describe('timeouts', () => {
  it('fail over even when SIPLB_FAILOVER_CODES has no 408 ("empty = timeouts only")', () => {
    for (const codes of ['5xx', '']) {
      const h = harness({ ...RR_ALG, SIPLB_FAILOVER_CODES: codes, SIPLB_FR_TIMER: '1000' });
      h.feed(request(), UAC);
      const invites = h.advance(1100).filter((s) => startLine(s.bytes).startsWith('INVITE'));
      // Timer A retransmits to A at 500 ms; at 1000 ms the branch times out and B gets the call
      expect(invites.map((s) => s.address), `codes=${JSON.stringify(codes)}`).toEqual([DEST_A.address, DEST_B.address]);
    }
  });

  it('after a provisional, do not ring another destination: CANCEL, and 408 to the caller', () => {
    const h = harness({ ...RR_ALG, SIPLB_FR_INV_TIMER: '2000' });
    const fwdA = h.feed(request(), UAC)[1]!;
    h.feed(answer(fwdA, 180), DEST_A);
    const out = h.advance(2100);
    expect(out.map((s) => [startLine(s.bytes).split(' ').slice(0, 2).join(' '), s.address])).toEqual([
      ['CANCEL sip:service@127.0.0.1:5060', DEST_A.address],
      ['SIP/2.0 408', UAC.address],
    ]);
    expect(h.sent.filter((s) => s.address === DEST_B.address)).toEqual([]);
    // the 487 of the cancelled branch is ACKed and absorbed
    expect(h.feed(answer(fwdA, 487), DEST_A).map((s) => startLine(s.bytes).split(' ')[0])).toEqual(['ACK']);
  });
});

describe('the server transaction keeps its own copy of the source', () => {
  it.each(['true', 'false'])('SIPLB_FORCE_RPORT=%s: a later datagram reusing the source object changes nothing', (rport) => {
    const h = harness({ ...RR_ALG, SIPLB_FORCE_RPORT: rport });
    const src = { ...UAC }; // a worker hands the core one metadata object, rewritten per datagram
    const fwd = h.feed(request(), src)[1]!;
    Object.assign(src, { address: '127.0.0.77', port: 7777 });
    h.feed(request({ method: 'OPTIONS', callId: 'other@x', via: ['SIP/2.0/UDP 127.0.0.77:7777;branch=z9hG4bK-o'] }), src);
    const ok = h.feed(answer(fwd, 200), DEST_A);
    expect(ok.map((s) => `${s.address}:${s.port}`)).toEqual([`${UAC.address}:${UAC.port}`]);
  });
});
