// Host names and SRV names in the list (issue 11, DNS destinations), against a real DNS server:
// dnsmasq on 127.0.0.1:5353 inside a private network namespace, answering from a hosts file and
// --srv-host entries, with siplb in the same namespace pointed at it (SIPLB_DNS_SERVERS) and
// looking names up again every second (SIPLB_DS_DNS_INTERVAL=1). A host name moves from media
// server A to B (new hosts file, SIGHUP: dnsmasq reads it again) and new calls follow it while the
// destination keeps its state; an SRV name with two targets is two destinations that share the
// calls, and a target taken out of DNS (dnsmasq restarted without it) leaves the list.
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Netns, netnsAvailable, type NsSocket } from '../helpers/netns.js';
import { type NsProxy, startNsProxy } from '../helpers/ns-proxy.js';
import { placeCall, UasPeer } from '../helpers/ns-sip.js';

const A = {
  proxy: { host: '10.0.0.1', port: 5060 },
  caller: { host: '10.0.2.20', port: 5062 },
  msA: { host: '10.0.1.10', port: 5070 },
  msB: { host: '10.0.1.11', port: 5070 },
  s1: { host: '10.0.1.21', port: 5081 },
  s2: { host: '10.0.1.22', port: 5082 },
};
const DNS = '127.0.0.1:5353';
const ADMIN = '127.0.0.1:5081';
const BIN = join(import.meta.dirname, '..', '..', 'bin', 'siplb.js');
const SRV = ['_sip._udp.pool.test,s1.test,5081,10,50', '_sip._udp.pool.test,s2.test,5082,10,50'];

const available = netnsAvailable('the DNS destination tests (test/e2e/dns-destinations.test.ts)');

let ns: Netns;
let dir: string;
let dnsmasq: ChildProcess;
let proxy: NsProxy;
let caller: NsSocket;
let servers: Record<'msA' | 'msB' | 's1' | 's2', UasPeer>;

function hosts(media: string): void {
  writeFileSync(join(dir, 'hosts'), `${media} media.test\n${A.s1.host} s1.test\n${A.s2.host} s2.test\n`);
}

/** dnsmasq in the namespace: only the hosts file and `srv` entries, authoritative for .test, no cache TTL. */
async function startDns(srv: readonly string[]): Promise<void> {
  dnsmasq = ns.spawn('dnsmasq', [
    '--keep-in-foreground', '--conf-file=/dev/null', '--no-resolv', '--no-hosts', `--addn-hosts=${join(dir, 'hosts')}`,
    '--port=5353', '--listen-address=127.0.0.1', '--bind-interfaces', '--user=root', '--pid-file=', '--log-facility=-',
    '--local=/test/', '--local-ttl=0', ...srv.map((s) => `--srv-host=${s}`),
  ]);
  let err = '';
  dnsmasq.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const until = Date.now() + 5_000;
  while (!/read .*hosts/.test(err)) {
    if (Date.now() > until || dnsmasq.exitCode !== null) throw new Error(`dnsmasq did not start:\n${err}`);
    await sleep(50);
  }
}

async function stopDns(): Promise<void> {
  if (dnsmasq.exitCode !== null) return;
  const gone = new Promise((r) => dnsmasq.once('exit', r));
  dnsmasq.kill('SIGTERM');
  await gone;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Dest {
  URI: string;
  FLAGS: string;
  PRIORITY: number;
  TARGET?: string;
  ATTRS: { WEIGHT: number };
}

/** dispatcher.list through `siplb ctl list --json`, run in the namespace as an operator would. */
async function list(): Promise<Dest[]> {
  const r = await ns.run(process.execPath, [BIN, 'ctl', 'list', '--json'], 10_000, { env: { SIPLB_ADMIN: ADMIN } });
  if (r.code !== 0) throw new Error(`ctl list failed: ${r.stderr}`);
  const answer = JSON.parse(r.stdout) as { RECORDS: Array<{ SET: { TARGETS: Array<{ DEST: Dest }> } }> };
  return answer.RECORDS.flatMap((s) => s.SET.TARGETS.map((t) => t.DEST));
}

async function until<T>(what: string, get: () => Promise<T>, ok: (v: T) => boolean, ms = 8_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await get();
    if (ok(v)) return v;
    if (Date.now() > end) throw new Error(`${what}: still ${JSON.stringify(v)}`);
    await sleep(200);
  }
}

/** `n` calls; which media server got each INVITE. */
async function calls(n: number): Promise<Record<string, number>> {
  const got: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const d = await placeCall(caller, A.proxy);
    const who = Object.entries(servers).find(([, s]) => s.requests(d.callId).length > 0)?.[0] ?? 'none';
    got[who] = (got[who] ?? 0) + 1;
  }
  return got;
}

