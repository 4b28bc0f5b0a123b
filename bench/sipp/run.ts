// npm run bench:sipp: siplb and a tuned Kamailio under the same SIPp load, in one run.
//   1. fixed rates, at steady state: the caller scenario (INVITE, 180, 200, ACK, BYE, 200, following
//      Record-Route) at each rate for each contender for 50 s, contenders alternating within every
//      round (A B ... then ... B A) so machine drift hits both alike. The first 10 s are left out:
//      CPU of the proxy's process tree from /proc, siplb's latency (the difference of two USR2
//      histograms) and GC time cover the steady window only, where the transactions of the first
//      seconds have started to expire and the heap has its working size. Memory is read when the load
//      ends and, for siplb in round 1, 40 s later (what an idle proxy gives back);
//   2. step search: the highest rate with zero failed calls over a short run (4 s), per contender,
//      with the caller's own CPU recorded so the report says when SIPp rather than the proxy was the limit;
//   3. strict: SIPp with its default behaviours (an out-of-order 180 after the 200 aborts the call);
//   4. overload: 1.5x the step search's highest clean rate R, then 0.8R twice, strict callers
//      overlapping through one proxy: how much of R still completes, and how soon calls are clean again.
// --sustained instead: for the default siplb and Kamailio (stateful), the highest rate carried for
//   60 s with no failed and no shed call, in steps of 500 calls/s from 1,000, contenders alternating
//   at every step; each step is a steady-state run as in 1 (siplb's memory read again 40 s after
//   the 2,000 calls/s step).
// Options: --quick (smoke: one pair, few calls), --node24 (each siplb contender again on Node 24),
//          --baseline DIR (each siplb contender again from another built checkout, id suffix -base), --rates 1000,3000, --seconds N, --warmup N, --tail N,
//          --rounds N, --workers 0,1,2 (siplb configurations; default: SIPLB_WORKERS's default),
//          --only siplb|kamailio, --no-steps, --no-strict, --no-overload, --overload-rate N (R
//          instead of the step search's; needed with --no-steps), --sustained [--from N --step N].
//          Output: a table, bench/results/sipp-*.json, bench/results/sipp-latest.svg (and
//          sipp-sustained-latest.* for --sustained).
import { execFileSync, spawnSync, type ChildProcess } from 'node:child_process';
import { cpus, release } from 'node:os';
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kamailioContenders, overloadRejected, proxyLatency, siplbContenders, start, type Running } from './contenders.js';
import * as hdr from 'hdr-histogram-js';
import { loadAverage, rcvbufErrors, treeCpuSeconds } from './proc.js';
import { runCaller, sippVersion, startUas } from './sipp.js';
import { terminalTable } from './report.js';
import { chart } from './svg.js';
import type { BenchResults, Contender, FixedRateResult, OverloadLoad, OverloadRun, Snapshot, Step, StepSearch, StrictRun, SustainedSearch } from './types.js';

const root = join(import.meta.dirname, '..', '..', '..');
const argv = process.argv.slice(2);
const flag = (name: string): boolean => argv.includes(`--${name}`);
const option = (name: string, dflt: string): string => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] ? argv[i + 1]! : dflt;
};
// Every option this script reads; anything else is a typo that would silently run a 30-minute
// benchmark with the defaults, so it gets one line and exit 2 (and --help the usage above).
const FLAGS = ['quick', 'sustained', 'node24', 'no-steps', 'no-strict', 'no-overload', 'help'];
const VALUED = ['rates', 'seconds', 'warmup', 'tail', 'rounds', 'workers', 'only', 'baseline', 'from', 'step', 'overload-rate'];
for (let i = 0; i < argv.length; i++) {
  const name = argv[i]!.replace(/^--/, '');
  if (VALUED.includes(name) && argv[i]!.startsWith('--') && argv[i + 1] !== undefined) i++;
  else if (!FLAGS.includes(name) || !argv[i]!.startsWith('--')) {
    console.error(`bench:sipp: unknown option ${argv[i]} (or a missing value); --help lists them`);
    process.exit(2);
  }
}
if (argv.includes('--help')) {
  const src = readFileSync(new URL(import.meta.url), 'utf8');
  console.log(src.slice(0, src.indexOf('\nimport ')).replace(/^\/\/ ?/gm, ''));
  process.exit(0);
}
const quick = flag('quick');
const sustainedMode = flag('sustained');
const rates = option('rates', quick ? '200' : '1000,3000').split(',').map(Number);
/** Fixed-rate runs: length, warm-up left out, and how long after a siplb run memory is read again. */
const seconds = Number(option('seconds', quick ? '4' : sustainedMode ? '60' : '50'));
const warmup = Number(option('warmup', quick ? '1' : '10'));
const tail = Number(option('tail', quick ? '2' : '40'));
const rounds = Number(option('rounds', quick ? '1' : '2'));
/** The short runs of the step search, the strict run and the overload phase (issue 4). */
const shortSeconds = quick ? 2 : 4;
const MiB = 1024 * 1024;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, Math.max(0, ms)));
for (const [name, v] of [['seconds', seconds], ['warmup', warmup], ['tail', tail], ['rounds', rounds]] as const) {
  if (!Number.isFinite(v) || v < 0) throw new Error(`--${name} must be a number >= 0`);
}
if (warmup >= seconds) throw new Error(`--warmup (${warmup} s) must be shorter than --seconds (${seconds} s)`);
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
    snapshot: () => proxy.snapshot(),
    stop: async () => {
      const report = await proxy.stop();
      for (const u of uas) u.kill('SIGKILL');
      return report;
    },
  };
}

