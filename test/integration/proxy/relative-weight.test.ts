// Algorithm 11 as users run it: a siplb process with two dispatch workers, real UDP, three
// destinations with rweight 50/25/25. Each worker draws from its own 100-slot table, so 100 calls
// per worker (Call-IDs chosen by shard) are exactly one table each. One destination then fails
// and is marked inactive (SIPLB_MARK_FAILED=i): both workers must rebuild their tables over the
// other two, 66/34, rather than hand its share to a neighbour (which would give 75/25).
import { afterEach, describe, expect, it } from 'vitest';
import { Caller, callIdFor, destination } from '../../helpers/call-rig.js';
import { startProxy, writeList, type ProxyProcess } from '../../helpers/proxy-process.js';
import { Peer } from '../../helpers/udp-peer.js';

const open: Array<{ close(): Promise<void> } | ProxyProcess> = [];
afterEach(async () => {
  for (const x of open.splice(0)) await ('stop' in x ? x.stop() : x.close());
});

const invitesAt = (p: Peer): number => p.received.filter((r) => r.first.startsWith('INVITE')).length;

describe('algorithm 11 with SIPLB_WORKERS=2', () => {
  it('follows rweight, and re-spreads over the live destinations when one is marked down', async () => {
    let cDown = false;
    const a = await destination();
    const b = await destination();
    const c = await destination(() => (cDown ? 503 : 200));
    const uac = await Peer.open();
    open.push(a, b, c, uac);
    // priorities give the table order a, b, c (Kamailio sorts by priority, highest first)
    const list = writeList(`1 sip:127.0.0.1:${a.port} 0 30 rweight=50\n1 sip:127.0.0.1:${b.port} 0 20 rweight=25\n1 sip:127.0.0.1:${c.port} 0 10 rweight=25\n`);
    const proxy = await startProxy({ SIPLB_LIST_FILE: list, SIPLB_ALG: '11', SIPLB_WORKERS: '2', SIPLB_MARK_FAILED: 'i', SIPLB_OVERLOAD_DELAY: '0' });
    open.unshift(proxy);
    const caller = new Caller(uac, proxy.port);
    let n = 0;
    /** `perWorker` calls on each worker, 10 at a time; every one must be answered 200. */
    const calls = async (perWorker: number): Promise<number[]> => {
      const before = [a, b, c].map(invitesAt);
      for (let k = 0; k < 2 * perWorker; k += 10) {
        const batch = Array.from({ length: 10 }, (_, j) => callIdFor((k + j) % 2, 2, `rw-${n++}`));
        const finals = await Promise.all(batch.map((id) => caller.call(id)));
        expect(finals.map((f) => f.first)).toEqual(new Array(10).fill('SIP/2.0 200 OK'));
      }
      return [a, b, c].map((p, i) => invitesAt(p) - before[i]!);
    };

    expect(await calls(100)).toEqual([100, 50, 50]);

    // c starts failing: the first call that lands on it fails over and marks it inactive (calls
    // one at a time here, so that no second one reaches c before the mark)
    cDown = true;
    const cBefore = invitesAt(c);
    while (invitesAt(c) === cBefore) expect((await caller.call(callIdFor(n % 2, 2, `rw-${n++}`))).first).toBe('SIP/2.0 200 OK');
    expect(invitesAt(c)).toBe(cBefore + 1);

    expect(await calls(100)).toEqual([132, 68, 0]);
  });
});
