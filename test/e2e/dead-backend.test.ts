// A dead media server under SIPp load, with siplb's default health settings (keepalives every 5 s,
// 2 s timeout, probing mode 3, SIPLB_MARK_FAILED=ip) and the shipped list's flags (8: probed).
// SIPp places calls at a fixed rate through siplb to two SIPp backends:
//
// - one backend never started: the first keepalive finds it within the first seconds, and the
//   calls sent to it before that fail over after SIPLB_FR_TIMER; no call fails;
// - one backend killed (SIGKILL) in the middle: the INVITEs in flight to it fail over, the first
//   of them marks it inactive, and keepalives would find it anyway; no INVITE fails. A call whose
//   BYE was on its way to the server when it died cannot be saved by any proxy (the dialog lived
//   there): those are counted apart, and are at most the calls in their last milliseconds.
//
// The full-size run (2,000 calls/s for 60 s, and Kamailio beside it) is `npm run bench:failover`.
import { afterEach, describe, expect, it } from 'vitest';
import type { DispatcherList } from '../../src/admin/dispatcher-list.js';
import { SCHEMA } from '../../src/config/schema.js';
import { freeTcpPort, startProxy, writeList, type ProxyProcess } from '../helpers/proxy-process.js';
import { freeUdpPorts } from './helpers/ports.js';
import { requireSipp, SIPP_MISSING, startSipp, type SippResult, type SippRun } from './helpers/sipp.js';

const RATE = 200; // calls/s
/** Longer than SIPLB_FR_TIMER (5 s): a call that waits for its failover still counts as answered. */
const RECV_TIMEOUT_MS = 10_000;
/** The calls whose BYE can have been on its way to the killed server, with room for a loaded machine. */
const BYE_LOSS_BOUND = 5;
/** Calls that had rung on the killed server when it died (its 180 sent, its 200 not yet). */
const RING_LOSS_BOUND = 2;

const haveSipp = requireSipp();
const live: Array<SippRun | ProxyProcess> = [];
afterEach(async () => {
  for (const x of live.splice(0)) await ('child' in x ? x.stop() : x.stop(200));
});
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));


/** The real defaults of every health variable, over the test rig's quiet ones. */
const DEFAULTS = {
  SIPLB_DS_PING_INTERVAL: SCHEMA.pingInterval.default,
  SIPLB_MARK_FAILED: SCHEMA.markFailed.default,
};

function explain(r: SippResult): string {
  return `sipp ${r.args.join(' ')}\nexit ${r.code}\nmessages: ${JSON.stringify(r.messages)}\nerrors:\n${r.errors.slice(-3000)}`;
}

/** Failures at the INVITE (no 200 to it) and at the BYE (no 200 to it), from SIPp's scenario screen. */
function failuresByStep(r: SippResult): { invite: number; bye: number } {
  const okRows = r.messages.filter((m) => m.name === '200' && m.direction === 'received');
  const lost = (row: (typeof okRows)[number] | undefined): number => (row === undefined ? 0 : row.timeouts + row.unexpected);
  return { invite: lost(okRows[0]), bye: lost(okRows[1]) };
}

