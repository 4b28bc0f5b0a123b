// Kamailio (Debian package, scripts/install-kamailio.sh) with the benchmark's generated dispatcher
// config (bench/sipp/kamailio.ts) between SIPp peers: proves the reference contender of issue 4
// routes calls in both modes before any benchmark number is taken from it, and that stopping it
// leaves no Kamailio process behind. Loopback only, bounded call counts and durations.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type KamailioInstance,
  type KamailioMode,
  kamailioVersion,
  processTree,
  startKamailio,
} from '../../bench/sipp/kamailio.js';
import { freeUdpPorts } from './helpers/ports.js';
import { requireSipp, SIPP_MISSING, startSipp, type SippResult, type SippRun } from './helpers/sipp.js';

const KAMAILIO_MISSING = 'kamailio not found on PATH or in /usr/sbin (Debian package kamailio: run scripts/install-kamailio.sh)';

/** Like requireSipp: a missing Kamailio fails under CI=true, and is a visible skip elsewhere. */
function requireKamailio(): boolean {
  if (kamailioVersion() !== undefined) return true;
  if (process.env.CI === 'true') throw new Error(`${KAMAILIO_MISSING}; required under CI=true`);
  console.warn(`SKIP Kamailio e2e tests: ${KAMAILIO_MISSING}`);
  return false;
}

const haveSipp = requireSipp();
const haveKamailio = haveSipp && requireKamailio();
const skipReason = !haveSipp ? SIPP_MISSING : KAMAILIO_MISSING;

const liveSipp: SippRun[] = [];
const liveKamailio: KamailioInstance[] = [];
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(liveSipp.splice(0).map((run) => run.stop(200)));
  await Promise.all(liveKamailio.splice(0).map((k) => k.stop().catch(() => undefined)));
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function sipp(...args: Parameters<typeof startSipp>): Promise<SippRun> {
  const run = await startSipp(...args);
  liveSipp.push(run);
  return run;
}

function explain(r: SippResult, k?: KamailioInstance): string {
  const kam = k === undefined ? '' : `\nkamailio log:\n${k.stderr().slice(-2_000)}`;
  return `sipp ${r.args.join(' ')}\nexit ${r.code}\nerrors:\n${r.errors.slice(-3_000)}\nstderr:\n${r.stderr.slice(-1_000)}${kam}`;
}

const invitesReceived = (r: SippResult): number =>
  r.messages.find((m) => m.name === 'INVITE|OPTIONS' && m.direction === 'received')?.messages ?? 0;

/** Live (non-zombie) processes whose command line names `needle`: anything left of an instance. */
function processesNaming(needle: string): number[] {
  const found: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      if (/^\S+ \(.*\) Z/.test(stat)) continue;
      if (readFileSync(`/proc/${name}/cmdline`, 'utf8').includes(needle)) found.push(Number(name));
    } catch {
      // exited while we looked
    }
  }
  return found;
}

const CALLS = 40;
const MODES: { mode: KamailioMode; alg: number }[] = [
  // Round-robin: exactly half of the calls to each backend.
  { mode: 'stateful', alg: 4 },
  // Call-ID hash: what a stateless balancer uses, so CANCEL and negative ACKs follow their INVITE.
  { mode: 'stateless', alg: 0 },
];

describe.skipIf(!haveKamailio)(
  haveKamailio ? 'Kamailio dispatcher between SIPp peers' : `Kamailio dispatcher (skipped: ${skipReason})`,
  () => {
    for (const { mode, alg } of MODES) {
      it(`${mode} (alg ${alg}): ${CALLS} calls at 20 cps over two backends, 0 failed, clean stop`, async () => {
        const [b1, b2, proxyPort, uacPort] = await freeUdpPorts(4);
        const dir = await mkdtemp(join(tmpdir(), 'siplb-kam-smoke-'));
        dirs.push(dir);
        const listFile = join(dir, 'dispatcher.list');
        writeFileSync(listFile, `1 sip:127.0.0.1:${b1}\n1 sip:127.0.0.1:${b2}\n`);

        const backends = await Promise.all(
          [b1!, b2!].map((port) => sipp({ scenario: 'uas', role: 'uas', localPort: port, timeoutMs: 20_000 })),
        );
        const kam = await startKamailio({
          mode,
          alg,
          children: 2,
          listen: { host: '127.0.0.1', port: proxyPort! },
          listFile,
        });
        liveKamailio.push(kam);
        const tree = processTree(kam.pid);
        // The main process, its 2 UDP receivers and its timer processes.
        expect(tree.length).toBeGreaterThanOrEqual(3);

        const uac = await sipp({
          scenario: 'uac',
          role: 'uac',
          localPort: uacPort!,
          remote: `127.0.0.1:${proxyPort}`,
          rate: 20,
          calls: CALLS,
          timeoutMs: 15_000,
          // Two Kamailio receivers may relay a call's 180 after its 200 (bench/sipp/kamailio.ts):
          // legal over UDP, but SIPp would abort the call on it by default.
          extra: ['-default_behaviors', 'all,-abortunexp'],
        });
        const caller = await uac.result;
        expect(caller.code, explain(caller, kam)).toBe(0);
        expect(caller, explain(caller, kam)).toMatchObject({ successful: CALLS, failed: 0, created: CALLS });

        const callees = await Promise.all(backends.map((b) => b.stop(600)));
        const perBackend = callees.map(invitesReceived);
        expect(perBackend.reduce((a, b) => a + b, 0)).toBe(CALLS);
        // Both destinations of the set got calls (hash: 2^-39 odds of all 40 on one).
        if (alg === 4) expect(perBackend).toEqual([CALLS / 2, CALLS / 2]);
        else for (const n of perBackend) expect(n).toBeGreaterThan(0);

        await kam.stop();
        liveKamailio.splice(liveKamailio.indexOf(kam), 1);
        const status = await kam.exited;
        expect(status.signal, kam.stderr()).toBeNull();
        expect(processTree(kam.pid)).toEqual([]);
        expect(processesNaming(kam.cfgPath)).toEqual([]);
        // Nothing on the error level or worse in Kamailio's log (debug=0 also prints warnings).
        expect(kam.stderr()).not.toMatch(/\b(ERROR|CRITICAL|ALERT|BUG):/);
      }, 30_000);
    }
  },
);
