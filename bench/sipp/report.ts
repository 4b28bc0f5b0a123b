// Tables and target verdicts for the SIPp benchmark (issues 4 and 9), siplb against Kamailio.
// STYLE.md habit 14: every table goes out with its conditions; run.ts saves the JSON they are
// computed from.
import type { BenchResults, Conditions, Contender, FixedRateResult, Mode } from './types.js';

/** The targets (issue 9 at steady state; strict and overload from issue 4), in one place so the
 *  verdicts and the prose cannot drift apart. A stretch goal is reported beside its target. */
export const TARGETS = {
  rates: [1000, 3000],
  statefulCpuRatio: 1.0,
  statefulCpuStretch: 0.8,
  statelessCpuRatio: 1.3,
  statelessCpuStretch: 1.0,
  sustainedRatio: 1.0,
  sustainedStretch: 1.5,
  memoryRate: 2000,
  rssEndMiB: 200,
  rssAfterMiB: 120,
  rssAfterSeconds: 40,
  strictRate: 4000,
  p99Rate: 1000,
  p99Us: 250,
} as const;

export interface Summary {
  readonly contender: Contender;
  readonly rate: number;
  /** CPU and latencies are medians over the rounds (robust to one noisy round); counters are sums. */
  readonly rounds: number;
  readonly cpuMicrosPerCall: number | null;
  readonly completed: number;
  readonly failed: number;
  /** siplb's overload 503s (0 for Kamailio and for results from before load shedding). */
  readonly shed: number;
  readonly retransmissions: number;
  readonly rcvbufErrors: number;
  readonly rttP50Ms: number | null;
  readonly rttP99Ms: number | null;
  readonly proxyP50Us: number | null;
  readonly proxyP99Us: number | null;
  readonly proxyP999Us: number | null;
  /** Steady state (medians over rounds; null for whole-run results): GC share, memory in MiB. */
  readonly gcShare: number | null;
  readonly rssEndMiB: number | null;
  readonly heapEndMiB: number | null;
  readonly rssAfterMiB: number | null;
  readonly heapAfterMiB: number | null;
  readonly afterSeconds: number | null;
  /** The lowest Kamailio median in the same mode at the same rate: the strictest reference. */
  readonly kamailioCpuMicrosPerCall: number | null;
  readonly ratioToKamailio: number | null;
}

export type Verdict = 'met' | 'not met' | 'not measured';

export interface TargetResult {
  readonly target: string;
  /** Which siplb contender: the default (SIPLB_WORKERS=0) and/or the best one. */
  readonly config: string;
  readonly verdict: Verdict;
  readonly detail: string;
}

