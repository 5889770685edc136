// The report page's inline style sheet and script (report.cc embeds them with the data, so
// the page needs no network access). The script draws the charts as SVG and marks the body
// data-rendered (or data-error) for the render test.
#include <string_view>

namespace vigil::backtest_internal {

extern const std::string_view kReportStyle;
const std::string_view kReportStyle = R"CSS(
:root { --fg: #1f2933; --muted: #65748b; --line: #e4e7eb; --bg: #f5f7fa; --card: #fff;
  --equity: #2563eb; --baseline: #8b95a5; --down: #dc2626; --up: #16a34a; --price: #374151; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg);
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
header { padding: 20px 28px 4px; }
h1 { margin: 0; font-size: 22px; font-weight: 600; }
h2 { margin: 0 0 6px; font-size: 15px; font-weight: 600; }
#period { margin: 4px 0 0; color: var(--muted); }
main { padding: 12px 28px 8px; display: grid; gap: 16px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 14px 16px; }
.pair { display: grid; grid-template-columns: repeat(auto-fit, minmax(340px, 1fr)); gap: 24px; }
svg.chart { width: 100%; height: auto; display: block; font-size: 11px; }
svg.chart .grid { stroke: var(--line); stroke-width: 1; }
svg.chart .axis { fill: var(--muted); }
svg.chart .rule { stroke: var(--muted); stroke-dasharray: 3 3; }
svg.chart .readout { fill: var(--fg); font-weight: 600; }
.legend { display: flex; flex-wrap: wrap; gap: 14px; color: var(--muted); margin-bottom: 4px; min-height: 1.4em; }
.legend .key { display: inline-block; width: 14px; height: 3px; vertical-align: middle; margin-right: 5px; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { padding: 4px 8px; border-bottom: 1px solid var(--line); text-align: right; white-space: nowrap; }
th:first-child, td:first-child { text-align: left; }
table.kv td:first-child { color: var(--muted); }
table.monthly td { min-width: 56px; }
td.group { color: var(--fg) !important; font-weight: 600; padding-top: 10px; }
.scroll { overflow-x: auto; }
.note { color: var(--muted); }
footer { padding: 4px 28px 24px; color: var(--muted); font-size: 12px; }
)CSS";

// The drawing script. Everything from the data is inserted with textContent or as attribute
// values, never parsed as markup. Any exception lands in <body data-error>, so a test (or a
// reader) sees a broken page instead of a half-drawn one.
extern const std::string_view kReportScript;
const std::string_view kReportScript = R"JS(
(function () {
  'use strict';
  var body = document.body;
  function fail(error) {
    body.dataset.error = String((error && (error.stack || error.message)) || error);
  }
  window.addEventListener('error', function (event) { fail(event.error || event.message); });

  var W = 960, H = 280, PAD = { left: 72, right: 16, top: 14, bottom: 28 };
  var MINUTE = 60000, HOUR = 60 * MINUTE, DAY = 24 * HOUR;
  var MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  var kMaxMarkersPerSide = 1000;

  function isNum(v) { return typeof v === 'number' && isFinite(v); }
  function pad2(n) { return n < 10 ? '0' + n : String(n); }
  function ymd(d) { return d.getUTCFullYear() + '-' + pad2(d.getUTCMonth() + 1) + '-' + pad2(d.getUTCDate()); }
  function hm(d) { return pad2(d.getUTCHours()) + ':' + pad2(d.getUTCMinutes()); }
  function fmtTime(ms) { var d = new Date(ms); return ymd(d) + ' ' + hm(d) + ' UTC'; }
  function fmtTick(ms, unit) {
    var d = new Date(ms);
    if (unit === 'year') return String(d.getUTCFullYear());
    if (unit === 'month') return MONTHS[d.getUTCMonth()] + ' ' + d.getUTCFullYear();
    if (unit === 'day') return ymd(d);
    return ymd(d).slice(5) + ' ' + hm(d);
  }
  function fmtFixed(v, digits) {
    if (!isNum(v)) return '\u2014';
    if (Math.abs(v) < 0.5 * Math.pow(10, -digits)) v = 0;  // no "-0"
    return v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
  }
  function fmtPct(v, digits) { return isNum(v) ? fmtFixed(v * 100, digits === undefined ? 2 : digits) + ' %' : '\u2014'; }
  function fmtNum(v) {
    if (!isNum(v)) return v === null || v === undefined ? '\u2014' : String(v);
    if (Math.abs(v) >= 1000) return fmtFixed(v, 2);
    return Number(v.toPrecision(6)).toLocaleString('en-US', { maximumFractionDigits: 10 });
  }
  function fmtInt(v) { return isNum(v) ? Math.round(v).toLocaleString('en-US') : '\u2014'; }
  function fmtHours(v) { return isNum(v) ? fmtFixed(v, 1) + ' h' : '\u2014'; }

  function el(parent, name, attrs, text) {
    var node = parent.namespaceURI === body.namespaceURI ? document.createElement(name)
                                                          : document.createElementNS(parent.namespaceURI, name);
    for (var key in attrs) node.setAttribute(key, attrs[key]);
    if (text !== undefined) node.textContent = text;
    parent.appendChild(node);
    return node;
  }
  function extent(arrays) {
    var lo = Infinity, hi = -Infinity;
    arrays.forEach(function (values) {
      values.forEach(function (v) { if (isNum(v)) { if (v < lo) lo = v; if (v > hi) hi = v; } });
    });
    if (lo > hi) return [0, 1];
    if (lo === hi) { var d = Math.abs(lo) * 0.01 || 1; return [lo - d, hi + d]; }
    return [lo, hi];
  }

  // Value ticks at 1, 2 or 5 times a power of ten, about `count` of them.
  function valueTicks(lo, hi, count) {
    var raw = (hi - lo) / count, mag = Math.pow(10, Math.floor(Math.log10(raw))), norm = raw / mag;
    var step = (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * mag, ticks = [];
    for (var v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) ticks.push(v);
    return { ticks: ticks, digits: Math.max(0, -Math.floor(Math.log10(step) + 1e-9)) };
  }
  // Time ticks on round UTC boundaries: minutes to weeks by fixed steps, then calendar months.
  function timeTicks(t0, t1, count) {
    var span = t1 - t0, ticks = [], steps = [MINUTE, 5 * MINUTE, 15 * MINUTE, 30 * MINUTE, HOUR, 3 * HOUR,
      6 * HOUR, 12 * HOUR, DAY, 2 * DAY, 7 * DAY, 14 * DAY];
    for (var i = 0; i < steps.length; ++i) {
      if (span / steps[i] > count) continue;
      for (var t = Math.ceil(t0 / steps[i]) * steps[i]; t <= t1; t += steps[i]) ticks.push(t);
      return { ticks: ticks, unit: steps[i] < DAY ? 'minute' : 'day' };
    }
    var months = [1, 2, 3, 6, 12, 24, 60, 120, 240].find(function (m) { return span / (m * 30.44 * DAY) <= count; }) || 480;
    var start = new Date(t0), index = start.getUTCFullYear() * 12 + start.getUTCMonth();
    for (index = Math.ceil(index / months) * months; ; index += months) {
      var t = Date.UTC(Math.floor(index / 12), index % 12, 1);
      if (t < t0) continue;
      if (t > t1) break;
      ticks.push(t);
    }
    return { ticks: ticks, unit: months >= 12 ? 'year' : 'month' };
  }

  // An empty chart with grid, axes and scales for x in [t0, t1] and y in [y0, y1].
  function frame(svg, t0, t1, y0, y1, yFormat) {
    svg.setAttribute('viewBox', '0 0 ' + W + ' ' + H);
    var f = { left: PAD.left, right: W - PAD.right, top: PAD.top, bottom: H - PAD.bottom };
    var tSpan = t1 - t0 || 1, ySpan = y1 - y0 || 1;
    f.x = function (t) { return f.left + (t - t0) / tSpan * (f.right - f.left); };
    f.t = function (x) { return t0 + (x - f.left) / (f.right - f.left) * tSpan; };
    f.y = function (v) { return f.bottom - (v - y0) / ySpan * (f.bottom - f.top); };
    var vt = valueTicks(y0, y1, 5);
    vt.ticks.forEach(function (v) {
      var y = f.y(v).toFixed(1);
      el(svg, 'line', { class: 'grid', x1: f.left, x2: f.right, y1: y, y2: y });
      el(svg, 'text', { class: 'axis', x: f.left - 6, y: y, 'text-anchor': 'end', 'dominant-baseline': 'middle' },
         yFormat(v, vt.digits));
    });
    var tt = timeTicks(t0, t1, 10);
    tt.ticks.forEach(function (t) {
      var x = f.x(t).toFixed(1);
      el(svg, 'line', { class: 'grid', x1: x, x2: x, y1: f.top, y2: f.bottom });
      el(svg, 'text', { class: 'axis', x: x, y: f.bottom + 16, 'text-anchor': 'middle' }, fmtTick(t, tt.unit));
    });
    el(svg, 'line', { class: 'grid', x1: f.left, x2: f.right, y1: f.bottom, y2: f.bottom });
    return f;
  }

  // An SVG path through the finite points; a null breaks the line. Returns [d, points].
  function linePath(f, ts, vs) {
    var d = '', pen = false, n = 0;
    for (var i = 0; i < ts.length; ++i) {
      if (!isNum(vs[i])) { pen = false; continue; }
      d += (pen ? 'L' : 'M') + f.x(ts[i]).toFixed(1) + ' ' + f.y(vs[i]).toFixed(1);
      pen = true;
      ++n;
    }
    return [d, n];
  }

  function nearest(ts, t) {
    var lo = 0, hi = ts.length - 1;
    while (hi - lo > 1) { var mid = (lo + hi) >> 1; if (ts[mid] <= t) lo = mid; else hi = mid; }
    return Math.abs(ts[hi] - t) < Math.abs(ts[lo] - t) ? hi : lo;
  }

  // A crosshair and a readout of every line's value at the pointer's time.
  function addHover(svg, f, lines) {
    var group = el(svg, 'g', { visibility: 'hidden' });
    var rule = el(group, 'line', { class: 'rule', y1: f.top, y2: f.bottom });
    var readout = el(group, 'text', { class: 'readout', x: f.right - 4, y: f.top + 12, 'text-anchor': 'end' });
    var overlay = el(svg, 'rect', { x: f.left, y: f.top, width: f.right - f.left, height: f.bottom - f.top,
                                    fill: 'transparent' });
    overlay.addEventListener('mousemove', function (event) {
      var point = svg.createSVGPoint();
      point.x = event.clientX; point.y = event.clientY;
      var x = point.matrixTransform(svg.getScreenCTM().inverse()).x, t = f.t(x), parts = [];
      lines.forEach(function (line) {
        if (!line.ts.length) return;
        var i = nearest(line.ts, t);
        parts.push(line.name + ' ' + line.format(line.vs[i]));
        if (line === lines[0]) { t = line.ts[i]; x = f.x(t); }
      });
      rule.setAttribute('x1', x); rule.setAttribute('x2', x);
      readout.textContent = fmtTime(t) + '   ' + parts.join('   ');
      group.setAttribute('visibility', 'visible');
    });
    overlay.addEventListener('mouseleave', function () { group.setAttribute('visibility', 'hidden'); });
  }

  function legend(id, items) {
    var box = document.getElementById(id);
    items.forEach(function (item) {
      var span = el(box, 'span', {});
      if (item.color) el(span, 'span', { class: 'key', style: 'background:' + item.color });
      span.appendChild(document.createTextNode(item.text));
    });
  }

  function drawEquity(data) {
    var svg = document.getElementById('chart-equity');
    var eq = data.equity, base = data.baseline;
    var ts = eq.t.slice(), lines = [eq.equity];
    if (base) { ts = ts.concat(base.t); lines.push(base.equity); }
    var ys = extent(lines), span = ys[1] - ys[0];
    var tx = extent([ts]);
    var f = frame(svg, tx[0], tx[1], ys[0] - span * 0.04, ys[1] + span * 0.04, fmtFixed);
    var points = 0, hover = [{ name: 'equity', ts: eq.t, vs: eq.equity, format: function (v) { return fmtFixed(v, 2); } }];
    var items = [{ color: 'var(--equity)', text: 'strategy ' + fmtPct(data.metrics.total_return) }];
    if (base) {
      var bp = linePath(f, base.t, base.equity);
      el(svg, 'path', { d: bp[0], fill: 'none', stroke: 'var(--baseline)', 'stroke-width': 1.2 });
      points += bp[1];
      hover.push({ name: base.name, ts: base.t, vs: base.equity, format: function (v) { return fmtFixed(v, 2); } });
      items.push({ color: 'var(--baseline)', text: base.name + ' ' + fmtPct(base.total_return) });
    }
    var sp = linePath(f, eq.t, eq.equity);
    el(svg, 'path', { d: sp[0], fill: 'none', stroke: 'var(--equity)', 'stroke-width': 1.6 });
    points += sp[1];
    if (isNum(data.metrics.initial_capital)) {
      var y0 = f.y(data.metrics.initial_capital).toFixed(1);
      var start = el(svg, 'line', { class: 'rule', x1: f.left, x2: f.right, y1: y0, y2: y0 });
      el(start, 'title', {}, 'initial capital');
      items.push({ text: 'dashed: initial capital ' + fmtFixed(data.metrics.initial_capital, 2) });
    }
    if (eq.marks > eq.t.length) items.push({ text: eq.t.length + ' of ' + fmtInt(eq.marks) + ' marks drawn (extremes kept)' });
    addHover(svg, f, hover);
    legend('legend-equity', items);
    svg.setAttribute('data-points', points);
    return 1;
  }

  function drawDrawdown(data) {
    var svg = document.getElementById('chart-drawdown'), eq = data.equity;
    var ys = extent([eq.drawdown]), tx = extent([eq.t]);
    var lo = Math.min(ys[0], -0.001);
    var f = frame(svg, tx[0], tx[1], lo * 1.05, 0, function (v, digits) { return fmtPct(v, Math.max(0, digits - 2)); });
    var path = linePath(f, eq.t, eq.drawdown);
    if (path[1] > 0) {
      var first = f.x(eq.t[0]).toFixed(1), last = f.x(eq.t[eq.t.length - 1]).toFixed(1), zero = f.y(0).toFixed(1);
      el(svg, 'path', { d: path[0] + 'L' + last + ' ' + zero + 'L' + first + ' ' + zero + 'Z',
                        fill: 'var(--down)', 'fill-opacity': 0.18, stroke: 'none' });
      el(svg, 'path', { d: path[0], fill: 'none', stroke: 'var(--down)', 'stroke-width': 1.2 });
    }
    addHover(svg, f, [{ name: 'drawdown', ts: eq.t, vs: eq.drawdown, format: function (v) { return fmtPct(v); } }]);
    var worst = -1;
    eq.drawdown.forEach(function (v, i) { if (isNum(v) && (worst < 0 || v < eq.drawdown[worst])) worst = i; });
    if (worst >= 0) {
      var dot = el(svg, 'circle', { cx: f.x(eq.t[worst]).toFixed(1), cy: f.y(eq.drawdown[worst]).toFixed(1), r: 4,
                                    fill: 'var(--down)' });
      el(dot, 'title', {}, 'max drawdown ' + fmtPct(eq.drawdown[worst]) + ' at ' + fmtTime(eq.t[worst]));
    }
    legend('legend-drawdown', [{ color: 'var(--down)', text: 'max drawdown ' + fmtPct(data.metrics.max_drawdown) +
                                 ', longest ' + fmtHours(data.metrics.max_drawdown_duration_hours) + ' under water' }]);
    svg.setAttribute('data-points', path[1]);
    return 1;
  }

  // The instrument's fills, every k-th of each side so at most kMaxMarkersPerSide are drawn per
  // side. Sides are thinned separately: buys and sells alternate, so one stride over both
  // could keep only buys.
  function fillsToDraw(data) {
    var mine = data.fills.filter(function (fill) { return fill.instrument === data.price.instrument_index; });
    var out = { all: mine, shown: [], buys: 0, every: 1 };
    ['buy', 'sell'].forEach(function (side) {
      var fills = mine.filter(function (fill) { return fill.side === side; });
      var every = Math.max(1, Math.ceil(fills.length / kMaxMarkersPerSide));
      if (side === 'buy') out.buys = fills.length;
      out.every = Math.max(out.every, every);
      fills.forEach(function (fill, i) { if (i % every === 0) out.shown.push(fill); });
    });
    out.shown.sort(function (a, b) { return a.t - b.t; });  // neither side always on top
    return out;
  }

  function drawMarker(svg, f, fill) {
    var x = f.x(fill.t), y = f.y(fill.price), buy = fill.side === 'buy', s = 5;
    var d = buy ? 'M' + x + ' ' + (y - s) + 'L' + (x + s) + ' ' + (y + s) + 'L' + (x - s) + ' ' + (y + s) + 'Z'
                : 'M' + x + ' ' + (y + s) + 'L' + (x + s) + ' ' + (y - s) + 'L' + (x - s) + ' ' + (y - s) + 'Z';
    var marker = el(svg, 'path', { d: d, fill: buy ? 'var(--up)' : 'var(--down)', 'fill-opacity': 0.85 });
    el(marker, 'title', {}, fill.side + ' ' + fmtNum(fill.quantity) + ' @ ' + fmtNum(fill.price) + ', fee ' +
       fmtNum(fill.fee) + ', ' + fmtTime(fill.t));
  }

  function drawPrice(data) {
    var svg = document.getElementById('chart-price');
    if (!svg || !data.price) return 0;
    var price = data.price, fills = fillsToDraw(data);
    var ys = extent([price.close, fills.shown.map(function (fill) { return fill.price; })]);
    var tx = extent([price.t]), span = ys[1] - ys[0];
    var f = frame(svg, tx[0], tx[1], ys[0] - span * 0.04, ys[1] + span * 0.04, fmtFixed);
    var path = linePath(f, price.t, price.close);
    el(svg, 'path', { d: path[0], fill: 'none', stroke: 'var(--price)', 'stroke-width': 1.1 });
    addHover(svg, f, [{ name: 'close', ts: price.t, vs: price.close, format: fmtNum }]);
    fills.shown.forEach(function (fill) { drawMarker(svg, f, fill); });
    var buys = fills.buys;
    var items = [{ color: 'var(--price)', text: price.instrument + ' close' + (price.timeframe ? ' (' + price.timeframe + ' bars)' : '') },
                 { color: 'var(--up)', text: '\u25B2 buy ' + fmtInt(buys) },
                 { color: 'var(--down)', text: '\u25BC sell ' + fmtInt(fills.all.length - buys) }];
    if (fills.every > 1) items.push({ text: 'one fill in ' + fills.every + ' marked' });
    if (price.bars > price.t.length) items.push({ text: price.t.length + ' of ' + fmtInt(price.bars) + ' bars drawn' });
    legend('legend-price', items);
    svg.setAttribute('data-points', path[1]);
    svg.setAttribute('data-markers', fills.shown.length);
    return 1;
  }

  function shade(cell, v) {
    if (!isNum(v)) return;
    var alpha = Math.min(0.55, 0.08 + Math.abs(v) / 0.2 * 0.47);
    cell.style.backgroundColor = (v >= 0 ? 'rgba(22,163,74,' : 'rgba(220,38,38,') + alpha.toFixed(3) + ')';
  }

  function drawMonthly(data) {
    var box = document.getElementById('monthly');
    if (!data.monthly.length) { el(box, 'p', { class: 'note' }, 'No marks.'); return 1; }
    var years = {};
    data.monthly.forEach(function (m) { (years[m.year] = years[m.year] || {})[m.month] = m['return']; });
    var table = el(el(box, 'div', { class: 'scroll' }), 'table', { class: 'monthly' });
    var head = el(table, 'tr', {});
    el(head, 'th', {}, 'Year');
    MONTHS.forEach(function (name) { el(head, 'th', {}, name); });
    el(head, 'th', {}, 'Year');
    Object.keys(years).sort().forEach(function (year) {
      var row = el(table, 'tr', {}), total = 1;
      el(row, 'td', {}, year);
      for (var month = 1; month <= 12; ++month) {
        var v = years[year][month], cell = el(row, 'td', {}, v === undefined ? '' : fmtPct(v, 1));
        if (v === undefined) continue;
        total = isNum(v) && isNum(total) ? total * (1 + v) : null;
        cell.title = MONTHS[month - 1] + ' ' + year + ': ' + fmtPct(v, 4);
        shade(cell, v);
      }
      var cell = el(row, 'td', {}, fmtPct(isNum(total) ? total - 1 : null, 1));
      cell.style.fontWeight = '600';
      shade(cell, isNum(total) ? total - 1 : null);
    });
    return 1;
  }

  var METRICS = [
    ['Returns'], ['total_return', 'total return', fmtPct], ['cagr', 'CAGR', fmtPct],
    ['initial_capital', 'initial capital', fmtNum], ['final_equity', 'final equity', fmtNum],
    ['Risk'], ['volatility', 'volatility (annual)', fmtPct], ['sharpe', 'Sharpe', function (v) { return fmtFixed(v, 3); }],
    ['sortino', 'Sortino', function (v) { return fmtFixed(v, 3); }], ['calmar', 'Calmar', function (v) { return fmtFixed(v, 3); }],
    ['max_drawdown', 'max drawdown', fmtPct], ['max_drawdown_duration_hours', 'max drawdown duration', fmtHours],
    ['Trades'], ['trades', 'round trips', fmtInt], ['win_rate', 'win rate', fmtPct],
    ['profit_factor', 'profit factor', function (v) { return fmtFixed(v, 3); }], ['average_trade', 'average trade', fmtPct],
    ['exposure', 'exposure', fmtPct], ['turnover', 'turnover', function (v) { return fmtFixed(v, 2); }],
    ['Costs and run'], ['fees_paid', 'fees paid', fmtNum], ['slippage_paid', 'slippage paid', fmtNum],
    ['fills', 'fills', fmtInt], ['rejected_orders', 'rejected orders', fmtInt], ['events', 'bar events', fmtInt]];

  function kvTable(parent, rows) {
    var table = el(parent, 'table', { class: 'kv' });
    rows.forEach(function (row) {
      var tr = el(table, 'tr', {});
      if (row.length === 1) { el(tr, 'td', { class: 'group', colspan: 2 }, row[0]); return; }
      el(tr, 'td', {}, row[0]);
      el(tr, 'td', {}, row[1]);
    });
    return table;
  }

  function jsonText(v) {
    if (typeof v === 'string') return v;
    if (typeof v === 'number' || v === null) return fmtNum(v);
    return JSON.stringify(v);
  }

  function drawMetrics(data) {
    var m = data.metrics, known = {}, rows = [];
    METRICS.forEach(function (spec) {
      if (spec.length === 1) { rows.push(spec); return; }
      known[spec[0]] = true;
      if (spec[0] in m) rows.push([spec[1], spec[2](m[spec[0]])]);
    });
    Object.keys(m).forEach(function (key) { if (!known[key]) rows.push([key.replace(/_/g, ' '), jsonText(m[key])]); });
    if (data.baseline) {
      rows.push(['Baseline: ' + data.baseline.name]);
      rows.push(['total return', fmtPct(data.baseline.total_return)]);
      rows.push(['Sharpe', fmtFixed(data.baseline.sharpe, 3)]);
      rows.push(['max drawdown', fmtPct(data.baseline.max_drawdown)]);
    }
    kvTable(document.getElementById('metrics'), rows);
    var settings = data.settings.map(function (pair) { return [pair[0], pair[1]]; });
    if (data.extra && typeof data.extra === 'object' && !Array.isArray(data.extra)) {
      var keys = Object.keys(data.extra);
      if (keys.length) settings.push(['Extra']);
      keys.forEach(function (key) { settings.push([key, jsonText(data.extra[key])]); });
    }
    if (!settings.length) settings.push(['(none given)', '']);
    kvTable(document.getElementById('settings'), settings);
    return 1;
  }

  try {
    var data = JSON.parse(document.getElementById('vigil-data').textContent);
    var period = data.period;
    document.getElementById('period').textContent = period.start
        ? fmtTime(Date.parse(period.start)) + ' \u2013 ' + fmtTime(Date.parse(period.end)) + ', ' + fmtInt(period.marks) + ' marks'
        : 'no marks';
    var drawn = drawEquity(data) + drawDrawdown(data) + drawPrice(data) + drawMonthly(data) + drawMetrics(data);
    if (!body.dataset.error) body.dataset.rendered = String(drawn);
  } catch (error) {
    fail(error);
  }
})();
)JS";

}  // namespace vigil::backtest_internal
