// Ring vs postMessage per datagram (DESIGN.md expects 0.2-0.4 µs vs 4-8 µs on this kind of machine).
// A timing loop, not benchmark.js: the cross-thread cases are one long run each, timed by wall clock
// and by process CPU (process.cpuUsage() counts every thread of the process).
//   node dist/bench/micro/ring.bench.js [--quick]
// Writes bench/results/ring-latest.json (--quick: ring-quick.tmp.json, git-ignored).
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { DatagramRing, type DatagramMeta } from '../../src/shared/ring.js';
import { RingConsumer } from '../../src/shared/ring-consumer.js';
import { shardOf } from '../../src/transport/shard.js';
import { conditions, loadavg1 } from './report.js';

const BYTES = 600;
const quick = process.argv.includes('--quick');
const N = quick ? 20_000 : 200_000;

interface Row {
  readonly name: string;
  readonly n: number;
  /** Wall time per datagram, µs. */
  readonly wallUs: number;
  /** Process CPU (user + system, all threads) per datagram, µs. */
  readonly cpuUs: number;
}

type Mode = 'ring' | 'post';
interface BenchData {
  readonly mode: Mode;
  readonly n: number;
  readonly sab: SharedArrayBuffer;
}

/** Worker: consume n datagrams from the ring or from messages, then say done. */
function consumer(data: BenchData): void {
  const port = parentPort;
  if (port === null) return;
  let seen = 0;
  let sum = 0;
  if (data.mode === 'post') {
    port.on('message', (m: Uint8Array) => {
      sum += m[0] ?? 0;
      if (++seen === data.n) port.postMessage({ done: seen, sum });
    });
  } else {
    const ring: RingConsumer = new RingConsumer(new DatagramRing(data.sab), (p) => {
      sum += p[0] ?? 0;
      if (++seen === data.n) {
        ring.stop();
        port.postMessage({ done: seen, sum, wakeups: ring.wakeups });
      }
    });
    ring.start();
  }
  port.postMessage('ready');
}

function timed(name: string, n: number, body: () => void): Row {
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  body();
  const wall = Number(process.hrtime.bigint() - t0) / 1000;
  const cpu = process.cpuUsage(c0);
  return { name, n, wallUs: wall / n, cpuUs: (cpu.user + cpu.system) / n };
}

async function crossThread(name: string, mode: Mode, notifyEvery: number): Promise<Row> {
  const sab = DatagramRing.create(1 << 20);
  const worker = new Worker(new URL(import.meta.url), { workerData: { mode, n: N, sab } satisfies BenchData });
  await new Promise((resolve) => worker.once('message', resolve));
  const payload = new Uint8Array(BYTES).fill(7);
  const meta: DatagramMeta = { address: '127.0.0.1', port: 5060, family: 4, socket: 0, tag: 0 };
  const ring = new DatagramRing(sab);
  const done = new Promise<{ wakeups?: number }>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('exit', (code) => reject(new Error(`bench worker exited (${code}) before it was done`)));
  });
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  if (mode === 'post') {
    for (let i = 0; i < N; i++) worker.postMessage(payload); // structured clone: one copy each
  } else {
    for (let i = 0; i < N; i++) {
      while (!ring.tryWrite(payload, meta)) ring.wakeIfSleeping(); // full: the consumer is behind
      if ((i + 1) % notifyEvery === 0) ring.wakeIfSleeping();
    }
    ring.wakeIfSleeping();
  }
  const info = await done;
  const wall = Number(process.hrtime.bigint() - t0) / 1000;
  const cpu = process.cpuUsage(c0);
  await worker.terminate();
  const wakes = info.wakeups === undefined ? '' : ` (${info.wakeups} wake-ups)`;
  return { name: name + wakes, n: N, wallUs: wall / N, cpuUs: (cpu.user + cpu.system) / N };
}

function sameThread(): Row[] {
  const payload = Buffer.alloc(BYTES, 7);
  const sip = Buffer.from(
    'INVITE sip:bob@biloxi.example.com SIP/2.0\r\nVia: SIP/2.0/UDP pc33.atlanta.example.com;branch=z9hG4bK776asdhds\r\n' +
      'Max-Forwards: 70\r\nTo: Bob <sip:bob@biloxi.example.com>\r\nFrom: Alice <sip:alice@atlanta.example.com>;tag=1928301774\r\n' +
      'Call-ID: a84b4c76e66710@pc33.atlanta.example.com\r\nCSeq: 314159 INVITE\r\n\r\n',
  );
  const meta: DatagramMeta = { address: '127.0.0.1', port: 5060, family: 4, socket: 0, tag: 0 };
  const ring = new DatagramRing(DatagramRing.create(1 << 20));
  const dst = Buffer.alloc(BYTES);
  let sink = 0;
  const onRecord = (p: Uint8Array, m: DatagramMeta): void => void (sink += p.length + m.port);
  const rows: Row[] = [];
  for (let pass = 0; pass < 2; pass++) {
    rows.length = 0; // the first pass warms up
    rows.push(timed('baseline: copy 600 B into a Buffer', N, () => { for (let i = 0; i < N; i++) dst.set(payload); }));
    rows.push(timed('ring write + read, batch 1', N, () => {
      for (let i = 0; i < N; i++) {
        ring.tryWrite(payload, meta);
        ring.read(1, onRecord);
      }
    }));
    rows.push(timed('ring write + read, batch 32', N, () => {
      for (let i = 0; i < N; i += 32) {
        for (let k = 0; k < 32; k++) ring.tryWrite(payload, meta);
        ring.read(32, onRecord);
      }
    }));
    rows.push(timed('shardOf (Call-ID scan + FNV-1a)', N, () => { for (let i = 0; i < N; i++) sink += shardOf(sip, 4); }));
  }
  if (sink === 0) console.log(''); // keeps the loops observable
  return rows;
}

async function main(): Promise<void> {
  const cond = conditions('n/a (timing loop)');
  const rows = sameThread();
  rows.push(await crossThread('cross-thread ring, wake check per 32 writes', 'ring', 32));
  rows.push(await crossThread('cross-thread ring, wake check per write', 'ring', 1));
  rows.push(await crossThread('cross-thread postMessage (600 B copy)', 'post', 1));
  console.log(`ring micro benchmarks: ${cond.node}, ${cond.cpu} x${cond.cores}, load ${cond.loadavg1Start}, ${BYTES}-byte datagrams\n`);
  console.log(`${'case'.padEnd(58)}${'n'.padStart(9)}${'wall µs'.padStart(10)}${'CPU µs'.padStart(10)}`);
  for (const r of rows) console.log(`${r.name.padEnd(58)}${String(r.n).padStart(9)}${r.wallUs.toFixed(3).padStart(10)}${r.cpuUs.toFixed(3).padStart(10)}`);
  const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
  const file = join(root, 'bench', 'results', quick ? 'ring-quick.tmp.json' : 'ring-latest.json');
  writeFileSync(file, JSON.stringify({ benchmark: 'ring', conditions: { ...cond, loadavg1End: loadavg1() }, bytes: BYTES, results: rows }, null, 2) + '\n');
  console.log(`\nsaved ${file}`);
}

if (isMainThread) await main();
else consumer(workerData as BenchData);
