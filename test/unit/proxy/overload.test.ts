// Load shedding: the controller on its own (a queueing delay the test sets), then through the core
// with the real parser and rewriting: which requests are refused, with what, and what never is.
import { describe, expect, it } from 'vitest';
import { LagWindow, OVERLOAD_WINDOW_MS, OverloadGuard, SharedDelay, ShedMemory } from '../../../src/proxy/overload.js';
import { DEST_A, UAC, harness } from '../../helpers/core-harness.js';
import { headerValues, request, response, startLine } from '../../helpers/sip-messages.js';

function guard(thresholdMs: number): { g: OverloadGuard; set(ms: number): void; step(n?: number): void } {
  let delay = 0;
  let now = 0;
  const g = new OverloadGuard(thresholdMs, () => delay, () => 0.5);
  return {
    g,
    set: (ms) => (delay = ms),
    step: (n = 1) => {
      for (let i = 0; i < n; i++) g.update((now += OVERLOAD_WINDOW_MS));
    },
  };
}

describe('OverloadGuard', () => {
  it('sheds more each window the queue stays over the threshold, up to 95%', () => {
    const t = guard(100);
    t.set(99);
    t.step(5);
    expect(t.g.shed).toBe(0);
    t.set(100);
    t.step(); // one window over is a stall, not an overload
    expect(t.g.shed).toBe(0);
    t.step();
    expect(t.g.shed).toBe(0.1);
    t.step(3);
    expect(t.g.shed).toBe(0.4);
    t.step(20);
    expect(t.g.shed).toBe(0.95);
  });

  it('ramps in proportion to how far over the threshold the delay is (at most +30 points)', () => {
    const t = guard(100);
    t.set(250); // 2.5x: +20, from the second window over
    t.step(2);
    expect(t.g.shed).toBe(0.2);
    t.set(5000); // capped at +30
    t.step();
    expect(t.g.shed).toBe(0.5);
  });

  it('holds between half the threshold and the threshold, releases below, 5 points a window', () => {
    const t = guard(100);
    t.set(100);
    t.step(6); // 0.5
    t.set(50);
    t.step(10);
    expect(t.g.shed).toBe(0.5);
    t.set(49);
    t.step(4);
    expect(t.g.shed).toBe(0.3);
    t.step(6);
    expect(t.g.shed).toBe(0);
    expect(t.g.admit()).toBe(true);
  });

  it('releases twice as fast once the queue is under a quarter of the threshold', () => {
    const t = guard(100);
    t.set(100);
    t.step(6); // 0.5
    t.set(24);
    t.step(2);
    expect(t.g.shed).toBe(0.3);
    t.set(0);
    t.step(3);
    expect(t.g.shed).toBe(0);
  });

  it('ignores a single window over the threshold (a stall), and starts again from scratch after it', () => {
    const t = guard(100);
    for (let i = 0; i < 5; i++) {
      t.set(400);
      t.step();
      t.set(10);
      t.step();
    }
    expect(t.g.shed).toBe(0);
  });

  it('samples once per window, however often it is ticked', () => {
    let samples = 0;
    const g = new OverloadGuard(100, () => (samples++, 1000));
    for (let ms = 0; ms < 1000; ms += 10) g.update(ms);
    expect(samples).toBe(10);
    expect(g.delayMs).toBe(1000);
  });

  it('admits by the random draw against the shed share', () => {
    let r = 0;
    const g = new OverloadGuard(100, () => 100, () => r);
    for (let i = 0; i < 5; i++) g.update(i * OVERLOAD_WINDOW_MS); // 0.4
    r = 0.39;
    expect(g.admit()).toBe(false);
    r = 0.4;
    expect(g.admit()).toBe(true);
  });

  it('threshold 0 never sheds', () => {
    const g = new OverloadGuard(0, () => 1e6);
    for (let i = 0; i < 50; i++) g.update(i * OVERLOAD_WINDOW_MS);
    expect(g.shed).toBe(0);
  });

  it('ShedMemory remembers refused requests until they expire, oldest dropped first past its bound', () => {
    const m = new ShedMemory(32_000, 10);
    m.remember('a|1', 0);
    expect(m.has('a|1', 32_000)).toBe(true);
    expect(m.has('a|1', 32_001)).toBe(false);
    expect(m.size).toBe(0);
    for (let i = 0; i < 10; i++) m.remember(`c${i}|1`, 1000 + i);
    m.remember('late|1', 2000);
    expect(m.has('c0|1', 2000)).toBe(false); // evicted to make room
    expect(m.has('late|1', 2000)).toBe(true);
    m.expire(1_000_000);
    expect(m.size).toBe(0);
  });

  it('LagWindow keeps the worst lag of a window, in ms', () => {
    const w = new LagWindow();
    for (const us of [300, 250_000, 1200]) w.seen(us);
    expect(w.take()).toBe(250);
    expect(w.take()).toBe(0);
  });

  it('SharedDelay carries a delay across views of one buffer (µs resolution)', () => {
    const a = new SharedDelay(SharedDelay.create());
    const b = new SharedDelay(a.buffer);
    a.set(123.4567);
    expect(b.get()).toBe(123.457);
  });
});

