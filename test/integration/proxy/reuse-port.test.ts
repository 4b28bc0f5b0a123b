// SIPLB_REUSE_PORT (SO_REUSEPORT, Node.js 22.12+): a new `siplb start` binds the port of a running
// one, and the old one is stopped while callers keep sending: no OPTIONS goes unanswered. Without
// the variable on both, the second start still fails with SIPLB_ERR_BIND. On a Node.js without
// dgram's reusePort (20, 22.11, 23.0), SIPLB_REUSE_PORT=true stops the start with a line naming the
// variable and the version needed. Every test runs on every Node.js: CI runs the suite on 20 and 24,
// and each test says in its title which side of the version line it is on.
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { nodeHasReusePort } from '../../../src/config/parse.js';
import { freeTcpPort, freeUdpPort } from '../../helpers/proxy-process.js';
import { BIN, ROOT } from '../../helpers/run-cli.js';

const NODE = process.versions.node;
const HAVE_REUSE_PORT = nodeHasReusePort(NODE);

interface Siplb {
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code once the process has exited. */
  readonly exited: Promise<number | null>;
}

const running: Siplb[] = [];
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.close();
  for (const p of running.splice(0)) {
    if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    await p.exited;
  }
});

/** `siplb start` as an operator runs it, with only these variables (and PATH). */
function siplb(env: Record<string, string>): Siplb {
  const child = spawn(process.execPath, [BIN, 'start'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', SIPLB_WARMUP_CALLS: '0', SIPLB_LOG_LEVEL: 'info', SIPLB_ADMIN: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  const p = { child, stdout: () => out, stderr: () => err, exited };
  running.push(p);
  return p;
}

/**
 * Resolves once it logged "siplb listening" (its sockets are bound). Not an OPTIONS ping: with two
 * processes on one port, the kernel may hand the ping to the other one.
 */
async function listening(p: Siplb): Promise<void> {
  const until = Date.now() + 15_000;
  while (!p.stderr().includes('"msg":"siplb listening"')) {
    if (p.child.exitCode !== null) throw new Error(`siplb exited with ${p.child.exitCode} before listening\nstderr:\n${p.stderr()}`);
    if (Date.now() > until) throw new Error(`siplb did not listen within 15 s\nstderr:\n${p.stderr()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A counter line of the report siplb prints when it stops ("  name N"). */
function counter(report: string, name: string): number {
  const m = new RegExp(`^ {2}${name} (\\d+)$`, 'm').exec(report);
  return m ? Number(m[1]) : 0;
}

async function caller(): Promise<Socket> {
  // Room for a burst of answers: a loopback datagram is charged about 2 KB of the receive buffer.
  const s = createSocket({ type: 'udp4', recvBufferSize: 1 << 20 });
  sockets.push(s);
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  return s;
}

function options(port: number, from: number, id: string): string {
  return (
    `OPTIONS sip:127.0.0.1:${port} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:${from};branch=z9hG4bK-${id};rport\r\n` +
    `Max-Forwards: 70\r\nFrom: <sip:caller@127.0.0.1>;tag=${id}\r\nTo: <sip:127.0.0.1:${port}>\r\nCall-ID: ${id}\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n`
  );
}

function expectOneLine(stderr: string, line: RegExp): void {
  const plain = stderr.split('\n').filter((l) => l !== '' && !l.startsWith('{"level":'));
  expect(plain, stderr).toHaveLength(1);
  expect(`${plain[0]}\n`).toMatch(line);
  expect(stderr).not.toMatch(/\n\s+at /);
}

describe(`SIPLB_REUSE_PORT on Node.js ${NODE}`, () => {
  it(
    HAVE_REUSE_PORT
      ? 'two siplb start on one port: both bind, the kernel spreads callers over both, and stopping the first loses no OPTIONS'
      : 'SIPLB_REUSE_PORT=true stops the start: one line naming the variable and the Node.js version it needs, exit 1',
    async () => {
      const port = await freeUdpPort();
      // one control channel port for both, as an operator's restart has: SO_REUSEPORT shares it too
      const env = { SIPLB_LISTEN: `udp:127.0.0.1:${port}`, SIPLB_REUSE_PORT: 'true', SIPLB_ADMIN: `127.0.0.1:${await freeTcpPort()}` };
      const first = siplb(env);
      if (!HAVE_REUSE_PORT) {
        expect(await first.exited).toBe(1);
        expectOneLine(
          first.stderr(),
          new RegExp(`^siplb: SIPLB_REUSE_PORT: needs Node\\.js 22\\.12 or later \\(or 23\\.1 or later\\) for SO_REUSEPORT on UDP sockets; this is Node\\.js ${NODE.replace(/\./g, '\\.')} \\(SIPLB_ERR_CONFIG\\)\\n$`),
        );
        return;
      }
      await listening(first);
      const second = siplb(env);
      await listening(second);

      // Callers on 16 source ports, each sending an OPTIONS every 5 ms: the kernel hashes each
      // source to one socket of the group, so both processes get some of them.
      const callers = await Promise.all(Array.from({ length: 16 }, () => caller()));
      const sent = new Set<string>();
      const answered = new Set<string>();
      for (const s of callers) {
        s.on('message', (m) => {
          const text = m.toString('latin1');
          const id = /^Call-ID: (.+)$/m.exec(text)?.[1]?.trim();
          if (text.startsWith('SIP/2.0 200') && id !== undefined) answered.add(id);
        });
      }
      let seq = 0;
      const tick = setInterval(() => {
        seq++;
        for (const [i, s] of callers.entries()) {
          const id = `rp-${i}-${seq}`;
          sent.add(id);
          s.send(options(port, s.address().port, id), port, '127.0.0.1');
        }
      }, 5);
      try {
        await new Promise((r) => setTimeout(r, 500));
        first.child.kill('SIGTERM');
        expect(await first.exited).toBe(0);
        await new Promise((r) => setTimeout(r, 500)); // the second one alone, for a while
      } finally {
        clearInterval(tick);
      }
      await new Promise((r) => setTimeout(r, 300)); // the last answers
      const lost = [...sent].filter((id) => !answered.has(id));
      second.child.kill('SIGTERM');
      expect(await second.exited).toBe(0);

      const [a, b] = [first.stdout(), second.stdout()];
      console.log(`${sent.size} OPTIONS sent, ${lost.length} unanswered; the first siplb answered ${counter(a, 'local_reply_200')} before its stop report, the second ${counter(b, 'local_reply_200')}`);
      // both served callers: the port was shared, not taken over
      expect(counter(a, 'local_reply_200'), a).toBeGreaterThan(0);
      expect(counter(b, 'local_reply_200'), b).toBeGreaterThan(0);
      expect(lost, `${lost.length} of ${sent.size} OPTIONS unanswered`).toEqual([]);
      // The queue probes of both processes are one flow (the port to itself), so one process got
      // both: it said once that the port is shared, and neither took the other's lost probes for a
      // queue, which would have shed load (SIPLB_OVERLOAD_DELAY is on by default).
      const shared = [first, second].filter((p) => p.stderr().includes('another SO_REUSEPORT socket shares this port'));
      expect(shared).toHaveLength(1);
      for (const report of [a, b]) {
        expect(counter(report, 'overload_shed_percent'), report).toBe(0);
        expect(counter(report, 'queue_delay_ms'), report).toBeLessThan(1000); // a lost probe counts up to 2000
        expect(report).not.toMatch(/parse_error_/); // no probe reached the SIP parser
      }
    },
  );

  it(
    HAVE_REUSE_PORT
      ? 'the port stays exclusive unless both opt in: a second start without SIPLB_REUSE_PORT, or a first one without it, fails with SIPLB_ERR_BIND'
      : 'without SIPLB_REUSE_PORT a second start on the same port fails with SIPLB_ERR_BIND',
    async () => {
      const port = await freeUdpPort();
      const listen = `udp:127.0.0.1:${port}`;
      const bindError = new RegExp(`^siplb: SIPLB_LISTEN: cannot bind udp:127\\.0\\.0\\.1:${port}: address already in use \\(EADDRINUSE\\) \\(SIPLB_ERR_BIND\\)\\n$`);
      const pairs: Array<[Record<string, string>, Record<string, string>]> = HAVE_REUSE_PORT
        ? [
            [{ SIPLB_REUSE_PORT: 'true' }, {}],
            [{}, { SIPLB_REUSE_PORT: 'true' }],
          ]
        : [[{}, {}]];
      for (const [firstEnv, secondEnv] of pairs) {
        const first = siplb({ SIPLB_LISTEN: listen, ...firstEnv });
        await listening(first);
        const second = siplb({ SIPLB_LISTEN: listen, ...secondEnv });
        expect(await second.exited, second.stderr()).toBe(1);
        expectOneLine(second.stderr(), bindError);
        first.child.kill('SIGTERM');
        expect(await first.exited).toBe(0);
      }
    },
  );
});
