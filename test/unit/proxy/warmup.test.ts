// Warm-up: every scratch call goes the whole way through a core built like the real one, in both
// modes and both families, and the real core's state is not touched.
import { describe, expect, it } from 'vitest';
import { warmUp } from '../../../src/proxy/warmup.js';
import { DEFAULT_LIST, harness } from '../../helpers/core-harness.js';
import { request, startLine } from '../../helpers/sip-messages.js';
import { DS_INACTIVE } from '../../../src/shared/dest-state.js';

describe('warmUp', () => {
  it.each([
    ['4', 'stateful', 'udp:127.0.0.1:5060', DEFAULT_LIST],
    ['4', 'stateless', 'udp:127.0.0.1:5060', DEFAULT_LIST],
    ['4', 'stateful', 'udp:[::1]:5060', '1 sip:[::1]:5070\n1 sip:[::1]:5072\n'],
    // parallel forking: the scratch INVITE goes to both, the last one forked answers
    ['12', 'stateful', 'udp:127.0.0.1:5060', DEFAULT_LIST],
  ])('SIPLB_ALG=%s, %s on %s: every call completes on a private copy', (alg, mode, listen, list) => {
    const h = harness({ SIPLB_MODE: mode, SIPLB_ALG: alg, SIPLB_LISTEN: listen }, list);
    const flags = h.states.snapshot();
    const r = warmUp(h.core.config, flags, 300);
    expect(r).toMatchObject({ calls: 300, completed: 300 });
    expect(r.ms).toBeGreaterThanOrEqual(0);
    // the real core saw nothing: no counter moved, no transaction, round-robin not advanced
    expect(Object.values(h.core.counters.values).every((v) => v === 0)).toBe(true);
    expect(h.core.pending).toBe(0);
    expect(h.states.snapshot()).toEqual(flags);
  });

  it('a destination marked down stays down in the real table and is not used by the scratch core', () => {
    const h = harness({ SIPLB_ALG: '4' });
    h.states.mark(0, DS_INACTIVE);
    const flags = h.states.snapshot();
    expect(warmUp(h.core.config, flags, 50).completed).toBe(50);
    expect(h.states.snapshot()).toEqual(flags);
    // the real core still routes (to the live destination)
    const out = h.feed(request(), { address: '127.0.0.1', port: 5061, socket: 0 });
    expect(out.some((s) => startLine(s.bytes).startsWith('INVITE '))).toBe(true);
  });
});
