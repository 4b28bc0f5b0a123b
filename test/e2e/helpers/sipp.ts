// Runs SIPp (Debian package sip-tester) as an independent SIP peer for e2e tests and reads its final
// statistics. Every run is bounded: -m calls (when given), -timeout, and a hard kill a few seconds
// after that in case SIPp itself hangs. Every socket stays on loopback: SIP (-i/-p with -bind_local),
// media (-mi/-mp, a free pair instead of the default 6000 that DESIGN.md keeps tests clear of) and
// the remote-control socket (-ci/-cp, else 0.0.0.0:8888 shared by every parallel SIPp).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { freeMediaPort, freeUdpPort } from './ports.js';
import { collectResult, type SippResult, waitForUdpPort } from './sipp-process.js';

export type { SippResult } from './sipp-process.js';
export type { SippMessageRow } from './sipp-stats.js';

export const SCENARIO_DIR = join(import.meta.dirname, '..', 'scenarios');

export interface SippOptions {
  /** A file in test/e2e/scenarios ("uac" or "uac.xml") or a path to a scenario file. */
  scenario: string;
  role: 'uac' | 'uas';
  localPort: number;
  /** host:port to send to; required for a UAC (a UAS answers whoever sends). */
  remote?: string;
  /** Calls per second (-r), UAC only; SIPp's default is 10. */
  rate?: number;
  /** -m: SIPp exits after this many calls. For a UAS every OPTIONS counts as a call. */
  calls?: number;
  /** SIPp's global -timeout; SIPp counts whole seconds, so this is rounded up. */
  timeoutMs: number;
  /** More SIPp options, e.g. ['-d', '2000'] (pause length) or ['-trace_msg']. */
  extra?: string[];
  /** Loopback address for every SIPp socket: 127.0.0.1 (default) or ::1. */
  localHost?: string;
  /** Keep the run's directory (stat CSV, screen, error log, and -trace_msg output if asked for). */
  keepFiles?: boolean;
}

export interface SippRun {
  readonly pid: number;
  readonly args: readonly string[];
  /** Settles (never rejects) when SIPp has exited and its statistics are read. */
  readonly result: Promise<SippResult>;
  /** Ends the run: a soft stop (SIGUSR1: running calls may finish within graceMs), then SIGTERM. */
  stop(graceMs?: number): Promise<SippResult>;
}

/** SIPp's fatal startup exit (255 = -1, 254 = -2: a socket could not be bound). */
const FATAL_CODES = new Set([254, 255]);
/** Bind failures on the ports this helper picked; the caller's SIP port is not retried. */
const OUR_PORT_RACE = /Unable to bind (audio RTP|video RTP|remote control) socket/;
const START_ATTEMPTS = 3;
/** On top of -timeout, before SIGKILL: SIPp needs a moment to dump its statistics. */
const HARD_KILL_GRACE_MS = 5_000;

/** The version banner of the installed SIPp, or undefined when it is not installed. */
export function sippVersion(): string | undefined {
  // `sipp -v` prints the banner and exits 99 whatever happens: look at the text, not the status.
  const out = spawnSync('sipp', ['-v'], { encoding: 'utf8', timeout: 5_000 });
  if (out.error !== undefined) return undefined;
  return /SIPp v[^\s]+/.exec(`${out.stdout}${out.stderr}`)?.[0];
}

export const SIPP_MISSING = 'sipp not found on PATH (Debian package sip-tester: run scripts/install-sipp.sh)';

/**
 * True when SIPp is installed. Missing SIPp throws under CI=true (DESIGN.md: no skips in CI) and
 * elsewhere prints why and returns false, for `describe.skipIf(!requireSipp())`.
 */
export function requireSipp(): boolean {
  if (sippVersion() !== undefined) return true;
  if (process.env.CI === 'true') throw new Error(`${SIPP_MISSING}; required under CI=true`);
  console.warn(`SKIP SIPp e2e tests: ${SIPP_MISSING}`);
  return false;
}

export function scenarioPath(scenario: string): string {
  if (isAbsolute(scenario) || scenario.includes('/')) return scenario;
  const file = join(SCENARIO_DIR, scenario.endsWith('.xml') ? scenario : `${scenario}.xml`);
  if (!existsSync(file)) throw new Error(`no SIPp scenario ${file}`);
  return file;
}

