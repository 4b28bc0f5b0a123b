// The SIPp benchmark's harness must not rot: its --quick run (siplb stateful inline against the
// tuned Kamailio, a 4 s steady-state run at 200 calls/s with its first second left out, one step
// search each, one strict run, and a 6 s overload phase of siplb) goes through every stage and
// writes results that the report can read; so does the --quick sustained search (200 and 400
// calls/s). Numbers are not judged here: benchmarks, not tests, decide speed (the brief).
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { BenchResults } from '../../bench/sipp/types.js';
import { requireSipp, SIPP_MISSING } from './helpers/sipp.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const haveSipp = requireSipp();

describe.skipIf(!haveSipp)(haveSipp ? 'npm run bench:sipp -- --quick' : `bench:sipp smoke (skipped: ${SIPP_MISSING})`, () => {
  it('runs every stage for siplb and Kamailio and writes readable results', () => {
    const table = execFileSync(process.execPath, [join(root, 'dist/bench/sipp/run.js'), '--quick'], { cwd: root, encoding: 'utf8', timeout: 170_000 });
    const r = JSON.parse(readFileSync(join(root, 'bench/results/sipp-quick.tmp.json'), 'utf8')) as BenchResults;
    expect(r.contenders.map((c) => c.id).sort()).toEqual(['kamailio-stateful', 'siplb-stateful-w0']);
    for (const f of r.fixed) {
      expect(f.completed, f.contender).toBe(f.calls); // every call of the smoke load completes
      expect(f.failed).toBe(0);
      expect(f.shed).toBeTypeOf('number');
      expect(f.cpuMicrosPerCall).toBeGreaterThan(0); // CPU was read from /proc
    }
    const own = r.fixed.find((f) => f.contender === 'siplb-stateful-w0')!;
    expect(own.proxyP99Us).toBeGreaterThan(0); // from two USR2 histograms, subtracted
    expect(own.windowSeconds).toBeGreaterThan(2); // 4 s run, first second left out
    expect(own.gcShare).toBeTypeOf('number');
    expect(own.heapEndMiB).toBeGreaterThan(0);
    expect(own.rssAfterMiB).toBeGreaterThan(0); // read again after the load (siplb, round 1)
    for (const f of r.fixed) expect(f.rssEndMiB, f.contender).toBeGreaterThan(0);
    expect(r.conditions).toMatchObject({ seconds: 4, warmupSeconds: 1 });
    expect(r.steps).toHaveLength(2);
    // every strict call is accounted for; siplb keeps a call's messages in order (one shard per
    // Call-ID), while Kamailio's receivers may reorder a 180 after the 200: what the strict run shows
    expect(r.strict.every((s) => s.completed + s.failed === s.calls)).toBe(true);
    expect(r.strict.find((s) => s.contender === 'siplb-stateful-w0')?.failed).toBe(0);
    // the overload phase ran (siplb only under --quick) and placed calls in every stage; its verdicts are not judged
    expect(r.overload?.map((o) => o.contender)).toEqual(['siplb-stateful-w0']);
    for (const o of r.overload ?? []) {
      expect(o.R, o.contender).toBe(200);
      expect(o.A).toMatchObject({ rate: 300, seconds: 2, calls: 600 });
      expect(o.A.completedPerSecond).toBe(o.A.completed / 2);
      expect(o.B1).toMatchObject({ rate: 160, seconds: 2, calls: 320 });
      expect(o.B2).toMatchObject({ rate: 160, seconds: 2, calls: 320 });
      // every call accounted for: SIPp counted it, or it was still hanging when its caller stopped
      for (const l of [o.A, o.B1, o.B2]) expect(l.completed + l.failed, o.contender).toBeGreaterThanOrEqual(l.calls);
      for (const k of ['shed', 'rcvbufErrors', 'sippCpuSeconds'] as const) expect(o[k]).toBeTypeOf('number');
      expect(o.cpuSeconds).toBeGreaterThan(0); // CPU was read from /proc
      expect(o.keptRate).toBeTypeOf('boolean');
      expect(o.recovered).toBe(o.B2.failed === 0 && o.B2.completed === o.B2.calls);
    }
    expect(r.conditions.kamailio).toMatch(/kamailio 5\./);
    expect(table).toContain('Targets');
    expect(table).toContain('Fixed rates, steady state');
    expect(table).toMatch(/siplb-stateful-w0\s+200\/s\s+300\/s x 2 s/);
  }, 180_000);

  it('--sustained: steps up the rate for both, each step a steady-state run, and reports the highest clean one', () => {
    const table = execFileSync(process.execPath, [join(root, 'dist/bench/sipp/run.js'), '--quick', '--sustained'], { cwd: root, encoding: 'utf8', timeout: 110_000 });
    const r = JSON.parse(readFileSync(join(root, 'bench/results/sipp-sustained-quick.tmp.json'), 'utf8')) as BenchResults;
    expect(r.sustained?.map((x) => x.contender).sort()).toEqual(['kamailio-stateful', 'siplb-stateful-w0']);
    for (const x of r.sustained ?? []) {
      // a clean step raises the highest clean rate; the first unclean one ends the search
      const clean = x.steps.filter((f) => f.failed === 0 && f.completed === f.calls && (f.shed ?? 0) === 0).map((f) => f.rate);
      expect(x.maxCleanRate, x.contender).toBe(clean.length === x.steps.length ? Math.max(0, ...clean) : Math.max(0, ...x.steps.slice(0, -1).map((f) => f.rate)));
      expect(x.steps.map((f) => f.rate)).toEqual(x.steps.map((_, i) => 200 + 200 * i));
      for (const f of x.steps) expect(f.cpuMicrosPerCall, `${x.contender} ${f.rate}`).toBeGreaterThan(0);
    }
    expect(r.fixed).toHaveLength((r.sustained ?? []).reduce((n, x) => n + x.steps.length, 0));
    expect(table).toContain('Sustained: the highest rate carried');
  }, 120_000);
});
