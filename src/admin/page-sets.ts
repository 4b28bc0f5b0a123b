// The live page's destination tables (part of /ui/app.js, see page-app.ts): one table per set,
// one row per destination, updated in place at each refresh (rebuilding them would take the
// keyboard focus off a button every 1.5 s). Rates and shares compare the newest reading of the
// request counters with one at least WINDOW_MS older, so a refresh right after a button press
// does not divide a few requests by a few milliseconds.
// (Kept free of backticks and dollar-brace: it lives inside a template literal.)
export const SETS_JS = String.raw`
  var WINDOW_MS = 1400;
  var readings = [];
  var rows = new Map();
  var tables = new Map();

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
`;