describe.each(['stateful', 'stateless'])('shedding in the core (%s)', (mode) => {
  const saturated = (env: Record<string, string> = {}) => {
    let delay = 1000;
    const h = harness({ SIPLB_MODE: mode, SIPLB_ALG: '4', ...env }, undefined, { queueDelay: () => delay });
    // busy: queued over the default SIPLB_OVERLOAD_DELAY (100 ms); idle: none
    return { h, setBusy: (b: number) => (delay = b * 1000) };
  };
  const invite = (i: number) => request({ callId: `ov-${i}@127.0.0.1`, via: [`SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-ov-${i};rport`] });

  it('refuses a share of new INVITEs with 503 and counts them; releases when the load falls', () => {
    const { h, setBusy } = saturated();
    h.advance(2000); // 20 saturated windows: the share is at its 95% ceiling
    expect(h.core.overload.shed).toBeCloseTo(0.95);
    let refused = 0;
    for (let i = 0; i < 200; i++) {
      const out = h.feed(invite(i), UAC);
      if (out.length === 1 && startLine(out[0]!.bytes) === 'SIP/2.0 503 Service Unavailable') {
        refused++;
        expect(out[0]!.address).toBe(UAC.address);
        expect(headerValues(out[0]!.bytes, 'Retry-After')).toEqual([]); // none by default
      }
    }
    expect(refused).toBeGreaterThan(150); // 95% of 200, drawn at random
    expect(refused).toBeLessThan(200);
    expect(h.core.counters.values.overload_rejected).toBe(refused);
    setBusy(0.01);
    h.advance(2000);
    expect(h.core.overload.shed).toBe(0);
    const out = h.feed(invite(1000), UAC);
    expect(out.some((s) => s.address === DEST_A.address || s.port === 5072)).toBe(true);
  });

  it('never refuses in-dialog requests, responses, CANCEL, or OPTIONS to the proxy itself', () => {
    const { h, setBusy } = saturated();
    setBusy(0);
    const fwd = h.feed(invite(1), UAC).find((s) => startLine(s.bytes).startsWith('INVITE'))!;
    h.feed(invite(2), UAC);
    setBusy(1);
    h.advance(2000);
    expect(h.core.overload.shed).toBeCloseTo(0.95);
    // the CANCEL of a call taken before the overload reaches it (never a 503)
    const cancel = h.feed(request({ method: 'CANCEL', callId: 'ov-2@127.0.0.1', via: ['SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-ov-2;rport'], contact: null }), UAC);
    expect(cancel.length).toBeGreaterThan(0);
    for (const c of cancel) expect(startLine(c.bytes)).not.toMatch(/^SIP\/2\.0 503/);
    // the callee's 200 comes back and is relayed
    const ok = h.feed(response({ status: 200, reason: 'OK', via: headerValues(fwd.bytes, 'Via'), toTag: 'ms', callId: 'ov-1@127.0.0.1', recordRoute: headerValues(fwd.bytes, 'Record-Route'), contact: '<sip:ms@127.0.0.11:5070>' }), DEST_A);
    expect(ok.map((s) => startLine(s.bytes))).toContain('SIP/2.0 200 OK');
    // BYE in the dialog, through our Record-Route
    const rr = headerValues(fwd.bytes, 'Record-Route')[0]!;
    for (let i = 0; i < 50; i++) {
      const bye = h.feed(
        request({ method: 'BYE', ruri: 'sip:ms@127.0.0.11:5070', to: '<sip:service@127.0.0.1:5060>;tag=ms', callId: 'ov-1@127.0.0.1', cseq: 2 + i, route: [rr], via: [`SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-bye-${i};rport`] }),
        UAC,
      );
      expect(bye.map((s) => startLine(s.bytes))).toContain('BYE sip:ms@127.0.0.11:5070 SIP/2.0');
    }
    for (let i = 0; i < 50; i++) {
      const ping = h.feed(request({ method: 'OPTIONS', ruri: 'sip:127.0.0.1:5060', callId: `ping-${i}`, via: [`SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-ping-${i};rport`] }), UAC);
      expect(startLine(ping[0]!.bytes)).toBe('SIP/2.0 200 OK');
    }
    expect(h.core.counters.values.overload_rejected).toBe(0);
  });

  it('refuses a retransmission of a refused INVITE again, and absorbs the ACK of the 503', () => {
    const { h, setBusy } = saturated();
    h.advance(2000);
    let refusedAt = -1;
    for (let i = 0; i < 100 && refusedAt < 0; i++) if (startLine(h.feed(invite(i), UAC)[0]!.bytes).startsWith('SIP/2.0 503')) refusedAt = i;
    expect(refusedAt).toBeGreaterThanOrEqual(0);
    setBusy(0); // the overload is over, but the caller's copy of the refused INVITE is still on its way
    h.advance(3000);
    expect(h.core.overload.shed).toBe(0);
    const again = h.feed(invite(refusedAt), UAC);
    expect(again.map((s) => startLine(s.bytes))).toEqual(['SIP/2.0 503 Service Unavailable']);
    const toTag = /;tag=([^;\r\n]+)/.exec(headerValues(again[0]!.bytes, 'To')[0]!)![1]!;
    const ack = request({ method: 'ACK', callId: `ov-${refusedAt}@127.0.0.1`, to: `<sip:service@127.0.0.1:5060>;tag=${toTag}`, via: [`SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-ov-${refusedAt};rport`], contact: null });
    expect(h.feed(ack, UAC)).toEqual([]);
    expect(h.core.counters.values.ack_local_reply).toBe(1);
    expect(h.core.counters.values.relay_no_route).toBe(0);
    // a new call is taken
    expect(startLine(h.feed(invite(5000), UAC).at(-1)!.bytes)).toMatch(/^INVITE /);
  });

  it('adds Retry-After when SIPLB_OVERLOAD_RETRY_AFTER is set', () => {
    const { h } = saturated({ SIPLB_OVERLOAD_RETRY_AFTER: '7' });
    h.advance(2000);
    for (let i = 0; i < 100; i++) {
      const out = h.feed(invite(i), UAC);
      if (startLine(out[0]!.bytes).startsWith('SIP/2.0 503')) {
        expect(headerValues(out[0]!.bytes, 'Retry-After')).toEqual(['7']);
        return;
      }
    }
    throw new Error('no INVITE was refused at 95% shedding');
  });

  it('SIPLB_OVERLOAD_DELAY=0 turns shedding off', () => {
    const { h } = saturated({ SIPLB_OVERLOAD_DELAY: '0' });
    h.advance(2000);
    for (let i = 0; i < 50; i++) expect(startLine(h.feed(invite(i), UAC).at(-1)!.bytes)).toMatch(/^INVITE /);
    expect(h.core.counters.values.overload_rejected).toBe(0);
  });
});
