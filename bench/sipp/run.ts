// npm run bench:sipp: siplb and a tuned Kamailio under the same SIPp load, in one run.
//   1. fixed rates: the caller scenario (INVITE, 180, 200, ACK, BYE, 200, following Record-Route)
//      at each rate for each contender, contenders alternating within every round (A B A B) so
//      machine drift hits both alike; CPU of the proxy's process tree from /proc per completed call;
//   2. step search: the highest rate with zero failed calls over a fixed run, per contender, with
//      the caller's own CPU recorded so the report says when SIPp rather than the proxy was the limit;
//   3. strict: SIPp with its default behaviours (an out-of-order 180 after the 200 aborts the call);
//   4. overload: 1.5x the step search's highest clean rate R, then 0.8R twice, strict callers
//      overlapping through one proxy: how much of R still completes, and how soon calls are clean again.
// Options: --quick (smoke: one pair, few calls), --rates 1000,3000, --seconds N, --rounds N,
//          --only siplb|kamailio, --no-steps, --no-strict, --no-overload, --overload-rate N (R
//          instead of the step search's; needed with --no-steps). Output: a table,
//          bench/results/sipp-*.json, bench/results/sipp-latest.svg.
import { execFileSync, spawnSync, type ChildProcess } from 'node:child_process';
import { cpus, release } from 'node:os';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kamailioContenders, overloadRejected, proxyLatency, siplbContenders, start, type Running } from './contenders.js';
import { loadAverage, rcvbufErrors, treeCpuSeconds } from './proc.js';
import { runCaller, sippVersion, startUas } from './sipp.js';
import { terminalTable } from './report.js';
import { chart } from './svg.js';
import type { BenchResults, Contender, FixedRateResult, OverloadLoad, OverloadRun, Step, StepSearch, StrictRun } from './types.js';

const root = join(import.meta.dirname, '..', '..', '..');
const argv = process.argv.slice(2);
const flag = (name: string): boolean => argv.includes(`--${name}`);
const option = (name: string, dflt: string): string => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] ? argv[i + 1]! : dflt;
};
const quick = flag('quick');
const rates = option('rates', quick ? '200' : '1000,3000').split(',').map(Number);
const seconds = Number(option('seconds', quick ? '2' : '4'));
const rounds = Number(option('rounds', quick ? '1' : '2'));
const progress = (line: string): void => void process.stderr.write(`${line}\n`);

function install(): void {
  for (const [tool, script] of [['sipp', 'install-sipp.sh'], ['kamailio', 'install-kamailio.sh']] as const) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0 || spawnSync('sh', ['-c', `test -x /usr/sbin/${tool}`]).status === 0) continue;
    progress(`bench:sipp: ${tool} is missing; installing it with scripts/${script} (Debian packages)`);
    execFileSync('bash', [join(root, 'scripts', script)], { stdio: 'inherit' });
  }
}

function kamailioVersion(): string {
  const out = spawnSync('kamailio', ['-v'], { encoding: 'utf8', env: { ...process.env, PATH: `${process.env.PATH}:/usr/sbin` } });
  return /version: kamailio [\d.]+/.exec(`${out.stdout}`)?.[0]?.replace('version: ', '') ?? 'not installed';
}

/** SIPp backends started so far, killed on the way out whatever happens. */
const live: ChildProcess[] = [];

let portBase = 24000;
/**
 * Ports of one run, all distinct and all below the kernel's ephemeral range (32768-60999 here):
 * a socket bound to port 0 (SIPp's, or any other process's) must never take a port a later
 * run binds by number. Proxy, caller and two backends on consecutive ports (24000-31999); each
 * SIPp gets its own media ports (7000-19999, clear of SIPp's default 6000) and control port
 * (21000-23399).
 */
