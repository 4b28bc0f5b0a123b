// Datagrams for fuzzing a running proxy at its socket (fast-check arbitraries): raw random bytes,
// seeds mutated byte- and line-wise (the RFC 4475 corpus, plus messages aimed at siplb's own routing:
// its Route on top with a foreign one next, in-dialog requests with tokens, responses with its Via on
// top and a foreign one next), and SIP built from hostile pieces. The foreign hosts in them must
// never see a packet; the caller asserts that on the wire.
import fc from 'fast-check';
import { loadCorpus } from './corpus.js';
import type { HostPort } from './ns-sip.js';

export interface FuzzTarget {
  proxy: HostPort;
  /** Addresses that must never receive anything (victims named in the messages). */
  foreign: HostPort[];
}

const crlf = (lines: string[]): Buffer => Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');

/** Seeds aimed at siplb's routing decisions. */
function routingSeeds(t: FuzzTarget): Buffer[] {
  const us = `${t.proxy.host}:${t.proxy.port}`;
  const [v1, v2] = [t.foreign[0] ?? t.proxy, t.foreign[1] ?? t.foreign[0] ?? t.proxy];
  const them = `${v1.host}:${v1.port}`;
  const base = (method: string, ruri: string, extra: string[]): Buffer =>
    crlf([`${method} ${ruri} SIP/2.0`, 'Via: SIP/2.0/UDP 10.0.3.66:5064;branch=z9hG4bK-fz1;rport', 'Max-Forwards: 70', ...extra, 'From: <sip:a@10.0.3.66>;tag=fa', 'Call-ID: fuzz-seed@x', `CSeq: 1 ${method}`, 'Content-Length: 0']);
  return [
    base('MESSAGE', `sip:service@${us}`, [`Route: <sip:${us};lr>, <sip:${them};lr>`, `To: <sip:service@${us}>`]),
    base('INVITE', `sip:service@${us}`, [`Route: <sip:${them};lr>`, `Route: <sip:${us};lr>`, `To: <sip:service@${us}>`, `Contact: <sip:a@${them}>`]),
    base('BYE', `sip:x@${them}`, [`Route: <sip:${us};lr;slb=AQ4xMC4wLjEuMTA6NTA3MAAAAAAAAAAAAAAA>`, `To: <sip:x@${them}>;tag=tt`]),
    base('ACK', `sip:x@${them}`, [`Route: <sip:${us};lr;slb=garbled>`, `To: <sip:x@${them}>;tag=tt`]),
    base('INVITE', `sip:x@${them}`, [`To: <sip:x@${them}>;tag=tt`]),
    base('OPTIONS', `sip:${us}`, [`To: <sip:${us}>`]),
    base('REGISTER', `sip:${us}`, [`To: <sip:105@${us}>`, `Contact: <sip:105@${them}>`]),
    base('CANCEL', `sip:service@${us}`, [`To: <sip:service@${us}>`]),
    crlf([
      'SIP/2.0 200 OK',
      `Via: SIP/2.0/UDP ${us};branch=z9hG4bKsfforged`,
      `Via: SIP/2.0/UDP ${v2.host}:${v2.port};branch=z9hG4bK-v;received=${v2.host};rport=${v2.port}`,
      'From: <sip:a@10.0.3.66>;tag=fa',
      'To: <sip:b@x>;tag=fb',
      'Call-ID: fuzz-resp@x',
      'CSeq: 1 INVITE',
      `Contact: <sip:b@${them}>`,
      `Record-Route: <sip:${them};lr>`,
      'Content-Length: 0',
    ]),
  ];
}

