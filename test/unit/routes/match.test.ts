// Which rule a request matches: data-driven cases over real parsed messages, one rules file.
import { describe, expect, it } from 'vitest';
import { createParser, type SipMessage } from '../../../src/parser/index.js';
import { compileRoutes, matchRoute, matchSummary } from '../../../src/dispatch/routes.js';

const RULES = `
rules:
  - name: vm
    match: { method: INVITE, prefix: ["*97", "*98"] }
    set: 2
  - name: conf
    match: { user_regex: "^conf-[0-9]{4}$", domain: "*.example.com" }
    set: 3
  - name: exact-domain
    match: { domain: [Voice.Example.NET, "[2001:db8::1]"] }
    set: 4
  - name: trunks
    match: { source: [203.0.113.0/24, "2001:db8:100::/48"], method: [invite, FOO] }
    set: 5
  - name: tenant
    match: { header: [{ name: X-Tenant, regex: "^b" }, { name: f, regex: "@partner\\\\.example" }] }
    set: 6
  - name: subscribe
    match: { method: SUBSCRIBE }
    reject: 405
`;
const rules = compileRoutes(RULES, 'r.yaml').rules;
const parser = createParser();

function msg(method: string, ruri: string, extra: string[] = [], from = 'sip:alice@atlanta.example.com'): SipMessage {
  const text = [
    `${method} ${ruri} SIP/2.0`,
    'Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds',
    'Max-Forwards: 70',
    'To: <sip:bob@biloxi.example.com>',
    `From: <${from}>;tag=1928301774`,
    'Call-ID: a84b4c76e66710@pc33.atlanta.com',
    `CSeq: 1 ${method}`,
    ...extra,
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
  const r = parser.parse(Buffer.from(text));
  if (!('callId' in r)) throw new Error(`test message does not parse: ${r.reason}`);
  return r.detach();
}

// [what, method, Request-URI, source address, extra headers, From URI, rule name or 'default']
const cases: Array<[string, string, string, string, string[], string?, string?]> = [
  ['voicemail prefix', 'INVITE', 'sip:*97100@pbx.example.org', '192.0.2.1', [], undefined, 'vm'],
  ['second prefix', 'INVITE', 'sip:*98@pbx.example.org', '192.0.2.1', [], undefined, 'vm'],
  ['prefix but not INVITE', 'MESSAGE', 'sip:*97100@pbx.example.org', '192.0.2.1', [], undefined, 'default'],
  ['prefix elsewhere in the user', 'INVITE', 'sip:100*97@pbx.example.org', '192.0.2.1', [], undefined, 'default'],
  ['no user at all', 'INVITE', 'sip:pbx.example.org', '192.0.2.1', [], undefined, 'default'],
  ['regex and wildcard domain', 'INVITE', 'sip:conf-1234@bridge.eu.example.com', '192.0.2.1', [], undefined, 'conf'],
  ['wildcard domain, any case', 'INVITE', 'sip:conf-1234@Bridge.EXAMPLE.com', '192.0.2.1', [], undefined, 'conf'],
  ['wildcard does not match the bare domain', 'INVITE', 'sip:conf-1234@example.com', '192.0.2.1', [], undefined, 'default'],
  ['regex fails', 'INVITE', 'sip:conf-12@bridge.example.com', '192.0.2.1', [], undefined, 'default'],
  ['exact domain, any case', 'OPTIONS', 'sip:x@voice.example.net', '192.0.2.1', [], undefined, 'exact-domain'],
  ['exact domain, IPv6 reference', 'OPTIONS', 'sip:x@[2001:db8::1]:5060', '192.0.2.1', [], undefined, 'exact-domain'],
  ['exact domain is not a suffix', 'OPTIONS', 'sip:x@a.voice.example.net', '192.0.2.1', [], undefined, 'default'],
  ['carrier block', 'INVITE', 'sip:+15551234@gw', '203.0.113.77', [], undefined, 'trunks'],
  ['carrier IPv6 block', 'INVITE', 'sip:+15551234@gw', '2001:db8:100:5::9', [], undefined, 'trunks'],
  ['carrier IPv4-mapped source', 'INVITE', 'sip:+15551234@gw', '::ffff:203.0.113.8', [], undefined, 'trunks'],
  ['unknown method by name', 'FOO', 'sip:+15551234@gw', '203.0.113.77', [], undefined, 'trunks'],
  ['carrier, other method', 'MESSAGE', 'sip:+15551234@gw', '203.0.113.77', [], undefined, 'default'],
  ['outside the block', 'INVITE', 'sip:+15551234@gw', '203.0.114.1', [], undefined, 'default'],
  ['two header conditions', 'INVITE', 'sip:x@gw', '192.0.2.1', ['X-Tenant: b-17'], 'sip:bob@partner.example', 'tenant'],
  ['header in any case', 'INVITE', 'sip:x@gw', '192.0.2.1', ['x-tenant: b'], 'sip:bob@partner.example', 'tenant'],
  ['one header condition fails', 'INVITE', 'sip:x@gw', '192.0.2.1', ['X-Tenant: a-17'], 'sip:bob@partner.example', 'default'],
  ['header absent', 'INVITE', 'sip:x@gw', '192.0.2.1', [], 'sip:bob@partner.example', 'default'],
  ['reject rule', 'SUBSCRIBE', 'sip:x@gw', '192.0.2.1', [], undefined, 'subscribe'],
  ['first match wins', 'INVITE', 'sip:*97@bridge.example.com', '203.0.113.77', [], undefined, 'vm'],
];

describe('matchRoute', () => {
  it.each(cases)('%s', (_what, method, ruri, source, extra, from, expected) => {
    const i = matchRoute(rules, msg(method, ruri, extra, from), source);
    expect(i < 0 ? 'default' : rules[i]!.spec.name).toBe(expected);
  });

  it('a header condition holds whichever form, long or compact, the message or the rule uses', () => {
    const compact = compileRoutes('rules:\n  - match: { header: { name: From, regex: "@partner" } }\n    set: 2\n', 'c.yaml').rules;
    const text = msg('INVITE', 'sip:x@gw').startLine + '\r\nv: SIP/2.0/UDP 192.0.2.10;branch=z9hG4bK1\r\nf: <sip:bob@partner.example>;tag=1\r\nt: <sip:x@gw>\r\ni: c1\r\nCSeq: 1 INVITE\r\nl: 0\r\n\r\n';
    const r = parser.parse(Buffer.from(text));
    if (!('callId' in r)) throw new Error(r.reason);
    expect(matchRoute(compact, r, '192.0.2.1')).toBe(0);
    expect(matchRoute(rules, r, '192.0.2.1')).toBe(-1); // the tenant rule also wants X-Tenant
  });

  it('summarises each rule in one line', () => {
    expect(rules.map((r) => matchSummary(r.spec))).toEqual([
      'method INVITE, user *97*|*98*',
      'user ~ /^conf-[0-9]{4}$/, domain *.example.com',
      'domain voice.example.net|[2001:db8::1]',
      'method INVITE|FOO, source 203.0.113.0/24,2001:db8:100::/48',
      'X-Tenant ~ /^b/, f ~ /@partner\\.example/',
      'method SUBSCRIBE',
    ]);
  });
});
