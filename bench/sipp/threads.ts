// npm run bench:threads: where a call's CPU goes between siplb's threads, and the ceiling that
// implies on more cores (issue 9, "workers send for themselves"). For SIPLB_WORKERS=0, and 1 and 2
// workers that send through the main thread (SIPLB_WORKER_SEND=ring) or for themselves (direct),
// SIPp places calls at a fixed rate for a fixed time, configurations alternating over rounds; the
// main thread's CPU comes from /proc/PID/task/PID/stat (exact), the whole process's from
// /proc/PID/stat, and the rest is the dispatch workers (and V8's helper threads, small here).
//
//   node dist/bench/sipp/threads.js [--rate 1000] [--seconds 20] [--rounds 2] [--quick] [--report FILE]
//
// The ceiling: the main thread saturates at 1e6 / (its µs per call) calls/s whatever the workers
// do; on C cores, C - 1 workers each take 1e6 / (a worker's µs per call). Both are upper bounds
// from CPU alone, on this machine's loopback (where a send also pays the receiver's delivery).
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadAverage } from './proc.js';
import { runCaller, startUas } from './sipp.js';

const root = join(import.meta.dirname, '..', '..', '..');
const argv = process.argv.slice(2);
const option = (name: string, dflt: string): string => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1]! : dflt;
};
const quick = argv.includes('--quick');
const rate = Number(option('rate', quick ? '200' : '1000'));
const seconds = Number(option('seconds', quick ? '3' : '20'));
const rounds = Number(option('rounds', quick ? '1' : '2'));
const CLK_TCK = 100;

interface Config {
  readonly name: string;
  readonly workers: number;
  readonly send: 'direct' | 'ring';
}
const CONFIGS: Config[] = [
  { name: 'inline (SIPLB_WORKERS=0)', workers: 0, send: 'direct' },
  { name: '1 worker, ring', workers: 1, send: 'ring' },
  { name: '1 worker, direct', workers: 1, send: 'direct' },
  { name: '2 workers, ring', workers: 2, send: 'ring' },
  { name: '2 workers, direct', workers: 2, send: 'direct' },
];

const ticks = (path: string): number => {
  const t = readFileSync(path, 'utf8');
  const f = t.slice(t.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]);
};

async function ready(port: number): Promise<void> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  let ok = false;
  s.on('message', (m) => (ok ||= m.toString().startsWith('SIP/2.0 200')));
  for (let i = 0; i < 150 && !ok; i++) {
    s.send(`OPTIONS sip:127.0.0.1:${port} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:${s.address().port};branch=z9hG4bKr${i}\r\nMax-Forwards: 70\r\nFrom: <sip:r@127.0.0.1>;tag=r\r\nTo: <sip:127.0.0.1>\r\nCall-ID: ready-${i}\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n`, port, '127.0.0.1');
    await new Promise((r) => setTimeout(r, 100));
  }
  s.close();
  if (!ok) throw new Error('siplb did not answer');
}

interface Row {
  config: string;
  round: number;
  completed: number;
  failed: number;
  received: number;
  mainUsPerCall: number;
  restUsPerCall: number;
  totalUsPerCall: number;
  mainUsPerDatagram: number;
}

