// The Record-Route failover token: round trip, and null for anything we did not sign.
import { describe, expect, it } from 'vitest';
import { type TokenDestinations, signToken, verifyToken } from '../../../src/sip/token.js';

const SECRET = 'correct horse battery staple';
const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

describe('signToken / verifyToken', () => {
  it.each<[TokenDestinations]>([
    [{ primary: 'sip:10.0.0.5:5060', secondary: 'sip:10.0.0.6:5060' }],
    [{ primary: '3' }],
    [{ primary: 'ds-1', secondary: '' }],
    [{ primary: 'médiaserveur-1', secondary: 'x'.repeat(255) }],
  ])('round-trips %o', (dest) => {
    const token = signToken(SECRET, dest);
    expect(token).toMatch(/^[A-Za-z0-9_-]+$/); // unreserved: a uri-parameter value as is (RFC 3261 25.1)
    const back = verifyToken(SECRET, token);
    expect(back).toEqual(dest.secondary ? dest : { primary: dest.primary });
  });

  it('is compact: two address ids fit in under 70 characters', () => {
    expect(signToken(SECRET, { primary: 'sip:10.0.0.5:5060', secondary: 'sip:10.0.0.6:5060' }).length).toBeLessThan(70);
  });

  it('rejects every one-character change and every one-bit flip of the bytes', () => {
    const token = signToken(SECRET, { primary: 'sip:10.0.0.5:5060', secondary: 'sip:10.0.0.6:5060' });
    for (let i = 0; i < token.length; i++) {
      for (const c of B64URL) {
        if (c === token[i]) continue;
        expect(verifyToken(SECRET, token.slice(0, i) + c + token.slice(i + 1)), `${i}:${c}`).toBeNull();
      }
    }
    const bytes = Buffer.from(token, 'base64url');
    for (let i = 0; i < bytes.length; i++) {
      for (let bit = 0; bit < 8; bit++) {
        const t = Buffer.from(bytes);
        t[i]! ^= 1 << bit;
        expect(verifyToken(SECRET, t.toString('base64url')), `${i}.${bit}`).toBeNull();
      }
    }
  });

  it('rejects a wrong secret, truncation, extension and junk', () => {
    const token = signToken(SECRET, { primary: 'a', secondary: 'b' });
    expect(verifyToken(SECRET, token)).not.toBeNull();
    expect(verifyToken('another secret', token)).toBeNull();
    expect(verifyToken(SECRET, token.slice(0, -1))).toBeNull();
    expect(verifyToken(SECRET, `${token}A`)).toBeNull();
    expect(verifyToken(SECRET, `${token}=`)).toBeNull();
    expect(verifyToken(SECRET, ` ${token}`)).toBeNull();
    for (const junk of ['', '!', 'AAAA', 'A'.repeat(10_000), signToken('another secret', { primary: 'a', secondary: 'b' })]) {
      expect(verifyToken(SECRET, junk)).toBeNull();
    }
  });

  it('refuses destinations it cannot encode', () => {
    expect(() => signToken(SECRET, { primary: '' })).toThrow(RangeError);
    expect(() => signToken(SECRET, { primary: 'x'.repeat(256) })).toThrow(RangeError);
  });

  it('caches by secret and by pair: no two pairs share a token, a new secret forgets the old ones', () => {
    const ab = signToken(SECRET, { primary: 'a', secondary: 'b' });
    const joined = signToken(SECRET, { primary: 'a\nb' });
    const split = signToken(SECRET, { primary: 'a\n', secondary: 'b' });
    expect(new Set([ab, joined, split]).size).toBe(3);
    expect(verifyToken(SECRET, joined)).toEqual({ primary: 'a\nb' });
    expect(verifyToken(SECRET, split)).toEqual({ primary: 'a\n', secondary: 'b' });
    expect(signToken(SECRET, { primary: 'a', secondary: 'b' })).toBe(ab);
    expect(verifyToken(SECRET, ab)).toBe(verifyToken(SECRET, ab)); // the cached, frozen result
    expect(Object.isFrozen(verifyToken(SECRET, ab))).toBe(true);
    // a secret rotation: what the old secret signed is refused, also after it was cached
    expect(verifyToken('rotated secret 0123456789', ab)).toBeNull();
    expect(signToken('rotated secret 0123456789', { primary: 'a', secondary: 'b' })).not.toBe(ab);
    expect(verifyToken(SECRET, ab)).not.toBeNull();
  });

  it('stays right past the cache bound', () => {
    const tokens = Array.from({ length: 5000 }, (_, i) => [i, signToken(SECRET, { primary: `d${i}` })] as const);
    for (const [i, t] of tokens) expect(verifyToken(SECRET, t)).toEqual({ primary: `d${i}` });
    for (const [i, t] of tokens.slice(0, 10)) expect(signToken(SECRET, { primary: `d${i}` })).toBe(t);
  });
});