interface MeasureOptions {
  readonly strict: boolean;
  readonly round: number;
  /** Run length (s); calls = rate x seconds. */
  readonly seconds: number;
  /** Left out of CPU, latency and GC (s); 0 measures the whole run, per completed call. */
  readonly warmup: number;
  /** Read memory again this long after the load ended (s); 0: not read. */
  readonly tail: number;
}

/** p50/p99/p99.9 of the latency recorded between two siplb snapshots (the later histogram minus the earlier). */
function windowLatency(a: Snapshot, b: Snapshot): { p50: number | null; p99: number | null; p999: number | null } {
  if (a.latencyHdr === null || b.latencyHdr === null) return { p50: null, p99: null, p999: null };
  const h = hdr.decodeFromCompressedBase64(b.latencyHdr);
  h.subtract(hdr.decodeFromCompressedBase64(a.latencyHdr));
  if (h.totalCount === 0) return { p50: null, p99: null, p999: null };
  return { p50: h.getValueAtPercentile(50), p99: h.getValueAtPercentile(99), p999: h.getValueAtPercentile(99.9) };
}

async function measure(c: Contender, rate: number, o: MeasureOptions): Promise<FixedRateResult> {
  const p = nextPorts();
  const proxy = await setUp(c, p);
  const calls = Math.round(rate * o.seconds);
  const begin = await proxy.snapshot();
  const drops0 = rcvbufErrors();
  const caller = runCaller({ scenario: 'uac-refusable', strict: o.strict, target: `127.0.0.1:${p.proxy}`, port: p.uac, mediaPort: p.media[0], controlPort: p.control[0], rate, calls, timeoutS: Math.ceil(o.seconds) + 15 });
  let from = begin;
  let to = begin;
  if (o.warmup > 0) {
    await sleep(o.warmup * 1000);
    from = await proxy.snapshot();
    // the steady window ends when the last call has been offered (a call lasts milliseconds)
    await Promise.race([sleep(begin.atMs + o.seconds * 1000 - performance.now()), caller]);
    to = await proxy.snapshot();
  }
  const res = await caller;
  const ended = o.warmup > 0 ? to : await proxy.snapshot();
  const drops = rcvbufErrors() - drops0;
  let after: Snapshot | null = null;
  if (o.tail > 0) {
    await sleep(o.tail * 1000 - (performance.now() - ended.atMs));
    after = await proxy.snapshot();
  }
  const report = await proxy.stop();
  const windowS = o.warmup > 0 ? (to.atMs - from.atMs) / 1000 : 0;
  // steady state: CPU of the window over the calls offered in it (a clean run completes them all);
  // whole run: CPU until SIPp exited over the calls it completed
  const cpu = o.warmup > 0 ? to.cpuSeconds - from.cpuSeconds : ended.cpuSeconds - begin.cpuSeconds;
  const perCall = o.warmup > 0 ? rate * windowS : res.completed;
  const lat = o.warmup > 0 ? windowLatency(from, to) : proxyLatency(report);
  const gcShare = o.warmup > 0 && from.gcMs !== null && to.gcMs !== null && windowS > 0 ? (to.gcMs - from.gcMs) / (windowS * 1000) : null;
  const mib = (x: number | null): number | null => (x === null ? null : Math.round((x / MiB) * 10) / 10);
  return {
    contender: c.id,
    rate,
    round: o.round,
    calls,
    completed: res.completed,
    failed: Math.max(res.failed, calls - res.completed), // calls still hanging when the run was stopped failed too
    shed: overloadRejected(report),
    retransmissions: res.retransmissions,
    rcvbufErrors: drops,
    cpuSeconds: cpu,
    cpuMicrosPerCall: perCall > 0 ? Math.round((cpu * 1e6) / perCall) : 0,
    sippCpuSeconds: res.sippCpuSeconds,
    rttP50Ms: res.rttP50Ms,
    rttP99Ms: res.rttP99Ms,
    proxyP50Us: lat.p50,
    proxyP99Us: lat.p99,
    proxyP999Us: lat.p999,
    seconds: res.seconds,
    warmupSeconds: o.warmup,
    windowSeconds: Math.round(windowS * 10) / 10,
    gcShare: gcShare === null ? null : Math.round(gcShare * 10000) / 10000,
    rssEndMiB: mib(ended.rssBytes)!,
    pssEndMiB: mib(ended.pssBytes)!,
    heapEndMiB: mib(ended.heapBytes),
    afterSeconds: after === null ? 0 : Math.round((after.atMs - ended.atMs) / 1000),
    rssAfterMiB: after === null ? null : mib(after.rssBytes),
    heapAfterMiB: after === null ? null : mib(after.heapBytes),
  };
}

