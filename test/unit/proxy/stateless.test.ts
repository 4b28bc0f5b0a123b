// Stateless forwarding (RFC 3261 16.11, SIPLB_MODE=stateless): no 100 Trying, no timers, a branch
// derived from the request so retransmissions look the same downstream, responses routed by Via.
import { describe, expect, it } from 'vitest';
import { DEST_A, DEST_B, UAC, harness } from '../../helpers/core-harness.js';
import { headerValues, request, response, startLine } from '../../helpers/sip-messages.js';

const STATELESS = { SIPLB_MODE: 'stateless', SIPLB_ALG: '4' };

describe('stateless mode', () => {
  it('forwards without 100 Trying, with a derived branch that a retransmission reproduces', () => {
    const h = harness(STATELESS);
    const first = h.feed(request(), UAC);
    expect(first).toHaveLength(1);
    expect([first[0]!.address, first[0]!.port]).toEqual([DEST_A.address, DEST_A.port]);
    const again = h.feed(request(), UAC);
    expect(again).toHaveLength(1);
    // same destination (round-robin would have moved on) and the same top Via
    expect(again[0]!.address).toBe(DEST_A.address);
    expect(headerValues(again[0]!.bytes, 'Via')[0]).toBe(headerValues(first[0]!.bytes, 'Via')[0]);
    expect(h.advance(5000)).toEqual([]); // no timers in stateless mode
  });

  it('sends the next call to the next destination (round-robin)', () => {
    const h = harness(STATELESS);
    h.feed(request(), UAC);
    const second = h.feed(request({ callId: 'call-2@127.0.0.1', via: ['SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-uac-2;rport'] }), UAC);
    expect(second[0]!.address).toBe(DEST_B.address);
  });

  it('routes a response by the next Via, to received/rport, after removing ours', () => {
    const h = harness(STATELESS);
    const fwd = h.feed(request(), UAC)[0]!;
    const out = h.feed(response({ status: 180, via: headerValues(fwd.bytes, 'Via'), toTag: 'x' }), DEST_A);
    expect(out).toHaveLength(1);
    expect([out[0]!.address, out[0]!.port]).toEqual([UAC.address, UAC.port]);
    expect(headerValues(out[0]!.bytes, 'Via')).toHaveLength(1);
  });

  it('handles several Via values on one line (SIPp [last_Via:])', () => {
    const h = harness(STATELESS);
    const fwd = h.feed(request(), UAC)[0]!;
    const oneLine = headerValues(fwd.bytes, 'Via').join(', ');
    const out = h.feed(response({ status: 200, via: [oneLine], toTag: 'x' }), DEST_A);
    expect(out).toHaveLength(1);
    expect(out[0]!.address).toBe(UAC.address);
    expect(headerValues(out[0]!.bytes, 'Via')).toEqual([headerValues(fwd.bytes, 'Via')[1]]);
  });

  it('sends CANCEL where the INVITE went, with the INVITE branch', () => {
    const h = harness(STATELESS);
    const inv = h.feed(request(), UAC)[0]!;
    h.feed(request({ callId: 'other@x', via: ['SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-other;rport'] }), UAC); // moves round-robin on
    const cancel = h.feed(request({ method: 'CANCEL', contact: null }), UAC);
    expect(cancel).toHaveLength(1);
    expect(startLine(cancel[0]!.bytes)).toMatch(/^CANCEL /);
    expect(cancel[0]!.address).toBe(inv.address);
    expect(headerValues(cancel[0]!.bytes, 'Via')[0]).toBe(headerValues(inv.bytes, 'Via')[0]);
  });

  it('drops a response to a broadcast next hop (RFC 4475 3.3.10)', () => {
    const h = harness(STATELESS);
    const ours = 'SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKsl-x';
    const out = h.feed(response({ status: 200, via: [ours, 'SIP/2.0/UDP 255.255.255.255;branch=z9hG4bKb'], toTag: 'x' }), DEST_A);
    expect(out).toEqual([]);
    expect(h.core.counters.values.drop_response_broadcast).toBe(1);
  });
});
