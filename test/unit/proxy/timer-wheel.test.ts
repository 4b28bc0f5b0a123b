// The coarse timer wheel under the transaction timers: firing order, cancel, long timers that
// wrap, and timers set while the thread has not ticked for a while (a stall, the start-up warm-up).
import { describe, expect, it } from 'vitest';
import { TimerWheel } from '../../../src/proxy/timer-wheel.js';

describe('TimerWheel', () => {
  it('fires due timers in order, not before their tick, and never a cancelled one', () => {
    let now = 1000;
    const w = new TimerWheel(now, 10, 64, () => now);
    const fired: string[] = [];
    w.set(50, () => fired.push('b'));
    w.set(20, () => fired.push('a'));
    const c = w.set(30, () => fired.push('cancelled'));
    w.clear(c);
    now += 40;
    w.advance(now);
    expect(fired).toEqual(['a']);
    now += 10;
    w.advance(now);
    expect(fired).toEqual(['a', 'b']);
    expect(w.size).toBe(0);
  });

  it('keeps a timer longer than one lap until the lap that makes it due', () => {
    let now = 0;
    const w = new TimerWheel(now, 10, 8, () => now); // one lap = 80 ms
    let fired = 0;
    w.set(200, () => fired++);
    for (now = 10; now < 200; now += 10) w.advance(now);
    expect(fired).toBe(0);
    w.advance((now = 200));
    expect(fired).toBe(1);
  });

  it('counts a timer set during a stall from the clock, not from the last tick', () => {
    let now = 10_000;
    const w = new TimerWheel(now, 10, 4096, () => now);
    now += 600; // the thread was busy for 600 ms and has not ticked
    let firedAt = -1;
    w.set(1500, () => (firedAt = now));
    for (let t = 10_000 + 10; t <= 12_200; t += 10) {
      now = t;
      w.advance(now);
    }
    expect(firedAt).toBeGreaterThanOrEqual(10_000 + 600 + 1500);
    expect(firedAt).toBeLessThanOrEqual(10_000 + 600 + 1500 + 10);
  });
});

describe('TimerWheel handles', () => {
  it('re-arms a handle (one callback, one argument), and a callback may clear or arm others of its slot', () => {
    let now = 0;
    const w = new TimerWheel(now, 10, 64, () => now);
    const fired: string[] = [];
    const onFire = (name: string): void => {
      fired.push(name);
      if (name === 'a') w.clear(b); // b is due in the same slot: cleared before it fires
      if (name === 'c') w.arm(c, 30); // re-armed from its own callback
    };
    const a = w.handle(onFire, 'a');
    const b = w.handle(onFire, 'b');
    const c = w.handle(onFire, 'c');
    w.arm(a, 20);
    w.arm(b, 20);
    w.arm(c, 20);
    w.arm(a, 20); // re-arming a pending handle replaces its schedule
    expect(w.size).toBe(3);
    for (now = 10; now <= 50; now += 10) w.advance(now);
    expect(fired.filter((x) => x !== 'c')).toEqual(['a']);
    expect(fired.filter((x) => x === 'c')).toHaveLength(2); // at 20 and 50
    expect(w.size).toBe(1);
    w.clear(c);
    expect(w.size).toBe(0);
    w.clear(c); // idle: ignored
    expect(w.size).toBe(0);
  });
});
