// api.test.mjs - the dashboard against the real server (lighttpd.conf + polsnap-fcgi) on a snapshot, with the API
// as the oracle; then the same flows on the snapshot's --site copy behind a plain static lighttpd.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { launch, newPage, settled, apiServer, staticServer, apiExpect, snapshot, tempdir, cleanup, screenshot, ROOT } from './lib/browser.mjs';
import { makeRows, writeReports } from './lib/fixture.mjs';
import * as flows from './lib/flows.mjs';

let browser, api, site, data, reports, envApi, envSite, setupError;
const servers = [];

before(async () => {
  browser = await launch();
  try {
    await setup();
  } catch (e) {
    setupError = e; // every test that needs the snapshot fails with this; the others still run
  }
});

async function setup() {
  reports = tempdir('polsnap-reports-');
  const rows = makeRows(3000, { namespaces: 40 });
  rows[5].message = 'a "quoted", multi\nline message';
  writeReports(reports, rows);
  data = tempdir('polsnap-data-');
  const siteDir = path.join(tempdir('polsnap-site-'), 'site');
  snapshot('--source', `files:${reports}`, '--data', data, '--site', siteDir, '--www', path.join(ROOT, 'www'), '--cron-period', '300');
  api = await apiServer(data);
  site = await staticServer(siteDir);
  servers.push(api, site);
  envApi = { name: 'api', mode: 'api', url: api.url, expect: apiExpect(api.url) };
  envSite = { name: 'site', mode: 'static', url: site.url, expect: apiExpect(api.url) };
}

// A test body that needs the snapshot of setup().
function needs(fn) {
  return (t) => {
    if (setupError) throw setupError;
    return fn(t);
  };
}

after(async () => {
  await browser?.close();
  for (const s of servers) await s.stop();
  cleanup();
});

const diag = (env, t) => ({ ...env, diagnostic: (m) => t.diagnostic(m) });

test('api: overview numbers equal /v1/summary', needs(() => flows.overviewNumbers(browser, envApi)));
test('api: overview to a failing result in three clicks, detail from /v1/results/{id}', needs(() => flows.threeClicks(browser, envApi)));
test('api: filters, sort and paging reach the server, change the URL and survive reload', needs(() => flows.filterSortPage(browser, envApi)));
test('api: CSV and JSON export equal the API rows', needs(() => flows.exportRows(browser, envApi)));
test('api: axe-core clean on every view, light and dark, and on a phone', needs(() => flows.accessibility(browser, envApi)));
test('api: keyboard only', needs(() => flows.keyboard(browser, envApi)));
test('api: first view within the byte and request budget', needs((t) => flows.budget(browser, diag(envApi, t))));
test('api: print stylesheet', needs(() => flows.print(browser, envApi)));

test('api: a permalink to a result gone from the snapshot says so', needs(() => flows.missingResult(browser, envApi)));
test('site: a permalink to a result gone from the snapshot says so', needs(() => flows.missingResult(browser, envSite)));
test('api: negation, rules, no severity, search and other sorts equal the API', needs(() => flows.queryLanguage(browser, envApi)));
test('site: negation, rules, no severity, search and other sorts in the browser equal the API', needs(() => flows.queryLanguage(browser, envSite)));
test('site: --site copy on a static host: overview numbers equal the API', needs(() => flows.overviewNumbers(browser, envSite)));
test('site: three clicks to a failing result', needs(() => flows.threeClicks(browser, envSite)));
test('site: filters, sort and paging in the browser equal the API', needs(() => flows.filterSortPage(browser, envSite)));
test('site: CSV and JSON export equal the API rows', needs(() => flows.exportRows(browser, envSite)));
test('site: first view within the byte and request budget', needs((t) => flows.budget(browser, diag(envSite, t))));

