// Starts `siplb start` the way a user does (node bin/siplb.js, configured by SIPLB_* variables)
// on loopback, collects its stdout and stderr, and stops it with SIGTERM.
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * What every test proxy gets unless its test says otherwise: no control channel (parallel test
 * files would all want 127.0.0.1:5081), no keepalives (most tests' backends are peers that do not
 * answer OPTIONS and count what they get) and no failover mark (tests that count where calls go
 * would see a marked destination drop out). The probing and health tests set their own, or the
 * real defaults (test/e2e/dead-backend.test.ts).
 */
export const QUIET_DEFAULTS: Readonly<Record<string, string>> = Object.freeze({ SIPLB_ADMIN: '', SIPLB_DS_PING_INTERVAL: '0', SIPLB_MARK_FAILED: '' });

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface ProxyProcess {
  port: number;
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** SIGTERM, then the exit code and everything it printed. */
  stop(): Promise<{ code: number | null; stdout: string; stderr: string }>;
}

/** A UDP port free on `host` (IPv4) right now (bound, read, released). */
export async function freeUdpPort(host = '127.0.0.1'): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, host, r));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(r));
  return port;
}

/** A TCP port free on 127.0.0.1 right now (for SIPLB_ADMIN). */
export async function freeTcpPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

export function writeList(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'siplb-list-'));
  const file = join(dir, 'dispatcher.list');
  writeFileSync(file, text);
  return file;
}

/**
 * `extraListen`: more SIPLB_LISTEN entries after the one the helper probes, on `host` (an IPv4
 * address of this machine; any 127.x.y.z on Linux loopback).
 */
export async function startProxy(env: Record<string, string>, extraListen: string[] = [], host = '127.0.0.1'): Promise<ProxyProcess> {
  const port = await freeUdpPort(host);
  const child = spawn(process.execPath, [join(root, 'bin', 'siplb.js'), 'start'], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', SIPLB_LISTEN: [`udp:${host}:${port}`, ...extraListen].join(','), SIPLB_LOG_LEVEL: 'info', ...QUIET_DEFAULTS, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  // ready when it answers an OPTIONS addressed to itself (whatever the log level), or dies first
  await new Promise<void>((resolve, reject) => {
    const probe = createSocket('udp4');
    const deadline = setTimeout(() => finish(new Error(`siplb did not answer within 15 s\nstderr:\n${err}`)), 15_000);
    const ping = setInterval(() => {
      const opts =
        `OPTIONS sip:${host}:${port} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:${probe.address().port};branch=z9hG4bKready${Date.now()}\r\n` +
        `Max-Forwards: 70\r\nFrom: <sip:ready@127.0.0.1>;tag=r\r\nTo: <sip:${host}>\r\nCall-ID: ready-${port}-${Date.now()}\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n`;
      probe.send(opts, port, host);
    }, 100);
    const onExit = (code: number | null): void => finish(new Error(`siplb exited with ${code} before serving\nstderr:\n${err}\nstdout:\n${out}`));
    function finish(e?: Error): void {
      clearTimeout(deadline);
      clearInterval(ping);
      child.off('exit', onExit);
      probe.close();
      if (e) {
        child.kill('SIGKILL'); // never leave a proxy behind when its start failed
        reject(e);
      } else resolve();
    }
    probe.on('message', (m) => {
      if (m.toString('latin1').startsWith('SIP/2.0 200')) finish();
    });
    probe.bind(0, '127.0.0.1');
    child.on('exit', onExit);
  });
  return {
    port,
    child,
    stdout: () => out,
    stderr: () => err,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve({ code: child.exitCode, stdout: out, stderr: err });
        child.once('exit', (code) => resolve({ code, stdout: out, stderr: err }));
        child.kill('SIGTERM');
      }),
  };
}
