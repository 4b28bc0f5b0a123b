// SIPp against SIPp, no proxy: proves the scenarios in test/e2e/scenarios and the startSipp harness
// before any proxy test relies on them; then SIPp against the demo media server (src/demo), an
// independent check of the demo. Loopback only, bounded call counts and durations.
import { afterEach, describe, expect, it } from 'vitest';
import { MediaServer } from '../../src/demo/media-server.js';
import { freeUdpPorts } from './helpers/ports.js';
import { requireSipp, SIPP_MISSING, startSipp, type SippResult, type SippRun } from './helpers/sipp.js';

const haveSipp = requireSipp();

/** Runs still alive when a test ends (a failed assertion) are stopped, never left behind. */
const live: SippRun[] = [];
afterEach(async () => {
  await Promise.all(live.splice(0).map((run) => run.stop(200)));
});

async function start(...args: Parameters<typeof startSipp>): Promise<SippRun> {
  const run = await startSipp(...args);
  live.push(run);
  return run;
}

/** A readable failure: SIPp's own error log says which message of which call went wrong. */
function explain(r: SippResult): string {
  return `sipp ${r.args.join(' ')}\nexit ${r.code}\nerrors:\n${r.errors.slice(-3_000)}\nstderr:\n${r.stderr.slice(-2_000)}`;
}

const row = (r: SippResult, name: string, direction: 'sent' | 'received') =>
  r.messages.find((m) => m.name === name && m.direction === direction);

describe.skipIf(!haveSipp)(haveSipp ? 'SIPp against SIPp' : `SIPp against SIPp (skipped: ${SIPP_MISSING})`, () => {
  it('uac -> uas: 20 calls at 10 cps all succeed, OPTIONS answered too', async () => {
    const [uasPort, uacPort, optPort] = await freeUdpPorts(3);
    // 20 calls + 1 OPTIONS: -m on a UAS counts the OPTIONS "call" as well.
    const uas = await start({ scenario: 'uas', role: 'uas', localPort: uasPort!, calls: 21, timeoutMs: 15_000 });
    const uac = await start({
      scenario: 'uac',
      role: 'uac',
      localPort: uacPort!,
      remote: `127.0.0.1:${uasPort}`,
      rate: 10,
      calls: 20,
      timeoutMs: 15_000,
    });
    const caller = await uac.result;
    expect(caller.code, explain(caller)).toBe(0);
    expect(caller).toMatchObject({ successful: 20, failed: 0, created: 20 });

    const ping = await start({
      scenario: 'uac-options',
      role: 'uac',
      localPort: optPort!,
      remote: `127.0.0.1:${uasPort}`,
      calls: 1,
      timeoutMs: 5_000,
    });
    const pinged = await ping.result;
    expect(pinged.code, explain(pinged)).toBe(0);
    expect(pinged.successful).toBe(1);

    const callee = await uas.result;
    expect(callee.code, explain(callee)).toBe(0);
    expect(callee).toMatchObject({ successful: 21, failed: 0 });
    expect(row(callee, 'BYE', 'received')?.messages).toBe(20);
  }, 30_000);

  it('uac-cancel -> uas-ringing: 5 calls cancelled while ringing (200 to CANCEL, 487, ACK)', async () => {
    const [uasPort, uacPort] = await freeUdpPorts(2);
    const uas = await start({ scenario: 'uas-ringing', role: 'uas', localPort: uasPort!, calls: 5, timeoutMs: 15_000 });
    const uac = await start({
      scenario: 'uac-cancel',
      role: 'uac',
      localPort: uacPort!,
      remote: `127.0.0.1:${uasPort}`,
      rate: 10,
      calls: 5,
      timeoutMs: 15_000,
    });
    const [caller, callee] = await Promise.all([uac.result, uas.result]);
    expect(caller.code, explain(caller)).toBe(0);
    expect(caller).toMatchObject({ successful: 5, failed: 0 });
    expect(row(caller, '487', 'received')?.messages).toBe(5);
    expect(callee.code, explain(callee)).toBe(0);
    expect(callee).toMatchObject({ successful: 5, failed: 0 });
    expect(row(callee, 'ACK', 'received')?.messages).toBe(5);
  }, 30_000);

  it('uac -> uas-silent: failures are reported, and the silent side saw the retransmissions', async () => {
    const [uasPort, uacPort] = await freeUdpPorts(2);
    // -d keeps each silent call open long enough to count the INVITE retransmissions it ignores.
    const uas = await start({ scenario: 'uas-silent', role: 'uas', localPort: uasPort!, timeoutMs: 10_000, extra: ['-d', '3000'] });
    const uac = await start({
      scenario: 'uac',
      role: 'uac',
      localPort: uacPort!,
      remote: `127.0.0.1:${uasPort}`,
      calls: 2,
      timeoutMs: 10_000,
      // Give up after 1.6 s (INVITE sent at 0, 0.5 and 1.5 s) instead of the full Timer B.
      extra: ['-recv_timeout', '1600'],
    });
    const caller = await uac.result;
    expect(caller.code, explain(caller)).toBe(1);
    expect(caller).toMatchObject({ successful: 0, failed: 2 });
    expect(caller.errors).toMatch(/receive timeout/);
    // The silent side answered nothing: stop it and look at what it received.
    const callee = await uas.stop(200);
    expect(callee.code).not.toBeNull();
    const invites = row(callee, 'INVITE|OPTIONS', 'received');
    expect(invites?.messages).toBe(2);
    expect(invites?.retrans).toBeGreaterThanOrEqual(2);
    expect(callee.messages.filter((m) => m.direction === 'sent' && m.messages > 0)).toEqual([]);
  }, 30_000);
});

describe.skipIf(!haveSipp)(haveSipp ? 'SIPp against the demo media server' : `demo media server (skipped: ${SIPP_MISSING})`, () => {
  let demo: MediaServer | undefined;
  afterEach(async () => {
    await demo?.stop();
    demo = undefined;
  });

  it('uac -> demo: 20 calls at 20 cps, each answered, acknowledged and hung up', async () => {
    demo = new MediaServer({ log: null });
    const { port } = await demo.start(0, '127.0.0.1');
    const [uacPort] = await freeUdpPorts(1);
    const uac = await start({ scenario: 'uac', role: 'uac', localPort: uacPort!, remote: `127.0.0.1:${port}`, rate: 20, calls: 20, timeoutMs: 15_000 });
    const caller = await uac.result;
    expect(caller.code, explain(caller)).toBe(0);
    expect(caller).toMatchObject({ successful: 20, failed: 0, retransmissions: 0 });
    expect(demo.stats).toMatchObject({ invites: 20, confirmed: 20, completed: 20, active: 0, malformed: 0 });
  }, 30_000);

  it('uac-cancel -> demo ringing 10 s: 5 calls cancelled, none answered', async () => {
    demo = new MediaServer({ log: null, ringMs: 10_000 });
    const { port } = await demo.start(0, '127.0.0.1');
    const [uacPort] = await freeUdpPorts(1);
    const uac = await start({ scenario: 'uac-cancel', role: 'uac', localPort: uacPort!, remote: `127.0.0.1:${port}`, calls: 5, timeoutMs: 15_000 });
    const caller = await uac.result;
    expect(caller.code, explain(caller)).toBe(0);
    expect(caller).toMatchObject({ successful: 5, failed: 0 });
    expect(demo.stats).toMatchObject({ invites: 5, cancelled: 5, answered: 0, active: 0 });
  }, 30_000);
});
