/* DeltaGlider proxy dashboard: plain ES2020, no dependencies, no inline code (CSP default-src 'self').
   Shows bucket names and deltaspace prefixes, never object keys or contents. */
(() => {
'use strict';
// Runs from <head> before the body is painted: the sign-in form stays hidden until needed.
document.documentElement.classList.add('js');

const API = '/_deltaglider/api/';
const SAVINGS_EVERY = 30000;
const LIVE_EVERY = 5000;
const NUM = new Intl.NumberFormat('en-US');
const MINUS = '\u2212';
const DASH = '\u2014';

const state = {
  savings: null, selected: null, signedIn: null,
  busy: new Set(), prevLive: null, note: '',
  errors: { savings: null, live: null, action: null },
  timers: {},
};
const tables = {};
const $ = id => document.getElementById(id);

function h(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v == null || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat(9)) if (c != null) e.append(c);
  return e;
}
function s(tag, attrs, ...children) {
  const e = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [k, v] of Object.entries(attrs || {})) if (v != null) e.setAttribute(k, String(v));
  for (const c of children.flat(9)) if (c != null) e.append(c);
  return e;
}

// Formatting
const ok = n => typeof n === 'number' && Number.isFinite(n);
const fixed = (x, d) => x.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d });
const count = n => (ok(n) ? NUM.format(Math.round(n)) : DASH);
const ratio = (orig, stored) => (ok(orig) && ok(stored) && orig > 0 ? 1 - stored / orig : null);

function bytes(n) {
  if (!ok(n)) return DASH;
  const sign = n < 0 ? MINUS : '';
  let a = Math.abs(n);
  if (a < 1000) return sign + NUM.format(Math.round(a)) + ' B';
  const units = ['kB', 'MB', 'GB', 'TB', 'PB', 'EB'];
  let i = -1;
  do { a /= 1000; i++; } while (a >= 999.95 && i < units.length - 1);
  return sign + fixed(a, a < 9.995 ? 2 : 1) + ' ' + units[i];
}
function pct(r) {
  if (!ok(r)) return DASH;
  const t = fixed(Math.abs(r * 100), 1);
  return (r < 0 && t !== '0.0' ? MINUS : '') + t + '%';
}
function rate(x, unit) {
  if (!ok(x)) return DASH;
  return fixed(x, x < 10 ? 2 : x < 100 ? 1 : 0) + ' ' + unit;
}
const ms = sec => (ok(sec) ? rate(sec * 1000, 'ms') : DASH);
function uptime(sec) {
  const m = Math.floor(sec / 60), hr = Math.floor(m / 60);
  if (!ok(sec)) return DASH;
  if (sec < 60) return Math.floor(sec) + ' s';
  return hr < 24 ? (hr ? hr + ' h ' : '') + (m % 60) + ' min' : Math.floor(hr / 24) + ' d ' + (hr % 24) + ' h';
}
function ago(iso) {
  const t = Date.parse(iso);
  if (isNaN(t)) return String(iso);
  const d = (Date.now() - t) / 1000, a = Math.abs(d);
  if (a < 45) return 'just now';
  let txt;
  if (a < 3600) txt = Math.max(1, Math.round(a / 60)) + ' min';
  else if (a < 86400) txt = Math.round(a / 3600) + ' h';
  else { const n = Math.round(a / 86400); txt = n + (n === 1 ? ' day' : ' days'); }
  return d >= 0 ? txt + ' ago' : 'in ' + txt;
}
function timeEl(iso) {
  if (!iso) return h('span', { class: 'muted' }, 'never');
  return h('time', { datetime: iso, title: iso, 'data-reltime': iso }, ago(iso));
}
function refreshTimes() {
  for (const e of document.querySelectorAll('[data-reltime]')) e.textContent = ago(e.dataset.reltime);
}
function setFig(id, value, text, neg) {
  const e = $(id);
  e.textContent = text;
  e.dataset.value = value == null ? '' : String(value);
  e.classList.toggle('neg', !!neg);
}
const clock = () => new Date().toLocaleTimeString();

