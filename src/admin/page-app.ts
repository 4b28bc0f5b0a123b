// The live page's script (served as /ui/app.js by page.ts): plain browser JavaScript, no framework,
// no build. It reads GET /api/overview every REFRESH_MS and draws it; its buttons call
// dispatcher.set_state and dispatcher.reload through POST /RPC, as `siplb ctl` does. The admin
// token, when the proxy has one, is typed into the page, kept in sessionStorage (gone with the
// tab) and sent as `Authorization: Bearer` on every request. Data is put into the page with
// textContent only, never as HTML: URIs and event fields come from list files and the network.
// (Kept free of backticks and dollar-brace: it lives inside a template literal.)
import { CHART_JS } from './page-chart.js';

export const APP_JS = String.raw`'use strict';
(function () {
  var REFRESH_MS = 1500;
  var TOKEN_KEY = 'siplb-admin-token';
  var SVG_NS = 'http://www.w3.org/2000/svg';
  var $ = function (id) { return document.getElementById(id); };
  var token = sessionStorage.getItem(TOKEN_KEY) || '';
  // recent readings of the request counters: rates and shares compare the newest with one at
  // least WINDOW_MS older, so a refresh right after a button press does not divide by a few ms
  var WINDOW_MS = 1400;
  var readings = [];
  var timer = 0;
  var rpcId = 0;
  var rows = new Map();
  var tables = new Map();
  var eventsKey = '';

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function svg(tag, attrs, text) {
    var e = document.createElementNS(SVG_NS, tag);
    Object.keys(attrs).forEach(function (k) { e.setAttribute(k, String(attrs[k])); });
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function unauthorized() { var e = new Error('the admin token is missing or wrong'); e.unauthorized = true; return e; }
  function headers(extra) {
    var h = extra || {};
    if (token) h.authorization = 'Bearer ' + token;
    return h;
  }
  async function answer(res) {
    if (res.status === 401) throw unauthorized();
    var body = await res.json().catch(function () { return null; });
    if (!res.ok) throw new Error((body && body.error) || ('HTTP ' + res.status));
    return body;
  }
  async function getJson(path) {
    return answer(await fetch(path, { headers: headers(), cache: 'no-store' }));
  }
  async function rpc(method, params) {
    var body = await answer(await fetch('/RPC', {
      method: 'POST',
      headers: headers({ 'content-type': 'application/json' }),
      body: JSON.stringify({ jsonrpc: '2.0', method: method, params: params, id: ++rpcId }),
    }));
    if (body.error) throw new Error(body.error.message);
    return body.result;
  }

  function setStatus(text, stale) {
    var s = $('status');
    s.textContent = text;
    s.classList.toggle('stale', stale);
  }
  function say(text, isError) {
    var m = $('message');
    m.textContent = text;
    m.classList.toggle('error', isError);
    m.hidden = false;
  }
  function askToken() {
    clearTimeout(timer);
    $('token-form').hidden = false;
    $('token-note').textContent = token ? 'siplb refused this token: enter it again.' : 'siplb needs its admin token to show data.';
    setStatus('waiting for the admin token', true);
    $('token').focus();
  }
  function failed(e) {
    if (e.unauthorized) askToken();
    else say(e.message, true);
  }

  function clock(ms) { return new Date(ms).toLocaleTimeString([], { hour12: false }); }
  function us(v) {
    if (v >= 1e6) return (v / 1e6).toFixed(2) + ' s';
    if (v >= 1e3) return (v / 1e3).toFixed(v >= 1e5 ? 0 : 2) + ' ms';
    return Math.round(v) + ' µs';
  }
  function ms(v) { return v === 0 ? '0' : v < 10 ? v.toFixed(2) : v.toFixed(0); }
  function stateClass(flags) { return 'st st-' + flags.charAt(0).toLowerCase(); }

  function setTable(id) {
    var t = tables.get(id);
    if (t) return t;
    var wrap = el('div', 'set');
    wrap.appendChild(el('h3', '', 'Set ' + id));
    var table = el('table');
    table.setAttribute('aria-label', 'Destinations of set ' + id);
    var head = el('tr');
    [['State', ''], ['URI', ''], ['Keepalive avg / est ms', 'num hide-narrow'], ['Active calls', 'num'], ['Requests', 'num'],
      ['Req/s', 'num'], ['Share', 'num'], ['Action', '']].forEach(function (c) {
      var th = el('th', c[1], c[0]);
      th.scope = 'col';
      head.appendChild(th);
    });
    table.appendChild(el('thead')).appendChild(head);
    t = { wrap: wrap, body: table.appendChild(el('tbody')) };
    wrap.appendChild(table);
    tables.set(id, t);
    return t;
  }

  function newRow(set, d) {
    var tr = el('tr');
    tr.dataset.set = String(set);
    tr.dataset.uri = d.uri;
    var c = {};
    c.state = el('span');
    tr.appendChild(el('td')).appendChild(c.state);
    tr.appendChild(el('td', 'uri', d.uri));
    ['latency', 'load', 'requests', 'rate'].forEach(function (k) { c[k] = tr.appendChild(el('td', 'num ' + k + (k === 'latency' ? ' hide-narrow' : ''))); });
    var share = tr.appendChild(el('td', 'num'));
    var box = share.appendChild(el('div', 'share'));
    c.share = box.appendChild(el('span', 'share-text'));
    var track = box.appendChild(el('span', 'track'));
    track.setAttribute('aria-hidden', 'true');
    c.fill = track.appendChild(el('span', 'fill'));
    c.button = tr.appendChild(el('td')).appendChild(el('button'));
    c.button.type = 'button';
    c.button.addEventListener('click', function () { toggle(set, d.uri, c.button); });
    return { tr: tr, c: c };
  }

  function renderSets(o) {
    var seen = new Set();
    var prev = null;
    for (var h = readings.length - 1; h >= 0; h--) if (o.time - readings[h].time >= WINDOW_MS) { prev = readings[h]; break; }
    var dt = prev ? (o.time - prev.time) / 1000 : 0;
    var container = $('sets');
    if (o.sets.length === 0) { container.replaceChildren(el('p', 'muted', 'no destinations')); tables.clear(); rows.clear(); return; }
    var order = [];
    o.sets.forEach(function (s) {
      var t = setTable(s.id);
      order.push(t.wrap);
      var deltas = s.destinations.map(function (d) {
        var before = prev && prev.requests.get(s.id + ' ' + d.uri);
        return before === undefined || d.requests < before ? null : d.requests - before;
      });
      var sum = deltas.reduce(function (a, n) { return a + (n || 0); }, 0);
      s.destinations.forEach(function (d, i) {
        var key = s.id + ' ' + d.uri;
        seen.add(key);
        var r = rows.get(key);
        if (!r) rows.set(key, (r = newRow(s.id, d)));
        if (t.body.children[i] !== r.tr) t.body.insertBefore(r.tr, t.body.children[i] || null);
        var disabled = d.flags.charAt(0) === 'D';
        r.tr.classList.toggle('down', !d.usable);
        r.c.state.className = stateClass(d.flags);
        r.c.state.textContent = d.flags;
        r.c.state.title = d.usable ? 'takes new calls' : 'skipped: takes no new calls';
        var lat = d.latency;
        r.c.latency.textContent = !lat ? '–' : (lat.max > 0 ? ms(lat.avg) + ' / ' + ms(lat.est) : '–') + (lat.timeouts ? ' (' + lat.timeouts + ' lost)' : '');
        r.c.load.textContent = String(d.load);
        r.c.requests.textContent = String(d.requests);
        var delta = deltas[i];
        r.c.rate.textContent = delta === null || dt <= 0 ? '–' : (delta / dt).toFixed(1);
        var share = delta === null || sum === 0 ? null : (100 * delta) / sum;
        r.c.share.textContent = share === null ? '–' : share.toFixed(0) + ' %';
        r.c.fill.style.width = (share || 0).toFixed(1) + '%';
        if (r.c.button.dataset.busy !== '1') {
          r.c.button.textContent = disabled ? 'Enable' : 'Disable';
          r.c.button.className = disabled ? 'go' : 'danger';
          r.c.button.setAttribute('aria-label', (disabled ? 'Enable ' : 'Disable ') + d.uri + ' in set ' + s.id);
          r.c.button.dataset.state = disabled ? d.enable : 'd';
        }
      });
      while (t.body.children.length > s.destinations.length) t.body.lastChild.remove();
    });
    rows.forEach(function (_r, key) { if (!seen.has(key)) rows.delete(key); });
    tables.forEach(function (t, id) { if (order.indexOf(t.wrap) < 0) tables.delete(id); });
    var same = container.children.length === order.length && order.every(function (w, i) { return container.children[i] === w; });
    if (!same) container.replaceChildren.apply(container, order);
    var requests = new Map();
    o.sets.forEach(function (s) { s.destinations.forEach(function (d) { requests.set(s.id + ' ' + d.uri, d.requests); }); });
    readings.push({ time: o.time, requests: requests });
    while (readings.length > 2 && o.time - readings[1].time >= WINDOW_MS) readings.shift();
  }

  async function toggle(set, uri, button) {
    var state = button.dataset.state;
    button.disabled = true;
    button.dataset.busy = '1';
    try {
      await rpc('dispatcher.set_state', [state, set, uri]);
      say((state === 'd' ? 'Disabled ' : 'Enabled ') + uri + ' in set ' + set + '.', false);
    } catch (e) {
      failed(e);
    } finally {
      button.disabled = false;
      button.dataset.busy = '';
    }
    refresh();
  }

  function renderLatency(l) {
    var pct = $('pct');
    var items = [['count', String(l.count)], ['p50', us(l.p50)], ['p90', us(l.p90)], ['p99', us(l.p99)], ['p99.9', us(l['p99.9'])], ['max', us(l.max)]];
    pct.replaceChildren.apply(pct, items.map(function (it) {
      var d = el('div');
      d.appendChild(el('dt', '', it[0]));
      d.appendChild(el('dd', '', it[1]));
      return d;
    }));
    window.siplbChart(l);
  }

  function renderEvents(events) {
    var last = events[events.length - 1];
    var key = events.length + (last ? last.time + last.id + last.event : '');
    if (key === eventsKey) return;
    eventsKey = key;
    var list = $('events');
    if (events.length === 0) { list.replaceChildren(el('li', 'muted empty', 'No destination went down or up since siplb started.')); return; }
    list.replaceChildren.apply(list, events.slice().reverse().map(function (e) {
      var li = el('li');
      var t = li.appendChild(el('time', '', clock(Date.parse(e.time))));
      t.dateTime = e.time;
      t.title = e.time;
      var down = e.event === 'dst-down';
      li.appendChild(el('span', down ? 'down' : 'up', down ? '▼ down' : '▲ up'));
      li.appendChild(el('span', 'what', 'set ' + e.set + ' ' + e.uri));
      li.appendChild(el('span', 'why', e.oldState + ' → ' + e.newState + (down ? ', ' : ', was ') + e.reason));
      return li;
    }));
  }

  async function refresh() {
    clearTimeout(timer);
    try {
      var o = await getJson('/api/overview');
      renderSets(o);
      renderLatency(o.latency);
      renderEvents(o.events);
      var n = o.sets.reduce(function (a, s) { return a + s.destinations.length; }, 0);
      setStatus('updated ' + clock(o.time) + ' · ' + o.sets.length + ' set' + (o.sets.length === 1 ? '' : 's') + ', ' + n + ' destination' + (n === 1 ? '' : 's'), false);
    } catch (e) {
      if (e.unauthorized) return askToken();
      setStatus('no answer from siplb (' + e.message + '); retrying', true);
    }
    timer = setTimeout(refresh, REFRESH_MS);
  }

  document.addEventListener('DOMContentLoaded', function () {
    $('token-form').addEventListener('submit', function (ev) {
      ev.preventDefault();
      token = $('token').value.trim();
      sessionStorage.setItem(TOKEN_KEY, token);
      $('token').value = '';
      $('token-form').hidden = true;
      refresh();
    });
    $('token-toggle').addEventListener('click', function () {
      var f = $('token-form');
      f.hidden = !f.hidden;
      $('token-note').textContent = token ? 'A token is set for this tab.' : '';
      if (!f.hidden) $('token').focus();
    });
    $('reload').addEventListener('click', async function () {
      var b = $('reload');
      b.disabled = true;
      try {
        var r = await rpc('dispatcher.reload', []);
        say('List reloaded: ' + r.destinations + ' destinations (' + r.kept + ' kept, ' + r.added + ' added, ' + r.removed + ' removed) in ' + r.ms + ' ms.', false);
      } catch (e) {
        failed(e);
      } finally {
        b.disabled = false;
      }
      refresh();
    });
    refresh();
  });
})();
` + CHART_JS;