/** Byte strings that tend to matter to a SIP parser or router, inserted by the mutator. */
function dictionary(t: FuzzTarget): string[] {
  const us = `${t.proxy.host}:${t.proxy.port}`;
  const them = t.foreign.map((f) => `${f.host}:${f.port}`);
  return [
    '\r\n', '\r\n\r\n', '\n', '\r', ' ', '\t', ';', ',', '<', '>', '"', '\\', ':', '@', '=', '%00', '\0', '\xff', 'SIP/2.0', 'sips:', 'tel:+1', '[::1]', '[', ']',
    `Route: <sip:${us};lr>\r\n`, ...them.map((h) => `Route: <sip:${h};lr>\r\n`), ...them.map((h) => `Via: SIP/2.0/UDP ${h};branch=z9hG4bK-x;rport\r\n`),
    `Via: SIP/2.0/UDP ${us};branch=z9hG4bKsl0\r\n`, ';lr', ';slb=AAAA', ';tag=fz', `;received=${t.foreign[0]?.host ?? '0.0.0.0'}`, ';rport', ';rport=1', ';maddr=255.255.255.255',
    'Content-Length: 4294967295\r\n', 'Content-Length: -1\r\n', 'Max-Forwards: 0\r\n', 'Max-Forwards: 256\r\n', 'Proxy-Require: x\r\n', 'CSeq: 4294967296 ACK\r\n',
    'Call-ID: \r\n', 'To: <sip:a@b>;tag=\r\n', 'l: 10\r\n', 'v: SIP/2.0/UDP a\r\n', 'i: x\r\n', 'User-Agent: friendly-scanner\r\n',
  ];
}

type Mutation =
  | { k: 'flip'; at: number; bit: number }
  | { k: 'set'; at: number; byte: number }
  | { k: 'insert'; at: number; bytes: Uint8Array }
  | { k: 'word'; at: number; word: string }
  | { k: 'delete'; at: number; len: number }
  | { k: 'truncate'; at: number }
  | { k: 'dupLine'; line: number }
  | { k: 'swapLines'; a: number; b: number };

function mutation(words: string[]): fc.Arbitrary<Mutation> {
  const at = fc.nat({ max: 70_000 });
  return fc.oneof(
    fc.record({ k: fc.constant('flip' as const), at, bit: fc.integer({ min: 0, max: 7 }) }),
    fc.record({ k: fc.constant('set' as const), at, byte: fc.integer({ min: 0, max: 255 }) }),
    fc.record({ k: fc.constant('insert' as const), at, bytes: fc.uint8Array({ maxLength: 16 }) }),
    fc.record({ k: fc.constant('word' as const), at, word: fc.constantFrom(...words) }),
    fc.record({ k: fc.constant('delete' as const), at, len: fc.integer({ min: 1, max: 64 }) }),
    fc.record({ k: fc.constant('truncate' as const), at }),
    fc.record({ k: fc.constant('dupLine' as const), line: fc.nat({ max: 40 }) }),
    fc.record({ k: fc.constant('swapLines' as const), a: fc.nat({ max: 40 }), b: fc.nat({ max: 40 }) }),
  );
}

function apply(seed: Buffer, ms: Mutation[]): Buffer {
  let b = Buffer.from(seed);
  for (const m of ms) {
    const at = b.length === 0 ? 0 : (m as { at?: number }).at !== undefined ? (m as { at: number }).at % (b.length + 1) : 0;
    switch (m.k) {
      case 'flip':
        if (at < b.length) b[at] = b[at]! ^ (1 << m.bit);
        break;
      case 'set':
        if (at < b.length) b[at] = m.byte;
        break;
      case 'insert':
        b = Buffer.concat([b.subarray(0, at), m.bytes, b.subarray(at)]);
        break;
      case 'word':
        b = Buffer.concat([b.subarray(0, at), Buffer.from(m.word, 'latin1'), b.subarray(at)]);
        break;
      case 'delete':
        b = Buffer.concat([b.subarray(0, at), b.subarray(at + m.len)]);
        break;
      case 'truncate':
        b = b.subarray(0, at);
        break;
      case 'dupLine':
      case 'swapLines': {
        const lines = b.toString('latin1').split('\r\n');
        if (lines.length < 2) break;
        if (m.k === 'dupLine') {
          const i = m.line % lines.length;
          lines.splice(i, 0, lines[i]!);
        } else {
          const [i, j] = [m.a % lines.length, m.b % lines.length];
          [lines[i], lines[j]] = [lines[j]!, lines[i]!];
        }
        b = Buffer.from(lines.join('\r\n'), 'latin1');
        break;
      }
    }
  }
  return b.subarray(0, 65_000);
}