// Fixed ports clear of bench:sipp's (proxies 24000-31999, media 7000-19999, control 21000-23399)
// and below the kernel's ephemeral range (32768-60999), so both benches may run on one machine:
// proxies and SIPp signalling 32000-32767, media 20000-20999 (each -mp P takes P and P+2), control
// 23400-23999.
let run_ = 0;
async function run(c: Config, round: number): Promise<Row> {
  const k = run_++ % 60;
  const base = 32000 + k * 10;
  const [proxyPort, uacPort, b1, b2] = [base, base + 1, base + 2, base + 3];
  const media = 20000 + k * 15;
  const control = 23400 + k * 3;
  const dir = mkdtempSync(join(tmpdir(), 'siplb-threads-'));
  writeFileSync(join(dir, 'dispatcher.list'), `1 sip:127.0.0.1:${b1}\n1 sip:127.0.0.1:${b2}\n`);
  const uas: ChildProcess[] = [startUas(b1, media, control), startUas(b2, media + 5, control + 1)];
  const proxy = spawn(process.execPath, [join(root, 'bin', 'siplb.js'), 'start'], {
    env: { PATH: process.env.PATH, SIPLB_LISTEN: `udp:127.0.0.1:${proxyPort}`, SIPLB_LIST_FILE: join(dir, 'dispatcher.list'), SIPLB_WORKERS: String(c.workers), SIPLB_WORKER_SEND: c.send, SIPLB_LOG_LEVEL: 'warn', SIPLB_ADMIN: '', SIPLB_DS_PING_INTERVAL: '0' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  proxy.stdout.on('data', (d: Buffer) => (out += d.toString()));
  try {
    await ready(proxyPort);
    const pid = proxy.pid!;
    const report = async (): Promise<number> => {
      out = '';
      proxy.kill('SIGUSR2');
      for (let i = 0; i < 40 && !out.includes('workers_gc_ms'); i++) await new Promise((r) => setTimeout(r, 50));
      return Number(/udp_received (\d+)/.exec(out)?.[1] ?? NaN);
    };
    const rx0 = await report();
    const main0 = ticks(`/proc/${pid}/task/${pid}/stat`);
    const all0 = ticks(`/proc/${pid}/stat`);
    const r = await runCaller({ scenario: 'uac', strict: false, target: `127.0.0.1:${proxyPort}`, port: uacPort, mediaPort: media + 10, controlPort: control + 2, rate, calls: rate * seconds, timeoutS: seconds + 30 });
    const main1 = ticks(`/proc/${pid}/task/${pid}/stat`);
    const all1 = ticks(`/proc/${pid}/stat`);
    const rx1 = await report();
    const us = (t: number): number => ((t / CLK_TCK) * 1e6) / Math.max(1, r.completed);
    return {
      config: c.name,
      round,
      completed: r.completed,
      failed: r.failed,
      received: rx1 - rx0,
      mainUsPerCall: us(main1 - main0),
      restUsPerCall: us(all1 - all0 - (main1 - main0)),
      totalUsPerCall: us(all1 - all0),
      mainUsPerDatagram: (((main1 - main0) / CLK_TCK) * 1e6) / Math.max(1, rx1 - rx0),
    };
  } finally {
    proxy.kill('SIGTERM');
    await new Promise((r) => proxy.once('exit', r));
    for (const u of uas) u.kill('SIGKILL');
  }
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
// --report FILE: print the table again from a saved run (rows as measured; the summary recomputed
// and written back to FILE).
const saved = option('report', '');
const load0 = loadAverage();
const rows: Row[] = [];
let head = '';
if (saved) {
  const j = JSON.parse(readFileSync(saved, 'utf8')) as { rows: Row[]; date: string; node: string; rate: number; seconds: number; rounds: number; loadAverage: number[] };
  rows.push(...j.rows);
  head = `${j.rate} calls/s for ${j.seconds} s, ${j.rounds} round(s), Node ${j.node}, ${j.date}, load ${j.loadAverage.join(' -> ')}`;
} else {
  for (let round = 1; round <= rounds; round++) for (const c of CONFIGS) rows.push(await run(c, round));
  head = `${rate} calls/s for ${seconds} s, ${rounds} round(s), Node ${process.version}, ${cpus()[0]?.model ?? '?'} x${cpus().length}, load ${load0} -> ${loadAverage()}`;
}
const cores = [2, 4, 8, 16];
console.log(`siplb CPU by thread (medians over rounds): SIPp uac -> siplb -> 2 SIPp uas, ${head}`);
console.log('| configuration | completed | failed | main µs/call | workers µs/call | total µs/call | main µs/datagram | ceiling: main thread | ' + cores.map((n) => `${n} cores`).join(' | ') + ' |');
console.log('|---|--:|--:|--:|--:|--:|--:|--:|' + cores.map(() => '--:').join('|') + '|');
const summary = CONFIGS.map((c) => {
  const rs = rows.filter((r) => r.config === c.name);
  const main = median(rs.map((r) => r.mainUsPerCall));
  const rest = median(rs.map((r) => r.restUsPerCall));
  const total = median(rs.map((r) => r.totalUsPerCall));
  const perDatagram = median(rs.map((r) => r.mainUsPerDatagram));
  const mainCeiling = 1e6 / main;
  // inline: one thread does everything; with workers: min(main ceiling, (cores - 1) workers' capacity)
  const ceilings = cores.map((n) => (c.workers === 0 ? 1e6 / total : Math.min(mainCeiling, ((n - 1) * 1e6) / Math.max(1, rest))));
  console.log(
    `| ${c.name} | ${rs.reduce((n, r) => n + r.completed, 0)} | ${rs.reduce((n, r) => n + r.failed, 0)} | ${main.toFixed(0)} | ${rest.toFixed(0)} | ${total.toFixed(0)} | ${perDatagram.toFixed(1)} | ${c.workers === 0 ? '-' : mainCeiling.toFixed(0)} | ` +
      ceilings.map((x) => x.toFixed(0)).join(' | ') +
      ' |',
  );
  return { config: c.name, workers: c.workers, send: c.send, mainUsPerCall: main, workersUsPerCall: rest, totalUsPerCall: total, mainUsPerDatagram: perDatagram, ceilings: Object.fromEntries(cores.map((n, i) => [n, ceilings[i]])) };
});
const file = join(root, 'bench', 'results', quick ? 'threads-quick.json' : 'threads-latest.json');
if (saved) writeFileSync(saved, JSON.stringify({ ...(JSON.parse(readFileSync(saved, 'utf8')) as object), summary }, null, 2));
else writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), node: process.version, rate, seconds, rounds, loadAverage: [load0, loadAverage()], rows, summary }, null, 2));
if (!saved) console.log(`saved ${file}`);
