// The operator's signals on a running siplb: kill -USR2 prints the counters and the latency
// distribution without stopping; SIGTERM drains (calls in flight finish, new INVITEs get 503)
// and exits 0 within SIPLB_DRAIN_TIMEOUT.
import { writeFileSync } from 'node:fs';
import * as hdr from 'hdr-histogram-js';
import { afterEach, describe, expect, it } from 'vitest';
import { startProxy, writeList, type ProxyProcess } from '../../helpers/proxy-process.js';
import { Peer, answer } from '../../helpers/udp-peer.js';

const open: Array<Peer | ProxyProcess> = [];
afterEach(async () => {
  for (const x of open.splice(0)) await ('stop' in x ? x.stop() : x.close());
});

function invite(proxyPort: number, uacPort: number, i: number): string {
  return [
    `INVITE sip:service@127.0.0.1:${proxyPort} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${uacPort};branch=z9hG4bK-sig-${i};rport`,
    'Max-Forwards: 70',
    `From: <sip:a@127.0.0.1>;tag=s${i}`,
    `To: <sip:service@127.0.0.1>`,
    `Call-ID: sig-${i}@127.0.0.1`,
    'CSeq: 1 INVITE',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

describe.each([{ workers: '0' }, { workers: '2' }])('signals (SIPLB_WORKERS=$workers)', ({ workers }) => {
  it('USR2 reports without stopping; SIGTERM lets the call in flight finish, answers new INVITEs 503, exits 0', async () => {
    const uas = await Peer.open();
    const uac = await Peer.open();
    open.push(uas, uac);
    // the media server answers after 1.5 s: a call is in flight when SIGTERM arrives
    uas.onMessage = (r) => {
      if (!r.first.startsWith('INVITE')) return;
      setTimeout(() => uas.send(answer(r.text, 200, 'OK', { toTag: 'late', contact: `<sip:ms@127.0.0.1:${uas.port}>` }), r.from.port, r.from.address), 1500);
    };
    const proxy = await startProxy({ SIPLB_LIST_FILE: writeList(`1 sip:127.0.0.1:${uas.port}\n`), SIPLB_WORKERS: workers, SIPLB_DRAIN_TIMEOUT: '5000' });
    open.unshift(proxy);

    proxy.child.kill('SIGUSR2');
    await waitFor(() => proxy.stdout().includes('latency (µs, receive to send)'));
    expect(proxy.child.exitCode).toBeNull();

    uac.send(invite(proxy.port, uac.port, 1), proxy.port);
    await uac.waitFor((r) => r.some((x) => x.first === 'SIP/2.0 100 Trying'));
    const exited = proxy.stop();
    await new Promise((r) => setTimeout(r, 300));
    uac.send(invite(proxy.port, uac.port, 2), proxy.port); // arrives while draining
    await uac.waitFor((r) => r.some((x) => x.first.startsWith('SIP/2.0 503')) && r.some((x) => x.first === 'SIP/2.0 200 OK'), 8000);
    const { code, stdout } = await exited;
    expect(code).toBe(0);
    expect(stdout).toMatch(/draining_rejected 1/);
    expect(stdout).toMatch(/\n {2}overload_shed_percent 0\n {2}queue_delay_ms \d+\n/); // idle: nothing refused
    if (workers === '0') expect(proxy.stderr()).toMatch(/"thread":"main","calls":2000,"completed":2000,"ms":\d+,"msg":"warmed up"/);
    if (workers === '2') {
      // each worker's ring state, for the operator asking "is a worker stuck?"
      expect(stdout).toMatch(/worker_0 ok send=direct received=\d+ wakeups=\d+ ingress_pending_bytes=0 ingress_sleeping=[01] /);
      expect(stdout).toMatch(/worker_1 ok send=direct received=\d+ /);
    } else {
      expect(stdout).not.toMatch(/worker_0/);
    }
    // latency_hdr is the printed distribution as a compressed HdrHistogram: same count, same p99
    const printed = /count=(\d+) p50=\d+ p99=(\d+)/.exec(stdout)!;
    const h = hdr.decodeFromCompressedBase64(/latency_hdr (\S+)/.exec(stdout)![1]!);
    expect(h.totalCount).toBe(Number(printed[1]));
    expect(h.totalCount).toBeGreaterThan(0);
    expect(h.getValueAtPercentile(99)).toBe(Number(printed[2]));
    expect(uac.received.find((x) => x.first.startsWith('SIP/2.0 503'))!.text).toContain('sig-2@');
    expect(uac.received.find((x) => x.first === 'SIP/2.0 200 OK')!.text).toContain('sig-1@');
  }, 20_000);
});

describe('SIGHUP', () => {
  it('reloads the list: new calls go to the new destination; a bad list keeps the old one; SIGTERM still drains and exits 0', async () => {
    const a = await Peer.open();
    const b = await Peer.open();
    const uac = await Peer.open();
    open.push(a, b, uac);
    for (const uas of [a, b]) {
      uas.onMessage = (r) => {
        if (r.first.startsWith('INVITE')) uas.send(answer(r.text, 200, 'OK', { toTag: 'hup', contact: `<sip:ms@127.0.0.1:${uas.port}>` }), r.from.port, r.from.address);
      };
    }
    const list = writeList(`1 sip:127.0.0.1:${a.port}\n`);
    const proxy = await startProxy({ SIPLB_LIST_FILE: list, SIPLB_WARMUP_CALLS: '0', SIPLB_RELOAD_DELTA: '0' });
    open.unshift(proxy);
    writeFileSync(list, `1 sip:127.0.0.1:${b.port}\n`);
    proxy.child.kill('SIGHUP');
    await waitFor(() => proxy.stderr().includes('"msg":"list reloaded"'));
    expect(proxy.stderr()).toMatch(/"trigger":"sighup","destinations":1,"kept":0,"reflagged":0,"added":1,"removed":1/);
    uac.send(invite(proxy.port, uac.port, 9), proxy.port);
    await uac.waitFor((r) => r.some((x) => x.first === 'SIP/2.0 200 OK'));
    expect(b.received.some((x) => x.first.startsWith('INVITE'))).toBe(true);
    expect(a.received.some((x) => x.first.startsWith('INVITE'))).toBe(false);
    // a bad line: refused, said, and the list in service stays
    writeFileSync(list, `1 sip:127.0.0.1:${a.port}\nnot-a-set sip:x\n`);
    proxy.child.kill('SIGHUP');
    await waitFor(() => proxy.stderr().includes('reload failed; the list in service stays'));
    expect(proxy.stderr()).toMatch(/"trigger":"sighup","reason":"SIPLB_LIST_FILE: 1 bad line in .*:2: set id/);
    uac.send(invite(proxy.port, uac.port, 10), proxy.port);
    await uac.waitFor((r) => r.filter((x) => x.first === 'SIP/2.0 200 OK').length === 2);
    expect(a.received.some((x) => x.first.startsWith('INVITE'))).toBe(false);
    expect(proxy.child.exitCode).toBeNull();
    const { code } = await proxy.stop();
    expect(code).toBe(0);
  });
});

async function waitFor(pred: () => boolean, ms = 5000): Promise<void> {
  const until = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > until) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}
