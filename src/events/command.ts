// Main thread: runs SIPLB_EVENT_COMMAND for each destination event, the event in environment
// variables (event.ts eventEnv). At most COMMAND_CONCURRENCY run at once, the rest wait in a queue
// bounded like the webhook's (oldest dropped and counted), and one still running after
// COMMAND_TIMEOUT_MS is killed.
//
// siplb does not spawn the commands itself: libuv's spawn forks the calling process and waits
// until the child has exec'd, on the calling thread. Measured on this machine (Node 20, 2 shared
// cores), 40 spawns of `/bin/sh -c true` in a row: 4 ms each from a 45 MB process, 10-19 ms at
// 270 MB RSS, the event loop stalled all that time, where a dispatch p99 is 0.2 ms. So a helper
// process (LAUNCHER, `node -e`, started with the runner while siplb is small) does the spawning in
// its own address space; siplb sends it one IPC message per command and gets one back.
//
// The helper runs `/bin/sh -c command` (what execFile would run) in a process group of its own, so
// a timeout kills the whole group and `curl ...; sleep 60` or a pipeline leaves no grandchild
// behind. When siplb disconnects (stop(), or siplb dies) it kills every running group and exits.
import { spawn, type ChildProcess } from 'node:child_process';
import type { Log } from '../server.js';
import { eventEnv, type DestEvent } from './event.js';

export const COMMAND_CONCURRENCY = 4;
/** How long a stopped helper gets to kill its commands and exit before it is killed. */
const STOP_GRACE_MS = 5000;
export const COMMAND_TIMEOUT_MS = 10_000;

/** The helper, CommonJS for `node -e`. Each message is one command; each reply, its outcome. */
const LAUNCHER = `
const { spawn } = require('node:child_process');
const running = new Set();
const killGroup = (c) => { try { process.kill(-c.pid, 'SIGKILL'); } catch { try { c.kill('SIGKILL'); } catch {} } };
process.on('message', (m) => {
  let stderr = '', timedOut = false, done = false;
  const child = spawn('/bin/sh', ['-c', m.command], { env: m.env, stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  running.add(child);
  child.on('spawn', () => process.connected && process.send({ id: m.id, pid: child.pid }));
  const timer = setTimeout(() => { timedOut = true; killGroup(child); }, m.timeoutMs);
  const finish = (code, signal, error) => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    running.delete(child);
    if (process.connected) process.send({ id: m.id, code, signal, timedOut, error, stderr: stderr.trim() });
  };
  child.stderr.on('data', (d) => { stderr = (stderr + d).slice(-512); });
  child.on('error', (err) => finish(null, null, err.message));
  child.on('close', (code, signal) => finish(code, signal));
});
process.on('disconnect', () => { for (const c of running) killGroup(c); process.exit(0); });
`;

/** The helper's first word on a command: it runs, as the leader of process group `pid`. */
interface Started {
  readonly id: number;
  readonly pid: number;
}

