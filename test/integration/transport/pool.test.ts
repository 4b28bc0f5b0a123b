// WorkerPool with real worker threads and real UDP on 127.0.0.1 and ::1. The workers run
// test/helpers/echo-worker.mjs, which imports the compiled transport from dist/ (Node 20 worker
// threads do not load .ts; vitest's globalSetup runs scripts/build.mjs first).
import dgram from 'node:dgram';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { type WorkerRestartEvent, WorkerPool, createDispatch } from '../../../src/transport/pool.js';
import { type BoundSocket, type DatagramHandler, UdpTransport } from '../../../src/transport/udp.js';

const ECHO = new URL('../../helpers/echo-worker.mjs', import.meta.url);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const closers: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

const sipLike = (callId: string, seq: number, pad = 0): Buffer =>
  Buffer.from(`OPTIONS sip:echo@127.0.0.1 SIP/2.0\r\nCall-ID: ${callId}\r\nCSeq: ${seq} OPTIONS\r\nX-Pad: ${'p'.repeat(pad)}\r\n\r\n`);

interface Reply {
  worker: number;
  callId: string;
  seq: number;
  fromPort: number;
}
const parseReply = (buf: Buffer, rinfo: dgram.RemoteInfo): Reply => {
  const text = buf.toString('latin1');
  return {
    worker: Number(/^W(\d+) /.exec(text)?.[1] ?? -1),
    callId: /\r\nCall-ID: (\S+)/.exec(text)?.[1] ?? '',
    seq: Number(/\r\nCSeq: (\d+)/.exec(text)?.[1] ?? -1),
    fromPort: rinfo.port,
  };
};

async function client(type: 'udp4' | 'udp6', replies: Reply[]): Promise<dgram.Socket> {
  const sock = dgram.createSocket({ type, recvBufferSize: 4 << 20 });
  sock.on('message', (buf, rinfo) => replies.push(parseReply(buf, rinfo)));
  sock.bind(0, type === 'udp4' ? '127.0.0.1' : '::1');
  await once(sock, 'listening');
  closers.push(() => new Promise<void>((resolve) => sock.close(() => resolve())));
  return sock;
}

async function until(cond: () => boolean, ms = 10_000): Promise<void> {
  for (const end = Date.now() + ms; !cond(); await sleep(5)) if (Date.now() > end) throw new Error('timed out waiting');
}

/** A transport on three sockets (IPv4, IPv6, IPv4) routed into a pool of echo workers. */
async function echoProxy(workers: number, init: unknown = { annotate: true }) {
  const transport = new UdpTransport([
    { host: '127.0.0.1', port: 0, family: 4 },
    { host: '::1', port: 0, family: 6 },
    { host: '127.0.0.1', port: 0, family: 4 },
  ]);
  closers.push(() => transport.close());
  const pool = new WorkerPool({ script: ECHO, workers, sender: transport, init });
  closers.push(() => pool.close());
  const sockets: readonly BoundSocket[] = await transport.listen();
  await pool.start();
  transport.onDatagram(createDispatch(workers, () => expect.fail('inline handler used'), pool));
  return { transport, pool, sockets };
}

/** A pool whose egress goes to an array instead of sockets; datagrams go in through dispatch(). */
async function fakeSenderPool(opts: { workers?: number; ringBytes?: number; init?: unknown } = {}) {
  const sent: Array<{ socket: number; port: number; address: string; buf: Buffer }> = [];
  let waiter: { n: number; resolve: () => void } | undefined;
  const pool = new WorkerPool({
    script: ECHO,
    workers: opts.workers ?? 1,
    ringBytes: opts.ringBytes,
    init: opts.init,
    sender: {
      send: (socket, buf, port, address) => {
        sent.push({ socket, port, address, buf: Buffer.from(buf) });
        if (waiter !== undefined && sent.length >= waiter.n) waiter.resolve();
      },
    },
  });
  closers.push(() => pool.close());
  await pool.start();
  /** Resolves once `n` datagrams were sent (no polling: the window test waits thousands of times). */
  const sentAtLeast = (n: number): Promise<void> | undefined =>
    sent.length >= n ? undefined : new Promise<void>((resolve) => (waiter = { n, resolve }));
  return { pool, sent, sentAtLeast };
}
const rinfo = (size: number): dgram.RemoteInfo => ({ address: '127.0.0.1', family: 'IPv4', port: 5999, size });

