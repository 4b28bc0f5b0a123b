// Runs bin/siplb.js in a child process and collects everything it says: exit code, stdout and
// stderr (a helper that drops stderr hides the one line that explains a failure).
import { spawn } from 'node:child_process';
import { join } from 'node:path';

export const ROOT = join(import.meta.dirname, '..', '..');
export const BIN = join(ROOT, 'bin', 'siplb.js');

export interface CliResult {
  /** Exit code, or null when the child was killed by a signal. */
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunOptions {
  /** Bytes written to the child's stdin (stdin is closed either way). */
  readonly input?: Uint8Array | string;
  readonly timeoutMs?: number;
}

/** runCli with exactly PATH and `env` as the environment (no SIPLB_* of the test runner leaks in). */
export function runCliEnv(args: readonly string[], env: Record<string, string>, options: RunOptions = {}): Promise<CliResult> {
  return runCli(args, { ...options, env: { PATH: process.env.PATH ?? '', ...env } });
}

export function runCli(args: readonly string[], options: RunOptions & { env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: ROOT,
      ...(options.env ? { env: options.env } : {}),
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: options.timeoutMs ?? 20_000,
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      resolve({
        code,
        signal,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      });
    });
    child.stdin.end(options.input ?? '');
  });
}

/** A one-line description of a result for assertion messages. */
export function describeResult(r: CliResult): string {
  return `exit ${r.code ?? r.signal}\n--- stdout ---\n${r.stdout}\n--- stderr ---\n${r.stderr}`;
}