interface Ports { proxy: number; uac: number; backends: [number, number]; media: [number, number, number]; control: [number, number, number] }
const nextPorts = (): Ports => {
  portBase += 10;
  if (portBase >= 32000) portBase = 24010;
  const slot = (portBase - 24000) / 10; // 0..799
  const m = 7000 + slot * 16;
  const c = 21000 + slot * 3;
  return { proxy: portBase, uac: portBase + 1, backends: [portBase + 2, portBase + 3], media: [m, m + 6, m + 11], control: [c, c + 1, c + 2] };
};

/** Two SIPp backends and the contender in front of them on `p`'s ports; stop() ends all three. */
async function setUp(c: Contender, p: Ports): Promise<Running> {
  // Fresh backends for every run: a run that overloaded them leaves thousands of dead calls
  // retransmitting for 32 s, which would fail the next contender's calls.
  const dir = mkdtempSync(join(tmpdir(), 'siplb-bench-list-'));
  const listFile = join(dir, 'dispatcher.list');
  writeFileSync(listFile, p.backends.map((port) => `1 sip:127.0.0.1:${port}`).join('\n') + '\n');
  const uas = p.backends.map((port, i) => startUas(port, p.media[i + 1]!, p.control[i + 1]!));
  live.push(...uas);
  await new Promise((r) => setTimeout(r, 300));
  const proxy = await start(c, p.proxy, listFile).catch((err: unknown) => {
    for (const u of uas) u.kill('SIGKILL');
    throw err;
  });
  return {
    pid: proxy.pid,
    stop: async () => {
      const report = await proxy.stop();
      for (const u of uas) u.kill('SIGKILL');
      return report;
    },
  };
}

async function measure(c: Contender, rate: number, calls: number, strict: boolean, round: number): Promise<FixedRateResult> {
  const p = nextPorts();
  const proxy = await setUp(c, p);
  const cpu0 = treeCpuSeconds(proxy.pid);
  const drops0 = rcvbufErrors();
  const res = await runCaller({ scenario: 'uac-refusable', strict, target: `127.0.0.1:${p.proxy}`, port: p.uac, mediaPort: p.media[0], controlPort: p.control[0], rate, calls, timeoutS: Math.ceil(calls / rate) + 15 });
  const cpu = treeCpuSeconds(proxy.pid) - cpu0;
  const drops = rcvbufErrors() - drops0;
  const report = await proxy.stop();
  const lat = proxyLatency(report);
  return {
    contender: c.id,
    rate,
    round,
    calls,
    completed: res.completed,
    failed: Math.max(res.failed, calls - res.completed), // calls still hanging when the run was stopped failed too
    shed: overloadRejected(report),
    retransmissions: res.retransmissions,
    rcvbufErrors: drops,
    cpuSeconds: cpu,
    cpuMicrosPerCall: res.completed > 0 ? Math.round((cpu * 1e6) / res.completed) : 0,
    sippCpuSeconds: res.sippCpuSeconds,
    rttP50Ms: res.rttP50Ms,
    rttP99Ms: res.rttP99Ms,
    proxyP50Us: lat.p50,
    proxyP99Us: lat.p99,
    proxyP999Us: lat.p999,
    seconds: res.seconds,
  };
}

async function stepSearch(c: Contender): Promise<StepSearch> {
  const steps: Step[] = [];
  let maxCleanRate = 0;
  let limitedBy: StepSearch['limitedBy'] = 'ceiling';
  const ceiling = quick ? 400 : 8000;
  for (let rate = quick ? 200 : 1000; rate <= ceiling; rate += quick ? 200 : 1000) {
    const r = await measure(c, rate, rate * seconds, false, 0);
    const shed = r.shed ?? 0;
    const step: Step = { rate, completed: r.completed, failed: r.failed, shed, proxyCores: r.cpuSeconds / r.seconds, sippCores: r.sippCpuSeconds / r.seconds };
    steps.push(step);
    progress(`  step ${c.id} ${rate}/s: ${r.completed} completed, ${r.failed} failed, ${shed} shed, proxy ${step.proxyCores.toFixed(2)} cores, sipp ${step.sippCores.toFixed(2)} cores`);
    // a shed call was refused even when the lenient caller's retransmitted INVITE got through later
    if (r.failed > 0 || r.completed < r.calls || shed > 0) {
      limitedBy = step.sippCores > 0.9 ? 'sipp' : 'proxy';
      break;
    }
    maxCleanRate = rate;
    if (step.sippCores > 0.95) {
      limitedBy = 'sipp'; // the caller is out of CPU: higher steps would measure SIPp, not the proxy
      break;
    }
  }
  return { contender: c.id, steps, maxCleanRate, limitedBy };
}

