import { describe, expect, it } from 'vitest';
import { SiplbConfigError } from '../../../src/errors.js';
import { createParser, type SipMessage } from '../../../src/parser/index.js';
import { compileTemplate, hashKey, renderTemplate, TEMPLATE_FIELDS, type KeyOptions } from '../../../src/dispatch/keys.js';

const parser = createParser();

function msg(lines: string[]): SipMessage {
  const r = parser.parse(Buffer.from([...lines, '', ''].join('\r\n')));
  if (!('callId' in r)) throw new Error(`test message does not parse: ${r.reason}`);
  return r.detach();
}

function invite(opts: { ruri?: string; from?: string; to?: string; extra?: string[] } = {}): SipMessage {
  return msg([
    `INVITE ${opts.ruri ?? 'sip:+15551234@gw.example.com'} SIP/2.0`,
    'Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK776asdhds',
    'Max-Forwards: 70',
    `To: ${opts.to ?? 'Bob <sip:bob@biloxi.example.com>'}`,
    `From: ${opts.from ?? 'Alice <sip:alice@atlanta.example.com>;tag=1928301774'}`,
    'Call-ID: a84b4c76e66710@pc33.atlanta.com',
    'CSeq: 314159 INVITE',
    ...(opts.extra ?? []),
    'Content-Length: 0',
  ]);
}

const o = (x: Partial<KeyOptions> = {}): KeyOptions => ({ userOnly: false, sourceIp: '192.0.2.10', sourcePort: 5062, ...x });

describe('hashKey from parsed messages', () => {
  it('algorithm 0: the Call-ID', () => {
    expect(hashKey(0, invite(), o())).toBe('a84b4c76e66710@pc33.atlanta.com');
  });

  it('algorithms 1-3: user@host of From, To and Request-URI', () => {
    const m = invite();
    expect(hashKey(1, m, o())).toBe('alice@atlanta.example.com');
    expect(hashKey(2, m, o())).toBe('bob@biloxi.example.com');
    expect(hashKey(3, m, o())).toBe('+15551234@gw.example.com');
  });

  it('adds the port only when written and not the default (5060 sip, 5061 sips)', () => {
    expect(hashKey(1, invite({ from: '<sip:alice@atlanta.example.com:5070>;tag=1' }), o())).toBe('alice@atlanta.example.com:5070');
    expect(hashKey(1, invite({ from: '<sip:alice@atlanta.example.com:5060>;tag=1' }), o())).toBe('alice@atlanta.example.com');
    expect(hashKey(2, invite({ to: '<sips:bob@biloxi.example.com:5061>' }), o())).toBe('bob@biloxi.example.com');
    expect(hashKey(2, invite({ to: '<sips:bob@biloxi.example.com:5060>' }), o())).toBe('bob@biloxi.example.com:5060');
    expect(hashKey(3, invite({ ruri: 'sip:100@[2001:db8::1]:5080' }), o())).toBe('100@[2001:db8::1]:5080');
  });

  it('module flag 1 hashes the user only; a URI without user gives an empty user', () => {
    expect(hashKey(1, invite(), o({ userOnly: true }))).toBe('alice');
    expect(hashKey(3, invite({ ruri: 'sip:gw.example.com' }), o())).toBe('@gw.example.com');
    expect(hashKey(3, invite({ ruri: 'sip:gw.example.com' }), o({ userOnly: true }))).toBe('');
  });

  it('no key for a URI without host (tel:)', () => {
    expect(hashKey(3, invite({ ruri: 'tel:+15551234' }), o())).toBeUndefined();
  });

  it('algorithm 5: digest username from Proxy-Authorization first, user part only', () => {
    const both = invite({
      extra: [
        'Authorization: Digest username="carol", realm="atlanta.example.com", nonce="x", uri="sip:a", response="y"',
        'Proxy-Authorization: Digest realm="p, q", username="dave@atlanta.example.com", nonce="n"',
      ],
    });
    expect(hashKey(5, both, o())).toBe('dave');
    expect(hashKey(5, invite({ extra: ['Authorization: Digest username="carol",realm="r"'] }), o())).toBe('carol');
    expect(hashKey(5, invite({ extra: ['Proxy-Authorization: Basic Zm9vOmJhcg==', 'Authorization: Digest username=erin'] }), o())).toBe('erin');
  });

  it('algorithm 5: no credentials, or an empty username, is no key (select falls back to round-robin)', () => {
    expect(hashKey(5, invite(), o())).toBeUndefined();
    expect(hashKey(5, invite({ extra: ['Authorization: Digest username="", realm="r"'] }), o())).toBeUndefined();
  });

  it('algorithm 7: the rendered template, trimmed', () => {
    expect(hashKey(7, invite(), o({ template: compileTemplate('$fU@$ci') }))).toBe('alice@a84b4c76e66710@pc33.atlanta.com');
    expect(() => hashKey(7, invite(), o())).toThrow(SiplbConfigError);
  });

  it('algorithms without a key give none', () => {
    for (const alg of [4, 6, 8, 9, 14, 15]) expect(hashKey(alg, invite(), o())).toBeUndefined();
  });
});

describe('templates', () => {
  const m = invite({ extra: ['X-Tenant: blue', 'Proxy-Authorization: Digest username="dave", realm="r"'] });

  it('renders every supported field', () => {
    const t = compileTemplate('$ci|$fu|$fU|$fd|$tu|$tU|$td|$ru|$rU|$rd|$si|$sp|$au|$hdr(X-Tenant)');
    expect(renderTemplate(t, m, o()).split('|')).toEqual([
      'a84b4c76e66710@pc33.atlanta.com', 'sip:alice@atlanta.example.com', 'alice', 'atlanta.example.com',
      'sip:bob@biloxi.example.com', 'bob', 'biloxi.example.com', 'sip:+15551234@gw.example.com', '+15551234', 'gw.example.com',
      '192.0.2.10', '5062', 'dave', 'blue',
    ]);
  });

  it('prints an absent value as <null>, as Kamailio pv_printf does', () => {
    expect(renderTemplate(compileTemplate('$hdr(X-None)-$rU'), invite({ ruri: 'sip:gw.example.com' }), o())).toBe('<null>-<null>');
  });

  const BAD: [string, RegExp][] = [
    ['$xx', /unknown field \$xx/],
    ['$fu@$nope', /unknown field \$nope/],
    ['$FU', /unknown field \$FU/], // names are case-sensitive: $fu and $fU differ
    ['$ci$', /a "\$" that starts no field/],
    ['a$1b$ci', /a "\$" that starts no field/],
    ['$hdr', /\$hdr needs a header name/],
    ['$ci(x)', /\$ci takes no argument/],
    ['literal', /no field/],
  ];

  it.each(BAD)('%j is refused with the list of supported fields', (t, why) => {
    let err: unknown;
    try {
      compileTemplate(t);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SiplbConfigError);
    expect((err as SiplbConfigError).variable).toBe('SIPLB_HASH_TEMPLATE');
    expect((err as Error).message).toMatch(why);
    for (const f of TEMPLATE_FIELDS) expect((err as Error).message).toContain(f);
  });
});
