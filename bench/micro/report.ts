// Conditions, table and JSON output for the parser micro benchmarks (STYLE.md rule 14: print the
// table with its conditions, save the JSON).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export type Variant = 'baseline' | 'parse' | 'parse+read';

export interface Row {
  readonly message: string;
  readonly bytes: number;
  /** "baseline", "siplb", "sip 0.0.6", "jssip 3.13.8". */
  readonly contender: string;
  readonly variant: Variant;
  /** True for the JavaScript peers: the ratio column divides by the fastest of them. */
  readonly jsPeer: boolean;
  /** ops/s, relative margin of error (%) and sample count; absent when the contender is n/a. */
  readonly hz?: number;
  readonly rme?: number;
  readonly samples?: number;
  /** Why the contender was not timed on this message. */
  readonly skipped?: string;
}

export interface Settings {
  readonly quick: boolean;
  /** Untimed calls per case before benchmark.js starts, in milliseconds. */
  readonly warmMs: number;
  readonly minTime: number;
  readonly maxTime: number;
  readonly minSamples: number;
}

export interface Conditions {
  readonly date: string;
  readonly node: string;
  readonly v8: string;
  readonly os: string;
  readonly cpu: string;
  readonly cpuMHz: number;
  readonly cores: number;
  /** 1-minute load average when the run started and when it ended: other work on the host shows here. */
  readonly loadavg1Start: number;
  readonly loadavg1End?: number;
  readonly commit: string;
  readonly benchmarkJs: string;
}

function git(args: string[]): string | undefined {
  try {
    return execFileSync('git', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
}

export function loadavg1(): number {
  return Number((os.loadavg()[0] ?? 0).toFixed(2));
}

export function conditions(benchmarkJs: string): Conditions {
  const cpus = os.cpus();
  const head = git(['rev-parse', '--short', 'HEAD']);
  const dirty = head !== undefined && (git(['status', '--porcelain']) ?? '') !== '';
  return {
    date: new Date().toISOString(),
    node: process.version,
    v8: process.versions.v8,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cpuMHz: cpus[0]?.speed ?? 0,
    cores: cpus.length,
    loadavg1Start: loadavg1(),
    commit: head === undefined ? 'unavailable (no commit)' : head + (dirty ? ' (dirty tree)' : ''),
    benchmarkJs,
  };
}

/** hz divided by the fastest JS peer's hz in the same message and variant, or undefined. */
export function ratio(row: Row, rows: readonly Row[]): number | undefined {
  if (row.hz === undefined || row.variant === 'baseline') return undefined;
  let best = 0;
  for (const r of rows) {
    if (r.jsPeer && r.message === row.message && r.variant === row.variant && r.hz !== undefined) best = Math.max(best, r.hz);
  }
  return best > 0 ? row.hz / best : undefined;
}

export function table(rows: readonly Row[]): string {
  const lines = [
    '| message | contender | ops/s | ±rme | vs fastest JS peer |',
    '|---|---|--:|--:|--:|',
  ];
  for (const r of rows) {
    const who = r.variant === 'baseline' ? 'baseline (empty call)' : `${r.contender} ${r.variant}`;
    const msg = `${r.message} (${r.bytes} B)`;
    if (r.hz === undefined) {
      lines.push(`| ${msg} | ${who} | n/a (fails: ${r.skipped ?? '?'}) | | |`);
      continue;
    }
    const x = ratio(r, rows);
    lines.push(`| ${msg} | ${who} | ${Math.round(r.hz).toLocaleString('en-US')} | ${(r.rme ?? 0).toFixed(2)}% | ${x === undefined ? '-' : x.toFixed(2) + 'x'} |`);
  }
  return lines.join('\n');
}

export function header(c: Conditions, s: Settings): string {
  return [
    `Parser micro benchmarks${s.quick ? ' (--quick: smoke run, numbers not meaningful)' : ''}`,
    `date ${c.date}, commit ${c.commit}`,
    `Node ${c.node} (V8 ${c.v8}), ${c.os}`,
    `CPU ${c.cpu}, ${c.cores} cores, ${c.cpuMHz > 0 ? `${c.cpuMHz} MHz` : 'clock rate not reported'}, 1-min load average ${c.loadavg1Start} at start, ${c.loadavg1End ?? '?'} at end`,
    `benchmark.js ${c.benchmarkJs}: warm-up ${s.warmMs} ms, minTime ${s.minTime}s, maxTime ${s.maxTime}s, minSamples ${s.minSamples}, one process, sequential`,
  ].join('\n');
}

/** The project root: the nearest directory above this file with a package.json. */
function projectRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

/**
 * Writes bench/results/parser-<YYYYMMDD-HHMMSS>.json (UTC) and parser-latest.json. A --quick
 * run writes only parser-quick.tmp.json (git-ignored), so smoke tests never replace real results.
 */
export function save(c: Conditions, s: Settings, rows: readonly Row[]): string[] {
  const dir = join(projectRoot(), 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const withRatios = rows.map((r) => ({ ...r, ratioVsFastestJsPeer: ratio(r, rows) ?? null }));
  const json = JSON.stringify({ benchmark: 'parser', conditions: c, settings: s, results: withRatios }, null, 2) + '\n';
  const stamp = c.date.replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  const files = s.quick ? ['parser-quick.tmp.json'] : [`parser-${stamp}.json`, 'parser-latest.json'];
  const paths = files.map((f) => join(dir, f));
  for (const p of paths) writeFileSync(p, json);
  return paths;
}