test('api: the bundled samples: overview numbers equal /v1/summary, first render timed', async (t) => {
  const samples = path.join(ROOT, 'samples');
  assert.ok(fs.existsSync(samples) && fs.readdirSync(samples).length, 'samples/ holds reports');
  const d = tempdir('polsnap-samples-');
  snapshot('--source', `files:${samples}`, '--data', d);
  const srv = await apiServer(d);
  servers.push(srv);
  const env = { name: 'samples', mode: 'api', url: srv.url, expect: apiExpect(srv.url), diagnostic: (m) => t.diagnostic(m) };
  await flows.overviewNumbers(browser, env);
  await flows.budget(browser, env);
  if (process.env.POLSNAP_README_SHOT) {
    const page = await newPage(browser, { viewport: { width: 1280, height: 1100 } });
    await page.goto(srv.url + '?poll=0#/');
    await settled(page);
    fs.mkdirSync(path.join(ROOT, 'tests/screenshots'), { recursive: true });
    await page.screenshot({ path: path.join(ROOT, 'tests/screenshots/overview.png') });
    await page.context().close();
  }
});

test('api: sort headers reach the server (pagination.sortOption in the request)', needs(async () => {
  const page = await newPage(browser);
  await page.goto(api.url + '?poll=0#/results?size=10');
  await settled(page);
  const req = page.waitForRequest((r) => r.url().includes('pagination.sortOption.field=Severity'));
  await page.click('th button[data-sort="Severity"]');
  const r = await req;
  assert.match(r.url(), /pagination\.sortOption\.reversed=false/);
  assert.match(r.url(), /pagination\.limit=10&pagination\.offset=0/);
  await page.context().close();
}));

test('api: a new snapshot is picked up by the poll and the numbers change', needs(async () => {
  const page = await newPage(browser);
  await page.goto(api.url + '?poll=1#/');
  await settled(page);
  const before = await page.getAttribute('.cards [data-status="fail"] .n', 'data-count');
  const extra = makeRows(40, { namespaces: 2, seed: 99 }).map((r) => ({ ...r, id: 'new-' + r.id, status: 'fail' }));
  writeReports(path.join(reports, 'more'), extra);
  snapshot('--source', `files:${reports}`, '--data', data);
  // lighttpd's stat cache may serve the previous snapshot for about a second after the swap
  let want = before;
  for (let i = 0; i < 50 && String(want) === before; i++) {
    await new Promise((r) => setTimeout(r, 100));
    want = Object.values((await envApi.expect.summary()).statusSeverity.fail).reduce((a, b) => a + b, 0);
  }
  assert.notEqual(String(want), before, 'the API serves the new snapshot');
  await page.waitForFunction((w) => document.querySelector('.cards [data-status="fail"] .n')?.dataset.count === w, String(want), { timeout: 30000 });
  const conditional = page.requests.filter((r) => r.url().endsWith('/v1/snapshot') && r.headers()['if-none-match']);
  assert.ok(conditional.length >= 1, 'the poll sends If-None-Match');
  await page.context().close();
}));

