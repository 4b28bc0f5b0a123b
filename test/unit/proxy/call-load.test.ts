// Algorithm 10 through the proxy core, stateful and stateless: when a call takes load on the
// shared table, when it gives it back (2xx confirms; BYE either way, CANCEL, a failure, failover,
// the two expiries), and what a maxload does to new calls (test/helpers/core-harness.ts).
import { describe, expect, it } from 'vitest';
import { DEST_A, DEST_B, UAC, harness, type Harness, type Sent } from '../../helpers/core-harness.js';
import { headerValues, request, response, startLine } from '../../helpers/sip-messages.js';

const LIST = '1 sip:127.0.0.11:5070 0 10 duid=a;maxload=1\n1 sip:127.0.0.12:5072 0 5 duid=b;maxload=1\n';
const NO_MAX = '1 sip:127.0.0.11:5070 0 10 duid=a\n1 sip:127.0.0.12:5072 0 5 duid=b\n';
const MODES = [{ SIPLB_MODE: 'stateful' }, { SIPLB_MODE: 'stateless' }];

const load = (h: Harness): number[] => [h.states.load(0), h.states.load(1)];
const invites = (out: Sent[]): Sent[] => out.filter((s) => startLine(s.bytes).startsWith('INVITE'));
const finalTo = (out: Sent[]): string | undefined => out.map((s) => startLine(s.bytes)).find((l) => /^SIP\/2\.0 [2-6]/.test(l));

function invite(h: Harness, id: string, cseq = 1): Sent | undefined {
  return invites(h.feed(request({ callId: id, cseq, via: [`SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-${id}-${cseq};rport`] }), UAC))[0];
}

function answer(h: Harness, fwd: Sent, status: number, id: string): Sent[] {
  const from = fwd.address === DEST_A.address ? DEST_A : DEST_B;
  const rr = headerValues(fwd.bytes, 'Record-Route');
  const cseq = Number(headerValues(fwd.bytes, 'CSeq')[0]!.split(' ')[0]);
  return h.feed(response({ status, via: headerValues(fwd.bytes, 'Via'), toTag: 'ms1', callId: id, cseq, recordRoute: rr, contact: `<sip:ms@${from.address}:${from.port}>` }), from);
}

/** The caller's BYE (or the callee's, From and To swapped) through our Record-Route. */
function bye(h: Harness, fwd: Sent, id: string, byCallee = false): Sent[] {
  const route = headerValues(fwd.bytes, 'Record-Route');
  const msg = request({
    method: 'BYE',
    ruri: byCallee ? 'sip:alice@127.0.0.1:5061' : `sip:ms@${fwd.address}:${fwd.port}`,
    via: [`SIP/2.0/UDP ${byCallee ? fwd.address : '127.0.0.1'}:${byCallee ? fwd.port : 5061};branch=z9hG4bK-bye-${id};rport`],
    route,
    ...(byCallee ? { from: 'ms1', to: '<sip:alice@127.0.0.1:5061>;tag=a1' } : { to: '<sip:service@127.0.0.1:5060>;tag=ms1' }),
    callId: id,
    cseq: 2,
    contact: null,
  });
  return h.feed(msg, byCallee ? { address: fwd.address, port: fwd.port, socket: 0 } : UAC);
}

