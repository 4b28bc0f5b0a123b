// Routing rules (SIPLB_ROUTES) in a real siplb, inline and with two dispatch workers: voicemail
// INVITEs (*97...) go to set 2 round-robin, a carrier's source block to set 3, a closed prefix is
// answered 404, the rest goes to SIPLB_SET; `siplb ctl routes` and siplb.routes show the hits
// summed over the threads; a bad rules file stops the start with one line naming SIPLB_ROUTES.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freeTcpPort, freeUdpPort, startProxy, writeList, type ProxyProcess } from '../../helpers/proxy-process.js';
import { describeResult, runCliEnv } from '../../helpers/run-cli.js';
import { Peer, answer } from '../../helpers/udp-peer.js';

const open: Array<Peer | ProxyProcess> = [];
afterEach(async () => {
  for (const x of open.splice(0)) await ('stop' in x ? x.stop() : x.close());
});

function rulesFile(name: string, text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'siplb-routes-')), name);
  writeFileSync(file, text);
  return file;
}

const RULES = `
rules:
  - name: voicemail
    match: { method: INVITE, prefix: "*97" }
    set: 2
    alg: 4
  - name: carrier
    match: { source: 127.0.0.2/32 }
    set: 3
  - name: closed
    match: { prefix: "900" }
    reject: 404
`;

async function backend(): Promise<Peer & { got: (method: string) => number }> {
  const p = await Peer.open();
  open.push(p);
  p.onMessage = (r) => {
    if (!r.first.startsWith('SIP/2.0') && !r.first.startsWith('ACK')) p.send(answer(r.text, 200, 'OK', { toTag: 'b' }), r.from.port, r.from.address);
  };
  return Object.assign(p, { got: (method: string) => p.received.filter((r) => r.first.startsWith(`${method} `)).length });
}

let n = 0;
/** Sends one request from `uac` and waits for its final answer; returns the status line. */
async function ask(uac: Peer, proxyPort: number, method: string, user: string): Promise<string> {
  const k = ++n;
  const id = `rt-${k}@test`;
  uac.send(
    `${method} sip:${user}@127.0.0.1:${proxyPort} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:${uac.port};branch=z9hG4bK-rt-${k};rport\r\nMax-Forwards: 70\r\n` +
      `From: <sip:a@127.0.0.1>;tag=t${k}\r\nTo: <sip:${user}@127.0.0.1>\r\nCall-ID: ${id}\r\nCSeq: 1 ${method}\r\nContact: <sip:a@127.0.0.1:${uac.port}>\r\nContent-Length: 0\r\n\r\n`,
    proxyPort,
  );
  const final = (): string | undefined => uac.received.find((r) => r.text.includes(`Call-ID: ${id}`) && /^SIP\/2.0 [2-6]/.test(r.first))?.first;
  await uac.waitFor(() => final() !== undefined, 5000);
  return final()!;
}