// Server
class ApiError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}
async function api(path, method = 'GET') {
  let r;
  try {
    r = await fetch(API + path, {
      method, credentials: 'same-origin', cache: 'no-store',
      headers: { Accept: 'application/json', 'X-Requested-With': 'dashboard' },
    });
  } catch (e) {
    throw new ApiError(0, 'the proxy could not be reached');
  }
  if (!r.ok) throw new ApiError(r.status, 'HTTP ' + r.status + (r.statusText ? ' ' + r.statusText : ''));
  try { return await r.json(); } catch (e) { throw new ApiError(r.status, 'the answer was not valid JSON'); }
}

function showStatus() {
  const el = $('status');
  const errs = Object.values(state.errors).filter(Boolean);
  el.classList.toggle('error', errs.length > 0);
  el.textContent = errs.length ? errs.join(' \u00b7 ') : state.note;
}

function setSignedIn(on) {
  state.signedIn = on;
  document.body.classList.toggle('signed-in', on);
  document.body.classList.toggle('signed-out', !on);
  if (!on) {
    clearTimeout(state.timers.savings);
    clearTimeout(state.timers.live);
    state.errors = { savings: null, live: null, action: null };
    state.note = '';
    state.prevLive = null;
    showStatus();
    $('access_key').focus();
  }
}

function normBucket(b) {
  b.deltaspaces = Array.isArray(b.deltaspaces) ? b.deltaspaces : [];
  b.history = Array.isArray(b.history) ? b.history : [];
  return b;
}

async function loadSavings() {
  clearTimeout(state.timers.savings);
  try {
    const data = await api('savings');
    data.buckets = (Array.isArray(data.buckets) ? data.buckets : []).map(normBucket);
    state.savings = data;
    state.errors.savings = null;
    state.note = 'Updated ' + clock();
    if (state.signedIn !== true) { setSignedIn(true); loadLive(); }
    renderSavings();
  } catch (e) {
    if (e.status === 401) { setSignedIn(false); return; }
    state.errors.savings = 'Could not load savings: ' + e.message + ' (retrying in 30 s)';
    if (!state.savings) $('loading').textContent = 'Waiting for the proxy\u2026';
  }
  showStatus();
  state.timers.savings = setTimeout(loadSavings, SAVINGS_EVERY);
}

async function loadLive() {
  clearTimeout(state.timers.live);
  try {
    renderLive(await api('live'));
    state.errors.live = null;
  } catch (e) {
    if (e.status === 401) { setSignedIn(false); return; }
    state.errors.live = 'Could not load live figures: ' + e.message;
  }
  refreshTimes();
  showStatus();
  if (state.signedIn) state.timers.live = setTimeout(loadLive, LIVE_EVERY);
}

async function reconcile(name) {
  if (state.busy.has(name)) return;
  state.busy.add(name);
  state.errors.action = null;
  state.note = 'Reconciling ' + name + '\u2026';
  renderTable(tables.buckets);
  showStatus();
  try {
    const b = normBucket(await api('reconcile?bucket=' + encodeURIComponent(name), 'POST'));
    const list = state.savings.buckets;
    const i = list.findIndex(x => x.bucket === name);
    if (i >= 0) list[i] = b; else list.push(b);
    state.note = 'Reconciled ' + name + ' at ' + clock();
  } catch (e) {
    if (e.status === 401) { setSignedIn(false); return; }
    state.errors.action = 'Could not reconcile ' + name + ': ' + e.message;
  }
  state.busy.delete(name);
  renderSavings();
  showStatus();
}

// Sortable tables
// Column: key, label, num, value(row) -> data-value, sort(row) (default value), render(row),
// cls(row), header (row header), field (data-field, default key; null: none), sortable.
function makeTable(id, columns, key, dir, rowAttrs, emptyText) {
  const table = $(id);
  const t = { columns, key, dir, rows: [], rowAttrs, emptyText, tbody: table.tBodies[0] };
  const tr = h('tr');
  for (const c of columns) {
    const th = h('th', { scope: 'col', class: c.num ? 'num' : null });
    if (c.sortable === false) {
      th.append(c.label || h('span', { class: 'sr-only' }, c.srLabel || ''));
    } else {
      th.append(h('button', {
        type: 'button', class: 'sort',
        onclick: () => {
          if (t.key === c.key) t.dir = -t.dir; else { t.key = c.key; t.dir = 1; }
          renderTable(t);
        },
      }, c.label, h('span', { class: 'arrow', 'aria-hidden': 'true' })));
    }
    c.th = th;
    tr.append(th);
  }
  table.createTHead().append(tr);
  return t;
}

