// The process side of a SIPp run: collect stdout and stderr (both: SIPp reports bind failures and
// scenario errors on stderr), read the statistics files once it exits, and tell when it listens.
import { type ChildProcess } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import {
  parseScenarioScreen,
  parseScreenCounters,
  parseStatCsv,
  type SippCounters,
  type SippMessageRow,
} from './sipp-stats.js';

export interface SippResult extends SippCounters {
  /** SIPp's exit status: 0 all calls succeeded, 1 some failed, 97 ended by -timeout or a command,
   *  99 no call processed, 254/255 fatal (e.g. a socket could not be bound). null if killed. */
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The per-element table of SIPp's final screen (messages, retransmissions, timeouts). */
  messages: SippMessageRow[];
  /** The -trace_err log: every unexpected message and aborted call, with reasons. */
  errors: string;
  /** The tail of each stream (SIPp repaints its screen to stdout every second). */
  stdout: string;
  stderr: string;
  args: readonly string[];
  /** The run's files (stat CSV, screen, errors), kept only when asked (keepFiles): the fields above
   *  already carry what they say. */
  workDir: string | undefined;
}

/** Per stream. The screen repaints at about 3 KB/s; the end of a run is what explains a failure. */
const KEEP_BYTES = 256 * 1024;

class Tail {
  #text = '';
  push(chunk: Buffer): void {
    this.#text += chunk.toString('utf8');
    if (this.#text.length > 2 * KEEP_BYTES) this.#text = this.#text.slice(-KEEP_BYTES);
  }
  get text(): string {
    return this.#text.slice(-KEEP_BYTES);
  }
}

async function readOptional(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return '';
  }
}

const ZERO: SippCounters = {
  successful: 0,
  failed: 0,
  retransmissions: 0,
  created: 0,
  deadCallMessages: 0,
  outOfCallMessages: 0,
};

/** Settles once `child` has exited and its files are read; never rejects. */
export function collectResult(
  child: ChildProcess,
  args: readonly string[],
  dir: string,
  keepFiles: boolean,
): Promise<SippResult> {
  const stdout = new Tail();
  const stderr = new Tail();
  child.stdout?.on('data', (c: Buffer) => stdout.push(c));
  child.stderr?.on('data', (c: Buffer) => stderr.push(c));
  return new Promise((resolve) => {
    // 'close', not 'exit': it waits for both pipes to drain, so no output is lost.
    child.once('close', (code, signal) => {
      void (async () => {
        const [csv, screen, errors] = await Promise.all(
          ['stat.csv', 'screen.log', 'errors.log'].map((f) => readOptional(join(dir, f))),
        );
        // Empty after SIGTERM/SIGINT: the final screens are on stdout then.
        const finalScreen = screen || stdout.text;
        const counters = (csv && parseStatCsv(csv)) || { ...ZERO, ...parseScreenCounters(finalScreen) };
        if (!keepFiles) await rm(dir, { recursive: true, force: true });
        resolve({
          ...counters,
          code,
          signal,
          messages: parseScenarioScreen(finalScreen),
          errors: errors ?? '',
          stdout: stdout.text,
          stderr: stderr.text,
          args,
          workDir: keepFiles ? dir : undefined,
        });
      })();
    });
    // A spawn failure (ENOENT) is followed by 'close' with code -2 and no files: nothing else to do.
    child.once('error', (err) => stderr.push(Buffer.from(`spawn error: ${err.message}\n`)));
  });
}

/** True when some socket has `port` bound in /proc/net/udp or udp6 (Linux; the e2e tier runs there). */
async function udpPortBound(port: number): Promise<boolean> {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')} `;
  for (const table of ['/proc/net/udp', '/proc/net/udp6']) {
    const text = await readOptional(table);
    // Columns: sl local_address rem_address st ...; local_address ends in the port in hex.
    for (const line of text.split('\n')) {
      const local = line.trim().split(/\s+/)[1];
      if (local !== undefined && `${local} `.endsWith(hex)) return true;
    }
  }
  return false;
}

/** Polls until `port` is bound (true), `timeoutMs` passes (false), or `stop` settles (false). */
export async function waitForUdpPort(port: number, timeoutMs: number, stop: Promise<unknown>): Promise<boolean> {
  let stopped = false;
  void stop.then(() => (stopped = true));
  const deadline = Date.now() + timeoutMs;
  while (!stopped && Date.now() < deadline) {
    if (await udpPortBound(port)) return true;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return false;
}
