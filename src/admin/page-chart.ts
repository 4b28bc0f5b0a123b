// The live page's latency chart (part of /ui/app.js, see page-app.ts): the receive-to-send
// distribution of GET /api/overview as bars over 1-2-5 buckets, counts on a log scale (a proxy's
// distribution is a tall head and a long tail: on a linear scale the tail, the part worth seeing at
// 3 a.m., would be invisible), with p50/p90/p99/p99.9 as marked lines. Inline SVG drawn by hand;
// every bar has a <title> with its exact count, the whole chart an accessible label.
// (Kept free of backticks and dollar-brace: it lives inside a template literal.)
export const CHART_JS = String.raw`
  var NS = 'http://www.w3.org/2000/svg';
  var W = 760, H = 240, L = 48, R = 12, T = 56, B = 30;
  var MARKS = [['p50', 'm50'], ['p90', 'm90'], ['p99', 'm99'], ['p99.9', 'm999']];
  function node(tag, attrs, text) {
    var e = document.createElementNS(NS, tag);
    Object.keys(attrs).forEach(function (k) { e.setAttribute(k, String(attrs[k])); });
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function short(le) {
    if (le === null) return '';
    if (le < 1e3) return le + 'µs';
    if (le < 1e6) return le / 1e3 + 'ms';
    return le / 1e6 + 's';
  }
  function long(v) {
    if (v >= 1e6) return (v / 1e6).toFixed(2) + ' s';
    if (v >= 1e3) return (v / 1e3).toFixed(2) + ' ms';
    return Math.round(v) + ' µs';
  }
  function drawChart(l) {
    var box = document.getElementById('chart');
    var b = l.buckets;
    var n = b.length;
    var pw = W - L - R, ph = H - T - B, bw = pw / n;
    var top = b.reduce(function (m, x) { return Math.max(m, x.count); }, 0);
    var scale = function (c) { return top === 0 ? 0 : (Math.log10(1 + c) / Math.log10(1 + top)) * ph; };
    var s = node('svg', { viewBox: '0 0 ' + W + ' ' + H, role: 'img', 'aria-labelledby': 'chart-title' });
    s.appendChild(node('title', { id: 'chart-title' }, l.count === 0 ? 'Latency histogram: no requests yet' :
      'Latency histogram of ' + l.count + ' sends: p50 ' + long(l.p50) + ', p90 ' + long(l.p90) + ', p99 ' + long(l.p99) + ', p99.9 ' + long(l['p99.9'])));
    for (var d = 1; d <= top; d *= 10) {
      var y = T + ph - scale(d);
      s.appendChild(node('line', { class: 'axis', x1: L, x2: W - R, y1: y, y2: y }));
      s.appendChild(node('text', { x: L - 6, y: y + 4, 'text-anchor': 'end' }, d >= 1e6 ? d / 1e6 + 'M' : d >= 1e3 ? d / 1e3 + 'k' : String(d)));
    }
    s.appendChild(node('line', { class: 'axis', x1: L, x2: W - R, y1: T + ph, y2: T + ph }));
    b.forEach(function (x, i) {
      var h = scale(x.count);
      var lo = i === 0 ? 0 : b[i - 1].le;
      var rect = node('rect', { class: 'bar', x: L + i * bw + 1.5, y: T + ph - h, width: Math.max(1, bw - 3), height: h });
      rect.appendChild(node('title', {}, (x.le === null ? 'over ' + long(lo) : long(lo) + ' to ' + long(x.le)) + ': ' + x.count));
      s.appendChild(rect);
      if (x.le === null) return;
      // a tick at every bound, a label at every power of ten (1-2-5 labels would crowd each other)
      var big = /^1/.test(String(x.le));
      s.appendChild(node('line', { class: 'axis', x1: L + (i + 1) * bw, x2: L + (i + 1) * bw, y1: T + ph, y2: T + ph + (big ? 6 : 3) }));
      if (big) s.appendChild(node('text', { x: L + (i + 1) * bw, y: H - B + 18, 'text-anchor': 'middle' }, short(x.le)));
    });
    if (l.count === 0) {
      s.appendChild(node('text', { x: L + pw / 2, y: T + ph / 2, 'text-anchor': 'middle' }, 'no requests yet'));
    } else {
      MARKS.forEach(function (m, k) {
        var v = l[m[0]];
        var i = 0;
        while (i < n - 1 && b[i].le !== null && v > b[i].le) i++;
        var lo = i === 0 ? 1 : b[i - 1].le, hi = b[i].le === null ? lo * 2.5 : b[i].le;
        var f = Math.min(1, Math.max(0, (Math.log(Math.max(v, 1)) - Math.log(lo)) / (Math.log(hi) - Math.log(lo))));
        var x = L + (i + f) * bw;
        s.appendChild(node('line', { class: 'mark ' + m[1], x1: x, x2: x, y1: 16 + 11 * k, y2: T + ph }));
        var anchor = x > W - 90 ? 'end' : 'start';
        s.appendChild(node('text', { class: m[1], x: anchor === 'end' ? x - 3 : x + 3, y: 14 + 11 * k, 'text-anchor': anchor }, m[0] + ' ' + long(v)));
      });
    }
    box.replaceChildren(s);
  }
`;
