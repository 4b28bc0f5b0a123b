// Via branches: unique in stateful mode, a pure function of the transaction in stateless mode.
import { describe, expect, it } from 'vitest';
import { MAGIC_COOKIE, STATEFUL_PREFIX, STATELESS_PREFIX, statefulBranch, statelessBranch, verifyStatelessBranch } from '../../../src/sip/branch.js';
import { deriveKeys } from '../../../src/sip/keys.js';
import { invite, parseOk, parsers, sip } from './messages.js';

const TOKEN = /^[A-Za-z0-9\-.!%*_+`'~]+$/; // RFC 3261 25.1
const { input } = parsers();
const KEYS = deriveKeys('branch test secret 0123');
const HOP = { address: '192.0.2.10', port: 5062 };
const branchOf = (bytes: Buffer, hop = HOP): string => statelessBranch(parseOk(input, bytes), KEYS.branch, hop);

describe('statefulBranch', () => {
  it('gives 100,000 distinct tokens with the magic cookie and the stateful marker', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 100_000; i++) seen.add(statefulBranch());
    expect(seen.size).toBe(100_000);
    for (const b of [...seen].slice(0, 1000)) {
      expect(b.startsWith(STATEFUL_PREFIX)).toBe(true);
      expect(b).toMatch(TOKEN);
    }
  });
});

/** A request of the INVITE's transaction family: same Call-ID, CSeq number, top Via, Request-URI. */
function request(method: string, opts: { branch?: string; toTag?: string; cseq?: number; uri?: string; sentBy?: string } = {}): Buffer {
  const uri = opts.uri ?? 'sip:bob@biloxi.example.com';
  const branch = opts.branch === undefined ? ';branch=z9hG4bK776asdhds' : opts.branch ? `;branch=${opts.branch}` : '';
  return sip([
    `${method} ${uri} SIP/2.0`,
    `Via: SIP/2.0/UDP ${opts.sentBy ?? '192.0.2.10:5062'}${branch}`,
    'Max-Forwards: 70',
    `To: Bob <sip:bob@biloxi.example.com>${opts.toTag ? `;tag=${opts.toTag}` : ''}`,
    'From: Alice <sip:alice@atlanta.example.com>;tag=1928301774',
    'Call-ID: a84b4c76e66710@pc33.atlanta.example.com',
    `CSeq: ${opts.cseq ?? 314159} ${method}`,
    'Content-Length: 0',
  ]);
}

describe('statelessBranch (RFC 3261 16.11)', () => {
  it('is deterministic: a retransmission gets the same branch', () => {
    const a = branchOf(invite());
    expect(branchOf(invite())).toBe(a);
    expect(a.startsWith(STATELESS_PREFIX)).toBe(true);
    expect(a.startsWith(MAGIC_COOKIE)).toBe(true);
    expect(a).toMatch(TOKEN);
  });

  it('gives CANCEL and the ACK of a non-2xx the INVITE branch', () => {
    const inv = branchOf(request('INVITE'));
    expect(branchOf(request('CANCEL'))).toBe(inv);
    expect(branchOf(request('ACK', { toTag: 'a6c85cf' }))).toBe(inv);
  });

  it('differs across transactions', () => {
    const all = [
      branchOf(request('INVITE')),
      branchOf(request('INVITE', { branch: 'z9hG4bK776asdhdt' })),
      branchOf(request('INVITE', { sentBy: '192.0.2.11:5062' })),
      branchOf(request('ACK', { branch: 'z9hG4bKnew2xxack', toTag: 'a6c85cf' })), // ACK of a 2xx: its own branch
    ];
    expect(new Set(all).size).toBe(all.length);
  });

  it('without the magic cookie (RFC 2543) hashes the transaction fields, CANCEL and ACK included', () => {
    const inv = branchOf(request('INVITE', { branch: '' }));
    expect(branchOf(request('INVITE', { branch: '' }))).toBe(inv);
    expect(branchOf(request('CANCEL', { branch: '' }))).toBe(inv);
    expect(branchOf(request('ACK', { branch: '', toTag: 'x' }))).toBe(inv);
    expect(branchOf(request('INVITE', { branch: 'oldstyle1' }))).not.toBe(inv);
    const others = [
      branchOf(request('BYE', { branch: '', cseq: 314160, toTag: 'x' })),
      branchOf(request('INVITE', { branch: '', uri: 'sip:carol@biloxi.example.com' })),
      branchOf(request('INVITE', { branch: '', cseq: 1 })),
      branchOf(request('INVITE', { branch: '', toTag: 'y' })),
    ];
    expect(new Set([inv, ...others]).size).toBe(others.length + 1);
  });

  it('is keyed to the hop its responses go to: it verifies for that hop only, and only with our key', () => {
    const b = branchOf(request('INVITE'));
    const callId = 'a84b4c76e66710@pc33.atlanta.example.com';
    expect(verifyStatelessBranch(b, KEYS.branch, callId, HOP)).toBe(true);
    expect(verifyStatelessBranch(b, KEYS.branch, callId, { address: '198.51.100.7', port: 5062 })).toBe(false);
    expect(verifyStatelessBranch(b, KEYS.branch, callId, { address: HOP.address, port: 5099 })).toBe(false);
    expect(verifyStatelessBranch(b, KEYS.branch, 'another-call', HOP)).toBe(false);
    expect(verifyStatelessBranch(b, deriveKeys('another secret 0123').branch, callId, HOP)).toBe(false);
    expect(branchOf(request('INVITE'), { address: '198.51.100.7', port: 5062 })).not.toBe(b);
    for (const forged of [`${STATELESS_PREFIX}${'0'.repeat(22)}`, b.slice(0, -1) + (b.endsWith('A') ? 'B' : 'A'), `${b}x`, 'z9hG4bKanything']) {
      expect(verifyStatelessBranch(forged, KEYS.branch, callId, HOP), forged).toBe(false);
    }
  });
});