test('api: 401 asks for a token, kept in sessionStorage; 403 is a message', needs(async () => {
  const token = 'test-token-' + crypto.randomBytes(8).toString('hex');
  const metrics = 'metrics-token-' + crypto.randomBytes(8).toString('hex');
  const sha = (t) => crypto.createHash('sha256').update(t).digest('hex');
  const file = path.join(tempdir('polsnap-tokens-'), 'tokens');
  const limited = 'limited-token-' + crypto.randomBytes(8).toString('hex');
  fs.writeFileSync(file, `# test tokens\n${sha(token)} reader Reader -\n${sha(metrics)} scraper Metrics -\n` +
    `${sha(limited)} team Reader - ns-0001,ns-0002\n`);
  const secured = await apiServer(data, { POLSNAP_TOKENS: file });
  servers.push(secured);
  const page = await newPage(browser);
  await page.goto(secured.url + '?poll=0#/');
  await page.waitForSelector('#token');
  await screenshot(page, 'api-token');
  await page.fill('#token', 'wrong');
  await page.click('form.token button');
  await page.waitForSelector('form.token + p, .notice.error');
  assert.match(await page.textContent('main'), /refused/);
  await page.fill('#token', token);
  await page.click('form.token button');
  await page.waitForSelector('.cards .n');
  assert.equal(await page.evaluate(() => sessionStorage.getItem('polsnap.token')), token);
  await page.reload();
  await page.waitForSelector('.cards .n');
  // a namespace-limited token simply shows its namespaces; cluster-scoped results are a message
  await page.evaluate((t) => sessionStorage.setItem('polsnap.token', t), limited);
  await page.goto(secured.url + '?poll=0#/?nsall=1');
  await page.reload();
  await settled(page);
  assert.deepEqual(await page.$$eval('#ns-table tbody th', (c) => c.map((x) => x.textContent)).then((x) => x.sort()), ['ns-0001', 'ns-0002']);
  await page.goto(secured.url + '?poll=0#/results?scope=cluster');
  await page.waitForSelector('#results-table .notice.error');
  assert.match(await page.textContent('#results-table'), /Not allowed/);
  assert.ok(await page.isVisible('nav.tabs a[data-scope="namespaced"]'), 'the scope tabs stay');
  await page.evaluate((t) => sessionStorage.setItem('polsnap.token', t), metrics);
  await page.reload();
  await page.waitForSelector('.notice.error');
  assert.match(await page.textContent('main'), /Not allowed|not allowed|permission|denied/i);
  assert.deepEqual(page.errors.filter((e) => !/status of 40[13]/.test(e)), []);
  await page.context().close();
}));

test('api: without a working query server the page filters the unfiltered files in the browser, and says so', needs(async () => {
  const broken = path.join(tempdir('polsnap-fcgi-'), 'broken-fcgi');
  fs.writeFileSync(broken, '#!/bin/sh\nsleep 0.2\nexit 1\n', { mode: 0o755 });
  const srv = await apiServer(data, { POLSNAP_FCGI: broken });
  servers.push(srv);
  const s = await envApi.expect.summary();
  const ns = s.namespaces[3].namespace;
  const want = await envApi.expect.results('namespaced', { status: ['fail', 'warn'], namespace: [ns], sort: 'Policy', desc: true });
  const page = await newPage(browser);
  await page.goto(`${srv.url}?poll=0#/results?status=fail&status=warn&namespace=${ns}&sort=Policy&desc=1&size=10`);
  await page.waitForFunction((w) => JSON.stringify([...document.querySelectorAll('#results-table tbody tr')].map((t) => t.dataset.id)) === w,
    JSON.stringify(want.items.slice(0, 10).map((r) => r.id)), { timeout: 20000 }).catch(async (e) => {
    throw new Error(e.message + '\n' + (await page.textContent('main')).slice(0, 400) + '\n' + page.errors.join('\n'));
  });
  assert.match(await page.textContent('#fresh'), /Query server unavailable/);
  assert.equal(await page.getAttribute('#result-count', 'data-count'), String(want.count));
  await page.click('#results-table tbody tr:first-child td.msg a');
  await page.waitForSelector('dd[data-field="ID"]');
  assert.equal(await page.textContent('dd[data-field="ID"]'), want.items[0].id, 'the detail view finds the row in the files');
  // the broken backend answers 503, or 500 when it dies mid-request
  assert.deepEqual(page.errors.filter((e) => !/status of 50[03]/.test(e)), []);
  await page.context().close();
}));

test('api: before the first snapshot the page says so, and comes alive once one is published', async () => {
  const empty = tempdir('polsnap-empty-');
  const srv = await apiServer(empty);
  servers.push(srv);
  const page = await newPage(browser);
  await page.goto(srv.url + '?poll=1#/');
  await page.waitForSelector('.notice.error');
  assert.match(await page.textContent('main'), /no snapshot yet/);
  const rows = makeRows(200, { namespaces: 3, seed: 5 });
  const dir = tempdir('polsnap-reports-');
  writeReports(dir, rows);
  snapshot('--source', `files:${dir}`, '--data', empty);
  await page.waitForSelector('.cards .n', { timeout: 15000 });
  assert.deepEqual(page.errors.filter((e) => !/status of 503/.test(e)), []);
  await page.context().close();
});
