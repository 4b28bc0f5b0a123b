// Starting and stopping each contender the way its users run it: siplb through bin/siplb.js with
// SIPLB_* variables; Kamailio through bench/sipp/kamailio.ts (Debian package, tuned). Both are
// ready when they answer an OPTIONS addressed to themselves (no user part: neither relays it).
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { join } from 'node:path';
import { startKamailio } from './kamailio.js';
import { treeCpuSeconds, treeMemory } from './proc.js';
import type { Contender, Snapshot } from './types.js';

const root = join(import.meta.dirname, '..', '..', '..');

export interface Running {
  readonly pid: number;
  /** Stops it; for siplb, resolves with what it printed (counters, latency distribution). */
  stop(): Promise<string>;
  /** CPU and memory from /proc now; for siplb also what a `kill -USR2` report gives (heap, GC time,
   *  latency histogram since start, calls shed). */
  snapshot(): Promise<Snapshot>;
}

/** What the proxy's process tree looks like from /proc at this moment. */
function procSnapshot(pid: number): Snapshot {
  const mem = treeMemory(pid);
  return { atMs: performance.now(), cpuSeconds: treeCpuSeconds(pid), rssBytes: mem.rss, pssBytes: mem.pss, heapBytes: null, gcMs: null, latencyHdr: null, shed: null };
}

const num = (report: string, name: string): number | null => {
  const m = new RegExp(`^\\s*${name} (\\d+)$`, 'm').exec(report);
  return m ? Number(m[1]) : null;
};

/** The fields of one `kill -USR2` report (src/cli/start-command.ts formatStats) added to `base`. */
export function withReport(base: Snapshot, report: string): Snapshot {
  const heap = num(report, 'heap_used_bytes');
  const gc = num(report, 'gc_ms');
  return {
    ...base,
    heapBytes: heap === null ? null : heap + (num(report, 'workers_heap_used_bytes') ?? 0),
    gcMs: gc === null ? null : gc + (num(report, 'workers_gc_ms') ?? 0),
    latencyHdr: /^\s*latency_hdr (\S+)$/m.exec(report)?.[1] ?? null,
    shed: overloadRejected(report),
  };
}

export function siplbContenders(): Contender[] {
  const out: Contender[] = [];
  for (const mode of ['stateful', 'stateless'] as const) for (const workers of [0, 1, 2]) out.push({ id: `siplb-${mode}-w${workers}`, name: 'siplb', mode, workers });
  return out;
}

export function kamailioContenders(): Contender[] {
  return (['stateful', 'stateless'] as const).map((mode) => ({ id: `kamailio-${mode}`, name: 'kamailio', mode }));
}

/**
 * The same algorithm for both proxies in a mode: round-robin when stateful; a hash over the
 * Call-ID when stateless, because a stateless Kamailio must hash to send CANCEL and the ACK of a
 * non-2xx where the INVITE went (siplb's stateless route cache would manage round-robin too).
 */
function algFor(c: Contender): number {
  return c.mode === 'stateful' ? 4 : 0;
}

export async function start(c: Contender, port: number, listFile: string): Promise<Running> {
  let running: Running;
  if (c.name === 'siplb') {
    const child = spawn(c.nodeBin ?? process.execPath, [join(c.root ?? root, 'bin', 'siplb.js'), 'start'], {
      env: { PATH: process.env.PATH ?? '', SIPLB_LISTEN: `udp:127.0.0.1:${port}`, SIPLB_LIST_FILE: listFile, SIPLB_MODE: c.mode, SIPLB_ALG: String(algFor(c)), SIPLB_WORKERS: String(c.workers ?? 0), SIPLB_LOG_LEVEL: 'warn', SIPLB_ADMIN: '', SIPLB_DS_PING_INTERVAL: '0' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    running = {
      pid: child.pid!,
      stop: () =>
        new Promise((resolve) => {
          child.once('exit', () => resolve(out));
          child.kill('SIGTERM');
        }),
      snapshot: async () => {
        // /proc first: the report's own work falls after this snapshot, not before it
        const base = procSnapshot(child.pid!);
        const from = out.length;
        child.kill('SIGUSR2');
        // the report is complete when HDR's text distribution has its last line
        for (let i = 0; i < 250; i++) {
          await new Promise((r) => setTimeout(r, 20));
          const text = out.slice(from);
          if (/#\[Buckets = [^\]]*\]/.test(text)) return withReport(base, text);
        }
        throw new Error(`siplb (pid ${child.pid}) printed no report within 5 s of SIGUSR2`);
      },
    };
  } else {
    const k = await startKamailio({ mode: c.mode, listen: { host: '127.0.0.1', port }, listFile, children: 2, alg: algFor(c) });
    running = { pid: k.pid, stop: async () => (await k.stop(), ''), snapshot: () => Promise.resolve(procSnapshot(k.pid)) };
  }
  await ready(port);
  return running;
}

async function ready(port: number): Promise<void> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  let ok = false;
  s.on('message', (m) => (ok ||= m.toString('latin1').startsWith('SIP/2.0 200')));
  for (let i = 0; i < 150 && !ok; i++) {
    const id = `bench-ready-${port}-${i}-${Date.now()}`;
    s.send(`OPTIONS sip:127.0.0.1:${port} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:${s.address().port};branch=z9hG4bK${id};rport\r\nMax-Forwards: 70\r\nFrom: <sip:bench@127.0.0.1>;tag=b${i}\r\nTo: <sip:ping@127.0.0.1>\r\nCall-ID: ${id}\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n`, port, '127.0.0.1');
    await new Promise((r) => setTimeout(r, 100));
  }
  s.close();
  if (!ok) throw new Error(`contender on port ${port} did not answer OPTIONS within 15 s`);
}

/** p50/p99/p99.9 from siplb's report ("latency (µs, receive to send): count=N p50=.. p99=.. p99.9=.."). */
export function proxyLatency(report: string): { p50: number | null; p99: number | null; p999: number | null } {
  const m = /p50=(\d+) p99=(\d+) p99\.9=(\d+)/.exec(report);
  return m ? { p50: Number(m[1]), p99: Number(m[2]), p999: Number(m[3]) } : { p50: null, p99: null, p999: null };
}

/** siplb's overload 503s from its report ("  overload_rejected N", printed only when N > 0); 0 without one. */
export function overloadRejected(report: string): number {
  const m = /^\s*overload_rejected (\d+)$/m.exec(report);
  return m ? Number(m[1]) : 0;
}
