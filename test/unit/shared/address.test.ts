// Addresses cross the rings as 16 raw bytes; the strings made on the other side must be the ones
// Node itself produces (rinfo.address), so net.SocketAddress (libuv's inet_ntop) is the oracle.
import { SocketAddress } from 'node:net';
import { describe, expect, it } from 'vitest';
import { formatAddress, formatIPv6, parseIPv4, parseIPv6 } from '../../../src/shared/address.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('IPv4', () => {
  it('parses dotted quads and rejects the rest', () => {
    const out = new Uint8Array(6);
    expect(parseIPv4('10.0.255.7', out, 1)).toBe(true);
    expect([...out]).toEqual([0, 10, 0, 255, 7, 0]);
    for (const bad of ['', '1.2.3', '1.2.3.4.5', '256.1.1.1', '1..2.3', '1.2.3.', 'a.b.c.d', '1.2.3.1234', '::1']) {
      expect(parseIPv4(bad, out, 0), bad).toBe(false);
    }
  });

  it('formats through the cache', () => {
    const words = new Int32Array(8);
    const bytes = new Uint8Array(words.buffer);
    bytes.set([192, 0, 2, 33], 16);
    expect(formatAddress(words, 4, 4)).toBe('192.0.2.33');
    expect(formatAddress(words, 4, 4)).toBe('192.0.2.33');
    bytes[19] = 34;
    expect(formatAddress(words, 4, 4)).toBe('192.0.2.34');
  });
});

describe('IPv6', () => {
  const cases = ['::', '::1', '1::', '2001:db8::1', '1:0:0:2::3', '::ffff:127.0.0.1', '::1.2.3.4', 'fe80::1', '1:2:3:4:5:6:7:8'];

  it.each(cases)('%s round-trips as Node prints it', (s) => {
    const out = new Uint8Array(16);
    expect(parseIPv6(s, out, 0)).toBe(true);
    expect(formatIPv6(out, 0)).toBe(new SocketAddress({ address: s, family: 'ipv6' }).address);
  });

  it('accepts long forms, upper case and zone ids', () => {
    const a = new Uint8Array(16);
    const b = new Uint8Array(16);
    parseIPv6('2001:0DB8:0000:0000:0000:0000:0000:0001', a, 0);
    parseIPv6('2001:db8::1%eth0', b, 0);
    expect(hex(a)).toBe('20010db8000000000000000000000001');
    expect(hex(b)).toBe(hex(a));
  });

  it('rejects what is not an IPv6 literal', () => {
    const out = new Uint8Array(16);
    for (const bad of ['', ':', ':1', '1:', '1::2::3', '1:2:3:4:5:6:7:8:9', '12345::', 'g::1', '1.2.3.4', '::1.2.3', 'example.com']) {
      expect(parseIPv6(bad, out, 0), bad).toBe(false);
    }
  });

  it('formats random addresses with zero runs exactly like libuv', () => {
    let seed = 7;
    const rnd = (): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 8) / (1 << 24);
    const words = new Int32Array(4);
    const bytes = new Uint8Array(words.buffer);
    for (let i = 0; i < 2000; i++) {
      const groups = Array.from({ length: 8 }, () => (rnd() < 0.5 ? 0 : Math.floor(rnd() * 0x10000)));
      if (rnd() < 0.1) groups.splice(0, 6, 0, 0, 0, 0, 0, 0xffff);
      groups.forEach((g, k) => ((bytes[2 * k] = g >> 8), (bytes[2 * k + 1] = g & 0xff)));
      const expected = new SocketAddress({ address: groups.map((g) => g.toString(16)).join(':'), family: 'ipv6' }).address;
      expect(formatAddress(words, 0, 6)).toBe(expected);
      const back = new Uint8Array(16);
      expect(parseIPv6(expected, back, 0)).toBe(true);
      expect(hex(back)).toBe(hex(bytes));
    }
  });
});
