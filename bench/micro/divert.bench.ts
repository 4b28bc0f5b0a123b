// What the keepalive and registrar diversion costs the main thread per datagram (issue 10): before
// a datagram is sharded (or handed to the inline core), siplb asks whether it is a response whose
// Call-ID carries the keepalive prefix (src/transport/shard.ts isReplyWithCallIdPrefix). For a
// request it is one 4-byte compare; for a response it is the Call-ID scan sharding does anyway,
// done a second time. A timing loop, one thread; cases alternate over several rounds, median
// reported; shardOf on the same datagram is the yardstick.
//   node dist/bench/micro/divert.bench.js [--quick]
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CALL_ID_PREFIX, CALL_ID_PREFIX_BYTES } from '../../src/shared/keepalive-marker.js';
import { isReplyWithCallIdPrefix, shardOf } from '../../src/transport/shard.js';
import { conditions, loadavg1 } from './report.js';

const quick = process.argv.includes('--quick');
const N = quick ? 200_000 : 2_000_000;
const ROUNDS = quick ? 2 : 7;

const msg = (start: string, callId: string): Buffer =>
  Buffer.from(
    `${start}\r\nVia: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK776asdhds;rport=5060\r\nVia: SIP/2.0/UDP 192.0.2.7:5060;branch=z9hG4bKnashds8\r\n` +
      `Record-Route: <sip:10.0.0.1:5060;lr;t=abcdef0123456789>\r\nFrom: <sip:alice@example.com>;tag=1928301774\r\nTo: <sip:bob@example.com>;tag=a6c85cf\r\n` +
      `Call-ID: ${callId}\r\nCSeq: 314159 INVITE\r\nContact: <sip:bob@192.0.2.4>\r\nContent-Type: application/sdp\r\nContent-Length: 0\r\n\r\n`,
    'latin1',
  );

const invite = msg('INVITE sip:bob@example.com SIP/2.0', 'a84b4c76e66710@pc33.example.com');
const ok = msg('SIP/2.0 200 OK', 'a84b4c76e66710@pc33.example.com');
const keepalive = msg('SIP/2.0 200 OK', `${CALL_ID_PREFIX}0123456789abcdef0123456789abcdef`);

const loop = (n: number, f: () => boolean | number): number => {
  let s = 0;
  for (let i = 0; i < n; i++) s += Number(f());
  return s;
};
const cases = [
  { name: 'shardOf(200 OK, 2 workers) (the yardstick)', run: (n: number) => loop(n, () => shardOf(ok, 2)) },
  { name: 'divert check: an INVITE', run: (n: number) => loop(n, () => isReplyWithCallIdPrefix(invite, CALL_ID_PREFIX_BYTES)) },
  { name: 'divert check: a 200 OK of a call', run: (n: number) => loop(n, () => isReplyWithCallIdPrefix(ok, CALL_ID_PREFIX_BYTES)) },
  { name: 'divert check: a keepalive reply', run: (n: number) => loop(n, () => isReplyWithCallIdPrefix(keepalive, CALL_ID_PREFIX_BYTES)) },
];

function timed(run: (n: number) => number, n: number): number {
  const c0 = process.cpuUsage();
  const sink = run(n);
  const cpu = process.cpuUsage(c0);
  if (sink === -1) console.log('');
  return ((cpu.user + cpu.system) * 1000) / n;
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const cond = conditions('n/a (timing loop)');
for (const c of cases) timed(c.run, Math.min(N, 200_000));
const ns = new Map<string, number[]>(cases.map((c) => [c.name, []]));
for (let r = 0; r < ROUNDS; r++) for (const c of r % 2 === 0 ? cases : [...cases].reverse()) ns.get(c.name)!.push(timed(c.run, N));
const rows = cases.map((c) => ({ name: c.name, nsPerDatagram: Number(median(ns.get(c.name)!).toFixed(1)), rounds: ns.get(c.name)!.map((x) => Number(x.toFixed(1))) }));
console.log(`keepalive diversion micro benchmark: ${cond.node}, ${cond.cpu} x${cond.cores}, load ${cond.loadavg1Start} -> ${loadavg1()}`);
console.log(`median of ${ROUNDS} rounds of ${N} datagrams per case, CPU (user + system) per datagram\n`);
for (const r of rows) console.log(`${r.name.padEnd(48)}${r.nsPerDatagram.toFixed(1).padStart(8)} ns`);
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const file = join(root, 'bench', 'results', quick ? 'divert-quick.tmp.json' : 'divert-latest.json');
writeFileSync(file, JSON.stringify({ benchmark: 'divert', conditions: { ...cond, loadavg1End: loadavg1() }, results: rows }, null, 2) + '\n');
console.log(`\nsaved ${file}`);
