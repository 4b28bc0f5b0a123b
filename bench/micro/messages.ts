// The messages the parser micro benchmarks run on: exact CRLF byte strings, as a UDP datagram
// carries them. Content-Length is computed from the body here, never hand-counted, and
// test/unit/bench-smoke.test.ts checks it again against the bytes.

export interface BenchMessage {
  /** Short key used in tables and JSON ("invite", "ok200"...). */
  readonly name: string;
  readonly description: string;
  readonly buf: Buffer;
  /** What a correct parser reads from the message; the harness sanity checks compare with it. */
  readonly expect: Expected;
  /** Byte offset of the body (after the empty line). */
  readonly bodyOffset: number;
}

export interface Expected {
  readonly callId: string;
  /** Top Via: the first via-parm of the first Via line. */
  readonly viaHost: string;
  readonly viaBranch: string;
  readonly cseqNumber: number;
  readonly cseqMethod: string;
  /** Absent in responses. */
  readonly maxForwards: number | undefined;
  /** Host of the Request-URI; absent in responses. */
  readonly requestHost: string | undefined;
}

const CRLF = '\r\n';

/**
 * Joins a start line, headers and a body into one datagram. The Content-Length header (under
 * `lengthName`, so compact `l` works) is appended last with the body's byte length.
 */
function build(name: string, description: string, expect: Expected, startLine: string,
  headers: readonly string[], body: string, lengthName = 'Content-Length'): BenchMessage {
  const length = Buffer.byteLength(body, 'utf8');
  const head = [startLine, ...headers, `${lengthName}: ${length}`].join(CRLF) + CRLF + CRLF;
  const buf = Buffer.from(head + body, 'utf8');
  return { name, description, buf, expect, bodyOffset: Buffer.byteLength(head, 'utf8') };
}

/** An SDP offer/answer for one audio stream, lines CRLF-terminated as RFC 4566 requires. */
function sdp(user: string, sessionId: string, ip: string, port: number): string {
  return [
    `v=0`,
    `o=${user} ${sessionId} ${sessionId} IN IP4 ${ip}`,
    `s=-`,
    `c=IN IP4 ${ip}`,
    `t=0 0`,
    `m=audio ${port} RTP/AVP 0 8 9 101`,
    `a=rtpmap:0 PCMU/8000`,
    `a=rtpmap:8 PCMA/8000`,
    `a=rtpmap:9 G722/8000`,
    `a=rtpmap:101 telephone-event/8000`,
    `a=fmtp:101 0-16`,
    `a=ptime:20`,
    `a=sendrecv`,
  ].join(CRLF) + CRLF;
}

const ALLOW = 'INVITE, ACK, CANCEL, BYE, OPTIONS, REFER, NOTIFY, MESSAGE, UPDATE, PRACK, INFO';

/** (a) A typical INVITE from a UA behind NAT, through one loose-routing proxy. */
export const invite: BenchMessage = build('invite', 'INVITE with SDP, 1 Via, 1 Route',
  {
    callId: 'a84b4c76e66710-3f1e9b2c@192.0.2.33', viaHost: '192.0.2.33', viaBranch: 'z9hG4bK776asdhds.4f2a',
    cseqNumber: 314159, cseqMethod: 'INVITE', maxForwards: 70, requestHost: 'pbx.example.com',
  },
  'INVITE sip:+15551234567@pbx.example.com;user=phone SIP/2.0', [
    'Via: SIP/2.0/UDP 192.0.2.33:5060;rport;branch=z9hG4bK776asdhds.4f2a',
    'Max-Forwards: 70',
    'Route: <sip:lb1.example.com:5060;transport=udp;lr>',
    'From: "Alice Liddell" <sip:alice@example.com>;tag=1928301774',
    'To: <sip:+15551234567@pbx.example.com;user=phone>',
    'Call-ID: a84b4c76e66710-3f1e9b2c@192.0.2.33',
    'CSeq: 314159 INVITE',
    'Contact: <sip:alice@192.0.2.33:5060;transport=udp>;+sip.instance="<urn:uuid:00000000-0000-1000-8000-AABBCCDDEEFF>"',
    `Allow: ${ALLOW}`,
    'Supported: replaces, timer, 100rel, path',
    'User-Agent: Example-Softphone/5.2.1 (Linux x86_64)',
    'Content-Type: application/sdp',
  ], sdp('alice', '2890844526', '192.0.2.33', 49170));

