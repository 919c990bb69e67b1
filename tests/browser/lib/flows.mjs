// flows.mjs - the user flows every browser suite runs, against the API (lighttpd + FastCGI) or a static copy.
// env: {url, mode: 'api'|'static', expect: {summary(), results(scope, q)}, name}; q = {status, namespace, policy,
// sort, desc}; expect answers what the page must show (the API itself, or an oracle over the fixture's rows).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import zlib from 'node:zlib';
import { newPage, settled, axe, screenshot } from './browser.mjs';

const STATUSES = ['pass', 'fail', 'warn', 'error', 'skip'];
const DATA_URL = /\/(v1|data)\//;

// Errors the browser logs that are expected: the static mode probe of v1/snapshot answers 404 on a static host
// (403 from a bucket that does not say which keys are missing).
function unexpectedErrors(page, env) {
  return page.errors.filter((e) => !(env.mode === 'static' && /status of 40[34]/.test(e)));
}

async function open(browser, env, hash, opts) {
  const page = await newPage(browser, opts);
  await page.goto(env.url + '?poll=0' + (hash || ''));
  await settled(page);
  return page;
}

async function rowIds(page) {
  return page.$$eval('#results-table tbody tr', (trs) => trs.map((t) => t.dataset.id));
}

// Waits until the results table shows exactly these ids (the page updates after the hash changes).
async function waitIds(page, want, what) {
  try {
    await page.waitForFunction((w) => {
      const ids = [...document.querySelectorAll('#results-table tbody tr')].map((t) => t.dataset.id);
      return !document.querySelector('#results-table[aria-busy]') && JSON.stringify(ids) === JSON.stringify(w);
    }, want, { timeout: 20000 });
  } catch {
    assert.deepEqual(await rowIds(page), want, what);
  }
}

export async function overviewNumbers(browser, env) {
  const page = await open(browser, env, '#/?nsall=1');
  const s = await env.expect.summary();
  for (const st of STATUSES) {
    const want = Object.values(s.statusSeverity[st]).reduce((a, b) => a + b, 0);
    assert.equal(Number(await page.getAttribute(`.cards [data-status="${st}"] .n`, 'data-count')), want, `card ${st}`);
    for (const [sev, n] of Object.entries(s.statusSeverity[st])) {
      const got = await page.getAttribute(`#sev-table tr[data-status="${st}"] td[data-severity="${sev}"] [data-count]`, 'data-count');
      assert.equal(Number(got), n, `${st} x ${sev}`);
    }
    assert.equal(Number(await page.getAttribute(`#cluster-table td[data-status="${st}"] [data-count]`, 'data-count')), s.cluster[st], `cluster ${st}`);
  }
  const more = await page.$('button[data-focus="ns-more"]');
  if (more) await more.click();
  await page.waitForFunction((n) => document.querySelectorAll('#ns-table tbody tr').length === n, s.namespaces.length);
  const rows = await page.$$eval('#ns-table tbody tr', (trs) => trs.map((tr) => {
    const o = { namespace: tr.querySelector('[data-col="namespace"]').textContent };
    for (const st of ['pass', 'fail', 'warn', 'error', 'skip']) o[st] = Number(tr.querySelector(`[data-col="${st}"] [data-count]`).dataset.count);
    return o;
  }));
  const want = s.namespaces.map((n) => ({ namespace: n.namespace, pass: n.pass, fail: n.fail, warn: n.warn, error: n.error, skip: n.skip }));
  const byName = (a, b) => (a.namespace < b.namespace ? -1 : 1);
  assert.deepEqual(rows.sort(byName), want.sort(byName), 'namespace table');
  assert.deepEqual(unexpectedErrors(page, env), [], 'console errors');
  await screenshot(page, `${env.name}-overview`);
  await page.context().close();
}

