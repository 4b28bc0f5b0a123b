// The registrar of registration-based destinations on parsed REGISTERs: which address-of-record,
// who may register, Contact and expiry rules (RFC 3261 §10.3), q to priority, and what a decision
// does to the binding table.
import { describe, expect, it } from 'vitest';
import { createParser, type SipMessage } from '../../../src/parser/index.js';
import { apply, contactLines, decide, expire, type RegistrarConfig } from '../../../src/probe/registrar.js';
import { BindingTable } from '../../../src/shared/binding-table.js';

const parser = createParser();
const cfg: RegistrarConfig = {
  sets: new Map([['media@lb.example.com', 10]]),
  allow: (a) => a.startsWith('10.'),
  minExpires: 60,
  maxExpires: 3600,
  defaultExpires: 3600,
};

function register(contacts: string[], opts: { to?: string; expires?: number } = {}): SipMessage {
  const text = [
    'REGISTER sip:lb.example.com SIP/2.0',
    'Via: SIP/2.0/UDP 10.0.0.5:5080;branch=z9hG4bK-reg-1',
    'Max-Forwards: 70',
    `From: <${opts.to ?? 'sip:media@lb.example.com'}>;tag=r1`,
    `To: <${opts.to ?? 'sip:media@lb.example.com'}>`,
    'Call-ID: reg-1@10.0.0.5',
    'CSeq: 1 REGISTER',
    ...contacts.map((c) => `Contact: ${c}`),
    ...(opts.expires === undefined ? [] : [`Expires: ${opts.expires}`]),
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
  const m = parser.parse(Buffer.from(text, 'latin1'));
  if (!m.ok) throw new Error(m.reason);
  return m.detach();
}

describe('decide', () => {
  it.each([
    ['another address-of-record', register(['<sip:ms@10.0.0.5:5080>'], { to: 'sip:other@lb.example.com' }), '10.0.0.5', 404],
    ['a source outside SIPLB_REGISTER_ALLOW', register(['<sip:ms@10.0.0.5:5080>']), '192.0.2.9', 403],
    ['a Contact host that is a name', register(['<sip:ms@media.example.com:5080>']), '10.0.0.5', 400],
    ['a TCP Contact', register(['<sip:ms@10.0.0.5:5080;transport=tcp>']), '10.0.0.5', 400],
    ['an expiry under the minimum', register(['<sip:ms@10.0.0.5:5080>;expires=30']), '10.0.0.5', 423],
    ['a wildcard without Expires: 0', register(['*'], { expires: 60 }), '10.0.0.5', 400],
    ['a q out of range', register(['<sip:ms@10.0.0.5:5080>;q=1.5']), '10.0.0.5', 400],
  ])('refuses %s', (_what, m, source, status) => {
    const d = decide(m, source, cfg);
    expect(d.kind).toBe('refuse');
    expect(d.kind === 'refuse' && d.status).toBe(status);
  });

  it('423 names the minimum', () => {
    const d = decide(register(['<sip:ms@10.0.0.5:5080>'], { expires: 10 }), '10.0.0.5', cfg);
    expect(d).toMatchObject({ kind: 'refuse', status: 423, headers: ['Min-Expires: 60'] });
  });

  it('reads expires from the Contact, else the header, else the default, capped; q gives the priority', () => {
    const d = decide(register(['<sip:a@10.0.0.5:5080>;expires=120;q=0.7', '<sip:b@10.0.0.6>', 'sip:c@10.0.0.7:5062;expires=99999'], { expires: 600 }), '10.0.0.5', cfg);
    expect(d).toEqual({
      kind: 'apply',
      setId: 10,
      removeAll: false,
      changes: [
        { uri: 'sip:a@10.0.0.5:5080', address: '10.0.0.5', port: 5080, expires: 120, priority: 700 },
        { uri: 'sip:b@10.0.0.6', address: '10.0.0.6', port: 5060, expires: 600, priority: 1000 },
        { uri: 'sip:c@10.0.0.7:5062', address: '10.0.0.7', port: 5062, expires: 3600, priority: 1000 },
      ],
    });
  });
});

describe('apply and expire', () => {
  const now = 1_800_000_000;
  it('adds, refreshes, removes one, removes all, and expires', () => {
    const t = new BindingTable(BindingTable.create(3));
    const go = (m: SipMessage) => {
      const d = decide(m, '10.0.0.5', cfg);
      if (d.kind !== 'apply') throw new Error(d.reason);
      return apply(t, d, now);
    };
    expect(go(register(['<sip:a@10.0.0.5:5080>;expires=120', '<sip:b@10.0.0.6>;expires=300']))).toMatchObject({ added: [0, 1], full: false });
    expect(go(register(['<sip:a@10.0.0.5:5080>;expires=600;q=0.5']))).toMatchObject({ added: [], updated: [0] });
    expect(contactLines(t.all(), 10, now)).toEqual(['Contact: <sip:a@10.0.0.5:5080>;expires=600;q=0.5', 'Contact: <sip:b@10.0.0.6>;expires=300;q=1']);
    // two new ones with one slot left: refused whole
    expect(go(register(['<sip:c@10.0.0.7>', '<sip:d@10.0.0.8>']))).toMatchObject({ full: true, added: [] });
    expect(t.all()).toHaveLength(2);
    expect(go(register(['<sip:b@10.0.0.6>;expires=0']))).toMatchObject({ removed: [1] });
    expect(expire(t, now + 599)).toEqual([]);
    expect(expire(t, now + 600)).toEqual([0]);
    go(register(['<sip:a@10.0.0.5>', '<sip:b@10.0.0.6>']));
    expect(go(register(['*'], { expires: 0 }))).toMatchObject({ removed: [0, 1] });
    expect(t.all()).toEqual([]);
  });
});