function cmp(a, b) {
  if (typeof a === 'string' || typeof b === 'string') {
    return String(a).localeCompare(String(b), 'en', { numeric: true });
  }
  return a - b;
}

function renderTable(t, rows) {
  if (rows) t.rows = rows;
  const col = t.columns.find(c => c.key === t.key) || t.columns[0];
  const key = col.sort || col.value;
  const first = t.columns[0].value;
  const sorted = t.rows.map(r => [key(r), r]).sort(([ka, a], [kb, b]) => {
    const na = ka == null || isNaN(ka), nb = kb == null || isNaN(kb);
    if (na || nb) return na && nb ? cmp(first(a), first(b)) : na ? 1 : -1; // blanks last
    return cmp(ka, kb) * t.dir || cmp(first(a), first(b));
  }).map(x => x[1]);
  for (const c of t.columns) {
    if (c.sortable === false) continue;
    c.th.setAttribute('aria-sort', c === col ? (t.dir > 0 ? 'ascending' : 'descending') : 'none');
  }
  const active = document.activeElement;
  const focusKey = active && t.tbody.contains(active) ? active.getAttribute('data-focus-key') : null;
  const trs = sorted.map(r => {
    const tr = h('tr', t.rowAttrs(r));
    for (const c of t.columns) {
      const cls = [c.num ? 'num' : '', (c.cls && c.cls(r)) || ''].join(' ').trim();
      const cell = h(c.header ? 'th' : 'td', { scope: c.header ? 'row' : null, class: cls || null });
      if (c.field !== null) {
        const v = c.value(r);
        cell.dataset.field = c.field || c.key;
        cell.dataset.value = v == null ? '' : String(v);
      }
      const content = c.render ? c.render(r) : c.value(r);
      cell.append(content == null ? DASH : content);
      tr.append(cell);
    }
    return tr;
  });
  if (!trs.length) trs.push(h('tr', null, h('td', { colspan: t.columns.length, class: 'empty' }, t.emptyText)));
  t.tbody.replaceChildren(...trs);
  if (focusKey) {
    const again = [...t.tbody.querySelectorAll('[data-focus-key]')].find(e => e.getAttribute('data-focus-key') === focusKey);
    if (again) again.focus();
  }
}

const countCol = (key, label) => ({ key, label, num: true, value: r => r[key], render: r => count(r[key]) });
const bytesCol = (key, label, neg) => ({
  key, label, num: true, value: r => r[key], render: r => bytes(r[key]),
  cls: neg ? r => (r[key] < 0 ? 'neg' : '') : null,
});
const savingsCol = {
  key: 'savings', label: 'Savings', num: true,
  value: r => ratio(r.original_bytes, r.stored_bytes),
  render: r => pct(ratio(r.original_bytes, r.stored_bytes)),
  cls: r => (ratio(r.original_bytes, r.stored_bytes) < 0 ? 'neg' : ''),
};
const msCol = key => ({ key, label: key, num: true, value: r => r[key], render: r => ms(r[key]) });

