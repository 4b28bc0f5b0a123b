// DatagramRing on one thread: records, wrap-around, full rings, the free-running positions crossing
// 2^32, and the sleep/wake handshake. test/integration/transport covers two threads.
import { describe, expect, it } from 'vitest';
import { CTRL, CTRL_BYTES, REC_HEADER_BYTES } from '../../../src/shared/layout.js';
import { DatagramRing, type DatagramMeta } from '../../../src/shared/ring.js';
import { RingConsumer } from '../../../src/shared/ring-consumer.js';

type Got = { payload: Buffer; meta: DatagramMeta };

function readAll(ring: DatagramRing, max = 1_000_000): Got[] {
  const got: Got[] = [];
  ring.read(max, (payload, meta) => got.push({ payload: Buffer.from(payload), meta: { ...meta } }));
  return got;
}

/** Deterministic PRNG: failures reproduce. */
function prng(seed: number): (n: number) => number {
  let s = seed >>> 0;
  return (n) => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) >>> 8) % n;
}

function pattern(seq: number, len: number): Buffer {
  const b = Buffer.allocUnsafe(len);
  for (let i = 0; i < len; i++) b[i] = (seq * 31 + i * 7) & 0xff;
  return b;
}

describe('DatagramRing records', () => {
  it('rounds the data area to a power of two and refuses foreign buffers', () => {
    expect(new DatagramRing(DatagramRing.create(5000)).capacity).toBe(8192);
    expect(new DatagramRing(DatagramRing.create(1)).capacity).toBe(4096);
    expect(() => new DatagramRing(new SharedArrayBuffer(8192))).toThrow(TypeError);
  });

  it('carries payload and every meta field (IPv4, IPv6, uint32 tag)', () => {
    const ring = new DatagramRing(DatagramRing.create(4096));
    const metas: DatagramMeta[] = [
      { address: '127.0.0.1', port: 5060, family: 4, socket: 0, tag: 0 },
      { address: '::1', port: 65535, family: 6, socket: 3, tag: 0xffff_ffff },
      { address: '2001:db8::5', port: 1, family: 6, socket: 65535, tag: 12345 },
      { address: '192.0.2.1', port: 0, family: 4, socket: 1, tag: 2 ** 31 },
    ];
    metas.forEach((m, i) => expect(ring.tryWrite(pattern(i, i * 3), m)).toBe(true));
    const got = readAll(ring);
    expect(got.map((g) => g.meta)).toEqual(metas);
    got.forEach((g, i) => expect(g.payload.equals(pattern(i, i * 3))).toBe(true));
    expect(ring.pendingBytes).toBe(0);
  });

  it('refuses addresses that are not literals of their family, without publishing anything', () => {
    const ring = new DatagramRing(DatagramRing.create(4096));
    expect(ring.tryWrite(Buffer.from('x'), { address: 'example.com', port: 1, family: 4, socket: 0, tag: 0 })).toBe(false);
    expect(ring.tryWrite(Buffer.from('x'), { address: '127.0.0.1', port: 1, family: 6, socket: 0, tag: 0 })).toBe(false);
    expect(ring.rejected).toBe(2);
    expect(ring.dropped).toBe(0);
    expect(ring.pendingBytes).toBe(0);
  });

  it('drops and counts when full, and accepts again once read', () => {
    const ring = new DatagramRing(DatagramRing.create(4096));
    const meta: DatagramMeta = { address: '10.0.0.1', port: 5060, family: 4, socket: 0, tag: 0 };
    let written = 0;
    while (ring.tryWrite(pattern(written, 500), meta)) written++;
    expect(written).toBe(Math.floor(4096 / (REC_HEADER_BYTES + 504)));
    expect(ring.tryWrite(pattern(0, 500), meta)).toBe(false);
    expect(ring.dropped).toBe(2);
    expect(readAll(ring, 1)).toHaveLength(1);
    expect(ring.tryWrite(pattern(99, 500), meta)).toBe(true);
    expect(readAll(ring)).toHaveLength(written);
  });

  it('refuses payloads over maxPayload; an empty ring takes maxPayload at every position', () => {
    const ring = new DatagramRing(DatagramRing.create(4096));
    const meta: DatagramMeta = { address: '10.0.0.1', port: 1, family: 4, socket: 0, tag: 0 };
    expect(ring.tryWrite(new Uint8Array(ring.maxPayload + 1), meta)).toBe(false);
    for (let pos = 0; pos < 4096; pos += 8) {
      // An empty ring whose positions stand at `pos`: the record fits directly or after a skip marker.
      const sab = DatagramRing.create(4096);
      const ctrl = new Int32Array(sab);
      ctrl[CTRL.WRITE_POS] = pos;
      ctrl[CTRL.READ_POS] = pos;
      const at = new DatagramRing(sab);
      expect(at.tryWrite(pattern(pos, at.maxPayload), meta)).toBe(true);
      const [got, ...rest] = readAll(at);
      expect(got?.payload.equals(pattern(pos, at.maxPayload))).toBe(true);
      expect(rest).toEqual([]);
    }
  });

  it.each([
    ['from zero', 0],
    ['across 2^32', 0xffff_f000],
  ])('wraps with random sizes and batches, every byte checked (%s)', (_name, start) => {
    const sab = DatagramRing.create(8192);
    const ctrl = new Int32Array(sab);
    ctrl[CTRL.WRITE_POS] = start | 0;
    ctrl[CTRL.READ_POS] = start | 0;
    const producer = new DatagramRing(sab);
    const consumer = new DatagramRing(sab);
    const rnd = prng(start + 1);
    let sent = 0;
    let received = 0;
    let bad = 0;
    const check = (payload: Uint8Array, meta: DatagramMeta): void => {
      // Counted, not expect()ed: 20,000 expect calls would dominate the test's run time.
      const ok =
        meta.tag === received &&
        meta.port === (received & 0xffff) &&
        meta.address === `10.0.${received & 0xff}.1` &&
        Buffer.from(payload).equals(pattern(received, meta.socket));
      if (!ok) bad++;
      received++;
    };
    while (received < 20_000) {
      for (let k = rnd(12); k > 0; k--) {
        const len = rnd(5) === 0 ? rnd(producer.maxPayload + 1) : rnd(700);
        const meta: DatagramMeta = { address: `10.0.${sent & 0xff}.1`, port: sent & 0xffff, family: 4, socket: len, tag: sent };
        if (producer.tryWrite(pattern(sent, len), meta)) sent++;
      }
      consumer.read(1 + rnd(10), check);
    }
    consumer.read(1_000_000, check);
    expect(received).toBe(sent);
    expect(bad).toBe(0);
    expect(producer.dropped).toBeGreaterThan(0); // the random bursts did fill it
    expect(Atomics.load(ctrl, CTRL.WRITE_POS)).toBe(Atomics.load(ctrl, CTRL.READ_POS));
  });

  it('loses only the record whose callback throws', () => {
    const ring = new DatagramRing(DatagramRing.create(4096));
    const meta: DatagramMeta = { address: '10.0.0.1', port: 1, family: 4, socket: 0, tag: 0 };
    for (let i = 0; i < 3; i++) ring.tryWrite(Buffer.from([i]), meta);
    expect(() =>
      ring.read(10, (p) => {
        if (p[0] === 1) throw new Error('boom');
      }),
    ).toThrow('boom');
    expect(readAll(ring).map((g) => g.payload[0])).toEqual([2]);
  });
});

