// The Record-Route token: round trip bound to its dialog, and a refusal (garbled or invalid) for
// anything else: another dialog, another secret, any change to the text.
import { describe, expect, it } from 'vitest';
import { deriveKeys } from '../../../src/sip/keys.js';
import { type TokenDestinations, signToken, verifyToken } from '../../../src/sip/token.js';

const KEYS = deriveKeys('correct horse battery staple');
const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const DIALOG = { callId: 'a84b4c76e66710@pc33.atlanta.example.com', callerTag: '1928301774' };
const sign = (dest: TokenDestinations, dialog = DIALOG): string => signToken(KEYS.token, dest, dialog);
/** As a caller's in-dialog request carries the dialog: its tag in From. */
const fromCaller = (token: string, callId = DIALOG.callId, tag = DIALOG.callerTag) => verifyToken(KEYS.token, token, callId, tag, 'callee-tag');

describe('signToken / verifyToken', () => {
  it.each<[TokenDestinations]>([
    [{ primary: 'sip:10.0.0.5:5060', secondary: 'sip:10.0.0.6:5060' }],
    [{ primary: '3' }],
    [{ primary: 'ds-1', secondary: '' }],
    [{ primary: 'médiaserveur-1', secondary: 'x'.repeat(255) }],
  ])('round-trips %o', (dest) => {
    const token = sign(dest);
    expect(token).toMatch(/^[A-Za-z0-9_-]+$/); // unreserved: a uri-parameter value as is (RFC 3261 25.1)
    expect(fromCaller(token)).toEqual({ ok: true, dest: dest.secondary ? dest : { primary: dest.primary }, byToTag: false });
  });

  it('verifies from either side of the dialog: the caller tag in From (caller) or in To (callee)', () => {
    const token = sign({ primary: 'a' });
    expect(verifyToken(KEYS.token, token, DIALOG.callId, DIALOG.callerTag, 'x')).toMatchObject({ ok: true, byToTag: false });
    expect(verifyToken(KEYS.token, token, DIALOG.callId, 'callee-tag', DIALOG.callerTag)).toMatchObject({ ok: true, byToTag: true });
  });

  it('is bound to its dialog: another Call-ID or another tag does not verify', () => {
    const token = sign({ primary: 'a', secondary: 'b' });
    expect(fromCaller(token, 'another-call@x')).toEqual({ ok: false, reason: 'invalid' });
    expect(fromCaller(token, DIALOG.callId, 'another-tag')).toEqual({ ok: false, reason: 'invalid' });
    expect(verifyToken(KEYS.token, token, DIALOG.callId, '', '')).toEqual({ ok: false, reason: 'invalid' });
  });

  it('is compact: two address ids fit in under 70 characters', () => {
    expect(sign({ primary: 'sip:10.0.0.5:5060', secondary: 'sip:10.0.0.6:5060' }).length).toBeLessThan(70);
  });

  it('rejects every one-character change and every one-bit flip of the bytes', () => {
    const token = sign({ primary: 'sip:10.0.0.5:5060', secondary: 'sip:10.0.0.6:5060' });
    for (let i = 0; i < token.length; i++) {
      for (const c of B64URL) {
        if (c === token[i]) continue;
        expect(fromCaller(token.slice(0, i) + c + token.slice(i + 1)).ok, `${i}:${c}`).toBe(false);
      }
    }
    const bytes = Buffer.from(token, 'base64url');
    for (let i = 0; i < bytes.length; i++) {
      for (let bit = 0; bit < 8; bit++) {
        const t = Buffer.from(bytes);
        t[i]! ^= 1 << bit;
        expect(fromCaller(t.toString('base64url')).ok, `${i}.${bit}`).toBe(false);
      }
    }
  });

  it('tells garbled from invalid: framing errors are garbled, a bad MAC is invalid', () => {
    const token = sign({ primary: 'a', secondary: 'b' });
    expect(verifyToken(deriveKeys('another secret 0123').token, token, DIALOG.callId, DIALOG.callerTag, '')).toEqual({ ok: false, reason: 'invalid' });
    for (const junk of ['', '!', 'AAAA', 'A'.repeat(10_000), `${token}=`, ` ${token}`, token.slice(0, -1)]) {
      expect(fromCaller(junk), JSON.stringify(junk)).toEqual({ ok: false, reason: 'garbled' });
    }
    // valid framing, made-up MAC: what a forger who knows the format can produce
    const forged = Buffer.from(token, 'base64url');
    forged.fill(0x41, forged.length - 8);
    expect(fromCaller(forged.toString('base64url'))).toEqual({ ok: false, reason: 'invalid' });
    // a version-1 token (the format before dialog binding) is not accepted
    const v1 = Buffer.from(token, 'base64url');
    v1[0] = 1;
    expect(fromCaller(v1.toString('base64url'))).toEqual({ ok: false, reason: 'garbled' });
  });

  it('refuses ids it cannot frame', () => {
    expect(() => sign({ primary: '' })).toThrow(RangeError);
    expect(() => sign({ primary: 'x'.repeat(256) })).toThrow(RangeError);
  });

  it('frames its fields: moving a byte between primary and secondary changes the token', () => {
    const ab = sign({ primary: 'a', secondary: 'b' });
    const joined = sign({ primary: 'a\nb' });
    const split = sign({ primary: 'a\n', secondary: 'b' });
    expect(new Set([ab, joined, split]).size).toBe(3);
    expect(fromCaller(joined)).toMatchObject({ ok: true, dest: { primary: 'a\nb' } });
    expect(fromCaller(split)).toMatchObject({ ok: true, dest: { primary: 'a\n', secondary: 'b' } });
    expect(sign({ primary: 'a', secondary: 'b' })).toBe(ab); // deterministic for one dialog
  });
});
