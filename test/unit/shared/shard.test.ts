// shardOf / callIdSpan (src/transport/shard.ts). Kept with the shared-ring unit tests because this
// suite's owner holds test/unit/shared; it has no I/O and could move to test/unit/transport as is.
import { describe, expect, it } from 'vitest';
import { callIdSpan, fnv1a, shardOf } from '../../../src/transport/shard.js';

const msg = (...lines: string[]): Buffer => Buffer.from(lines.join('\r\n'), 'latin1');
const valueOf = (buf: Buffer): string | null => {
  const span = callIdSpan(buf);
  return span === null ? null : buf.toString('latin1', span[0], span[0] + span[1]);
};

const CALL = 'a84b4c76e66710@pc33.atlanta.example.com';

function call(callId: string, header = 'Call-ID'): Buffer[] {
  const via = 'Via: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bKnashds8';
  return [
    msg('INVITE sip:bob@biloxi.example.com SIP/2.0', via, 'Max-Forwards: 70', `${header}: ${callId}`, 'CSeq: 1 INVITE', 'Content-Length: 0', '', ''),
    msg('SIP/2.0 100 Trying', via, `${header}: ${callId}`, 'CSeq: 1 INVITE', '', ''),
    msg('SIP/2.0 200 OK', via, 'To: <sip:bob@biloxi.example.com>;tag=a6c85cf', `${header}: ${callId}`, 'CSeq: 1 INVITE', '', ''),
    msg('ACK sip:bob@192.0.2.4 SIP/2.0', via, `${header}: ${callId}`, 'CSeq: 1 ACK', '', ''),
    msg('BYE sip:bob@192.0.2.4 SIP/2.0', via, `${header}: ${callId}`, 'CSeq: 2 BYE', '', ''),
    msg('SIP/2.0 200 OK', via, `${header}: ${callId}`, 'CSeq: 2 BYE', '', ''),
  ];
}

describe('callIdSpan', () => {
  it.each([
    ['long form', msg('INVITE sip:b@x SIP/2.0', `Call-ID: ${CALL}`, '', '')],
    ['compact form', msg('INVITE sip:b@x SIP/2.0', `i: ${CALL}`, '', '')],
    ['compact, upper case', msg('INVITE sip:b@x SIP/2.0', `I:${CALL}`, '', '')],
    ['odd case', msg('INVITE sip:b@x SIP/2.0', `cALL-iD: ${CALL}`, '', '')],
    ['blanks around the colon', msg('INVITE sip:b@x SIP/2.0', `Call-ID \t:\t ${CALL}  `, '', '')],
    ['folding before the value', msg('INVITE sip:b@x SIP/2.0', 'Call-ID:', `   ${CALL}`, '', '')],
    ['bare LF line ends', Buffer.from(`INVITE sip:b@x SIP/2.0\nTo: <sip:b@x>\ni:\n\t${CALL}\n\n`)],
    ['after look-alike headers', msg('INVITE sip:b@x SIP/2.0', 'In-Reply-To: 1@x', 'Call-Info: <http://x/>', 'Identity: abc', `Call-ID: ${CALL}`, '', '')],
    ['last header, no blank line', msg('SIP/2.0 200 OK', `Call-ID: ${CALL}`)],
  ])('finds the value: %s', (_name, buf) => {
    expect(valueOf(buf)).toBe(CALL);
  });

  it.each([
    ['missing header', msg('OPTIONS sip:b@x SIP/2.0', 'CSeq: 1 OPTIONS', '', '')],
    ['only in the body', msg('MESSAGE sip:b@x SIP/2.0', 'Content-Length: 12', '', `i: ${CALL}`)],
    ['empty value', msg('INVITE sip:b@x SIP/2.0', 'Call-ID:   ', '', '')],
    ['name not at line start', msg('INVITE sip:b@x SIP/2.0', `X-Old-Call-ID: ${CALL}`, '', '')],
    ['on the start line', Buffer.from(`Call-ID: ${CALL}\r\n\r\n`)],
    ['empty datagram', Buffer.alloc(0)],
    ['keepalive CRLF', Buffer.from('\r\n\r\n')],
  ])('returns null: %s', (_name, buf) => {
    expect(callIdSpan(buf)).toBeNull();
  });

  it('takes the first of two Call-ID headers', () => {
    expect(valueOf(msg('INVITE sip:b@x SIP/2.0', 'i: first@x', 'Call-ID: second@x', '', ''))).toBe('first@x');
  });
});

describe('shardOf', () => {
  it('puts every message of a call on one shard, long or compact form', () => {
    for (let k = 0; k < 200; k++) {
      const id = `${k}-${(k * 2654435761) >>> 0}@host${k % 7}.example.com`;
      const shards = [...call(id), ...call(id, 'i'), ...call(id, 'CALL-ID')].map((b) => shardOf(b, 5));
      expect(new Set(shards).size).toBe(1);
    }
  });

  it('spreads calls over the shards', () => {
    const counts = [0, 0, 0, 0];
    for (let k = 0; k < 4000; k++) counts[shardOf(msg('INVITE sip:b@x SIP/2.0', `Call-ID: ${k}@10.0.0.1`, '', ''), 4)]!++;
    for (const c of counts) expect(c).toBeGreaterThan(800);
  });

  it('sends datagrams without a Call-ID, and everything when n <= 1, to shard 0', () => {
    expect(shardOf(msg('OPTIONS sip:b@x SIP/2.0', '', ''), 8)).toBe(0);
    expect(shardOf(call(CALL)[0]!, 1)).toBe(0);
    expect(shardOf(call(CALL)[0]!, 0)).toBe(0);
  });

  it('hashes the value bytes with FNV-1a (case-sensitive, as RFC 3261 compares Call-IDs)', () => {
    expect(fnv1a(Buffer.from('a'), 0, 1)).toBe(0xe40c292c);
    expect(fnv1a(Buffer.from('foobar'), 0, 6)).toBe(0xbf9cf968);
    const buf = call(CALL)[0]!;
    const [off, len] = callIdSpan(buf) ?? [0, 0];
    expect(shardOf(buf, 1000)).toBe(fnv1a(buf, off, off + len) % 1000);
  });

  it('works on a plain Uint8Array view, not only on Buffers', () => {
    const buf = call(CALL)[2]!;
    const view = new Uint8Array(new SharedArrayBuffer(buf.length + 8), 8, buf.length);
    view.set(buf);
    expect(shardOf(view, 7)).toBe(shardOf(buf, 7));
  });
});
