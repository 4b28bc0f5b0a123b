// Destination events through siplb as users run it: a destination that never answers fails a call
// over, SIPLB_MARK_FAILED=i takes it out, and the main thread's watcher reports dst-down to a
// real HTTP receiver (SIPLB_EVENT_WEBHOOK), to a real command (SIPLB_EVENT_COMMAND), in the log
// and in the report's counters; inline and with dispatch workers (the mark is made by a worker
// thread there). And a webhook receiver that is down costs the calls nothing.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { DestEvent } from '../../../src/events/event.js';
import { closedTcpPort, startReceiver, type HttpReceiver } from '../../helpers/http-receiver.js';
import { freeUdpPort, startProxy, writeList, type ProxyProcess } from '../../helpers/proxy-process.js';
import { BIN } from '../../helpers/run-cli.js';
import { Peer, answer, type Received } from '../../helpers/udp-peer.js';

const open: Array<Peer | ProxyProcess | HttpReceiver> = [];
afterEach(async () => {
  for (const x of open.splice(0)) await ('stop' in x ? x.stop() : x.close());
});

function invite(proxyPort: number, uacPort: number, i: number): string {
  return [
    `INVITE sip:service@127.0.0.1:${proxyPort} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${uacPort};branch=z9hG4bK-ev-${i};rport`,
    'Max-Forwards: 70',
    `From: <sip:alice@127.0.0.1:${uacPort}>;tag=ev${i}`,
    `To: <sip:service@127.0.0.1:${proxyPort}>`,
    `Call-ID: ev-${i}@127.0.0.1`,
    'CSeq: 1 INVITE',
    `Contact: <sip:alice@127.0.0.1:${uacPort}>`,
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

const oks = (r: Received[]): number => r.filter((x) => x.first === 'SIP/2.0 200 OK').length;

/** A live media server (answers 200), a dead one (a UDP port nobody reads) listed first, siplb in front. */
async function rig(env: Record<string, string>): Promise<{ proxy: ProxyProcess; uac: Peer; live: Peer; deadUri: string }> {
  const live = await Peer.open();
  const uac = await Peer.open();
  open.push(live, uac);
  live.onMessage = (r) => {
    if (!r.first.startsWith('INVITE')) return;
    live.send(answer(r.text, 200, 'OK', { toTag: 'live', contact: `<sip:ms@127.0.0.1:${live.port}>` }), r.from.port, r.from.address);
  };
  const dead = await freeUdpPort();
  const list = writeList(`1 sip:127.0.0.1:${dead} 0 10 duid=dead\n1 sip:127.0.0.1:${live.port} 0 5 duid=live\n`);
  // algorithm 8: highest priority first, so the first call tries the dead one and fails over
  const proxy = await startProxy({ SIPLB_LIST_FILE: list, SIPLB_ALG: '8', SIPLB_MARK_FAILED: 'i', SIPLB_FR_TIMER: '500', SIPLB_WARMUP_CALLS: '0', ...env });
  open.unshift(proxy);
  return { proxy, uac, live, deadUri: `sip:127.0.0.1:${dead}` };
}

/** The pino lines of the proxy's stderr with this message. */
const logLines = (stderr: string, msg: string): Array<Record<string, unknown>> =>
  stderr
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((l) => l.msg === msg);

describe.each([{ workers: '0' }, { workers: '2' }])('destination events (SIPLB_WORKERS=$workers)', ({ workers }) => {
  it('a failover with SIPLB_MARK_FAILED=i: dst-down to the webhook, the command, the log and the counters', async () => {
    const receiver = await startReceiver();
    open.push(receiver);
    const out = join(mkdtempSync(join(tmpdir(), 'siplb-events-')), 'event.env');
    const { proxy, uac, live, deadUri } = await rig({ SIPLB_WORKERS: workers, SIPLB_EVENT_WEBHOOK: receiver.url, SIPLB_EVENT_COMMAND: `echo $PPID > ${out}.ppid; env > ${out}.tmp && mv ${out}.tmp ${out}` });

    uac.send(invite(proxy.port, uac.port, 1), proxy.port);
    await uac.waitFor((r) => oks(r) === 1, 5000); // over to the live one after SIPLB_FR_TIMER
    await receiver.waitFor((r) => r.length === 1, 3000);
    const body = JSON.parse(receiver.requests[0]!.body) as DestEvent;
    expect(receiver.requests[0]!.headers['content-type']).toBe('application/json');
    expect(body).toEqual({
      event: 'dst-down',
      time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/) as unknown,
      node: `127.0.0.1:${proxy.port}`,
      set: 1,
      uri: deadUri,
      index: 0,
      id: `1:${deadUri}`,
      duid: 'dead',
      oldState: 'AX',
      newState: 'IX',
      reason: 'inactive',
    });

    // the dead one is skipped now: the next call goes straight to the live one
    uac.send(invite(proxy.port, uac.port, 2), proxy.port);
    await uac.waitFor((r) => oks(r) === 2, 1000);
    expect(live.received.filter((r) => r.first.startsWith('INVITE'))).toHaveLength(2);

    await waitUntil(() => existsSync(out));
    const env = readFileSync(out, 'utf8');
    expect(env).toContain('SIPLB_EVENT=dst-down\n');
    expect(env).toContain(`SIPLB_EVENT_URI=${deadUri}\n`);
    expect(env).toContain('SIPLB_EVENT_STATE=IX\n');
    expect(env).toContain(`SIPLB_EVENT_JSON=${receiver.requests[0]!.body}\n`);
    expect(env).not.toMatch(/^SIPLB_(LIST_FILE|EVENT_WEBHOOK)=/m); // siplb's settings stay with siplb

    const helper = Number(readFileSync(`${out}.ppid`, 'utf8'));
    expect(helper).not.toBe(proxy.child.pid); // a helper process runs the command, not siplb

    const { code, stdout, stderr } = await proxy.stop();
    expect(code).toBe(0);
    await waitUntil(() => !running(helper)); // and it is gone with siplb
    const [line, ...more] = logLines(stderr, 'destination down');
    expect(more).toEqual([]);
    expect(line).toMatchObject({ level: 40, uri: deadUri, duid: 'dead', oldState: 'AX', newState: 'IX', reason: 'inactive' });
    for (const counter of ['events_dst_down 1', 'events_dst_up 0', 'events_webhook_delivered 1', 'events_webhook_failed 0', 'events_webhook_queued 0', 'events_command_run 1', 'events_command_failed 0']) {
      expect(stdout).toContain(`\n  ${counter}\n`);
    }
  });
});

describe('destination events with the webhook receiver down', () => {
  it('calls still complete; the event is retried, given up and counted', async () => {
    const port = await closedTcpPort();
    const { proxy, uac } = await rig({ SIPLB_EVENT_WEBHOOK: `http://127.0.0.1:${port}/events`, SIPLB_EVENT_RETRIES: '2' });
    uac.send(invite(proxy.port, uac.port, 0), proxy.port);
    await uac.waitFor((r) => oks(r) === 1, 5000);
    // the webhook is failing and backing off (0.5 s, then 1 s) while these calls go through
    const calls = 40;
    for (let i = 1; i <= calls; i++) uac.send(invite(proxy.port, uac.port, i), proxy.port);
    await uac.waitFor((r) => oks(r) === calls + 1, 5000);
    await waitUntil(() => logLines(proxy.stderr(), 'event webhook gave up on an event').length === 1, 5000);
    const { code, stdout, stderr } = await proxy.stop();
    expect(code).toBe(0);
    expect(logLines(stderr, 'event webhook gave up on an event')[0]).toMatchObject({ event: 'dst-down', attempts: 3, error: expect.stringContaining('ECONNREFUSED') as unknown });
    for (const counter of ['events_dst_down 1', 'events_webhook_delivered 0', 'events_webhook_failed 1', 'events_webhook_dropped 0', 'events_webhook_queued 0']) {
      expect(stdout).toContain(`\n  ${counter}\n`);
    }
  });
});

describe('a webhook URL that is not http(s)', () => {
  it('siplb start refuses it in one line naming the variable, before serving', () => {
    const r = spawnSync(process.execPath, [BIN, 'start'], { env: { PATH: process.env.PATH ?? '', SIPLB_EVENT_WEBHOOK: 'hooks.example.com/siplb' }, encoding: 'utf8', timeout: 20_000 });
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split('\n')).toEqual([
      'siplb: SIPLB_EVENT_WEBHOOK: expected an http:// or https:// URL, e.g. http://127.0.0.1:8080/siplb-events, or empty (off), got "hooks.example.com/siplb" (SIPLB_ERR_CONFIG)',
    ]);
  });
});

/** Exists and is not a zombie (an orphan waits to be reaped by whoever adopted it). */
function running(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0] !== 'Z';
  } catch {
    return false;
  }
}

async function waitUntil(done: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!done()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}