interface Outcome {
  readonly id: number;
  readonly code: number | null;
  readonly signal: string | null;
  readonly timedOut: boolean;
  readonly error?: string;
  /** The last 512 bytes the command wrote to stderr. */
  readonly stderr: string;
}

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
  /** Commands the helper runs now, by message id, with their process group once it is known. */
  readonly #running = new Map<number, { event: DestEvent; pid?: number }>();
  #nextId = 1;
  #helper: ChildProcess | undefined;
  #stopped = false;
  /** Set at the first drop, cleared when a command succeeds: one warning per backlog, not one per event. */
  #dropping = false;

  constructor(opts: CommandOptions) {
    this.#o = opts;
    // The command sees SIPLB_* names of the event only: not SIPLB_RR_SECRET, and not
    // SIPLB_EVENT_COMMAND or SIPLB_EVENT_WEBHOOK next to SIPLB_EVENT_URI, which would be confusing.
    this.#env = Object.fromEntries(Object.entries(opts.env ?? process.env).filter(([k]) => !k.startsWith('SIPLB_')));
    this.#helper = this.#launch();
  }

  /** Process groups of the commands running now whose group the helper has reported. */
  get runningGroups(): number[] {
    return [...this.#running.values()].flatMap((r) => (r.pid === undefined ? [] : [r.pid]));
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

  /** Drops what waits; the helper kills what runs (with its process groups) and exits. */
  stop(): void {
    this.#stopped = true;
    this.#waiting.length = 0;
    const helper = this.#helper;
    if (helper?.connected) helper.disconnect();
    // The helper kills its commands and exits by itself on disconnect; this is for one that does
    // not. Killing it earlier orphans what it runs (siplb may not know a command's pid yet), and
    // on a loaded machine (CI's whole suite on two cores) a helper took over a second to answer.
    setTimeout(() => helper?.kill('SIGKILL'), STOP_GRACE_MS).unref();
  }

  #launch(): ChildProcess {
    const helper = spawn(process.execPath, ['-e', LAUNCHER], { env: this.#env, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    helper.on('message', (m: Started | Outcome) => {
      if ('pid' in m) {
        const r = this.#running.get(m.id);
        if (r) r.pid = m.pid;
      } else {
        this.#finish(m);
      }
    });
    helper.on('error', (err) => this.#helperGone(helper, err.message));
    helper.on('exit', (code, signal) => this.#helperGone(helper, `exited (${signal ?? code})`));
    // Neither the helper nor its channel keeps siplb running: close() stops it, and a siplb that
    // exits without close() disconnects it, which kills its commands.
    helper.unref();
    helper.channel?.unref();
    return helper;
  }

  /**
   * The helper died (or never started): what it ran is counted failed and its process groups are
   * killed here (the helper cannot any more: an orphaned command would run with no timeout); the
   * next command starts another helper.
   */
  #helperGone(helper: ChildProcess, why: string): void {
    if (this.#helper !== helper) return;
    this.#helper = undefined;
    const lost = [...this.#running.values()];
    this.#running.clear();
    for (const r of lost) {
      try {
        if (r.pid !== undefined) process.kill(-r.pid, 'SIGKILL');
      } catch {
        // the group is gone already
      }
    }
    if (this.#stopped) return;
    this.counters.failed += lost.length;
    this.#o.log.error('event command helper process ended', { error: why, commandsLost: lost.length });
    this.#next();
  }

  #next(): void {
    const limit = this.#o.concurrency ?? COMMAND_CONCURRENCY;
    while (!this.#stopped && this.#running.size < limit) {
      const event = this.#waiting.shift();
      if (event === undefined) return;
      this.#helper ??= this.#launch();
      const id = this.#nextId++;
      this.#running.set(id, { event });
      this.counters.run++;
      const msg = { id, command: this.#o.command, env: { ...this.#env, ...eventEnv(event) }, timeoutMs: this.#o.timeoutMs ?? COMMAND_TIMEOUT_MS };
      this.#helper.send(msg, (err) => {
        if (err) this.#finish({ id, code: null, signal: null, timedOut: false, error: `not sent to the helper: ${err.message}`, stderr: '' });
      });
    }
  }

  #finish(m: Outcome): void {
    const event = this.#running.get(m.id)?.event;
    if (event === undefined) return; // counted already (its helper died)
    this.#running.delete(m.id);
    if (m.code === 0 && m.error === undefined) {
      this.#dropping = false;
    } else {
      this.counters.failed++;
      const timeoutMs = this.#o.timeoutMs ?? COMMAND_TIMEOUT_MS;
      const why = m.timedOut ? `killed after ${timeoutMs} ms` : (m.error ?? (m.signal !== null ? `killed by ${m.signal}` : `exit status ${m.code}`));
      this.#o.log.warn('event command failed', { event: event.event, id: event.id, error: why, ...(m.stderr === '' ? {} : { stderr: m.stderr }) });
    }
    this.#next();
  }
}