/** Seconds each overload caller offers its rate: A (1.5R), then B1 and B2 (0.8R). */
const OVERLOAD_S = quick ? { A: 2, B1: 2, B2: 2 } : { A: 6, B1: 5, B2: 5 };

async function overloadRun(c: Contender, R: number): Promise<OverloadRun> {
  const p = nextPorts();
  const proxy = await setUp(c, p);
  const cpu0 = treeCpuSeconds(proxy.pid);
  const drops0 = rcvbufErrors();
  // Strict callers: a 503 ends the call as failed instead of being retried into a completion.
  const caller = async (name: string, ports: Ports, rate: number, seconds: number, startS: number): Promise<{ load: OverloadLoad; sippCpuSeconds: number }> => {
    await new Promise((r) => setTimeout(r, startS * 1000));
    const calls = rate * seconds;
    const res = await runCaller({ scenario: 'uac-refusable', strict: true, target: `127.0.0.1:${p.proxy}`, port: ports.uac, mediaPort: ports.media[0], controlPort: ports.control[0], rate, calls, timeoutS: seconds + 15 });
    const failed = Math.max(res.failed, calls - res.completed);
    progress(`  overload ${c.id} ${name} ${rate}/s from ${startS} s: ${res.completed}/${calls} completed, ${failed} failed, ${res.retransmissions} retransmissions`);
    return { load: { rate, seconds, calls, completed: res.completed, failed, retransmissions: res.retransmissions }, sippCpuSeconds: res.sippCpuSeconds };
  };
  const high = Math.round(1.5 * R);
  const low = Math.round(0.8 * R);
  // B1 and B2 take the caller ports of two more slots, so the three SIPps never share a port.
  const [a, b1, b2] = await Promise.all([
    caller('A', p, high, OVERLOAD_S.A, 0),
    caller('B1', nextPorts(), low, OVERLOAD_S.B1, OVERLOAD_S.A),
    caller('B2', nextPorts(), low, OVERLOAD_S.B2, OVERLOAD_S.A + OVERLOAD_S.B1),
  ]);
  const cpu = treeCpuSeconds(proxy.pid) - cpu0;
  const drops = rcvbufErrors() - drops0;
  const report = await proxy.stop();
  const A = { ...a.load, completedPerSecond: a.load.completed / OVERLOAD_S.A };
  return {
    contender: c.id,
    R,
    A,
    B1: b1.load,
    B2: b2.load,
    shed: overloadRejected(report),
    rcvbufErrors: drops,
    cpuSeconds: cpu,
    sippCpuSeconds: a.sippCpuSeconds,
    keptRate: A.completedPerSecond >= 0.9 * R,
    recovered: b2.load.failed === 0 && b2.load.completed === b2.load.calls,
  };
}

