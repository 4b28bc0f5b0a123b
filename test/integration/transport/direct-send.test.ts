// A dispatch worker's own sends (SIPLB_WORKER_SEND=direct): duplicates of the listening socket's
// descriptor (fd-dup.ts) that a thread may close without touching the listening socket, and the
// handle that sends on them (direct-send.ts).
import dgram from 'node:dgram';
import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { DirectSender } from '../../../src/transport/direct-send.js';
import { UdpTransport } from '../../../src/transport/udp.js';

const open: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const close of open.splice(0).reverse()) await close();
});

async function sink(): Promise<{ port: number; got: Array<{ text: string; port: number }> }> {
  const s = dgram.createSocket('udp4');
  const got: Array<{ text: string; port: number }> = [];
  s.on('message', (m, r) => got.push({ text: m.toString(), port: r.port }));
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  open.push(() => new Promise<void>((r) => s.close(() => r())));
  return { port: s.address().port, got };
}

const until = async (cond: () => boolean, ms = 3000): Promise<void> => {
  for (const end = Date.now() + ms; !cond(); ) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('duplicate descriptors of the listening socket', () => {
  it('a worker sends from the listening port on its duplicate, and its exit leaves the listening socket working', async () => {
    const udp = new UdpTransport([{ host: '127.0.0.1', port: 0, family: 4 }]);
    const [bound] = await udp.listen();
    open.push(() => udp.close());
    const received: string[] = [];
    udp.onDatagram((buf) => received.push(buf.toString()));
    const peer = await sink();
    const fds = await udp.duplicate();
    expect(fds).toHaveLength(1);
    // a worker thread that sends on the duplicate, then exits (its handles are closed with it)
    const code = `
      const { workerData, parentPort } = require('node:worker_threads');
      const { DirectSender } = require(workerData.module);
      const s = new DirectSender(workerData.fds, [4]);
      const ok = s.send(Buffer.from('from the worker'), '127.0.0.1', workerData.port, 0);
      parentPort.postMessage({ ok, sent: s.sent });`;
    const w = new Worker(code, { eval: true, workerData: { fds, port: peer.port, module: new URL('../../../dist/src/transport/direct-send.js', import.meta.url).pathname } });
    const msg = await new Promise<{ ok: boolean; sent: number }>((resolve, reject) => {
      w.once('message', resolve);
      w.once('error', reject);
    });
    expect(msg).toEqual({ ok: true, sent: 1 });
    await w.terminate();
    await until(() => peer.got.length === 1);
    expect(peer.got[0]).toEqual({ text: 'from the worker', port: bound!.port });
    // the listening socket still receives and sends after the worker's exit closed its duplicate
    const probe = dgram.createSocket('udp4');
    open.push(() => new Promise<void>((r) => probe.close(() => r())));
    probe.send('still listening', bound!.port, '127.0.0.1');
    await until(() => received.includes('still listening'));
    udp.send(0, Buffer.from('main sends'), peer.port, '127.0.0.1');
    await until(() => peer.got.length === 2);
    expect(peer.got[1]).toEqual({ text: 'main sends', port: bound!.port });
  });

  it('refuses a descriptor it cannot open, so the worker falls back to its ring', () => {
    expect(() => new DirectSender([-1], [4])).toThrow(/cannot open descriptor -1/);
  });
});
