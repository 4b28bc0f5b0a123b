// The live page of the control channel: GET / and its two files under /ui/. They are fixed text,
// embedded here so the page needs no build step, no bundler, no network and no file next to the
// package; the data comes from the API (GET /api/overview, POST /RPC), fetched by the page itself.
//
// The one exception to the token rule (SIPLB_ADMIN_TOKEN on every request): these files are
// served without it, because a browser cannot send a bearer token when it navigates to a URL, and
// they hold no data, only the same code anyone can read in the package. Every data path still
// refuses a request without the token; the page sends it from its token field.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { APP_JS } from './page-app.js';
import { APP_CSS } from './page-style.js';

const INDEX_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="dark light">
<title>siplb</title>
<link rel="icon" href="/ui/icon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/ui/app.css">
<script src="/ui/app.js" defer></script>
</head>
<body>
<header>
  <h1>siplb</h1>
  <p id="status" role="status" aria-live="polite">loading…</p>
  <div class="actions">
    <button type="button" id="reload" title="siplb.reload (dispatcher.reload): read the destination list again">Reload list</button>
    <button type="button" id="token-toggle" aria-controls="token-form">Token</button>
  </div>
</header>
<form id="token-form" hidden>
  <label for="token">Admin token (SIPLB_ADMIN_TOKEN)</label>
  <input id="token" type="password" autocomplete="off" spellcheck="false" required>
  <button type="submit">Use token</button>
  <span id="token-note"></span>
</form>
<p id="message" role="alert" hidden></p>
<main>
  <section aria-labelledby="dest-h">
    <h2 id="dest-h">Destinations</h2>
    <div id="sets"><p class="muted">waiting for data…</p></div>
    <p class="legend">State: <span class="st st-a">A</span> active <span class="st st-t">T</span> trying
      <span class="st st-i">I</span> inactive <span class="st st-d">D</span> disabled; P probed by keepalives, X not.
      Req/s and share: requests sent over the last 1.5 to 3 seconds.</p>
  </section>
  <section aria-labelledby="lat-h">
    <h2 id="lat-h">Receive-to-send latency</h2>
    <dl id="pct" class="pct"></dl>
    <div id="chart" class="chart"></div>
    <p class="legend">Time from receiving a datagram to sending what it caused, every thread, since start
      (or the last <code>siplb ctl latency --reset</code>). Bars: sends per bucket, log scale; lines: percentiles.</p>
  </section>
  <section aria-labelledby="ev-h">
    <h2 id="ev-h">Up/down events</h2>
    <ol id="events" class="events" reversed></ol>
  </section>
</main>
</body>
</html>
`;

const ICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" fill="#1b2330"/><path d="M3 8h3l2-4 2 8 2-4h1" fill="none" stroke="#4cd07d" stroke-width="1.6"/></svg>`;

interface Asset {
  readonly type: string;
  readonly body: Buffer;
}

const asset = (type: string, text: string): Asset => ({ type, body: Buffer.from(text, 'utf8') });

export const PAGE_ASSETS: ReadonlyMap<string, Asset> = new Map([
  ['/', asset('text/html; charset=utf-8', INDEX_HTML)],
  ['/ui/app.js', asset('text/javascript; charset=utf-8', APP_JS)],
  ['/ui/app.css', asset('text/css; charset=utf-8', APP_CSS)],
  ['/ui/icon.svg', asset('image/svg+xml', ICON_SVG)],
]);

/**
 * Scripts from this origin only, never inline; data from this origin only; no frames (the page has
 * buttons that change state: no clickjacking); no form posts anywhere.
 */
export const PAGE_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/**
 * Answers GET/HEAD of the page's files; false for any other request (then the token rule and the
 * API apply). Checked before the token on purpose: see the top of this file.
 */
export function servePage(req: IncomingMessage, res: ServerResponse): boolean {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  const path = (req.url ?? '/').split('?')[0]!;
  const a = PAGE_ASSETS.get(path);
  if (a === undefined) return false;
  res.writeHead(200, {
    'content-type': a.type,
    'content-length': a.body.length,
    // the text changes with the siplb version: revalidate rather than risk an old page on a new API
    'cache-control': 'no-cache',
    'content-security-policy': PAGE_CSP,
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'referrer-policy': 'no-referrer',
  });
  res.end(req.method === 'HEAD' ? undefined : a.body);
  return true;
}