// Overview -> namespace's failing count -> a result -> its detail: three clicks.
export async function threeClicks(browser, env) {
  const s = await env.expect.summary();
  const ns = s.namespaces.filter((n) => n.fail).sort((a, b) => b.fail - a.fail)[0];
  const page = await open(browser, env, '#/');
  await page.click(`#ns-table tr:has(a:text-is("${ns.namespace}")) [data-col="fail"] a`);
  const want = await env.expect.results('namespaced', { status: ['fail'], namespace: [ns.namespace] });
  await waitIds(page, want.items.slice(0, 50).map((r) => r.id), 'failing results of the namespace');
  assert.match(page.url(), /#\/results\?/);
  assert.equal(await page.getAttribute('#result-count', 'data-count'), String(ns.fail));
  await page.click('#results-table tbody tr:first-child td.msg a');
  await page.waitForSelector('dd[data-field="ID"]');
  assert.equal(await page.textContent('dd[data-field="ID"]'), want.items[0].id);
  assert.equal(await page.textContent('dd[data-field="Policy"]'), want.items[0].policy);
  assert.equal(await page.textContent('dd[data-field="Message"]'), want.items[0].message ?? '—');
  await settled(page);
  await screenshot(page, `${env.name}-detail`);
  if (env.mode === 'api') assert.ok(await page.$('dd[data-field="Resource UID"]'), 'detailed representation shown');
  assert.deepEqual(unexpectedErrors(page, env), [], 'console errors');
  await page.context().close();
}

// Filters, sort and paging change the table and the URL, survive a reload, and the back button undoes them.
export async function filterSortPage(browser, env) {
  const s = await env.expect.summary();
  const ns = s.namespaces.filter((n) => n.fail + n.warn > 25)[0].namespace;
  const page = await open(browser, env, '#/results');
  let want = await env.expect.results('namespaced', { status: ['fail'] });
  await waitIds(page, want.items.slice(0, 50).map((r) => r.id), 'default view: failing results');
  assert.equal(await page.getAttribute('#result-count', 'data-count'), String(want.count));
  await page.click('button[data-focus="status:warn"]');
  want = await env.expect.results('namespaced', { status: ['fail', 'warn'] });
  await waitIds(page, want.items.slice(0, 50).map((r) => r.id), 'fail + warn');
  await page.click('details[data-key="namespace"] > summary');
  await page.check(`details[data-key="namespace"] input[value="${ns}"]`);
  want = await env.expect.results('namespaced', { status: ['fail', 'warn'], namespace: [ns] });
  await waitIds(page, want.items.slice(0, 50).map((r) => r.id), 'namespace picked');
  await page.keyboard.press('Escape');
  assert.equal(await page.$eval('details[data-key="namespace"]', (d) => d.open), false, 'Escape closes the dropdown');
  assert.equal(await page.evaluate(() => document.activeElement.tagName), 'SUMMARY', 'and returns the focus to it');
  await page.click('th button[data-sort="Policy"]');
  want = await env.expect.results('namespaced', { status: ['fail', 'warn'], namespace: [ns], sort: 'Policy' });
  await waitIds(page, want.items.slice(0, 50).map((r) => r.id), 'sorted by policy');
  assert.equal(await page.getAttribute('th:has(button[data-sort="Policy"])', 'aria-sort'), 'ascending');
  await page.click('th button[data-sort="Policy"]');
  want = await env.expect.results('namespaced', { status: ['fail', 'warn'], namespace: [ns], sort: 'Policy', desc: true });
  await waitIds(page, want.items.slice(0, 50).map((r) => r.id), 'sorted by policy, descending');
  assert.equal(await page.getAttribute('th:has(button[data-sort="Policy"])', 'aria-sort'), 'descending');
  await page.selectOption('#page-size', '10');
  await waitIds(page, want.items.slice(0, 10).map((r) => r.id), 'page size 10');
  await page.click('button[data-page="›"]');
  const page2 = want.items.slice(10, 20).map((r) => r.id);
  await waitIds(page, page2, 'page 2');
  const hash = new URL(page.url()).hash;
  for (const part of ['status=fail', 'status=warn', `namespace=${ns}`, 'sort=Policy', 'desc=1', 'size=10', 'page=2']) {
    assert.ok(hash.includes(part), `URL ${hash} holds ${part}`);
  }
  assert.match(await page.textContent('#result-count'), new RegExp(`11–20 of ${want.count.toLocaleString('en-US')} `));
  await page.reload();
  await waitIds(page, page2, 'the same page after a reload');
  await page.goBack();
  await waitIds(page, want.items.slice(0, 10).map((r) => r.id), 'back: page 1');
  await page.goBack();
  await waitIds(page, want.items.slice(0, 50).map((r) => r.id), 'back: page size 50');
  await screenshot(page, `${env.name}-results`);
  assert.deepEqual(unexpectedErrors(page, env), [], 'console errors');
  await page.context().close();
}

function parseCsv(text) {
  const rows = [];
  let row = [], cell = '', q = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (q) {
      if (c === '"' && text[i + 1] === '"') { cell += '"'; i++; } else if (c === '"') q = false; else cell += c;
    } else if (c === '"') q = true;
    else if (c === ',') { row.push(cell); cell = ''; } else if (c === '\r' && text[i + 1] === '\n') { row.push(cell); rows.push(row); row = []; cell = ''; i++; } else cell += c;
  }
  return rows;
}

