// The SIPp benchmark report (issues 4 and 9) on synthetic results: medians, ratios to Kamailio, target
// verdicts both ways, the tables, and an SVG that a browser will accept. No SIPp or Kamailio here.
import { describe, expect, it } from 'vitest';
import { markdownReport, median, summarize, targets, terminalTable, type TargetResult } from '../../../bench/sipp/report.js';
import { chart, esc } from '../../../bench/sipp/svg.js';
import type { BenchResults, Contender, FixedRateResult } from '../../../bench/sipp/types.js';

const contenders: Contender[] = [
  { id: 'kamailio-stateful', name: 'kamailio', mode: 'stateful' },
  { id: 'kamailio-stateless', name: 'kamailio', mode: 'stateless' },
  { id: 'siplb-stateful-w0', name: 'siplb', mode: 'stateful', workers: 0 },
  { id: 'siplb-stateful-w2', name: 'siplb', mode: 'stateful', workers: 2 },
];

/** CPU µs/call per (contender, rate) for rounds 0 and 1; medians are the means of the two. */
const CPU: Record<string, Record<number, [number, number]>> = {
  'kamailio-stateful': { 1000: [190, 210], 3000: [180, 220] }, // medians 200, 200
  'kamailio-stateless': { 1000: [100, 100], 3000: [90, 110] }, // medians 100, 100
  'siplb-stateful-w0': { 1000: [140, 160], 3000: [170, 190] }, // 150 (0.75x), 180 (0.9x)
  'siplb-stateful-w2': { 1000: [150, 170], 3000: [150, 170] }, // 160 (0.8x), 160 (0.8x)
};

function fixed(contender: string, rate: number, round: number): FixedRateResult {
  const siplb = contender.startsWith('siplb');
  const cpu = CPU[contender]?.[rate]?.[round] ?? 0;
  return {
    contender, rate, round, calls: 5000, completed: 5000 - round, failed: round, retransmissions: 2, rcvbufErrors: round * 3,
    cpuSeconds: (cpu * 5000) / 1e6, cpuMicrosPerCall: cpu, sippCpuSeconds: 1, rttP50Ms: 1 + round, rttP99Ms: 10 + round * 2,
    proxyP50Us: siplb ? 20 + round : null, proxyP99Us: siplb ? (contender.endsWith('w0') ? 200 + round * 20 : 300) : null,
    proxyP999Us: siplb ? 900 : null, seconds: 5,
  };
}

function results(): BenchResults {
  return {
    conditions: {
      date: '2026-12-01T10:00:00.000Z', commit: 'abc1234', node: 'v20.20.2', cpuModel: 'AMD EPYC <test> & "co"', cores: 2,
      kernel: '6.18.44', sipp: '3.7.3', kamailio: '5.8.4', rates: [1000, 3000], calls: 5000, rounds: 2, loadAverageStart: 0.5, loadAverageEnd: 1.5,
    },
    contenders,
    fixed: [0, 1].flatMap((round) => [1000, 3000].flatMap((rate) => contenders.map((c) => fixed(c.id, rate, round)))),
    steps: [
      { contender: 'kamailio-stateful', maxCleanRate: 2000, limitedBy: 'proxy', steps: [{ rate: 2000, completed: 1, failed: 0, proxyCores: 0.9, sippCores: 0.5 }] },
      { contender: 'siplb-stateful-w0', maxCleanRate: 2200, limitedBy: 'proxy', steps: [] },
      { contender: 'siplb-stateful-w2', maxCleanRate: 2600, limitedBy: 'sipp', steps: [] },
    ],
    strict: [
      { contender: 'siplb-stateful-w0', rate: 4000, calls: 10000, completed: 10000, failed: 0 },
      { contender: 'kamailio-stateful', rate: 4000, calls: 10000, completed: 9990, failed: 10 },
    ],
  };
}

const verdicts = (ts: readonly TargetResult[], prefix: string): string[] => ts.filter((t) => t.target.startsWith(prefix)).map((t) => `${t.config}: ${t.verdict}`);

