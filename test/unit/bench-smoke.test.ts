// Keeps the parser micro-benchmark harness honest: the messages are what they claim to be, and each
// peer adapter still reads the right fields from every message it is timed on. Runs in well under a
// second; the benchmark itself is `npm run bench:parser`.
import { describe, expect, it } from 'vitest';
import { declaredContentLength, invite, messages, ok200 } from '../../bench/micro/messages.js';
import { checkRead, jssipPeer, peers, sipPeer } from '../../bench/micro/peers.js';
import { siplbPeer } from '../../bench/micro/siplb-peer.js';

describe('bench messages', () => {
  it.each(messages.map((m) => [m.name, m] as const))('%s declares its exact body length', (_name, m) => {
    const end = m.buf.indexOf('\r\n\r\n');
    expect(end).toBeGreaterThan(0);
    expect(m.bodyOffset).toBe(end + 4);
    expect(declaredContentLength(m.buf)).toBe(m.buf.length - m.bodyOffset);
  });

  it.each(messages.map((m) => [m.name, m] as const))('%s uses CRLF line ends only', (_name, m) => {
    const text = m.buf.toString('latin1');
    expect(text.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
    expect(text).toContain(m.expect.callId);
  });

  it('cover what the benchmark promises', () => {
    const byName = new Map(messages.map((m) => [m.name, m.buf.toString('latin1')]));
    const inv = byName.get('invite') ?? '';
    expect(inv).toMatch(/^INVITE /);
    expect(inv).toMatch(/\r\nRoute: <[^>]*;lr>\r\n/);
    expect(inv).toMatch(/\r\nContent-Type: application\/sdp\r\n/);
    const ok = byName.get('ok200') ?? '';
    expect(ok.match(/\r\nVia: /g)).toHaveLength(2);
    expect(ok.match(/SIP\/2\.0\/UDP /g)).toHaveLength(3);
    expect(byName.get('register')).toMatch(/\r\nAuthorization: Digest /);
    for (const h of ['v', 'f', 't', 'i', 'm', 'l', 'c']) expect(byName.get('compact')).toContain(`\r\n${h}: `);
  });
});

describe('bench peer adapters', () => {
  const cases = [siplbPeer, ...peers].flatMap((p) => messages.map((m) => [p.name, m.name, p, m] as const));

  it.each(cases)('%s on %s: parse returns a message', (_p, _m, peer, msg) => {
    expect(peer.parse(msg.buf)).toBeTypeOf('object');
  });

  // A peer that misreads a message is reported n/a by the benchmark; this list pins which ones,
  // so a peer upgrade that fixes (or breaks) something shows up here instead of in the numbers.
  const knownFailures = new Map([
    // JsSIP hands the whole first Via line ("v1, v2") to its grammar, which keeps the last via-parm.
    [`${jssipPeer.name}/ok200`, /top Via host read as "edge\.example\.com"/],
  ]);

  it.each(cases)('%s on %s: read gets the expected fields', (_p, _m, peer, msg) => {
    const failure = checkRead(peer.read, msg);
    const known = knownFailures.get(`${peer.name}/${msg.name}`);
    if (known === undefined) {
      expect(failure).toBeUndefined();
      expect(peer.read(msg.buf)?.callId).toBe(msg.expect.callId);
    } else {
      expect(failure).toMatch(known);
    }
  });

  it('read the top Route where there is one, and none in a response', () => {
    expect(siplbPeer.read(invite.buf)?.route).toBe('sip:lb1.example.com:5060;transport=udp;lr');
    expect(sipPeer.read(invite.buf)?.route).toMatchObject({ host: 'lb1.example.com' });
    expect(jssipPeer.read(invite.buf)?.route).toMatchObject({ host: 'lb1.example.com' });
    expect(siplbPeer.read(ok200.buf)?.route).toBeUndefined();
    expect(sipPeer.read(ok200.buf)?.route).toBeUndefined();
  });
});
