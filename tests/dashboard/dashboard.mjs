// The proxy's dashboard (/_deltaglider/) used as a person would, in headless Chromium
// through puppeteer-core. Run by scripts/test-dashboard, which uploads the objects, counts
// the truth in the backend's directory and passes everything in the environment:
//   DASHBOARD_URL         the page, http://127.0.0.1:PORT/_deltaglider/
//   DASHBOARD_ACCESS_KEY  the proxy's credentials, DASHBOARD_SECRET_KEY
//   DASHBOARD_TRUTH       JSON: figures of bucket `releases` and of each deltaspace, keys
//   DASHBOARD_PUTS        PutObject requests the client made, DASHBOARD_DELETES DeleteObject
//   DASHBOARD_SCREENSHOT  where the full-page screenshot goes (also on failure)
//   DASHBOARD_CHROMIUM    the browser; DASHBOARD_MODULES: the node_modules with puppeteer-core
// Every figure is compared exactly (the integers in `data-value`), as is the text shown.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import path from 'node:path';

const env = name => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
};
const require = createRequire(path.join(env('DASHBOARD_MODULES'), '..', 'package.json'));
const puppeteer = require('puppeteer-core');

const URL_ = env('DASHBOARD_URL');
const ORIGIN = new URL(URL_).origin;
const AK = env('DASHBOARD_ACCESS_KEY');
const SK = env('DASHBOARD_SECRET_KEY');
const TRUTH = JSON.parse(readFileSync(env('DASHBOARD_TRUTH'), 'utf8'));
const PUTS = Number(env('DASHBOARD_PUTS'));
const DELETES = Number(env('DASHBOARD_DELETES'));
const SCREENSHOT = env('DASHBOARD_SCREENSHOT');
const BUCKET = 'releases';
const T = 20000; // every wait's limit, ms
const FIGURES = ['objects', 'original_bytes', 'stored_bytes', 'saved_bytes', 'references'];
const BYTES = new Set(['original_bytes', 'stored_bytes', 'saved_bytes', 'reference_bytes']);

const fail = msg => { throw new Error(msg); };
const check = (cond, msg) => cond || fail(msg);
const eq = (got, want, what) => check(got === want, `${what}: page shows ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`);
const ok = msg => console.log('ok: ' + msg);

// The number a cell's text stands for: "1.23 MB" (SI units, as the page says), "1,234".
const UNITS = { B: 1, kB: 1e3, MB: 1e6, GB: 1e9, TB: 1e12 };
function shown(text, isBytes) {
  const t = text.trim().replace(/\u2212/, '-');
  const m = isBytes ? /^(-?[\d,]+(?:\.\d+)?) (B|kB|MB|GB|TB)$/.exec(t) : /^(-?[\d,]+)$/.exec(t);
  if (!m) return null;
  const n = Number(m[1].replace(/,/g, ''));
  // The rounding of what is shown: two decimals below 10 units, one above, none in bytes.
  const unit = isBytes ? UNITS[m[2]] : 1;
  const slack = unit === 1 ? 0.5 : (Math.abs(n) < 10 ? 0.005 : 0.05) * unit;
  return { value: n * unit, slack };
}
// The `data-value` of an element and its text, which must agree.
async function figure(el, what, isBytes) {
  const [raw, text] = await el.evaluate(e => [e.dataset.value, e.textContent]);
  check(raw !== undefined && raw !== '', `${what}: no data-value (text ${JSON.stringify(text)})`);
  const value = Number(raw);
  check(Number.isInteger(value), `${what}: data-value ${JSON.stringify(raw)} is not an integer`);
  const s = shown(text, isBytes);
  check(s && Math.abs(s.value - value) <= s.slack,
    `${what}: shows ${JSON.stringify(text)}, which is not ${value}${isBytes ? ' bytes' : ''}`);
  return value;
}