function setupTables() {
  tables.buckets = makeTable('buckets_table', [
    { key: 'bucket', label: 'Bucket', header: true, value: r => r.bucket },
    countCol('objects', 'Objects'),
    bytesCol('original_bytes', 'Original'),
    bytesCol('stored_bytes', 'Stored'),
    bytesCol('saved_bytes', 'Saved', true),
    savingsCol,
    countCol('references', 'References'),
    {
      key: 'reconciled_at', label: 'Last reconciled',
      value: r => r.reconciled_at || null,
      sort: r => (r.reconciled_at ? Date.parse(r.reconciled_at) : null),
      render: r => timeEl(r.reconciled_at),
    },
    {
      key: 'actions', srLabel: 'Actions', sortable: false, field: null, value: () => null,
      render: r => {
        const busy = state.busy.has(r.bucket);
        return h('button', {
          type: 'button', class: 'btn small', disabled: busy,
          'data-focus-key': 'reconcile:' + r.bucket,
          'aria-label': 'Reconcile ' + r.bucket,
          title: 'Recount this bucket\u2019s statistics from storage',
          onclick: () => reconcile(r.bucket),
        }, busy ? 'Reconciling\u2026' : 'Reconcile');
      },
    },
  ], 'bucket', 1, r => ({ 'data-bucket': r.bucket }), 'No buckets yet.');

  tables.deltaspaces = makeTable('deltaspaces_table', [
    {
      key: 'prefix', label: 'Prefix', header: true, value: r => r.prefix,
      render: r => (r.prefix === '' ? h('span', { class: 'root' }, '(bucket root)') : r.prefix),
    },
    countCol('objects', 'Objects'),
    countCol('delta_objects', 'Delta objects'),
    countCol('whole_objects', 'Whole objects'),
    bytesCol('original_bytes', 'Original'),
    bytesCol('stored_bytes', 'Stored'),
    bytesCol('saved_bytes', 'Saved', true),
    savingsCol,
    countCol('references', 'References'),
    bytesCol('reference_bytes', 'Reference bytes'),
  ], 'prefix', 1, r => ({ 'data-prefix': r.prefix }), 'No deltaspaces in this bucket yet.');

  tables.requests = makeTable('requests_table', [
    { key: 'operation', label: 'Operation', header: true, value: r => r.operation },
    countCol('count', 'Requests'),
    { key: 'rate', label: 'Req/s', num: true, value: r => r.rate, render: r => rate(r.rate, '/s') },
    { ...countCol('errors', 'Errors'), cls: r => (r.errors > 0 ? 'neg' : '') },
    { key: 'error_rate', label: 'Errors/s', num: true, value: r => r.error_rate, render: r => rate(r.error_rate, '/s') },
    msCol('p50'), msCol('p90'), msCol('p99'),
  ], 'count', -1, r => ({ 'data-operation': r.operation }), 'No requests yet.');

  tables.stored = makeTable('stored_table', [
    { key: 'storage', label: 'Stored as', header: true, value: r => r.storage, cls: () => 'cap' },
    {
      key: 'reason', label: 'Reason', value: r => r.reason,
      render: r => h('span', { title: r.reason }, (REASONS[r.reason] || [r.reason])[0]),
    },
    countCol('count', 'Objects'),
    { key: 'share', label: 'Share', num: true, value: r => r.share, render: r => pct(r.share) },
    {
      key: 'meaning', label: 'Meaning', field: null, sortable: false, value: () => null,
      cls: () => 'wrap-ok', render: r => (REASONS[r.reason] || [])[1] || '',
    },
  ], 'count', -1, r => ({ 'data-storage': r.storage, 'data-reason': r.reason }), 'Nothing stored yet.');
}

const REASONS = {
  delta: ['Delta encoded', 'Stored as a delta against its deltaspace\u2019s reference.'],
  not_eligible: ['Not eligible', 'The key is not delta-eligible by configuration.'],
  delta_too_large: ['Delta too large', 'The delta would exceed the configured size ratio.'],
  too_big: ['Too big', 'Larger than the in-memory limit for delta encoding.'],
  no_reference: ['No reference', 'First object of its deltaspace, or nothing similar to compare against.'],
};

