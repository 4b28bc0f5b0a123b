// Address lists of SIPLB_TRUSTED and SIPLB_ALLOW: parsing and membership, IPv4, IPv6 and
// IPv4-mapped IPv6 sources, boundaries of each prefix.
import { describe, expect, it } from 'vitest';
import { cidrMatcher, ipv6Words, parseCidrList } from '../../../src/shared/cidr.js';

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
