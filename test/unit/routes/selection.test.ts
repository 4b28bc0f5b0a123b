// Routing rules through the real proxy core (test/helpers/core-harness.ts): each rule selects from
// its own set with its own algorithm and round-robin, failover stays inside the set the rule chose,
// a rule can reject, hits are counted per rule, and new rules swap in at once.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { harness, UAC, type Harness } from '../../helpers/core-harness.js';
import { request, response, startLine } from '../../helpers/sip-messages.js';
import { compileRoutes } from '../../../src/dispatch/routes.js';

const LIST = [
  '1 sip:127.0.0.11:5070 0 10', '1 sip:127.0.0.12:5072 0 5',
  '2 sip:127.0.0.21:5080 0 10', '2 sip:127.0.0.22:5082 0 5', '2 sip:127.0.0.23:5084 0 1',
].join('\n') + '\n';

function rulesFile(text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'siplb-routes-')), 'routes.yaml');
  writeFileSync(file, text);
  return file;
}

const VM = 'rules:\n  - name: vm\n    match: { prefix: "*97" }\n    set: 2\n    alg: 4\n  - match: { prefix: "900" }\n    reject: 404\n    reason: Closed\n';

let seq = 0;
function call(h: Harness, user: string, method = 'MESSAGE'): { to: string; status: string | undefined; branch: string; id: string } {
  const id = `c${++seq}`;
  const sent = h.feed(request({ method, ruri: `sip:${user}@127.0.0.1:5060`, callId: id, via: [`SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-${id};rport`], contact: null }), UAC);
  const fwd = sent.find((s) => startLine(s.bytes).startsWith(method));
  const reply = sent.find((s) => startLine(s.bytes).startsWith('SIP/2.0') && !startLine(s.bytes).includes('100'));
  const branch = fwd ? /branch=([^;\r\n]+)/.exec(fwd.text)![1]! : '';
  return { to: fwd?.address ?? 'none', status: reply ? startLine(reply.bytes) : undefined, branch, id };
}

describe('routing rules in the proxy core', () => {
  it('sends a rule\'s requests to its set, round-robin of its own, and the rest to SIPLB_SET', () => {
    const h = harness({ SIPLB_ROUTES: rulesFile(VM), SIPLB_ALG: '4' }, LIST);
    const vm = [1, 2, 3, 4, 5, 6].map(() => call(h, '*97100').to);
    const other = [1, 2, 3, 4].map(() => call(h, 'alice').to);
    expect(vm).toEqual(['127.0.0.21', '127.0.0.22', '127.0.0.23', '127.0.0.21', '127.0.0.22', '127.0.0.23']);
    expect(other).toEqual(['127.0.0.11', '127.0.0.12', '127.0.0.11', '127.0.0.12']);
    expect([...h.core.selector.hits]).toEqual([6, 0, 4]);
  });

  it('answers a rejecting rule with its status and reason, and counts it', () => {
    const h = harness({ SIPLB_ROUTES: rulesFile(VM) }, LIST);
    const r = call(h, '900555');
    expect(r.to).toBe('none');
    expect(r.status).toBe('SIP/2.0 404 Closed');
    expect([...h.core.selector.hits]).toEqual([0, 1, 0]);
  });

  it('fails over inside the set the rule chose', () => {
    const h = harness({ SIPLB_ROUTES: rulesFile(VM) }, LIST);
    const first = call(h, '*97100');
    expect(first.to).toBe('127.0.0.21');
    const via = [`SIP/2.0/UDP 127.0.0.1:5060;branch=${first.branch}`, `SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-${first.id};rport`];
    const next = h.feed(response({ status: 503, via, callId: first.id, cseqMethod: 'MESSAGE' }), { address: '127.0.0.21', port: 5080, socket: 0 });
    const retry = next.find((s) => startLine(s.bytes).startsWith('MESSAGE'));
    expect(retry?.address).toBe('127.0.0.22');
  });

  it('a rule naming an empty set gets SIPLB_NO_DEST_CODE', () => {
    const h = harness({ SIPLB_ROUTES: rulesFile('rules:\n  - match: { prefix: "7" }\n    set: 9\n'), SIPLB_NO_DEST_CODE: '480' }, LIST);
    expect(call(h, '7001').status).toMatch(/^SIP\/2.0 480 /);
  });

  it('takes new rules at once; a (set, algorithm) pair kept keeps its round-robin position', () => {
    const h = harness({ SIPLB_ROUTES: rulesFile(VM) }, LIST);
    expect(call(h, '*97').to).toBe('127.0.0.21');
    h.core.setRoutes(compileRoutes('rules:\n  - match: { prefix: "*98" }\n    set: 2\n    alg: 4\n', 'new.yaml'));
    expect(call(h, '*97').to).toBe('127.0.0.11'); // the old rule is gone
    expect(call(h, '*98').to).toBe('127.0.0.22'); // set 2's round-robin went on
    expect([...h.core.selector.hits]).toEqual([1, 1]);
    h.core.setRoutes(undefined);
    expect(call(h, '*98').to).toBe('127.0.0.12');
  });

  it('a rule with algorithm 10 brings call-load tracking with it', () => {
    const h = harness({ SIPLB_ROUTES: rulesFile('rules:\n  - match: { prefix: "*97" }\n    set: 2\n    alg: 10\n') }, LIST);
    expect(h.core.callLoad).toBeDefined();
    expect(harness({}, LIST).core.callLoad).toBeUndefined();
  });

  it('refuses a rule with algorithm 12 in a stateless core', () => {
    expect(() => harness({ SIPLB_MODE: 'stateless' }, LIST).core.setRoutes(compileRoutes({ rules: [{ set: 2, alg: 12 }] }, 'x.json'))).toThrow(/algorithm 12/);
  });
});
