// The lazy views decode the head once, only up to the last field a proxy reads (views.ts
// routingEnd); a read past it decodes the whole header section. Every read order must give the
// same strings, and bytes >= 0x80 must still be decoded exactly (utf8), wherever they are.
import { describe, expect, it } from 'vitest';
import { createParser, type SipMessage } from '../../src/parser/index.js';

const CRLF = '\r\n';
const head = (extra: string[]): string =>
  [
    'INVITE sip:bob@pbx.example.com SIP/2.0',
    'Via: SIP/2.0/UDP 192.0.2.33:5060;rport;branch=z9hG4bK776asdhds',
    'Route: <sip:lb1.example.com;lr>',
    'From: <sip:alice@example.com>;tag=1928301774',
    'To: <sip:bob@pbx.example.com>',
    'Call-ID: a84b4c76e66710@192.0.2.33',
    'CSeq: 314159 INVITE',
    ...extra,
    'Content-Length: 0',
  ].join(CRLF) + CRLF + CRLF;

function parse(text: string): SipMessage {
  const m = createParser().parse(Buffer.from(text, 'utf8'));
  if (!m.ok) throw new Error(`parse failed: ${m.name}`);
  return m;
}

const reads: Array<[string, (m: SipMessage) => unknown]> = [
  ['callId', (m) => m.callId],
  ['via host', (m) => m.via?.host],
  ['branch', (m) => m.via?.branch],
  ['route', (m) => m.route?.raw],
  ['request host', (m) => m.requestUri?.host],
  ['from tag', (m) => m.from.tag],
  ['to', (m) => m.to.raw],
  ['user-agent', (m) => m.header('User-Agent')],
  ['contact', (m) => m.headers('Contact')],
  ['start line', (m) => m.startLine],
];

describe('head decoding', () => {
  const text = head(['Contact: <sip:alice@192.0.2.33>', 'User-Agent: Example/1.0 (after the routing fields)']);
  const want = Object.fromEntries(reads.map(([name, read]) => [name, read(parse(text))]));

  it('reads the same values whatever is read first', () => {
    expect(want['user-agent']).toBe('Example/1.0 (after the routing fields)');
    expect(want['callId']).toBe('a84b4c76e66710@192.0.2.33');
    for (const [first, readFirst] of reads) {
      const m = parse(text);
      const got: Record<string, unknown> = { [first]: readFirst(m) };
      for (const [name, read] of reads) got[name] ??= read(m);
      expect(got).toEqual(want);
    }
  });

  it('stays exact for bytes >= 0x80 before and after the routing fields', () => {
    const m = parse(head(['User-Agent: Téléphone/1.0']).replace('Call-ID: a84b', 'Call-ID: ä84b'));
    expect(m.header('User-Agent')).toBe('Téléphone/1.0');
    expect(m.callId).toBe('ä84b4c76e66710@192.0.2.33');
    const n = parse(head(['User-Agent: Téléphone/1.0']));
    expect(n.callId).toBe('a84b4c76e66710@192.0.2.33');
    expect(n.header('User-Agent')).toBe('Téléphone/1.0');
  });
});
