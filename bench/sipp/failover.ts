// npm run bench:failover: what a dead media server costs under load, siplb against Kamailio, each
// with its health set up the way its users set it up. SIPp places calls at a fixed rate (default
// 2,000 calls/s for 60 s) through the proxy to two SIPp backends, in two cases:
//
//   dead    the second backend is never started
//   killed  the second backend is killed (SIGKILL) `--kill-at` seconds into the run
//
// siplb runs on its defaults (keepalives every 5 s with a 2 s timeout, probing mode 3, failover with
// SIPLB_MARK_FAILED=ip); Kamailio with keepalives every 5 s (ds_probing_mode 1) and ds_mark_dst("ip")
// in its failure route, fr_timer 5 s. For siplb the report adds when the control channel showed the
// killed backend inactive, and the memory at the end of the run.
//
//   npm run bench:failover -- [--rate N] [--duration S] [--kill-at S] [--contenders siplb,kamailio] [--cases dead,killed] [--out FILE]
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { kamailioVersion, startKamailio } from './kamailio.js';
import { runCaller, sippVersion, startUas, type CallerResult } from './sipp.js';

const root = join(import.meta.dirname, '..', '..', '..');
const KNOWN = new Set(['--rate', '--duration', '--kill-at', '--contenders', '--cases', '--out', '--help']);

function options(argv: string[]): { rate: number; duration: number; killAt: number; contenders: string[]; cases: Array<'dead' | 'killed'>; out: string | undefined } {
  const o = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!KNOWN.has(a)) {
      process.stderr.write(`bench:failover: unknown option ${a}; known: ${[...KNOWN].join(' ')}\n`);
      process.exit(2);
    }
    if (a === '--help') {
      process.stdout.write('npm run bench:failover -- [--rate 2000] [--duration 60] [--kill-at 20] [--contenders siplb,kamailio] [--cases dead,killed] [--out FILE]\n');
      process.exit(0);
    }
    o.set(a, argv[++i] ?? '');
  }
  return {
    rate: Number(o.get('--rate') ?? 2000),
    duration: Number(o.get('--duration') ?? 60),
    killAt: Number(o.get('--kill-at') ?? 20),
    contenders: (o.get('--contenders') ?? 'siplb,kamailio').split(','),
    cases: (o.get('--cases') ?? 'dead,killed').split(',').filter((c): c is 'dead' | 'killed' => c === 'dead' || c === 'killed'),
    out: o.get('--out'),
  };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
// SIPp takes its media port and the three after it (RTP and RTCP, audio and video): ten apart.
let nextPort = 20_000 + 10 * Math.floor(Math.random() * 2_000);
const port = (): number => (nextPort += 10);

async function freeTcpPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const p = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return p;
}

interface Proxy {
  stop(): Promise<string>;
  /** State letters of `uri`, or undefined when the contender has no such view (Kamailio here). */
  flags(uri: string): Promise<string | undefined>;
}

