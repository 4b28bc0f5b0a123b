// A private, named network namespace per test file, for tests that send foreign or hostile traffic
// to a running siplb (DESIGN.md, Tests): `ip netns add siplb-<pid>-<n>`, lo up, the test's extra
// addresses on lo (victims such as 198.51.100.7, callers, attackers, media servers), and a default
// route into lo, so a datagram to any address outside the namespace's own still leaves its sender
// (as it would in production) and shows in a capture, but reaches nothing: the namespace has no
// other interface and does not forward. Processes run inside with `ip netns exec` (siplb as users
// start it, SIPp, sipvicious, tcpdump); sockets inside are driven from the vitest process through an
// agent (netns-agent.mjs) over Node's IPC channel. close() ends every process this helper started
// in the namespace and deletes it; an exit hook does the same if a test file dies first.
//
// Needs root (CAP_SYS_ADMIN for the named namespace). netnsAvailable() says whether it can run:
// under CI=true a missing capability is a failure, elsewhere a visible skip with the reason.
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { NsAgent } from './netns-agent-client.js';

export { NsAgent, NsSocket, type Datagram } from './netns-agent-client.js';

const ROOT = join(import.meta.dirname, '..', '..');
const AGENT = join(ROOT, 'test', 'helpers', 'netns-agent.mjs');
/** `ip` lives in /usr/sbin on Debian, which is not on every user's PATH. */
const PATH = `${process.env.PATH ?? ''}:/usr/sbin:/sbin`;
const IP = ['/usr/sbin/ip', '/sbin/ip', '/bin/ip'].find((p) => spawnSync(p, ['-V']).status === 0) ?? 'ip';

let counter = 0;
const open = new Set<string>();