// Export CSV and JSON of a filtered view: every page (more than one API page of 1,000) of both scopes (the
// view counts both), equal to the rows the API (or oracle) gives; CSV times in RFC 3339; a name that says what
// was filtered.
export async function exportRows(browser, env) {
  const page = await open(browser, env, '#/results?status=fail&status=pass&size=10');
  const want = await env.expect.results('namespaced', { status: ['fail', 'pass'] });
  const cluster = await env.expect.results('cluster', { status: ['fail', 'pass'] });
  assert.ok(want.count > 1000, `the export spans several API pages (${want.count} rows)`);
  assert.ok(cluster.count > 0, 'and has cluster-scoped rows');
  await waitIds(page, want.items.slice(0, 10).map((r) => r.id), 'export view');
  await page.waitForSelector('#view-total[data-count]');
  const [csv] = await Promise.all([page.waitForEvent('download'), page.click('button[data-export="csv"]')]);
  const snap = await env.expect.snapshot();
  assert.equal(csv.suggestedFilename(), `polsnap-both-scopes_status-fail-pass-${snap.created.replace(/[-:]/g, '')}.csv`);
  const table = parseCsv(fs.readFileSync(await csv.path(), 'utf8'));
  const keys = table.shift();
  assert.deepEqual(keys, ['scope', 'id', 'namespace', 'kind', 'name', 'message', 'category', 'policy', 'rule', 'status', 'severity', 'source', 'timestamp', 'properties']);
  const time = (t) => new Date(t * 1000).toISOString().replace('.000Z', 'Z');
  const asCsv = (scope) => (r) => [scope, ...keys.slice(1).map((k) => (r[k] === null ? '' : k === 'timestamp' ? time(r[k]) : typeof r[k] === 'object' ? JSON.stringify(r[k]) : String(r[k])))];
  assert.equal(table.length, want.count + cluster.count, 'CSV row count: both scopes');
  assert.deepEqual(table, [...want.items.map(asCsv('namespaced')), ...cluster.items.map(asCsv('cluster'))], 'CSV rows equal the API rows');
  const [json] = await Promise.all([page.waitForEvent('download'), page.click('button[data-export="json"]')]);
  assert.equal(json.suggestedFilename(), `polsnap-both-scopes_status-fail-pass-${snap.created.replace(/[-:]/g, '')}.json`);
  const doc = JSON.parse(fs.readFileSync(await json.path(), 'utf8'));
  assert.deepEqual(doc.scopes, ['namespaced', 'cluster']);
  assert.equal(doc.namespaced.count, want.count);
  assert.deepEqual(doc.namespaced.items, want.items, 'JSON rows equal the API rows');
  assert.deepEqual(doc.cluster.items, cluster.items, 'and the cluster-scoped ones');
  assert.equal(doc.snapshot.id, snap.id);
  assert.match(doc.filters, /Status is fail; Status is pass/);
  // one scope: the tab's rows only
  await page.click('nav.tabs a[data-scope="cluster"]');
  await waitIds(page, cluster.items.slice(0, 10).map((r) => r.id), 'the cluster tab');
  const scoped = `#/results?scope=cluster&status=fail&status=pass&size=10`;
  await page.evaluate((h) => { location.hash = h; }, scoped);
  await page.waitForFunction(() => /^\d+ cluster-scoped results?$/.test(document.getElementById('view-total').textContent));
  const [one] = await Promise.all([page.waitForEvent('download'), page.click('button[data-export="csv"]')]);
  assert.equal(one.suggestedFilename(), `polsnap-cluster_status-fail-pass-${snap.created.replace(/[-:]/g, '')}.csv`);
  const rows = parseCsv(fs.readFileSync(await one.path(), 'utf8')).slice(1);
  assert.deepEqual(rows, cluster.items.map(asCsv('cluster')), 'a one-scope view exports that scope');
  assert.deepEqual(unexpectedErrors(page, env), [], 'console errors');
  await page.context().close();
}

