// The live page in a real browser (Debian's Chromium, driven by playwright-core) against a real
// siplb in front of two SIPp backends, while a SIPp caller places calls at a fixed low rate: the
// numbers move for both destinations, the page's Disable button takes one out (its traffic stops,
// on the page and in the API, the other takes it all), Enable brings it back, the event timeline
// shows both, and the console stays clean. A second test: with SIPLB_ADMIN_TOKEN the page loads,
// the API refuses calls without the token, and the data shows once the token is typed in.
// Screenshot: test/artifacts/page.png (ignored by git); SIPLB_UPDATE_SCREENSHOT=1 also writes
// the README's test/fixtures/page/screenshot.png.
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import type { Overview } from '../../src/admin/overview.js';
import { freeTcpPort, startProxy, writeList, type ProxyProcess } from '../helpers/proxy-process.js';
import { CHROMIUM_MISSING, collectErrors, launchChromium, requireChromium } from './helpers/chromium.js';
import { freeUdpPorts } from './helpers/ports.js';
import { requireSipp, SIPP_MISSING, startSipp, type SippRun } from './helpers/sipp.js';

const haveChromium = requireChromium();
const haveSipp = requireSipp();
const ROOT = join(import.meta.dirname, '..', '..');
const ARTIFACT = join(ROOT, 'test', 'artifacts', 'page.png');
const README_SHOT = join(ROOT, 'test', 'fixtures', 'page', 'screenshot.png');
const TOKEN = 'page-e2e-token-0123456789abcdef';

const live: Array<SippRun | ProxyProcess | Browser> = [];
afterEach(async () => {
  for (const x of live.splice(0)) await ('child' in x ? x.stop() : 'newPage' in x ? x.close() : x.stop(200));
});

async function browserPage(): Promise<{ page: Page; errors: string[] }> {
  const browser = await launchChromium();
  live.push(browser);
  const page = await browser.newPage({ viewport: { width: 1100, height: 1000 } });
  return { page, errors: collectErrors(page) };
}

const row = (page: Page, uri: string) => page.locator(`tr[data-uri="${uri}"]`);
const cell = async (page: Page, uri: string, sel: string): Promise<string> => (await row(page, uri).locator(sel).textContent()) ?? '';
const requestsOnPage = async (page: Page, uri: string): Promise<number> => Number(await cell(page, uri, 'td.requests'));

/** The newest line of the event timeline: what, where, from which state to which. */
const newestEvent = (page: Page): Promise<string[]> => page.locator('#events li').first().locator('span').allTextContents();

async function overview(base: string, headers: Record<string, string> = {}): Promise<Map<string, Overview['sets'][number]['destinations'][number]>> {
  const o = (await (await fetch(`${base}/api/overview`, { headers })).json()) as Overview;
  return new Map(o.sets.flatMap((s) => s.destinations.map((d) => [d.uri, d] as const)));
}

