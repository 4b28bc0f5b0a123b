// CPU per datagram of the flood guard (src/transport/flood-guard.ts), which the main thread runs on
// every datagram before sharding and parsing: the guard as siplb builds it (floodGuardFor with the
// default SIPLB_TRUSTED and two destinations), fed source addresses as dgram hands them over (a new
// string per datagram). A timing loop, one thread; each case is timed over several rounds, cases
// alternating, median reported.
//   node dist/bench/micro/flood.bench.js [--quick]
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nowMicros } from '../../src/shared/clock.js';
import { parseCidrList, type CidrList } from '../../src/shared/cidr.js';
import { floodGuardFor } from '../../src/transport/flood-setup.js';
import { conditions, loadavg1 } from './report.js';

const quick = process.argv.includes('--quick');
const N = quick ? 100_000 : 1_000_000;
const ROUNDS = quick ? 2 : 7;

interface Case {
  readonly name: string;
  /** Runs n datagrams; returns a number so the work stays observable. */
  readonly run: (n: number) => number;
}

const quiet = { warn: (): void => {} };
const settings = (limit: number) => ({ floodLimit: limit, floodWindow: 1000, floodBlock: 60, trusted: parseCidrList('127.0.0.0/8,::1') as CidrList });
const make = (limit: number) => floodGuardFor(settings(limit), ['10.0.1.10', '10.0.1.11'], quiet)!.guard;

/**
 * Distinct string objects with the same text, flat as dgram's RemoteInfo.address is (made in C++,
 * never interned): the guard hashes and compares a new string on every datagram.
 */
function copies(text: string, count = 4096): string[] {
  return Array.from({ length: count }, () => Buffer.from(text, 'latin1').toString('latin1'));
}

/** `count` distinct IPv4 texts, flat. */
function distinct(count: number, offset: number): string[] {
  return Array.from({ length: count }, (_, i) => {
    const k = (i + offset) >>> 0;
    return Buffer.from(`${(k >>> 24) | 1}.${(k >>> 16) & 255}.${(k >>> 8) & 255}.${k & 255}`, 'latin1').toString('latin1');
  });
}

function cases(): Case[] {
  const one = make(1e7);
  const blocked = make(10);
  const many = make(1e7);
  const spoofed = make(1000);
  const v6 = make(1e7);
  const trusted = make(1e7);
  const src = copies('192.0.2.1');
  const bad = copies('203.0.113.9');
  const lo = copies('127.0.0.1');
  const six = copies('2001:db8:85a3::8a2e:370:7334');
  const thousand = Array.from({ length: 4 }, () => distinct(1024, 1 << 20)).flat();
  // a spoofed-source flood: every datagram from an address not seen for a long time (the table
  // holds 65,536; the pool is larger, so every one is an insert, an exemption check and, once the
  // table is full, an eviction)
  const spoof = distinct(1 << 18, 1 << 24);
  const mask = 4095;
  let t = 0;
  let k = 0;
  // the blocked source: over its limit once, then every datagram below is dropped
  for (let i = 0; i < 20; i++) blocked.admit('203.0.113.9', 0);
  const loop = (n: number, f: (i: number) => boolean): number => {
    let s = 0;
    for (let i = 0; i < n; i++) s += f(i) ? 1 : 0;
    return s;
  };
  return [
    { name: 'baseline: an empty admit', run: (n) => loop(n, (i) => src[i & mask]!.length > 0) },
    { name: 'nowMicros() (the clock read, once per datagram anyway)', run: (n) => loop(n, () => (nowMicros() & 1) === 1) },
    { name: 'one source, under the limit', run: (n) => loop(n, (i) => one.admit(src[i & mask]!, (t += 0.001))) },
    { name: 'one source, blocked (dropped)', run: (n) => loop(n, (i) => blocked.admit(bad[i & mask]!, 1)) },
    { name: 'a trusted source (127.0.0.1, cached)', run: (n) => loop(n, (i) => trusted.admit(lo[i & mask]!, (t += 0.001))) },
    { name: '1,024 sources in turn', run: (n) => loop(n, (i) => many.admit(thousand[i & mask]!, (t += 0.001))) },
    { name: 'one IPv6 source', run: (n) => loop(n, (i) => v6.admit(six[i & mask]!, (t += 0.001))) },
    { name: 'a new source every datagram (spoofed flood)', run: (n) => loop(n, () => spoofed.admit(spoof[k++ & ((1 << 18) - 1)]!, (t += 0.001))) },
  ];
}

function timed(c: Case, n: number): number {
  const c0 = process.cpuUsage();
  const sink = c.run(n);
  const cpu = process.cpuUsage(c0);
  if (sink === -1) console.log('');
  return ((cpu.user + cpu.system) * 1000) / n; // ns per datagram
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function main(): void {
  const cond = conditions('n/a (timing loop)');
  const all = cases();
  for (const c of all) timed(c, Math.min(N, 200_000)); // warm-up
  const ns = new Map<string, number[]>(all.map((c) => [c.name, []]));
  for (let r = 0; r < ROUNDS; r++) for (const c of r % 2 === 0 ? all : [...all].reverse()) ns.get(c.name)!.push(timed(c, N));
  const rows = all.map((c) => ({ name: c.name, n: N * ROUNDS, nsPerDatagram: Number(median(ns.get(c.name)!).toFixed(1)), rounds: ns.get(c.name)!.map((x) => Number(x.toFixed(1))) }));
  console.log(`flood guard micro benchmark: ${cond.node}, ${cond.cpu} x${cond.cores}, load ${cond.loadavg1Start} -> ${loadavg1()}`);
  console.log(`median of ${ROUNDS} rounds of ${N} datagrams per case, CPU (user + system) per datagram\n`);
  console.log(`${'case'.padEnd(52)}${'ns'.padStart(8)}`);
  for (const r of rows) console.log(`${r.name.padEnd(52)}${r.nsPerDatagram.toFixed(1).padStart(8)}`);
  const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
  const file = join(root, 'bench', 'results', quick ? 'flood-quick.tmp.json' : 'flood-latest.json');
  writeFileSync(file, JSON.stringify({ benchmark: 'flood', conditions: { ...cond, loadavg1End: loadavg1() }, results: rows }, null, 2) + '\n');
  console.log(`\nsaved ${file}`);
}

main();
