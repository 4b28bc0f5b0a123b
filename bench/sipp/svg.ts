// The SIPp benchmark chart for BENCHMARKS.md, written by hand (the project takes no chart
// dependency). Self-contained: no fonts, scripts or links to fetch, so GitHub renders it from the
// repository as an image. Left panel: median CPU per call at each fixed rate; right panel: the
// highest zero-failure rate. Kamailio in oranges, siplb in blues, so the two sides read at a glance.
import { fmtNum, summarize } from './report.js';
import type { BenchResults, Contender } from './types.js';

const W = 900;
const H = 500;
/** Plot areas: below the title, subtitle and panel titles; above the axis titles and the legend. */
const TOP = 84;
const BOTTOM = 380;
/** Shades by workers order within a hue: siplb blue (stateful) and teal, Kamailio orange and amber. */
const COLORS: Record<Contender['name'], Record<Contender['mode'], readonly string[]>> = {
  siplb: { stateful: ['#08519c', '#3182bd', '#6baed6', '#9ecae1'], stateless: ['#00695c', '#26a69a', '#80cbc4', '#b2dfdb'] },
  kamailio: { stateful: ['#c2410c', '#f97316'], stateless: ['#d97706', '#fbbf24'] },
};

interface Box { readonly x: number; readonly w: number; readonly title: string; readonly yTitle: string; readonly xTitle: string }
interface Bar { readonly x: number; readonly w: number; readonly value: number; readonly label: string; readonly color: string; readonly tip: string }

