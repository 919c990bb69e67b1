// scale.test.mjs - a large static snapshot (POLSNAP_SCALE results, default 100,000 over 1,000 namespaces):
// first render times, and no main-thread task over 200 ms while loading, filtering, sorting and exporting.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { launch, newPage, staticServer, tempdir, cleanup, ROOT } from './lib/browser.mjs';
import { makeRows, writeSite } from './lib/fixture.mjs';

const N = Number(process.env.POLSNAP_SCALE || 100000);
const LONG_TASK_MS = 200;
let browser, server, page;

before(async () => {
  const site = tempdir('polsnap-scale-');
  writeSite(site, path.join(ROOT, 'www'), makeRows(N, { namespaces: 1000, policies: 40 }));
  server = await staticServer(site);
  browser = await launch();
  page = await newPage(browser);
  await page.addInitScript(() => {
    window.longTasks = [];
    new PerformanceObserver((l) => { for (const e of l.getEntries()) window.longTasks.push(Math.round(e.duration)); })
      .observe({ type: 'longtask', buffered: true });
  });
});

after(async () => {
  await browser?.close();
  await server?.stop();
  cleanup();
});

async function longTasks() {
  return page.evaluate(() => window.longTasks.splice(0));
}

async function timed(action, ready) {
  const t0 = Date.now();
  await action();
  await page.waitForFunction(ready, null, { timeout: 120000 });
  return Date.now() - t0;
}

test(`scale ${N}: overview first render, all namespaces shown`, async (t) => {
  const ms = await timed(() => page.goto(server.url + '?poll=0#/?nsall=1'), () => document.querySelector('.cards .n'));
  t.diagnostic(`overview first render: ${ms} ms`);
  const all = await timed(() => page.click('button[data-focus="ns-more"]'), () => document.querySelectorAll('#ns-table tbody tr').length >= 1000);
  t.diagnostic(`all 1,000 namespaces rendered: ${all} ms`);
  const long = await longTasks();
  assert.ok(long.every((d) => d <= LONG_TASK_MS), `long tasks: ${long}`);
});

test(`scale ${N}: failing results, first page`, async (t) => {
  const ms = await timed(() => page.goto(server.url + '?poll=0#/results'), () => document.querySelector('#results-table tbody tr') && !document.querySelector('[aria-busy]'));
  t.diagnostic(`results (failing, page 1) first render: ${ms} ms; shard requests: ${page.requests.filter((r) => r.url().includes('/shards/namespaced/')).length}`);
  const long = await longTasks();
  assert.ok(long.every((d) => d <= LONG_TASK_MS), `long tasks: ${long}`);
});

test(`scale ${N}: sort every failing result by policy, then page deep`, async (t) => {
  const ms = await timed(() => page.click('th button[data-sort="Policy"]'),
    () => document.querySelector('th:has(button[data-sort="Policy"])').getAttribute('aria-sort') === 'ascending' && !document.querySelector('[aria-busy]'));
  t.diagnostic(`sort by policy over all shards: ${ms} ms`);
  const last = await timed(() => page.click('button[data-page="»"]'), () => /Showing/.test(document.getElementById('result-count').textContent) && !document.querySelector('[aria-busy]'));
  t.diagnostic(`last page (cached matches): ${last} ms`);
  const long = await longTasks();
  assert.ok(long.every((d) => d <= LONG_TASK_MS), `long tasks: ${long}`);
});

test(`scale ${N}: export every failing result as CSV`, async (t) => {
  await page.goto(server.url + '?poll=0#/results');
  await page.waitForSelector('#results-table tbody tr');
  const t0 = Date.now();
  const [dl] = await Promise.all([page.waitForEvent('download', { timeout: 120000 }), page.click('button[data-export="csv"]')]);
  await dl.path();
  t.diagnostic(`CSV export: ${Date.now() - t0} ms`);
  const long = await longTasks();
  assert.ok(long.every((d) => d <= LONG_TASK_MS), `long tasks: ${long}`);
});
