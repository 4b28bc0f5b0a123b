// The soak harness must not rot (npm run soak is not part of npm test): a few seconds of it at a
// low rate go through every stage (backends, siplb, caller, USR2 samples, trend, table, JSON).
// Numbers are not judged here; the full run is the lead's (BENCHMARKS.md).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { SoakResults } from '../../bench/soak/run.js';
import { requireSipp, SIPP_MISSING } from './helpers/sipp.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const haveSipp = requireSipp();

describe.skipIf(!haveSipp)(haveSipp ? 'npm run soak (6 s smoke run)' : `soak smoke (skipped: ${SIPP_MISSING})`, () => {
  it('samples siplb every interval, fits the heap trend, prints the table and writes the JSON', () => {
    const out = mkdtempSync(join(tmpdir(), 'siplb-soak-smoke-'));
    const args = ['--minutes', '0.1', '--interval', '1.5', '--probe', '0.5', '--rate', '50', '--warmup-minutes', '0.02', '--out', out, '--name', 'smoke'];
    const table = execFileSync(process.execPath, [join(root, 'dist/bench/soak/run.js'), ...args], { cwd: root, encoding: 'utf8', timeout: 60_000 });
    const r = JSON.parse(readFileSync(join(out, 'smoke.json'), 'utf8')) as SoakResults;
    expect(r.options).toMatchObject({ minutes: 0.1, rate: 50, intervalSeconds: 1.5, probeSeconds: 0.5, mode: 'stateful', workers: 0 });
    expect(r.calls).toBe(300);
    expect(r.caller.completed).toBe(300);
    expect(r.caller.failed).toBe(0);
    expect(r.proxyExitCode).toBe(0);
    // t=0 before the load, then one every 1.5 s while the 6 s of calls run
    expect(r.samples.length).toBeGreaterThanOrEqual(4);
    expect(r.samples[0]!.t).toBe(0);
    for (const s of r.samples) {
      expect(s.rssBytes).toBeGreaterThan(20e6);
      expect(s.heapBytes).toBe(s.mainHeapBytes + s.workersHeapBytes);
      expect(s.heapFloorBytes).toBeLessThanOrEqual(s.heapBytes);
      expect(s.vmRssBytes).toBeGreaterThan(0); // /proc was read
    }
    expect(r.heap.samples).toBeGreaterThanOrEqual(3);
    expect(Number.isFinite(r.heap.bytesPerMinute)).toBe(true);
    expect(typeof r.heap.grows).toBe('boolean');
    expect(table).toMatch(/^t \(s\)\s+rss MB\s+heap MB\s+heap floor/m);
    expect(r.heapFloor.samples).toBe(r.heap.samples);
    expect(table).toMatch(/^heap floor slope after minute 0\.02: /m);
    expect(table).toMatch(/^heap slope after minute 0\.02: -?\d+ ± \d+ KiB\/min \(\d+ samples\): (GROWS|does not grow)$/m);
  }, 90_000);
});