describe.each(MODES)('algorithm 10 through the core ($SIPLB_MODE)', (mode) => {
  const make = (list = LIST, env: Record<string, string> = {}): Harness => harness({ SIPLB_ALG: '10', ...mode, ...env }, list);

  it('puts each call on the least-loaded destination and counts it in the shared table', () => {
    const h = make(NO_MAX);
    const to = ['c1', 'c2', 'c3', 'c4', 'c5'].map((id) => invite(h, id)!.address);
    expect(to).toEqual([DEST_A.address, DEST_B.address, DEST_A.address, DEST_B.address, DEST_A.address]);
    expect(load(h)).toEqual([3, 2]);
  });

  it('keeps the load through the 2xx and gives it back on the BYE, from the caller or from the callee', () => {
    const h = make(NO_MAX);
    const f1 = invite(h, 'c1')!;
    const f2 = invite(h, 'c2')!;
    answer(h, f1, 200, 'c1');
    answer(h, f2, 200, 'c2');
    expect(load(h)).toEqual([1, 1]);
    expect(bye(h, f1, 'c1').some((s) => startLine(s.bytes).startsWith('BYE'))).toBe(true);
    expect(load(h)).toEqual([0, 1]);
    bye(h, f2, 'c2', true);
    expect(load(h)).toEqual([0, 0]);
  });

  it('refuses a call with SIPLB_NO_DEST_CODE when every destination is at its maxload, and takes one again after a BYE', () => {
    const h = make();
    const f1 = invite(h, 'c1')!;
    invite(h, 'c2');
    expect(load(h)).toEqual([1, 1]);
    expect(finalTo(h.feed(request({ callId: 'c3', via: ['SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-c3;rport'] }), UAC))).toBe('SIP/2.0 503 Service Unavailable');
    answer(h, f1, 200, 'c1');
    bye(h, f1, 'c1');
    expect(invite(h, 'c4')?.address).toBe(DEST_A.address);
    expect(load(h)).toEqual([1, 1]);
  });

  it('gives the load back when the call fails (486) and when the caller cancels it', () => {
    const h = make();
    const f1 = invite(h, 'c1')!;
    answer(h, f1, 486, 'c1');
    expect(load(h)).toEqual([0, 0]);
    const f2 = invite(h, 'c2')!;
    answer(h, f2, 180, 'c2');
    expect(load(h)).toEqual([1, 0]);
    h.feed(request({ method: 'CANCEL', callId: 'c2', via: ['SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-c2-1;rport'], contact: null }), UAC);
    expect(load(h)).toEqual([0, 0]);
  });

  it('takes no load for a request that is not an INVITE', () => {
    const h = make();
    const out = h.feed(request({ method: 'MESSAGE', callId: 'm1', contact: null }), UAC);
    expect(out.find((s) => startLine(s.bytes).startsWith('MESSAGE'))?.address).toBe(DEST_A.address);
    expect(load(h)).toEqual([0, 0]);
  });

  it('drops a call never confirmed after SIPLB_DS_HASH_INITEXPIRE, a confirmed one after SIPLB_DS_HASH_EXPIRE', () => {
    const h = make(NO_MAX, { SIPLB_DS_HASH_INITEXPIRE: '2', SIPLB_DS_HASH_EXPIRE: '4', SIPLB_FR_INV_TIMER: '60000' });
    const ringing = invite(h, 'c1')!;
    answer(h, ringing, 180, 'c1'); // rings on and on: neither a 2xx nor a failure
    const up = invite(h, 'c2')!;
    answer(h, up, 200, 'c2'); // answered, its BYE lost
    h.advance(1500);
    expect(load(h)).toEqual([1, 1]);
    h.advance(1500);
    expect(load(h)).toEqual([0, 1]);
    h.advance(2000);
    expect(load(h)).toEqual([0, 0]);
    expect(h.core.counters.values.call_load_expired).toBe(2);
  });
});

describe('algorithm 10, stateful only', () => {
  it('moves the load with a failover, and releases it when the last destination fails too', () => {
    const h = harness({ SIPLB_ALG: '10' }, NO_MAX);
    const f1 = invite(h, 'c1')!;
    const next = invites(answer(h, f1, 503, 'c1'))[0]!;
    expect(next.address).toBe(DEST_B.address);
    expect(load(h)).toEqual([0, 1]);
    answer(h, next, 503, 'c1');
    expect(load(h)).toEqual([0, 0]);
  });

  it('fails over past a destination that reached its maxload meanwhile', () => {
    const h = harness({ SIPLB_ALG: '10' }, LIST);
    const f1 = invite(h, 'c1')!; // a, with b as its failover
    h.states.takeLoad(1); // another worker's call fills b
    const out = answer(h, f1, 503, 'c1');
    expect(invites(out)).toEqual([]);
    expect(finalTo(out)).toBe('SIP/2.0 503 Service Unavailable'); // SIPLB_NO_DEST_CODE: nothing left to try
    expect(load(h)).toEqual([0, 1]);
  });

  it('counts a call whose 2xx crossed the CANCEL: it is up, its BYE will come', () => {
    const h = harness({ SIPLB_ALG: '10' }, NO_MAX);
    const f1 = invite(h, 'c1')!;
    answer(h, f1, 180, 'c1');
    h.feed(request({ method: 'CANCEL', callId: 'c1', via: ['SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-c1-1;rport'], contact: null }), UAC);
    expect(load(h)).toEqual([0, 0]);
    answer(h, f1, 200, 'c1');
    expect(load(h)).toEqual([1, 0]);
    bye(h, f1, 'c1');
    expect(load(h)).toEqual([0, 0]);
  });
});

describe('algorithm 10, stateless only', () => {
  it('a re-INVITE refused does not release the call', () => {
    const h = harness({ SIPLB_ALG: '10', SIPLB_MODE: 'stateless' }, NO_MAX);
    const f1 = invite(h, 'c1')!;
    answer(h, f1, 200, 'c1');
    // the 491 of a re-INVITE (CSeq 2) passes by: it is not the INVITE that took the load
    const reinvite = { ...f1, bytes: Buffer.from(f1.text.replace('CSeq: 1 INVITE', 'CSeq: 2 INVITE')) };
    answer(h, reinvite, 491, 'c1');
    expect(load(h)).toEqual([1, 0]);
  });
});
