// forwardRequest / forwardResponse: every output is re-parsed and its fields checked.
import { describe, expect, it } from 'vitest';
import { type SipMessage } from '../../../src/parser/index.js';
import { type ForwardEdits, forwardRequest, forwardResponse } from '../../../src/sip/rewrite.js';
import { SDP, invite, parseOk, parsers, sip } from './messages.js';

const OUR_VIA = 'SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKsf0001';
const OUR_RR = '<sip:10.0.0.1:5060;lr;t=abc>';
const { input, output } = parsers();

/** Parses `bytes`, forwards with `edits`, returns the re-parsed output and its text. */
function fwd(bytes: Buffer, edits: Partial<ForwardEdits> = {}): { out: SipMessage; text: string; raw: Buffer } {
  parseOk(input, bytes);
  const raw = forwardRequest(bytes, input.table, { via: OUR_VIA, maxForwards: 69, ...edits });
  return { out: parseOk(output, raw), text: raw.toString('latin1'), raw };
}

describe('forwardRequest', () => {
  it('adds our Via first, Record-Route first, decrements Max-Forwards, replaces the Request-URI', () => {
    const bytes = invite([], { route: ['Record-Route: <sip:p2.example.com;lr>'] });
    const { out, text } = fwd(bytes, { recordRoute: OUR_RR, requestUri: 'sip:bob@10.1.1.1:5080' });
    expect(out.headers('Via')).toEqual([OUR_VIA, 'SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK776asdhds;rport']);
    expect(out.headers('Record-Route')).toEqual([OUR_RR, '<sip:p2.example.com;lr>']);
    expect(out.maxForwards).toBe(69);
    expect(out.headers('Max-Forwards')).toEqual(['69']);
    expect(out.requestUri?.raw).toBe('sip:bob@10.1.1.1:5080');
    expect(text.startsWith('INVITE sip:bob@10.1.1.1:5080 SIP/2.0\r\n')).toBe(true);
    expect(Buffer.from(out.body).toString('latin1')).toBe(SDP);
    expect(out.contentLength).toBe(SDP.length);
    // untouched headers leave byte-exact
    expect(text).toContain('\r\nContact: <sip:alice@192.0.2.10:5062>\r\n');
    expect(out.headerCount).toBe(parseOk(input, bytes).headerCount + 2);
  });

  it('inserts Max-Forwards when absent and never duplicates it', () => {
    const bytes = sip(['OPTIONS sip:x@example.com SIP/2.0', 'v: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKa', 'f: <sip:a@example.com>;tag=1', 't: <sip:x@example.com>', 'i: c1', 'CSeq: 1 OPTIONS', 'l: 0']);
    const { out } = fwd(bytes, { maxForwards: 70 });
    expect(out.headers('Max-Forwards')).toEqual(['70']);
    // our Via goes before the compact top Via line
    expect(out.headers('Via')).toEqual([OUR_VIA, 'SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKa']);
  });

  it('pops a top Route that has a line of its own', () => {
    const bytes = invite([], { route: ['Route: <sip:10.0.0.1;lr>', 'Route: <sip:p2.example.com;lr>'] });
    const { out, text } = fwd(bytes, { popRoute: true });
    expect(out.headers('Route')).toEqual(['<sip:p2.example.com;lr>']);
    expect(text).not.toContain('10.0.0.1;lr');
    expect(out.route?.host).toBe('p2.example.com');
  });

  it('pops the first value of a multi-value Route line, comma and space included', () => {
    const bytes = invite([], { route: ['Route: <sip:10.0.0.1;lr>,  <sip:p2.example.com;lr>', 'Route: <sip:p3.example.com;lr>'] });
    const { out, text } = fwd(bytes, { popRoute: true });
    expect(out.headers('Route')).toEqual(['<sip:p2.example.com;lr>', '<sip:p3.example.com;lr>']);
    expect(text).toContain('\r\nRoute: <sip:p2.example.com;lr>\r\n');
  });

  it('pops the only Route and leaves no Route header', () => {
    const { out, text } = fwd(invite([], { route: ['Route: <sip:10.0.0.1;lr>'] }), { popRoute: true });
    expect(out.routeCount).toBe(0);
    expect(text).not.toMatch(/^Route:/m);
  });

  it('copies a binary body byte-exact and drops trailing octets (RFC 3261 18.3)', () => {
    const body = Uint8Array.from([0, 1, 2, 13, 10, 13, 10, 255, 254, 0x80, 0x3a, 0]);
    const bytes = Buffer.concat([invite([], { body }), Buffer.from('TRAILING GARBAGE')]);
    const { out, raw } = fwd(bytes);
    expect(Buffer.from(out.body).equals(Buffer.from(body))).toBe(true);
    expect(out.notes).not.toContain('trailing-octets');
    expect(raw.subarray(raw.length - body.length).equals(Buffer.from(body))).toBe(true);
  });

  it('adds Content-Length for the body when absent', () => {
    const bytes = invite([], { contentLength: false });
    const { out } = fwd(bytes);
    expect(out.headers('Content-Length')).toEqual([String(SDP.length)]);
    expect(Buffer.from(out.body).toString('latin1')).toBe(SDP);
  });

  it('forwards a request with bare LF line endings (RFC 3261 7.5 leniency) that re-parses', () => {
    const crlf = invite([], { route: ['Route: <sip:10.0.0.1;lr>'] }).toString('latin1');
    const split = crlf.indexOf('\r\n\r\n') + 4;
    const bytes = Buffer.from(crlf.slice(0, split).replace(/\r\n/g, '\n') + crlf.slice(split), 'latin1');
    const { out } = fwd(bytes, { popRoute: true, recordRoute: OUR_RR });
    expect(out.headers('Via')[0]).toBe(OUR_VIA);
    expect(out.routeCount).toBe(0);
    expect(out.recordRoute?.raw).toBe('sip:10.0.0.1:5060;lr;t=abc');
    expect(Buffer.from(out.body).toString('latin1')).toBe(SDP);
  });

  it('drops CRLFs before the start line (RFC 3261 7.5)', () => {
    const { raw } = fwd(Buffer.concat([Buffer.from('\r\n\r\n'), invite()]));
    expect(raw.toString('latin1').startsWith('INVITE ')).toBe(true);
  });
});

