// npm run soak: siplb under steady SIPp load for a long time (issue 8): 10 minutes at 1,000 calls/s,
// stateful, a SIPp caller and two SIPp backends on loopback. Every 30 s it samples siplb's memory
// (the USR2 report: rss_bytes, heap_used_bytes, workers_heap_used_bytes, pending_transactions; and
// VmRSS/VmHWM from /proc), prints a table, writes bench/results/soak-*.json, and fits the heap
// trend by least squares over the samples after the warm-up (2 minutes, or half of a shorter run:
// a finished transaction is held 32 s, so the first minute never shows the steady heap), saying
// whether it grows. Between samples it probes the heap every 5 s and keeps the lowest value (the
// heap floor, near the post-GC heap), whose trend is fitted too: the heap in use swings with the GC
// cycle, and 30 s samples alias with it. Not part of npm test; test/e2e/soak-smoke.test.ts runs a
// few seconds of it.
//
// Options: --minutes N (10), --rate N calls/s (1000), --interval S (30), --probe S (5, at most the
//          interval), --warmup-minutes N,
//          --mode stateful|stateless, --workers N (siplb's default 0), --send direct|ring
//          (SIPLB_WORKER_SEND with workers), --out DIR (bench/results),
//          --name NAME (soak-<date>; also written as soak-latest.json unless --out or --name is given).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadAverage } from '../sipp/proc.js';
import { type CallerResult, runCaller, sippVersion, startUas } from '../sipp/sipp.js';
import { describeTrend, parseProcStatus, parseReport, type Sample, sampleTable, trend, type Trend } from './stats.js';

const root = join(import.meta.dirname, '..', '..', '..');
const argv = process.argv.slice(2);
const option = (name: string, dflt: string): string => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1]! : dflt;
};
const minutes = Number(option('minutes', '10'));
const rate = Number(option('rate', '1000'));
const intervalS = Number(option('interval', '30'));
const probeS = Math.min(intervalS, Number(option('probe', '5')));
const warmupMinutes = Number(option('warmup-minutes', String(Math.min(2, minutes / 2))));
const mode = option('mode', 'stateful');
const workers = option('workers', '0');
const outDir = option('out', join(root, 'bench', 'results'));
const progress = (line: string): void => void process.stderr.write(`${line}\n`);

for (const [name, v] of [['minutes', minutes], ['rate', rate], ['interval', intervalS], ['probe', probeS], ['warmup-minutes', warmupMinutes]] as const) {
  if (!Number.isFinite(v) || v < 0 || (name !== 'warmup-minutes' && v === 0)) throw new Error(`soak: --${name} must be a positive number`);
}

export interface SoakResults {
  conditions: { date: string; commit: string; node: string; cpuModel: string; cores: number; kernel: string; sipp: string; loadAverageStart: number; loadAverageEnd: number };
  options: { minutes: number; rate: number; intervalSeconds: number; probeSeconds: number; warmupMinutes: number; mode: string; workers: number };
  samples: Sample[];
  heap: Trend;
  heapFloor: Trend;
  rss: Trend;
  caller: CallerResult;
  /** Calls SIPp was asked to place. */
  calls: number;
  proxyExitCode: number | null;
}

/** `n` distinct free UDP ports on 127.0.0.1 (held until all are chosen); even ones with +2 free for SIPp media. */
async function freePorts(n: number, media = false): Promise<number[]> {
  const held: Array<ReturnType<typeof createSocket>> = [];
  const ports: number[] = [];
  const bind = (p: number): Promise<ReturnType<typeof createSocket> | undefined> =>
    new Promise((resolve) => {
      const s = createSocket('udp4');
      s.once('error', () => (s.close(), resolve(undefined)));
      s.bind(p, '127.0.0.1', () => resolve(s));
    });
  try {
    while (ports.length < n) {
      const s = await bind(0);
      if (!s) throw new Error('soak: cannot bind a UDP port on 127.0.0.1');
      held.push(s);
      const p = s.address().port;
      if (p >= 6000 && p <= 6003) continue; // SIPp's default media ports (DESIGN.md)
      if (media) {
        if (p % 2 !== 0 || p > 65_000) continue;
        const pair = await bind(p + 2);
        if (!pair) continue;
        held.push(pair);
      }
      ports.push(p);
    }
    return ports;
  } finally {
    for (const s of held) s.close();
  }
}

