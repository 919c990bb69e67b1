// fleet.test.mjs - the dashboard of a central snapshot (README "Many clusters") against the real server: three
// edges merged (one of them gone), the fleet overview with each cluster's fail, warn and error counts as the API
// counts them, failing clusters first, the state and why; the header's cluster picker and the results' cluster
// column and filter. And the same dashboard on one cluster's snapshot, where none of it shows.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, newPage, settled, apiServer, snapshot, tempdir, cleanup, axe } from './lib/browser.mjs';
import { makeRows, writeReports } from './lib/fixture.mjs';

let browser, central, single, clusters;

async function count(base, cluster, status) {
  let n = 0;
  for (const scope of ['namespaced', 'cluster']) {
    const q = `clusters=${cluster}&status=${status}&pagination.limit=1`;
    n += (await (await fetch(`${base}v1/${scope}-resources/results?${q}`)).json()).count;
  }
  return n;
}

before(async () => {
  browser = await launch();
  const edges = [];
  for (const [name, n, seed] of [['east', 300, 3], ['west', 120, 5]]) {
    const reports = tempdir('polsnap-reports-');
    const data = tempdir('polsnap-edge-');
    writeReports(reports, makeRows(n, { namespaces: 4, seed }));
    snapshot('--source', `files:${reports}`, '--data', data, '--cluster', name);
    edges.push(data);
  }
  const data = tempdir('polsnap-central-');
  // the third edge's directory holds no snapshot: it is gone, with the reason
  snapshot('--source', `polsnap:${edges[0]}`, '--source', `polsnap:${edges[1]}`, '--source', `polsnap:${tempdir('polsnap-none-')}`,
    '--data', data);
  central = await apiServer(data);
  clusters = await (await fetch(central.url + 'v1/clusters')).json();
  single = await apiServer(edges[1]);
});

after(async () => {
  await browser?.close();
  await central?.stop();
  await single?.stop();
  cleanup();
});

test('fleet overview: one row per cluster, failing first, counts as the API counts them', async () => {
  assert.equal(clusters.length, 3, JSON.stringify(clusters));
  const page = await newPage(browser);
  await page.goto(central.url + '#/clusters');
  await settled(page);
  assert.equal(await page.isVisible('#fleet-link'), true, 'the header links to the fleet overview');
  await page.waitForFunction(() => !document.querySelector('main table td .muted')?.textContent.includes('…'));
  const rows = await page.$$eval('main table tbody tr', (trs) => trs.map((tr) => ({
    name: tr.querySelector('[data-col=name]').textContent,
    fail: Number(tr.querySelector('[data-col=failing] [data-count]').dataset.count),
    warn: Number(tr.querySelector('[data-col=warn] [data-count]').dataset.count),
    error: Number(tr.querySelector('[data-col=error] [data-count]').dataset.count),
    state: tr.querySelector('[data-state]').dataset.state,
  })));
  const want = [];
  for (const c of clusters) {
    want.push({ name: c.name, fail: c.fail, warn: await count(central.url, c.name, 'warn'), error: await count(central.url, c.name, 'error'), state: c.state });
  }
  want.sort((a, b) => b.fail - a.fail || b.error - a.error || b.warn - a.warn);
  assert.deepEqual(rows, want, 'failing clusters first, the API\'s counts');
  const gone = clusters.find((c) => c.state === 'gone');
  assert.ok(gone && gone.error, 'the central says why an edge is gone');
  assert.match(await page.textContent('main'), /could not be read at the last pull/);
  assert.ok((await page.textContent('main')).includes(gone.error), 'and the dashboard shows it');
  await page.click('[data-sort=name]');
  await settled(page);
  const names = await page.$$eval('main table tbody [data-col=name]', (ths) => ths.map((t) => t.textContent));
  assert.deepEqual(names, [...names].sort(), 'sortable by name');
  assert.deepEqual(await axe(page), [], 'axe-core clean');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('the cluster picker opens a cluster\'s results, with the cluster column and filter', async () => {
  const page = await newPage(browser);
  await page.goto(central.url + '#/results');
  await settled(page);
  await page.selectOption('#cluster-pick', 'west');
  await settled(page);
  await page.waitForSelector('#result-count[data-count]');
  assert.match(page.url(), /#\/results\?cluster=west/);
  const api = await (await fetch(central.url + 'v1/namespaced-resources/results?clusters=west&status=fail&pagination.limit=1')).json();
  assert.equal(Number(await page.getAttribute('#result-count', 'data-count')), api.count, 'the failing results of west');
  const cells = await page.$$eval('td[data-label=Cluster]', (tds) => [...new Set(tds.map((t) => t.textContent))]);
  assert.deepEqual(cells, ['west'], 'the cluster column shows it');
  assert.equal(await page.locator('details.pick[data-key=cluster]').count(), 1, 'a cluster filter among the filters');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('one cluster: no fleet overview link, picker or column', async () => {
  const page = await newPage(browser);
  await page.goto(single.url + '#/results');
  await settled(page);
  await page.waitForSelector('#result-count[data-count]');
  assert.equal(await page.isVisible('#fleet-link'), false);
  assert.equal(await page.isVisible('#cluster-pick'), false);
  assert.equal(await page.locator('td[data-label=Cluster]').count(), 0);
  assert.equal(await page.locator('details.pick[data-key=cluster]').count(), 0);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});
