// The same JSON-RPC script against Kamailio (Debian package: dispatcher, jsonrpcs over xhttp) and
// against siplb, both loaded with the same list: every answer must be the same, so that a script
// written for Kamailio's jsonrpcs works unchanged. Compared as JSON after two documented
// differences are taken out: siplb lists sets by ascending id (Kamailio by its internal list,
// newest set first) and adds LOAD (active calls) to each destination. Kamailio's reload resets
// every state to the list's flags where siplb keeps them, so the script puts every destination
// back to its list state before it reloads.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { kamailioBin } from '../../bench/sipp/kamailio.js';
import { freeTcpPort, startProxy, type ProxyProcess } from '../helpers/proxy-process.js';
import { freeUdpPorts } from './helpers/ports.js';

const KAMAILIO_MISSING = 'kamailio not found on PATH or in /usr/sbin (Debian package kamailio: run scripts/install-kamailio.sh)';
const bin = kamailioBin();
if (bin === undefined && process.env.CI === 'true') throw new Error(KAMAILIO_MISSING);

const live: Array<ChildProcess | ProxyProcess> = [];
afterEach(async () => {
  for (const x of live.splice(0)) {
    if ('stop' in x) await x.stop();
    else if (x.pid !== undefined) {
      try {
        process.kill(-x.pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  }
});
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function kamailioConfig(sipPort: number, httpPort: number, list: string): string {
  return `#!KAMAILIO
debug=2
log_stderror=yes
children=1
tcp_children=1
listen=udp:127.0.0.1:${sipPort}
listen=tcp:127.0.0.1:${httpPort}
tcp_accept_no_cl=yes
mpath="/usr/lib/x86_64-linux-gnu/kamailio/modules/"
loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "xhttp.so"
loadmodule "jsonrpcs.so"
loadmodule "dispatcher.so"
modparam("dispatcher", "list_file", "${list}")
modparam("dispatcher", "reload_delta", 1)
modparam("jsonrpcs", "transport", 1)
request_route { exit; }
event_route[xhttp:request] {
  if ($hu =~ "^/RPC") { jsonrpc_dispatch(); } else { xhttp_reply("404", "Not Found", "text/plain", ""); }
}
`;
}

async function call(url: string, method: string, params?: unknown[]): Promise<unknown> {
  const body = JSON.stringify({ jsonrpc: '2.0', method, ...(params ? { params } : {}), id: 1 });
  for (let attempt = 0; ; attempt++) {
    try {
      const res = await fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
      return (await res.json());
    } catch (err) {
      if (attempt > 40) throw err;
      await sleep(100); // Kamailio's HTTP listener is still coming up
    }
  }
}

/**
 * The answer with siplb's documented differences taken out: sets in id order, no LOAD, and with
 * `anyOrder` the destinations of a set in URI order. Kamailio's dispatcher.add and .remove rebuild
 * every set by inserting its destinations again in their current order, which reverses the order
 * of destinations of equal priority at each call (the next reload restores the file's order);
 * siplb keeps the file's order.
 */
function comparable(answer: unknown, anyOrder = false): unknown {
  const a = answer as { result?: { RECORDS?: Array<{ SET: { ID: number; TARGETS: Array<{ DEST: Record<string, unknown> }> } }> } };
  const records = a.result?.RECORDS;
  if (!Array.isArray(records)) return answer;
  const sorted = [...records].sort((x, y) => x.SET.ID - y.SET.ID).map((r) => ({
    SET: {
      ID: r.SET.ID,
      TARGETS: r.SET.TARGETS.map((t) => ({ DEST: Object.fromEntries(Object.entries(t.DEST).filter(([k]) => k !== 'LOAD')) })).sort((x, y) =>
        anyOrder ? JSON.stringify(x).localeCompare(JSON.stringify(y)) : 0,
      ),
    },
  }));
  return { ...a, result: { ...a.result, RECORDS: sorted } };
}

describe.skipIf(bin === undefined)(bin === undefined ? `Kamailio's jsonrpcs and siplb (skipped: ${KAMAILIO_MISSING})` : "Kamailio's jsonrpcs and siplb", () => {
  it('answer one script alike: list, hash, ping_active, set_state, set_duid_state, reload, add, remove, and refuse the same mistakes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'siplb-kamrpc-'));
    const list = join(dir, 'dispatcher.list');
    const first = [
      '1 sip:127.0.0.1:5071 8 10 duid=ms1;weight=50;maxload=20',
      '1 sip:127.0.0.1:5072 0 5 duid=ms2;weight=50',
      '1 sip:127.0.0.1:5073 4 5',
      '2 sip:127.0.0.1:5081 0 0 rweight=30',
      '2 sip:127.0.0.1:5082 1 0',
      '2 sip:127.0.0.1:5081 0 0',
      '',
    ].join('\n');
    writeFileSync(list, first);
    const [kSip] = await freeUdpPorts(1);
    const kHttp = await freeTcpPort();
    const cfg = join(dir, 'kamailio.cfg');
    writeFileSync(cfg, kamailioConfig(kSip!, kHttp, list));
    const kam = spawn(bin!, ['-f', cfg, '-DD', '-E', '-Y', dir, '-w', dir, '-m', '64', '-M', '8'], { detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
    let kamLog = '';
    kam.stderr.on('data', (c: Buffer) => (kamLog += c.toString()));
    live.push(kam);
    const sPort = await freeTcpPort();
    const proxy = await startProxy({ SIPLB_LIST_FILE: list, SIPLB_ADMIN: `127.0.0.1:${sPort}`, SIPLB_DS_PING_LATENCY_STATS: 'false', SIPLB_RELOAD_DELTA: '1' });
    live.unshift(proxy);
    const urls = { kamailio: `http://127.0.0.1:${kHttp}/RPC`, siplb: `http://127.0.0.1:${sPort}/RPC` };

    let step = 0;
    let anyOrder = false;
    const both = async (method: string, params?: unknown[]): Promise<void> => {
      const k = await call(urls.kamailio, method, params);
      const s = await call(urls.siplb, method, params);
      step++;
      expect(comparable(s, anyOrder), `step ${step}: ${method} ${JSON.stringify(params ?? [])}\nkamailio log:\n${kamLog.slice(-1500)}`).toEqual(comparable(k, anyOrder));
    };
    /** Both refuse it (their messages differ: siplb's name the reason). */
    const bothRefuse = async (method: string, params: unknown[]): Promise<void> => {
      for (const url of [urls.kamailio, urls.siplb]) expect((await call(url, method, params)) as object, `${url} ${method}`).toHaveProperty('error');
    };

    await both('dispatcher.list');
    await both('dispatcher.hash', [4, 'alice']);
    await both('dispatcher.hash', [4, 'alice', 'atlanta.com']);
    await both('dispatcher.hash', [16, 'bob@biloxi.com']);
    await both('dispatcher.ping_active');
    await both('dispatcher.set_state', ['ip', 1, 'sip:127.0.0.1:5072']);
    await both('dispatcher.list');
    await both('dispatcher.set_duid_state', ['d', 1, 'ms1']);
    await both('dispatcher.list');
    await both('dispatcher.set_state', ['tp', 2, 'all']);
    await both('dispatcher.list');
    await bothRefuse('dispatcher.set_state', ['x', 1, 'sip:127.0.0.1:5072']);
    await bothRefuse('dispatcher.set_state', ['a', 7, 'sip:127.0.0.1:5072']);
    await bothRefuse('dispatcher.no_such_method', []);

    // back to the list's states, then a reload that adds one: Kamailio and siplb agree again
    await both('dispatcher.set_state', ['ap', 1, 'sip:127.0.0.1:5071']);
    await both('dispatcher.set_state', ['a', 1, 'sip:127.0.0.1:5072']);
    await both('dispatcher.set_state', ['d', 1, 'sip:127.0.0.1:5073']);
    await both('dispatcher.set_state', ['a', 2, 'all']);
    await both('dispatcher.set_state', ['i', 2, 'sip:127.0.0.1:5082']);
    await both('dispatcher.list');
    writeFileSync(list, `${first}3 sip:127.0.0.1:5091 8 0 duid=new\n`);
    await sleep(1100); // ds_reload_delta and SIPLB_RELOAD_DELTA: 1 s
    await both('dispatcher.reload');
    await both('dispatcher.list');
    await sleep(1100); // Kamailio's add and remove wait for ds_reload_delta too
    await both('dispatcher.add', [3, 'sip:127.0.0.1:5092', 0, 3, 'duid=added']);
    anyOrder = true; // see comparable()
    await both('dispatcher.list');
    await sleep(1100);
    await both('dispatcher.remove', [3, 'sip:127.0.0.1:5091']);
    await both('dispatcher.list');
  }, 60_000);
});
