// The queue of finished transactions: expiry in order, growth past its first capacity.
import { describe, expect, it } from 'vitest';
import { ExpiryQueue } from '../../../src/proxy/expiry-queue.js';

describe('ExpiryQueue', () => {
  it('hands out what expired, oldest first, across growth and wrap-around', () => {
    const q = new ExpiryQueue<number>(4);
    const out: number[] = [];
    for (let i = 0; i < 3; i++) q.push(i, 100 + i);
    q.expire(100, (x) => out.push(x));
    expect(out).toEqual([0]);
    for (let i = 3; i < 12; i++) q.push(i, 100 + i); // wraps, then grows twice
    expect(q.size).toBe(11);
    q.expire(105, (x) => out.push(x));
    expect(out).toEqual([0, 1, 2, 3, 4, 5]);
    q.expire(99_999, (x) => out.push(x));
    expect(out).toEqual(Array.from({ length: 12 }, (_, i) => i));
    expect(q.size).toBe(0);
    q.expire(99_999, () => out.push(-1)); // empty: nothing
    expect(out).toHaveLength(12);
  });
});