beforeAll(async () => {
  if (!available) return;
  ns = Netns.create([A.proxy.host, A.caller.host, A.msA.host, A.msB.host, A.s1.host, A.s2.host]);
  dir = mkdtempSync(join(tmpdir(), 'siplb-dns-'));
  hosts(A.msA.host);
  await startDns(SRV);
  const agent = await ns.agent();
  const probe = await agent.bind(A.caller.host, 0);
  caller = await agent.bind(A.caller.host, A.caller.port);
  new UasPeer(caller);
  servers = {
    msA: new UasPeer(await agent.bind(A.msA.host, A.msA.port)),
    msB: new UasPeer(await agent.bind(A.msB.host, A.msB.port)),
    s1: new UasPeer(await agent.bind(A.s1.host, A.s1.port)),
    s2: new UasPeer(await agent.bind(A.s2.host, A.s2.port)),
  };
  proxy = await startNsProxy(ns, probe, {
    ...A.proxy,
    // round-robin (algorithm 4) over the host name's destination and the SRV name's two targets
    list: '1 sip:media.test:5070 0 0\n1 sip:pool.test 0 0\n',
    env: { SIPLB_ALG: '4', SIPLB_ADMIN: ADMIN, SIPLB_DNS_SERVERS: DNS, SIPLB_DS_DNS_INTERVAL: '1', SIPLB_LOG_LEVEL: 'info' },
  });
}, 40_000);

afterAll(async () => {
  if (!available) return;
  await proxy?.stop();
  await ns.close();
});

describe.skipIf(!available)('DNS destinations (dnsmasq in a private namespace)', () => {
  it('expands an SRV name to one destination per target, each taking its share of the calls', async () => {
    const dests = await list();
    expect(dests.map((d) => [d.URI, d.TARGET ?? ''])).toEqual(
      expect.arrayContaining([
        ['sip:media.test:5070', ''],
        ['sip:pool.test', 's1.test:5081'],
        ['sip:pool.test', 's2.test:5082'],
      ]),
    );
    expect(dests).toHaveLength(3);
    // equal SRV weights: half of the set's 100 weight slots each
    expect(dests.filter((d) => d.TARGET !== undefined).map((d) => d.ATTRS.WEIGHT)).toEqual([50, 50]);
    expect(await calls(6)).toEqual({ msA: 2, s1: 2, s2: 2 });
  }, 30_000);

  it('follows a host name to its new address, the destination keeping its state', async () => {
    // an operator mark the destination must keep: trying (still selected), no keepalives here
    const r = await ns.run(process.execPath, [BIN, 'ctl', 'set-state', 't', '1', 'sip:media.test:5070'], 10_000, { env: { SIPLB_ADMIN: ADMIN } });
    expect(r.code, r.stderr).toBe(0);
    hosts(A.msB.host);
    dnsmasq.kill('SIGHUP');
    await until('a call to the new address', () => calls(3), (got) => got.msB === 1);
    const media = (await list()).find((d) => d.URI === 'sip:media.test:5070');
    expect(media?.FLAGS).toBe('TX');
    expect(await calls(6)).toEqual({ msB: 2, s1: 2, s2: 2 });
  }, 30_000);

  it('drops an SRV target that leaves DNS, and the rest keep the calls', async () => {
    await stopDns();
    await startDns(SRV.slice(0, 1));
    const dests = await until('the list without s2', list, (ds) => ds.length === 2);
    expect(dests.map((d) => d.TARGET ?? d.URI).sort()).toEqual(['s1.test:5081', 'sip:media.test:5070']);
    expect(await calls(4)).toEqual({ msB: 2, s1: 2 });
  }, 30_000);

  it('keeps the last answers while the DNS server is down, and says so once', async () => {
    await stopDns();
    await sleep(3_500);
    expect(await list()).toHaveLength(2);
    expect(await calls(2)).toEqual({ msB: 1, s1: 1 });
  }, 30_000);

  it('logged each change as a DNS update, and each failing name once', async () => {
    // the log (on stderr) is read once the proxy has ended and written all of it
    const { stderr: log } = await proxy.stop();
    const updates = log.split('\n').filter((l) => l.includes('list names resolved to new addresses'));
    // the address change kept all three destinations; the SRV change removed one
    expect(updates[0]).toMatch(/"kept":3,"reflagged":0,"added":0,"removed":0/);
    expect(updates[1]).toMatch(/"kept":2,"reflagged":0,"added":0,"removed":1/);
    expect(updates).toHaveLength(2);
    expect(log.match(/SRV lookup of _sip\._udp\.pool\.test fails \(\w+\); its last targets stay in service/g)).toHaveLength(1);
    expect(log.match(/cannot resolve media\.test \(\w+\); it keeps its last address 10\.0\.1\.11/g)).toHaveLength(1);
    expect(log).not.toMatch(/"msg":"list reloaded"/);
  }, 30_000);
});
