// Algorithms 11, 13 and 64 through the proxy core, reading the real shared table: a destination
// marked down, a latency record written, an overload report taken there change where the next
// requests go, with no message to the core (test/helpers/core-harness.ts).
import { describe, expect, it } from 'vitest';
import { harness, UAC, type Harness } from '../../helpers/core-harness.js';
import { request, startLine } from '../../helpers/sip-messages.js';
import { parseDispatcherList } from '../../../src/dispatch/list-file.js';
import { ocSetAttrs } from '../../../src/dispatch/overload-control.js';
import { buildSets } from '../../../src/dispatch/sets.js';
import { flatten } from '../../../src/proxy/targets.js';
import { DS_INACTIVE, DS_PROBING } from '../../../src/shared/dest-state.js';

const A = '127.0.0.11';
const B = '127.0.0.12';
const C = '127.0.0.13';

let seq = 0;
/** Where `n` new MESSAGE requests went, by destination address. */
function spread(h: Harness, n: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (let k = 0; k < n; k++) {
    const id = `m${++seq}`;
    const sent = h.feed(request({ method: 'MESSAGE', callId: id, via: [`SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-${id};rport`], contact: null }), UAC);
    const fwd = sent.find((s) => startLine(s.bytes).startsWith('MESSAGE'));
    const to = fwd?.address ?? 'none';
    out[to] = (out[to] ?? 0) + 1;
  }
  return out;
}

const latency = (estimate: number, average: number) => ({ AVERAGE: average, STDEV: 0, ESTIMATE: estimate, M2: 0, MIN: average, MAX: estimate, COUNT: 20, TIMEOUTS: 0 });

describe('algorithm 11 on the shared table', () => {
  const LIST = `1 sip:${A}:5070 8 30 rweight=50\n1 sip:${B}:5072 8 20 rweight=25\n1 sip:${C}:5074 8 10 rweight=25\n`;

  it('follows rweight, and re-spreads when the table says a destination went down and came back', () => {
    const h = harness({ SIPLB_ALG: '11' }, LIST);
    expect(spread(h, 200)).toEqual({ [A]: 100, [B]: 50, [C]: 50 });
    h.states.mark(0, DS_INACTIVE | DS_PROBING); // a.test down: 25/25 of 50
    expect(spread(h, 100)).toEqual({ [B]: 50, [C]: 50 });
    h.states.mark(0, DS_PROBING);
    h.states.mark(2, DS_INACTIVE | DS_PROBING); // c.test down: 50/25 of 75 is 66/33, the rest to the last
    expect(spread(h, 100)).toEqual({ [A]: 66, [B]: 34 });
  });

  it('with cc=1 lowers a congested destination as its latency record says', () => {
    const cc = `1 sip:${A}:5070 8 30 rweight=50;weight=50;cc=1\n1 sip:${B}:5072 8 20 rweight=50;weight=50;cc=1\n`;
    const h = harness({ SIPLB_ALG: '11' }, cc);
    expect(spread(h, 100)).toEqual({ [A]: 50, [B]: 50 });
    h.states.writeLatency(0, latency(50, 20)); // 30 ms of congestion: weight 20 against 50
    h.states.writeLatency(1, latency(20, 20));
    expect(spread(h, 100)).toEqual({ [A]: 28, [B]: 72 });
  });
});

describe('algorithm 13 on the shared table', () => {
  it('sends everything to the destination whose measured latency costs it the least priority', () => {
    const h = harness({ SIPLB_ALG: '13' }, `1 sip:${A}:5070 8 10\n1 sip:${B}:5072 8 10\n`);
    expect(spread(h, 10)).toEqual({ [A]: 5, [B]: 5 }); // nothing measured: round-robin at equal priority
    // equal priorities keep Kamailio's reverse file order: B is index 0 of the table, A index 1
    h.states.writeLatency(1, latency(95, 20)); // A: 10 - 95/10 = 1
    h.states.writeLatency(0, latency(12, 10)); // B: 10 - 12/10 = 9
    expect(spread(h, 10)).toEqual({ [B]: 10 });
  });
});

describe('algorithm 64 on the shared table', () => {
  const LIST = `1 sip:${A}:5070 8 10 ocmax=100\n1 sip:${B}:5072 8 5\n`;
  const flat = flatten(buildSets(parseDispatcherList(LIST, { file: 'x', loadMode: 1 }).destinations));

  it('skips a destination at its reported rate while the report is valid, then round-robins again', () => {
    const h = harness({ SIPLB_ALG: '64' }, LIST);
    expect(spread(h, 10)).toEqual({ [A]: 5, [B]: 5 });
    expect(ocSetAttrs(h.states, flat, 1, `sip:${A}:5070`, { rate: 100, validityMs: 2000, seq: 1 }, h.core.now())).toBe(1);
    expect(spread(h, 10)).toEqual({ [B]: 10 });
    h.advance(2100);
    expect(spread(h, 10)).toEqual({ [A]: 5, [B]: 5 });
  });
});
