// Parser micro benchmarks: siplb's wasm parser against the JavaScript SIP parsers (peers.ts), on
// the messages in messages.ts, parse-only and parse+read. Run with `npm run bench:parser`
// (about two minutes) or `npm run bench:parser -- --quick` (a few seconds, smoke test only).
//
// Every contender is called through the same closure, `sink = adapter(buf)`; benchmark.js cannot
// inline a closure's body, so each op is one real call and the baseline (an empty adapter) shows
// what the call and the harness loop cost on their own.
import Benchmark from 'benchmark';
import { messages, type BenchMessage } from './messages.js';
import { checkRead, peers, type Adapter, type Peer } from './peers.js';
import { conditions, header, loadavg1, save, table, type Row, type Settings, type Variant } from './report.js';
import { siplbPeer } from './siplb-peer.js';

const quick = process.argv.includes('--quick');
// 4 messages x 7 cases x (maxTime + warm-up and calibration) stays well under 3 minutes.
const settings: Settings = quick
  ? { quick, warmMs: 5, minTime: 0.005, maxTime: 0.05, minSamples: 2 }
  : { quick, warmMs: 500, minTime: 0.1, maxTime: 3, minSamples: 10 };

let sink: unknown;
const baseline: Adapter = () => undefined;

/**
 * Runs an adapter for a while before it is timed, so the first samples are not taken while V8 is
 * still tiering it up; benchmark.js keeps every sample after its calibration cycles.
 */
function warm(adapter: Adapter, buf: Buffer): void {
  const end = performance.now() + settings.warmMs;
  while (performance.now() < end) {
    for (let i = 0; i < 100; i++) sink = adapter(buf);
  }
}

interface Case {
  readonly contender: string;
  readonly variant: Variant;
  readonly jsPeer: boolean;
  readonly adapter: Adapter;
}

/** The cases for one peer, or the reason it cannot be timed on this message. */
function peerCases(peer: Peer, jsPeer: boolean, msg: BenchMessage): Case[] | string {
  const failure = checkRead(peer.read, msg);
  if (failure !== undefined) return failure;
  try {
    peer.parse(msg.buf);
  } catch (err) {
    return `parse throws ${(err as Error).message}`;
  }
  return [
    { contender: peer.name, variant: 'parse', jsPeer, adapter: peer.parse },
    { contender: peer.name, variant: 'parse+read', jsPeer, adapter: peer.read },
  ];
}

function runMessage(msg: BenchMessage): Row[] {
  const bytes = msg.buf.length;
  const base = { message: msg.name, bytes };
  const rows: Row[] = [];
  const cases: Case[] = [{ contender: 'baseline', variant: 'baseline', jsPeer: false, adapter: baseline }];
  const contenders: [Peer, boolean][] = [[siplbPeer, false], ...peers.map((p): [Peer, boolean] => [p, true])];
  for (const [peer, jsPeer] of contenders) {
    const got = peerCases(peer, jsPeer, msg);
    if (typeof got === 'string') {
      for (const variant of ['parse', 'parse+read'] as const) {
        rows.push({ ...base, contender: peer.name, variant, jsPeer, skipped: got });
      }
      console.error(`  ${peer.name}: n/a on ${msg.name} (${got})`);
    } else {
      cases.push(...got);
    }
  }

  const suite = new Benchmark.Suite(msg.name);
  for (const c of cases) {
    const buf = msg.buf;
    const adapter = c.adapter;
    suite.add(c.variant === 'baseline' ? 'baseline (empty call)' : `${c.contender} ${c.variant}`, () => { sink = adapter(buf); }, {
      minTime: settings.minTime,
      maxTime: settings.maxTime,
      minSamples: settings.minSamples,
    });
  }
  suite.on('cycle', (event: Benchmark.Event) => console.error(`  ${(event.target as unknown as Benchmark).toString()}`));
  suite.on('error', (event: Benchmark.Event) => {
    throw (event.target as unknown as Benchmark).error;
  });
  console.error(`${msg.name}: ${msg.description}, ${bytes} bytes`);
  for (const c of cases) warm(c.adapter, msg.buf);
  suite.run({ async: false });

  const timed = suite.map((b: Benchmark) => b) as Benchmark[];
  cases.forEach((c, i) => {
    const b = timed[i];
    if (b === undefined) return;
    rows.push({ ...base, contender: c.contender, variant: c.variant, jsPeer: c.jsPeer, hz: b.hz, rme: b.stats.rme, samples: b.stats.sample.length });
  });
  return rows;
}

const ORDER: Record<Variant, number> = { baseline: 0, parse: 1, 'parse+read': 2 };
const RANK = ['baseline', siplbPeer.name, ...peers.map((p) => p.name)];

function main(): void {
  const started = Date.now();
  const start = conditions(Benchmark.version);
  const rows: Row[] = [];
  for (const msg of messages) {
    const msgRows = runMessage(msg);
    // Table order: baseline, then parse-only, then parse+read; siplb, sip, jssip within a variant.
    const rank = (r: Row): number => RANK.indexOf(r.contender);
    rows.push(...msgRows.sort((a, b) => ORDER[a.variant] - ORDER[b.variant] || rank(a) - rank(b)));
  }
  void sink;
  const cond = { ...start, loadavg1End: loadavg1() };
  console.log(header(cond, settings));
  console.log();
  console.log(table(rows));
  const files = save(cond, settings, rows);
  console.log();
  console.log(`saved ${files.join(', ')} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
}

main();
