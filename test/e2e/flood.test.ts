// Issue 8, the flood test, with real processes: one source (127.0.0.2) sends at least 20,000
// datagrams a second for 10 s, new INVITEs with unique Call-IDs mixed with garbage, while SIPp
// places 100 calls a second from 127.0.0.1 through siplb to two media servers. siplb runs with
// SIPLB_TRUSTED=127.0.0.1, so the flooding address is not trusted, and flood control on its
// defaults (200 datagrams per 1000 ms, blocked 60 s). Measured before flood control: 57.5% of
// SIPp's calls completed, RSS grew from 93 to 265 MB and 21,903 flood INVITEs reached the media
// servers. The media servers are TypeScript UAS peers here, so each flood INVITE that reaches one
// is counted by its Call-ID.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startProxy, writeList, type ProxyProcess } from '../helpers/proxy-process.js';
import { Peer, answer } from '../helpers/udp-peer.js';
import { freeUdpPort } from './helpers/ports.js';
import { requireSipp, SIPP_MISSING, startSipp, type SippRun } from './helpers/sipp.js';
import { callThrough, sampleReport, type Report } from './helpers/flood-rig.js';

const haveSipp = requireSipp();
const FLOOD_RATE = 25_000;
const FLOOD_SECONDS = 10;
const CALL_RATE = 100;
const CALLS = 1300; // 13 s of calls: from before the flood starts to after it ends
const LIMIT = 200; // SIPLB_FLOOD_LIMIT's default, per SIPLB_FLOOD_WINDOW's 1000 ms

interface FloodStats {
  start: number;
  end: number;
  sent: number;
  invites: number;
  garbage: number;
  errors: number;
  rate: number;
}

const live: Array<SippRun | ProxyProcess | Peer> = [];
afterEach(async () => {
  for (const x of live.splice(0)) await ('child' in x ? x.stop() : 'pid' in x ? x.stop(200) : x.close());
});

/** Two media servers: 200 to every INVITE (with a Contact, so ACK and BYE come back through siplb), 200 to BYE. */
async function mediaServers(): Promise<{ peers: Peer[]; floodInvites: () => number }> {
  const peers = [await Peer.open(), await Peer.open()];
  const floodCallIds = new Set<string>();
  for (const [i, p] of peers.entries()) {
    live.push(p);
    p.onMessage = (r) => {
      const method = r.first.split(' ')[0]!;
      if (method === 'INVITE' || method === 'BYE') {
        if (method === 'INVITE' && r.text.includes('\r\nCall-ID: flood-')) floodCallIds.add(/\r\nCall-ID: (\S+)/.exec(r.text)![1]!);
        p.send(answer(r.text, 200, 'OK', { toTag: `ms${i}`, contact: `<sip:ms@127.0.0.1:${p.port}>` }), r.from.port, r.from.address);
      }
      // keep only what a check needs: 1,300 calls of INVITE, ACK and BYE would pile up
      if (p.received.length > 100) p.received.splice(0, 50);
    };
  }
  return { peers, floodInvites: () => floodCallIds.size };
}

function flood(port: number): Promise<FloodStats> {
  const script = join(import.meta.dirname, 'helpers', 'flooder.mjs');
  const child = spawn(process.execPath, [script, '127.0.0.1', String(port), String(FLOOD_RATE), String(FLOOD_SECONDS), '127.0.0.2'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), (FLOOD_SECONDS + 10) * 1000);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(JSON.parse(out) as FloodStats);
      else reject(new Error(`flooder exited ${code}\n${err}`));
    });
  });
}

