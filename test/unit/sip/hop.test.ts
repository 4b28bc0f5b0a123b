// buildAck (RFC 3261 17.1.1.3) and buildCancel (RFC 3261 9.1), from the INVITE as we sent it.
import { describe, expect, it } from 'vitest';
import { buildAck, buildCancel, forwardRequest } from '../../../src/sip/rewrite.js';
import { invite, parseOk, parsers, sip } from './messages.js';

const { input, output } = parsers();
const OUR_VIA = 'SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKsfabc1';

/** The INVITE as the proxy forwards it: our Via on top, the client's below, two Routes. */
function sentInvite(): Buffer {
  const received = invite(['Record-Route: <sip:10.0.0.1;lr>'], {
    route: ['Route: <sip:p2.example.com;lr>,<sip:p3.example.com;lr>', 'Route: <sip:p4.example.com;lr>'],
  });
  parseOk(input, received);
  return forwardRequest(received, input.table, { via: OUR_VIA, maxForwards: 69, requestUri: 'sip:bob@10.1.1.1:5080' });
}

describe('buildCancel', () => {
  it('copies Request-URI, top Via only, Route, From, To, Call-ID, CSeq number (RFC 3261 9.1)', () => {
    const raw = buildCancel(sentInvite());
    expect(raw).not.toBeNull();
    const c = parseOk(output, raw!);
    expect(c.method).toBe('CANCEL');
    expect(c.requestUri?.raw).toBe('sip:bob@10.1.1.1:5080');
    expect(c.headers('Via')).toEqual([OUR_VIA]);
    expect(c.headers('Route')).toEqual(['<sip:p2.example.com;lr>', '<sip:p3.example.com;lr>', '<sip:p4.example.com;lr>']);
    expect(c.from.raw).toBe('Alice <sip:alice@atlanta.example.com>;tag=1928301774');
    expect(c.to.raw).toBe('Bob <sip:bob@biloxi.example.com>');
    expect(c.callId).toBe('a84b4c76e66710@pc33.atlanta.example.com');
    expect(c.cseq).toEqual({ number: 314159, method: 'CANCEL' });
    expect(c.maxForwards).toBe(70);
    expect(c.contentLength).toBe(0);
    expect(c.body.length).toBe(0);
    for (const h of ['Record-Route', 'Contact', 'Content-Type']) expect(c.header(h), h).toBeUndefined();
  });

  it('keeps only the first value of a multi-value top Via line', () => {
    const bytes = invite([], { via: [`Via: ${OUR_VIA} , SIP/2.0/UDP 192.0.2.10;branch=z9hG4bKa`] });
    expect(parseOk(output, buildCancel(bytes)!).headers('Via')).toEqual([OUR_VIA]);
  });

  it('returns null for bytes that are not a usable request', () => {
    expect(buildCancel(Buffer.from('garbage'))).toBeNull();
    const noCallId = invite().toString('latin1').replace(/Call-ID:[^\r]*\r\n/, '');
    expect(buildCancel(Buffer.from(noCallId, 'latin1'))).toBeNull();
  });
});

describe('buildAck', () => {
  it('is the hop-by-hop ACK of RFC 3261 17.1.1.3: To from the response, the rest from the INVITE', () => {
    const sent = sentInvite();
    const response = sip([
      'SIP/2.0 486 Busy Here',
      `Via: ${OUR_VIA}`,
      'Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK776asdhds;rport=5062',
      'To: Bob <sip:bob@biloxi.example.com>;tag=a6c85cf',
      'From: Alice <sip:alice@atlanta.example.com>;tag=1928301774',
      'Call-ID: a84b4c76e66710@pc33.atlanta.example.com',
      'CSeq: 314159 INVITE',
      'Content-Length: 0',
    ]);
    const res = parseOk(input, response);
    const raw = buildAck(sent, res.to.raw);
    expect(raw).not.toBeNull();
    const a = parseOk(output, raw!);
    expect(a.method).toBe('ACK');
    expect(a.requestUri?.raw).toBe('sip:bob@10.1.1.1:5080');
    expect(a.headers('Via')).toEqual([OUR_VIA]);
    expect(a.headers('Route')).toEqual(['<sip:p2.example.com;lr>', '<sip:p3.example.com;lr>', '<sip:p4.example.com;lr>']);
    expect(a.to.raw).toBe('Bob <sip:bob@biloxi.example.com>;tag=a6c85cf');
    expect(a.to.tag).toBe('a6c85cf');
    expect(a.from.tag).toBe('1928301774');
    expect(a.callId).toBe('a84b4c76e66710@pc33.atlanta.example.com');
    expect(a.cseq).toEqual({ number: 314159, method: 'ACK' });
    expect(a.maxForwards).toBe(70);
    expect(a.contentLength).toBe(0);
    expect(a.header('Contact')).toBeUndefined();
  });

  it('works with compact header names and folded lines in the INVITE', () => {
    const bytes = sip(
      [
        'INVITE sip:x@10.1.1.1 SIP/2.0',
        `v: ${OUR_VIA}`,
        'f: <sip:a@example.com>',
        ' ;tag=9',
        't: <sip:x@example.com>',
        'i: cid-1',
        'CSeq:   7   INVITE',
        'l: 0',
      ],
      '',
    );
    const a = parseOk(output, buildAck(bytes, '<sip:x@example.com>;tag=r')!);
    expect(a.headers('Via')).toEqual([OUR_VIA]);
    expect(a.from.tag).toBe('9');
    expect(a.callId).toBe('cid-1');
    expect(a.cseq).toEqual({ number: 7, method: 'ACK' });
    expect(a.to.tag).toBe('r');
  });
});