async function run(calls: number, killAfterMs: number | undefined) {
  const [b1, b2, uacPort] = await freeUdpPorts(3);
  const admin = await freeTcpPort();
  live.push(await startSipp({ scenario: 'uas', role: 'uas', localPort: b1!, calls: 1_000_000, timeoutMs: 120_000 }));
  const victim = killAfterMs === undefined ? undefined : await startSipp({ scenario: 'uas', role: 'uas', localPort: b2!, calls: 1_000_000, timeoutMs: 120_000 });
  if (victim) live.push(victim);
  const uri2 = `sip:127.0.0.1:${b2}`;
  const proxy = await startProxy({
    SIPLB_LIST_FILE: writeList(`1 sip:127.0.0.1:${b1} 8\n1 ${uri2} 8\n`),
    SIPLB_LOG_LEVEL: 'warn',
    SIPLB_ADMIN: `127.0.0.1:${admin}`,
    ...DEFAULTS,
  });
  live.unshift(proxy);
  const flags = async (): Promise<string> => {
    const list = (await (await fetch(`http://127.0.0.1:${admin}/api/dispatcher/list`)).json()) as DispatcherList;
    return list.RECORDS[0]!.SET.TARGETS.find((t) => t.DEST.URI === uri2)!.DEST.FLAGS;
  };
  const uac = await startSipp({
    scenario: 'uac',
    role: 'uac',
    localPort: uacPort!,
    remote: `127.0.0.1:${proxy.port}`,
    rate: RATE,
    calls,
    timeoutMs: 90_000,
    extra: ['-recv_timeout', String(RECV_TIMEOUT_MS)],
  });
  live.push(uac);
  let detectedMs: number | undefined;
  if (victim && killAfterMs !== undefined) {
    await sleep(killAfterMs);
    expect(await flags()).toBe('AP');
    process.kill(victim.pid, 'SIGKILL');
    const killedAt = Date.now();
    while (detectedMs === undefined && Date.now() - killedAt < 15_000) {
      if ((await flags()) === 'IP') detectedMs = Date.now() - killedAt;
      else await sleep(50);
    }
  }
  const res = await uac.result;
  const after = await flags();
  const report = await proxy.stop();
  return { res, detectedMs, after, report };
}

describe.skipIf(!haveSipp)(haveSipp ? 'a dead backend under SIPp load, default health settings' : `a dead backend under SIPp load (skipped: ${SIPP_MISSING})`, () => {
  it(`dead from the start: ${RATE} calls/s, no call fails`, async () => {
    const calls = RATE * 10;
    const { res, after, report } = await run(calls, undefined);
    console.log(`dead from the start: ${res.successful}/${calls} calls answered, ${res.failed} failed; ${/keepalive_timeouts \d+/.exec(report.stdout)?.[0]}`);
    expect(res.created, explain(res)).toBe(calls);
    expect(res.failed, explain(res)).toBe(0);
    expect(res.successful).toBe(calls);
    expect(after).toBe('IP');
    expect(report.stdout).toMatch(/^\s+keepalive_timeouts [1-9]/m);
  }, 120_000);

  it(`killed in the middle: ${RATE} calls/s, no INVITE fails but one that had rung on it; found inactive within the keepalive interval and timeout`, async () => {
    const calls = RATE * 20;
    const { res, detectedMs, after, report } = await run(calls, 6_000);
    const steps = failuresByStep(res);
    console.log(
      `killed in the middle: ${res.successful}/${calls} calls answered, failed at the INVITE ${steps.invite}, at the BYE ${steps.bye}; ` +
        `marked inactive ${detectedMs} ms after the kill; heap ${/heap_used_bytes (\d+)/.exec(report.stdout)?.[1]} bytes`,
    );
    expect(res.created, explain(res)).toBe(calls);
    // An INVITE fails only if it had rung on the victim (its 180 arrived) and the victim died
    // before its 200: the callee answered, so siplb does not fail over (SIPLB_FAILOVER_AFTER_
    // PROVISIONAL is off) and SIPp gives up at -recv_timeout. Every call got its 180, so a failed
    // INVITE is one of those; SIPp's UAS sends 180 and 200 back to back, so at most a call or two.
    expect(steps.invite, explain(res)).toBeLessThanOrEqual(RING_LOSS_BOUND);
    expect(res.messages.find((m) => m.name === '180')?.messages, explain(res)).toBe(calls);
    expect(steps.bye, explain(res)).toBeLessThanOrEqual(BYE_LOSS_BOUND);
    expect(res.failed).toBe(steps.invite + steps.bye);
    // under load the first failed-over INVITE marks it (SIPLB_FR_TIMER, 5 s); keepalives alone need at most interval + timeout
    expect(detectedMs).toBeDefined();
    expect(detectedMs!).toBeLessThanOrEqual(Number(SCHEMA.pingInterval.default) * 1000 + Number(SCHEMA.pingTimeout.default) + 1500);
    expect(after).toBe('IP');
  }, 150_000);
});