function buildArgs(o: SippOptions, dir: string, mediaPort: number, controlPort: number): string[] {
  const host = o.localHost ?? '127.0.0.1';
  const args: string[] = [];
  if (o.role === 'uac') {
    if (o.remote === undefined) throw new Error('startSipp: a uac needs remote (host:port)');
    args.push(o.remote);
  }
  args.push('-sf', scenarioPath(o.scenario));
  args.push('-i', host, '-p', String(o.localPort), '-bind_local');
  args.push('-mi', host, '-mp', String(mediaPort), '-ci', host, '-cp', String(controlPort));
  // DESIGN.md: SIPp needs 4 MiB socket buffers at high rates; harmless at low ones.
  args.push('-buff_size', '4194304', '-nostdin');
  args.push('-timeout', `${Math.max(1, Math.ceil(o.timeoutMs / 1000))}s`);
  args.push('-trace_err', '-error_file', join(dir, 'errors.log'));
  args.push('-trace_stat', '-stf', join(dir, 'stat.csv'));
  args.push('-trace_screen', '-screen_file', join(dir, 'screen.log'));
  if (o.role === 'uac') args.push('-r', String(o.rate ?? 10));
  if (o.calls !== undefined) args.push('-m', String(o.calls));
  args.push(...(o.extra ?? []));
  return args;
}

/** A started run, plus its result when SIPp was gone before it listened (a failed start or a short run). */
async function startOnce(o: SippOptions): Promise<{ run: SippRun; early: SippResult | undefined }> {
  const host = o.localHost ?? '127.0.0.1';
  const dir = await mkdtemp(join(tmpdir(), 'siplb-sipp-'));
  const args = buildArgs(o, dir, await freeMediaPort(host), await freeUdpPort(host));
  // cwd in the run's directory: any file SIPp names by default lands there too.
  const child = spawn('sipp', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  const result = collectResult(child, args, dir, o.keepFiles === true);
  const hardKill = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs + HARD_KILL_GRACE_MS);
  void result.then(() => clearTimeout(hardKill));

  let early: SippResult | undefined;
  const exited = result.then((r) => {
    early = r;
    return false;
  });
  const readyMs = Math.min(o.timeoutMs, 5_000);
  const bound = await Promise.race([waitForUdpPort(o.localPort, readyMs, exited), exited]);
  if (!bound && early === undefined) {
    child.kill('SIGKILL');
    const r = await result;
    throw new Error(`sipp did not bind ${host}:${o.localPort} within ${readyMs} ms\nstderr: ${r.stderr}`);
  }

  const stop = async (graceMs = 1_000): Promise<SippResult> => {
    // SIGUSR1: like pressing q, no new calls and the running ones may finish. SIGTERM (or SIGINT):
    // quit at once, still writing the statistics files. SIGKILL only if SIPp hangs.
    for (const [signal, wait] of [['SIGUSR1', graceMs], ['SIGTERM', 2_000], ['SIGKILL', 2_000]] as const) {
      if (child.exitCode !== null || child.signalCode !== null) break;
      child.kill(signal);
      const timer = new Promise<void>((resolve) => setTimeout(resolve, wait).unref());
      await Promise.race([result, timer]);
    }
    return result;
  };
  return { run: { pid: child.pid ?? -1, args, result, stop }, early };
}

/**
 * Starts SIPp and resolves once it listens on localPort (or has already finished: a short UAC run can
 * end before the first poll). Rejects when SIPp cannot start. Retries when one of the ports this
 * helper chose was taken between choosing and binding.
 */
export async function startSipp(opts: SippOptions): Promise<SippRun> {
  for (let attempt = 1; ; attempt++) {
    const { run, early } = await startOnce(opts);
    if (early === undefined || early.code === null || !FATAL_CODES.has(early.code)) return run;
    const output = `${early.stderr}\n${early.stdout}`;
    if (attempt < START_ATTEMPTS && OUR_PORT_RACE.test(output)) {
      if (early.workDir !== undefined) await rm(early.workDir, { recursive: true, force: true });
      continue;
    }
    throw new Error(`sipp exited ${early.code} at start: sipp ${run.args.join(' ')}\n${early.stderr.slice(-2_000)}`);
  }
}