function ip(...args: string[]): string {
  return execFileSync(IP, args, { encoding: 'utf8', env: { PATH }, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Every process still inside `name` (all of them started by this helper), then the namespace. */
function destroy(name: string): void {
  try {
    for (const pid of ip('netns', 'pids', name).split('\n').filter(Boolean)) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // already gone
      }
    }
  } catch {
    // no such namespace
  }
  try {
    ip('netns', 'delete', name);
  } catch {
    // deleted already
  }
  open.delete(name);
}

// A test file that throws still leaves no namespace behind: close() in its afterAll, this hook
// when the process exits normally, and a watchdog (below) when vitest kills its worker process.
process.once('exit', () => {
  for (const name of open) destroy(name);
});

/**
 * A detached shell that waits for this process to end, however it ends (vitest terminates the
 * worker process of a file that timed out, which runs no exit hook), then ends what is left in
 * the namespace and deletes it. close() kills it once the namespace is gone.
 */
function watchdog(name: string): ChildProcess {
  const script = 'while kill -0 "$1" 2>/dev/null; do sleep 1; done; for p in $(ip netns pids "$2" 2>/dev/null); do kill -9 "$p"; done; ip netns delete "$2" 2>/dev/null';
  const child = spawn('sh', ['-c', script, 'siplb-netns-watchdog', String(process.pid), name], { detached: true, stdio: 'ignore', env: { PATH } });
  child.unref();
  return child;
}

let availability: { ok: boolean; reason: string } | undefined;

/**
 * True when this process may create named network namespaces (it tries one). Otherwise: under
 * CI=true it throws (DESIGN.md: no skips in CI), elsewhere it prints why `what` is skipped.
 */
export function netnsAvailable(what: string): boolean {
  if (availability === undefined) {
    const probe = `siplb-${process.pid}-probe`;
    try {
      ip('netns', 'add', probe);
      ip('netns', 'delete', probe);
      availability = { ok: true, reason: '' };
    } catch (err) {
      const stderr = (err as { stderr?: string }).stderr ?? String(err);
      availability = { ok: false, reason: `cannot create a network namespace (ip netns add needs root): ${stderr.trim()}` };
    }
  }
  if (availability.ok) return true;
  if (process.env.CI === 'true') throw new Error(`CI=true and ${availability.reason}; required by ${what}`);
  console.warn(`SKIP ${what}: ${availability.reason}`);
  return false;
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** The run was killed at its time bound. */
  timedOut: boolean;
  ms: number;
}

export interface SpawnOptions {
  env?: Record<string, string>;
  cwd?: string;
  /** Adds an IPC channel (fd 3) with advanced serialization. */
  ipc?: boolean;
}

/** One UDP datagram seen on the namespace's lo. */
export interface Packet {
  src: string;
  srcPort: number;
  dst: string;
  dstPort: number;
  length: number;
  line: string;
  /** The datagram as tcpdump -A prints it (IP and UDP headers as dots first); filled as lines come. */
  payload: string;
}

export interface Capture {
  readonly packets: Packet[];
  /** Stops tcpdump and returns what it saw (it is given a moment to print its last lines). */
  stop(): Promise<Packet[]>;
}

// tcpdump -n -q -A -l (-q: no SIP decoding of port 5060): a line per datagram,
// "12:00:00.000000 IP 10.0.0.1.5060 > 10.0.1.10.5070: UDP, length 512" (IP6 alike), then its bytes.
const PACKET = /^\d\d:\d\d:\d\d\.\d+ IP6? (\S+)\.(\d+) > (\S+)\.(\d+): (?:UDP, length (\d+))?/;

export class Netns {
  readonly #children = new Set<ChildProcess>();
  readonly #watchdog: ChildProcess;
  #agent: NsAgent | undefined;
  #closed = false;

  private constructor(readonly name: string) {
    this.#watchdog = watchdog(name);
  }

  /** A fresh namespace with lo up, `addresses` (IPv4 /32 or IPv6 /128) on lo, and the catch-all route. */
  static create(addresses: readonly string[] = []): Netns {
    const name = `siplb-${process.pid}-${++counter}`;
    ip('netns', 'add', name);
    open.add(name);
    try {
      ip('-n', name, 'link', 'set', 'lo', 'up');
      for (const a of addresses) ip('-n', name, 'addr', 'add', a.includes(':') ? `${a}/128` : `${a}/32`, 'dev', 'lo');
      // Everything not local goes into lo and is dropped there (no forwarding in a new namespace):
      // a relayed datagram is sent and captured, never delivered.
      ip('-n', name, 'route', 'add', 'default', 'dev', 'lo');
      ip('-n', name, '-6', 'route', 'add', 'default', 'dev', 'lo');
    } catch (err) {
      destroy(name);
      throw err;
    }
    return new Netns(name);
  }

  /**
   * Datagrams from sockets bound to no address (0.0.0.0) towards `dst` leave from `src`: the local
   * route to `dst` gets `src` as its preferred source. For tools that cannot be told which address
   * to send from (svwar and svcrack 0.3.3 accept -b but never pass it to their socket).
   */
  sourceFor(dst: string, src: string): void {
    ip('-n', this.name, 'route', 'replace', 'local', dst, 'dev', 'lo', 'table', 'local', 'scope', 'host', 'src', src);
  }

  /** Starts `cmd` inside the namespace; the process is ended by close() if still running. */
  spawn(cmd: string, args: readonly string[], opts: SpawnOptions = {}): ChildProcess {
    if (this.#closed) throw new Error(`netns ${this.name} is closed`);
    const child = spawn(IP, ['netns', 'exec', this.name, cmd, ...args], {
      cwd: opts.cwd ?? ROOT,
      env: { PATH, ...opts.env },
      stdio: opts.ipc ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe'],
      ...(opts.ipc ? { serialization: 'advanced' as const } : {}),
    });
    this.#children.add(child);
    child.once('exit', () => this.#children.delete(child));
    return child;
  }

  /** Runs `cmd` inside the namespace to its end or to `timeoutMs` (then SIGTERM, SIGKILL 2 s later). */
  run(cmd: string, args: readonly string[], timeoutMs: number, opts: SpawnOptions = {}): Promise<RunResult> {
    const t0 = Date.now();
    const child = this.spawn(cmd, args, opts);
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const term = setTimeout(() => {
      timedOut = true;
      child.kill('SIGTERM');
    }, timeoutMs);
    const kill = setTimeout(() => child.kill('SIGKILL'), timeoutMs + 2_000);
    return new Promise((resolve) => {
      child.once('error', (err) => (stderr += `spawn error: ${err.message}\n`));
      child.once('close', (code, signal) => {
        clearTimeout(term);
        clearTimeout(kill);
        resolve({ code, signal, stdout, stderr, timedOut, ms: Date.now() - t0 });
      });
    });
  }

  /** The agent of this namespace (started on first use). */
  async agent(): Promise<NsAgent> {
    this.#agent ??= await NsAgent.start(this.spawn(process.execPath, [AGENT], { ipc: true }));
    return this.#agent;
  }

  /** tcpdump on the namespace's lo, every UDP datagram; resolves once tcpdump listens. */
  async capture(): Promise<Capture> {
    const child = this.spawn('tcpdump', ['-i', 'lo', '-n', '-q', '-A', '-l', '-U', '-B', '8192', 'udp']);
    const packets: Packet[] = [];
    let stderr = '';
    let rest = '';
    child.stdout?.on('data', (d: Buffer) => {
      const lines = (rest + d.toString()).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) {
        const m = PACKET.exec(line);
        if (m) packets.push({ src: m[1]!, srcPort: Number(m[2]), dst: m[3]!, dstPort: Number(m[4]), length: Number(m[5] ?? 0), line, payload: '' });
        else if (packets.length > 0) packets[packets.length - 1]!.payload += `${line}\n`;
      }
    });
    const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`tcpdump did not start within 5 s: ${stderr}`)), 5_000);
      child.stderr?.on('data', (d: Buffer) => {
        stderr += d.toString();
        if (stderr.includes('listening on')) {
          clearTimeout(timer);
          resolve();
        }
      });
      void exited.then(() => {
        clearTimeout(timer);
        reject(new Error(`tcpdump exited at start: ${stderr}`));
      });
    });
    return {
      packets,
      stop: async () => {
        await new Promise((r) => setTimeout(r, 200)); // -U flushes per packet; let the pipe drain
        child.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 3_000))]);
        return packets;
      },
    };
  }

  /** Ends every process started here (SIGTERM, then SIGKILL), then deletes the namespace. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#agent?.close();
    const children = [...this.#children];
    for (const c of children) c.kill('SIGTERM');
    const exits = children.filter((c) => c.exitCode === null && c.signalCode === null).map((c) => new Promise((r) => c.once('exit', r)));
    await Promise.race([Promise.all(exits), new Promise((r) => setTimeout(r, 3_000))]);
    destroy(this.name);
    this.#watchdog.kill('SIGKILL');
  }
}