const browser = await puppeteer.launch({
  executablePath: env('DASHBOARD_CHROMIUM'),
  headless: true,
  args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu', '--no-first-run',
    '--no-default-browser-check', '--disable-extensions', '--disable-background-networking'],
});
const page = await browser.newPage();
await page.setViewport({ width: 1280, height: 1000 });
const pageErrors = [], consoleErrors = [], offsite = [], outside = [];
page.on('pageerror', e => pageErrors.push(String(e)));
page.on('console', m => { if (m.type() === 'error') consoleErrors.push(m.text()); });
page.on('request', r => {
  const u = r.url();
  if (u.startsWith('data:')) return;
  if (!u.startsWith(ORIGIN + '/')) offsite.push(u);
  // Anything else on the proxy is the S3 API: a request there is an S3 request (a
  // browser's automatic /favicon.ico is refused as an unsigned ListObjects).
  else if (!u.startsWith(ORIGIN + '/_deltaglider/')) outside.push(u);
});

const visible = sel => page.$eval(sel, e => {
  const s = getComputedStyle(e);
  return s.display !== 'none' && s.visibility !== 'hidden' && e.getClientRects().length > 0;
});
const sessionCookies = async () => (await browser.cookies()).filter(c => c.name === 'dg_session');
async function signIn(access, secret) {
  await page.waitForSelector('#access_key', { visible: true, timeout: T });
  for (const [sel, v] of [['#access_key', access], ['#secret_key', secret]]) {
    await page.$eval(sel, e => { e.value = ''; });
    await page.type(sel, v);
  }
  await Promise.all([page.waitForNavigation({ waitUntil: 'load', timeout: T }), page.click('#sign_in')]);
}

let shot = false; // the screenshot of the signed-in page is taken
const ROW = `#buckets_table tr[data-bucket="${BUCKET}"]`;
// The bucket row, the totals and the deltaspaces against the truth.
async function checkFigures(when) {
  const want = TRUTH.bucket;
  const row = await page.$(ROW);
  check(row, `${when}: no row for bucket ${BUCKET}`);
  const rows = await page.$$eval('#buckets_table tbody tr', trs => trs.map(t => t.dataset.bucket));
  eq(JSON.stringify(rows), JSON.stringify([BUCKET]), `${when}: bucket rows`);
  for (const f of FIGURES) {
    const cell = await row.$(`[data-field="${f}"]`);
    check(cell, `${when}: bucket row has no ${f} cell`);
    eq(await figure(cell, `${when}: bucket row ${f}`, BYTES.has(f)), want[f], `${when}: bucket row ${f}`);
  }
  const savings = Number(await row.$eval('[data-field="savings"]', e => e.dataset.value));
  const ratio = 1 - want.stored_bytes / want.original_bytes;
  check(Math.abs(savings - ratio) < 1e-9, `${when}: bucket savings ${savings}, expected ${ratio}`);
  const pct = await row.$eval('[data-field="savings"]', e => e.textContent);
  eq(pct, (ratio * 100).toFixed(1) + '%', `${when}: bucket savings shown`);

  const totals = { total_original: 'original_bytes', total_stored: 'stored_bytes', total_saved: 'saved_bytes',
    total_objects: 'objects', total_references: 'references' };
  for (const [id, f] of Object.entries(totals)) {
    eq(await figure(await page.$('#' + id), `${when}: #${id}`, BYTES.has(f)), want[f], `${when}: #${id}`);
  }
  eq(await page.$eval('#total_savings', e => e.textContent), (ratio * 100).toFixed(1) + '%', `${when}: #total_savings`);

  // Deltaspaces of the selected bucket (the only one): the truth per prefix, summing to the bucket's.
  eq(await page.$eval('#bucket_select', e => e.value), BUCKET, `${when}: selected bucket`);
  const prefixes = await page.$$eval('#deltaspaces_table tbody tr', trs => trs.map(t => t.dataset.prefix));
  const wantPrefixes = Object.keys(TRUTH.deltaspaces).sort();
  eq(JSON.stringify([...prefixes].sort()), JSON.stringify(wantPrefixes), `${when}: deltaspace rows`);
  for (const p of ['app/', 'docs/', 'site/']) check(prefixes.includes(p), `${when}: no deltaspace row ${p}`);
  const sums = {};
  for (const p of prefixes) {
    const tr = await page.$(`#deltaspaces_table tr[data-prefix="${p}"]`);
    eq(await tr.$eval('th', e => e.textContent), p || '(bucket root)', `${when}: deltaspace ${p} shown as`);
    for (const f of [...FIGURES, 'reference_bytes']) {
      const v = await figure(await tr.$(`[data-field="${f}"]`), `${when}: deltaspace ${p} ${f}`, BYTES.has(f));
      eq(v, TRUTH.deltaspaces[p][f], `${when}: deltaspace ${p} ${f}`);
      sums[f] = (sums[f] || 0) + v;
    }
    const [delta, whole, objects] = await Promise.all(['delta_objects', 'whole_objects', 'objects'].map(f =>
      tr.$eval(`[data-field="${f}"]`, e => Number(e.dataset.value))));
    eq(delta + whole, objects, `${when}: deltaspace ${p} delta + whole objects`);
  }
  for (const f of [...FIGURES, 'reference_bytes']) eq(sums[f], want[f], `${when}: deltaspaces' ${f} summed`);
  // Top deltaspaces by bytes saved: the ones that saved something, with what they saved.
  for (const [p, d] of Object.entries(TRUTH.deltaspaces)) {
    const li = await page.$(`#top_deltaspaces li[data-bucket="${BUCKET}"][data-prefix="${p}"]`);
    if (d.saved_bytes > 0) {
      check(li, `${when}: ${p} saved ${d.saved_bytes} B but is not among the top deltaspaces`);
      eq(await li.evaluate(e => Number(e.dataset.value)), d.saved_bytes, `${when}: top deltaspace ${p} saved`);
    }
  }
}