describe('DatagramRing corruption', () => {
  it('throws once on a record longer than what was published, then discards the rest', () => {
    const sab = DatagramRing.create(4096);
    const ring = new DatagramRing(sab);
    const meta: DatagramMeta = { address: '10.0.0.1', port: 1, family: 4, socket: 0, tag: 0 };
    ring.tryWrite(Buffer.from('abc'), meta);
    ring.tryWrite(Buffer.from('def'), meta);
    new Int32Array(sab)[CTRL_BYTES / 4] = 1 << 20; // first record's LENGTH
    expect(() => ring.read(10, () => {})).toThrow(RangeError);
    expect(ring.read(10, () => {})).toBe(0);
    expect(ring.tryWrite(Buffer.from('ghi'), meta)).toBe(true);
    expect(readAll(ring).map((g) => g.payload.toString())).toEqual(['ghi']);
  });
});

describe('DatagramRing wake protocol', () => {
  const meta: DatagramMeta = { address: '127.0.0.1', port: 1, family: 4, socket: 0, tag: 0 };

  it('sleeps only on an empty ring, and notifies only a sleeper, once', async () => {
    const sab = DatagramRing.create(4096);
    const producer = new DatagramRing(sab);
    const consumer = new DatagramRing(sab);
    expect(producer.wakeIfSleeping()).toBe(false);
    producer.tryWrite(Buffer.from('a'), meta);
    expect(consumer.sleep()).toBeNull(); // data pending: read instead
    expect(readAll(consumer)).toHaveLength(1);
    const settled = consumer.sleep();
    expect(settled).not.toBeNull();
    producer.tryWrite(Buffer.from('b'), meta);
    expect(producer.wakeIfSleeping()).toBe(true);
    expect(producer.wakeIfSleeping()).toBe(false); // flag consumed by the first
    await settled;
    consumer.awake();
    expect(readAll(consumer).map((g) => g.payload.toString())).toEqual(['b']);
    expect(producer.notifies).toBe(1);
  });

  it('RingConsumer drains in batches and wakes on notify', async () => {
    const sab = DatagramRing.create(1 << 16);
    const producer = new DatagramRing(sab);
    const got: string[] = [];
    let batches = 0;
    const consumer = new RingConsumer(new DatagramRing(sab), (p) => got.push(Buffer.from(p).toString()), {
      batch: 4,
      onBatchEnd: () => batches++,
      keepAlive: false,
    });
    producer.tryWrite(Buffer.from('early'), meta);
    consumer.start();
    expect(got).toEqual([]); // never from inside start(): the caller may not be set up yet
    await new Promise((r) => setImmediate(r)); // first turn: reads 'early', then sleeps
    expect(got).toEqual(['early']);
    for (let i = 0; i < 10; i++) producer.tryWrite(Buffer.from(`m${i}`), meta);
    producer.wakeIfSleeping();
    await new Promise((r) => setTimeout(r, 20));
    expect(got).toEqual(['early', ...Array.from({ length: 10 }, (_, i) => `m${i}`)]);
    expect(batches).toBe(4);
    expect(consumer.wakeups).toBe(1);
    consumer.stop();
  });
});
