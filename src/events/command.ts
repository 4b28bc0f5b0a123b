// Main thread: runs SIPLB_EVENT_COMMAND for each destination event, the event in environment
// variables (event.ts eventEnv). The main thread never waits on a command: each is a child
// process watched by events; at most COMMAND_CONCURRENCY run at once, the rest wait in a queue
// bounded like the webhook's (oldest dropped and counted), and one still running after
// COMMAND_TIMEOUT_MS is killed.
//
// spawn('/bin/sh', ['-c', command]), which is what execFile would run, but in a process group
// of its own (detached): a timeout kills the whole group, so `curl ...; sleep 60` or a pipeline
// cannot leave grandchildren behind, which killing the shell alone would (dash forks for each
// command it runs).
import { spawn, type ChildProcess } from 'node:child_process';
import type { Log } from '../server.js';
import { eventEnv, type DestEvent } from './event.js';

export const COMMAND_CONCURRENCY = 4;
export const COMMAND_TIMEOUT_MS = 10_000;
/** Bytes of a failed command's stderr kept for its log line. */
const STDERR_TAIL = 512;

export interface CommandOptions {
  readonly command: string;
  /** Events waiting for a free slot. */
  readonly capacity: number;
  readonly log: Log;
  /** The environment the event variables are added to; siplb's own SIPLB_* settings are left out of it. */
  readonly env?: NodeJS.ProcessEnv;
  readonly concurrency?: number;
  readonly timeoutMs?: number;
}

export interface CommandCounters {
  /** Started. */
  run: number;
  /** Exited non-zero, killed (timeout included), or could not start. */
  failed: number;
  /** Pushed out of a full queue before it ran. */
  dropped: number;
}

export class CommandRunner {
  readonly counters: CommandCounters = { run: 0, failed: 0, dropped: 0 };
  readonly #o: CommandOptions;
  readonly #env: NodeJS.ProcessEnv;
  readonly #waiting: DestEvent[] = [];
  readonly #running = new Set<ChildProcess>();
  #stopped = false;
  /** Set at the first drop, cleared when a command succeeds: one warning per backlog, not one per event. */
  #dropping = false;

  constructor(opts: CommandOptions) {
    this.#o = opts;
    // The command sees SIPLB_* names of the event only: not SIPLB_RR_SECRET, and not
    // SIPLB_EVENT_COMMAND or SIPLB_EVENT_WEBHOOK next to SIPLB_EVENT_URI, which would be confusing.
    this.#env = Object.fromEntries(Object.entries(opts.env ?? process.env).filter(([k]) => !k.startsWith('SIPLB_')));
  }

  /** Events not finished: waiting, and running. */
  get pending(): number {
    return this.#waiting.length + this.#running.size;
  }

  push(event: DestEvent): void {
    if (this.#stopped) return;
    if (this.#waiting.length >= this.#o.capacity) {
      const old = this.#waiting.shift()!;
      this.counters.dropped++;
      if (!this.#dropping) {
        this.#dropping = true;
        this.#o.log.warn('event command queue full: dropping the oldest events (SIPLB_EVENT_QUEUE)', { capacity: this.#o.capacity, event: old.event, id: old.id });
      }
    }
    this.#waiting.push(event);
    this.#next();
  }

  /** Drops what waits and kills what runs (with its process group). */
  stop(): void {
    this.#stopped = true;
    this.#waiting.length = 0;
    for (const child of this.#running) killGroup(child);
  }

  #next(): void {
    const limit = this.#o.concurrency ?? COMMAND_CONCURRENCY;
    while (!this.#stopped && this.#running.size < limit) {
      const event = this.#waiting.shift();
      if (event === undefined) return;
      this.#start(event);
    }
  }

  #start(event: DestEvent): void {
    this.counters.run++;
    const child = spawn('/bin/sh', ['-c', this.#o.command], {
      env: { ...this.#env, ...eventEnv(event) },
      stdio: ['ignore', 'ignore', 'pipe'],
      detached: true,
    });
    this.#running.add(child);
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-STDERR_TAIL)));
    let timedOut = false;
    const timeoutMs = this.#o.timeoutMs ?? COMMAND_TIMEOUT_MS;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child);
    }, timeoutMs);
    let finished = false;
    // 'close' (not 'exit'): the stderr tail is complete then. 'error' alone when spawn fails.
    const finish = (code: number | null, signal: NodeJS.Signals | null, error?: string): void => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      this.#running.delete(child);
      if (code !== 0 || error !== undefined) {
        this.counters.failed++;
        const why = timedOut ? `killed after ${timeoutMs} ms` : (error ?? (signal !== null ? `killed by ${signal}` : `exit status ${code}`));
        this.#o.log.warn('event command failed', { event: event.event, id: event.id, error: why, ...(stderr === '' ? {} : { stderr: stderr.trim() }) });
      } else {
        this.#dropping = false;
      }
      this.#next();
    };
    child.on('error', (err) => finish(null, null, err.message));
    child.on('close', (code, signal) => finish(code, signal));
  }
}

/** SIGKILL to the child's process group (it leads one: detached); the child alone if that fails. */
function killGroup(child: ChildProcess): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    child.kill('SIGKILL'); // the group is gone already, or was never made
  }
}