/** SIP assembled from hostile pieces: any method, URI, Via list, tags, Routes; requests and responses. */
function assembled(t: FuzzTarget): fc.Arbitrary<Buffer> {
  const us = `${t.proxy.host}:${t.proxy.port}`;
  const hosts = [us, t.proxy.host, ...t.foreign.map((f) => `${f.host}:${f.port}`), 'example.com', '[::1]:5060', '255.255.255.255', '0.0.0.0:0', ''];
  const host = fc.constantFrom(...hosts);
  const token = fc.stringMatching(/^[A-Za-z0-9._~!*-]{0,24}$/);
  const uri = fc.tuple(fc.constantFrom('sip:', 'sips:', 'tel:', 'http:', ''), fc.option(token), host, fc.array(fc.constantFrom(';lr', ';slb=AAAA', ';transport=udp', ';maddr=0.0.0.0', ';user=phone'), { maxLength: 3 }))
    .map(([s, u, h, p]) => `${s}${u ? `${u}@` : ''}${h}${p.join('')}`);
  const via = fc.tuple(host, fc.option(token), fc.constantFrom('', ';rport', ';rport=0', `;received=${t.foreign[0]?.host ?? '1.2.3.4'}`)).map(([h, b, x]) => `Via: SIP/2.0/UDP ${h}${b !== null ? `;branch=z9hG4bK${b}` : ''}${x}`);
  const common = fc.record({
    vias: fc.array(via, { minLength: 0, maxLength: 4 }),
    routes: fc.array(uri.map((u) => `Route: <${u}>`), { maxLength: 3 }),
    fromTag: fc.option(token),
    toTag: fc.option(token),
    callId: fc.option(token),
    cseq: fc.tuple(fc.constantFrom('1', '0', '4294967295', '99999999999', 'x'), fc.constantFrom('INVITE', 'ACK', 'BYE', 'CANCEL', 'OPTIONS', 'REGISTER', 'X')),
    mf: fc.option(fc.constantFrom('0', '1', '70', '255', '-1', 'x')),
    cl: fc.option(fc.constantFrom('0', '5', '999999', 'x')),
    body: fc.string({ maxLength: 64 }),
  });
  const head = fc.oneof(
    fc.tuple(fc.constantFrom('INVITE', 'ACK', 'BYE', 'CANCEL', 'OPTIONS', 'REGISTER', 'MESSAGE', 'SUBSCRIBE', 'NOTIFY', 'REFER', 'INFO', 'PRACK', 'UPDATE', 'FOO', 'invite', ''), uri).map(([m, u]) => `${m} ${u} SIP/2.0`),
    fc.tuple(fc.integer({ min: 0, max: 999 }), token).map(([s, r]) => `SIP/2.0 ${s} ${r}`),
  );
  return fc.tuple(head, common).map(([h, c]) =>
    Buffer.from(
      [
        h,
        ...c.vias,
        ...c.routes,
        ...(c.mf !== null ? [`Max-Forwards: ${c.mf}`] : []),
        `From: <sip:a@10.0.3.66>${c.fromTag !== null ? `;tag=${c.fromTag}` : ''}`,
        `To: <sip:b@${us}>${c.toTag !== null ? `;tag=${c.toTag}` : ''}`,
        ...(c.callId !== null ? [`Call-ID: ${c.callId}`] : []),
        `CSeq: ${c.cseq[0]} ${c.cseq[1]}`,
        ...(c.cl !== null ? [`Content-Length: ${c.cl}`] : []),
        '',
        c.body,
      ].join('\r\n'),
      'latin1',
    ),
  );
}

/** Every kind of datagram, weighted towards mutated seeds (they get past the first parse checks). */
export function datagrams(t: FuzzTarget): fc.Arbitrary<Buffer> {
  const seeds = [...loadCorpus().map((c) => c.bytes), ...routingSeeds(t)];
  const mutated = fc.tuple(fc.constantFrom(...seeds), fc.array(mutation(dictionary(t)), { minLength: 1, maxLength: 8 })).map(([s, m]) => apply(s, m));
  return fc.oneof(
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 1500 }).map((u) => Buffer.from(u)) },
    { weight: 1, arbitrary: fc.constantFrom(...seeds) },
    { weight: 5, arbitrary: mutated },
    { weight: 3, arbitrary: assembled(t) },
  );
}