describe.skipIf(!haveChromium || !haveSipp)(
  haveChromium && haveSipp ? 'the live page in Chromium during a SIPp run' : `the live page in Chromium (skipped: ${haveChromium ? SIPP_MISSING : CHROMIUM_MISSING})`,
  () => {
    it('numbers move for both destinations; Disable moves all traffic to the other, Enable brings it back; no console error', async () => {
      const [pA, pB, pUac] = await freeUdpPorts(3);
      for (const p of [pA, pB]) live.push(await startSipp({ scenario: 'uas', role: 'uas', localPort: p!, calls: 2000, timeoutMs: 55_000 }));
      const uriA = `sip:127.0.0.1:${pA}`;
      const uriB = `sip:127.0.0.1:${pB}`;
      const port = await freeTcpPort();
      const proxy = await startProxy({
        SIPLB_LIST_FILE: writeList(`1 ${uriA} 8 0\n1 ${uriB} 8 0\n`), // 8: probed by keepalives
        SIPLB_ALG: '4',
        SIPLB_ADMIN: `127.0.0.1:${port}`,
        SIPLB_DS_PING_INTERVAL: '1',
        SIPLB_RELOAD_DELTA: '1',
        SIPLB_LOG_LEVEL: 'warn',
      });
      live.unshift(proxy);
      const base = `http://127.0.0.1:${port}`;
      live.push(await startSipp({ scenario: 'uac', role: 'uac', localPort: pUac!, remote: `127.0.0.1:${proxy.port}`, rate: 10, calls: 500, timeoutMs: 55_000 }));

      const { page, errors } = await browserPage();
      await page.goto(`${base}/`);
      await expect.poll(() => row(page, uriA).count(), { timeout: 5_000 }).toBe(1);
      // the numbers move: both destinations' counters grow between two readings of the page
      const first = [await requestsOnPage(page, uriA), await requestsOnPage(page, uriB)];
      await expect.poll(async () => (await requestsOnPage(page, uriA)) > first[0]! && (await requestsOnPage(page, uriB)) > first[1]!, { timeout: 8_000, interval: 250 }).toBe(true);
      await expect.poll(() => cell(page, uriA, '.share-text'), { timeout: 5_000 }).toMatch(/^\d+ %$/);
      expect(await cell(page, uriA, '.st')).toBe('AP');
      // keepalive round trips measured (SIPp answers the OPTIONS)
      await expect.poll(() => cell(page, uriA, 'td.latency'), { timeout: 5_000 }).toMatch(/^\d+(\.\d\d)? \/ \d+(\.\d\d)?$/);

      await page.getByRole('button', { name: `Disable ${uriA} in set 1` }).click();
      await expect.poll(() => cell(page, uriA, '.st'), { timeout: 5_000 }).toBe('DX');
      await expect.poll(() => page.locator('#message').textContent()).toBe(`Disabled ${uriA} in set 1.`);
      // over a whole refresh after the change A got nothing and B everything
      await expect.poll(async () => [await cell(page, uriA, '.share-text'), await cell(page, uriB, '.share-text')], { timeout: 8_000, interval: 250 }).toEqual(['0 %', '100 %']);
      expect(await cell(page, uriA, 'td.rate')).toBe('0.0');
      // the API says the same over two seconds
      const before = await overview(base);
      await new Promise((r) => setTimeout(r, 2_000));
      const after = await overview(base);
      expect(after.get(uriA)).toMatchObject({ flags: 'DX', usable: false, requests: before.get(uriA)!.requests });
      expect(after.get(uriB)!.requests).toBeGreaterThan(before.get(uriB)!.requests + 10);
      await expect.poll(() => newestEvent(page), { timeout: 5_000 }).toEqual(['▼ down', `set 1 ${uriA}`, 'AP → DX, disabled']);

      await page.getByRole('button', { name: `Enable ${uriA} in set 1` }).click();
      await expect.poll(() => cell(page, uriA, '.st'), { timeout: 5_000 }).toBe('AP'); // back with its probing flag
      const back = await requestsOnPage(page, uriA);
      await expect.poll(() => requestsOnPage(page, uriA), { timeout: 8_000, interval: 250 }).toBeGreaterThan(back);
      await expect.poll(() => newestEvent(page), { timeout: 5_000 }).toEqual(['▲ up', `set 1 ${uriA}`, 'DX → AP, was disabled']);
      expect(await page.locator('#events li').count()).toBe(2);

      // the reload button: an answer; the reload keeps both in rotation, the page shows both taking calls again
      await page.getByRole('button', { name: 'Reload list' }).click();
      await expect.poll(() => page.locator('#message').textContent(), { timeout: 5_000 }).toMatch(/^List reloaded: 2 destinations \(2 kept, 0 added, 0 removed\)/);
      await expect.poll(async () => [await cell(page, uriA, '.share-text'), await cell(page, uriB, '.share-text')], { timeout: 8_000, interval: 250 }).toEqual([
        expect.stringMatching(/^[1-9]\d* %$/),
        expect.stringMatching(/^[1-9]\d* %$/),
      ]);

      // the latency chart: bars and the four percentile lines
      expect(await page.locator('#chart svg rect.bar').count()).toBeGreaterThan(10);
      expect(await page.locator('#chart svg line.mark').count()).toBe(4);
      expect(await page.locator('#pct').textContent()).toMatch(/p99\.9/);
      // the screenshot in the dark scheme the page picks for a dark desktop (the night shift's)
      mkdirSync(dirname(ARTIFACT), { recursive: true });
      await page.emulateMedia({ colorScheme: 'dark' });
      await page.screenshot({ path: ARTIFACT, fullPage: true });
      if (process.env.SIPLB_UPDATE_SCREENSHOT === '1') copyFileSync(ARTIFACT, README_SHOT);

      // a second reload within SIPLB_RELOAD_DELTA: the refusal, shown as siplb words it
      await page.getByRole('button', { name: 'Reload list' }).click();
      await expect.poll(() => page.locator('#message').textContent(), { timeout: 5_000 }).toMatch(/^reload refused: .*SIPLB_RELOAD_DELTA is 1 s/);
      expect(await page.locator('#message.error').count()).toBe(1);
      expect(errors).toEqual([]);

      // siplb gone: the page says so at once instead of showing old numbers as if they were current
      await proxy.stop();
      await expect.poll(() => page.locator('#status.stale').textContent(), { timeout: 5_000 }).toMatch(/^no answer from siplb \(.+\); retrying$/);
    }, 60_000);
  },
);