describe('SIPp report', () => {
  it('takes medians of CPU and latency and sums the counters over rounds', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, null, 2, 3])).toBe(2.5);
    expect(median([null, undefined, Number.NaN])).toBeNull();
    const s = summarize(results()).find((x) => x.contender.id === 'siplb-stateful-w0' && x.rate === 3000);
    expect(s).toMatchObject({ rounds: 2, cpuMicrosPerCall: 180, failed: 1, completed: 9999, retransmissions: 4, rcvbufErrors: 3 });
    expect(s).toMatchObject({ rttP50Ms: 1.5, rttP99Ms: 11, proxyP50Us: 20.5, proxyP99Us: 210, proxyP999Us: 900, kamailioCpuMicrosPerCall: 200 });
    expect(s?.ratioToKamailio).toBeCloseTo(0.9);
  });

  it('divides by Kamailio in the same mode and rate, null when there is none', () => {
    const r = results();
    const ratio = (id: string, rate: number): number | null | undefined => summarize(r).find((x) => x.contender.id === id && x.rate === rate)?.ratioToKamailio;
    expect(ratio('siplb-stateful-w0', 1000)).toBeCloseTo(0.75);
    expect(ratio('kamailio-stateless', 3000)).toBe(1);
    const noKam = { ...r, fixed: r.fixed.filter((f) => f.contender !== 'kamailio-stateful' || f.rate !== 3000) };
    expect(summarize(noKam).find((x) => x.contender.id === 'siplb-stateful-w2' && x.rate === 3000)?.ratioToKamailio).toBeNull();
    expect(() => summarize({ ...r, fixed: [fixed('nobody', 1000, 0)] })).toThrow(/unknown contender "nobody"/);
  });

  it('evaluates the targets for the default and the best config', () => {
    const ts = targets(results());
    // (a) at most 1.0x: the default is at 0.75x and 0.90x, w2 at 0.80x at both rates (the best);
    // the stretch goal (0.8x) is met by w2 only
    expect(verdicts(ts, '(a)')).toEqual(['default siplb-stateful-w0: met', 'best siplb-stateful-w2: met']);
    expect(ts.find((t) => t.target.startsWith('(a)'))?.detail).toBe('1000/s 0.75x (150 vs 200 µs, failed calls 1); 3000/s 0.90x (180 vs 200 µs, failed calls 1); stretch 0.8x not met');
    expect(ts.find((t) => t.config === 'best siplb-stateful-w2' && t.target.startsWith('(a)'))?.detail).toMatch(/stretch 0\.8x met$/);
    expect(verdicts(ts, '(b)')).toEqual(['no siplb contender: not measured']);
    // no --sustained search and no run at 2,000 calls/s in these results
    expect(verdicts(ts, '(c)')).toEqual(['default = best siplb-stateful-w0: not measured']);
    expect(verdicts(ts, '(d)')).toEqual(['default siplb-stateful-w0: not measured']);
    // (e): medians of 200 and 220 µs at 1000/s: 210 < 250.
    expect(verdicts(ts, '(e)')).toEqual(['default siplb-stateful-w0: met']);
    expect(ts.find((t) => t.target.startsWith('(e)'))?.detail).toBe('p99 210 µs at 1000/s');
    expect(verdicts(ts, '(f)')).toEqual(['default = best siplb-stateful-w0: met']);
  });

  it('fails (a) past 1.0x Kamailio', () => {
    const r = results();
    const heavy = { ...r, fixed: r.fixed.map((f) => (f.contender.startsWith('siplb') && f.rate === 3000 ? { ...f, cpuMicrosPerCall: 220 } : f)) };
    expect(verdicts(targets(heavy), '(a)')).toEqual(['default = best siplb-stateful-w0: not met']);
  });

  it('judges (c) on the sustained search and (d) on memory at 2,000 calls/s', () => {
    const r = results();
    const step = (contender: string, rate: number, failed: number, mem?: Partial<FixedRateResult>): FixedRateResult => ({ ...fixed(contender, rate, 0), failed, completed: 5000 - failed, ...mem });
    const search = (contender: string, maxCleanRate: number, steps: FixedRateResult[]) => ({ contender, maxCleanRate, limitedBy: 'proxy' as const, steps });
    const mem = { rssEndMiB: 150, heapEndMiB: 60, rssAfterMiB: 95, heapAfterMiB: 12, afterSeconds: 40 };
    const sustained = [
      search('kamailio-stateful', 3000, [step('kamailio-stateful', 2000, 0), step('kamailio-stateful', 3000, 0), step('kamailio-stateful', 3500, 40)]),
      search('siplb-stateful-w0', 3500, [step('siplb-stateful-w0', 2000, 0, mem), step('siplb-stateful-w0', 3500, 0), step('siplb-stateful-w0', 4000, 9)]),
    ];
    const withSearch = (s: typeof sustained): BenchResults => ({ ...r, fixed: s.flatMap((x) => x.steps), sustained: s, conditions: { ...r.conditions, seconds: 60 } });
    const ts = targets(withSearch(sustained));
    expect(verdicts(ts, '(c)')).toEqual(['default = best siplb-stateful-w0: met']); // w2 was not searched
    expect(ts.find((t) => t.target.startsWith('(c)') && t.config.includes('w0'))?.detail).toBe(
      '3500 vs 3000 calls/s for 60 s = 1.17x (siplb limited by proxy, Kamailio by proxy); stretch 1.5x not met',
    );
    expect(verdicts(ts, '(d)')).toEqual(['default siplb-stateful-w0: met']);
    expect(ts.find((t) => t.target.startsWith('(d)'))?.detail).toBe('RSS 150 MiB when the load ended (heap 60), 95 MiB 40 s later (heap 12)');
    // memory over 200 MiB, or not back under 120 MiB, or not read after the load
    const swap = (m: Partial<FixedRateResult>): typeof sustained => sustained.map((x) => ({ ...x, steps: x.steps.map((f) => (f.contender === 'siplb-stateful-w0' && f.rate === 2000 ? { ...f, ...m } : f)) }));
    expect(verdicts(targets(withSearch(swap({ rssEndMiB: 230 }))), '(d)')).toEqual(['default siplb-stateful-w0: not met']);
    expect(verdicts(targets(withSearch(swap({ rssAfterMiB: 130 }))), '(d)')).toEqual(['default siplb-stateful-w0: not met']);
    expect(verdicts(targets(withSearch(swap({ rssAfterMiB: null }))), '(d)')).toEqual(['default siplb-stateful-w0: not measured']);
    // siplb below Kamailio's sustained rate
    const low = sustained.map((x) => (x.contender === 'siplb-stateful-w0' ? { ...x, maxCleanRate: 2500 } : x));
    expect(verdicts(targets(withSearch(low)), '(c)')).toEqual(['default = best siplb-stateful-w0: not met']);
  });

  it('reports unmet and unmeasured targets', () => {
    const r = results();
    const slow = { ...r, fixed: r.fixed.map((f) => (f.contender === 'siplb-stateful-w0' ? { ...f, proxyP99Us: 400 } : f)), strict: [{ ...r.strict[0]!, failed: 3, completed: 9997 }] };
    expect(verdicts(targets(slow), '(e)')).toEqual(['default siplb-stateful-w0: not met']);
    expect(verdicts(targets(slow), '(f)')).toEqual(['default = best siplb-stateful-w0: not met']);
    const bare = { ...r, fixed: [], steps: [], strict: [] };
    expect(targets(bare).map((t) => t.verdict)).toEqual(Array(targets(bare).length).fill('not measured'));
  });

  it('judges (g) overload on the default config: kept 90% of R under 1.5R and recovered', () => {
    const load = (rate: number, seconds: number, completed: number, failed: number) => ({ rate, seconds, calls: rate * seconds, completed, failed, retransmissions: 0 });
    const run = (completed: number, b2Failed: number) => ({
      contender: 'siplb-stateful-w0', R: 1000, A: { ...load(1500, 6, completed, 9000 - completed), completedPerSecond: completed / 6 },
      B1: load(800, 5, 4000, 0), B2: load(800, 5, 4000 - b2Failed, b2Failed), shed: 9000 - completed, rcvbufErrors: 0, cpuSeconds: 5, sippCpuSeconds: 1,
      keptRate: completed / 6 >= 900, recovered: b2Failed === 0,
    });
    const r = results();
    expect(verdicts(targets(r), '(g)')).toEqual(['default siplb-stateful-w0: not measured']);
    expect(verdicts(targets({ ...r, overload: [run(5700, 0)] }), '(g)')).toEqual(['default siplb-stateful-w0: met']);
    expect(targets({ ...r, overload: [run(5700, 0)] }).find((t) => t.target.startsWith('(g)'))?.detail).toBe(
      'R 1000/s: 950/s completed at 1500/s (0.95x of R), 3300 shed, 0 retransmissions; at 0.8R after 5 s: 0 failed',
    );
    expect(verdicts(targets({ ...r, overload: [run(5000, 0)] }), '(g)')).toEqual(['default siplb-stateful-w0: not met']);
    expect(verdicts(targets({ ...r, overload: [run(5700, 3)] }), '(g)')).toEqual(['default siplb-stateful-w0: not met']);
  });

  it('prints the conditions and one row per contender and rate', () => {
    const out = terminalTable(results());
    for (const s of ['commit abc1234', 'AMD EPYC', '2 cores', 'SIPp 3.7.3', 'Kamailio 5.8.4', 'load average 0.5 at start, 1.5 at end']) expect(out).toContain(s);
    expect(out).toMatch(/siplb-stateful-w0\s+stateful\s+0\s+1000\/s\s+150\s+0\.75x\s+1\s+0\s+1\.50\/11\s+20\.5\/210\/900\s+-\s+-\s+-\s+4\s+3/);
    expect(out).toMatch(/kamailio-stateful\s+stateful\s+-\s+3000\/s\s+200\s+1\.00x\s+1\s+0\s+1\.50\/11\s+-\s+-\s+-\s+-\s+4\s+3/);
    expect(out).toMatch(/siplb-stateful-w2\s+stateful\s+2\s+2600\/s\s+sipp\s+1\.30x/);
    expect(out).toMatch(/kamailio-stateful\s+stateful\s+-\s+4000\/s\s+10000\s+9990\s+10/);
    expect(out).not.toMatch(/NaN|undefined|Infinity/);
  });

  it('shows the steady state: GC share and memory at the end and after', () => {
    const r = results();
    const steady = { ...r, fixed: r.fixed.map((f) => (f.contender === 'siplb-stateful-w0' ? { ...f, gcShare: 0.012, rssEndMiB: 150, heapEndMiB: 60, rssAfterMiB: f.round === 0 ? 90 : null, heapAfterMiB: f.round === 0 ? 11 : null, afterSeconds: 40 } : f)) };
    const out = terminalTable(steady);
    expect(out).toMatch(/siplb-stateful-w0\s+stateful\s+0\s+1000\/s\s+150\s+0\.75x\s+1\s+0\s+1\.50\/11\s+20\.5\/210\/900\s+1\.2%\s+150\/90\s+60\/11\s+4\s+3/);
  });

  it('writes markdown tables with the chart link and the targets', () => {
    const md = markdownReport(results(), 'bench/results/sipp-latest.svg');
    expect(md).toContain('](bench/results/sipp-latest.svg)');
    expect(md).toContain('| siplb-stateful-w0 | stateful | 0 | 1000/s | 150 | 0.75x | 1 | 0 | 1.50/11 | 20.5/210/900 | - | - | - | 4 | 3 |');
    expect(md).toContain('| (e) default config p99 proxy latency < 250 µs at 1000/s | default siplb-stateful-w0 | met | p99 210 µs at 1000/s |');
    expect(md).not.toMatch(/NaN|undefined|Infinity/);
  });
});

