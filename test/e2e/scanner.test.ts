// A real SIP scanner against siplb (issue 8): svmap, svwar and svcrack from the Debian package
// sipvicious 0.3.3 run inside a private network namespace against siplb, with a media server behind
// it that would answer them (REGISTER: 404 for unknown extensions, a digest challenge for 105 whose
// password is 1234). Run first against the media server itself, as a control: there the scanners
// find the device, the extension and the password, so their silence through siplb means siplb
// dropped them, not that the rig is broken. Through siplb nothing may reach the media server,
// nothing may go back to the scanner's address, and the scanner must learn nothing.
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Capture, Netns, netnsAvailable, type NsSocket, type RunResult } from '../helpers/netns.js';
import { type NsProxy, startNsProxy } from '../helpers/ns-proxy.js';
import { inDialog, pingProxy, placeCall, UasPeer } from '../helpers/ns-sip.js';

const PROXY = { host: '10.0.0.1', port: 5060 };
const MS = { host: '10.0.1.10', port: 5070 };
const CALLER = { host: '10.0.2.20', port: 5062 };
const SCANNER = '10.0.3.66';
const ACCOUNT = { user: '105', password: '1234', realm: 'ms.test' };
/** Every sipvicious run ends by itself within seconds (3 s or 10 s without answers); this is the hard bound. */
const RUN_MS = 30_000;

/** sipvicious 0.3.3 installed? Missing under CI=true is a failure (DESIGN.md: no skips in CI). */
function haveSipvicious(): boolean {
  const r = spawnSync('svmap', ['--version'], { encoding: 'utf8' });
  if (r.status === 0 && /0\.3\./.test(`${r.stdout}${r.stderr}`)) return true;
  const why = r.error ? 'svmap not found (Debian package sipvicious)' : `svmap --version: ${`${r.stdout}${r.stderr}`.trim()}`;
  if (process.env.CI === 'true') throw new Error(`CI=true and ${why}`);
  console.warn(`SKIP the sipvicious tests: ${why}`);
  return false;
}

const available = netnsAvailable('the sipvicious scanner tests (test/e2e/scanner.test.ts)') && haveSipvicious();

interface Scan {
  svmapOptions: RunResult;
  svmapInvite: RunResult;
  svwar: RunResult;
  svcrack: RunResult;
}

/** Table rows a sipvicious tool printed ("| a | b |"), header and rules left out, cells trimmed. */
function tableRows(out: string): string[][] {
  const rows = out
    .split('\n')
    .filter((l) => l.startsWith('|'))
    .map((l) => l.split('|').slice(1, -1).map((c) => c.trim()));
  return rows.filter((r) => !['SIP Device', 'Extension'].includes(r[0] ?? ''));
}

const explain = (r: RunResult): string => `exit ${r.code ?? r.signal} after ${r.ms} ms${r.timedOut ? ' (killed at the bound)' : ''}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`;

let ns: Netns;
let ms: UasPeer;
let probe: NsSocket;

/** All four scans at once against host:port, each from its own local port (-P) on the scanner's address. */
async function scan(target: { host: string; port: number }, basePort: number): Promise<Scan> {
  const common = (n: number): string[] => ['-p', String(target.port), '-P', String(basePort + n), '-b', SCANNER, '-x', SCANNER];
  const [svmapOptions, svmapInvite, svwar, svcrack] = await Promise.all([
    ns.run('svmap', [...common(0), target.host], RUN_MS),
    ns.run('svmap', [...common(1), '-m', 'INVITE', '-e', ACCOUNT.user, target.host], RUN_MS),
    ns.run('svwar', [...common(2), '-e', '100-110', '-m', 'REGISTER', '--maximumtime', '5', target.host], RUN_MS),
    ns.run('svcrack', [...common(3), '-u', ACCOUNT.user, '-r', '1225-1240', '--maximumtime', '5', target.host], RUN_MS),
  ]);
  return { svmapOptions, svmapInvite, svwar, svcrack };
}

