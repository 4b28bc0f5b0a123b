// Prometheus can scrape siplb: the Debian `prometheus` package's own tools as the judges.
// `promtool check metrics` lints what GET /metrics serves (exposition format, naming, units,
// help texts), and a real Prometheus server scrapes siplb every second with the bearer token
// (SIPLB_ADMIN_TOKEN), after which its query API returns siplb's counters, per-destination series
// and the latency histogram, with the values siplb itself reports.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freeTcpPort, startProxy, writeList, type ProxyProcess } from '../helpers/proxy-process.js';
import { Peer, answer } from '../helpers/udp-peer.js';

const PROMETHEUS_MISSING = 'prometheus/promtool not found (Debian package prometheus)';
const have = spawnSync('promtool', ['--version']).status === 0 && spawnSync('prometheus', ['--version']).status === 0;
if (!have && process.env.CI === 'true') throw new Error(PROMETHEUS_MISSING);

const TOKEN = 'bench-token-0123456789abcdef';
const live: Array<ChildProcess | ProxyProcess | Peer> = [];
afterEach(async () => {
  for (const x of live.splice(0)) {
    if ('stop' in x) await x.stop();
    else if ('close' in x) await x.close();
    else x.kill('SIGKILL');
  }
});
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!have)(have ? 'Prometheus scraping siplb' : `Prometheus scraping siplb (skipped: ${PROMETHEUS_MISSING})`, () => {
  it('promtool finds nothing wrong with /metrics, and a Prometheus server scrapes it with the token and answers queries with siplb’s numbers', async () => {
    const uas = await Peer.open();
    live.push(uas);
    uas.onMessage = (r) => {
      if (!r.first.startsWith('SIP/2.0') && !r.first.startsWith('ACK')) uas.send(answer(r.text, 200, 'OK', { toTag: 'p' }), r.from.port, r.from.address);
    };
    const adminPort = await freeTcpPort();
    const proxy = await startProxy({ SIPLB_LIST_FILE: writeList(`1 sip:127.0.0.1:${uas.port} 8\n`), SIPLB_ADMIN: `127.0.0.1:${adminPort}`, SIPLB_ADMIN_TOKEN: TOKEN, SIPLB_DS_PING_INTERVAL: '1' });
    live.unshift(proxy);
    const uac = await Peer.open();
    live.push(uac);
    for (let i = 0; i < 20; i++) {
      uac.send(
        `OPTIONS sip:svc@127.0.0.1:${proxy.port} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:${uac.port};branch=z9hG4bK-prom-${i};rport\r\nMax-Forwards: 70\r\n` +
          `From: <sip:p@127.0.0.1>;tag=${i}\r\nTo: <sip:svc@127.0.0.1>\r\nCall-ID: prom-${i}@test\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n`,
        proxy.port,
      );
    }
    await uac.waitFor((got) => got.filter((g) => g.first.startsWith('SIP/2.0 200')).length === 20, 5000);

    // the exposition as served, judged by promtool
    const text = await (await fetch(`http://127.0.0.1:${adminPort}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).text();
    const lint = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(`${lint.stdout}${lint.stderr}`.trim(), 'promtool check metrics').toBe('');
    expect(lint.status).toBe(0);

    // a Prometheus server scraping it, with the bearer token
    const dir = mkdtempSync(join(tmpdir(), 'siplb-prometheus-'));
    writeFileSync(join(dir, 'token'), TOKEN);
    writeFileSync(
      join(dir, 'prometheus.yml'),
      `global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n  - job_name: siplb\n    authorization:\n      credentials_file: ${join(dir, 'token')}\n` +
        `    static_configs:\n      - targets: ['127.0.0.1:${adminPort}']\n`,
    );
    const webPort = await freeTcpPort();
    const prom = spawn(
      'prometheus',
      [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${webPort}`, '--log.level=warn'],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let promLog = '';
    prom.stderr.on('data', (c: Buffer) => (promLog += c.toString()));
    live.push(prom);
    const query = async (q: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>> => {
      const res = await fetch(`http://127.0.0.1:${webPort}/api/v1/query?query=${encodeURIComponent(q)}`);
      const body = (await res.json()) as { data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> } };
      return body.data.result;
    };
    let up: string | undefined;
    for (let i = 0; i < 100 && up !== '1'; i++) {
      await sleep(200);
      up = await query('up{job="siplb"}')
        .then((r) => r[0]?.value[1])
        .catch(() => undefined);
    }
    expect(up, `prometheus log:\n${promLog.slice(-2000)}`).toBe('1');
    const requests = await query('siplb_destination_requests_total');
    expect(requests).toHaveLength(1);
    expect(requests[0]!.metric).toMatchObject({ set: '1', uri: `sip:127.0.0.1:${uas.port}` });
    expect(Number(requests[0]!.value[1])).toBeGreaterThanOrEqual(20);
    const count = await query('siplb_receive_to_send_seconds_count');
    expect(Number(count[0]?.value[1])).toBeGreaterThanOrEqual(40);
    const p99 = await query('histogram_quantile(0.99, siplb_receive_to_send_seconds_bucket)');
    expect(Number(p99[0]?.value[1])).toBeGreaterThan(0);
    expect((await query('siplb_destination_usable'))[0]?.value[1]).toBe('1');
  }, 60_000);
});