describe('WorkerPool over UDP', () => {
  it('round-trips 5,000 datagrams of 200 calls over IPv4 and IPv6 sockets: no loss, order kept per call', async () => {
    const { transport, pool, sockets } = await echoProxy(2);
    const replies: Reply[] = [];
    const c4 = await client('udp4', replies);
    const c6 = await client('udp6', replies);
    const calls = Array.from({ length: 200 }, (_, k) => ({ id: `call-${k}-${(k * 2654435761) >>> 0}@uac.test`, socket: k % 3 }));
    let sent = 0;
    for (let seq = 0; seq < 25; seq++) {
      for (const c of calls) {
        const s = sockets[c.socket];
        (c.socket === 1 ? c6 : c4).send(sipLike(c.id, seq, 200), s?.port ?? 0, c.socket === 1 ? '::1' : '127.0.0.1');
        // Bounded rate: 100 datagrams per 5 ms, about 20,000/s.
        if (++sent % 100 === 0) await sleep(5);
      }
    }
    await until(() => replies.length >= 5000);
    await sleep(50); // nothing extra arrives
    expect(replies).toHaveLength(5000);
    const byCall = new Map<string, Reply[]>();
    for (const r of replies) byCall.set(r.callId, [...(byCall.get(r.callId) ?? []), r]);
    for (const [k, c] of calls.entries()) {
      const got = byCall.get(c.id) ?? [];
      expect(got.map((r) => r.seq), c.id).toEqual(Array.from({ length: 25 }, (_, i) => i));
      expect(new Set(got.map((r) => r.worker)).size, `${c.id} stays on one worker`).toBe(1);
      expect(new Set(got.map((r) => r.fromPort)), `call ${k} answered from its socket`).toEqual(new Set([sockets[c.socket]?.port]));
    }
    expect(new Set(replies.map((r) => r.worker))).toEqual(new Set([0, 1]));
    expect(pool.counters).toMatchObject({ ingress: 5000, egress: 5000, dropped: 0, workerRestarts: 0 });
    expect(transport.counters).toMatchObject({ received: 5000, sent: 5000, sendErrors: 0 });
  });

  it('replaces a worker that crashes, and traffic of its calls continues', async () => {
    const { pool, sockets } = await echoProxy(2);
    const replies: Reply[] = [];
    const c4 = await client('udp4', replies);
    const port = sockets[0]?.port ?? 0;
    c4.send(sipLike('victim@uac.test', 1), port, '127.0.0.1');
    await until(() => replies.length === 1);
    const victim = replies[0]?.worker ?? -1;
    const restarted = once(pool, 'restart') as Promise<[WorkerRestartEvent]>;
    c4.send(Buffer.from('CRASH sip:x SIP/2.0\r\nCall-ID: victim@uac.test\r\n\r\n'), port, '127.0.0.1');
    const [event] = await restarted;
    expect(event).toMatchObject({ index: victim, exitCode: 7, wasReady: true, workerRestarts: 1 });
    // Sent at once, before the replacement is ready: they wait in its new ingress ring.
    for (let seq = 2; seq < 52; seq++) c4.send(sipLike('victim@uac.test', seq), port, '127.0.0.1');
    await until(() => replies.length === 51);
    expect(replies.slice(1).map((r) => [r.worker, r.seq])).toEqual(Array.from({ length: 50 }, (_, i) => [victim, i + 2]));
    expect(pool.counters.workerRestarts).toBe(1);
    expect(pool.workers().every((w) => w.ready)).toBe(true);
  });
});

