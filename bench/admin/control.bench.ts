// What the management surface costs (issue 11): a real siplb (two dispatch workers, stateless)
// with lists of N destinations, timed from outside over its control channel:
//   - siplb.reload of a list whose destinations change by 1% (parsed in the parse pool, planned,
//     pushed to every thread), dispatcher.list, GET /metrics (and its size), siplb.overview;
//   - the data path meanwhile: OPTIONS at a fixed rate through siplb to a discard port, and
//     siplb's own receive-to-send latency (siplb.latency) over windows without control calls,
//     with a reload every RELOAD_EVERY_MS, and with a scrape of /metrics every RELOAD_EVERY_MS,
//     in rotating order, so the three are compared in one run.
//   node dist/bench/admin/control.bench.js [--quick]
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { conditions, loadavg1 } from '../micro/report.js';

const quick = process.argv.includes('--quick');
const SIZES = quick ? [100, 1000] : [100, 1000, 4000];
const REPEAT = quick ? 5 : 15;
const RATE = 2000; // OPTIONS/s during the latency windows
const WINDOW_MS = quick ? 2000 : 4000;
const RELOAD_EVERY_MS = 250;
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** N destinations in 4 sets; `variant` moves 1% of them to other ports. */
function listText(n: number, variant: number): string {
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    const moved = variant === 1 && i % 100 === 0;
    lines.push(`${1 + (i % 4)} sip:127.0.0.${1 + (i % 200)}:${10_000 + i + (moved ? 30_000 : 0)} 0 ${i % 3} duid=d${i};weight=${1 + (i % 50)}`);
  }
  return `${lines.join('\n')}\n`;
}

async function rpc(admin: string, method: string, params: unknown[] = []): Promise<{ ms: number; result: unknown }> {
  const t0 = performance.now();
  const res = await fetch(`${admin}/RPC`, { method: 'POST', body: JSON.stringify({ jsonrpc: '2.0', method, params, id: 1 }) });
  const json = (await res.json()) as { result?: unknown; error?: { message: string } };
  if (json.error) throw new Error(`${method}: ${json.error.message}`);
  return { ms: performance.now() - t0, result: json.result };
}

async function timedGet(url: string): Promise<{ ms: number; bytes: number }> {
  const t0 = performance.now();
  const text = await (await fetch(url)).text();
  return { ms: performance.now() - t0, bytes: text.length };
}

/** OPTIONS at RATE/s to the proxy until stop() (each a new request: siplb forwards it). */
function optionsLoad(proxyPort: number): { stop(): void } {
  const sock = createSocket('udp4');
  let k = 0;
  const perTick = RATE / 100;
  const timer = setInterval(() => {
    for (let i = 0; i < perTick; i++) {
      const n = ++k;
      sock.send(
        `OPTIONS sip:svc@127.0.0.1:${proxyPort} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK-b${n}\r\nMax-Forwards: 70\r\nFrom: <sip:b@127.0.0.1>;tag=${n}\r\n` +
          `To: <sip:svc@127.0.0.1>\r\nCall-ID: bench-${n}\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n`,
        proxyPort,
        '127.0.0.1',
      );
    }
  }, 10);
  return {
    stop() {
      clearInterval(timer);
      sock.close();
    },
  };
}

interface Percentiles {
  count: number;
  p99: number;
  'p99.9': number;
  max: number;
}