async function main(): Promise<void> {
  install();
  const loadAverageStart = loadAverage();
  // an interrupted run must not leave SIPp backends behind
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      for (const u of live) u.kill('SIGKILL');
      process.exit(130);
    });
  }
  try {
    const only = option('only', '');
    let contenders: Contender[] = [...siplbContenders(), ...kamailioContenders()];
    if (quick) contenders = contenders.filter((c) => c.id === 'siplb-stateful-w0' || c.id === 'kamailio-stateful');
    if (only) contenders = contenders.filter((c) => c.name === only);
    const fixed: FixedRateResult[] = [];
    for (let round = 1; round <= rounds; round++) {
      for (const rate of rates) {
        // alternate the order every round: A B ... then ... B A
        const order = round % 2 === 1 ? contenders : [...contenders].reverse();
        for (const c of order) {
          const r = await measure(c, rate, rate * seconds, false, round);
          fixed.push(r);
          progress(`round ${round} ${rate}/s ${c.id}: ${r.completed}/${r.calls} completed, ${r.failed} failed, ${r.shed ?? 0} shed, ${r.cpuMicrosPerCall} µs/call`);
        }
      }
    }
    const steps: StepSearch[] = [];
    if (!flag('no-steps')) for (const c of contenders) steps.push(await stepSearch(c));
    const strict: StrictRun[] = [];
    if (!flag('no-strict')) {
      const strictRate = quick ? 200 : 4000;
      // the default and the one-worker config (the highest clean rate on 2 cores), and Kamailio
      for (const c of contenders.filter((x) => x.id === 'siplb-stateful-w0' || x.id === 'siplb-stateful-w1' || x.name === 'kamailio')) {
        const r = await measure(c, strictRate, strictRate * seconds, true, 0);
        strict.push({ contender: c.id, rate: strictRate, calls: r.calls, completed: r.completed, failed: r.failed });
        progress(`strict ${c.id} ${strictRate}/s: ${r.completed} completed, ${r.failed} failed`);
      }
    }
    const overload: OverloadRun[] = [];
    const overloadRate = option('overload-rate', '');
    if (!flag('no-overload') && flag('no-steps') && !overloadRate && !quick) {
      progress('overload: skipped: --no-steps leaves no highest clean rate to overload; give --overload-rate N');
    } else if (!flag('no-overload')) {
      // --quick only keeps the harness running: siplb alone, a fixed small R, whatever its steps found
      for (const c of contenders.filter((x) => x.id === 'siplb-stateful-w0' || (!quick && x.id === 'kamailio-stateful'))) {
        const R = overloadRate ? Number(overloadRate) : quick ? 200 : (steps.find((s) => s.contender === c.id)?.maxCleanRate ?? 0);
        if (!(R > 0)) {
          progress(`overload ${c.id}: skipped: no clean rate to overload (${overloadRate ? `--overload-rate ${overloadRate}` : 'no clean step'})`);
          continue;
        }
        progress(`overload ${c.id}: R ${R}/s: ${Math.round(1.5 * R)}/s for ${OVERLOAD_S.A} s, then ${Math.round(0.8 * R)}/s for ${OVERLOAD_S.B1} s and ${OVERLOAD_S.B2} s`);
        const o = await overloadRun(c, R);
        overload.push(o);
        progress(`overload ${c.id}: ${o.A.completedPerSecond.toFixed(0)} completed/s under 1.5R (${o.keptRate ? '>=' : '<'} 0.9R), ${o.shed} shed, ${o.recovered ? 'recovered' : 'not recovered'} at 0.8R`);
      }
    }
    const commit = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).stdout.trim() || 'unknown';
    const results: BenchResults = {
      conditions: {
        date: new Date().toISOString(),
        commit,
        node: process.version,
        cpuModel: cpus()[0]?.model ?? 'unknown',
        cores: cpus().length,
        kernel: release(),
        sipp: sippVersion(),
        kamailio: kamailioVersion(),
        rates,
        calls: rates[0]! * seconds,
        rounds,
        loadAverageStart,
        loadAverageEnd: loadAverage(),
      },
      contenders,
      fixed,
      steps,
      strict,
      overload,
    };
    const out = join(root, 'bench', 'results');
    mkdirSync(out, { recursive: true });
    const stamp = results.conditions.date.replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
    const name = quick ? 'sipp-quick.tmp' : `sipp-${stamp}`;
    writeFileSync(join(out, `${name}.json`), JSON.stringify(results, null, 2));
    if (!quick) {
      writeFileSync(join(out, 'sipp-latest.json'), JSON.stringify(results, null, 2));
      writeFileSync(join(out, 'sipp-latest.svg'), chart(results));
    }
    process.stdout.write(terminalTable(results));
    progress(`saved bench/results/${name}.json`);
  } finally {
    for (const u of live) u.kill('SIGKILL');
  }
}

await main();
