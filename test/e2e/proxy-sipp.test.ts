// SIPp as the caller and as the backends, siplb in between, started as users start it: calls at a
// fixed rate with zero failures in both modes and worker counts, the split per algorithm, CANCEL of
// a ringing call, failover from a backend answering 503 and from one that never answers, and 483.
// Loopback only; bounded counts and durations.
import { afterEach, describe, expect, it } from 'vitest';
import { startProxy, writeList, type ProxyProcess } from '../helpers/proxy-process.js';
import { freeUdpPorts } from './helpers/ports.js';
import { requireSipp, SIPP_MISSING, startSipp, type SippResult, type SippRun } from './helpers/sipp.js';

const haveSipp = requireSipp();
const live: Array<SippRun | ProxyProcess> = [];
afterEach(async () => {
  for (const x of live.splice(0)) await ('child' in x ? x.stop() : x.stop(200));
});

function explain(r: SippResult): string {
  return `sipp ${r.args.join(' ')}\nexit ${r.code}\nerrors:\n${r.errors.slice(-3000)}\nstderr:\n${r.stderr.slice(-1500)}`;
}

interface Rig {
  proxy: ProxyProcess;
  backends: SippRun[];
  uacPort: number;
}

/** Backends running `scenarios` (one SIPp UAS each, priorities 10, 5, ...), siplb in front. */
async function rig(scenarios: string[], env: Record<string, string>, uasExtra: string[] = []): Promise<Rig> {
  const ports = await freeUdpPorts(scenarios.length + 1);
  const backends: SippRun[] = [];
  for (const [i, scenario] of scenarios.entries()) {
    const run = await startSipp({ scenario, role: 'uas', localPort: ports[i]!, calls: 1000, timeoutMs: 60_000, extra: uasExtra });
    live.push(run);
    backends.push(run);
  }
  const list = writeList(scenarios.map((_, i) => `1 sip:127.0.0.1:${ports[i]} 0 ${10 - 5 * i}\n`).join(''));
  const proxy = await startProxy({ SIPLB_LIST_FILE: list, SIPLB_LOG_LEVEL: 'warn', ...env });
  live.unshift(proxy);
  return { proxy, backends, uacPort: ports[scenarios.length]! };
}

async function call(r: Rig, scenario: string, calls: number, rate: number, extra: string[] = []): Promise<SippResult> {
  const uac = await startSipp({ scenario, role: 'uac', localPort: r.uacPort, remote: `127.0.0.1:${r.proxy.port}`, rate, calls, timeoutMs: 30_000, extra });
  live.push(uac);
  return uac.result;
}

/** INVITEs each backend received, read after stopping them. */
async function answered(r: Rig): Promise<number[]> {
  // the counts come from SIPp's screen, repainted once a second: let it show the last calls first
  await new Promise((resolve) => setTimeout(resolve, 1500));
  const results = await Promise.all(r.backends.map((b) => b.stop(500)));
  return results.map((x) => x.messages.find((m) => m.name.split('|').includes('INVITE') && m.direction === 'received')?.messages ?? -1);
}

describe.skipIf(!haveSipp)(haveSipp ? 'SIPp calls through siplb' : `SIPp calls through siplb (skipped: ${SIPP_MISSING})`, () => {
  it.each([
    ['stateful', '0'],
    ['stateful', '2'],
    ['stateless', '0'],
    ['stateless', '2'],
  ])('SIPLB_MODE=%s SIPLB_WORKERS=%s: 40 calls at 20 cps, zero failed, round-robin split', async (mode, workers) => {
    const r = await rig(['uas', 'uas'], { SIPLB_MODE: mode, SIPLB_WORKERS: workers, SIPLB_ALG: '4' });
    const res = await call(r, 'uac', 40, 20);
    expect(res.code, explain(res)).toBe(0);
    expect(res).toMatchObject({ successful: 40, failed: 0 });
    const split = await answered(r);
    expect(split[0]! + split[1]!).toBe(40);
    // inline: one round-robin counter, an exact split; workers: one counter each, close to even
    if (workers === '0') expect(split).toEqual([20, 20]);
    else expect(Math.min(...split)).toBeGreaterThanOrEqual(12);
    const { code, stdout } = await r.proxy.stop();
    expect(code).toBe(0);
    expect(stdout).toMatch(/latency \(µs, receive to send\): count=[1-9]/);
  }, 60_000);

  it.each([
    ['0', 'hash over Call-ID: both backends get calls', (s: number[]) => s.every((n) => n > 0)],
    ['8', 'serial: every call goes to the highest priority', (s: number[]) => s[0] === 30 && s[1] === 0],
    ['9', 'weights 50/50: both get calls', (s: number[]) => s.every((n) => n > 0)],
  ])('SIPLB_ALG=%s: %s', async (alg, _what, check) => {
    const r = await rig(['uas', 'uas'], { SIPLB_ALG: alg });
    if (alg === '9') {
      // weights come from the attrs column
      await r.proxy.stop();
      live.splice(live.indexOf(r.proxy), 1);
      const list = writeList(r.backends.map((_, i) => `1 sip:127.0.0.1:${listPort(r, i)} 0 0 weight=50\n`).join(''));
      r.proxy = await startProxy({ SIPLB_LIST_FILE: list, SIPLB_LOG_LEVEL: 'warn', SIPLB_ALG: '9' });
      live.unshift(r.proxy);
    }
    const res = await call(r, 'uac', 30, 30);
    expect(res.code, explain(res)).toBe(0);
    const split = await answered(r);
    expect(split[0]! + split[1]!).toBe(30);
    expect(check(split), `split ${split.join('/')}`).toBe(true);
  }, 60_000);

  it('CANCEL of a ringing call: 200 to the CANCEL, 487 to the INVITE, through the proxy', async () => {
    const r = await rig(['uas-ringing'], {});
    const res = await call(r, 'uac-cancel', 5, 5);
    expect(res.code, explain(res)).toBe(0);
    expect(res).toMatchObject({ successful: 5, failed: 0 });
  }, 60_000);

  it('a backend answering 503: every call completes on the other one', async () => {
    const r = await rig(['uas-503', 'uas'], { SIPLB_ALG: '8' });
    const res = await call(r, 'uac', 10, 10);
    expect(res.code, explain(res)).toBe(0);
    expect(res).toMatchObject({ successful: 10, failed: 0 });
  }, 60_000);

  it('a backend that never answers: calls complete on the other one within the final-response timer', async () => {
    const r = await rig(['uas-silent', 'uas'], { SIPLB_ALG: '8', SIPLB_FR_TIMER: '1000' }, ['-d', '10000']);
    const res = await call(r, 'uac', 5, 5);
    expect(res.code, explain(res)).toBe(0);
    expect(res).toMatchObject({ successful: 5, failed: 0 });
  }, 60_000);

  it('Max-Forwards 0 gets 483 Too Many Hops', async () => {
    const r = await rig(['uas'], {});
    const res = await call(r, 'uac-maxfwd0', 3, 3);
    expect(res.code, explain(res)).toBe(0);
    expect(res.successful).toBe(3);
  }, 60_000);
});

function listPort(r: Rig, i: number): number {
  const m = /-p (\d+)|-p\s+(\d+)/.exec(r.backends[i]!.args.join(' '));
  return Number(m?.[1] ?? m?.[2]);
}
