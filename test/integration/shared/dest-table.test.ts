// The destination table across real threads: what a worker writes is seen by this thread through
// the buffer alone (no message), concurrent Atomics.add and CAS lose nothing, and the latency
// seqlock never lets a reader see half a record.
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { DS_INACTIVE, DS_PROBING, stateLetters } from '../../../src/shared/dest-state.js';
import { DestTable, OC, OC_FIELDS, destTableLayout } from '../../../src/shared/dest-table.js';
import { beginWrite, endWrite } from '../../../src/shared/seqlock.js';

const WORKER = new URL('../../helpers/dest-table-worker.mjs', import.meta.url);
const workers: Worker[] = [];
afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.terminate()));
});

function start(workerData: Record<string, unknown>): Worker {
  const w = new Worker(WORKER, { workerData });
  workers.push(w);
  return w;
}

/** Spins until `done()`; false after `ms`. */
function spinUntil(done: () => boolean, ms: number): boolean {
  const until = performance.now() + ms;
  while (!done()) if (performance.now() > until) return false;
  return true;
}

describe('destination table shared by threads', () => {
  it('a mark made by a worker is seen here without any message', () => {
    const sab = DestTable.create([DS_PROBING, DS_PROBING]);
    const t = new DestTable(sab);
    start({ table: sab, job: 'mark', index: 1, state: DS_INACTIVE | DS_PROBING });
    expect(spinUntil(() => !t.usable(1), 10_000)).toBe(true);
    expect([stateLetters(t.flags(0)), stateLetters(t.flags(1))]).toEqual(['AP', 'IP']);
  });

  it('keepalive failures from a worker reach inactive after its thresholds', async () => {
    const sab = DestTable.create([DS_PROBING], { probing: 3, inactive: 1 });
    const w = start({ table: sab, job: 'probe-fail', index: 0, n: 2 });
    await once(w, 'exit');
    const t = new DestTable(sab);
    expect([stateLetters(t.flags(0)), t.failures(0)]).toEqual(['TP', 2]);
    t.probeResult(0, false, 1);
    expect(stateLetters(t.flags(0))).toBe('IP');
  });

  it('active-call load added from several threads at once loses nothing', async () => {
    const sab = DestTable.create([0, 0]);
    const n = 200_000;
    const ws = [start({ table: sab, job: 'load', index: 1, n }), start({ table: sab, job: 'load-cycle', index: 1, n })];
    const t = new DestTable(sab);
    for (let k = 0; k < n; k++) t.takeLoad(1);
    await Promise.all(ws.map((w) => once(w, 'exit')));
    expect([t.load(0), t.load(1)]).toEqual([0, 2 * n]);
  });

  it('a reader never sees a latency record half written', async () => {
    const sab = DestTable.create([0]);
    const t = new DestTable(sab);
    const w = start({ table: sab, job: 'latency', index: 0, n: 300_000 });
    let torn = 0;
    let reads = 0;
    let last = 0;
    const exited = once(w, 'exit');
    const deadline = performance.now() + 20_000;
    while (last < 300_000 && performance.now() < deadline) {
      const r = t.latency(0);
      const values = new Set(Object.values(r));
      if (values.size !== 1) torn++;
      last = r.COUNT;
      reads++;
    }
    await exited;
    expect(torn).toBe(0);
    expect(last).toBe(300_000);
    expect(reads).toBeGreaterThan(0);
  });

  it('workers racing for a maxload never take more than it', async () => {
    const sab = DestTable.create([0]);
    const ws = [0, 1].map(() => start({ table: sab, job: 'load-below', index: 0, n: 50_000, state: 1000 }));
    const t = new DestTable(sab);
    let mine = 0;
    for (let k = 0; k < 50_000; k++) if (t.takeLoadBelow(0, 1000)) mine++;
    await Promise.all(ws.map((w) => once(w, 'exit')));
    expect(t.load(0)).toBe(1000);
    expect(mine).toBeLessThanOrEqual(1000);
  });

  it('a second writer of an overload report waits while another thread holds the record', async () => {
    const sab = DestTable.create([0]);
    const words = new Int32Array(sab);
    const at = destTableLayout(1).ocSeq / 4;
    const held = beginWrite(words, at); // this thread is in the middle of writing the record
    const w = start({ table: sab, job: 'overload', index: 0, n: 1, parity: 1 }); // writes the report v = 1
    await new Promise((r) => setTimeout(r, 300));
    const seq = new Float64Array(sab, destTableLayout(1).oc, OC_FIELDS)[OC.SEQ];
    expect(seq).toBe(0); // it has not written meanwhile
    endWrite(words, at, held);
    await once(w, 'exit');
    expect(new DestTable(sab).readOverload(0, { until: 0, rate: 0, seq: 0 })).toEqual({ until: 1, rate: 1, seq: 1 });
  });
});