// axe-core on every view, light and dark; screenshots of each view.
export async function accessibility(browser, env) {
  const s = await env.expect.summary();
  const ns = s.namespaces[0].namespace;
  const one = (await env.expect.results('namespaced', { status: ['fail'] })).items[0];
  const views = [['overview', '#/'], ['results', '#/results'], ['cluster', '#/results?scope=cluster&status='],
    ['grouped', '#/results?status=fail&group=resource'],
    ['policies', '#/policies?failing=1'], ['namespaces', '#/namespaces'], ['namespace', `#/namespaces?ns=${encodeURIComponent(ns)}`],
    ['result', `#/result/${encodeURIComponent(one.id)}?scope=namespaced&ns=${encodeURIComponent(one.namespace)}`]];
  const problems = [];
  for (const scheme of ['light', 'dark']) {
    const page = await newPage(browser, { colorScheme: scheme });
    for (const [name, hash] of views) {
      await page.goto(env.url + '?poll=0' + hash);
      await settled(page);
      if (name === 'policies') await page.click('#policies-table tbody tr.policy button');
      if (name === 'results') {
        await page.click('details[data-key="policy"] > summary');
        // axe on the settled facet, not on its "Loading…" line caught mid-way (a flake under load)
        await page.waitForFunction(() => !document.querySelector('#main .loading'), null, { timeout: 30000 });
      }
      if (name === 'namespaces') await page.waitForFunction(() => ![...document.querySelectorAll('#main span.muted')].some((e) => e.textContent === '…'));
      for (const v of await axe(page)) problems.push(`${scheme} ${name}: ${v}`);
      await screenshot(page, `${env.name}-${name}-${scheme}`);
    }
    problems.push(...unexpectedErrors(page, env).map((e) => `${scheme}: ${e}`));
    await page.context().close();
  }
  const phone = await open(browser, env, '#/', { viewport: { width: 390, height: 844 }, isMobile: true });
  for (const v of await axe(phone)) problems.push(`phone overview: ${v}`);
  const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  if (overflow > 0) problems.push(`phone: the page is ${overflow}px wider than the screen`);
  await screenshot(phone, `${env.name}-overview-phone`);
  await phone.context().close();
  assert.deepEqual(problems, []);
}

// Everything works from the keyboard: sort a column and open a result with keys only.
export async function keyboard(browser, env) {
  const page = await open(browser, env, '#/results?size=10');
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'skip', 'the skip link comes first');
  await page.keyboard.press('Enter');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'main', 'the skip link moves to the content');
  await page.focus('th button[data-sort="Status"]');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.querySelector('th:has(button[data-sort="Status"])').getAttribute('aria-sort') === 'ascending');
  assert.equal(await page.evaluate(() => document.activeElement.dataset.sort), 'Status', 'focus stays on the sort button');
  await page.focus('#results-table tbody tr:first-child td.msg a');
  await page.keyboard.press('Enter');
  await page.waitForSelector('dd[data-field="ID"]');
  assert.equal(await page.evaluate(() => document.activeElement.tagName), 'H1', 'a new view puts the focus on its heading');
  await page.context().close();
}

// The first view: at most 6 requests before the first data request (the page, its stylesheet,
// js/theme.js, a file because the Content-Security-Policy allows no inline script, and the
// app's modules), 150 KB raw and 50 KB gzipped.
export async function budget(browser, env) {
  const page = await newPage(browser);
  const bodies = [];
  page.on('response', (r) => bodies.push(r));
  const t0 = Date.now();
  await page.goto(env.url + '?poll=0#/');
  await page.waitForSelector('.cards .n');
  const firstRender = Date.now() - t0;
  await settled(page);
  const urls = page.requests.map((r) => r.url());
  const before = urls.findIndex((u) => DATA_URL.test(new URL(u).pathname));
  assert.ok(before >= 0 && before <= 6, `${before} requests before the first data request: ${urls.slice(0, before + 1).join(' ')}`);
  let raw = 0, gz = 0;
  for (const r of bodies) {
    if (DATA_URL.test(new URL(r.url()).pathname)) continue;
    const b = await r.body().catch(() => Buffer.alloc(0));
    raw += b.length;
    gz += zlib.gzipSync(b, { level: 9 }).length;
  }
  const line = (`${env.name}: first view ${raw} bytes (${gz} gzipped) in ${bodies.filter((r) => !DATA_URL.test(new URL(r.url()).pathname)).length} requests; first render ${firstRender} ms`);
  if (env.diagnostic) env.diagnostic(line);
  assert.ok(raw <= 150 * 1024, `first view ${raw} bytes > 150 KB`);
  assert.ok(gz <= 50 * 1024, `first view ${gz} gzipped bytes > 50 KB`);
  await page.context().close();
  return { raw, gz, firstRender };
}