async function start(n: number): Promise<{ child: ChildProcess; admin: string; port: number; file: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'siplb-bench-admin-'));
  const file = join(dir, 'dispatcher.list');
  writeFileSync(file, listText(n, 0));
  const [sip, admin] = [await freePort(), await freePort()];
  const env = {
    ...process.env,
    SIPLB_LIST_FILE: file,
    SIPLB_LISTEN: `udp:127.0.0.1:${sip}`,
    SIPLB_ADMIN: `127.0.0.1:${admin}`,
    SIPLB_WORKERS: '2',
    SIPLB_MODE: 'stateless',
    SIPLB_ALG: '4',
    SIPLB_MAX_DESTINATIONS: '8192',
    SIPLB_RELOAD_DELTA: '0',
    SIPLB_DS_PING_INTERVAL: '0',
    SIPLB_FLOOD_LIMIT: '0',
    SIPLB_LOG_LEVEL: 'warn',
  };
  const child = spawn(process.execPath, [join(root, 'bin', 'siplb.js'), 'start'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  const url = `http://127.0.0.1:${admin}`;
  for (let i = 0; i < 200; i++) {
    try {
      await rpc(url, 'siplb.stats');
      return { child, admin: url, port: sip, file };
    } catch {
      await sleep(100);
    }
  }
  throw new Error('siplb did not start');
}

const cond = conditions('n/a');
const setting = `${RATE} OPTIONS/s, stateless, 2 workers`;
const rows: Array<Record<string, number>> = [];
for (const n of SIZES) {
  const p = await start(n);
  const reloadMs: number[] = [];
  const listMs: number[] = [];
  const metricsMs: number[] = [];
  const overviewMs: number[] = [];
  let metricsBytes = 0;
  for (let i = 0; i < REPEAT; i++) {
    writeFileSync(p.file, listText(n, (i + 1) % 2));
    reloadMs.push((await rpc(p.admin, 'siplb.reload')).ms);
    listMs.push((await rpc(p.admin, 'dispatcher.list')).ms);
    const m = await timedGet(`${p.admin}/metrics`);
    metricsMs.push(m.ms);
    metricsBytes = m.bytes;
    overviewMs.push((await rpc(p.admin, 'siplb.overview')).ms);
  }
  // the data path, without and with reloads, alternating
  const load = optionsLoad(p.port);
  await sleep(1000);
  const kinds = ['quiet', 'reloading', 'scraping'] as const;
  const windows: Record<(typeof kinds)[number], Percentiles[]> = { quiet: [], reloading: [], scraping: [] };
  for (let w = 0; w < (quick ? 2 : 3); w++) {
    for (const kind of [...kinds.slice(w % 3), ...kinds.slice(0, w % 3)]) {
      await rpc(p.admin, 'siplb.latency', ['reset']);
      let reloads = 0;
      const until = performance.now() + WINDOW_MS;
      while (performance.now() < until) {
        if (kind === 'reloading') {
          writeFileSync(p.file, listText(n, reloads % 2));
          await rpc(p.admin, 'siplb.reload');
          reloads++;
        } else if (kind === 'scraping') await timedGet(`${p.admin}/metrics`);
        await sleep(RELOAD_EVERY_MS);
      }
      const rep = (await rpc(p.admin, 'siplb.latency')).result as { overall: Percentiles };
      windows[kind].push(rep.overall);
    }
  }
  load.stop();
  p.child.kill('SIGTERM');
  await new Promise((r) => p.child.once('exit', r));
  const med = (k: (typeof kinds)[number], f: keyof Percentiles): number => median(windows[k].map((x) => x[f]));
  rows.push({
    destinations: n,
    reloadMs: Number(median(reloadMs).toFixed(1)),
    listMs: Number(median(listMs).toFixed(1)),
    metricsMs: Number(median(metricsMs).toFixed(1)),
    metricsKiB: Math.round(metricsBytes / 1024),
    overviewMs: Number(median(overviewMs).toFixed(1)),
    quietP99us: med('quiet', 'p99'),
    reloadingP99us: med('reloading', 'p99'),
    scrapingP99us: med('scraping', 'p99'),
    quietP999us: med('quiet', 'p99.9'),
    reloadingP999us: med('reloading', 'p99.9'),
    scrapingP999us: med('scraping', 'p99.9'),
    quietMaxUs: med('quiet', 'max'),
    reloadingMaxUs: med('reloading', 'max'),
    scrapingMaxUs: med('scraping', 'max'),
  });
}

console.log(`control channel benchmark: ${cond.node}, ${cond.cpu} x${cond.cores}, load ${cond.loadavg1Start} -> ${loadavg1()}; ${setting}`);
console.log(`medians of ${REPEAT} calls; latency: siplb's receive-to-send in µs, median of windows of ${WINDOW_MS} ms, a reload (or a scrape) every ${RELOAD_EVERY_MS} ms in the reloading (scraping) ones\n`);
const head = Object.keys(rows[0]!);
console.log(head.join('  '));
for (const r of rows) console.log(head.map((h) => String(r[h]).padStart(h.length)).join('  '));
const out = join(root, 'bench', 'results', quick ? 'admin-quick.tmp.json' : 'admin-latest.json');
writeFileSync(out, `${JSON.stringify({ conditions: { ...cond, loadavg1End: loadavg1() }, rows }, null, 2)}\n`);
console.log(`\nwritten: ${out}`);
