// Flood control per source through real UDP, siplb started as users start it: a source over
// SIPLB_FLOOD_LIMIT is blocked and gets silence (no answer per datagram), sources in
// SIPLB_TRUSTED and destinations of the list (any port) are never counted, the block ends after
// SIPLB_FLOOD_BLOCK for a source that stopped, and the USR2 report counts it all. 127.0.0.0/8 is
// local on Linux, so 127.0.0.2 and 127.0.0.3 are other sources without a namespace.
import { afterEach, describe, expect, it } from 'vitest';
import { startProxy, writeList, type ProxyProcess } from '../../helpers/proxy-process.js';
import { Peer } from '../../helpers/udp-peer.js';

const open: Array<Peer | ProxyProcess> = [];
afterEach(async () => {
  for (const x of open.splice(0)) await ('stop' in x ? x.stop() : x.close());
});

/** An OPTIONS to siplb itself: siplb answers it 200, so every admitted datagram shows. */
function options(proxyPort: number, from: Peer, host: string, i: number): string {
  return [
    `OPTIONS sip:127.0.0.1:${proxyPort} SIP/2.0`,
    `Via: SIP/2.0/UDP ${host}:${from.port};branch=z9hG4bK-fl-${host}-${i};rport`,
    'Max-Forwards: 70',
    `From: <sip:probe@${host}>;tag=fl${i}`,
    `To: <sip:127.0.0.1:${proxyPort}>`,
    `Call-ID: flood-${host}-${i}@test`,
    `CSeq: 1 OPTIONS`,
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

async function burst(proxy: ProxyProcess, peer: Peer, host: string, n: number, from = 0): Promise<void> {
  for (let i = from; i < from + n; i++) {
    peer.send(options(proxy.port, peer, host, i), proxy.port);
    if (i % 50 === 49) await new Promise((r) => setImmediate(r)); // let the socket buffers breathe
  }
}

const oks = (p: Peer): number => p.received.filter((r) => r.first === 'SIP/2.0 200 OK').length;
const settle = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function report(proxy: ProxyProcess): Promise<string> {
  const before = proxy.stdout().length;
  proxy.child.kill('SIGUSR2');
  for (let i = 0; i < 100 && !proxy.stdout().slice(before).includes('latency (µs'); i++) await settle(50);
  return proxy.stdout().slice(before);
}

describe.each([{ workers: '0' }, { workers: '2' }])('flood control (SIPLB_WORKERS=$workers)', ({ workers }) => {
  it('blocks a source over the limit silently, spares trusted sources and destinations, unblocks after the block', async () => {
    const flooder = await Peer.open(0, '127.0.0.2');
    const trusted = await Peer.open(0, '127.0.0.1');
    const dest = await Peer.open(0, '127.0.0.3'); // a destination of the list...
    const destOtherPort = await Peer.open(0, '127.0.0.3'); // ...sending from another port
    open.push(flooder, trusted, dest, destOtherPort);
    const proxy = await startProxy({
      SIPLB_LIST_FILE: writeList(`1 sip:127.0.0.3:${dest.port}\n`),
      SIPLB_WORKERS: workers,
      SIPLB_TRUSTED: '127.0.0.1',
      SIPLB_FLOOD_LIMIT: '40',
      SIPLB_FLOOD_WINDOW: '1000',
      SIPLB_FLOOD_BLOCK: '2',
      SIPLB_WARMUP_CALLS: '0',
    });
    open.unshift(proxy);

    await burst(proxy, flooder, '127.0.0.2', 200);
    await burst(proxy, trusted, '127.0.0.1', 200);
    await trusted.waitFor(() => oks(trusted) === 200);
    await burst(proxy, destOtherPort, '127.0.0.3', 200);
    await destOtherPort.waitFor(() => oks(destOtherPort) === 200);
    await settle(300);
    // the limit passes, the rest gets nothing at all; the exempt sources got every answer
    expect(oks(flooder)).toBe(40);
    expect(flooder.received).toHaveLength(40);
    const blockedLine = proxy.stderr().split('\n').find((l) => l.includes('flood control: source blocked: 127.0.0.2'));
    expect(blockedLine).toMatch(/"level":40,/);
    expect(blockedLine).toMatch(/over SIPLB_FLOOD_LIMIT=40 per SIPLB_FLOOD_WINDOW=1000 ms; its datagrams are dropped unanswered for SIPLB_FLOOD_BLOCK=2 s\. A load generator or an upstream SBC belongs in SIPLB_TRUSTED\./);
    expect(blockedLine).toMatch(/"address":"127\.0\.0\.2","ratePerSecond":\d+,"again":false/);
    expect(proxy.stderr()).not.toMatch(/flood control: source blocked: 127\.0\.0\.[13]/);

    const during = await report(proxy);
    expect(during).toMatch(/\n {2}flood_dropped 160\n {2}flood_blocks 1\n {2}flood_blocked_sources 1\n/);

    // quiet through the block, then admitted again
    await settle(3200);
    await burst(proxy, flooder, '127.0.0.2', 5, 1000);
    await flooder.waitFor(() => oks(flooder) === 45);
    const after = await report(proxy);
    expect(after).toMatch(/\n {2}flood_dropped 160\n {2}flood_blocks 1\n {2}flood_blocked_sources 0\n/);
  }, 30_000);

  it('a source still flooding when its block ends is blocked again, and says so', async () => {
    const flooder = await Peer.open(0, '127.0.0.2');
    open.push(flooder);
    const proxy = await startProxy({ SIPLB_WORKERS: workers, SIPLB_TRUSTED: '127.0.0.1', SIPLB_FLOOD_LIMIT: '40', SIPLB_FLOOD_BLOCK: '1', SIPLB_WARMUP_CALLS: '0' });
    open.unshift(proxy);
    // about 300 datagrams a second for 2.5 s: over the limit the whole time
    for (let i = 0; i < 50; i++) {
      await burst(proxy, flooder, '127.0.0.2', 15, i * 15);
      await settle(50);
    }
    await settle(200);
    expect(proxy.stderr()).toContain('flood control: still flooding, blocked again: 127.0.0.2');
    // 750 sent; 40 passed before the first block, and nothing when it ended (a sender stalled for
    // most of a second by a loaded host could let a few more through: that is the rule working)
    expect(oks(flooder)).toBeGreaterThanOrEqual(40);
    expect(oks(flooder)).toBeLessThan(60);
    const r = await report(proxy);
    expect(r).toMatch(/\n {2}flood_blocks [2-9]\n/);
    expect(r).toContain(`\n  flood_dropped ${750 - oks(flooder)}\n`);
  }, 30_000);
});
