// A media server that registers itself, with SIPp on both of its sides: a SIPp UAS takes calls on
// one port, and a SIPp client REGISTERs that port with siplb under the address-of-record of set 10
// (test/e2e/scenarios/uac-register-ms.xml). Calls placed by a third SIPp through siplb reach it;
// once it unregisters, set 10 is empty again and a call is answered 503.
import { afterEach, describe, expect, it } from 'vitest';
import { startProxy, writeList, type ProxyProcess } from '../helpers/proxy-process.js';
import { Peer } from '../helpers/udp-peer.js';
import { freeUdpPorts } from './helpers/ports.js';
import { requireSipp, SIPP_MISSING, startSipp, type SippResult, type SippRun } from './helpers/sipp.js';

const haveSipp = requireSipp();
const live: Array<SippRun | ProxyProcess | Peer> = [];
afterEach(async () => {
  for (const x of live.splice(0)) await ('child' in x ? x.stop() : 'pid' in x ? x.stop(200) : x.close());
});

function explain(r: SippResult): string {
  return `sipp ${r.args.join(' ')}\nexit ${r.code}\nerrors:\n${r.errors.slice(-2000)}\nstderr:\n${r.stderr.slice(-1000)}`;
}

describe.skipIf(!haveSipp)(haveSipp ? 'a SIPp media server that registers itself' : `a SIPp media server that registers itself (skipped: ${SIPP_MISSING})`, () => {
  it('registers, takes the calls of its set, unregisters', async () => {
    const [ms, regPort, uacPort] = await freeUdpPorts(3);
    live.push(await startSipp({ scenario: 'uas', role: 'uas', localPort: ms!, calls: 100_000, timeoutMs: 60_000 }));
    const proxy = await startProxy({
      SIPLB_LIST_FILE: writeList('1 sip:127.0.0.1:9 0\n'),
      SIPLB_SET: '10',
      SIPLB_REGISTER_SETS: '10=media@lb.test',
      SIPLB_REGISTER_ALLOW: '127.0.0.0/8',
      SIPLB_DS_PING_INTERVAL: '1',
      SIPLB_LOG_LEVEL: 'warn',
    });
    live.unshift(proxy);
    const reg = (expires: number) =>
      startSipp({
        scenario: 'uac-register-ms',
        role: 'uac',
        localPort: regPort!,
        remote: `127.0.0.1:${proxy.port}`,
        calls: 1,
        timeoutMs: 10_000,
        extra: ['-key', 'aor', 'media@lb.test', '-key', 'contact_port', String(ms), '-key', 'q', '0.5', '-key', 'expires', String(expires)],
      }).then((r) => r.result);
    const registered = await reg(300);
    expect(registered.successful, explain(registered)).toBe(1);

    const calls = await startSipp({ scenario: 'uac', role: 'uac', localPort: uacPort!, remote: `127.0.0.1:${proxy.port}`, rate: 50, calls: 200, timeoutMs: 30_000 });
    live.push(calls);
    const res = await calls.result;
    expect(res.successful, explain(res)).toBe(200);
    expect(res.failed).toBe(0);

    const unregistered = await reg(0);
    expect(unregistered.successful, explain(unregistered)).toBe(1);
    const uac = await Peer.open();
    live.push(uac);
    uac.send(
      `MESSAGE sip:service@127.0.0.1:${proxy.port} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:${uac.port};branch=z9hG4bK-after;rport\r\nMax-Forwards: 70\r\n` +
        `From: <sip:a@127.0.0.1>;tag=a\r\nTo: <sip:service@127.0.0.1>\r\nCall-ID: after-unregister\r\nCSeq: 1 MESSAGE\r\nContent-Length: 0\r\n\r\n`,
      proxy.port,
    );
    await uac.waitFor((got) => got.some((g) => /^SIP\/2\.0 [2-6]/.test(g.first)), 3000);
    expect(uac.received.find((g) => /^SIP\/2\.0 [2-6]/.test(g.first))!.first).toMatch(/^SIP\/2\.0 503/);
    const report = await proxy.stop();
    expect(report.stdout).toMatch(/^\s+registrations_accepted 2$/m);
  }, 90_000);
});