// Savings
function renderSavings() {
  const data = state.savings;
  const buckets = data.buckets;
  const sum = k => buckets.reduce((a, b) => a + (ok(b[k]) ? b[k] : 0), 0);
  const o = sum('original_bytes'), st = sum('stored_bytes'), sv = sum('saved_bytes');
  const r = ratio(o, st);
  setFig('total_original', o, bytes(o));
  setFig('total_stored', st, bytes(st));
  setFig('total_saved', sv, bytes(sv), sv < 0);
  setFig('total_savings', r, pct(r), r != null && r < 0);
  setFig('total_objects', sum('objects'), count(sum('objects')));
  setFig('total_references', sum('references'), count(sum('references')));

  const g = $('generated_at'), at = data.generated_at;
  if (at) {
    for (const k of ['datetime', 'title', 'data-reltime', 'data-value']) g.setAttribute(k, at);
    g.textContent = ago(at);
  }

  renderTable(tables.buckets, buckets);
  renderTop(buckets);

  const sel = $('bucket_select');
  const names = buckets.map(b => b.bucket);
  if (!names.includes(state.selected)) state.selected = names.length ? names[0] : null;
  if (sel.dataset.names !== JSON.stringify(names)) {
    sel.replaceChildren(...names.map(n => h('option', { value: n }, n)));
    sel.dataset.names = JSON.stringify(names);
  }
  sel.disabled = !names.length;
  if (state.selected != null) sel.value = state.selected;
  renderDetails();
}

const selectedBucket = () => (state.savings ? state.savings.buckets.find(b => b.bucket === state.selected) : null);

function renderDetails() {
  const b = selectedBucket();
  renderChart(b);
  renderTable(tables.deltaspaces, b ? b.deltaspaces : []);
}

function renderTop(buckets) {
  const all = [];
  for (const b of buckets) for (const d of b.deltaspaces) all.push({ bucket: b.bucket, ...d });
  const top = all.filter(d => ok(d.saved_bytes) && d.saved_bytes > 0)
    .sort((a, b) => b.saved_bytes - a.saved_bytes).slice(0, 5);
  const list = $('top_deltaspaces');
  if (!top.length) { list.replaceChildren(h('li', null, h('span', { class: 'none' }, 'Nothing saved yet.'))); return; }
  const max = top[0].saved_bytes;
  list.replaceChildren(...top.map(d => {
    const fill = h('div', { class: 'fill' });
    fill.style.width = (d.saved_bytes / max) * 100 + '%'; // CSSOM, which CSP allows
    return h('li', { 'data-bucket': d.bucket, 'data-prefix': d.prefix, 'data-value': d.saved_bytes },
      h('span', { class: 'name', title: d.bucket + ' / ' + (d.prefix || '(bucket root)') },
        h('span', { class: 'bucket' }, d.bucket + ' / '),
        d.prefix === '' ? h('span', { class: 'root' }, '(bucket root)') : d.prefix),
      h('span', { class: 'val' }, bytes(d.saved_bytes) + ' saved',
        h('span', { class: 'muted' }, ' \u00b7 ' + pct(ratio(d.original_bytes, d.stored_bytes)))),
      h('div', { class: 'track', 'aria-hidden': 'true' }, fill));
  }));
}

// History chart
function niceStep(x) {
  if (!(x > 0)) return 1;
  const p = Math.pow(10, Math.floor(Math.log10(x)));
  const f = x / p;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10) * p;
}
const axisBytes = v => bytes(v).replace(/\.0+ /, ' ').replace(/(\.\d*?)0+ /, '$1 ');