// Print stylesheet: the results page prints as a report (no controls, the snapshot line kept).
export async function print(browser, env) {
  const page = await open(browser, env, '#/results?size=25');
  await page.emulateMedia({ media: 'print' });
  assert.equal(await page.isVisible('.filters'), false, 'filters hidden in print');
  assert.equal(await page.isVisible('#fresh'), true, 'snapshot time printed');
  assert.equal(await page.isVisible('#results-table'), true, 'table printed');
  const pdf = await page.pdf({ format: 'A4' });
  assert.ok(pdf.length > 1000);
  await page.context().close();
}

// Negation, rules, "no severity", search and sorts by other fields: the page (its state in the URL) must show
// what the API answers for the hand-written equivalent query. Needs an API oracle (env.expect.raw).
export async function queryLanguage(browser, env) {
  const s = await env.expect.summary();
  const [n1, n2] = s.namespaces.map((n) => n.namespace);
  const p = s.policies.find((x) => x.rules.length > 1 && x.policy !== null);
  const rule = p.rules.find((r) => r.rule !== null).rule;
  const q = (v) => 'query=' + encodeURIComponent(v);
  const cases = [
    [`status=&namespace=${n1}&namespace=${n2}&not=namespace`, 'namespaced', q(`Namespace:!"${n1}"+Namespace:!"${n2}"`)],
    ['status=fail&severity=none&severity=high', 'namespaced', `status=fail&${q('Severity:"high",!*')}`],
    [`status=&policy=${encodeURIComponent(p.policy)}&rule=${encodeURIComponent(rule)}`, 'namespaced', `policies=${encodeURIComponent(p.policy)}&${q(`Rule:"${rule}"`)}`],
    ['status=&search=obj-1', 'namespaced', 'contains=obj-1'],
    ['status=&search=S-00', 'namespaced', 'contains=S-00'],
    ['status=fail&search=SAYS+FAIL', 'namespaced', 'status=fail&contains=says%20fail'],
    ['scope=cluster&status=&search=role', 'cluster', 'contains=role'],
    ['scope=cluster&status=&kind=Namespace&not=kind', 'cluster', q('Kind:!"Namespace"')],
    ['status=fail&sort=Severity&desc=1', 'namespaced', 'status=fail&pagination.sortOption.field=Severity&pagination.sortOption.reversed=true'],
    ['status=warn&status=error&sort=Timestamp', 'namespaced', 'status=warn&status=error&pagination.sortOption.field=Timestamp&pagination.sortOption.reversed=false'],
    ['scope=cluster&status=&sort=Resource&desc=1', 'cluster', 'pagination.sortOption.field=Resource&pagination.sortOption.reversed=true'],
  ];
  const page = await newPage(browser);
  for (const [hash, scope, qs] of cases) {
    await page.goto(`${env.url}?poll=0#/results?${hash}&size=500`);
    const want = await env.expect.raw(scope, `${qs}&pagination.limit=500&pagination.offset=0`);
    await waitIds(page, want.items.map((r) => r.id), `#/results?${hash} equals ${scope} ?${qs}`);
    assert.equal(await page.getAttribute('#result-count', 'data-count'), String(want.count), `count of ${hash}`);
  }
  assert.deepEqual(unexpectedErrors(page, env), [], 'console errors');
  await page.context().close();
}

// A permalink to a result that is no longer in the snapshot says so (no error page, no blank page).
export async function missingResult(browser, env) {
  const page = await open(browser, env, '#/result/no-such-id?scope=namespaced&ns=nowhere');
  assert.match(await page.textContent('main'), /not in the current snapshot/);
  assert.deepEqual(page.errors.filter((e) => !/status of 404/.test(e)), [], 'console errors');
  await page.context().close();
}