describe.skipIf(!available)(available ? 'sipvicious 0.3.3 against siplb in a network namespace' : 'sipvicious against siplb (skipped)', () => {
  beforeAll(async () => {
    ns = Netns.create([PROXY.host, MS.host, CALLER.host, SCANNER]);
    // svwar and svcrack bind 0.0.0.0 whatever -b says: make the scan come from the scanner's address
    // (otherwise the kernel picks the target's own address as the source)
    ns.sourceFor(PROXY.host, SCANNER);
    const agent = await ns.agent();
    ms = new UasPeer(await agent.bind(MS.host, MS.port), { account: ACCOUNT });
    probe = await agent.bind(CALLER.host, 0);
  }, 30_000);

  afterAll(async () => {
    await ns?.close();
  });

  it('control: straight at the media server, the scanners find the device, extension 105 and its password', async () => {
    ns.sourceFor(MS.host, SCANNER);
    const r = await scan(MS, 15100).finally(() => ns.sourceFor(MS.host, MS.host)); // siplb's own sends to it must not look like the scanner's

    expect(tableRows(r.svmapOptions.stdout).map((row) => row[0]), explain(r.svmapOptions)).toEqual([`${MS.host}:${MS.port}`]);
    expect(tableRows(r.svmapInvite.stdout).map((row) => row[0]), explain(r.svmapInvite)).toEqual([`${MS.host}:${MS.port}`]);
    expect(tableRows(r.svwar.stdout), explain(r.svwar)).toEqual([[ACCOUNT.user, 'reqauth']]);
    expect(tableRows(r.svcrack.stdout), explain(r.svcrack)).toEqual([[ACCOUNT.user, ACCOUNT.password]]);
  }, 60_000);

  describe('through siplb', () => {
    let proxy: NsProxy;
    let capture: Capture;
    let result: Scan;
    let requestsBefore: number;

    beforeAll(async () => {
      proxy = await startNsProxy(ns, probe, { ...PROXY, list: `1 sip:${MS.host}:${MS.port}\n` });
      capture = await ns.capture();
      requestsBefore = ms.requests().length;
      result = await scan(PROXY, 15200);
      await new Promise((r) => setTimeout(r, 300));
      await capture.stop();
    }, 90_000);

    afterAll(async () => {
      const r = await proxy?.stop();
      expect(r?.code, r?.stderr).toBe(0);
    }, 30_000);

    it('every scanner run ended by itself within its bound', () => {
      for (const r of [result.svmapOptions, result.svmapInvite, result.svwar, result.svcrack]) expect(r.timedOut, explain(r)).toBe(false);
    });

    it('svmap (OPTIONS, and INVITE to extension 105) finds no SIP device', () => {
      expect(tableRows(result.svmapOptions.stdout), explain(result.svmapOptions)).toEqual([]);
      expect(tableRows(result.svmapInvite.stdout), explain(result.svmapInvite)).toEqual([]);
    });

    it('svwar finds no extension', () => {
      expect(tableRows(result.svwar.stdout), explain(result.svwar)).toEqual([]);
      expect(result.svwar.stdout + result.svwar.stderr).not.toMatch(/reqauth|noauth/);
    });

    it('svcrack finds no password', () => {
      expect(tableRows(result.svcrack.stdout), explain(result.svcrack)).toEqual([]);
      expect(result.svcrack.stdout + result.svcrack.stderr).not.toContain(`is ${ACCOUNT.password}`);
    });

    it('no scanner request reached the media server', () => {
      expect(ms.requests().slice(requestsBefore).map((d) => `${d.first} (from ${d.from.address}:${d.from.port})`)).toEqual([]);
    });

    it("siplb sent nothing back to the scanner's address (dropped silently, no answer to reflect)", () => {
      const toScanner = capture.packets.filter((p) => p.dst === SCANNER);
      const fromScanner = capture.packets.filter((p) => p.src === SCANNER);
      // at least the first request of each of the four runs (unanswered, svwar and svcrack stop there)
      expect(fromScanner.length, 'the capture saw the scan').toBeGreaterThanOrEqual(4);
      expect(toScanner.map((p) => p.line)).toEqual([]);
    });

    it('siplb still serves: OPTIONS answered, a call completes', async () => {
      await pingProxy(probe, PROXY.host, PROXY.port, 2_000);
      const agent = await ns.agent();
      const caller = await agent.bind(CALLER.host, CALLER.port);
      const d = await placeCall(caller, PROXY);
      expect((await inDialog(caller, PROXY, d, 'BYE')).first).toBe('SIP/2.0 200 OK');
    });
  });
});
