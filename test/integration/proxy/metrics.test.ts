// /metrics, /api/latency and `siplb ctl latency` against a real siplb (dispatch workers, and the
// inline core), two TypeScript backends answering MESSAGE and keepalives, real SIP traffic: the
// counters move by exactly what was sent, per method, class and destination; the histogram is
// cumulative and consistent; the latency API resets every thread and the probe worker.
import { afterEach, describe, expect, it } from 'vitest';
import { freeTcpPort, startProxy, writeList, type ProxyProcess } from '../../helpers/proxy-process.js';
import { Peer } from '../../helpers/udp-peer.js';
import { answeringBackend, requestsThrough } from '../../helpers/answering-peer.js';
import { parsePromText, sampleKey, type PromText } from '../../helpers/prom-text.js';
import { runCliEnv } from '../../helpers/run-cli.js';

const open: Array<{ close(): Promise<void> } | ProxyProcess> = [];
afterEach(async () => {
  for (const x of open.splice(0)) await ('stop' in x ? x.stop() : x.close());
});

async function backend(): ReturnType<typeof answeringBackend> {
  const p = await answeringBackend();
  open.push(p);
  return p;
}

const messages = (uac: Peer, proxyPort: number, count: number): Promise<void> => requestsThrough(uac, proxyPort, count, 'MESSAGE');

interface Report {
  unit: string;
  overall: { count: number; p50: number; max: number; hdr: string };
  workers: Array<{ worker: number | string; count: number }>;
  destinations: Array<{ set: number; uri: string; count: number; p50: number }>;
}

