// Algorithm 10 as users run it: a siplb process with two dispatch workers, real UDP, two
// destinations with maxload=2. The calls are placed one at a time, their Call-IDs chosen to
// alternate between the workers, so each pick shows whether the load of the other worker's calls
// was seen (the shared table) and a call past both maxloads shows whether the sum is honoured.
import { afterEach, describe, expect, it } from 'vitest';
import { Caller, callIdFor, destination } from '../../helpers/call-rig.js';
import { startProxy, writeList, type ProxyProcess } from '../../helpers/proxy-process.js';
import { Peer } from '../../helpers/udp-peer.js';

const open: Array<{ close(): Promise<void> } | ProxyProcess> = [];
afterEach(async () => {
  for (const x of open.splice(0)) await ('stop' in x ? x.stop() : x.close());
});

describe.each([{ mode: 'stateful' }, { mode: 'stateless' }])('algorithm 10 with SIPLB_WORKERS=2 ($mode)', ({ mode }) => {
  it('balances active calls across both workers, refuses calls past maxload, frees load on BYE, failure and CANCEL', async () => {
    // a destination answers 200, except the calls the test names: 486, or ring until cancelled
    const fail = new Set<string>();
    const ring = new Set<string>();
    const rule = (id: string): number | 'ring' => (ring.has(id) ? 'ring' : fail.has(id) ? 486 : 200);
    const a = await destination(rule);
    const b = await destination(rule);
    const uac = await Peer.open();
    open.push(a, b, uac);
    const list = writeList(`1 sip:127.0.0.1:${a.port} 0 10 duid=a;maxload=2\n1 sip:127.0.0.1:${b.port} 0 5 duid=b;maxload=2\n`);
    const proxy = await startProxy({ SIPLB_LIST_FILE: list, SIPLB_ALG: '10', SIPLB_MODE: mode, SIPLB_WORKERS: '2', SIPLB_OVERLOAD_DELAY: '0' });
    open.unshift(proxy);
    const caller = new Caller(uac, proxy.port);
    let n = 0;
    const idAt = (k: number): string => callIdFor(k % 2, 2, `${mode}-c${k}`); // call k on worker k % 2
    const id = (): string => idAt(n++);
    const at = (p: Peer, callId: string): boolean => p.received.some((r) => r.first.startsWith('INVITE') && r.text.includes(`Call-ID: ${callId}`));
    const place = async (): Promise<{ callId: string; status: string; to: string }> => {
      const callId = id();
      const final = await caller.call(callId);
      return { callId, status: final.first, to: at(a, callId) ? 'a' : at(b, callId) ? 'b' : '-' };
    };

    // least loaded, whichever worker picks: a (0/0), b (1/0), a (1/1), b (2/1); then both full
    const first = [await place(), await place(), await place(), await place()];
    expect(first.map((c) => [c.to, c.status])).toEqual([
      ['a', 'SIP/2.0 200 OK'],
      ['b', 'SIP/2.0 200 OK'],
      ['a', 'SIP/2.0 200 OK'],
      ['b', 'SIP/2.0 200 OK'],
    ]);
    expect(await place()).toMatchObject({ to: '-', status: 'SIP/2.0 503 Service Unavailable' });

    // a BYE frees a slot on a, which the next call takes (from the other worker than the BYE's)
    await caller.hangUp(first[0]!.callId);
    expect(await place()).toMatchObject({ to: 'a', status: 'SIP/2.0 200 OK' });
    expect(await place()).toMatchObject({ to: '-', status: 'SIP/2.0 503 Service Unavailable' });

    // a failed call gives its slot back at once
    await caller.hangUp(first[1]!.callId);
    fail.add(idAt(n));
    expect(await place()).toMatchObject({ to: 'b', status: 'SIP/2.0 486 Failed' });
    expect(await place()).toMatchObject({ to: 'b', status: 'SIP/2.0 200 OK' });
    expect(await place()).toMatchObject({ to: '-', status: 'SIP/2.0 503 Service Unavailable' });

    // so does a call the caller cancels while it rings
    await caller.hangUp(first[2]!.callId);
    const ringing = id();
    ring.add(ringing);
    await caller.ring(ringing);
    expect(at(a, ringing)).toBe(true);
    expect(await place()).toMatchObject({ to: '-', status: 'SIP/2.0 503 Service Unavailable' });
    await caller.cancel(ringing);
    expect(await place()).toMatchObject({ to: 'a', status: 'SIP/2.0 200 OK' });
    expect(await place()).toMatchObject({ to: '-', status: 'SIP/2.0 503 Service Unavailable' });

    const { code, stdout } = await proxy.stop();
    expect(code).toBe(0);
    expect(stdout).toMatch(/worker_0 ok .*received=[1-9]/);
    expect(stdout).toMatch(/worker_1 ok .*received=[1-9]/);
  });
});
