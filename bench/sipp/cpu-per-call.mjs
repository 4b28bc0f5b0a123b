#!/usr/bin/env node
// CPU per completed call of siplb at a fixed SIPp call rate, for each mode and worker count:
// the proxy process's user+system CPU (all threads, /proc/PID/stat) over the run divided by the
// calls SIPp completed. SIPp (Debian sip-tester) is the caller and the two backends; loopback only.
// The full comparison with Kamailio is issue 4's bench:sipp; this is the quick per-config number.
//
// usage: node bench/sipp/cpu-per-call.mjs [rate=200] [calls=3000]
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const rate = Number(process.argv[2] ?? 200);
const calls = Number(process.argv[3] ?? 3000);
const scen = (n) => join(root, 'test', 'e2e', 'scenarios', `${n}.xml`);
const CLK_TCK = 100; // Linux USER_HZ

const cpuTicks = (pid) => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return Number(f[11]) + Number(f[12]); // utime + stime of the whole process (all threads)
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function sipp(args) {
  const p = spawn('sipp', [...args, '-buff_size', '4194304', '-nostdin'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  p.stderr.on('data', (d) => (err += d));
  return { p, done: new Promise((r) => p.on('exit', (code) => r({ code, err }))) };
}

async function ready(port) {
  const s = createSocket('udp4');
  await new Promise((r) => s.bind(0, '127.0.0.1', r));
  let ok = false;
  s.on('message', (m) => (ok ||= m.toString().startsWith('SIP/2.0 200')));
  for (let i = 0; i < 100 && !ok; i++) {
    s.send(`OPTIONS sip:127.0.0.1:${port} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:${s.address().port};branch=z9hG4bKr${i}\r\nMax-Forwards: 70\r\nFrom: <sip:r@127.0.0.1>;tag=r\r\nTo: <sip:127.0.0.1>\r\nCall-ID: ready-${i}\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n`, port, '127.0.0.1');
    await sleep(100);
  }
  s.close();
  if (!ok) throw new Error('siplb did not answer');
}

async function run(mode, workers, i) {
  const base = 27000 + i * 100;
  const [b1, b2, proxyPort, uacPort] = [base + 10, base + 20, base + 30, base + 40];
  const dir = mkdtempSync(join(tmpdir(), 'siplb-cpu-'));
  writeFileSync(join(dir, 'dispatcher.list'), `1 sip:127.0.0.1:${b1}\n1 sip:127.0.0.1:${b2}\n`);
  const uas = [b1, b2].map((p, k) => sipp(['-sf', scen('uas'), '-i', '127.0.0.1', '-p', String(p), '-mp', String(base + 50 + k * 4), '-cp', String(base + 70 + k), '-m', String(calls), '-timeout', '120']));
  const proxy = spawn(process.execPath, [join(root, 'bin', 'siplb.js'), 'start'], {
    env: { PATH: process.env.PATH, SIPLB_LISTEN: `udp:127.0.0.1:${proxyPort}`, SIPLB_LIST_FILE: join(dir, 'dispatcher.list'), SIPLB_MODE: mode, SIPLB_WORKERS: String(workers), SIPLB_LOG_LEVEL: 'warn', SIPLB_ADMIN: '', SIPLB_DS_PING_INTERVAL: '0' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let report = '';
  proxy.stdout.on('data', (d) => (report += d));
  await ready(proxyPort);
  await sleep(300);
  const c0 = cpuTicks(proxy.pid);
  const t0 = Date.now();
  const stat = join(dir, 'uac.csv');
  const uac = sipp(['-sf', scen('uac'), '-s', 'service', `127.0.0.1:${proxyPort}`, '-i', '127.0.0.1', '-p', String(uacPort), '-mp', String(base + 80), '-cp', String(base + 90), '-r', String(rate), '-m', String(calls), '-timeout', '120', '-trace_stat', '-stf', stat, '-fd', '1']);
  const { code } = await uac.done;
  const c1 = cpuTicks(proxy.pid);
  const seconds = (Date.now() - t0) / 1000;
  const last = readFileSync(stat, 'utf8').trim().split('\n').pop().split(';');
  const head = readFileSync(stat, 'utf8').trim().split('\n')[0].split(';');
  const col = (name) => Number(last[head.indexOf(name)]);
  const ok = col('SuccessfulCall(C)');
  const failed = col('FailedCall(C)');
  proxy.kill('SIGTERM');
  await new Promise((r) => proxy.on('exit', r));
  for (const u of uas) u.p.kill('SIGKILL');
  const p50 = /p50=(\d+)/.exec(report)?.[1];
  const p99 = /p99=(\d+)/.exec(report)?.[1];
  if (process.env.SHOW_REPORT) console.error(report.split('latency')[0]);
  return { mode, workers, rate, calls, ok, failed, sippExit: code, seconds: seconds.toFixed(1), cpuSeconds: ((c1 - c0) / CLK_TCK).toFixed(2), usPerCall: ok ? Math.round(((c1 - c0) / CLK_TCK) * 1e6 / ok) : NaN, p50, p99 };
}

const rows = [];
let i = 0;
const modes = (process.env.MODES ?? 'stateful,stateless').split(',');
const workerCounts = (process.env.WORKERS ?? '0,2').split(',').map(Number);
for (const mode of modes) for (const workers of workerCounts) rows.push(await run(mode, workers, i++));
console.log(`siplb CPU per call, SIPp uac -> siplb -> 2 SIPp uas, ${rate} calls/s, ${calls} calls, Node ${process.version}`);
console.log('| mode | workers | completed | failed | CPU s | CPU µs/call | p50 µs | p99 µs |');
console.log('|---|--:|--:|--:|--:|--:|--:|--:|');
for (const r of rows) console.log(`| ${r.mode} | ${r.workers} | ${r.ok} | ${r.failed} | ${r.cpuSeconds} | ${r.usPerCall} | ${r.p50} | ${r.p99} |`);
