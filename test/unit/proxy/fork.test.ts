// Algorithm 12, parallel forking, through the stateful core: one server transaction, a client
// transaction per destination, and what RFC 3261 16.7 and 16.10 let through to the caller
// (test/helpers/core-harness.ts: real parser, rewriting and dispatcher, a clock the test moves).
import { describe, expect, it } from 'vitest';
import { UAC, harness, type Harness, type Sent } from '../../helpers/core-harness.js';
import { headerValues, request, response, startLine } from '../../helpers/sip-messages.js';
import { loadConfig } from '../../../src/config/load.js';
import { parseDispatcherList } from '../../../src/dispatch/list-file.js';
import { coreConfig } from '../../../src/proxy/core-config.js';
import { ProxyCore } from '../../../src/proxy/core.js';
import { DestTable } from '../../../src/shared/dest-table.js';
import { DS_INACTIVE, stateLetters } from '../../../src/shared/dest-state.js';
import { verifyToken } from '../../../src/sip/token.js';
import type { Peer } from '../../../src/proxy/types.js';

// Distinct priorities: set order (and so fork order) is A, B, C.
const LIST = '1 sip:127.0.0.11:5070 0 30 duid=a\n1 sip:127.0.0.12:5072 0 20 duid=b\n1 sip:127.0.0.13:5074 0 10 duid=c\n';
const A: Peer = { address: '127.0.0.11', port: 5070, socket: 0 };
const B: Peer = { address: '127.0.0.12', port: 5072, socket: 0 };
const C: Peer = { address: '127.0.0.13', port: 5074, socket: 0 };
const DESTS = [A, B, C];
const FORK = { SIPLB_ALG: '12' };

const method = (s: Sent): string => startLine(s.bytes).split(' ')[0]!;
/** What went where, as "METHOD address" or "STATUS address" (status line's code). */
const wire = (out: Sent[]): string[] => out.map((s) => `${startLine(s.bytes).startsWith('SIP/2.0') ? startLine(s.bytes).split(' ')[1] : method(s)} ${s.address}`);
const topBranch = (s: Sent): string => /branch=([^;,\s]+)/.exec(headerValues(s.bytes, 'Via')[0]!)![1]!;
const toCaller = (out: Sent[]): string[] => out.filter((s) => s.address === UAC.address).map((s) => startLine(s.bytes));

/** The new request, and the copy each destination received (by destination address). */
function fork(h: Harness, req = request()): Map<string, Sent> {
  const out = h.feed(req, UAC);
  const m = req.toString('latin1').split(' ')[0]!;
  return new Map(out.filter((s) => method(s) === m).map((s) => [s.address, s]));
}

/** The answer of destination `to` to the copy it got; its own To tag, its Record-Route copied. */
function answer(h: Harness, fwd: Map<string, Sent>, to: Peer, status: number): Sent[] {
  const got = fwd.get(to.address)!;
  const tag = `tag-${to.port}`;
  const cseq = headerValues(got.bytes, 'CSeq')[0]!.split(' ');
  const msg = response({
    status,
    via: headerValues(got.bytes, 'Via'),
    toTag: status > 100 ? tag : undefined,
    recordRoute: headerValues(got.bytes, 'Record-Route'),
    contact: `<sip:ms@${to.address}:${to.port}>`,
    cseq: Number(cseq[0]),
    cseqMethod: cseq[1]!,
  });
  return h.feed(msg, to);
}

/** The caller's ACK or BYE in the dialog a relayed 2xx set up, routed by its Record-Route. */
function inDialog(ok: Sent, m: 'ACK' | 'BYE', cseq: number): Buffer {
  return request({
    method: m,
    ruri: headerValues(ok.bytes, 'Contact')[0]!.replace(/^<|>$/g, ''),
    via: [`SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-${m}-${headerValues(ok.bytes, 'To')[0]!.split('tag=')[1]};rport`],
    route: headerValues(ok.bytes, 'Record-Route'),
    to: headerValues(ok.bytes, 'To')[0]!,
    cseq,
    contact: null,
  });
}