describe.skipIf(!haveChromium)(haveChromium ? 'the live page with SIPLB_ADMIN_TOKEN' : `the live page with a token (skipped: ${CHROMIUM_MISSING})`, () => {
  it('loads without the token, asks for it, shows the data once it is typed in; the API refuses calls without it', async () => {
    const port = await freeTcpPort();
    const uri = 'sip:127.0.0.1:5999';
    const proxy = await startProxy({ SIPLB_LIST_FILE: writeList(`3 ${uri} 0 0\n`), SIPLB_ADMIN: `127.0.0.1:${port}`, SIPLB_ADMIN_TOKEN: TOKEN, SIPLB_LOG_LEVEL: 'warn' });
    live.unshift(proxy);
    const base = `http://127.0.0.1:${port}`;
    const { page, errors } = await browserPage();
    const res = await page.goto(`${base}/`);
    expect(res?.status()).toBe(200);
    await expect.poll(() => page.locator('#token-form').isVisible(), { timeout: 5_000 }).toBe(true);
    expect(await page.locator('#token-note').textContent()).toBe('siplb needs its admin token to show data.');
    expect(await row(page, uri).count()).toBe(0);
    // the page's own origin, without the token: refused
    for (const path of ['/api/overview', '/api/dispatcher/list', '/metrics']) expect([path, (await page.request.get(`${base}${path}`)).status()]).toEqual([path, 401]);
    expect((await page.request.post(`${base}/RPC`, { data: { jsonrpc: '2.0', method: 'dispatcher.set_state', params: ['d', 3, uri], id: 1 } })).status()).toBe(401);

    // a wrong token is refused and asked for again; the right one shows the data
    await page.getByLabel('Admin token (SIPLB_ADMIN_TOKEN)').fill('not-the-token-not-the-token');
    await page.getByRole('button', { name: 'Use token' }).click();
    await expect.poll(() => page.locator('#token-note').textContent(), { timeout: 5_000 }).toBe('siplb refused this token: enter it again.');
    await page.getByLabel('Admin token (SIPLB_ADMIN_TOKEN)').fill(TOKEN);
    await page.getByRole('button', { name: 'Use token' }).click();
    await expect.poll(() => row(page, uri).count(), { timeout: 5_000 }).toBe(1);
    expect(await page.locator('#token-form').isVisible()).toBe(false);
    // the buttons send it too
    await page.getByRole('button', { name: `Disable ${uri} in set 3` }).click();
    await expect.poll(() => cell(page, uri, '.st'), { timeout: 5_000 }).toBe('DX');
    expect((await overview(base, { authorization: `Bearer ${TOKEN}` })).get(uri)?.flags).toBe('DX');
    // a reload of the page keeps the token for this tab (sessionStorage)
    await page.reload();
    await expect.poll(() => row(page, uri).count(), { timeout: 5_000 }).toBe(1);
    // the only errors: the browser's own log lines for the 401s before the token was given
    expect(errors.filter((e) => !/status of 401 \(Unauthorized\)/.test(e))).toEqual([]);
    expect(errors.length).toBeGreaterThan(0);
  }, 60_000);
});
