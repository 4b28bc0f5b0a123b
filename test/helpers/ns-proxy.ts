// siplb started inside a test network namespace the way a user starts it (node bin/siplb.js start,
// configured by SIPLB_* variables only), ready once it answers an OPTIONS addressed to itself.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import type { Netns, NsSocket } from './netns.js';
import { pingProxy } from './ns-sip.js';
import { QUIET_DEFAULTS } from './proxy-process.js';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'siplb.js');

export interface NsProxy {
  readonly host: string;
  readonly port: number;
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** kill -USR2 and the report it prints (counters, memory, workers, latency). */
  report(): Promise<string>;
  /** SIGTERM (drain), then the exit code and everything printed. */
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>;
}

export interface NsProxyOptions {
  host: string;
  port: number;
  /** dispatcher.list contents. */
  list: string;
  env?: Record<string, string>;
  /** Environment outside SIPLB_* (test hooks). */
  extraEnv?: Record<string, string>;
}

/** Starts siplb in `ns` and resolves when it answers `probe`'s OPTIONS, or rejects with its stderr. */
export async function startNsProxy(ns: Netns, probe: NsSocket, o: NsProxyOptions): Promise<NsProxy> {
  const dir = mkdtempSync(join(tmpdir(), 'siplb-ns-'));
  const list = join(dir, 'dispatcher.list');
  writeFileSync(list, o.list);
  const child = ns.spawn(process.execPath, [BIN, 'start'], {
    env: { SIPLB_LISTEN: `udp:${o.host}:${o.port}`, SIPLB_LIST_FILE: list, SIPLB_LOG_LEVEL: 'warn', ...QUIET_DEFAULTS, ...o.env, ...o.extraEnv },
  });
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`siplb exited (${child.exitCode ?? child.signalCode}) before serving\nstderr:\n${err}\nstdout:\n${out}`);
    }
    try {
      await pingProxy(probe, o.host, o.port, 300);
      break;
    } catch {
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`siplb in ${ns.name} did not answer OPTIONS within 20 s\nstderr:\n${err}`);
      }
    }
  }
  return {
    host: o.host,
    port: o.port,
    child,
    stdout: () => out,
    stderr: () => err,
    async report() {
      const before = out.length;
      child.kill('SIGUSR2');
      const until = Date.now() + 5_000;
      // the report ends with the latency histogram's footer line
      while (!/#\[Buckets/.test(out.slice(before)) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
      return out.slice(before);
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const kill = setTimeout(() => child.kill('SIGKILL'), 15_000);
      const r = await exited;
      clearTimeout(kill);
      return { ...r, stdout: out, stderr: err };
    },
  };
}

/** A counter of a report (`  name value` lines); 0 when absent (zero counters are not printed). */
export function reportValue(report: string, name: string): number {
  const m = new RegExp(`^\\s+${name} (\\d+)$`, 'm').exec(report);
  return m ? Number(m[1]) : 0;
}