/** XML-escapes text and attribute values: contender ids and CPU model strings come from outside. */
export function esc(s: string): string {
  return s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

/** Coordinates with one decimal; non-finite becomes 0 so "NaN" never reaches an attribute. */
const n = (x: number): string => (Number.isFinite(x) ? (Math.round(x * 10) / 10).toString() : '0');

const text = (x: number, y: number, s: string, attrs = ''): string => `<text x="${n(x)}" y="${n(y)}"${attrs}>${esc(s)}</text>`;

/** Tick step of 1, 2, 2.5 or 5 times a power of ten, at most 4 steps up to 15% above max (room for labels). */
export function axis(max: number): { top: number; step: number } {
  if (!(max > 0) || !Number.isFinite(max)) return { top: 1, step: 0.25 };
  const want = max * 1.15;
  const p = 10 ** Math.floor(Math.log10(want / 4));
  const step = ([1, 2, 2.5, 5, 10].find((k) => k * p >= want / 4) ?? 10) * p;
  return { top: Math.ceil(want / step - 1e-9) * step, step };
}

/** One colour per contender, from its name and mode's shades in the order the contenders come. */
function palette(cs: readonly Contender[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const c of cs) {
    const shades = COLORS[c.name][c.mode];
    const i = cs.filter((x) => x.name === c.name && x.mode === c.mode).indexOf(c);
    out.set(c.id, shades[i % shades.length] ?? '#888');
  }
  return out;
}

/** Stateful first, Kamailio first within a mode: each Kamailio bar stands next to the siplb bars it is compared with. */
const order = (cs: readonly Contender[]): Contender[] =>
  [...cs].sort((a, b) => (a.mode === b.mode ? 0 : a.mode === 'stateful' ? -1 : 1) || (a.name === b.name ? 0 : a.name === 'kamailio' ? -1 : 1));

function panel(box: Box, bars: readonly Bar[], xLabels: readonly (readonly [number, string])[]): string[] {
  const { top, step } = axis(Math.max(0, ...bars.map((b) => b.value)));
  const y = (v: number): number => BOTTOM - (v / top) * (BOTTOM - TOP);
  const out = ['<g>', text(box.x, TOP - 14, box.title, ' font-size="12" font-weight="bold"')];
  for (let v = 0; v <= top + step / 2; v += step) {
    out.push(`<line x1="${n(box.x)}" y1="${n(y(v))}" x2="${n(box.x + box.w)}" y2="${n(y(v))}" stroke="#e3e3e3"/>`);
    out.push(text(box.x - 5, y(v) + 4, fmtNum(v), ' text-anchor="end" fill="#555"'));
  }
  out.push(`<line x1="${n(box.x)}" y1="${BOTTOM}" x2="${n(box.x + box.w)}" y2="${BOTTOM}" stroke="#333"/>`);
  if (bars.length === 0) out.push(text(box.x + box.w / 2, (TOP + BOTTOM) / 2, 'not measured', ' text-anchor="middle" fill="#888"'));
  for (const b of bars) {
    const cx = b.x + b.w / 2;
    out.push(`<rect x="${n(b.x)}" y="${n(y(b.value))}" width="${n(b.w)}" height="${n(BOTTOM - y(b.value))}" fill="${b.color}"><title>${esc(b.tip)}</title></rect>`);
    // Narrow bars get their value turned upright so neighbours' labels do not overlap.
    out.push(b.w >= 28
      ? text(cx, y(b.value) - 4, b.label, ' text-anchor="middle" font-size="10"')
      : `<text transform="translate(${n(cx + 3)},${n(y(b.value) - 4)}) rotate(-90)" font-size="10">${esc(b.label)}</text>`);
  }
  for (const [x, label] of xLabels) out.push(text(x, BOTTOM + 16, label, ' text-anchor="middle"'));
  out.push(text(box.x + box.w / 2, BOTTOM + 36, box.xTitle, ' text-anchor="middle" fill="#333"'));
  out.push(`<text transform="translate(${n(box.x - 48)},${n((TOP + BOTTOM) / 2)}) rotate(-90)" text-anchor="middle" fill="#333">${esc(box.yTitle)}</text>`);
  out.push('</g>');
  return out;
}

/** A ~900x500 SVG of the run: CPU per call (left) and highest zero-failure rate (right). */
export function chart(r: BenchResults): string {
  const c = r.conditions;
  const contenders = order(r.contenders);
  const colors = palette(contenders);
  const color = (id: string): string => colors.get(id) ?? '#888';

  const sums = summarize(r).filter((s) => s.cpuMicrosPerCall !== null);
  const rates = [...new Set(sums.map((s) => s.rate))].sort((a, b) => a - b);
  // Same slot for a contender in every rate group, so its bars line up across groups.
  const slots = contenders.filter((k) => sums.some((s) => s.contender === k));
  const steady = c.warmupSeconds !== undefined && c.warmupSeconds > 0;
  const left: Box = { x: 80, w: 480, title: `CPU per call${steady ? ', steady state' : ''} (median of rounds)`, yTitle: 'CPU µs per call', xTitle: 'offered call rate (calls/s)' };
  const groupW = left.w / Math.max(1, rates.length);
  const barW = (groupW * 0.8) / Math.max(1, slots.length);
  const cpuBars = sums.map((s): Bar => ({
    x: left.x + rates.indexOf(s.rate) * groupW + groupW * 0.1 + slots.indexOf(s.contender) * barW + 1,
    w: Math.max(1, barW - 2),
    value: s.cpuMicrosPerCall ?? 0,
    label: fmtNum(s.cpuMicrosPerCall),
    color: color(s.contender.id),
    tip: `${s.contender.id} at ${s.rate}/s: ${fmtNum(s.cpuMicrosPerCall)} µs/call`,
  }));
  const rateLabels = rates.map((rate, i) => [left.x + (i + 0.5) * groupW, `${rate}/s`] as const);

  // --sustained results: the highest rate carried for a whole run; otherwise the short step search
  const searched = r.sustained ?? r.steps;
  const right: Box = r.sustained
    ? { x: 660, w: 220, title: `Highest rate carried ${c.seconds ?? '?'} s clean`, yTitle: 'calls/s', xTitle: 'sustained search, per contender' }
    : { x: 660, w: 220, title: 'Highest rate with zero failed calls', yTitle: 'calls/s', xTitle: 'step search, per contender' };
  const steps = contenders.flatMap((k) => searched.filter((s) => s.contender === k.id));
  const stepW = Math.min(56, right.w / Math.max(1, steps.length));
  const x0 = right.x + (right.w - stepW * steps.length) / 2;
  const stepBars = steps.map((s, i): Bar => ({
    x: x0 + i * stepW + 2,
    w: Math.max(1, stepW - 4),
    value: s.maxCleanRate,
    // "+": the search stopped at SIPp's limit or the ceiling, so the proxy's limit is higher.
    label: `${fmtNum(s.maxCleanRate)}${s.limitedBy === 'proxy' ? '' : '+'}`,
    color: color(s.contender),
    tip: `${s.contender}: ${s.maxCleanRate} calls/s, limited by ${s.limitedBy}`,
  }));

  const legend = contenders.map((k, i) => {
    const x = 80 + (i % 4) * 205;
    const y = 454 + Math.floor(i / 4) * 18;
    return `<rect x="${x}" y="${y - 10}" width="12" height="12" fill="${color(k.id)}"/>${text(x + 17, y, k.id)}`;
  });
  const runs = c.seconds === undefined ? `${c.rounds} rounds of ${c.calls} calls` : `${c.rounds} round${c.rounds === 1 ? '' : 's'} of ${c.seconds} s, first ${c.warmupSeconds ?? 0} s left out`;
  const subtitle = `commit ${c.commit}, Node ${c.node}, Linux ${c.kernel}, SIPp ${c.sipp}, Kamailio ${c.kamailio}; ${runs}`;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    text(W / 2, 22, `siplb and Kamailio under SIPp, ${c.date.slice(0, 10)}, ${c.cpuModel} (${c.cores} cores)`, ' text-anchor="middle" font-size="15" font-weight="bold"'),
    text(W / 2, 40, subtitle, ' text-anchor="middle" fill="#555"'),
    ...panel(left, cpuBars, rateLabels),
    ...panel(right, stepBars, []),
    ...(stepBars.some((b) => b.label.endsWith('+')) ? [text(right.x + right.w / 2, BOTTOM + 50, '+ SIPp or the ceiling stopped the search', ' text-anchor="middle" font-size="10" fill="#555"')] : []),
    `<g>${legend.join('')}</g>`,
    '</svg>',
  ].join('\n');
}
