// UdpTransport on loopback: several sockets of both families, buffer sizes, counters, close.
import dgram from 'node:dgram';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { type BoundSocket, UdpTransport } from '../../../src/transport/udp.js';

const closers: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

async function client(type: 'udp4' | 'udp6'): Promise<dgram.Socket> {
  const sock = dgram.createSocket(type);
  sock.bind(0, type === 'udp4' ? '127.0.0.1' : '::1');
  await once(sock, 'listening');
  closers.push(() => new Promise<void>((resolve) => sock.close(() => resolve())));
  return sock;
}

describe('UdpTransport', () => {
  it('binds IPv4 and IPv6 sockets at once and sizes their buffers', async () => {
    const logs: Array<[string, string, Record<string, unknown>]> = [];
    const t = new UdpTransport(
      [
        { host: '127.0.0.1', port: 0, family: 4 },
        { host: '::1', port: 0, family: 6 },
        { host: '127.0.0.1', port: 0, family: 4 },
      ],
      { recvBufferSize: 1 << 20, sendBufferSize: 256 << 10, log: (level, m, fields) => logs.push([level, m, fields]) },
    );
    closers.push(() => t.close());
    const bound: readonly BoundSocket[] = await t.listen();
    expect(bound.map((b) => [b.index, b.family])).toEqual([
      [0, 4],
      [1, 6],
      [2, 4],
    ]);
    for (const b of bound) {
      expect(b.port).toBeGreaterThan(0);
      // Linux reports twice the granted size; the request is below net.core.rmem_max here.
      expect(b.recvBufferSize).toBeGreaterThanOrEqual(1 << 20);
      expect(b.sendBufferSize).toBeGreaterThanOrEqual(256 << 10);
    }
    expect(logs).toHaveLength(3);
    expect(logs[0]?.[2]).toMatchObject({ requestedRecvBufferSize: 1 << 20, recvBufferSize: bound[0]?.recvBufferSize });
  });

  it('hands each datagram over with its socket index and sends from the socket asked for', async () => {
    const t = new UdpTransport([
      { host: '127.0.0.1', port: 0, family: 4 },
      { host: '::1', port: 0, family: 6 },
    ]);
    closers.push(() => t.close());
    const [s4, s6] = await t.listen();
    const seen: Array<[string, string, number]> = [];
    t.onDatagram((buf, rinfo, socket) => {
      seen.push([buf.toString(), rinfo.address, socket]);
      t.send(socket, Buffer.from(`re:${buf.toString()}`), rinfo.port, rinfo.address);
    });
    const c4 = await client('udp4');
    const c6 = await client('udp6');
    const reply = (sock: dgram.Socket): Promise<[Buffer, dgram.RemoteInfo]> =>
      new Promise((resolve) => sock.once('message', (m: Buffer, r: dgram.RemoteInfo) => resolve([m, r])));
    const replies = Promise.all([reply(c4), reply(c6)]);
    c4.send('four', s4?.port ?? 0, '127.0.0.1');
    c6.send('six', s6?.port ?? 0, '::1');
    const [[m4, r4], [m6, r6]] = await replies;
    expect(String(m4)).toBe('re:four');
    expect(r4.port).toBe(s4?.port);
    expect(String(m6)).toBe('re:six');
    expect(r6.port).toBe(s6?.port);
    expect(seen.sort()).toEqual([
      ['four', '127.0.0.1', 0],
      ['six', '::1', 1],
    ]);
    expect(t.counters).toMatchObject({ received: 2, sent: 2, sendErrors: 0, socketErrors: 0 });
  });

  it('counts sends it cannot make instead of throwing', async () => {
    const t = new UdpTransport([{ host: '127.0.0.1', port: 0, family: 4 }]);
    closers.push(() => t.close());
    await t.listen();
    const errors: Array<Error | null> = [];
    t.send(5, Buffer.from('x'), 5060, '127.0.0.1', (err) => errors.push(err));
    await new Promise<void>((resolve) => t.send(0, Buffer.from('x'), 9, '::1', (err) => (errors.push(err), resolve())));
    expect(errors.map((e) => e !== null)).toEqual([true, true]); // no socket 5; IPv6 target from an IPv4 socket
    expect(t.counters.socketErrors).toBe(1);
    expect(t.counters.sendErrors).toBe(1);
  });

  it('fails listen() on a port in use and releases what it bound', async () => {
    const first = new UdpTransport([{ host: '127.0.0.1', port: 0, family: 4 }]);
    closers.push(() => first.close());
    const [taken] = await first.listen();
    const second = new UdpTransport([
      { host: '127.0.0.1', port: 0, family: 4 },
      { host: '127.0.0.1', port: taken?.port ?? 0, family: 4 },
    ]);
    await expect(second.listen()).rejects.toThrow(/EADDRINUSE/);
    expect(second.sockets).toEqual([]);
  });

  it('queue probes measure the wait in each socket queue and never reach the handler', async () => {
    const t = new UdpTransport([
      { host: '127.0.0.1', port: 0, family: 4 },
      { host: '::1', port: 0, family: 6 },
    ]);
    closers.push(() => t.close());
    const [v4] = await t.listen();
    const got: string[] = [];
    let blockMs = 0;
    t.onDatagram((buf) => {
      got.push(buf.toString('latin1'));
      const until = performance.now() + blockMs;
      while (performance.now() < until); // a saturated proxy: every datagram costs blockMs
    });
    t.startQueueProbe(20);
    await new Promise((r) => setTimeout(r, 200));
    expect(t.queueDelayMs()).toBeLessThan(50); // idle: the probes come straight back
    expect(got).toEqual([]);
    expect(t.counters.received).toBe(0);

    // 40 datagrams that each hold the loop 10 ms: a probe sent meanwhile waits behind them
    const c = await client('udp4');
    blockMs = 10;
    for (let i = 0; i < 40; i++) c.send(`OPTIONS ${i}`, v4!.port, '127.0.0.1');
    let worst = 0;
    const until = Date.now() + 3000;
    while (got.length < 40 && Date.now() < until) {
      await new Promise((r) => setImmediate(r));
      worst = Math.max(worst, t.queueDelayMs());
    }
    expect(got).toHaveLength(40);
    expect(worst).toBeGreaterThan(50);
    blockMs = 0;
    await new Promise((r) => setTimeout(r, 200));
    expect(t.queueDelayMs()).toBeLessThan(50);
    expect(got.every((g) => g.startsWith('OPTIONS'))).toBe(true);
  });

  it('ignores a datagram that looks like a probe but is not one of ours', async () => {
    const t = new UdpTransport([{ host: '127.0.0.1', port: 0, family: 4 }]);
    closers.push(() => t.close());
    const [b] = await t.listen();
    const got: Buffer[] = [];
    t.onDatagram((buf) => got.push(buf));
    t.startQueueProbe(20);
    const c = await client('udp4');
    c.send(Buffer.alloc(16), b!.port, '127.0.0.1'); // 16 NULs from a stranger: handed on, counted
    const until = Date.now() + 2000;
    while (got.length === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    expect(got).toHaveLength(1);
    expect(t.counters.received).toBe(1);
  });

  it('sends to an IP literal at once and still resolves a name', async () => {
    const t = new UdpTransport([{ host: '127.0.0.1', port: 0, family: 4 }]);
    closers.push(() => t.close());
    await t.listen();
    const c = await client('udp4');
    const got: string[] = [];
    c.on('message', (m) => got.push(m.toString()));
    t.send(0, Buffer.from('literal'), c.address().port, '127.0.0.1');
    t.send(0, Buffer.from('name'), c.address().port, 'localhost');
    const until = Date.now() + 2000;
    while (got.length < 2 && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    expect(got.sort()).toEqual(['literal', 'name']);
    expect(t.counters.sendErrors).toBe(0);
  });
});