describe.skipIf(!haveSipp)(haveSipp ? 'a flood from one source while SIPp places calls' : `flood (skipped: ${SIPP_MISSING})`, () => {
  it.each(['0', '2'])('SIPLB_WORKERS=%s: the flooder is blocked within 1 s, calls complete, memory stays flat', async (workers) => {
    const ms = await mediaServers();
    const proxy = await startProxy({
      SIPLB_LIST_FILE: writeList(ms.peers.map((p) => `1 sip:127.0.0.1:${p.port}\n`).join('')),
      SIPLB_WORKERS: workers,
      SIPLB_TRUSTED: '127.0.0.1',
    });
    live.unshift(proxy);
    const before = await sampleReport(proxy);

    const uac = await startSipp({ scenario: 'uac', role: 'uac', localPort: await freeUdpPort(), remote: `127.0.0.1:${proxy.port}`, rate: CALL_RATE, calls: CALLS, timeoutMs: 35_000 });
    live.push(uac);
    await new Promise((r) => setTimeout(r, 1000));
    const flooding = flood(proxy.port);
    const samples: Report[] = [];
    let floodDone = false;
    void flooding.finally(() => (floodDone = true)).catch(() => {});
    while (!floodDone) {
      await new Promise((r) => setTimeout(r, 2000));
      samples.push(await sampleReport(proxy));
    }
    const f = await flooding;
    const sipp = await uac.result;
    const after = await sampleReport(proxy);
    // a call placed after the flood, from a fresh caller
    const late = await callThrough(proxy.port, 'after-flood');

    const blockLine = proxy.stderr().split('\n').find((l) => l.includes('flood control: source blocked: 127.0.0.2'));
    const blockedAt = Number(/"time":(\d+)/.exec(blockLine ?? '')?.[1] ?? NaN);
    const peak = (k: keyof Report): number => Math.max(...samples.map((s) => s[k]), after[k]);
    const summary = {
      workers,
      floodRate: f.rate,
      floodSent: f.sent,
      blockedAfterMs: blockedAt - f.start,
      sippSuccessful: sipp.successful,
      sippFailed: sipp.failed,
      floodInvitesAtMediaServers: ms.floodInvites(),
      floodDropped: after.floodDropped,
      overloadRejected: after.overloadRejected,
      firstFailures: sipp.errors.split('\n').filter((l) => l.includes('Aborting')).slice(0, 3).map((l) => `${Number(/\t(\d+\.\d+):/.exec(l)?.[1] ?? 0) * 1000 - f.start}ms: ${l.slice(-40)}`),
      rssMB: [before.rss, peak('rss')].map((b) => Math.round(b / 2 ** 20)),
      heapMB: [before.heap, peak('heap')].map((b) => Math.round(b / 2 ** 20)),
      workersHeapMB: [before.workersHeap, peak('workersHeap')].map((b) => Math.round(b / 2 ** 20)),
    };
    console.log(`flood e2e: ${JSON.stringify(summary)}`);

    // the flood was what the issue asks for, and reached siplb
    expect(f.rate, JSON.stringify(f)).toBeGreaterThanOrEqual(20_000);
    expect(f.end - f.start).toBeGreaterThanOrEqual(FLOOD_SECONDS * 1000 - 50);
    expect(after.floodDropped).toBeGreaterThanOrEqual(0.9 * f.sent - LIMIT);
    // blocked within a second of the first datagram, once (the block outlasts the flood)
    expect(blockLine, proxy.stderr().slice(-3000)).toBeDefined();
    expect(summary.blockedAfterMs).toBeLessThanOrEqual(1000);
    expect(after.floodBlocks).toBe(1);
    expect(after.floodBlockedSources).toBe(1);
    // at most a window's worth of datagrams got through, so at most that many flood INVITEs
    expect(ms.floodInvites()).toBeGreaterThan(0);
    expect(ms.floodInvites()).toBeLessThanOrEqual(LIMIT);
    // SIPp's calls: at least 99.9% complete
    expect(sipp.successful + sipp.failed, sipp.errors.slice(-2000)).toBe(CALLS);
    expect(sipp.successful, sipp.errors.slice(-2000)).toBeGreaterThanOrEqual(Math.ceil(0.999 * CALLS));
    // memory: bounded through the flood (the unprotected proxy grew by 172 MB of RSS)
    expect(peak('rss') - before.rss).toBeLessThan(64 * 2 ** 20);
    expect(peak('heap') - before.heap).toBeLessThan(48 * 2 ** 20);
    expect(peak('workersHeap') - before.workersHeap).toBeLessThan(48 * 2 ** 20);
    // and it serves normally afterwards
    expect(late).toEqual(['SIP/2.0 200 OK', 'SIP/2.0 200 OK']);
  }, 60_000);
});
