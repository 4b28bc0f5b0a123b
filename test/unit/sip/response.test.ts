// buildResponse (RFC 3261 8.2.6), reason phrases and the Route "is it us" test.
import { describe, expect, it } from 'vitest';
import { type SipMessage } from '../../../src/parser/index.js';
import { reasonPhrase, routeIsOurs, routeMatcher } from '../../../src/sip/responses.js';
import { type ResponseOptions, buildResponse } from '../../../src/sip/rewrite.js';
import { invite, parseOk, parsers, sip } from './messages.js';

const { input, output } = parsers();

/** Parses `bytes` (well-formed or not), answers it, and re-parses the answer. */
function answer(bytes: Buffer, status: number, opts?: ResponseOptions, reason?: string, strict = true): { res: SipMessage; text: string } | null {
  input.parse(bytes);
  const raw = buildResponse(bytes, input.table, status, reason, opts);
  if (raw === null) return null;
  // a header copied as written from a malformed request stays malformed: read what the parser could
  const res = strict ? parseOk(output, raw) : (output.parse(raw), output.view());
  return { res, text: raw.toString('latin1') };
}

const TWO_VIAS_ONE_LINE = 'Via: SIP/2.0/UDP 10.0.0.2;branch=z9hG4bKp2 , SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bKa;rport=5062';

describe('buildResponse', () => {
  it('copies every Via value in order and as written, From, To, Call-ID, CSeq', () => {
    const bytes = invite([], { via: [TWO_VIAS_ONE_LINE, 'v: SIP/2.0/UDP 192.0.2.99;branch=z9hG4bKz'] });
    const r = answer(bytes, 503, { toTag: 'abc' });
    expect(r).not.toBeNull();
    const { res, text } = r!;
    expect(text.startsWith('SIP/2.0 503 Service Unavailable\r\n')).toBe(true);
    expect(text).toContain(`\r\n${TWO_VIAS_ONE_LINE}\r\nv: SIP/2.0/UDP 192.0.2.99;branch=z9hG4bKz\r\n`);
    expect(res.headers('Via')).toEqual([
      'SIP/2.0/UDP 10.0.0.2;branch=z9hG4bKp2',
      'SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bKa;rport=5062',
      'SIP/2.0/UDP 192.0.2.99;branch=z9hG4bKz',
    ]);
    expect(res.from.raw).toBe('Alice <sip:alice@atlanta.example.com>;tag=1928301774');
    expect(res.to.raw).toBe('Bob <sip:bob@biloxi.example.com>;tag=abc');
    expect(res.callId).toBe('a84b4c76e66710@pc33.atlanta.example.com');
    expect(res.cseq).toEqual({ number: 314159, method: 'INVITE' });
    expect(res.contentLength).toBe(0);
    expect(res.header('Contact')).toBeUndefined();
    expect(res.body.length).toBe(0);
  });

  it('adds a To tag only when the request has none and the status is above 100', () => {
    expect(answer(invite(), 100, { toTag: 'abc' })!.res.to.tag).toBeUndefined();
    const inDialog = invite().toString('latin1').replace('To: Bob <sip:bob@biloxi.example.com>', 'To: Bob <sip:bob@biloxi.example.com>;tag=xyz');
    const r = answer(Buffer.from(inDialog, 'latin1'), 481, { toTag: 'abc' })!;
    expect(r.res.to.tag).toBe('xyz');
    expect(r.text.match(/tag=/g)?.length).toBe(2); // From's and To's, no second To tag
    expect(answer(invite(), 404)!.res.to.tag).toBeUndefined();
  });

  it('copies Timestamp into a 100 (RFC 3261 8.2.6.1) and adds Server and extra headers', () => {
    const r = answer(invite(['Timestamp: 54.3']), 100, { server: 'siplb' })!;
    expect(r.res.reason).toBe('Trying');
    expect(r.res.header('Timestamp')).toBe('54.3');
    const u = answer(invite(['Timestamp: 54.3']), 420, { headers: ['Unsupported: foo, bar'], server: 'siplb' })!;
    expect(u.res.header('Timestamp')).toBeUndefined();
    expect(u.res.headers('Unsupported')).toEqual(['foo', 'bar']);
    expect(u.res.header('Server')).toBe('siplb');
    expect(answer(invite(), 480, undefined, 'Gone Fishing')!.res.reason).toBe('Gone Fishing');
  });

  it('answers malformed requests when Via, From, To, Call-ID and CSeq exist', () => {
    const bad = [
      invite().toString('latin1').replace('Max-Forwards: 70', 'Max-Forwards: seventy'),
      invite().toString('latin1').replace('INVITE sip:bob@biloxi.example.com SIP/2.0', 'INVITE sip:bob@biloxi.example.com SIP/7.0'),
      invite().toString('latin1').replace('To: Bob <sip:bob@biloxi.example.com>', 'To: Bob <sip:bob@biloxi.example.com'),
      invite().toString('latin1').replace('CSeq: 314159 INVITE', 'CSeq: 314159 BYE'),
    ];
    for (const text of bad) {
      const bytes = Buffer.from(text, 'latin1');
      expect(input.parse(bytes).ok, text).toBe(false);
      const r = answer(bytes, 400, { toTag: 't1' }, undefined, false);
      expect(r, text).not.toBeNull();
      expect(r!.res.status).toBe(400);
      expect(r!.res.callId).toBe('a84b4c76e66710@pc33.atlanta.example.com');
      expect(r!.res.via?.branch).toBe('z9hG4bK776asdhds');
    }
  });

  it('ends every line with CRLF, also for a request with bare LF and trailing blanks', () => {
    const text = invite().toString('latin1').replace(/\r\n/g, '\n').replace('CSeq: 314159 INVITE', 'CSeq: 314159 INVITE  ');
    const r = answer(Buffer.from(text, 'latin1'), 486, { toTag: 'b' })!;
    expect(r.text).not.toMatch(/[^\r]\n/);
    expect(r.text).toContain('\r\nCSeq: 314159 INVITE\r\n');
    expect(r.res.to.tag).toBe('b');
    expect(r.res.notes).toEqual([]);
  });

  it('returns null when a required header is missing', () => {
    for (const name of ['Via', 'From', 'To', 'Call-ID', 'CSeq']) {
      const text = invite()
        .toString('latin1')
        .split('\r\n')
        .filter((l) => !l.startsWith(`${name}:`))
        .join('\r\n');
      expect(answer(Buffer.from(text, 'latin1'), 400), name).toBeNull();
    }
  });

  it('tells a To tag from a tag inside the To URI, also in a To the parser rejects', () => {
    const bye = (to: string): Buffer =>
      sip(['BYE sip:x@example.com SIP/2.0', 'Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKa', 'From: <sip:a@example.com>;tag=1', `To: ${to}`, 'Call-ID: c', 'CSeq: 2 BYE']);
    expect(answer(bye('<sip:x@example.com;tag=u>'), 481, { toTag: 'ours' })!.text).toContain('\r\nTo: <sip:x@example.com;tag=u>;tag=ours\r\n');
    const bad = bye('<sip:x@exa mple.com>;tag=xyz');
    expect(input.parse(bad).ok).toBe(false);
    expect(answer(bad, 400, { toTag: 'ours' }, undefined, false)!.text).toContain('\r\nTo: <sip:x@exa mple.com>;tag=xyz\r\n');
  });
});