describe('forwardRequest stamps the received top Via (RFC 3581)', () => {
  const stamp = (via: string, s: { received?: string; rport?: number }): string[] =>
    fwd(invite([], { via: [via] }), { stampTopVia: s }).out.headers('Via').slice(1);

  it('fills a valueless rport and adds received', () => {
    expect(stamp('Via: SIP/2.0/UDP 192.0.2.10:5062;rport;branch=z9hG4bKx', { received: '198.51.100.7', rport: 40000 })).toEqual([
      'SIP/2.0/UDP 192.0.2.10:5062;rport=40000;branch=z9hG4bKx;received=198.51.100.7',
    ]);
  });

  // Found by the namespace tests (issue 8): SIPp, sipvicious and most UAs put a valueless rport last,
  // and a client behind NAT needs received too; both inserts landed at the same offset in the wrong
  // order ("...;rport;received=198.51.100.7=40000"), and a stateless response to it was dropped.
  it('fills a valueless rport that is the last parameter and adds received', () => {
    expect(stamp('Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bKx;rport', { received: '198.51.100.7', rport: 40000 })).toEqual([
      'SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bKx;rport=40000;received=198.51.100.7',
    ]);
  });

  it('adds rport when absent (forced) and received only when given', () => {
    expect(stamp('Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bKx', { rport: 5062 })).toEqual([
      'SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bKx;rport=5062',
    ]);
  });

  it('replaces existing rport and received values, any case, and leaves look-alikes', () => {
    const via = 'Via: SIP/2.0/UDP 192.0.2.10;rportx=1;RPort = 1234;received=10.9.9.9;branch=z9hG4bKx';
    expect(stamp(via, { received: '198.51.100.7', rport: 40000 })).toEqual([
      'SIP/2.0/UDP 192.0.2.10;rportx=1;RPort = 40000;received=198.51.100.7;branch=z9hG4bKx',
    ]);
  });

  it('stamps only the first value of a multi-value Via line', () => {
    const via = 'Via: SIP/2.0/UDP 192.0.2.10;rport;branch=z9hG4bKx, SIP/2.0/UDP 192.0.2.20;rport;branch=z9hG4bKy';
    expect(stamp(via, { received: '198.51.100.7', rport: 1 })).toEqual([
      'SIP/2.0/UDP 192.0.2.10;rport=1;branch=z9hG4bKx;received=198.51.100.7',
      'SIP/2.0/UDP 192.0.2.20;rport;branch=z9hG4bKy',
    ]);
  });
});

describe('forwardResponse', () => {
  const response = (vias: string[], tail = ''): Buffer =>
    Buffer.concat([
      sip(['SIP/2.0 180 Ringing', ...vias, 'To: <sip:bob@example.com>;tag=8321234356', 'From: <sip:alice@example.com>;tag=1928301774', 'Call-ID: c1', 'CSeq: 1 INVITE', 'Content-Length: 0']),
      Buffer.from(tail),
    ]);
  const strip = (bytes: Buffer): { out: SipMessage; text: string } => {
    parseOk(input, bytes);
    const raw = forwardResponse(bytes, input.table);
    return { out: parseOk(output, raw), text: raw.toString('latin1') };
  };

  it('removes a top Via line that holds one value', () => {
    const { out, text } = strip(response(['Via: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKour', 'Via: SIP/2.0/UDP 192.0.2.10;branch=z9hG4bKa']));
    expect(out.headers('Via')).toEqual(['SIP/2.0/UDP 192.0.2.10;branch=z9hG4bKa']);
    expect(text).not.toContain('z9hG4bKour');
    expect(out.status).toBe(180);
  });

  it('removes the first of several values on one line (SIPp [last_Via:])', () => {
    const { out, text } = strip(response(['Via: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKour, SIP/2.0/UDP 192.0.2.10;branch=z9hG4bKa,SIP/2.0/UDP 192.0.2.11;branch=z9hG4bKb']));
    expect(out.headers('Via')).toEqual(['SIP/2.0/UDP 192.0.2.10;branch=z9hG4bKa', 'SIP/2.0/UDP 192.0.2.11;branch=z9hG4bKb']);
    expect(text).toContain('\r\nVia: SIP/2.0/UDP 192.0.2.10;branch=z9hG4bKa,SIP/2.0/UDP 192.0.2.11');
  });

  it('removes a first value folded onto the next line, and drops trailing octets', () => {
    const { out, text } = strip(response(['Via: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKour,', ' SIP/2.0/UDP 192.0.2.10;branch=z9hG4bKa'], 'junk'));
    expect(out.headers('Via')).toEqual(['SIP/2.0/UDP 192.0.2.10;branch=z9hG4bKa']);
    expect(text.endsWith('Content-Length: 0\r\n\r\n')).toBe(true);
  });
});
