// SIPp for the benchmark: the callee backends and the caller, with every run's counters read from
// SIPp's own files (-trace_stat, -trace_rtt). All sockets on 127.0.0.1; -buff_size 4194304 because
// SIPp's default 64 KB buffer drops datagrams from about 6,000 calls/s here (DESIGN.md).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cpuSeconds } from './proc.js';

export const SCENARIOS = join(import.meta.dirname, '..', '..', '..', 'test', 'e2e', 'scenarios');

export function sippVersion(): string {
  const out = spawnSync('sipp', ['-v'], { encoding: 'utf8' });
  return /SIPp v[\w.-]+/.exec(`${out.stdout}${out.stderr}`)?.[0] ?? 'not installed';
}

/** A backend answering calls until stopped (-m is its lifetime bound, not an expectation). */
export function startUas(port: number, mediaPort: number, controlPort: number): ChildProcess {
  return spawn('sipp', ['-sf', join(SCENARIOS, 'uas.xml'), '-i', '127.0.0.1', '-p', String(port), '-mp', String(mediaPort), '-cp', String(controlPort),
    '-m', '100000000', '-timeout', '3600', '-buff_size', '4194304', '-nostdin', '-max_recv_loops', '10000'], { stdio: 'ignore' });
}

export interface CallerResult {
  completed: number;
  failed: number;
  retransmissions: number;
  rttP50Ms: number | null;
  rttP99Ms: number | null;
  sippCpuSeconds: number;
  exitCode: number | null;
  seconds: number;
}

function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/**
 * Places `calls` calls at `rate` through `target`; resolves when SIPp has finished. `strict`: SIPp's
 * default behaviours, where an unexpected message (a 180 after the 200) aborts the call; otherwise
 * -default_behaviors all,-abortunexp, so a reordering proxy is measured on CPU, not on order.
 */
export async function runCaller(opts: { scenario: string; strict: boolean; target: string; port: number; mediaPort: number; controlPort: number; rate: number; calls: number; timeoutS: number; extra?: readonly string[] }): Promise<CallerResult> {
  const dir = mkdtempSync(join(tmpdir(), 'siplb-bench-'));
  const args = ['-sf', join(SCENARIOS, `${opts.scenario}.xml`), '-s', 'service', opts.target, '-i', '127.0.0.1', '-p', String(opts.port),
    '-mp', String(opts.mediaPort), '-cp', String(opts.controlPort), '-r', String(opts.rate), '-m', String(opts.calls),
    '-l', String(Math.max(1000, opts.rate * 4)), '-timeout', String(opts.timeoutS), '-buff_size', '4194304', '-nostdin',
    '-trace_stat', '-stf', join(dir, 'stat.csv'), '-fd', '1', '-trace_rtt', '-rtt_freq', '1', '-trace_err', '-error_file', join(dir, 'err.log'),
    ...(opts.strict ? [] : ['-default_behaviors', 'all,-abortunexp']), ...(opts.extra ?? [])];
  const t0 = Date.now();
  const child = spawn('sipp', args, { cwd: dir, stdio: 'ignore' });
  // SIPp's CPU is sampled while it runs: once it exits, /proc no longer has it
  let cpu = 0;
  const sampler = setInterval(() => (cpu = Math.max(cpu, cpuSeconds(child.pid!))), 200);
  // SIPp's -timeout does not end a run whose calls are stuck: stop it ourselves (SIGUSR1 makes it
  // write its final statistics, SIGTERM then SIGKILL if it does not go).
  const hard = setTimeout(() => {
    child.kill('SIGUSR1');
    setTimeout(() => child.kill('SIGTERM'), 2000);
    setTimeout(() => child.kill('SIGKILL'), 5000);
  }, (opts.timeoutS + 5) * 1000);
  const exitCode = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  clearTimeout(hard);
  clearInterval(sampler);
  const seconds = (Date.now() - t0) / 1000;
  const stat = readFileSync(join(dir, 'stat.csv'), 'utf8').trim().split('\n');
  const head = stat[0]!.split(';');
  const last = stat[stat.length - 1]!.split(';');
  const col = (name: string): number => Number(last[head.indexOf(name)] ?? 0);
  const rttFile = readdirSync(dir).find((f) => f.endsWith('_rtt.csv'));
  const rtts = rttFile
    ? readFileSync(join(dir, rttFile), 'utf8').trim().split('\n').slice(1).map((l) => Number(l.split(';')[1])).filter((x) => Number.isFinite(x)).sort((a, b) => a - b)
    : [];
  return {
    completed: col('SuccessfulCall(C)'),
    failed: col('FailedCall(C)'),
    retransmissions: col('Retransmissions(C)'),
    rttP50Ms: percentile(rtts, 50),
    rttP99Ms: percentile(rtts, 99),
    sippCpuSeconds: cpu,
    exitCode,
    seconds,
  };
}
