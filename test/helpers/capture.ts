// A packet capture for e2e tests: tcpdump (Debian package tcpdump) on an interface, written to a
// pcap file that the test reads back with readPcap, while the capture runs or after it. Bounded: the
// start waits for tcpdump's "listening on" line at most 5 s, the stop sends SIGINT (tcpdump flushes
// and exits) and SIGKILLs after 2 s. Capturing needs root or CAP_NET_RAW.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readPcap, type Datagram } from './pcap.js';

export const TCPDUMP_MISSING = 'tcpdump not found on PATH (Debian package tcpdump)';

/** tcpdump's version line, or undefined when it is not installed. */
export function tcpdumpVersion(): string | undefined {
  const r = spawnSync('tcpdump', ['--version'], { encoding: 'utf8', timeout: 5_000 });
  if (r.error !== undefined) return undefined;
  return /tcpdump version \S+/.exec(`${r.stdout}${r.stderr}`)?.[0];
}

export interface Capture {
  readonly file: string;
  /** The datagrams captured so far. */
  datagrams(): Promise<Datagram[]>;
  /** Polls the file every 50 ms until `done` holds for what was captured, or `timeoutMs` passes. */
  until(done: (d: Datagram[]) => boolean, timeoutMs: number): Promise<Datagram[]>;
  /** Stops tcpdump; the file stays readable until remove(). Returns everything captured. */
  stop(): Promise<Datagram[]>;
  remove(): Promise<void>;
}

/** Starts tcpdump on `iface` with the BPF `filter`; resolves once it is capturing. */
export async function startCapture(iface: string, filter: string): Promise<Capture> {
  const dir = await mkdtemp(join(tmpdir(), 'siplb-pcap-'));
  const file = join(dir, 'capture.pcap');
  // --immediate-mode: libpcap (TPACKET_V3) otherwise hands packets over in blocks, up to a second
  // late; -U: write each packet as it comes. Together a test can read the file while it runs.
  // -B 8192 KiB: a burst must not overflow the kernel buffer (dropped packets would hide datagrams).
  const args = ['-i', iface, '-nn', '--immediate-mode', '-U', '-B', '8192', '-s', '65535', '-w', file, filter];
  const child = spawn('tcpdump', args, {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  await new Promise<void>((resolve, reject) => {
    const fail = (why: string): void => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`tcpdump ${why}: ${stderr.trim()}`));
    };
    const timer = setTimeout(() => fail('did not start capturing within 5 s'), 5_000);
    child.once('error', (e) => fail(`could not start (${e.message})`));
    child.once('exit', (code) => fail(`exited ${code} before capturing (root or CAP_NET_RAW is needed)`));
    child.stderr.on('data', () => {
      if (!stderr.includes('listening on')) return;
      clearTimeout(timer);
      child.removeAllListeners('exit');
      resolve();
    });
  });

  const datagrams = async (): Promise<Datagram[]> => readPcap(await readFile(file));
  return {
    file,
    datagrams,
    async until(done, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const d = await datagrams();
        if (done(d) || Date.now() >= deadline) return d;
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async stop() {
      await stopChild(child);
      if (/[1-9]\d* packets? dropped by kernel/.test(stderr)) throw new Error(`tcpdump dropped packets: ${stderr.trim()}`);
      return datagrams();
    },
    async remove() {
      await stopChild(child);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function stopChild(child: ChildProcess): Promise<void> {
  for (const [signal, waitMs] of [['SIGINT', 2_000], ['SIGKILL', 2_000]] as const) {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    await Promise.race([exited, new Promise<void>((resolve) => setTimeout(resolve, waitMs).unref())]);
  }
}

export interface UdpSocketInfo {
  local: string;
  localPort: number;
  /** The connected peer, or undefined for an unconnected socket (remote 0.0.0.0:0). */
  remote: string | undefined;
}

/**
 * The UDP sockets process `pid` holds (IPv4 ones: /proc/net/udp), from its open descriptors'
 * inodes. Linux only; what the process owns now, so call it while it runs.
 */
export function udpSocketsOf(pid: number): UdpSocketInfo[] {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]!);
    } catch {
      // closed while we looked
    }
  }
  const out: UdpSocketInfo[] = [];
  // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode ...
  for (const table of [`/proc/${pid}/net/udp`, `/proc/${pid}/net/udp6`]) {
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10 || !inodes.has(f[9]!)) continue;
      const [local, localPort] = hexAddress(f[1]!);
      const [remote, remotePort] = hexAddress(f[2]!);
      out.push({ local, localPort, remote: remotePort === 0 ? undefined : `${remote}:${remotePort}` });
    }
  }
  return out;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * "0A00007F:13C4" to ["127.0.0.10", 5060]; an IPv6 one (32 hex digits) to its eight groups,
 * uncompressed ("0:0:0:0:0:0:0:1"). The kernel prints each 32-bit word in host order.
 */
function hexAddress(text: string): [string, number] {
  const [ip, port] = text.split(':');
  const words: number[][] = [];
  for (let i = 0; i < ip!.length; i += 8) {
    const w = [...Buffer.from(ip!.slice(i, i + 8), 'hex')];
    words.push(LITTLE_ENDIAN ? w.reverse() : w);
  }
  if (words.length === 1) return [words[0]!.join('.'), parseInt(port!, 16)];
  const bytes = words.flat();
  const groups = Array.from({ length: 8 }, (_, g) => ((bytes[2 * g]! << 8) | bytes[2 * g + 1]!).toString(16));
  return [groups.join(':'), parseInt(port!, 16)];
}