try {
  console.log(`${URL_} in ${(await browser.version())}`);
  await page.goto(URL_, { waitUntil: 'load', timeout: T });
  await page.waitForSelector('#login_section', { visible: true, timeout: T });
  check(!(await visible('#dashboard')), 'the dashboard shows before sign-in');
  check(!(await visible('#sign_out')), 'Sign out shows before sign-in');
  check(!(await visible('#login_error')), 'the sign-in error shows before any attempt');
  eq(await page.$$eval('[data-bucket]', es => es.length), 0, 'bucket elements before sign-in');
  ok('signed out: the sign-in form, no dashboard, no figures');

  await signIn(AK, SK + '-wrong');
  await page.waitForSelector('#login_error', { visible: true, timeout: T });
  check(new URL(page.url()).searchParams.has('failed'), `after a wrong secret the page is ${page.url()}`);
  eq((await sessionCookies()).length, 0, 'session cookies after a wrong secret');
  check(!(await visible('#dashboard')), 'the dashboard shows after a wrong secret');
  ok('a wrong secret: "not accepted", no session cookie');

  await signIn(AK, SK);
  eq(new URL(page.url()).pathname + new URL(page.url()).search, '/_deltaglider/', 'the page after signing in');
  await page.waitForSelector(ROW, { visible: true, timeout: T });
  check(await visible('#dashboard'), 'no dashboard after signing in');
  check(!(await visible('#login_section')), 'the sign-in form still shows after signing in');
  check(await visible('#sign_out'), 'no Sign out button after signing in');
  const cookies = await sessionCookies();
  eq(cookies.length, 1, 'session cookies');
  const [cookie] = cookies;
  check(cookie.httpOnly, 'the session cookie is not HttpOnly');
  eq(cookie.sameSite, 'Strict', 'the session cookie\'s SameSite');
  eq(cookie.path, '/_deltaglider/', 'the session cookie\'s path');
  check(!(await page.evaluate(() => document.cookie)).includes('dg_session'), 'the page\'s script reads the session cookie');
  ok('signed in: HttpOnly, SameSite=Strict session cookie, unreadable by scripts');

  await checkFigures('signed in');
  ok(`bucket row, totals and deltaspaces ${Object.keys(TRUTH.deltaspaces).sort().join(' ')} equal the backend's figures`);

  // Reconcile: the bucket counted afresh, the row's "Last reconciled" changes, same figures.
  const before = await page.$eval(`${ROW} [data-field="reconciled_at"]`, e => e.dataset.value);
  await page.click(`${ROW} button[aria-label="Reconcile ${BUCKET}"]`);
  await page.waitForFunction((sel, b) => {
    const e = document.querySelector(sel + ' [data-field="reconciled_at"]');
    return e && e.dataset.value && e.dataset.value !== b;
  }, { timeout: T }, ROW, before);
  const after = await page.$eval(`${ROW} [data-field="reconciled_at"]`, e => e.dataset.value);
  check(!before || Date.parse(after) > Date.parse(before), `reconciled_at went from ${before} to ${after}`);
  check(Math.abs(Date.now() - Date.parse(after)) < 60000, `reconciled_at ${after} is not now`);
  const status = await page.$eval('#status', e => [e.textContent, e.classList.contains('error')]);
  check(!status[1] && status[0].startsWith(`Reconciled ${BUCKET} at`), `status after Reconcile: ${JSON.stringify(status)}`);
  check(await page.$eval(`${ROW} button[aria-label="Reconcile ${BUCKET}"]`, e => !e.disabled), 'Reconcile stays disabled');
  await checkFigures('after Reconcile');
  ok(`Reconcile: reconciled ${before || 'never'} -> ${after}, figures unchanged`);

  // Live: the client's requests, a rate once two polls (5 s apart) are in.
  await page.waitForSelector('#requests_table tr[data-operation="PutObject"]', { timeout: T });
  await page.waitForFunction(() => document.getElementById('live_request_rate').dataset.value !== '', { timeout: T });
  const op = (name, f) => page.$eval(`#requests_table tr[data-operation="${name}"] [data-field="${f}"]`, e => Number(e.dataset.value));
  eq(await op('PutObject', 'count'), PUTS, 'PutObject requests');
  eq(await op('PutObject', 'errors'), 0, 'PutObject errors');
  eq(await op('DeleteObject', 'count'), DELETES, 'DeleteObject requests');
  const stored = await page.$$eval('#stored_table tbody tr[data-storage]', trs => trs.map(t =>
    [t.dataset.storage, t.dataset.reason, Number(t.querySelector('[data-field="count"]').dataset.value)]));
  eq(stored.reduce((a, s) => a + s[2], 0), PUTS, `objects in "How objects were stored" (${JSON.stringify(stored)})`);
  const deltas = stored.filter(s => s[0] === 'delta').reduce((a, s) => a + s[2], 0);
  check(deltas >= TRUTH.deltas, `${deltas} objects stored as deltas since start, but ${TRUTH.deltas} .delta files on disk`);
  const encodes = await page.$eval('#codec_table tr[data-metric="count"] [data-codec="encode"]', e => Number(e.dataset.value));
  check(encodes >= TRUTH.deltas, `${encodes} delta encodes, expected at least ${TRUTH.deltas}`);
  check(/^v\d/.test(await page.$eval('#version', e => (e.hidden ? '' : e.textContent))), 'no version badge');
  check(/\d/.test(await page.$eval('#uptime', e => e.textContent)), 'no uptime');
  check(/since start/.test(await page.$eval('#live_requests_total', e => e.textContent)), 'no request total');
  // Every operation row: its requests and their latencies tell of the same requests.
  const opRows = await page.$$eval('#requests_table tbody tr[data-operation]', trs => trs.map(t => {
    const v = f => t.querySelector(`[data-field="${f}"]`);
    return { op: t.dataset.operation, count: Number(v('count').dataset.value), p50: v('p50').textContent };
  }));
  const phantom = opRows.filter(r => r.count === 0 && /\d/.test(r.p50));
  ok(`live: ${PUTS} PutObject, ${DELETES} DeleteObject, stored ${JSON.stringify(stored)}, ${encodes} encodes`);

  // Nothing of an object's key in the page: bucket names and prefixes only.
  const html = await page.content();
  for (const key of TRUTH.keys) {
    for (const name of [key, key.split('/').pop()]) check(!html.includes(name), `the page names object key ${name}`);
  }
  check(!html.includes('reference.bin') && !/\.delta\b/.test(html), 'the page names a stored object');
  ok(`no object key in the page (${TRUTH.keys.length} keys looked for)`);

  // A session's POST needs X-Requested-With (a cross-site form cannot send it).
  const post = headers => page.evaluate((h, b) => fetch(`/_deltaglider/api/reconcile?bucket=${b}`,
    { method: 'POST', credentials: 'same-origin', headers: h }).then(r => r.status), headers, BUCKET);
  eq(await post({}), 403, 'POST api/reconcile without X-Requested-With');
  eq(await post({ 'X-Requested-With': 'test' }), 200, 'POST api/reconcile with X-Requested-With');
  ok('a POST without X-Requested-With is refused (403)');

  const chart = await page.$('#history_chart');
  check(chart, 'no history chart');
  check(!(await page.$eval('#status', e => e.classList.contains('error'))),
    `the page reports an error: ${await page.$eval('#status', e => e.textContent)}`);
  await page.screenshot({ path: SCREENSHOT, fullPage: true });
  shot = true;
  ok(`screenshot ${SCREENSHOT}`);

  // Sign out: the form again, no session, the API refused.
  await Promise.all([page.waitForNavigation({ waitUntil: 'load', timeout: T }), page.click('#sign_out')]);
  await page.waitForSelector('#login_section', { visible: true, timeout: T });
  check(!(await visible('#dashboard')), 'the dashboard shows after signing out');
  eq((await sessionCookies()).length, 0, 'session cookies after signing out');
  eq(await page.evaluate(() => fetch('/_deltaglider/api/savings').then(r => r.status)), 401, 'api/savings after signing out');
  ok('signed out: the form again, no session cookie, the API answers 401');

  check(pageErrors.length === 0, `script errors in the page: ${pageErrors.join('; ')}`);
  const csp = consoleErrors.filter(m => /Content Security Policy|Refused to/i.test(m));
  check(csp.length === 0, `the page broke its CSP: ${csp.join('; ')}`);
  check(offsite.length === 0, `requests beyond the proxy: ${offsite.join(' ')}`);
  ok('no script errors, no CSP violations, no request beyond the proxy');
  // Checked last, so that a failure here leaves everything above checked.
  const problems = [];
  if (outside.length) problems.push(`the page made S3 requests outside /_deltaglider/: ${[...new Set(outside)].join(' ')}`);
  if (phantom.length) problems.push('"Requests by operation" shows 0 requests with latencies: '
    + phantom.map(r => `${r.op} (0 requests, p50 ${r.p50})`).join(', '));
  check(!problems.length, problems.join('; '));
  ok('every request of the page under /_deltaglider/; request counts and latencies agree');
} catch (e) {
  console.error(`dashboard: FAILED: ${e.message}`);
  if (pageErrors.length) console.error('page errors:', pageErrors);
  if (consoleErrors.length) console.error('console errors:', consoleErrors);
  try {
    console.error('status line:', await page.$eval('#status', e => e.textContent));
    if (!shot) {
      await page.screenshot({ path: SCREENSHOT, fullPage: true });
      console.error(`screenshot of the failure: ${SCREENSHOT}`);
    }
  } catch { /* the page may be gone */ }
  process.exitCode = 1;
} finally {
  await browser.close();
}
