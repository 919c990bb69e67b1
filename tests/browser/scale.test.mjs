// scale.test.mjs - a large snapshot (POLSNAP_SCALE results, default 100,000, over 1,000 namespaces, made by
// tests/lib/gen_reports.py and the real polsnap-snapshot --site): first render times through the API and on
// the static copy, and the longest main-thread task while loading, filtering, sorting and exporting, printed as
// diagnostics (timings are measured, never asserted: they vary with the machine's load).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { launch, newPage, apiServer, staticServer, snapshot, tempdir, cleanup, ROOT } from './lib/browser.mjs';

const N = Number(process.env.POLSNAP_SCALE || 100000);
let browser, setupError;
const servers = {};

before(async () => {
  browser = await launch();
  try {
    const reports = tempdir('polsnap-scale-reports-');
    const gen = spawnSync('python3', [path.join(ROOT, 'tests/lib/gen_reports.py'), '--results', String(N), '--out', reports,
      '--namespaces', '1000'], { encoding: 'utf8', timeout: 300000 });
    if (gen.status !== 0) throw new Error('gen_reports.py failed: ' + gen.stderr);
    const data = tempdir('polsnap-scale-data-');
    const site = path.join(tempdir('polsnap-scale-site-'), 'site');
    snapshot('--source', `files:${reports}`, '--data', data, '--site', site, '--www', path.join(ROOT, 'www'));
    servers.api = await apiServer(data);
    servers.site = await staticServer(site);
  } catch (e) {
    setupError = e;
  }
});

after(async () => {
  await browser?.close();
  for (const s of Object.values(servers)) await s.stop();
  cleanup();
});

async function measuredPage() {
  const page = await newPage(browser);
  await page.addInitScript(() => {
    window.longTasks = [];
    new PerformanceObserver((l) => { for (const e of l.getEntries()) window.longTasks.push(Math.round(e.duration)); })
      .observe({ type: 'longtask', buffered: true });
  });
  return page;
}

async function timed(page, action, ready) {
  const t0 = Date.now();
  await action();
  await page.waitForFunction(ready, null, { timeout: 120000 });
  return Date.now() - t0;
}

async function reportLongTasks(page, t) {
  const long = await page.evaluate(() => window.longTasks.splice(0));
  t.diagnostic(`longest main-thread task: ${Math.max(0, ...long)} ms (${long.length} over 50 ms)`);
}

const tableReady = () => document.querySelector('#results-table tbody tr') && !document.querySelector('[aria-busy]');

for (const mode of ['api', 'site']) {
  test(`scale ${N} ${mode}: overview first render, then all 1,000 namespaces`, async (t) => {
    if (setupError) throw setupError;
    const page = await measuredPage();
    const url = servers[mode].url;
    const ms = await timed(page, () => page.goto(url + '?poll=0#/?nsall=1'), () => document.querySelector('.cards .n'));
    t.diagnostic(`${mode}: overview first render ${ms} ms`);
    const all = await timed(page, () => page.click('button[data-focus="ns-more"]'), () => document.querySelectorAll('#ns-table tbody tr').length >= 1000);
    t.diagnostic(`${mode}: all 1,000 namespaces rendered in ${all} ms`);
    await reportLongTasks(page, t);
    await page.context().close();
  });

  test(`scale ${N} ${mode}: failing results, first page; sort by policy; last page; CSV export`, async (t) => {
    if (setupError) throw setupError;
    const page = await measuredPage();
    const url = servers[mode].url;
    const first = await timed(page, () => page.goto(url + '?poll=0#/results'), tableReady);
    const shards = page.requests.filter((r) => r.url().includes('/shards/')).length;
    t.diagnostic(`${mode}: failing results, page 1, first render ${first} ms${mode === 'site' ? ` (${shards} shard files read)` : ''}`);
    const sort = await timed(page, () => page.click('th button[data-sort="Policy"]'),
      () => document.querySelector('th:has(button[data-sort="Policy"])').getAttribute('aria-sort') === 'ascending' && !document.querySelector('[aria-busy]'));
    t.diagnostic(`${mode}: sorted by policy in ${sort} ms`);
    const last = await timed(page, () => page.click('button[data-page="»"]'), () => /Showing/.test(document.getElementById('result-count').textContent) && !document.querySelector('[aria-busy]'));
    t.diagnostic(`${mode}: last page in ${last} ms`);
    const t0 = Date.now();
    const [dl] = await Promise.all([page.waitForEvent('download', { timeout: 300000 }), page.click('button[data-export="csv"]')]);
    const csv = readFileSync(await dl.path(), 'utf8').trimEnd().split('\n');
    t.diagnostic(`${mode}: CSV export of every failing result in ${Date.now() - t0} ms`);
    // the view counts both scopes (no scope= in its URL): so does its export
    const total = Number(await page.getAttribute('#view-total', 'data-count'));
    assert.equal(csv.length - 1, total, 'the CSV holds a header and every result the view counts');
    await reportLongTasks(page, t);
    await page.context().close();
  });
}
