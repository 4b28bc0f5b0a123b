// The live page's script (served as /ui/app.js by page.ts): plain browser JavaScript, no framework,
// no build. It reads GET /api/overview every REFRESH_MS and draws it; its buttons call
// dispatcher.set_state and siplb.reload (dispatcher.reload with an answer that says what changed) through POST /RPC, as `siplb ctl` does. The admin
// token, when the proxy has one, is typed into the page, kept in sessionStorage (gone with the
// tab) and sent as `Authorization: Bearer` on every request. Data is put into the page with
// textContent only, never as HTML: URIs and event fields come from list files and the network.
// One closure in one file: this module's head (requests, token, messages) and tail (latency,
// events, refresh loop), page-sets.ts's destination tables and page-chart.ts's chart between them.
// (Kept free of backticks and dollar-brace: it lives inside template literals.)
import { CHART_JS } from './page-chart.js';
import { SETS_JS } from './page-sets.js';

export const APP_JS = String.raw`'use strict';
(function () {
  var REFRESH_MS = 1500;
  var TOKEN_KEY = 'siplb-admin-token';
  var $ = function (id) { return document.getElementById(id); };
  var token = sessionStorage.getItem(TOKEN_KEY) || '';
  var timer = 0;
  var rpcId = 0;
  var eventsKey = '';

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
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
` +
  SETS_JS +
  CHART_JS +
  String.raw`
  function renderLatency(l) {
    var pct = $('pct');
    var items = [['count', String(l.count)], ['p50', us(l.p50)], ['p90', us(l.p90)], ['p99', us(l.p99)], ['p99.9', us(l['p99.9'])], ['max', us(l.max)]];
    pct.replaceChildren.apply(pct, items.map(function (it) {
      var d = el('div');
      d.appendChild(el('dt', '', it[0]));
      d.appendChild(el('dd', '', it[1]));
      return d;
    }));
    drawChart(l);
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
        var r = await rpc('siplb.reload', []);
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
`;