interface Proxy {
  child: ChildProcess;
  out(): string;
}

function startSiplb(port: number, listFile: string): Proxy {
  const child = spawn(process.execPath, [join(root, 'bin', 'siplb.js'), 'start'], {
    env: { PATH: process.env.PATH ?? '', SIPLB_LISTEN: `udp:127.0.0.1:${port}`, SIPLB_LIST_FILE: listFile, SIPLB_MODE: mode, SIPLB_WORKERS: workers, SIPLB_WORKER_SEND: option('send', 'direct'), SIPLB_LOG_LEVEL: 'warn', SIPLB_ADMIN: '', SIPLB_DS_PING_INTERVAL: '0' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  return { child, out: () => out };
}

async function ready(port: number, p: Proxy): Promise<void> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  let ok = false;
  s.on('message', (m) => (ok ||= m.toString('latin1').startsWith('SIP/2.0 200')));
  for (let i = 0; i < 150 && !ok && p.child.exitCode === null; i++) {
    const id = `soak-ready-${port}-${i}`;
    s.send(`OPTIONS sip:127.0.0.1:${port} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:${s.address().port};branch=z9hG4bK${id};rport\r\nMax-Forwards: 70\r\nFrom: <sip:soak@127.0.0.1>;tag=s${i}\r\nTo: <sip:127.0.0.1>\r\nCall-ID: ${id}\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n`, port, '127.0.0.1');
    await new Promise((r) => setTimeout(r, 100));
  }
  s.close();
  if (!ok) throw new Error(`soak: siplb on port ${port} did not answer OPTIONS within 15 s`);
}

/** kill -USR2 and the memory lines of the report it prints, plus /proc; undefined if no report came. */
async function sample(p: Proxy, t: number, floor = Infinity): Promise<Sample | undefined> {
  const before = p.out().length;
  p.child.kill('SIGUSR2');
  const until = Date.now() + 10_000;
  while (!p.out().slice(before).includes('#[Buckets') && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
  const mem = parseReport(p.out().slice(before));
  if (!mem) return undefined;
  let proc = { vmRssBytes: 0, vmHwmBytes: 0 };
  try {
    proc = parseProcStatus(readFileSync(`/proc/${p.child.pid}/status`, 'utf8'));
  } catch {
    // not Linux, or gone: the report's numbers still stand
  }
  const heapBytes = mem.mainHeapBytes + mem.workersHeapBytes;
  return { t, rssBytes: mem.rssBytes, heapBytes, heapFloorBytes: Math.min(floor, heapBytes), mainHeapBytes: mem.mainHeapBytes, workersHeapBytes: mem.workersHeapBytes, pendingTransactions: mem.pendingTransactions, ...proc };
}

async function main(): Promise<void> {
  const sipp = sippVersion();
  if (sipp === 'not installed') throw new Error('soak: SIPp not found (Debian package sip-tester: scripts/install-sipp.sh)');
  const loadAverageStart = loadAverage();
  const [proxyPort, uacPort, b1, b2, c0, c1, c2] = await freePorts(7);
  const [m0, m1, m2] = await freePorts(3, true);
  const dir = mkdtempSync(join(tmpdir(), 'siplb-soak-'));
  const listFile = join(dir, 'dispatcher.list');
  writeFileSync(listFile, `1 sip:127.0.0.1:${b1}\n1 sip:127.0.0.1:${b2}\n`);
  const backends = [startUas(b1!, m1!, c1!), startUas(b2!, m2!, c2!)];
  const proxy = startSiplb(proxyPort!, listFile);
  const cleanup = (): void => {
    for (const c of [...backends, proxy.child]) c.kill('SIGKILL');
  };
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => (cleanup(), process.exit(130)));
  try {
    await ready(proxyPort!, proxy);
    const seconds = Math.round(minutes * 60);
    const calls = Math.round(rate * seconds);
    progress(`soak: ${calls} calls at ${rate}/s for ${minutes} min through siplb (${mode}, SIPLB_WORKERS=${workers}, SIPLB_WORKER_SEND=${option('send', 'direct')}); samples every ${intervalS} s, trend from minute ${warmupMinutes}`);
    const samples: Sample[] = [];
    const first = await sample(proxy, 0);
    if (first) samples.push(first);
    const t0 = Date.now();
    let callerDone = false;
    const caller = runCaller({ scenario: 'uac', strict: false, target: `127.0.0.1:${proxyPort}`, port: uacPort!, mediaPort: m0!, controlPort: c0!, rate, calls, timeoutS: seconds + 30 }).finally(() => (callerDone = true));
    for (let k = 1; !callerDone; k++) {
      const due = t0 + k * intervalS * 1000;
      let floor = Infinity;
      for (let nextProbe = Date.now() + probeS * 1000; !callerDone && Date.now() < due; ) {
        await new Promise((r) => setTimeout(r, Math.min(250, Math.max(1, Math.min(due, nextProbe) - Date.now()))));
        if (callerDone || Date.now() < nextProbe || Date.now() >= due) continue;
        const probe = await sample(proxy, 0);
        if (probe) floor = Math.min(floor, probe.heapBytes);
        nextProbe += probeS * 1000;
      }
      if (callerDone) break;
      const s = await sample(proxy, (Date.now() - t0) / 1000, floor);
      if (!s) {
        progress(`soak: no report from siplb at +${k * intervalS} s${proxy.child.exitCode !== null ? ` (it exited ${proxy.child.exitCode})` : ''}`);
        continue;
      }
      samples.push(s);
      progress(`  +${Math.round(s.t)} s: rss ${(s.rssBytes / 1048576).toFixed(1)} MB, heap ${(s.heapBytes / 1048576).toFixed(1)} MB (floor ${(s.heapFloorBytes / 1048576).toFixed(1)}), pending ${s.pendingTransactions}`);
    }
    const callerResult = await caller;
    proxy.child.kill('SIGTERM');
    const proxyExitCode = await new Promise<number | null>((r) => (proxy.child.exitCode !== null ? r(proxy.child.exitCode) : proxy.child.once('exit', r)));
    const commit = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).stdout.trim() || 'unknown';
    const results: SoakResults = {
      conditions: { date: new Date().toISOString(), commit, node: process.version, cpuModel: cpus()[0]?.model ?? 'unknown', cores: cpus().length, kernel: release(), sipp, loadAverageStart, loadAverageEnd: loadAverage() },
      options: { minutes, rate, intervalSeconds: intervalS, probeSeconds: probeS, warmupMinutes, mode, workers: Number(workers) },
      samples,
      heap: trend(samples, warmupMinutes, (s) => s.heapBytes),
      heapFloor: trend(samples, warmupMinutes, (s) => s.heapFloorBytes),
      rss: trend(samples, warmupMinutes, (s) => s.rssBytes),
      caller: callerResult,
      calls,
      proxyExitCode,
    };
    const c = results.conditions;
    process.stdout.write(
      `siplb soak: ${mode}, SIPLB_WORKERS=${workers} (send ${option('send', 'direct')}), ${rate} calls/s for ${minutes} min; Node ${c.node}, ${c.cpuModel} x${c.cores}, ${c.sipp}, commit ${c.commit}, load ${c.loadAverageStart} -> ${c.loadAverageEnd}\n\n` +
        `${sampleTable(samples)}\n\n` +
        `calls: ${callerResult.completed} completed, ${callerResult.failed} failed of ${calls}; siplb exit ${proxyExitCode}\n` +
        `${describeTrend('heap', results.heap)}\n${describeTrend('heap floor', results.heapFloor)}\n${describeTrend('rss', results.rss)}\n`,
    );
    const stamp = c.date.replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
    const name = option('name', `soak-${stamp}`);
    mkdirSync(outDir, { recursive: true });
    writeFileSync(join(outDir, `${name}.json`), JSON.stringify(results, null, 2));
    if (!argv.includes('--out') && !argv.includes('--name')) writeFileSync(join(outDir, 'soak-latest.json'), JSON.stringify(results, null, 2));
    progress(`saved ${join(outDir, `${name}.json`)}`);
  } finally {
    cleanup();
  }
}

await main();