describe('WorkerPool rings', () => {
  it('drops and counts when a worker falls behind, without blocking the main thread', async () => {
    const { pool, sent, sentAtLeast } = await fakeSenderPool({ ringBytes: 4096 });
    pool.dispatch(Buffer.from('STALL 300\r\nCall-ID: a\r\n\r\n'), rinfo(30), 0);
    await sleep(50); // the worker is now inside its 300 ms stall
    const t0 = performance.now();
    for (let i = 0; i < 500; i++) pool.dispatch(sipLike('a', i, 400), rinfo(450), 0);
    expect(performance.now() - t0).toBeLessThan(100);
    const { ingress, dropped } = pool.counters;
    expect(ingress + dropped).toBe(501);
    expect(dropped).toBeGreaterThan(400);
    await sentAtLeast(ingress);
    expect(sent).toHaveLength(ingress);
    expect(pool.workers()[0]?.ingressPendingBytes).toBe(0);
  });

  it('carries random sizes across threads byte for byte, many times round small rings', async () => {
    const { pool, sent, sentAtLeast } = await fakeSenderPool({ ringBytes: 16384 });
    let seed = 42;
    const rnd = (n: number): number => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) >>> 8) % n;
    const expected: Buffer[] = [];
    for (let i = 0; i < 5000; i++) {
      const len = rnd(8) === 0 ? 3000 : rnd(1400);
      const buf = Buffer.allocUnsafe(len);
      for (let k = 0; k < len; k++) buf[k] = (i + k * 13) & 0xff;
      expected.push(buf);
      // At most 4 in flight: 4 x 3 KB plus a skipped tail fit in 16 KiB, so no ring is ever full
      // and every wait below needs a wake-up through both rings (a lost one hangs the test).
      await sentAtLeast(i - 3);
      pool.dispatch(buf, rinfo(len), i % 3);
    }
    await sentAtLeast(5000);
    expect(pool.counters.dropped).toBe(0);
    const bad = sent.filter((s, i) => !s.buf.equals(expected[i] ?? Buffer.alloc(0)) || s.socket !== i % 3 || s.port !== 5999);
    expect(bad).toHaveLength(0);
  });

  it('keeps an idle worker alive with no parentPort listener (waitAsync alone would not)', async () => {
    const { pool, sentAtLeast } = await fakeSenderPool({ init: { control: false } });
    const restarts: WorkerRestartEvent[] = [];
    pool.on('restart', (e) => restarts.push(e));
    await sleep(300);
    pool.dispatch(sipLike('idle', 1), rinfo(60), 0);
    await sentAtLeast(1);
    expect(restarts).toEqual([]);
  });
});

describe('WorkerPool lifecycle', () => {
  it('starts only when every worker posted ready, and rejects a worker that never does', async () => {
    const t0 = Date.now();
    const { pool } = await fakeSenderPool({ workers: 2, init: { readyDelayMs: 200 } });
    expect(Date.now() - t0).toBeGreaterThanOrEqual(190);
    expect(pool.workers().map((w) => w.ready)).toEqual([true, true]);

    const slow = new WorkerPool({ script: ECHO, workers: 1, sender: { send: () => {} }, init: { readyDelayMs: 60_000 }, readyTimeoutMs: 200 });
    closers.push(() => slow.close());
    await expect(slow.start()).rejects.toThrow(/did not post ready within 200 ms/);
  });

  it('passes control messages both ways with postAll', async () => {
    const { pool } = await fakeSenderPool({ workers: 2 });
    const got: Array<[number, unknown]> = [];
    pool.on('message', (index, msg) => got.push([index, msg]));
    pool.postAll({ type: 'stats' });
    await until(() => got.length === 2);
    expect(got.map(([i]) => i).sort()).toEqual([0, 1]);
    expect(got[0]?.[1]).toMatchObject({ type: 'stats', stats: { received: 0, sent: 0, dropped: 0 } });
  });

  it('createDispatch: inline with 0 workers, the pool otherwise', async () => {
    const inline: DatagramHandler = () => {};
    expect(createDispatch(0, inline)).toBe(inline);
    expect(() => createDispatch(2, inline)).toThrow(RangeError);
    const { pool } = await fakeSenderPool({ workers: 1 });
    expect(createDispatch(1, inline, pool)).toBe(pool.dispatch);
  });
});
