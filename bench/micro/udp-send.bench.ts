// CPU per UDP send of a 600-byte datagram on loopback, for the ways siplb could send to a peer
// (issue 8, defect 11: every datagram must leave from the listening address and port):
//   (a) send(buf, port, address) on the listening socket, with siplb's literalLookup and with
//       dgram's own lookup (which defers every send to a later tick, even for an IP literal);
//   (b) a socket bound to 127.0.0.1:ephemeral and connected to the peer (what connectPeers did);
//   (c) a connected socket sharing the listening port through SO_REUSEADDR.
// The receiver is a child process, so this process's CPU (process.cpuUsage, all threads) is the
// sending side only: the JS path, the sendmsg system call and the loopback delivery it triggers.
// Every send carries a completion callback, as UdpTransport's do. Cases alternate over rounds and
// the median is reported (the host swings up to 1.7x over tens of seconds).
//   node dist/bench/micro/udp-send.bench.js [--quick]
import { fork, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { literalLookup } from '../../src/transport/udp.js';
import { conditions, loadavg1 } from './report.js';

const BYTES = 600;
const BATCH = 256;
const quick = process.argv.includes('--quick');
// Many short rounds rather than a few long ones: on a shared host the load moves within seconds,
// and the ratio to case (a) within one round is steadier than any absolute time.
const N = quick ? 10_000 : 30_000;
const ROUNDS = quick ? 2 : 21;
const REFERENCE = 1; // case (a), what siplb does

type Send = (buf: Buffer, done: (err: Error | null) => void) => void;

interface Case {
  readonly name: string;
  readonly send: Send;
}

interface Row {
  readonly name: string;
  readonly n: number;
  /** Median over the rounds of process CPU (user + system) per send, µs. */
  readonly cpuUs: number;
  /** Median wall time per send, µs. */
  readonly wallUs: number;
  /** Median over the rounds of this case's CPU per send divided by case (a)'s in the same round. */
  readonly vsA: number;
  readonly cpuUsRounds: number[];
}

/** The receiving child: binds, says its port, counts, answers "count" with the total. */
function sink(): void {
  const s = dgram.createSocket({ type: 'udp4', recvBufferSize: 8 << 20 });
  let n = 0;
  s.on('message', () => n++);
  s.bind(0, '127.0.0.1', () => process.send?.({ port: s.address().port }));
  process.on('message', (m) => {
    if (m === 'count') process.send?.({ count: n });
    else if (m === 'exit') s.close(() => process.exit(0));
  });
}

async function startSink(): Promise<{ child: ChildProcess; port: number; count(): Promise<number> }> {
  const child = fork(fileURLToPath(import.meta.url), ['--sink'], { stdio: 'inherit' });
  const [first] = (await once(child, 'message')) as [{ port: number }];
  const count = async (): Promise<number> => {
    child.send('count');
    const [m] = (await once(child, 'message')) as [{ count: number }];
    return m.count;
  };
  return { child, port: first.port, count };
}

async function bound(opts: dgram.SocketOptions, port: number): Promise<dgram.Socket> {
  const s = dgram.createSocket({ sendBufferSize: 4 << 20, ...opts });
  // The callback, not once('listening'): with literalLookup the bind completes synchronously.
  await new Promise<void>((resolve) => s.bind(port, '127.0.0.1', resolve));
  return s;
}

async function connected(s: dgram.Socket, port: number): Promise<dgram.Socket> {
  s.connect(port, '127.0.0.1');
  await once(s, 'connect');
  return s;
}

/** n sends in batches; the ticks and callbacks of a batch run before the next (they are part of the cost). */
async function timed(c: Case, n: number): Promise<{ cpuUs: number; wallUs: number }> {
  const buf = Buffer.alloc(BYTES, 0x41);
  let errors = 0;
  const done = (err: Error | null): void => {
    if (err) errors++;
  };
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i += BATCH) {
    for (let k = 0; k < BATCH; k++) c.send(buf, done);
    await new Promise((r) => setImmediate(r));
  }
  const wall = Number(process.hrtime.bigint() - t0) / 1000;
  const cpu = process.cpuUsage(c0);
  if (errors > 0) throw new Error(`${c.name}: ${errors} send errors`);
  return { cpuUs: (cpu.user + cpu.system) / n, wallUs: wall / n };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const cond = conditions('n/a (timing loop)');
  const peer = await startSink();
  const to = peer.port;
  const listenPlain = await bound({ type: 'udp4', lookup: literalLookup }, 0);
  const listenDefault = await bound({ type: 'udp4' }, 0);
  const connectedEphemeral = await connected(await bound({ type: 'udp4' }, 0), to);
  // (c): both sockets need SO_REUSEADDR; the connected one then wins the datagrams from its peer.
  const listenShared = await bound({ type: 'udp4', reuseAddr: true, lookup: literalLookup }, 0);
  const connectedShared = await connected(await bound({ type: 'udp4', reuseAddr: true }, listenShared.address().port), to);
  let sink = 0;
  const cases: Case[] = [
    { name: 'baseline: an empty send function', send: (buf, done) => void (sink += buf.length + (done === undefined ? 1 : 0)) },
    { name: '(a) listening socket, send(buf, port, address), literalLookup', send: (buf, done) => listenPlain.send(buf, to, '127.0.0.1', done) },
    { name: "(a') listening socket, send(buf, port, address), dgram's lookup", send: (buf, done) => listenDefault.send(buf, to, '127.0.0.1', done) },
    { name: '(b) connected socket, ephemeral port', send: (buf, done) => connectedEphemeral.send(buf, done) },
    { name: '(c) connected socket on the listening port (reuseAddr)', send: (buf, done) => connectedShared.send(buf, done) },
  ];
  for (const c of cases) await timed(c, Math.min(N, 20_000)); // warm-up: optimized code for every path
  const rounds = new Map<string, { cpu: number[]; wall: number[] }>(cases.map((c) => [c.name, { cpu: [], wall: [] }]));
  const before = await peer.count();
  for (let r = 0; r < ROUNDS; r++) {
    for (const c of r % 2 === 0 ? cases : [...cases].reverse()) {
      const t = await timed(c, N);
      rounds.get(c.name)!.cpu.push(t.cpuUs);
      rounds.get(c.name)!.wall.push(t.wallUs);
    }
  }
  await new Promise((r) => setTimeout(r, 300));
  const delivered = (await peer.count()) - before;
  const rows: Row[] = cases.map((c) => {
    const x = rounds.get(c.name)!;
    const ref = rounds.get(cases[REFERENCE]!.name)!.cpu;
    const vsA = median(x.cpu.map((v, i) => v / ref[i]!));
    return { name: c.name, n: N * ROUNDS, cpuUs: median(x.cpu), wallUs: median(x.wall), vsA, cpuUsRounds: x.cpu.map((v) => Number(v.toFixed(3))) };
  });
  peer.child.send('exit');
  for (const s of [listenPlain, listenDefault, connectedEphemeral, listenShared, connectedShared]) s.close();
  const sent = N * ROUNDS * (cases.length - 1);
  console.log(`udp send micro benchmark: ${cond.node}, ${cond.cpu} x${cond.cores}, load ${cond.loadavg1Start} -> ${loadavg1()}, ${BYTES}-byte datagrams, batches of ${BATCH}`);
  console.log(`median of ${ROUNDS} rounds of ${N} sends per case; the sink process received ${delivered} of ${sent} (${((100 * delivered) / sent).toFixed(1)}%)\n`);
  console.log(`${'case'.padEnd(64)}${'CPU µs'.padStart(9)}${'wall µs'.padStart(9)}${'vs (a)'.padStart(8)}`);
  for (const r of rows) console.log(`${r.name.padEnd(64)}${r.cpuUs.toFixed(3).padStart(9)}${r.wallUs.toFixed(3).padStart(9)}${r.vsA.toFixed(2).padStart(8)}`);
  if (sink === 0) console.log('');
  const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
  const file = join(root, 'bench', 'results', quick ? 'udp-send-quick.tmp.json' : 'udp-send-latest.json');
  writeFileSync(file, JSON.stringify({ benchmark: 'udp-send', conditions: { ...cond, loadavg1End: loadavg1() }, bytes: BYTES, batch: BATCH, delivered, sent, results: rows }, null, 2) + '\n');
  console.log(`\nsaved ${file}`);
}

if (process.argv.includes('--sink')) sink();
else await main();
