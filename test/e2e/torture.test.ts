// Every RFC 4475 torture message sent to a running siplb gets the outcome its row in
// test/fixtures/rfc4475/expectations.json names: forwarded, answered with that status, or dropped;
// and the proxy still serves afterwards. The replay runs in a private network namespace with only
// loopback (scripts/netns-run.sh), so no address taken from a message can ever see a packet.
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

interface Expectation {
  file: string;
  status: number | 'forward' | 'drop';
  /** Where a stateful proxy must differ (a 100 Trying is never relayed). */
  statusStateful?: number | 'forward' | 'drop';
}

/** unshare needs root or unprivileged user namespaces; under CI=true its absence is a failure. */
function netnsAvailable(): boolean {
  const r = spawnSync('bash', [join(root, 'scripts/netns-run.sh'), 'true'], { encoding: 'utf8' });
  if (r.status === 0) return true;
  if (process.env.CI === 'true') throw new Error(`CI=true and no network namespace: ${r.stderr}`);
  console.warn(`skipping the RFC 4475 replay: cannot make a network namespace here (${r.stderr.trim()})`);
  return false;
}

const expectations = JSON.parse(readFileSync(join(root, 'test/fixtures/rfc4475/expectations.json'), 'utf8')) as Expectation[];

describe.skipIf(!netnsAvailable())('RFC 4475 replay against a running siplb (private network namespace)', () => {
  it.each([
    ['stateful', '0'],
    ['stateless', '0'],
    ['stateful', '2'],
    ['stateless', '2'],
  ])('SIPLB_MODE=%s SIPLB_WORKERS=%s: every message gets its outcome', (mode, workers) => {
    const out = execFileSync('bash', [join(root, 'scripts/netns-run.sh'), process.execPath, join(root, 'test/e2e/torture-replay.mjs'), mode, workers], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    const r = JSON.parse(out) as { outcomes: Record<string, Array<number | 'forward'>>; healthy: unknown[]; exitCode: number; stderr: string };
    const wrong: string[] = [];
    for (const c of expectations) {
      const got = r.outcomes[c.file] ?? [];
      const status = mode === 'stateful' ? (c.statusStateful ?? c.status) : c.status;
      const ok =
        status === 'drop'
          ? got.length === 0
          : status === 'forward'
            ? got.includes('forward') && !got.some((x) => typeof x === 'number' && x >= 300)
            : got.includes(status);
      if (!ok) wrong.push(`${c.file}: expected ${status}, got ${JSON.stringify(got)}`);
    }
    expect(wrong).toEqual([]);
    expect(r.outcomes).toHaveProperty(['wsinv.dat']);
    expect(Object.keys(r.outcomes)).toHaveLength(expectations.length);
    expect(r.healthy).toContain('forward'); // still routing after the torture
    expect(r.exitCode).toBe(0);
    expect(r.stderr).not.toMatch(/uncaught|TypeError|RangeError/i);
  }, 90_000);
});