describe('reasonPhrase', () => {
  it.each([
    [100, 'Trying'], [400, 'Bad Request'], [403, 'Forbidden'], [404, 'Not Found'], [408, 'Request Timeout'],
    [416, 'Unsupported URI Scheme'], [420, 'Bad Extension'], [480, 'Temporarily Unavailable'], [483, 'Too Many Hops'],
    [500, 'Server Internal Error'], [501, 'Not Implemented'], [503, 'Service Unavailable'], [505, 'Version Not Supported'],
    [513, 'Message Too Large'], [499, 'Client Error'], [599, 'Server Error'],
  ])('%i is "%s"', (code, phrase) => {
    expect(reasonPhrase(code)).toBe(phrase);
  });
});

describe('routeIsOurs', () => {
  const ours = [{ host: '10.0.0.1', port: 5060 }, { host: '[2001:db8::1]', port: 5070 }, { host: 'Proxy.Example.com', port: 0 }];
  it.each([
    [{ host: '10.0.0.1', port: 0 }, true],
    [{ host: '10.0.0.1', port: 5060 }, true],
    [{ host: '10.0.0.1', port: 5061 }, false],
    [{ host: '10.0.0.2', port: 5060 }, false],
    [{ host: '[2001:db8::1]', port: 5070 }, true],
    [{ host: '2001:db8::1', port: 5070 }, true],
    [{ host: '[2001:0DB8:0:0:0:0:0:1]', port: 5070 }, true],
    [{ host: '[2001:db8::1]', port: 0 }, false],
    [{ host: 'proxy.example.COM', port: 5060 }, true],
    [{ host: 'proxy.example.org', port: 5060 }, false],
  ])('%o -> %s', (uri, expected) => {
    expect(routeIsOurs(uri, ours)).toBe(expected);
    expect(routeMatcher(ours)(uri)).toBe(expected);
  });
});
