// The event command: real /bin/sh processes. What the command sees in its environment, exit
// status counted, the timeout killing the whole process group, the concurrency limit, the bounded
// queue, and stop(). Commands write into a temporary directory passed as OUT.
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { DestEvent } from '../../../src/events/event.js';
import { COMMAND_CONCURRENCY, COMMAND_TIMEOUT_MS, CommandRunner, type CommandOptions } from '../../../src/events/command.js';
import { memoryLog } from '../../helpers/http-receiver.js';

const runners: CommandRunner[] = [];
afterEach(() => {
  for (const r of runners.splice(0)) r.stop();
});

function ev(n: number): DestEvent {
  const uri = `sip:10.0.0.${n}:5060`;
  return { event: 'dst-up', time: '2026-12-14T09:30:12.345Z', node: '127.0.0.1:5060', set: 2, uri, index: n, id: `2:${uri}`, duid: n === 1 ? 'ms1' : null, oldState: 'IP', newState: 'AP', reason: 'inactive' };
}

function runner(command: string, opts: Partial<CommandOptions> = {}): { r: CommandRunner; out: string; log: ReturnType<typeof memoryLog> } {
  const out = mkdtempSync(join(tmpdir(), 'siplb-event-cmd-'));
  const log = memoryLog();
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', OUT: out, SIPLB_RR_SECRET: 'not-for-commands', SIPLB_EVENT_COMMAND: command };
  const r = new CommandRunner({ command, capacity: 100, log, env, ...opts });
  runners.push(r);
  return { r, out, log };
}

async function until(done: () => boolean, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!done()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

const envFile = (path: string): Map<string, string> =>
  new Map(readFileSync(path, 'utf8').split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));

