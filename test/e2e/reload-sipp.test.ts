// Reloads cost no calls: SIPp places calls at a fixed rate through siplb (two dispatch workers)
// to SIPp backends while the list is reloaded three times: a backend added, one removed (its
// calls in flight finish through it: their BYEs follow the Record-Route), and one added back.
// Every call must complete, and the added backends must take calls from the next selection on.
import { writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { freeTcpPort, startProxy, writeList, type ProxyProcess } from '../helpers/proxy-process.js';
import { freeUdpPorts } from './helpers/ports.js';
import { requireSipp, SIPP_MISSING, startSipp, type SippResult, type SippRun } from './helpers/sipp.js';

const RATE = 200; // calls/s
const SECONDS = 12;

const haveSipp = requireSipp();
const live: Array<SippRun | ProxyProcess> = [];
afterEach(async () => {
  for (const x of live.splice(0)) await ('child' in x ? x.stop() : x.stop(200));
});
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function explain(r: SippResult): string {
  return `sipp ${r.args.join(' ')}\nexit ${r.code}\nmessages: ${JSON.stringify(r.messages)}\nerrors:\n${r.errors.slice(-3000)}`;
}

/** siplb_destination_requests_total of each destination, from /metrics. */
async function requestsByUri(admin: string): Promise<Map<string, number>> {
  const text = await (await fetch(`${admin}/metrics`)).text();
  const out = new Map<string, number>();
  for (const m of text.matchAll(/^siplb_destination_requests_total\{[^}]*uri="([^"]+)"[^}]*\} (\d+)/gm)) out.set(m[1]!, Number(m[2]));
  return out;
}

describe.skipIf(!haveSipp)(haveSipp ? 'reload under SIPp load' : `reload under SIPp load (skipped: ${SIPP_MISSING})`, () => {
  it(`${RATE} calls/s for ${SECONDS} s through three reloads: no call fails, added backends take calls at once`, async () => {
    const [b1, b2, b3, uacPort] = await freeUdpPorts(4);
    for (const port of [b1!, b2!, b3!]) live.push(await startSipp({ scenario: 'uas', role: 'uas', localPort: port, calls: 1_000_000, timeoutMs: 120_000 }));
    const [u1, u2, u3] = [`sip:127.0.0.1:${b1}`, `sip:127.0.0.1:${b2}`, `sip:127.0.0.1:${b3}`] as const;
    const port = await freeTcpPort();
    const admin = `http://127.0.0.1:${port}`;
    const file = writeList(`1 ${u1} 8\n1 ${u2} 8\n`);
    const proxy = await startProxy({ SIPLB_LIST_FILE: file, SIPLB_WORKERS: '2', SIPLB_ALG: '4', SIPLB_ADMIN: `127.0.0.1:${port}`, SIPLB_RELOAD_DELTA: '1', SIPLB_LOG_LEVEL: 'warn' });
    live.unshift(proxy);
    const calls = RATE * SECONDS;
    const uac = await startSipp({ scenario: 'uac', role: 'uac', localPort: uacPort!, remote: `127.0.0.1:${proxy.port}`, rate: RATE, calls, timeoutMs: 90_000 });
    live.push(uac);

    const reload = async (text: string): Promise<unknown> => {
      writeFileSync(file, text);
      const res = await fetch(`${admin}/RPC`, { method: 'POST', body: JSON.stringify({ jsonrpc: '2.0', method: 'dispatcher.reload', id: 1 }) });
      const answer = (await res.json()) as { result?: unknown; error?: { message: string } };
      expect(answer.error).toBeUndefined();
      return answer.result;
    };
    await sleep(3000);
    expect(await reload(`1 ${u1} 8\n1 ${u2} 8\n1 ${u3} 8\n`)).toMatchObject({ destinations: 3, kept: 2, added: 1 });
    await sleep(3000);
    const withThree = await requestsByUri(admin);
    expect(withThree.get(u3)).toBeGreaterThan(0);
    expect(await reload(`1 ${u2} 8\n1 ${u3} 8\n`)).toMatchObject({ destinations: 2, kept: 2, removed: 1 });
    await sleep(3000);
    expect(await reload(`1 ${u1} 8\n1 ${u2} 8\n1 ${u3} 8\n`)).toMatchObject({ destinations: 3, kept: 2, added: 1 });
    const res = await uac.result;
    const final = await requestsByUri(admin);
    console.log(`reload under load: ${res.successful}/${calls} calls, ${res.failed} failed; requests per backend ${JSON.stringify(Object.fromEntries(final))}`);
    expect(res.created, explain(res)).toBe(calls);
    expect(res.failed, explain(res)).toBe(0);
    expect(res.successful).toBe(calls);
    expect(final.get(u1)).toBeGreaterThan(0); // back in the list for the last seconds
  }, 120_000);
});