/** Median of the finite values, null without any: JSON turns a zero-call run's Infinity into null. */
export function median(values: readonly (number | null | undefined)[]): number | null {
  const v = values.filter((x): x is number => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const mid = v.length >> 1;
  return v.length % 2 === 1 ? (v[mid] ?? 0) : ((v[mid - 1] ?? 0) + (v[mid] ?? 0)) / 2;
}

/** Three significant-ish digits; '-' for null or non-finite, so no "NaN" reaches a table. */
export function fmtNum(x: number | null | undefined): string {
  if (x == null || !Number.isFinite(x)) return '-';
  const a = Math.abs(x);
  return a >= 100 || Number.isInteger(x) ? Math.round(x).toString() : x.toFixed(a >= 10 ? 1 : 2);
}

const fmtRatio = (x: number | null): string => (x === null ? '-' : `${x.toFixed(2)}x`);
const sum = (rs: readonly FixedRateResult[], f: (r: FixedRateResult) => number): number =>
  rs.reduce((a, r) => a + (Number.isFinite(f(r)) ? f(r) : 0), 0);

function contender(r: BenchResults, id: string): Contender {
  const c = r.contenders.find((x) => x.id === id);
  // A result without its contender is a driver bug; failing loudly beats a silently missing row.
  if (c === undefined) throw new Error(`SIPp results name an unknown contender "${id}"`);
  return c;
}

const MODES: readonly Mode[] = ['stateful', 'stateless'];
const kamFirst = (c: Contender): number => (c.name === 'kamailio' ? 0 : 1);

/** One row per (contender, rate), ordered by rate, then mode, then the contenders' order. */
export function summarize(r: BenchResults): Summary[] {
  const groups = new Map<Contender, Map<number, FixedRateResult[]>>();
  for (const f of r.fixed) {
    const c = contender(r, f.contender);
    const byRate = groups.get(c) ?? new Map<number, FixedRateResult[]>();
    byRate.set(f.rate, [...(byRate.get(f.rate) ?? []), f]);
    groups.set(c, byRate);
  }
  const rows = r.contenders.flatMap((c) =>
    [...(groups.get(c) ?? new Map<number, FixedRateResult[]>())].map(([rate, rs]) => ({
      contender: c, rate, rounds: rs.length,
      cpuMicrosPerCall: median(rs.map((x) => x.cpuMicrosPerCall)),
      completed: sum(rs, (x) => x.completed), failed: sum(rs, (x) => x.failed), shed: sum(rs, (x) => x.shed ?? 0),
      retransmissions: sum(rs, (x) => x.retransmissions), rcvbufErrors: sum(rs, (x) => x.rcvbufErrors),
      rttP50Ms: median(rs.map((x) => x.rttP50Ms)), rttP99Ms: median(rs.map((x) => x.rttP99Ms)),
      proxyP50Us: median(rs.map((x) => x.proxyP50Us)), proxyP99Us: median(rs.map((x) => x.proxyP99Us)),
      proxyP999Us: median(rs.map((x) => x.proxyP999Us)),
      gcShare: median(rs.map((x) => x.gcShare)), rssEndMiB: median(rs.map((x) => x.rssEndMiB)), heapEndMiB: median(rs.map((x) => x.heapEndMiB)),
      rssAfterMiB: median(rs.map((x) => x.rssAfterMiB)), heapAfterMiB: median(rs.map((x) => x.heapAfterMiB)),
      afterSeconds: median(rs.map((x) => (x.rssAfterMiB == null ? null : x.afterSeconds))),
    })),
  );
  return rows
    .map((s) => {
      const ks = rows.filter((k) => k.contender.name === 'kamailio' && k.contender.mode === s.contender.mode && k.rate === s.rate);
      const kam = ks.reduce<number | null>((a, k) => (k.cpuMicrosPerCall !== null && k.cpuMicrosPerCall > 0 && (a === null || k.cpuMicrosPerCall < a) ? k.cpuMicrosPerCall : a), null);
      const ratioToKamailio = kam === null || s.cpuMicrosPerCall === null ? null : s.cpuMicrosPerCall / kam;
      return { ...s, kamailioCpuMicrosPerCall: kam, ratioToKamailio };
    })
    // Kamailio first in each (rate, mode) group: the reference row above the rows divided by it.
    .sort((a, b) => a.rate - b.rate || MODES.indexOf(a.contender.mode) - MODES.indexOf(b.contender.mode) || kamFirst(a.contender) - kamFirst(b.contender));
}

/** Kamailio's highest zero-failure rate in a mode (the best Kamailio run), null without one. */
function kamailioMaxClean(r: BenchResults, mode: Mode): number | null {
  const rates = r.steps.filter((s) => { const c = contender(r, s.contender); return c.name === 'kamailio' && c.mode === mode && s.maxCleanRate > 0; });
  return rates.length === 0 ? null : Math.max(...rates.map((s) => s.maxCleanRate));
}

interface Measured { readonly verdict: Verdict; readonly detail: string; /** Lower is better; picks "best". */ readonly score: number }
const NOT_MEASURED: Measured = { verdict: 'not measured', detail: 'no run', score: Infinity };

/** Rows for the default config (SIPLB_WORKERS=0) and the best-scoring one, merged when they coincide. */
function evaluate(target: string, cs: readonly Contender[], measure: (c: Contender) => Measured): TargetResult[] {
  const scored = cs.map((c) => ({ c, m: measure(c) }));
  const best = scored.reduce<(typeof scored)[number] | undefined>((a, b) => (a === undefined || b.m.score < a.m.score ? b : a), undefined);
  if (best === undefined) return [{ target, config: 'no siplb contender', verdict: 'not measured', detail: '-' }];
  const def = scored.find((x) => (x.c.workers ?? 0) === 0);
  const row = (label: string, x: typeof best): TargetResult => ({ target, config: `${label} ${x.c.id}`, verdict: x.m.verdict, detail: x.m.detail });
  if (def === undefined) return [row('best (no default run)', best)];
  if (def === best) return [row(scored.length > 1 ? 'default = best' : 'default', def)];
  return [row('default', def), row('best', best)];
}

/** The targets, evaluated on the medians; see TARGETS. */
export function targets(r: BenchResults): TargetResult[] {
  const sums = summarize(r);
  const siplb = (mode: Mode): Contender[] => r.contenders.filter((c) => c.name === 'siplb' && c.mode === mode);
  const cpu = (limit: number, stretch: number) => (c: Contender): Measured => {
    const parts: string[] = [];
    let worst = 0;
    let missing = false;
    for (const rate of TARGETS.rates) {
      const s = sums.find((x) => x.contender === c && x.rate === rate);
      if (s?.ratioToKamailio == null) { missing = true; parts.push(`${rate}/s not measured`); continue; }
      worst = Math.max(worst, s.ratioToKamailio);
      const failed = s.failed > 0 ? `, failed calls ${s.failed}` : '';
      parts.push(`${rate}/s ${fmtRatio(s.ratioToKamailio)} (${fmtNum(s.cpuMicrosPerCall)} vs ${fmtNum(s.kamailioCpuMicrosPerCall)} µs${failed})`);
    }
    if (!missing) parts.push(`stretch ${stretch}x ${worst <= stretch ? 'met' : 'not met'}`);
    return { verdict: worst > limit ? 'not met' : missing ? 'not measured' : 'met', detail: parts.join('; '), score: missing ? Infinity : worst };
  };
  const kamSustained = Math.max(0, ...(r.sustained ?? []).filter((x) => contender(r, x.contender).name === 'kamailio' && contender(r, x.contender).mode === 'stateful').map((x) => x.maxCleanRate));
  const sustained = (c: Contender): Measured => {
    const s = r.sustained?.find((x) => x.contender === c.id);
    if (s === undefined || kamSustained === 0) return { ...NOT_MEASURED, detail: s === undefined ? 'no sustained search' : 'no clean Kamailio step' };
    const x = s.maxCleanRate / kamSustained;
    const kLimit = r.sustained?.find((t) => t.maxCleanRate === kamSustained && contender(r, t.contender).name === 'kamailio')?.limitedBy ?? '?';
    return {
      verdict: x >= TARGETS.sustainedRatio ? 'met' : 'not met',
      score: -x,
      detail: `${s.maxCleanRate} vs ${kamSustained} calls/s for ${r.conditions.seconds ?? '?'} s = ${fmtRatio(x)} (siplb limited by ${s.limitedBy}, Kamailio by ${kLimit}); stretch ${TARGETS.sustainedStretch}x ${x >= TARGETS.sustainedStretch ? 'met' : 'not met'}`,
    };
  };
  const memory = (c: Contender): Measured => {
    const s = sums.find((x) => x.contender === c && x.rate === TARGETS.memoryRate);
    if (s?.rssEndMiB == null) return NOT_MEASURED;
    const after = s.rssAfterMiB;
    const ok = s.rssEndMiB < TARGETS.rssEndMiB && after !== null && after < TARGETS.rssAfterMiB && (s.afterSeconds ?? 0) <= TARGETS.rssAfterSeconds;
    return {
      verdict: after === null ? 'not measured' : ok ? 'met' : 'not met',
      score: s.rssEndMiB,
      detail: `RSS ${fmtNum(s.rssEndMiB)} MiB when the load ended (heap ${fmtNum(s.heapEndMiB)}), ${after === null ? 'not read after' : `${fmtNum(after)} MiB ${fmtNum(s.afterSeconds)} s later (heap ${fmtNum(s.heapAfterMiB)})`}`,
    };
  };
  const strict = (c: Contender): Measured => {
    const s = r.strict.find((x) => x.contender === c.id && x.rate === TARGETS.strictRate);
    if (s === undefined) return NOT_MEASURED;
    const ok = s.failed === 0 && s.completed >= s.calls;
    return { verdict: ok ? 'met' : 'not met', score: s.failed + (s.calls - s.completed), detail: `${s.failed} failed, ${s.completed}/${s.calls} completed` };
  };
  const p99 = (c: Contender): Measured => {
    const v = sums.find((x) => x.contender === c && x.rate === TARGETS.p99Rate)?.proxyP99Us ?? null;
    if (v === null) return NOT_MEASURED;
    return { verdict: v < TARGETS.p99Us ? 'met' : 'not met', score: v, detail: `p99 ${fmtNum(v)} µs at ${TARGETS.p99Rate}/s` };
  };
  const overload = (c: Contender): Measured => {
    const o = r.overload?.find((x) => x.contender === c.id);
    if (o === undefined) return NOT_MEASURED;
    const ok = o.keptRate && o.recovered;
    return {
      verdict: ok ? 'met' : 'not met',
      score: ok ? 0 : 1,
      detail: `R ${o.R}/s: ${fmtNum(o.A.completedPerSecond)}/s completed at ${o.A.rate}/s (${fmtRatio(o.A.completedPerSecond / o.R)} of R), ${o.shed} shed, ${o.A.retransmissions} retransmissions; at 0.8R after 5 s: ${o.B2.failed} failed`,
    };
  };
  const rates = TARGETS.rates.join(' and ');
  // SIPLB_MODE=stateful and SIPLB_WORKERS=0 are the defaults: what a user gets untuned.
  const defaultStateful = siplb('stateful').filter((c) => (c.workers ?? 0) === 0);
  return [
    ...evaluate(`(a) stateful CPU/call ≤ ${TARGETS.statefulCpuRatio.toFixed(1)}x Kamailio at ${rates}/s, steady state`, siplb('stateful'), cpu(TARGETS.statefulCpuRatio, TARGETS.statefulCpuStretch)),
    ...evaluate(`(b) stateless CPU/call ≤ ${TARGETS.statelessCpuRatio}x Kamailio at ${rates}/s, steady state`, siplb('stateless'), cpu(TARGETS.statelessCpuRatio, TARGETS.statelessCpuStretch)),
    ...evaluate(`(c) stateful highest rate sustained with nothing failed or shed ≥ Kamailio's`, siplb('stateful'), sustained),
    ...evaluate(`(d) RSS at ${TARGETS.memoryRate}/s < ${TARGETS.rssEndMiB} MiB, < ${TARGETS.rssAfterMiB} MiB ${TARGETS.rssAfterSeconds} s after`, defaultStateful, memory),
    ...evaluate(`(e) default config p99 proxy latency < ${TARGETS.p99Us} µs at ${TARGETS.p99Rate}/s`, defaultStateful, p99),
    ...evaluate(`(f) strict SIPp: zero failed calls at ${TARGETS.strictRate}/s`, [...siplb('stateful'), ...siplb('stateless')], strict),
    ...evaluate('(g) overload: at 1.5R ≥ 0.9R completes, none fail 5 s after the load is back to 0.8R', defaultStateful, overload),
  ];
}

interface Table { readonly head: readonly string[]; readonly align: string; readonly rows: readonly (readonly string[])[] }

function tables(r: BenchResults): { fixed: Table; steps: Table; strict: Table; overload: Table; sustained: Table; targets: Table } {
  const workers = (c: Contender): string => (c.workers === undefined ? '-' : String(c.workers));
  const pair = (a: number | null, b: number | null): string => (a === null && b === null ? '-' : `${fmtNum(a)}/${fmtNum(b)}`);
  const pct = (x: number | null): string => (x === null ? '-' : `${(x * 100).toFixed(1)}%`);
  const fixed = summarize(r).map((s) => {
    const own = [s.proxyP50Us, s.proxyP99Us, s.proxyP999Us];
    return [s.contender.id, s.contender.mode, workers(s.contender), `${s.rate}/s`, fmtNum(s.cpuMicrosPerCall), fmtRatio(s.ratioToKamailio),
      String(s.failed), String(s.shed), `${fmtNum(s.rttP50Ms)}/${fmtNum(s.rttP99Ms)}`, own.every((x) => x === null) ? '-' : own.map(fmtNum).join('/'),
      pct(s.gcShare), pair(s.rssEndMiB, s.rssAfterMiB), pair(s.heapEndMiB, s.heapAfterMiB),
      String(s.retransmissions), String(s.rcvbufErrors)];
  });
  const kamSustained = (mode: Mode): number => Math.max(0, ...(r.sustained ?? []).filter((x) => contender(r, x.contender).name === 'kamailio' && contender(r, x.contender).mode === mode).map((x) => x.maxCleanRate));
  const sustained = (r.sustained ?? []).map((x) => {
    const c = contender(r, x.contender);
    const k = kamSustained(c.mode);
    const stepsText = x.steps.map((f) => `${f.rate}: ${f.failed + (f.shed ?? 0) === 0 ? 'clean' : `${f.failed} failed, ${f.shed ?? 0} shed`}`).join('; ');
    return [c.id, c.mode, workers(c), `${x.maxCleanRate}/s`, x.limitedBy, fmtRatio(k === 0 ? null : x.maxCleanRate / k), stepsText];
  });
  const steps = r.steps.map((s) => {
    const c = contender(r, s.contender);
    const k = kamailioMaxClean(r, c.mode);
    return [c.id, c.mode, workers(c), `${s.maxCleanRate}/s`, s.limitedBy, fmtRatio(k === null ? null : s.maxCleanRate / k)];
  });
  const strict = r.strict.map((s) => {
    const c = contender(r, s.contender);
    return [c.id, c.mode, workers(c), `${s.rate}/s`, String(s.calls), String(s.completed), String(s.failed)];
  });
  const yes = (ok: boolean): string => (ok ? 'yes' : 'no');
  const load = (l: { completed: number; calls: number; failed: number }): string => `${l.completed}/${l.calls}, ${l.failed} failed`;
  const overload = (r.overload ?? []).map((o) => [contender(r, o.contender).id, `${o.R}/s`, `${o.A.rate}/s x ${o.A.seconds} s`, fmtNum(o.A.completedPerSecond), yes(o.keptRate),
    String(o.A.failed), String(o.shed), String(o.A.retransmissions), `${o.B1.rate}/s: ${load(o.B1)}`, load(o.B2), yes(o.recovered), String(o.rcvbufErrors),
    `${fmtNum(o.cpuSeconds)}/${fmtNum(o.sippCpuSeconds)}`]);
  return {
    fixed: {
      head: ['contender', 'mode', 'workers', 'rate', 'CPU µs/call', 'vs Kamailio', 'failed', 'shed', 'SIPp ms p50/p99', 'siplb µs p50/p99/p99.9', 'GC', 'RSS MiB end/after', 'heap MiB end/after', 'retrans', 'rcvbuf drops'],
      align: 'lllrrrrrrrrrrrr', rows: fixed,
    },
    sustained: { head: ['contender', 'mode', 'workers', 'highest clean rate', 'limited by', 'vs Kamailio', 'steps (calls/s)'], align: 'lllrlrl', rows: sustained },
    steps: { head: ['contender', 'mode', 'workers', 'max clean rate', 'limited by', 'vs Kamailio'], align: 'lllrlr', rows: steps },
    strict: { head: ['contender', 'mode', 'workers', 'rate', 'calls', 'completed', 'failed'], align: 'lllrrrr', rows: strict },
    overload: {
      head: ['contender', 'R', 'A: 1.5R', 'A completed/s', '≥ 0.9R', 'A failed', 'shed', 'A retrans', 'B1: 0.8R', 'B2: 0.8R', 'recovered', 'rcvbuf drops', 'CPU s proxy/SIPp A'],
      align: 'lrrrlrrrrrlrr', rows: overload,
    },
    targets: { head: ['target', 'config', 'verdict', 'measured'], align: 'llll', rows: targets(r).map((t) => [t.target, t.config, t.verdict, t.detail]) },
  };
}

function aligned(t: Table): string {
  const all = [t.head, ...t.rows];
  const width = t.head.map((_, i) => Math.max(...all.map((row) => (row[i] ?? '').length)));
  const pad = (cell: string, i: number): string => (t.align[i] === 'r' ? cell.padStart(width[i] ?? 0) : cell.padEnd(width[i] ?? 0));
  return all.map((row) => row.map(pad).join('  ').trimEnd()).join('\n');
}

function markdown(t: Table): string {
  const line = (row: readonly string[]): string => `| ${row.map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`;
  return [line(t.head), `|${t.head.map((_, i) => (t.align[i] === 'r' ? '--:' : '---')).join('|')}|`, ...t.rows.map(line)].join('\n');
}

export function header(c: Conditions): string {
  const steady = c.seconds === undefined ? `${c.calls} calls per run` : `${c.seconds} s per run, the first ${c.warmupSeconds ?? 0} s left out of CPU, latency and GC${c.tailSeconds ? `, siplb's memory read again ${c.tailSeconds} s after the load` : ''}`;
  return [
    `date ${c.date}, commit ${c.commit}`,
    `Node ${c.node}, Linux ${c.kernel}, CPU ${c.cpuModel}, ${c.cores} cores`,
    `SIPp ${c.sipp}, Kamailio ${c.kamailio}`,
    `rates ${c.rates.join(', ')} calls/s, ${steady}, ${c.rounds} A/B rounds (medians; counters summed over rounds)`,
    `1-min load average ${c.loadAverageStart} at start, ${c.loadAverageEnd} at end`,
  ].join('\n');
}

const OVERLOAD_TITLE = 'Overload: strict SIPp at 1.5x the highest clean rate R (A), then at 0.8R twice (B1, B2), one proxy throughout';

const SUSTAINED_TITLE = 'Sustained: the highest rate carried for a whole run with no failed and no shed call';

export function terminalTable(r: BenchResults): string {
  const t = tables(r);
  const parts = [`SIPp benchmark: siplb and Kamailio`, header(r.conditions), '', r.sustained ? 'Steady state at each step' : 'Fixed rates, steady state', aligned(t.fixed), ''];
  if (r.sustained) parts.push(SUSTAINED_TITLE, aligned(t.sustained), '');
  if (r.steps.length > 0) parts.push('Highest zero-failure rate (short step search)', aligned(t.steps), '');
  if (r.strict.length > 0) parts.push('Strict SIPp', aligned(t.strict), '');
  if ((r.overload ?? []).length > 0) parts.push(OVERLOAD_TITLE, aligned(t.overload), '');
  parts.push('Targets', aligned(t.targets), '');
  return parts.join('\n');
}

/** A section for BENCHMARKS.md (headings from ###); chartRelPath is relative to BENCHMARKS.md. */
export function markdownReport(r: BenchResults, chartRelPath: string): string {
  const t = tables(r);
  if (r.sustained) {
    const indented = header(r.conditions).split('\n').map((l) => `    ${l}`).join('\n');
    return [`Measured ${r.conditions.date} at commit ${r.conditions.commit}, with \`npm run bench:sipp -- --sustained\`:`, '', indented, '',
      `![Median CPU µs per call at each step and highest sustained rate, siplb and Kamailio](${chartRelPath})`, '',
      `#### ${SUSTAINED_TITLE}`, '', markdown(t.sustained), '', '#### Each step at steady state', '', markdown(t.fixed), '',
      '#### Targets', '', markdown(t.targets), ''].join('\n');
  }
  const indented = header(r.conditions).split('\n').map((l) => `    ${l}`).join('\n');
  return [`### Results`, '', `Measured ${r.conditions.date} at commit ${r.conditions.commit}, with \`npm run bench:sipp\`:`, '', indented, '',
    `![Median CPU µs per call at each rate and highest zero-failure rate, siplb and Kamailio](${chartRelPath})`, '',
    '#### Fixed rates, steady state', '', `CPU, SIPp response times, siplb latency, GC share and memory are medians over the rounds; failed calls, retransmissions, rcvbuf drops and shed calls (siplb's overload 503s) are summed. "vs Kamailio" divides by Kamailio in the same mode at the same rate. CPU, siplb's latency and GC cover the steady window; memory is read when the load ends and (siplb, round 1) again later.`, '', markdown(t.fixed), '',
    '#### Highest zero-failure rate', '', markdown(t.steps), '', '#### Strict SIPp', '', markdown(t.strict), '',
    '#### Overload', '', `${OVERLOAD_TITLE}.`, '', markdown(t.overload), '',
    '#### Targets', '', markdown(t.targets), ''].join('\n');
}