// Each case starts a helper process (node, ~0.3 s idle; seconds when the whole suite shares two
// cores): the per-test budget is the waits below plus that, not vitest's 5 s default.
describe('CommandRunner', { timeout: 30_000 }, () => {
  it('runs the command with the event in SIPLB_EVENT_* and without siplb settings', async () => {
    const { r, out, log } = runner('env > "$OUT/$SIPLB_EVENT_INDEX.env"');
    r.push(ev(1));
    r.push(ev(2));
    await until(() => r.pending === 0);
    expect(r.counters).toEqual({ run: 2, failed: 0, dropped: 0 });
    expect(log.lines).toEqual([]);
    const env = envFile(join(out, '1.env'));
    expect(Object.fromEntries([...env].filter(([k]) => k.startsWith('SIPLB_')))).toEqual({
      SIPLB_EVENT: 'dst-up',
      SIPLB_EVENT_TIME: '2026-12-14T09:30:12.345Z',
      SIPLB_EVENT_NODE: '127.0.0.1:5060',
      SIPLB_EVENT_SET: '2',
      SIPLB_EVENT_URI: 'sip:10.0.0.1:5060',
      SIPLB_EVENT_INDEX: '1',
      SIPLB_EVENT_ID: '2:sip:10.0.0.1:5060',
      SIPLB_EVENT_DUID: 'ms1',
      SIPLB_EVENT_OLD_STATE: 'IP',
      SIPLB_EVENT_STATE: 'AP',
      SIPLB_EVENT_REASON: 'inactive',
      SIPLB_EVENT_JSON: JSON.stringify(ev(1)),
    });
    expect(env.get('OUT')).toBe(out); // the rest of the environment is inherited
    expect(envFile(join(out, '2.env')).get('SIPLB_EVENT_DUID')).toBe('');
  });

  it('counts a non-zero exit as failed and logs it with the end of its stderr', async () => {
    const { r, log } = runner('echo "cannot reach the pager" >&2; exit 3');
    r.push(ev(1));
    await until(() => r.pending === 0);
    expect(r.counters).toEqual({ run: 1, failed: 1, dropped: 0 });
    expect(log.lines).toEqual([{ level: 'warn', msg: 'event command failed', fields: { event: 'dst-up', id: '2:sip:10.0.0.1:5060', error: 'exit status 3', stderr: 'cannot reach the pager' } }]);
  });

  it('kills a command past its timeout, with the children it started', async () => {
    const { r, out, log } = runner('sleep 30 & echo $! > "$OUT/bg.pid"; sleep 30', { timeoutMs: 300 });
    const t0 = Date.now();
    r.push(ev(1));
    await until(() => r.pending === 0);
    expect(Date.now() - t0).toBeLessThan(15_000); // killed at its timeout, not after the 30 s sleep
    expect(r.counters.failed).toBe(1);
    expect(log.lines[0]!.fields.error).toBe('killed after 300 ms');
    const bg = Number(readFileSync(join(out, 'bg.pid'), 'utf8'));
    await until(() => !alive(bg), 10_000); // the background sleep went with its group
  });

  it(`runs at most ${COMMAND_CONCURRENCY} at once by default, the others after them`, async () => {
    expect(COMMAND_TIMEOUT_MS).toBe(10_000);
    const { r, out } = runner('echo $SIPLB_EVENT_INDEX > "$OUT/$SIPLB_EVENT_INDEX.started"; sleep 0.3');
    for (let n = 1; n <= 6; n++) r.push(ev(n));
    expect(r.counters.run).toBe(COMMAND_CONCURRENCY);
    expect(r.pending).toBe(6);
    await until(() => existsSync(join(out, '4.started')));
    await new Promise((res) => setTimeout(res, 100));
    expect(existsSync(join(out, '5.started'))).toBe(false);
    await until(() => r.pending === 0);
    expect(r.counters).toEqual({ run: 6, failed: 0, dropped: 0 });
  });

  it('keeps at most `capacity` waiting: the oldest waiting are dropped and counted', async () => {
    const { r, out, log } = runner('echo $SIPLB_EVENT_INDEX >> "$OUT/ran"; sleep 0.05', { concurrency: 1, capacity: 2 });
    for (let n = 1; n <= 10; n++) r.push(ev(n));
    expect(r.pending).toBe(3);
    await until(() => r.pending === 0);
    expect(r.counters).toEqual({ run: 3, failed: 0, dropped: 7 });
    expect(readFileSync(join(out, 'ran'), 'utf8').trim().split('\n')).toEqual(['1', '9', '10']);
    expect(log.lines.filter((l) => l.msg.startsWith('event command queue full'))).toHaveLength(1);
  });

  it('spawns from a helper process, not from this one: push() never forks the main thread', async () => {
    const { r, out } = runner('echo $PPID > "$OUT/$SIPLB_EVENT_INDEX.ppid"', { concurrency: 8 });
    await new Promise((res) => setTimeout(res, 300)); // the helper is up
    const t0 = performance.now();
    for (let n = 1; n <= 8; n++) r.push(ev(n));
    const perPush = (performance.now() - t0) / 8;
    await until(() => r.pending === 0);
    const parents = new Set([1, 2, 3, 4, 5, 6, 7, 8].map((n) => Number(readFileSync(join(out, `${n}.ppid`), 'utf8'))));
    expect(parents.size).toBe(1);
    expect(parents.has(process.pid)).toBe(false);
    // an IPC message, not a fork and exec (4 ms or more each, measured): generous for a shared machine
    expect(perPush).toBeLessThan(2);
    expect(r.counters).toEqual({ run: 8, failed: 0, dropped: 0 });
  });

  it('a helper that dies: its commands are killed and counted failed, the next event gets a new helper', async () => {
    const { r, out, log } = runner('echo $PPID > "$OUT/$SIPLB_EVENT_INDEX.ppid"; echo $$ > "$OUT/$SIPLB_EVENT_INDEX.pid"; exec sleep 30');
    r.push(ev(1));
    await until(() => existsSync(join(out, '1.pid')) && readFileSync(join(out, '1.pid'), 'utf8').endsWith('\n'));
    const helper = Number(readFileSync(join(out, '1.ppid'), 'utf8'));
    const command = Number(readFileSync(join(out, '1.pid'), 'utf8'));
    // the helper reports a command's group once it has spawned it; a helper killed before that
    // leaves a command siplb cannot know of (the command may write its file first on a loaded
    // machine), so the kill waits for the report
    await until(() => r.runningGroups.includes(command));
    process.kill(helper, 'SIGKILL');
    await until(() => r.pending === 0 && !alive(command));
    expect(r.counters).toEqual({ run: 1, failed: 1, dropped: 0 });
    expect(log.lines).toEqual([{ level: 'error', msg: 'event command helper process ended', fields: { error: 'exited (SIGKILL)', commandsLost: 1 } }]);
    r.push(ev(2));
    await until(() => existsSync(join(out, '2.ppid')) && readFileSync(join(out, '2.ppid'), 'utf8').endsWith('\n'));
    expect(Number(readFileSync(join(out, '2.ppid'), 'utf8'))).not.toBe(helper);
  });

  it('stop() kills what runs and starts nothing more', async () => {
    const { r, out } = runner('echo $$ > "$OUT/$SIPLB_EVENT_INDEX.pid"; exec sleep 30', { concurrency: 1 });
    r.push(ev(1));
    r.push(ev(2));
    await until(() => existsSync(join(out, '1.pid')));
    const pid = Number(readFileSync(join(out, '1.pid'), 'utf8'));
    await until(() => r.runningGroups.includes(pid)); // as above: a group siplb knows of
    r.stop();
    await until(() => r.pending === 0 && !alive(pid), 10_000);
    r.push(ev(3));
    await new Promise((res) => setTimeout(res, 100));
    expect(existsSync(join(out, '2.pid')) || existsSync(join(out, '3.pid'))).toBe(false);
  });
});

/** Running: it exists and is not a zombie (an orphan waits to be reaped by whoever adopted it). */
function alive(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0] !== 'Z';
  } catch {
    return false;
  }
}
