// Messages for the src/sip tests, written as lines and joined with CRLF so the bytes are exact.
import { createParser, type SipMessage, type SipParser } from '../../../src/parser/index.js';

/** Header lines (and an optional body) joined into a datagram with CRLF line endings. */
export function sip(lines: string[], body: string | Uint8Array = ''): Buffer {
  const head = Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
  return Buffer.concat([head, typeof body === 'string' ? Buffer.from(body, 'latin1') : body]);
}

/** Parses `bytes` with `parser` and fails the test when the parser rejects them. */
export function parseOk(parser: SipParser, bytes: Uint8Array): SipMessage {
  const m = parser.parse(bytes);
  if (!m.ok) throw new Error(`parse failed: ${m.name} at ${m.offset}: ${Buffer.from(bytes).toString('latin1')}`);
  return m;
}

/** Two parsers: one for the input, one to check the output without making the input's view stale. */
export function parsers(): { input: SipParser; output: SipParser } {
  return { input: createParser(), output: createParser() };
}

export const SDP = ['v=0', 'o=alice 2890844526 2890844526 IN IP4 192.0.2.10', 's=-', 'c=IN IP4 192.0.2.10', 't=0 0', 'm=audio 49170 RTP/AVP 0', ''].join(
  '\r\n',
);

/** An INVITE as a UAC sends it, with a Route to us and an SDP body. */
export function invite(extra: string[] = [], opts: { route?: string[]; via?: string[]; body?: string | Uint8Array; contentLength?: boolean } = {}): Buffer {
  const body = opts.body ?? SDP;
  const len = typeof body === 'string' ? Buffer.byteLength(body, 'latin1') : body.length;
  return sip(
    [
      'INVITE sip:bob@biloxi.example.com SIP/2.0',
      ...(opts.via ?? ['Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bK776asdhds;rport']),
      'Max-Forwards: 70',
      ...(opts.route ?? []),
      'To: Bob <sip:bob@biloxi.example.com>',
      'From: Alice <sip:alice@atlanta.example.com>;tag=1928301774',
      'Call-ID: a84b4c76e66710@pc33.atlanta.example.com',
      'CSeq: 314159 INVITE',
      'Contact: <sip:alice@192.0.2.10:5062>',
      'Content-Type: application/sdp',
      ...extra,
      ...(opts.contentLength === false ? [] : [`Content-Length: ${len}`]),
    ],
    body,
  );
}