describe('algorithm 12: parallel forking (stateful)', () => {
  it('sends the INVITE to every destination at once, each its own branch and a Record-Route naming its own destination', () => {
    const h = harness(FORK, LIST);
    const out = h.feed(request(), UAC);
    expect(wire(out)).toEqual(['100 127.0.0.1', 'INVITE 127.0.0.11', 'INVITE 127.0.0.12', 'INVITE 127.0.0.13']);
    const invites = out.slice(1);
    expect(new Set(invites.map(topBranch)).size).toBe(3);
    for (const [i, s] of invites.entries()) {
      expect([s.address, s.port]).toEqual([DESTS[i]!.address, DESTS[i]!.port]);
      const token = /;slb=([A-Za-z0-9_-]+)/.exec(headerValues(s.bytes, 'Record-Route')[0]!)![1]!;
      const check = verifyToken(h.core.keys.token, token, 'call-1@127.0.0.1', 'a1', '');
      // in-dialog requests follow the token: it must name the branch's destination, and no second one
      expect(check.ok && check.dest).toEqual({ primary: h.core.config.targets[i]!.id });
    }
  });

  it('relays each 180 and the first 200, cancels the other branches and absorbs their 487s', () => {
    const h = harness(FORK, LIST);
    const fwd = fork(h);
    expect(toCaller(answer(h, fwd, A, 180))).toEqual(['SIP/2.0 180 Reason']);
    expect(toCaller(answer(h, fwd, B, 180))).toEqual(['SIP/2.0 180 Reason']);
    const won = answer(h, fwd, C, 200);
    expect(wire(won)).toEqual(['200 127.0.0.1', 'CANCEL 127.0.0.11', 'CANCEL 127.0.0.12']);
    for (const cancel of won.slice(1)) expect(topBranch(cancel)).toBe(topBranch(fwd.get(cancel.address)!)); // RFC 3261 9.1
    // the cancelled branches end with 487: ACKed hop by hop, never relayed
    expect(wire(answer(h, fwd, A, 487))).toEqual(['ACK 127.0.0.11']);
    expect(wire(answer(h, fwd, B, 487))).toEqual(['ACK 127.0.0.12']);
    // the dialog is C's: the ACK and BYE go there alone, through C's own Record-Route token
    const ok = won[0]!;
    expect(wire(h.feed(inDialog(ok, 'ACK', 1), UAC))).toEqual(['ACK 127.0.0.13']);
    expect(wire(h.feed(inDialog(ok, 'BYE', 2), UAC))).toEqual(['BYE 127.0.0.13']);
    expect(h.advance(10_000).filter((s) => s.address === A.address || s.address === B.address)).toEqual([]); // nothing more to A or B
    expect([h.states.load(0), h.states.load(1), h.states.load(2)]).toEqual([0, 0, 0]); // no call load taken
    expect(h.core.counters.values.failover).toBe(0);
  });

  it('relays a second 200 that crossed the CANCEL (RFC 3261 16.7 step 5), whose dialog is its own destination', () => {
    const h = harness(FORK, LIST);
    const fwd = fork(h);
    answer(h, fwd, A, 180);
    answer(h, fwd, B, 180);
    const first = answer(h, fwd, A, 200);
    expect(wire(first)).toEqual(['200 127.0.0.1', 'CANCEL 127.0.0.12']);
    const second = answer(h, fwd, B, 200);
    expect(wire(second)).toEqual(['200 127.0.0.1']);
    expect(headerValues(second[0]!.bytes, 'To')[0]).toContain('tag-5072');
    expect(wire(h.feed(inDialog(first[0]!, 'ACK', 1), UAC))).toEqual(['ACK 127.0.0.11']);
    expect(wire(h.feed(inDialog(second[0]!, 'ACK', 1), UAC))).toEqual(['ACK 127.0.0.12']);
    expect(wire(h.feed(inDialog(second[0]!, 'BYE', 2), UAC))).toEqual(['BYE 127.0.0.12']); // RFC 3261 13.2.2.4
    // C never sent a provisional: its CANCEL waited (RFC 3261 9.1) and goes with its first one
    expect(wire(answer(h, fwd, C, 180))).toEqual(['CANCEL 127.0.0.13']);
  });

  it('gives the caller the best final when every branch fails (486, 503, silence), marking the failed-over ones', () => {
    const h = harness({ ...FORK, SIPLB_FR_TIMER: '1000', SIPLB_MARK_FAILED: 'ip' }, LIST);
    const fwd = fork(h);
    expect(wire(answer(h, fwd, A, 486))).toEqual(['ACK 127.0.0.11']);
    expect(wire(answer(h, fwd, B, 503))).toEqual(['ACK 127.0.0.12']);
    const later = h.advance(1100); // C: Timer A retransmissions, then its final-response timer
    const again = later.filter((s) => method(s) === 'INVITE'); // Timer A at 500 ms, on C's own branch; no new branch
    expect(again.map((s) => [s.address, topBranch(s)])).toEqual([[C.address, topBranch(fwd.get(C.address)!)]]);
    expect(toCaller(later)).toEqual(['SIP/2.0 486 Reason']);
    // SIPLB_FAILOVER_CODES (5xx, 408) and the timeout mark their destination; a 486 is the callee's answer
    expect([0, 1, 2].map((i) => stateLetters(h.states.flags(i)))).toEqual(['AX', 'IP', 'IP']);
    expect(h.core.counters.values.failover).toBe(0);
    expect(h.core.counters.values.failover_exhausted).toBe(0); // the fork was the list: nothing left untried
  });

  it('ends every branch on a 6xx: relayed at once, the others cancelled', () => {
    const h = harness(FORK, LIST);
    const fwd = fork(h);
    answer(h, fwd, A, 180);
    answer(h, fwd, C, 100);
    expect(wire(answer(h, fwd, B, 603))).toEqual(['ACK 127.0.0.12', 'CANCEL 127.0.0.11', 'CANCEL 127.0.0.13', '603 127.0.0.1']);
    expect(wire(answer(h, fwd, A, 487))).toEqual(['ACK 127.0.0.11']);
    expect(wire(answer(h, fwd, C, 487))).toEqual(['ACK 127.0.0.13']);
  });

  it("cancels every branch on the caller's CANCEL; the caller gets one 487 when the last branch ends", () => {
    const h = harness(FORK, LIST);
    const fwd = fork(h);
    answer(h, fwd, A, 180);
    answer(h, fwd, B, 100);
    const out = h.feed(request({ method: 'CANCEL', contact: null }), UAC);
    expect(wire(out)).toEqual(['200 127.0.0.1', 'CANCEL 127.0.0.11', 'CANCEL 127.0.0.12']);
    // not before its first provisional (RFC 3261 9.1); the transaction still proceeds, so the 180 is relayed
    expect(wire(answer(h, fwd, C, 180))).toEqual(['CANCEL 127.0.0.13', '180 127.0.0.1']);
    expect(wire(answer(h, fwd, A, 487))).toEqual(['ACK 127.0.0.11']);
    expect(wire(answer(h, fwd, C, 487))).toEqual(['ACK 127.0.0.13']);
    expect(wire(answer(h, fwd, B, 487))).toEqual(['ACK 127.0.0.12', '487 127.0.0.1']);
  });

  it('forks only to usable destinations, at most SIPLB_LIMIT of them', () => {
    const h = harness({ ...FORK, SIPLB_LIMIT: '2' }, LIST);
    expect([...fork(h).keys()]).toEqual([A.address, B.address]);
    const down = harness(FORK, LIST);
    down.states.mark(1, DS_INACTIVE);
    expect([...fork(down).keys()]).toEqual([A.address, C.address]);
  });

  it('forks a MESSAGE too: the first 2xx is relayed, a later one is not (RFC 3261 16.7 step 5), and the others stop retransmitting', () => {
    const h = harness(FORK, LIST);
    const fwd = fork(h, request({ method: 'MESSAGE', contact: null }));
    expect([...fwd.keys()]).toEqual(DESTS.map((d) => d.address));
    expect(toCaller(answer(h, fwd, B, 200))).toEqual(['SIP/2.0 200 Reason']);
    expect(answer(h, fwd, A, 200)).toEqual([]);
    expect(h.advance(5000)).toEqual([]); // Timer E stopped on A and C (no CANCEL for a non-INVITE)
  });

  it('cannot be built stateless: a core refuses algorithm 12 without transactions', () => {
    const records = parseDispatcherList(LIST, { file: 'list', loadMode: 1 }).destinations;
    const config = { ...loadConfig({ SIPLB_ALG: '12' }), mode: 'stateless' as const };
    const states = new DestTable(DestTable.create(records.map((r) => r.flags)));
    expect(() => new ProxyCore(coreConfig(config, records), states, { send() {} })).toThrow(/algorithm 12 .* needs SIPLB_MODE=stateful/);
  });
});
