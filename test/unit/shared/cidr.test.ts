// Address lists of SIPLB_TRUSTED and SIPLB_ALLOW: parsing and membership, IPv4, IPv6 and
// IPv4-mapped IPv6 sources, boundaries of each prefix.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cidrMatcher, ipv4Word, ipv6Words, parseCidrList, type CidrList } from '../../../src/shared/cidr.js';

function matcher(text: string): (a: string) => boolean {
  const list = parseCidrList(text);
  if ('error' in list) throw new Error(list.error);
  return cidrMatcher(list);
}

describe('cidr lists', () => {
  it.each([
    ['10.0.0.0/8', '10.255.255.255', true],
    ['10.0.0.0/8', '11.0.0.0', false],
    ['192.0.2.7', '192.0.2.7', true],
    ['192.0.2.7', '192.0.2.8', false],
    ['192.0.2.0/31', '192.0.2.1', true],
    ['192.0.2.0/31', '192.0.2.2', false],
    ['0.0.0.0/0', '203.0.113.9', true],
    ['0.0.0.0/0', '::1', false],
    ['127.0.0.0/8', '::ffff:127.0.0.5', true],
    ['::1', '::1', true],
    ['::1', '0:0:0:0:0:0:0:1', true],
    ['[::1]', '::2', false],
    ['2001:db8::/32', '2001:db8:ffff::1', true],
    ['2001:db8::/32', '2001:db9::1', false],
    ['2001:db8::/33', '2001:db8:8000::', false],
    ['2001:db8::/33', '2001:db8:7fff::', true],
    ['fe80::/10', 'febf::1', true],
    ['fe80::/10', 'fec0::1', false],
    ['::/0', '2001:db8::1', true],
    ['10.0.0.0/8, 2001:db8::/32', '2001:db8::5', true],
    ['', '10.0.0.1', false],
  ])('%s contains %s: %s', (list, address, expected) => {
    expect(matcher(list)(address)).toBe(expected);
  });

  it('matches nothing for a name or garbage', () => {
    expect(matcher('0.0.0.0/0,::/0')('example.com')).toBe(false);
    expect(matcher('0.0.0.0/0,::/0')('')).toBe(false);
  });

  it('reads IPv6 with an embedded IPv4 tail', () => {
    expect(ipv6Words('::ffff:192.0.2.1')).toEqual([0, 0, 0xffff, 0xc0000201]);
    expect(ipv6Words('1:2:3:4:5:6:7:8')).toEqual([0x10002, 0x30004, 0x50006, 0x70008]);
  });

  it.each(['10.0.0.1/', '10.0.0.1/x', '1.2.3.4.5', '::g', '10.0.0.0/8,,'])('refuses %j', (text) => {
    expect(parseCidrList(text)).toHaveProperty('error');
  });
});

describe('the matcher against a plain reference (its IPv4 path runs per datagram under a spoofed flood)', () => {
  it('ipv4Word takes dotted quads only', () => {
    expect(ipv4Word('0.0.0.0')).toBe(0);
    expect(ipv4Word('255.255.255.255')).toBe(0xffffffff);
    expect(ipv4Word('192.0.2.1')).toBe(0xc0000201);
    for (const bad of ['', '1.2.3', '1.2.3.4.5', '1.2.3.256', '1..2.3', '.1.2.3', '1.2.3.', '::1', '::ffff:1.2.3.4', '1.2.3.4 ', 'a.b.c.d']) expect(ipv4Word(bad), bad).toBeUndefined();
  });

  /** Membership as the definition says it, with BigInt: the top `prefix` bits are equal. */
  function reference(list: CidrList, address: string): boolean {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
    const a4 = /^\d+\.\d+\.\d+\.\d+$/.test(mapped ?? address) ? (mapped ?? address).split('.').map(Number) : undefined;
    if (a4 !== undefined && a4.some((o) => o > 255)) return false;
    const a6 = a4 === undefined ? ipv6Words(address) : undefined;
    if (a4 === undefined && a6 === undefined) return false;
    const big = (ws: readonly number[]): bigint => ws.reduce((n, w) => (n << 32n) | BigInt(w >>> 0), 0n);
    return list.blocks.some((b) => {
      if (b.v6 !== (a6 !== undefined)) return false;
      const bits = b.v6 ? 128 : 32;
      const value = a6 !== undefined ? big(a6) : BigInt(a4!.reduce((n, o) => n * 256 + o, 0));
      const net = b.v6 ? big(b.words) : BigInt(b.words[3]);
      const shift = BigInt(bits - b.prefix);
      return value >> shift === net >> shift;
    });
  }

  it('answers as the reference does, for any address and list', () => {
    const list = parseCidrList('127.0.0.0/8,10.0.0.0/9,192.0.2.7,0.0.0.0/32,198.51.100.0/31,::1,2001:db8::/32,::ffff:203.0.113.0/120') as CidrList;
    const match = cidrMatcher(list);
    const v4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((o) => o.join('.'));
    const near = fc.constantFrom('127.0.0.1', '10.127.255.255', '10.128.0.0', '192.0.2.7', '192.0.2.8', '198.51.100.1', '198.51.100.2', '0.0.0.0', '::ffff:127.0.0.9');
    fc.assert(fc.property(fc.oneof(v4, near, fc.ipV6(), fc.string()), (a) => match(a) === reference(list, a)), { numRuns: 5000 });
    expect(cidrMatcher(parseCidrList('0.0.0.0/0') as CidrList)('203.0.113.1')).toBe(true);
  });
});