describe.each([
  { workers: '2', mode: 'stateless' },
  { workers: '0', mode: 'stateful' },
])('metrics and latency, SIPLB_WORKERS=$workers, $mode', ({ workers, mode }) => {
  it('counts traffic per method, class and destination; serves, resets and prints latency', async () => {
    const a = await backend();
    const b = await backend();
    const uriA = `sip:127.0.0.1:${a.port}`;
    const uriB = `sip:127.0.0.1:${b.port}`;
    const admin = await freeTcpPort();
    const base = `http://127.0.0.1:${admin}`;
    const proxy = await startProxy({
      SIPLB_LIST_FILE: writeList(`1 ${uriA} 8\n1 ${uriB} 8\n`),
      SIPLB_ALG: '4',
      SIPLB_WORKERS: workers,
      SIPLB_MODE: mode,
      SIPLB_ADMIN: `127.0.0.1:${admin}`,
      SIPLB_DS_PING_INTERVAL: '1',
    });
    open.unshift(proxy);
    const uac = await Peer.open();
    open.push(uac);
    const scrape = async (): Promise<PromText> => {
      const res = await fetch(`${base}/metrics`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      return parsePromText(await res.text());
    };
    const value = (p: PromText, name: string, labels: Record<string, string | number> = {}): number => p.samples.get(sampleKey(name, labels)) ?? 0;

    const before = await scrape();
    await messages(uac, proxy.port, 10);
    const after = await scrape();
    const delta = (name: string, labels: Record<string, string | number> = {}): number => value(after, name, labels) - value(before, name, labels);

    for (const f of after.types.keys()) expect(f).toMatch(/^siplb_/);
    expect(after.types.get('siplb_requests_received_total')).toBe('counter');
    expect(after.types.get('siplb_receive_to_send_seconds')).toBe('histogram');
    expect(delta('siplb_requests_received_total', { method: 'MESSAGE' })).toBe(10);
    expect(delta('siplb_requests_sent_total', { method: 'MESSAGE' })).toBe(10);
    expect(delta('siplb_responses_received_total', { class: '2xx' })).toBe(10);
    expect(delta('siplb_responses_sent_total', { class: '2xx' })).toBe(10);
    expect(delta('siplb_forwarded_total', { kind: 'new' })).toBe(10);
    for (const uri of [uriA, uriB]) {
      expect(delta('siplb_destination_requests_total', { set: 1, uri })).toBe(5); // round-robin
      expect(delta('siplb_destination_replies_total', { set: 1, uri, class: '2xx' })).toBe(5);
      expect(value(after, 'siplb_destination_usable', { set: 1, uri })).toBe(1);
      const state = [...after.samples].filter(([k]) => k.startsWith('siplb_destination_state{') && k.includes(`uri="${uri}"`));
      expect(state).toEqual([[expect.stringMatching(/flags="A[PX]"/), 1]]); // active (probed once a keepalive came back)
    }
    expect(value(after, 'siplb_worker_restarts_total')).toBe(0);
    expect(value(after, 'siplb_drops_total', { reason: 'malformed_request' })).toBe(0);

    // the histogram: cumulative buckets, +Inf equal to the count, every forward of the run in it
    const buckets = [...after.samples].filter(([k]) => k.startsWith('siplb_receive_to_send_seconds_bucket'));
    expect(buckets.length).toBeGreaterThan(10);
    const counts = buckets.map(([, v]) => v);
    for (let i = 1; i < counts.length; i++) expect(counts[i]).toBeGreaterThanOrEqual(counts[i - 1]!);
    expect(value(after, 'siplb_receive_to_send_seconds_bucket', { le: '+Inf' })).toBe(value(after, 'siplb_receive_to_send_seconds_count'));
    expect(delta('siplb_receive_to_send_seconds_count')).toBe(20); // 10 requests and 10 responses forwarded
    expect(value(after, 'siplb_receive_to_send_seconds_sum')).toBeGreaterThan(0);

    // the latency API: overall, per thread, per destination once keepalives have come back
    const latency = async (): Promise<Report> => (await (await fetch(`${base}/api/latency`)).json()) as Report;
    let r = await latency();
    const until = Date.now() + 5000;
    while (r.destinations.length < 2 && Date.now() < until) {
      await new Promise((res) => setTimeout(res, 200));
      r = await latency();
    }
    expect(r.unit).toBe('us');
    expect(r.overall.count).toBeGreaterThanOrEqual(20);
    expect(r.overall.p50).toBeGreaterThan(0);
    expect(r.workers.map((w) => w.worker)).toEqual(workers === '0' ? ['main'] : [0, 1]);
    expect(r.workers.reduce((s, w) => s + w.count, 0)).toBe(r.overall.count);
    expect(r.destinations.map((d) => d.uri).sort()).toEqual([uriA, uriB].sort());
    for (const d of r.destinations) expect(d.count).toBeGreaterThan(0);

    const text = await (await fetch(`${base}/api/latency?format=hdr`)).text();
    expect(text).toContain('# receive to send, all threads (microseconds)');
    expect(text).toMatch(/Value\s+Percentile\s+TotalCount/);
    expect(text).toContain(`keepalive round trip, set 1 ${uriA}`);

    // ctl latency prints the table; --reset prints it and starts afresh everywhere
    const env = { SIPLB_ADMIN: `127.0.0.1:${admin}` };
    const table = await runCliEnv(['ctl', 'latency'], env);
    expect(table.stderr).toBe('');
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^WHAT\s+COUNT\s+P50 ms/);
    expect(table.stdout).toMatch(/receive to send, all\s+\d+/);
    expect(table.stdout).toContain(workers === '0' ? 'main thread' : 'worker 1');
    expect(table.stdout).toContain(`set 1 ${uriB}`);
    const json = JSON.parse((await runCliEnv(['ctl', 'latency', '--json'], env)).stdout) as Report;
    expect(json.overall.count).toBe(r.overall.count);
    const reset = await runCliEnv(['ctl', 'latency', '--reset'], env);
    expect(reset.code).toBe(0);
    expect(reset.stdout).toContain('reset: every histogram starts afresh');
    const afterReset = await latency();
    expect(afterReset.overall.count).toBe(0);
    for (const w of afterReset.workers) expect(w.count).toBe(0);
    // a keepalive reply may land after the reset: at most one or two per destination since
    for (const d of afterReset.destinations) expect(d.count).toBeLessThanOrEqual(3);
    expect(value(await scrape(), 'siplb_receive_to_send_seconds_count')).toBe(0);

    // JSON-RPC siplb.latency
    const rpc = async (params: unknown[]): Promise<{ result?: Report; error?: { code: number; message: string } }> =>
      (await (await fetch(`${base}/RPC`, { method: 'POST', body: JSON.stringify({ jsonrpc: '2.0', method: 'siplb.latency', params, id: 7 }) })).json()) as { result?: Report; error?: { code: number; message: string } };
    await messages(uac, proxy.port, 2);
    expect((await rpc([])).result?.overall.count).toBe(4);
    expect((await rpc(['reset'])).result?.overall.count).toBe(4);
    expect((await rpc([])).result?.overall.count).toBe(0);
    expect((await rpc(['nope'])).error?.code).toBe(-32602);
  }, 30_000);
});
