import { describe, expect, it } from 'vitest';
import { rewritesUser, rewriteUser } from '../../../src/dispatch/rewrite.js';
import { record } from './fixtures.js';

describe('rewriteUser (strip= then prefix=)', () => {
  const dest = (attrs: string) => record(1, { uri: 'sip:carrier.test', attrs });

  it('strips leading characters, then puts the prefix in front', () => {
    expect(rewriteUser('0015551234', dest('strip=2;prefix=99'))).toBe('9915551234');
    expect(rewriteUser('+15551234', dest('strip=1'))).toBe('15551234');
    expect(rewriteUser('5551234', dest('prefix=1'))).toBe('15551234');
  });

  it('leaves the user alone without strip or prefix, and a missing user missing', () => {
    expect(rewriteUser('5551234', dest(''))).toBe('5551234');
    expect(rewriteUser(undefined, dest('prefix=9'))).toBeUndefined();
    expect(rewritesUser(dest(''))).toBe(false);
    expect(rewritesUser(dest('strip=1'))).toBe(true);
  });

  it('strips everything when strip exceeds the length', () => {
    expect(rewriteUser('12', dest('strip=5;prefix=7'))).toBe('7');
  });

  it('accepts the two values directly (a route target)', () => {
    expect(rewriteUser('0800', { strip: 1, prefix: '44' })).toBe('44800');
    expect(rewriteUser('0800', { strip: 0, prefix: '' })).toBe('0800');
  });
});