describe.each([0, 2])('routing rules, SIPLB_WORKERS=%i', (workers) => {
  it('routes by prefix, method and source, rejects a closed prefix, and counts hits per rule', async () => {
    const [a1, a2, b1, b2, c] = [await backend(), await backend(), await backend(), await backend(), await backend()];
    const list = [a1, a2].map((p) => `1 sip:127.0.0.1:${p.port}`).concat([b1, b2].map((p) => `2 sip:127.0.0.1:${p.port}`), [`3 sip:127.0.0.1:${c.port}`]);
    const admin = await freeTcpPort();
    const proxy = await startProxy({
      SIPLB_LIST_FILE: writeList(`${list.join('\n')}\n`),
      SIPLB_ROUTES: rulesFile('routes.yaml', RULES),
      SIPLB_ALG: '4',
      SIPLB_WORKERS: String(workers),
      SIPLB_WARMUP_CALLS: '0',
      SIPLB_ADMIN: `127.0.0.1:${admin}`,
    });
    open.unshift(proxy);
    const uac = await Peer.open();
    const carrier = await Peer.open(0, '127.0.0.2');
    open.push(uac, carrier);

    for (let i = 0; i < 8; i++) expect(await ask(uac, proxy.port, 'INVITE', `*97${100 + i}`)).toBe('SIP/2.0 200 OK');
    for (let i = 0; i < 4; i++) expect(await ask(uac, proxy.port, 'INVITE', `alice${i}`)).toBe('SIP/2.0 200 OK');
    expect(await ask(uac, proxy.port, 'MESSAGE', '*97100')).toBe('SIP/2.0 200 OK'); // voicemail takes INVITEs only
    for (let i = 0; i < 3; i++) expect(await ask(carrier, proxy.port, 'INVITE', `+1555000${i}`)).toBe('SIP/2.0 200 OK');
    expect(await ask(uac, proxy.port, 'INVITE', '900123')).toBe('SIP/2.0 404 Not Found');

    expect(b1.got('INVITE') + b2.got('INVITE')).toBe(8);
    // each thread has its own round-robin per rule: inline it alternates exactly
    if (workers === 0) expect([b1.got('INVITE'), b2.got('INVITE')]).toEqual([4, 4]);
    else expect(Math.min(b1.got('INVITE'), b2.got('INVITE'))).toBeGreaterThanOrEqual(3);
    expect(a1.got('INVITE') + a2.got('INVITE')).toBe(4);
    expect(a1.got('MESSAGE') + a2.got('MESSAGE')).toBe(1);
    expect(c.got('INVITE')).toBe(3);
    expect(b1.got('MESSAGE') + b2.got('MESSAGE') + c.got('MESSAGE')).toBe(0);

    const ctl = await runCliEnv(['ctl', 'routes'], { SIPLB_ADMIN: `127.0.0.1:${admin}` });
    expect(ctl.code, describeResult(ctl)).toBe(0);
    const rows = ctl.stdout.split('\n').map((l) => l.split(/\s{2,}/));
    expect(rows.slice(0, 5)).toEqual([
      ['#', 'NAME', 'MATCH', 'SET', 'ALG', 'HITS'],
      ['1', 'voicemail', 'method INVITE, user *97*', '2', '4', '8'],
      ['2', 'carrier', 'source 127.0.0.2/32', '3', '4', '3'],
      ['3', 'closed', 'user 900*', 'reject 404', '-', '1'],
      ['4', 'default', 'no rule above matched', '1', '4', '5'],
    ]);
    expect(ctl.stdout).toContain('3 rules from ');

    const rpc = (await (await fetch(`http://127.0.0.1:${admin}/RPC`, { method: 'POST', body: JSON.stringify({ jsonrpc: '2.0', method: 'siplb.routes', id: 7 }) })).json()) as {
      id: number;
      result: { file: string; rules: Array<{ number: number; hits: number; set: number | null; reject: number | null }> };
    };
    expect(rpc.id).toBe(7);
    expect(rpc.result.file).toMatch(/routes\.yaml$/);
    expect(rpc.result.rules.map((r) => [r.number, r.set, r.reject, r.hits])).toEqual([[1, 2, null, 8], [2, 3, null, 3], [3, null, 404, 1], [4, 1, null, 5]]);
  }, 30_000);
});

describe('a bad rules file', () => {
  it('stops the start with one line naming SIPLB_ROUTES, the file, the rule and the field', async () => {
    const file = rulesFile('bad.yaml', 'rules:\n  - name: vm\n    match: { prefix: "*97", user_regex: "(" }\n    set: 2\n');
    const r = await runCliEnv(['start'], { SIPLB_ROUTES: file, SIPLB_LISTEN: `udp:127.0.0.1:${await freeUdpPort()}`, SIPLB_ADMIN: '', SIPLB_WARMUP_CALLS: '0' });
    expect(r.code, describeResult(r)).toBe(1);
    const lines = r.stderr.split('\n').filter((l) => l !== '');
    expect(lines, r.stderr).toHaveLength(1);
    expect(lines[0]).toContain(`SIPLB_ROUTES: ${file}: rule 1 (vm): match.user_regex: Invalid regular expression`);
  });
});