async function startSiplb(listen: number, listFile: string): Promise<Proxy> {
  const admin = await freeTcpPort();
  const child = spawn(process.execPath, [join(root, 'bin', 'siplb.js'), 'start'], {
    env: { PATH: process.env.PATH ?? '', SIPLB_LISTEN: `udp:127.0.0.1:${listen}`, SIPLB_LIST_FILE: listFile, SIPLB_LOG_LEVEL: 'warn', SIPLB_ADMIN: `127.0.0.1:${admin}` },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  for (let i = 0; i < 100; i++) {
    if (await fetch(`http://127.0.0.1:${admin}/api/dispatcher/list`).then((r) => r.ok, () => false)) break;
    await sleep(100);
  }
  return {
    stop: () =>
      new Promise((resolve) => {
        child.once('exit', () => resolve(out));
        child.kill('SIGTERM');
      }),
    flags: async (uri) => {
      const list = (await (await fetch(`http://127.0.0.1:${admin}/api/dispatcher/list`)).json()) as { RECORDS: Array<{ SET: { TARGETS: Array<{ DEST: { URI: string; FLAGS: string } }> } }> };
      return list.RECORDS.flatMap((r) => r.SET.TARGETS).find((t) => t.DEST.URI === uri)?.DEST.FLAGS;
    },
  };
}

async function startKam(listen: number, listFile: string): Promise<Proxy> {
  const k = await startKamailio({ mode: 'stateful', listen: { host: '127.0.0.1', port: listen }, listFile, children: 2, alg: 4, health: { pingInterval: 5 } });
  await sleep(1000);
  return { stop: async () => (await k.stop(), ''), flags: () => Promise.resolve(undefined) };
}

interface Row {
  contender: string;
  case: 'dead' | 'killed';
  calls: number;
  caller: CallerResult;
  /** ms from the kill until siplb's control channel showed the backend inactive. */
  detectedMs: number | null;
  rssMiB: number | null;
  heapMiB: number | null;
}

async function one(contender: string, kase: 'dead' | 'killed', o: ReturnType<typeof options>): Promise<Row> {
  const [b1, b2, listen, uacPort] = [port(), port(), port(), port()];
  const dir = mkdtempSync(join(tmpdir(), 'siplb-failover-'));
  const listFile = join(dir, 'dispatcher.list');
  const uri2 = `sip:127.0.0.1:${b2}`;
  writeFileSync(listFile, `1 sip:127.0.0.1:${b1} 8\n1 ${uri2} 8\n`);
  const backends = [startUas(b1, port(), port())];
  const victim = kase === 'killed' ? startUas(b2, port(), port()) : undefined;
  if (victim) backends.push(victim);
  await sleep(500);
  const proxy = contender === 'siplb' ? await startSiplb(listen, listFile) : await startKam(listen, listFile);
  const calls = o.rate * o.duration;
  const caller = runCaller({
    scenario: 'uac',
    strict: true,
    target: `127.0.0.1:${listen}`,
    port: uacPort,
    mediaPort: port(),
    controlPort: port(),
    rate: o.rate,
    calls,
    timeoutS: o.duration + 60,
    extra: ['-recv_timeout', '10000'],
  });
  let detectedMs: number | null = null;
  if (victim) {
    await sleep(o.killAt * 1000);
    victim.kill('SIGKILL');
    const at = Date.now();
    while (Date.now() - at < 30_000) {
      const f = await proxy.flags(uri2);
      if (f === undefined) break;
      if (f.startsWith('I')) {
        detectedMs = Date.now() - at;
        break;
      }
      await sleep(50);
    }
  }
  const result = await caller;
  if (result.completed + result.failed === 0) throw new Error(`bench:failover: SIPp placed no call (exit ${result.exitCode}); is a port taken?`);
  const report = await proxy.stop();
  for (const b of backends) b.kill('SIGKILL');
  const num = (re: RegExp): number | null => {
    const m = re.exec(report);
    return m ? Math.round((Number(m[1]) / 2 ** 20) * 10) / 10 : null;
  };
  return { contender, case: kase, calls, caller: result, detectedMs, rssMiB: num(/rss_bytes (\d+)/), heapMiB: num(/heap_used_bytes (\d+)/) };
}

const o = options(process.argv.slice(2));
const rows: Row[] = [];
for (const kase of o.cases) {
  for (const c of o.contenders) {
    process.stderr.write(`bench:failover: ${c}, backend ${kase}, ${o.rate} calls/s for ${o.duration} s\n`);
    rows.push(await one(c, kase, o));
    await sleep(2000);
  }
}
const lines = [
  `bench:failover, ${new Date().toISOString()}: ${o.rate} calls/s for ${o.duration} s through the proxy to two SIPp backends; ` +
    `"killed": the second one SIGKILLed at ${o.killAt} s. ${sippVersion()}, ${kamailioVersion() ?? 'no kamailio'}, Node ${process.version}.`,
  '',
  '| contender | backend | calls | answered | failed | detected inactive after | RSS at end | heap at end |',
  '|---|---|--:|--:|--:|--:|--:|--:|',
  ...rows.map(
    (r) =>
      `| ${r.contender} | ${r.case} | ${r.calls} | ${r.caller.completed} | ${r.caller.failed} | ${r.detectedMs === null ? '-' : `${(r.detectedMs / 1000).toFixed(1)} s`} | ` +
      `${r.rssMiB === null ? '-' : `${r.rssMiB} MiB`} | ${r.heapMiB === null ? '-' : `${r.heapMiB} MiB`} |`,
  ),
];
process.stdout.write(`${lines.join('\n')}\n`);
if (o.out) writeFileSync(o.out, `${JSON.stringify({ options: o, rows }, null, 2)}\n`);
