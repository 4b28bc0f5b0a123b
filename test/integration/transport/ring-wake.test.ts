// The ring's wake-up protocol against a real consumer thread. The producer here is hostile on
// purpose: besides one wake per record, it keeps calling wakeIfSleeping for records the consumer
// has already read, as the pool's batched flush does. Such a stale wake can clear SLEEPING
// between the consumer's store of the flag and its wait; a consumer that then waits on anything
// but the flag itself sleeps with the flag down and is never woken again (the SIPLB_WORKERS=2
// stall seen under SIPp load). Every record must be read within a generous bound.
import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { DatagramRing, type DatagramMeta } from '../../../src/shared/ring.js';

const WORKER = new URL('../../helpers/ring-count-worker.mjs', import.meta.url);
let worker: Worker | undefined;
afterEach(async () => {
  await worker?.terminate();
  worker = undefined;
});

/** Spins until the consumer's count reaches `n`; false after `ms` (a lost wake-up). */
function waitFor(counter: Int32Array, n: number, ms: number, ring: DatagramRing): boolean {
  const until = performance.now() + ms;
  while (Atomics.load(counter, 0) < n) {
    ring.wakeIfSleeping(); // the stale wakes that open the race window
    if (performance.now() > until) return false;
  }
  return true;
}

describe('ring wake-up with a consumer thread', () => {
  it('never leaves a record unread while the producer sends stale wakes', async () => {
    const sab = DatagramRing.create(1 << 16);
    const counterSab = new SharedArrayBuffer(4);
    const counter = new Int32Array(counterSab);
    worker = new Worker(WORKER, { workerData: { ring: sab, counter: counterSab } });
    await new Promise((resolve, reject) => {
      worker?.once('online', resolve);
      worker?.once('error', reject);
    });
    const ring = new DatagramRing(sab);
    const meta: DatagramMeta = { address: '127.0.0.1', port: 5060, family: 4, socket: 0, tag: 0 };
    const payload = new Uint8Array(64);
    // Bounded by time, not only count: the old protocol stalled within a few hundred records here.
    const deadline = performance.now() + 1500;
    let sent = 0;
    let stalledAt = -1;
    while (sent < 20_000 && performance.now() < deadline) {
      expect(ring.tryWrite(payload, meta)).toBe(true);
      sent++;
      ring.wakeIfSleeping();
      if (!waitFor(counter, sent, 500, ring)) {
        stalledAt = sent;
        break;
      }
      // Let the consumer go back to sleep now and then, so most records need a wake.
      if (sent % 4 === 0) await new Promise((r) => setImmediate(r));
    }
    expect({ stalledAt, pending: ring.pendingBytes, sleeping: ring.sleeping }).toEqual({ stalledAt: -1, pending: 0, sleeping: expect.any(Boolean) as boolean });
    expect(sent).toBeGreaterThan(500);
  });
});
