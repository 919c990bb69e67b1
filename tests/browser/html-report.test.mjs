// html-report.test.mjs - /v1/html-report/violations in Chromium: the page renders with its own
// style (allowed by its Content-Security-Policy hash, so no console error), with values that try
// to inject markup shown as text, and prints; the results view's label filter (Policy Reporter 3's
// labels=) and its link to the violations report of the same filters.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { launch, newPage, settled, apiServer, snapshot, tempdir, cleanup, screenshot, ROOT } from './lib/browser.mjs';

let browser, api;

before(async () => {
  const reports = tempdir('polsnap-reports-');
  fs.cpSync(path.join(ROOT, 'samples'), reports, { recursive: true });
  fs.writeFileSync(path.join(reports, 'zz-evil.json'), JSON.stringify({
    apiVersion: 'wgpolicyk8s.io/v1alpha2', kind: 'PolicyReport', metadata: { name: 'evil', namespace: 'evil-ns' },
    results: [{ policy: '<script>window.pwned=1</script>', rule: '<img src=x onerror="window.pwned=2">', result: 'fail',
      message: '\u202egnp.exe', resources: [{ kind: 'Pod', name: '" onmouseover="window.pwned=3' }] }],
  }));
  const data = tempdir('polsnap-data-');
  snapshot('--source', `files:${reports}`, '--data', data);
  api = await apiServer(data);
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await api?.stop();
  cleanup();
});

test('the violations report renders styled, with no console error and no injected markup', async () => {
  const page = await newPage(browser);
  const res = await page.goto(api.url + 'v1/html-report/violations');
  assert.equal(res.status(), 200);
  assert.match(res.headers()['content-security-policy'], /style-src 'sha256-/);
  assert.equal(await page.textContent('h1 bdi'), 'polsnap violations report');
  const headings = await page.$$eval('h2', (hs) => hs.map((h) => h.textContent));
  assert.ok(headings.length > 5, `groups: ${headings.length}`);
  assert.equal(headings.at(-1).startsWith('cluster scope: '), true, 'cluster scope last');
  // the style element applied: the CSP allows it by its hash (a blocked style logs an error)
  assert.equal(await page.$eval('th', (th) => getComputedStyle(th).backgroundColor), 'rgb(238, 238, 238)');
  assert.equal(await page.evaluate(() => window.pwned), undefined, 'no injected script ran');
  assert.equal(await page.$$eval('img, script', (n) => n.length), 0, 'no injected element');
  assert.ok(headings.includes('evil-ns: <script>window.pwned=1</script>'), 'markup shown as text');
  assert.deepEqual(page.errors, []);
  await page.emulateMedia({ media: 'print' });
  await screenshot(page, 'html-report-print');
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('the results view filters by a report label and links to the printable report of its filters', async () => {
  const page = await newPage(browser);
  await page.goto(api.url + '?poll=0#/results?status=&size=500');
  await settled(page);
  await page.click('details.pick[data-key="label"] > summary');
  await page.selectOption('select[aria-label="Label key"]', 'trivy-operator.resource.kind');
  await page.selectOption('select[aria-label="Label value"]', 'Deployment');
  await page.click('details.pick[data-key="label"] button[data-focus="label:add"]');
  const label = encodeURIComponent('trivy-operator.resource.kind:Deployment');
  const want = await (await fetch(`${api.url}v1/namespaced-resources/results?labels=${label}&pagination.limit=500`)).json();
  assert.ok(want.count > 0 && want.count < 50, `the label selects a few rows (${want.count})`);
  await page.waitForFunction((n) => document.querySelector('#result-count')?.dataset.count === String(n), want.count);
  assert.deepEqual(await page.$$eval('#results-table tbody tr', (trs) => trs.map((t) => t.dataset.id)), want.items.map((r) => r.id));
  assert.match(await page.textContent('.chips'), /Label trivy-operator\.resource\.kind = Deployment/);
  assert.match(page.url(), /label=trivy-operator\.resource\.kind%3ADeployment/);
  const link = await page.getAttribute('a[data-report="violations"]', 'href');
  assert.equal(link, `v1/html-report/violations?labels=${label}`, 'the report link carries the filters');
  const report = await fetch(api.url + link);
  assert.equal(report.status, 200);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});