/** (b) The 200 OK for an INVITE that went through two proxies: three Vias on two lines. */
export const ok200: BenchMessage = build('ok200', '200 OK to INVITE, 3 Vias on 2 lines, SDP',
  {
    callId: 'f81d4fae-7dec-11d0-a765-00a0c91e6bf6@10.0.0.5', viaHost: 'lb1.example.com', viaBranch: 'z9hG4bK4b43c2ff8.1',
    cseqNumber: 314159, cseqMethod: 'INVITE', maxForwards: undefined, requestHost: undefined,
  },
  'SIP/2.0 200 OK', [
    'Via: SIP/2.0/UDP lb1.example.com:5060;branch=z9hG4bK4b43c2ff8.1, SIP/2.0/UDP edge.example.com;branch=z9hG4bK77ef4c2312983.1',
    'Via: SIP/2.0/UDP 192.0.2.33:5060;received=198.51.100.7;rport=41234;branch=z9hG4bKnashds8',
    'Record-Route: <sip:lb1.example.com;lr>, <sip:edge.example.com;lr>',
    'From: "Alice Liddell" <sip:alice@example.com>;tag=1928301774',
    'To: <sip:bob@example.com>;tag=a6c85cf',
    'Call-ID: f81d4fae-7dec-11d0-a765-00a0c91e6bf6@10.0.0.5',
    'CSeq: 314159 INVITE',
    'Contact: <sip:bob@10.0.0.5:5060;transport=udp>',
    `Allow: ${ALLOW}`,
    'Supported: replaces, timer',
    'Server: Example-PBX/18.4.0',
    'Content-Type: application/sdp',
  ], sdp('bob', '2890844527', '10.0.0.5', 3456));

/** (c) A REGISTER answering a 401 challenge, with a Digest Authorization header. */
export const register: BenchMessage = build('register', 'REGISTER with Digest Authorization',
  {
    callId: '843817637684230@998sdasdh09', viaHost: '192.0.2.44', viaBranch: 'z9hG4bKnashds7',
    cseqNumber: 1827, cseqMethod: 'REGISTER', maxForwards: 70, requestHost: 'registrar.example.com',
  },
  'REGISTER sip:registrar.example.com SIP/2.0', [
    'Via: SIP/2.0/UDP 192.0.2.44:5060;rport;branch=z9hG4bKnashds7',
    'Max-Forwards: 70',
    'From: Bob <sip:bob@example.com>;tag=456248',
    'To: Bob <sip:bob@example.com>',
    'Call-ID: 843817637684230@998sdasdh09',
    'CSeq: 1827 REGISTER',
    'Contact: <sip:bob@192.0.2.44:5060>;expires=3600',
    'Authorization: Digest username="bob", realm="example.com", nonce="ea9c8e88df84f1cec4341ae6cbe5a359", uri="sip:registrar.example.com", response="dfe56131d1958046689d83306477ecc", algorithm=MD5, cnonce="0a4f113b", qop=auth, nc=00000001, opaque="5ccc069c403ebaf9f0171e9517f40e41"',
    'Expires: 3600',
    'User-Agent: Example-Phone/2.1',
  ], '');

/** (d) An INVITE written with compact header names (RFC 3261 section 7.3.3). */
export const compact: BenchMessage = build('compact', 'INVITE in compact form (v: f: t: i: m: c: l:)',
  {
    callId: 'c0mp4ct-8e2b1f@192.0.2.55', viaHost: '192.0.2.55', viaBranch: 'z9hG4bKkjshdyff',
    cseqNumber: 986759, cseqMethod: 'INVITE', maxForwards: 70, requestHost: 'chicago.example.com',
  },
  'INVITE sip:carol@chicago.example.com SIP/2.0', [
    'v: SIP/2.0/UDP 192.0.2.55:5060;rport;branch=z9hG4bKkjshdyff',
    'Max-Forwards: 70',
    'Route: <sip:lb1.example.com;lr>',
    'f: "Dave" <sip:dave@example.net>;tag=88sja8x',
    't: <sip:carol@chicago.example.com>',
    'i: c0mp4ct-8e2b1f@192.0.2.55',
    'CSeq: 986759 INVITE',
    'm: <sip:dave@192.0.2.55:5060>',
    'k: timer, 100rel',
    'c: application/sdp',
  ], sdp('dave', '2890844530', '192.0.2.55', 6000), 'l');

export const messages: readonly BenchMessage[] = [invite, ok200, register, compact];

/** The Content-Length value a message declares (full or compact name), or -1 when absent. */
export function declaredContentLength(buf: Buffer): number {
  const head = buf.toString('latin1', 0, buf.indexOf('\r\n\r\n'));
  const m = /\r\n(?:Content-Length|l)[ \t]*:[ \t]*(\d+)/i.exec(head);
  return m === null ? -1 : Number(m[1]);
}
