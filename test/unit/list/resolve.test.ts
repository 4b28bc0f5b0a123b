// The lookup rules and the SRV mapping of src/list/resolve.ts as pure functions; the lookups
// themselves run against a real DNS server in test/e2e/dns-destinations.test.ts.
import { describe, expect, it } from 'vitest';
import { srvQuery, srvRecords } from '../../../src/list/resolve.js';
import { uriHasPort } from '../../../src/dispatch/dest-uri.js';
import { recordIds } from '../../../src/dispatch/sets.js';
import { record } from '../dispatch/fixtures.js';

describe('uriHasPort', () => {
  it.each([
    ['sip:media.test', false],
    ['sip:media.test:5070', true],
    ['sip:user@media.test;transport=tcp', false],
    ['sips:user:pw@media.test:5061;x=1', true],
    ['sip:[2001:db8::1]', false],
    ['sip:[2001:db8::1]:5070', true],
  ])('%s: %s', (uri, has) => expect(uriHasPort(uri)).toBe(has));
});

describe('srvQuery (RFC 3263 §4.2 without NAPTR)', () => {
  const q = (uri: string, flags = 0): ReturnType<typeof srvQuery> => srvQuery(record(1, { uri, flags }));
  it('looks up SRV first for a name without a port, by transport', () => {
    expect(q('sip:media.test')).toEqual({ name: '_sip._udp.media.test', only: false });
    expect(q('sip:media.test;transport=tcp')).toEqual({ name: '_sip._tcp.media.test', only: false });
    expect(q('sips:media.test')).toEqual({ name: '_sips._tcp.media.test', only: false });
  });
  it('uses A/AAAA only for a name with a port', () => expect(q('sip:media.test:5070')).toBeUndefined());
  it('takes an SRV name as written, SRV only', () => expect(q('sip:_sip._udp.pool.test')).toEqual({ name: '_sip._udp.pool.test', only: true }));
  it('never looks up A/AAAA of a name with flag 16, port or not', () => {
    expect(q('sip:pool.test', 16)).toEqual({ name: '_sip._udp.pool.test', only: true });
    expect(q('sip:pool.test:5070', 16 | 8)).toEqual({ name: '_sip._udp.pool.test', only: true });
  });
});

describe('srvRecords', () => {
  const set = [
    { name: 'c.test', port: 5063, priority: 20, weight: 0 },
    { name: 'a.test', port: 5061, priority: 10, weight: 60 },
    { name: 'b.test', port: 5062, priority: 10, weight: 20 },
  ];
  const addresses: Record<string, string> = { 'a.test': '10.0.0.1', 'b.test': '10.0.0.2' };

  it('makes one destination per target, best SRV priority at the line priority, each level one less', () => {
    const out = srvRecords(record(1, { uri: 'sip:pool.test', priority: 5, flags: 8 }, 3), set, (n) => addresses[n]);
    expect(out.map((r) => [r.target, r.address, r.port, r.priority])).toEqual([
      ['a.test:5061', '10.0.0.1', 5061, 5],
      ['b.test:5062', '10.0.0.2', 5062, 5],
      ['c.test:5063', '0.0.0.0', 5063, 4],
    ]);
    // a target without an address is kept inactive; the line's other flags apply to every target
    expect(out.map((r) => r.flags)).toEqual([8, 8, 9]);
    expect(recordIds(out)).toEqual(['1:sip:pool.test@a.test:5061', '1:sip:pool.test@b.test:5062', '1:sip:pool.test@c.test:5063']);
    expect(out.every((r) => r.line === 3 && r.uri === 'sip:pool.test')).toBe(true);
  });

  it('maps SRV weights to weight (percent of the set) and rweight (relative to the heaviest), 0 counting as 1', () => {
    const out = srvRecords(record(1, { uri: 'sip:pool.test' }), set, (n) => addresses[n]);
    expect(out.map((r) => [r.attrs.weight, r.attrs.rweight])).toEqual([
      [75, 100],
      [25, 33],
      [1, 1],
    ]);
  });

  it("keeps the line's own weight and rweight", () => {
    const out = srvRecords(record(1, { uri: 'sip:pool.test', attrs: 'weight=10;rweight=7' }), set, (n) => addresses[n]);
    expect(out.map((r) => [r.attrs.weight, r.attrs.rweight])).toEqual([
      [10, 7],
      [10, 7],
      [10, 7],
    ]);
  });
});
