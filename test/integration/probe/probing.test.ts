// Health probing through the real path: siplb started as users start it, its probe worker sending
// OPTIONS from the listening sockets, TypeScript backends on real UDP that answer, go silent or
// answer 480, and the state read back from the control channel (SIPLB_ADMIN) and `siplb ctl list`.
import { afterEach, describe, expect, it } from 'vitest';
import type { DispatcherList } from '../../../src/admin/dispatcher-list.js';
import { freeTcpPort, freeUdpPort, startProxy, writeList, type ProxyProcess } from '../../helpers/proxy-process.js';
import { startReceiver } from '../../helpers/http-receiver.js';
import { runCliEnv } from '../../helpers/run-cli.js';
import { Peer, answer, type Received } from '../../helpers/udp-peer.js';

const open: Array<{ close(): Promise<void> } | ProxyProcess> = [];
afterEach(async () => {
  for (const x of open.splice(0)) await ('stop' in x ? x.stop() : x.close());
});


/** A backend: answers OPTIONS with `options` (null = silent) and every other request with 200. */
class Backend {
  options: number | null = 200;
  readonly keepalives: Received[] = [];
  readonly calls: Received[] = [];
  private constructor(readonly peer: Peer) {
    peer.onMessage = (r) => {
      const method = r.first.split(' ')[0]!;
      if (method === 'ACK' || r.first.startsWith('SIP/2.0')) return;
      if (method === 'OPTIONS') {
        this.keepalives.push(r);
        if (this.options !== null) peer.send(answer(r.text, this.options, this.options === 200 ? 'OK' : 'Temporarily Unavailable'), r.from.port, r.from.address);
        return;
      }
      this.calls.push(r);
      peer.send(answer(r.text, 200, 'OK', { toTag: 'b' }), r.from.port, r.from.address);
    };
  }
  static async open(host = '127.0.0.1'): Promise<Backend> {
    const peer = await Peer.open(0, host);
    open.push(peer);
    return new Backend(peer);
  }
  get port(): number {
    return this.peer.port;
  }
}

interface Rig {
  proxy: ProxyProcess;
  admin: number;
  list(): Promise<DispatcherList>;
  flags(uri: string): Promise<string>;
}

async function rig(listText: string, env: Record<string, string>, extraListen: string[] = []): Promise<Rig> {
  const admin = await freeTcpPort();
  const proxy = await startProxy(
    { SIPLB_LIST_FILE: writeList(listText), SIPLB_ADMIN: `127.0.0.1:${admin}`, SIPLB_DS_PING_INTERVAL: '1', SIPLB_DS_PING_TIMEOUT: '400', SIPLB_FR_TIMER: '1000', ...env },
    extraListen,
  );
  open.unshift(proxy);
  const list = async (): Promise<DispatcherList> => (await (await fetch(`http://127.0.0.1:${admin}/api/dispatcher/list`)).json()) as DispatcherList;
  const flags = async (uri: string): Promise<string> => {
    for (const { SET } of (await list()).RECORDS) for (const { DEST } of SET.TARGETS) if (DEST.URI === uri) return DEST.FLAGS;
    throw new Error(`${uri} not listed`);
  };
  return { proxy, admin, list, flags };
}