describe('SIPp chart', () => {
  /** Every tag closes in order: what an XML parser would check first. */
  function balanced(svg: string): boolean {
    const stack: string[] = [];
    for (const [, close, name, self] of svg.matchAll(/<(\/?)([a-zA-Z]+)[^>]*?(\/?)>/g)) {
      if (self === '/') continue;
      if (close === '') stack.push(name ?? '');
      else if (stack.pop() !== name) return false;
    }
    return stack.length === 0;
  }
  const count = (s: string, re: RegExp): number => s.match(re)?.length ?? 0;

  it('is one well-formed, self-contained SVG naming every contender', () => {
    const svg = chart(results());
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.endsWith('</svg>')).toBe(true);
    expect(balanced(svg)).toBe(true);
    for (const tag of ['text', 'g']) expect(count(svg, new RegExp(`<${tag}[ >]`, 'g'))).toBe(count(svg, new RegExp(`</${tag}>`, 'g')));
    expect(count(svg, /<rect /g)).toBe(count(svg, /<rect [^>]*\/>/g) + count(svg, /<\/rect>/g));
    for (const c of contenders) expect(svg).toContain(c.id);
    expect(svg).not.toMatch(/NaN|undefined|Infinity|<script|href=/);
    // The CPU model carries <, & and quotes: escaped, never raw.
    expect(svg).toContain('AMD EPYC &#60;test&#62; &#38; &#34;co&#34;');
    expect(count(svg, /&(?!#\d+;)/g)).toBe(0);
    // Eight CPU bars, three step bars and the four legend swatches, plus the background.
    expect(count(svg, /<rect /g)).toBe(1 + 8 + 3 + 4);
    expect(svg).toContain('2600+');
  });

  it('survives a run with nothing measured', () => {
    const svg = chart({ ...results(), fixed: [], steps: [], strict: [] });
    expect(balanced(svg)).toBe(true);
    expect(svg).toContain('not measured');
    expect(svg).not.toMatch(/NaN|undefined|Infinity/);
    expect(esc(`a<b>&"'`)).toBe('a&#60;b&#62;&#38;&#34;&#39;');
  });
});