function renderChart(b) {
  const wrap = $('history_wrap');
  const pts = (b ? b.history : [])
    .map(p => ({ t: Date.parse(p.at), at: p.at, o: Number(p.original_bytes) || 0, s: Number(p.stored_bytes) || 0 }))
    .filter(p => !isNaN(p.t)).sort((a, c) => a.t - c.t);
  const W = Math.max(300, Math.round(wrap.clientWidth || 800));
  const name = b ? b.bucket : '';
  const svg = (H, ...kids) => wrap.replaceChildren(s('svg', {
    id: 'history_chart', class: 'chart', viewBox: `0 0 ${W} ${H}`, width: W, height: H, role: 'img', 'data-points': pts.length,
  }, s('title', null, `Stored vs original size of ${name} over time`), kids));
  if (pts.length < 2) {
    svg(64, s('text', { x: W / 2, y: 36, 'text-anchor': 'middle', class: 'empty' },
      'Not enough history yet: the chart needs at least two snapshots.'));
    return;
  }
  const H = W < 600 ? 220 : 270;
  const m = { l: 68, r: 18, t: 34, b: 28 };
  const iw = W - m.l - m.r, ih = H - m.t - m.b;
  const maxV = Math.max(1, ...pts.map(p => Math.max(p.o, p.s)));
  const step = niceStep(maxV / 4);
  const top = Math.ceil(maxV / step) * step;
  const t0 = pts[0].t, span = Math.max(1, pts[pts.length - 1].t - t0);
  const x = t => m.l + ((t - t0) / span) * iw;
  const y = v => m.t + ih - (v / top) * ih;
  const parts = [];

  for (let v = 0; v <= top + step / 2; v += step) {
    parts.push(s('line', { class: 'grid', x1: m.l, x2: m.l + iw, y1: y(v), y2: y(v) }));
    parts.push(s('text', { x: m.l - 8, y: y(v) + 4, 'text-anchor': 'end' }, axisBytes(v)));
  }
  parts.push(s('line', { class: 'axis', x1: m.l, x2: m.l + iw, y1: m.t + ih, y2: m.t + ih }));

  const d0 = new Date(t0), d1 = new Date(t0 + span);
  const sameDay = d0.toDateString() === d1.toDateString();
  const opts = sameDay ? { hour: '2-digit', minute: '2-digit' }
    : span < 7 * 86400000 ? { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' }
      : { month: 'short', day: 'numeric' };
  const n = W < 600 ? 3 : 5;
  for (let i = 0; i < n; i++) {
    const t = t0 + (span * i) / (n - 1);
    const anchor = i === 0 ? 'start' : i === n - 1 ? 'end' : 'middle';
    parts.push(s('line', { class: 'axis', x1: x(t), x2: x(t), y1: m.t + ih, y2: m.t + ih + 4 }));
    parts.push(s('text', { x: x(t), y: H - 8, 'text-anchor': anchor }, new Date(t).toLocaleString(undefined, opts)));
  }

  const path = k => pts.map((p, i) => (i ? 'L' : 'M') + x(p.t).toFixed(1) + ' ' + y(p[k]).toFixed(1)).join(' ');
  parts.push(s('path', { class: 'area', d: path('s') + ` L${x(pts[pts.length - 1].t).toFixed(1)} ${y(0)} L${x(t0)} ${y(0)} Z` }));
  parts.push(s('path', { class: 'line original', d: path('o') }));
  parts.push(s('path', { class: 'line stored', d: path('s') }));
  if (pts.length <= 60) {
    for (const p of pts) {
      const tip = `${p.at}: original ${bytes(p.o)}, stored ${bytes(p.s)} (savings ${pct(ratio(p.o, p.s))})`;
      parts.push(s('circle', { class: 'original', cx: x(p.t), cy: y(p.o), r: 3 }, s('title', null, tip)));
      parts.push(s('circle', { class: 'stored', cx: x(p.t), cy: y(p.s), r: 3 }, s('title', null, tip)));
    }
  }
  parts.push(s('g', { class: 'legend' },
    s('line', { class: 'line original', x1: m.l, x2: m.l + 22, y1: 12, y2: 12 }),
    s('text', { x: m.l + 28, y: 16 }, 'Original'),
    s('line', { class: 'line stored', x1: m.l + 100, x2: m.l + 122, y1: 12, y2: 12 }),
    s('text', { x: m.l + 128, y: 16 }, 'Stored')));

  const last = pts[pts.length - 1];
  svg(H, s('desc', null, `${pts.length} snapshots from ${pts[0].at} to ${last.at}; latest: original ${bytes(last.o)}, stored ${bytes(last.s)}.`), parts);
}

// Live
const isError = status => status === 0 || status >= 400;

function renderLive(live) {
  const v = $('version');
  if (live.version) { v.textContent = 'v' + live.version; v.hidden = false; }
  $('uptime').textContent = uptime(live.uptime_seconds);

  const ops = new Map();
  const op = name => {
    if (!ops.has(name)) ops.set(name, { operation: name, count: 0, errors: 0, rate: null, error_rate: null, p50: null, p90: null, p99: null });
    return ops.get(name);
  };
  let total = 0, errors = 0;
  for (const r of live.requests || []) {
    const o = op(r.operation), c = Number(r.count) || 0;
    o.count += c; total += c;
    if (isError(r.status)) { o.errors += c; errors += c; }
  }
  for (const d of live.durations || []) Object.assign(op(d.operation), { p50: d.p50, p90: d.p90, p99: d.p99 });

  const now = ok(live.uptime_seconds) ? live.uptime_seconds : performance.now() / 1000;
  const prev = state.prevLive;
  const dt = prev && now > prev.at ? now - prev.at : null;
  const per = (a, b) => (dt && a >= b ? (a - b) / dt : null);
  for (const o of ops.values()) {
    const p = (prev && prev.ops.get(o.operation)) || { count: 0, errors: 0 };
    o.rate = per(o.count, p.count);
    o.error_rate = per(o.errors, p.errors);
  }
  const totalRate = prev ? per(total, prev.total) : null;
  const errorRate = prev ? per(errors, prev.errors) : null;
  state.prevLive = { at: now, total, errors, ops: new Map([...ops.values()].map(o => [o.operation, { count: o.count, errors: o.errors }])) };

  setFig('live_request_rate', totalRate, rate(totalRate, 'req/s'));
  $('live_requests_total').textContent = count(total) + ' since start';
  setFig('live_error_rate', errorRate, rate(errorRate, 'errors/s'), errorRate > 0);
  $('live_errors_total').textContent = count(errors) + ' since start' + (total ? ' (' + pct(errors / total) + ')' : '');

  const cache = live.cache || {};
  const hits = Number(cache.hits) || 0, misses = Number(cache.misses) || 0;
  const hr = hits + misses > 0 ? hits / (hits + misses) : null;
  setFig('cache_hit_ratio', hr, pct(hr));
  $('cache_counts').textContent = count(hits) + (hits === 1 ? ' hit' : ' hits') + ' \u00b7 ' + count(misses) + (misses === 1 ? ' miss' : ' misses');
  setFig('cache_bytes', cache.bytes, bytes(cache.bytes));

  renderTable(tables.requests, [...ops.values()]);

  const stored = (live.stored || []).map(x => ({ ...x, count: Number(x.count) || 0 }));
  const all = stored.reduce((a, x) => a + x.count, 0);
  for (const x of stored) x.share = all ? x.count / all : null;
  renderTable(tables.stored, stored);

  renderCodec(live.encode || {}, live.decode || {});
}

function renderCodec(enc, dec) {
  const tp = c => (ok(c.seconds) && c.seconds > 0 && ok(c.bytes) ? c.bytes / c.seconds : null);
  const rows = [
    ['count', 'Operations', c => c.count, c => count(c.count)],
    ['bytes', 'Bytes processed', c => c.bytes, c => bytes(c.bytes)],
    ['seconds', 'Time spent', c => c.seconds, c => rate(c.seconds, 's')],
    ['throughput', 'Throughput', tp, c => (tp(c) == null ? DASH : rate(tp(c) / 1e6, 'MB/s'))],
    ['p50', 'Latency p50', c => c.p50, c => ms(c.p50)],
    ['p90', 'Latency p90', c => c.p90, c => ms(c.p90)],
    ['p99', 'Latency p99', c => c.p99, c => ms(c.p99)],
  ];
  $('codec_table').tBodies[0].replaceChildren(...rows.map(([field, label, value, show]) => h('tr', { 'data-metric': field },
    h('th', { scope: 'row' }, label),
    ...[['encode', enc], ['decode', dec]].map(([kind, c]) => {
      const raw = value(c);
      return h('td', { class: 'num', 'data-codec': kind, 'data-field': field, 'data-value': ok(raw) ? raw : '' }, show(c));
    }))));
}

// Start
function start() {
  if (new URLSearchParams(location.search).has('failed')) $('login_error').hidden = false;
  setupTables();
  $('bucket_select').addEventListener('change', e => { state.selected = e.target.value; renderDetails(); });
  let resizeTimer = null;
  window.addEventListener('resize', () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => { if (state.signedIn && state.savings) renderChart(selectedBucket()); }, 150);
  });
  loadSavings();
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
else start();
})();