/** Every distinct state a destination passes through, polled from the control channel every 50 ms. */
class StateLog {
  readonly seen: string[] = [];
  #stop = false;
  constructor(r: Rig, uri: string) {
    void (async () => {
      while (!this.#stop) {
        const f = await r.flags(uri).catch(() => undefined);
        if (f !== undefined && this.seen[this.seen.length - 1] !== f) this.seen.push(f);
        await new Promise((res) => setTimeout(res, 50));
      }
    })();
    open.push({ close: () => Promise.resolve(void (this.#stop = true)) });
  }
  async until(state: string, ms: number): Promise<void> {
    const until = Date.now() + ms;
    while (this.seen[this.seen.length - 1] !== state) {
      if (Date.now() > until) throw new Error(`never ${state}; seen ${this.seen.join(' ')}`);
      await new Promise((res) => setTimeout(res, 20));
    }
  }
}

function request(proxyPort: number, uacPort: number, i: number): string {
  return [
    `MESSAGE sip:service@127.0.0.1:${proxyPort} SIP/2.0`,
    `Via: SIP/2.0/UDP 127.0.0.1:${uacPort};branch=z9hG4bK-pr-${i}-${Date.now()};rport`,
    'Max-Forwards: 70',
    `From: <sip:alice@127.0.0.1:${uacPort}>;tag=f${i}`,
    `To: <sip:service@127.0.0.1:${proxyPort}>`,
    `Call-ID: pr-${i}-${Date.now()}@127.0.0.1`,
    'CSeq: 1 MESSAGE',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

/** Sends `n` requests through the proxy and waits for their final answers. */
async function calls(r: Rig, n: number): Promise<void> {
  const uac = await Peer.open();
  open.push(uac);
  for (let i = 0; i < n; i++) uac.send(request(r.proxy.port, uac.port, i), r.proxy.port);
  await uac.waitFor((got) => got.filter((g) => g.first.startsWith('SIP/2.0 200')).length === n, 5000);
}

describe('a backend that stops and starts answering keepalives', () => {
  // [mode, A's flags in the list, whether A starts silent, the states A must pass through]
  it.each([
    [1, 0, false, ['AX', 'AP', 'TP', 'IP', 'AP']],
    [3, 8, false, ['AP', 'TP', 'IP', 'AP']],
    [0, 8, true, ['AP', 'TP', 'IP', 'AX']],
    [2, 9, true, ['IP', 'AX']],
  ] as const)('probing mode %i (A flagged %i)', async (mode, flagsA, silentFirst, path) => {
    const a = await Backend.open();
    const b = await Backend.open();
    if (silentFirst) a.options = null;
    const uriA = `sip:127.0.0.1:${a.port}`;
    // thresholds of 2 both ways: trying is seen between active and inactive, and one answer is not enough to return
    const r = await rig(`1 ${uriA} ${flagsA} 0 duid=a\n1 sip:127.0.0.1:${b.port} 8 0 duid=b\n`, {
      SIPLB_DS_PROBING_MODE: String(mode),
      SIPLB_DS_PROBING_THRESHOLD: '2',
      SIPLB_DS_INACTIVE_THRESHOLD: '2',
    });
    const log = new StateLog(r, uriA);
    if (!silentFirst) {
      await log.until('AP', 4000);
      a.options = null; // A dies
    }
    await log.until('IP', 8000);
    // inactive: no new request goes to A
    const before = a.calls.length;
    await calls(r, 8);
    expect(a.calls.length).toBe(before);
    expect(b.calls.length).toBeGreaterThanOrEqual(8);
    // A answers again: back after the inactive threshold (two answers), not after one
    const failedPings = a.keepalives.length;
    a.options = 200;
    await log.until(path[path.length - 1]!, 8000);
    // mode 1 makes A 'AP' at its first answer, a few ms after the start: the poll may miss 'AX'
    expect(mode === 1 && log.seen[0] === 'AP' ? ['AX', ...log.seen] : log.seen).toEqual(path);
    expect(a.keepalives.length - failedPings).toBeGreaterThanOrEqual(2);
    // back in rotation
    await calls(r, 4);
    expect(a.calls.length).toBeGreaterThan(before);
    // `siplb ctl list` prints what the control channel holds
    const ctl = await runCliEnv(['ctl', 'list'], { SIPLB_ADMIN: `127.0.0.1:${r.admin}` });
    expect(ctl.stderr).toBe('');
    const line = ctl.stdout.split('\n').find((l) => l.includes(uriA))!;
    expect(line.split(/\s+/).slice(0, 4)).toEqual(['1', uriA, path[path.length - 1], '0']);
  }, 40_000);
});

describe('events from keepalives', () => {
  it('a backend that dies and returns: dst-down then dst-up reach the webhook, with the states', async () => {
    const hook = await startReceiver();
    open.push(hook);
    const a = await Backend.open();
    const uriA = `sip:127.0.0.1:${a.port}`;
    const r = await rig(`1 ${uriA} 8 0 duid=a\n`, { SIPLB_EVENT_WEBHOOK: hook.url });
    const log = new StateLog(r, uriA);
    await log.until('AP', 4000);
    a.options = null;
    await log.until('IP', 5000);
    a.options = 200;
    await log.until('AP', 5000);
    const until = Date.now() + 3000;
    while (hook.requests.length < 2 && Date.now() < until) await new Promise((res) => setTimeout(res, 50));
    const events = hook.requests.map((q) => JSON.parse(q.body) as { event: string; uri: string; from: string; to: string; duid: string });
    expect(events.map((e) => [e.event, e.uri, e.duid])).toEqual([
      ['dst-down', uriA, 'a'],
      ['dst-up', uriA, 'a'],
    ]);
    const { stdout } = await r.proxy.stop();
    expect(stdout).toMatch(/^\s+events_dst_down 1$/m);
    expect(stdout).toMatch(/^\s+events_dst_up 1$/m);
  }, 20_000);
});

describe('reply codes', () => {
  it.each([
    ['', 'IP'],
    ['code=480', 'AP'],
    ['class=4', 'AP'],
  ])('a backend answering 480 with SIPLB_DS_PING_REPLY_CODES=%j ends %s', async (codes, end) => {
    const a = await Backend.open();
    a.options = 480;
    const uriA = `sip:127.0.0.1:${a.port}`;
    const r = await rig(`1 ${uriA} 8\n`, { SIPLB_DS_PING_REPLY_CODES: codes });
    await a.peer.waitFor((got) => got.filter((g) => g.first.startsWith('OPTIONS')).length >= 2, 5000);
    await new Promise((res) => setTimeout(res, 200));
    expect(await r.flags(uriA)).toBe(end);
  }, 20_000);
});

describe('on the wire', () => {
  it('ping_from sets the From, obproxy the next hop, and the Request-URI stays the destination', async () => {
    const dest = await Backend.open();
    const outbound = await Backend.open();
    const uri = `sip:127.0.0.1:${dest.port}`;
    await rig(`1 ${uri} 8 0 ping_from=sip:health@lb.example.com;obproxy=sip:127.0.0.1:${outbound.port}\n`, {});
    await outbound.peer.waitFor((got) => got.some((g) => g.first.startsWith('OPTIONS')), 5000);
    const ka = outbound.keepalives[0]!;
    expect(ka.first).toBe(`OPTIONS ${uri} SIP/2.0`);
    expect(ka.text).toMatch(/\r\nFrom: <sip:health@lb\.example\.com>;tag=/);
    expect(dest.keepalives).toHaveLength(0);
  }, 20_000);

  it('the default From is SIPLB_DS_PING_FROM, the method SIPLB_DS_PING_METHOD', async () => {
    const dest = await Backend.open();
    await rig(`1 sip:127.0.0.1:${dest.port} 8\n`, { SIPLB_DS_PING_FROM: 'sip:ping@siplb.test', SIPLB_DS_PING_METHOD: 'INFO' });
    await dest.peer.waitFor((got) => got.some((g) => g.first.startsWith('INFO')), 5000);
    expect(dest.peer.received[0]!.text).toMatch(/\r\nFrom: <sip:ping@siplb\.test>;tag=/);
    expect(dest.peer.received[0]!.text).toMatch(/\r\nCSeq: 10 INFO\r\n/);
  }, 20_000);

  it('keepalives and calls leave from the socket a sockname= or socket= attr names', async () => {
    const named = await Backend.open();
    const byAddress = await Backend.open();
    const plain = await Backend.open();
    const second = await freeUdpPort('127.0.0.2');
    const third = await freeUdpPort('127.0.0.3');
    const r = await rig(
      `1 sip:127.0.0.1:${named.port} 8 0 sockname=side\n1 sip:127.0.0.1:${byAddress.port} 8 0 socket=udp:127.0.0.3:${third}\n1 sip:127.0.0.1:${plain.port} 8\n`,
      {},
      [`udp:127.0.0.2:${second} name side`, `udp:127.0.0.3:${third}`],
    );
    for (const b of [named, byAddress, plain]) await b.peer.waitFor((got) => got.some((g) => g.first.startsWith('OPTIONS')), 5000);
    expect(named.keepalives[0]!.from).toEqual({ address: '127.0.0.2', port: second });
    expect(named.keepalives[0]!.text).toContain(`Via: SIP/2.0/UDP 127.0.0.2:${second};branch=z9hG4bK-siplb-ka.`);
    expect(byAddress.keepalives[0]!.from).toEqual({ address: '127.0.0.3', port: third });
    expect(plain.keepalives[0]!.from).toEqual({ address: '127.0.0.1', port: r.proxy.port });
    await calls(r, 3); // round-robin: one each
    expect([named.calls.length, byAddress.calls.length, plain.calls.length], r.proxy.stderr()).toEqual([1, 1, 1]);
    expect(named.calls[0]!.from).toEqual({ address: '127.0.0.2', port: second });
    expect(byAddress.calls[0]!.from).toEqual({ address: '127.0.0.3', port: third });
    expect(plain.calls[0]!.from).toEqual({ address: '127.0.0.1', port: r.proxy.port });
  }, 20_000);

  it('a socket attr that names no socket of ours stops the start with the line and the reason', async () => {
    const res = await runCliEnv(['start'], { SIPLB_LIST_FILE: writeList('1 sip:127.0.0.1:5999 8 0 sockname=nope\n'), SIPLB_LISTEN: 'udp:127.0.0.1:5098', SIPLB_ADMIN: '' });
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/SIPLB_LIST_FILE: 1 bad line in .*dispatcher\.list, list not loaded:\n {2}.*:1: sockname=nope names no socket of SIPLB_LISTEN/);
  }, 20_000);
});
