// Load shedding through the real path: a proxy process, real UDP, real worker threads, its own
// event-loop measurements. The threshold is set low (2 ms of queueing) so a burst from this test is an
// overload on any machine; what is checked is the behaviour, never a speed: refused INVITEs get
// 503 with Retry-After and are counted, INVITEs get through again once the burst is over.
import { afterEach, describe, expect, it } from 'vitest';
import { startProxy, writeList, type ProxyProcess } from '../../helpers/proxy-process.js';
import { request } from '../../helpers/sip-messages.js';
import { Peer, answer } from '../../helpers/udp-peer.js';

const open: Array<Peer | ProxyProcess> = [];
afterEach(async () => {
  for (const x of open.splice(0)) await ('stop' in x ? x.stop() : x.close());
});

/** A new INVITE from the test's caller (no Contact: nothing calls it back). */
function invite(proxyPort: number, uacPort: number, id: string): Buffer {
  return request({ ruri: `sip:service@127.0.0.1:${proxyPort}`, via: [`SIP/2.0/UDP 127.0.0.1:${uacPort};branch=z9hG4bK-${id};rport`], from: id, callId: `${id}@127.0.0.1`, contact: null });
}

describe.each([{ workers: '0' }, { workers: '2' }])('overload shedding (SIPLB_WORKERS=$workers)', ({ workers }) => {
  it('answers part of a burst 503 with Retry-After, counts it, and takes calls again after it', async () => {
    const uas = await Peer.open();
    const uac = await Peer.open();
    open.push(uas, uac);
    uas.onMessage = (r) => {
      if (r.first.startsWith('INVITE')) uas.send(answer(r.text, 486, 'Busy Here', { toTag: 'ms' }), r.from.port, r.from.address);
    };
    const proxy = await startProxy({
      SIPLB_LIST_FILE: writeList(`1 sip:127.0.0.1:${uas.port}\n`),
      SIPLB_WORKERS: workers,
      SIPLB_OVERLOAD_DELAY: '2',
      SIPLB_OVERLOAD_RETRY_AFTER: '3',
    });
    open.unshift(proxy);

    // A burst for up to 3 s: 200 INVITEs every 20 ms, until some are refused.
    const refused = (): number => uac.received.filter((r) => r.first === 'SIP/2.0 503 Service Unavailable').length;
    for (let round = 0; round < 150 && refused() === 0; round++) {
      for (let i = 0; i < 200; i++) uac.send(invite(proxy.port, uac.port, `burst-${round}-${i}`), proxy.port);
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(refused()).toBeGreaterThan(0);
    // the operator's view while it sheds: kill -USR2, the burst going on, shows the share refused now
    proxy.child.kill('SIGUSR2');
    for (let round = 0; round < 250 && !/overload_shed_percent \d+/.test(proxy.stdout()); round++) {
      for (let i = 0; i < 200; i++) uac.send(invite(proxy.port, uac.port, `more-${round}-${i}`), proxy.port);
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(Number(/overload_shed_percent (\d+)/.exec(proxy.stdout())?.[1] ?? 0)).toBeGreaterThan(0);
    const r503 = uac.received.find((r) => r.first === 'SIP/2.0 503 Service Unavailable')!;
    expect(r503.text).toMatch(/\r\nRetry-After: 3\r\n/);
    expect(r503.text).toMatch(/\r\nCall-ID: burst-\d+-\d+@127\.0\.0\.1\r\n/);
    // calls taken during the burst were still routed: the callee's 486 came back through us
    await uac.waitFor((rs) => rs.some((r) => r.first === 'SIP/2.0 486 Busy Here'));

    // Quiet: once the busy share falls the proxy takes every call again (one probe call a second).
    let through = false;
    for (let i = 0; i < 20 && !through; i++) {
      await new Promise((r) => setTimeout(r, 500));
      const id = `after-${i}`;
      uac.send(invite(proxy.port, uac.port, id), proxy.port);
      await uac.waitFor((rs) => rs.some((r) => r.text.includes(`Call-ID: ${id}@`) && /^SIP\/2\.0 [4-6]\d\d/.test(r.first)), 5000);
      through = uac.received.some((r) => r.text.includes(`Call-ID: ${id}@`) && r.first === 'SIP/2.0 486 Busy Here');
    }
    expect(through).toBe(true);
    const { stdout } = await proxy.stop();
    open.shift();
    const counted = Number([...stdout.matchAll(/overload_rejected (\d+)/g)].at(-1)?.[1] ?? 0); // the final report, after the USR2 one
    expect(counted).toBeGreaterThan(0);
    expect(counted).toBeGreaterThanOrEqual(refused()); // every 503 seen was counted (more if replies were lost)
  }, 60_000);
});
