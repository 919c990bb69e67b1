// changes.test.mjs - what changed since the previous snapshot, on the dashboard against the real server: the
// overview's "N new failures since T" linking to them (query=Change:new), the "new" marker on their rows, and
// firstSeen ("failing for ...") on a result's detail. Two snapshots of the same data directory, the second with
// failures the first did not have; the API is the oracle.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, newPage, settled, apiServer, snapshot, tempdir, cleanup, axe } from './lib/browser.mjs';
import { makeRows, writeReports } from './lib/fixture.mjs';

let browser, api, base, fresh, meta;

before(async () => {
  browser = await launch();
  const rows = makeRows(400, { namespaces: 6, seed: 3 });
  const reports = tempdir('polsnap-reports-');
  const data = tempdir('polsnap-data-');
  const first = rows.map((r) => (r._scope === 'namespaced' && r.policy === 'policy-a0' ? { ...r, status: 'pass' } : r));
  writeReports(reports, first);
  snapshot('--source', `files:${reports}`, '--data', data);
  writeReports(reports, rows); // policy-a0's failures are new in the second snapshot
  snapshot('--source', `files:${reports}`, '--data', data);
  api = await apiServer(data);
  base = api.url;
  meta = await (await fetch(base + 'v1/snapshot?fresh=1')).json();
  fresh = await (await fetch(base + 'v1/namespaced-resources/results?query=' + encodeURIComponent('Change:new+Status:fail,warn,error') + '&pagination.limit=1000')).json();
});

after(async () => {
  await browser?.close();
  await api?.stop();
  cleanup();
});

test('overview: N new failures since the previous snapshot, linking to them', async () => {
  assert.ok(meta.changes.new > 0 && meta.changes.previous, `the second snapshot has new failures: ${JSON.stringify(meta.changes)}`);
  const page = await newPage(browser);
  await page.goto(base);
  await settled(page);
  const text = await page.textContent('#changes');
  assert.match(text, new RegExp(`^${meta.changes.new} new failures? since \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d UTC`));
  await page.click('#changes a');
  await settled(page);
  assert.match(page.url(), /#\/results\?.*change=new/);
  await page.waitForSelector('#result-count[data-count]');
  const shown = Number(await page.getAttribute('#result-count', 'data-count'));
  assert.equal(shown, fresh.count, 'the link shows exactly the failing rows of new findings');
  const ids = await page.$$eval('tr[data-id]', (trs) => trs.map((t) => t.dataset.id));
  assert.deepEqual(new Set(ids), new Set(fresh.items.slice(0, ids.length).map((r) => r.id)));
  assert.equal(await page.locator('tr[data-id] .badge.new').count(), ids.length, 'each of them is marked new');
  assert.deepEqual(await axe(page), [], 'axe-core clean');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('results: only new rows carry the marker', async () => {
  const page = await newPage(browser);
  await page.goto(base + '#/results?status=&size=500');
  await settled(page);
  await page.waitForSelector('tr[data-id]');
  const marked = await page.$$eval('tr[data-id]', (trs) => trs.filter((t) => t.querySelector('.badge.new')).map((t) => t.dataset.id));
  const all = new Set((await (await fetch(base + 'v1/namespaced-resources/results?query=Change:new&pagination.limit=1000')).json()).items.map((r) => r.id));
  assert.ok(marked.length > 0, 'some rows on the first page are new');
  for (const id of marked) assert.ok(all.has(id), `${id} is a row of a new finding`);
  const unmarked = await page.$$eval('tr[data-id]', (trs) => trs.filter((t) => !t.querySelector('.badge.new')).map((t) => t.dataset.id));
  for (const id of unmarked) assert.ok(!all.has(id), `${id} is not new`);
  await page.context().close();
});

test('detail: change and firstSeen ("failing for ...")', async () => {
  const page = await newPage(browser);
  const r = fresh.items[0];
  await page.goto(base + '#/result/' + encodeURIComponent(r.id) + '?scope=namespaced&ns=' + encodeURIComponent(r.namespace));
  await settled(page);
  const d = await (await fetch(base + 'v1/results/' + encodeURIComponent(r.id))).json();
  assert.equal(d.change, 'new');
  assert.match(await page.textContent('dd[data-field="Change"]'), /new since the previous snapshot/);
  const seen = await page.textContent('dd[data-field="First seen"]');
  assert.ok(seen.startsWith(d.firstSeen) && /\(failing for \d+ (s|min|h|days)\)/.test(seen), seen);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});
