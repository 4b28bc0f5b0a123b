// The live page's pieces that need no browser: the embedded script is valid JavaScript (a typo in a
// template literal would otherwise only show in Chromium), it never writes HTML from data, the
// security policy allows nothing inline, and the chart's bars are the histogram's counts per
// bucket. The page in a real browser: test/e2e/page.test.ts.
import { Script } from 'node:vm';
import * as hdr from 'hdr-histogram-js';
import { describe, expect, it } from 'vitest';
import { CHART_BOUNDS_US, chartBuckets } from '../../../src/admin/overview.js';
import { PAGE_ASSETS, PAGE_CSP } from '../../../src/admin/page.js';

const text = (path: string): string => PAGE_ASSETS.get(path)!.body.toString('utf8');

describe('the page files', () => {
  it('app.js compiles; it builds the page with textContent, never innerHTML or eval', () => {
    const js = text('/ui/app.js');
    expect(() => new Script(js, { filename: 'app.js' })).not.toThrow();
    expect(js).not.toMatch(/innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(|new Function/);
    expect(js).toContain('function drawChart(l)');
    expect(js).not.toContain('window.'); // one closure: nothing leaks into the page's globals
  });

  it('index.html loads only its own files, every id the script asks for exists', () => {
    const html = text('/');
    expect([...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1])).toEqual(['/ui/icon.svg', '/ui/app.css', '/ui/app.js']);
    const ids = new Set([...html.matchAll(/ id="([^"]+)"/g)].map((m) => m[1]));
    const wanted = new Set([...text('/ui/app.js').matchAll(/\$\('([a-z-]+)'\)|getElementById\('([a-z-]+)'\)/g)].map((m) => m[1] ?? m[2]));
    expect([...wanted].filter((id) => !ids.has(id))).toEqual([]);
    expect(wanted.size).toBeGreaterThan(8);
  });

  it('the policy allows scripts and styles from the page itself only, nothing inline, no frames', () => {
    expect(PAGE_CSP).toContain("default-src 'none'");
    expect(PAGE_CSP).toContain("script-src 'self';");
    expect(PAGE_CSP).toContain("frame-ancestors 'none'");
    expect(PAGE_CSP).not.toMatch(/unsafe|\*/);
  });
});

describe('chartBuckets', () => {
  const build = (): hdr.Histogram => hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 });

  it('an empty histogram: every bar 0, one past the last bound', () => {
    const b = chartBuckets(build());
    expect(b).toHaveLength(CHART_BOUNDS_US.length + 1);
    expect(b.every((x) => x.count === 0)).toBe(true);
    expect(b.at(-1)!.le).toBeNull();
  });

  it('counts per bucket, not cumulative; a value on a bound inside it; past 5 s in the last', () => {
    const h = build();
    for (const [us, n] of [[5, 2], [10, 1], [15, 3], [700, 4], [3_000_000, 1], [9_000_000, 2]] as const) h.recordValueWithCount(us, n);
    const b = chartBuckets(h);
    const at = (le: number | null): number => b.find((x) => x.le === le)!.count;
    expect(at(10)).toBe(3);
    expect(at(20)).toBe(3);
    expect(at(1000)).toBe(4);
    expect(at(5_000_000)).toBe(1);
    expect(at(null)).toBe(2);
    expect(b.reduce((s, x) => s + x.count, 0)).toBe(h.totalCount);
  });
});