/** A short whole-run measurement (step search, strict): issue 4's runs. */
const short = (strict: boolean): MeasureOptions => ({ strict, round: 0, seconds: shortSeconds, warmup: 0, tail: 0 });

async function stepSearch(c: Contender): Promise<StepSearch> {
  const steps: Step[] = [];
  let maxCleanRate = 0;
  let limitedBy: StepSearch['limitedBy'] = 'ceiling';
  const ceiling = quick ? 400 : 8000;
  for (let rate = quick ? 200 : 1000; rate <= ceiling; rate += quick ? 200 : 1000) {
    const r = await measure(c, rate, short(false));
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

/**
 * The highest rate each contender carries for a whole steady-state run with no failed and no shed
 * call, in steps from `from`; the contenders alternate at every step (A B, then B A) and a
 * contender leaves the search at its first unclean step or when its caller runs out of CPU.
 */
async function sustainedSearch(cs: readonly Contender[], from: number, step: number, ceiling: number): Promise<SustainedSearch[]> {
  interface Search { readonly c: Contender; readonly steps: FixedRateResult[]; maxCleanRate: number; limitedBy: SustainedSearch['limitedBy']; done: boolean }
  const state = cs.map((c): Search => ({ c, steps: [], maxCleanRate: 0, limitedBy: 'ceiling', done: false }));
  // memory 40 s after the load is one of the targets at 2,000 calls/s: read it at that step only
  const tailRate = quick ? from : 2000;
  for (let rate = from, i = 0; rate <= ceiling && state.some((x) => !x.done); rate += step, i++) {
    for (const x of i % 2 === 0 ? state : [...state].reverse()) {
      if (x.done) continue;
      const r = await measure(x.c, rate, { strict: false, round: 0, seconds, warmup, tail: x.c.name === 'siplb' && rate === tailRate ? tail : 0 });
      x.steps.push(r);
      const shed = r.shed ?? 0;
      const sippCores = r.sippCpuSeconds / r.seconds;
      progress(`  sustained ${x.c.id} ${rate}/s: ${r.completed}/${r.calls} completed, ${r.failed} failed, ${shed} shed, ${r.cpuMicrosPerCall} µs/call, p99 ${r.proxyP99Us ?? '-'} µs, RSS ${r.rssEndMiB} MiB${r.rssAfterMiB != null ? ` (${r.rssAfterMiB} MiB ${r.afterSeconds} s later)` : ''}, sipp ${sippCores.toFixed(2)} cores`);
      if (r.failed > 0 || r.completed < r.calls || shed > 0) {
        x.done = true;
        x.limitedBy = sippCores > 0.9 ? 'sipp' : 'proxy';
        continue;
      }
      x.maxCleanRate = rate;
      if (sippCores > 0.95) {
        x.done = true;
        x.limitedBy = 'sipp'; // the caller is out of CPU: higher steps would measure SIPp, not the proxy
      }
    }
  }
  return state.map((x) => ({ contender: x.c.id, steps: x.steps, maxCleanRate: x.maxCleanRate, limitedBy: x.limitedBy }));
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
    const workerCounts = option('workers', '0').split(',').map(Number);
    let contenders: Contender[] = [...siplbContenders().filter((c) => workerCounts.includes(c.workers ?? 0)), ...kamailioContenders()];
    if (quick || sustainedMode) contenders = contenders.filter((c) => c.id === `siplb-stateful-w${workerCounts[0]}` || c.id === 'kamailio-stateful');
    if (flag('node24')) {
      // the same siplb contenders again on Node 24 (scripts/install-node24.sh), alternating with the rest
      const bin = join(root, '.node24', 'bin', 'node');
      if (spawnSync('bash', [join(root, 'scripts', 'install-node24.sh')], { stdio: 'inherit' }).status !== 0) throw new Error('--node24: scripts/install-node24.sh failed');
      const nodeVersion = spawnSync(bin, ['--version'], { encoding: 'utf8' }).stdout.trim();
      const major = nodeVersion.replace(/^v(\d+).*/, '$1');
      contenders = [...contenders.flatMap((c) => (c.name === 'siplb' ? [c, { ...c, id: `${c.id}-node${major}`, nodeBin: bin, nodeVersion }] : [c]))];
    }
    const baseline = option('baseline', '');
    if (baseline) {
      // the same siplb contenders from another checkout (built: dist/ and wasm/build/), for before/after in one run
      const commit = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: baseline, encoding: 'utf8' }).stdout.trim() || 'unknown';
      contenders = contenders.flatMap((c) => (c.name === 'siplb' && c.nodeBin === undefined ? [c, { ...c, id: `${c.id}-base`, root: baseline, commit }] : [c]));
    }
    if (only) contenders = contenders.filter((c) => c.name === only);
    const fixed: FixedRateResult[] = [];
    const steps: StepSearch[] = [];
    const strict: StrictRun[] = [];
    const overload: OverloadRun[] = [];
    let sustained: SustainedSearch[] | undefined;
    if (sustainedMode) {
      const from = Number(option('from', quick ? '200' : '1000'));
      const step = Number(option('step', quick ? '200' : '500'));
      sustained = await sustainedSearch(contenders, from, step, quick ? 400 : 8000);
      fixed.push(...sustained.flatMap((x) => x.steps));
      for (const x of sustained) progress(`sustained ${x.contender}: ${x.maxCleanRate} calls/s for ${seconds} s with nothing failed or shed (limited by ${x.limitedBy})`);
    } else {
      for (let round = 1; round <= rounds; round++) {
        for (const rate of rates) {
          // alternate the order every round: A B ... then ... B A
          const order = round % 2 === 1 ? contenders : [...contenders].reverse();
          for (const c of order) {
            const r = await measure(c, rate, { strict: false, round, seconds, warmup, tail: round === 1 && c.name === 'siplb' ? tail : 0 });
            fixed.push(r);
            progress(`round ${round} ${rate}/s ${c.id}: ${r.completed}/${r.calls} completed, ${r.failed} failed, ${r.shed ?? 0} shed, ${r.cpuMicrosPerCall} µs/call, p99 ${r.proxyP99Us ?? '-'} µs, RSS ${r.rssEndMiB} MiB${r.rssAfterMiB != null ? ` (${r.rssAfterMiB} MiB ${r.afterSeconds} s later)` : ''}`);
          }
        }
      }
      if (!flag('no-steps')) for (const c of contenders) steps.push(await stepSearch(c));
      if (!flag('no-strict')) {
        const strictRate = quick ? 200 : 4000;
        // the default siplb and Kamailio
        for (const c of contenders.filter((x) => (x.name === 'siplb' && x.mode === 'stateful') || x.name === 'kamailio')) {
          const r = await measure(c, strictRate, short(true));
          strict.push({ contender: c.id, rate: strictRate, calls: r.calls, completed: r.completed, failed: r.failed });
          progress(`strict ${c.id} ${strictRate}/s: ${r.completed} completed, ${r.failed} failed`);
        }
      }
      const overloadRate = option('overload-rate', '');
      if (!flag('no-overload') && flag('no-steps') && !overloadRate && !quick) {
        progress('overload: skipped: --no-steps leaves no highest clean rate to overload; give --overload-rate N');
      } else if (!flag('no-overload')) {
        // --quick only keeps the harness running: siplb alone, a fixed small R, whatever its steps found
        for (const c of contenders.filter((x) => (x.name === 'siplb' && x.mode === 'stateful' && x.workers === workerCounts[0]) || (!quick && x.id === 'kamailio-stateful'))) {
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
        rates: sustainedMode ? [...new Set(fixed.map((f) => f.rate))].sort((a, b) => a - b) : rates,
        calls: (sustainedMode ? (fixed[0]?.rate ?? 0) : rates[0]!) * seconds,
        rounds: sustainedMode ? 1 : rounds,
        seconds,
        warmupSeconds: warmup,
        tailSeconds: tail,
        loadAverageStart,
        loadAverageEnd: loadAverage(),
      },
      contenders,
      fixed,
      steps,
      strict,
      overload,
      ...(sustained ? { sustained } : {}),
    };
    const out = join(root, 'bench', 'results');
    mkdirSync(out, { recursive: true });
    const stamp = results.conditions.date.replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
    const kind = sustainedMode ? 'sipp-sustained' : 'sipp';
    const name = quick ? `${kind}-quick.tmp` : `${kind}-${stamp}`;
    writeFileSync(join(out, `${name}.json`), JSON.stringify(results, null, 2));
    if (!quick) {
      writeFileSync(join(out, `${kind}-latest.json`), JSON.stringify(results, null, 2));
      writeFileSync(join(out, `${kind}-latest.svg`), chart(results));
    }
    process.stdout.write(terminalTable(results));
    progress(`saved bench/results/${name}.json`);
  } finally {
    for (const u of live) u.kill('SIGKILL');
  }
}

await main();
