// dashboard.test.mjs - the views people reach for, on the bundled samples behind the real server (the API is the
// oracle): search by substring, print on A4, a phone at 390 px, Back keeping the list's place, the namespace
// page's Kind and Name, lists in the order people read, the detail's links and kubectl command, results grouped
// by resource, the Policies view of one source, failing results by severity.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { launch, newPage, settled, apiServer, snapshot, tempdir, cleanup, axe, ARTIFACTS, ROOT } from './lib/browser.mjs';

let browser, url, setupError;
const servers = [];
const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true };
const A4 = 703; // CSS pixels between the margins of A4 portrait (210 mm - 2 x 12 mm at 96 px per inch)

before(async () => {
  browser = await launch();
  try {
    const data = tempdir('polsnap-data-');
    snapshot('--source', `files:${path.join(ROOT, 'samples')}`, '--data', data);
    const srv = await apiServer(data);
    servers.push(srv);
    url = srv.url;
  } catch (e) {
    setupError = e;
  }
});

after(async () => {
  await browser?.close();
  for (const s of servers) await s.stop();
  cleanup();
});

const api = async (p) => (await fetch(url + p)).json();
const fold = (s) => s.replace(/[A-Z]/g, (c) => c.toLowerCase());
const byText = (a, b) => (fold(a) < fold(b) ? -1 : fold(a) > fold(b) ? 1 : a < b ? -1 : a > b ? 1 : 0);

async function open(hash, opts) {
  if (setupError) throw setupError;
  const page = await newPage(browser, opts);
  await page.goto(url + '?poll=0' + hash);
  await settled(page);
  return page;
}

// A screenshot in tests/artifacts; with POLSNAP_README_SHOT set, also the README's tests/screenshots/<readme>.png
// (the screen a phone shows; the first page of a printout).
async function shot(page, name, readme, height) {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: path.join(ARTIFACTS, name + '.png'), fullPage: true });
  if (readme && process.env.POLSNAP_README_SHOT) {
    const { width } = page.viewportSize();
    await page.screenshot({ path: path.join(ROOT, 'tests/screenshots', readme + '.png'), fullPage: true, clip: { x: 0, y: 0, width, height } });
  }
}

test('search: the box finds a substring of namespace, kind, name, policy, rule or message, and says so', async () => {
  const page = await open('#/results?status=');
  const box = page.locator('form.search input[type=search]');
  assert.match(await box.getAttribute('placeholder'), /namespace, kind, name, policy, rule, message/);
  await box.fill('nginx');
  await box.press('Enter');
  const want = await api('v1/namespaced-resources/results?contains=nginx&pagination.limit=1000');
  assert.ok(want.count > 0 && want.items.some((r) => r.namespace === 'ingress-nginx'), 'nginx is in ingress-nginx');
  await page.waitForFunction((n) => document.getElementById('result-count').dataset.count === String(n), want.count);
  const ids = await page.$$eval('#results-table tbody tr', (trs) => trs.map((t) => t.dataset.id));
  assert.deepEqual(ids, want.items.slice(0, 50).map((r) => r.id));
  assert.match(page.url(), /search=nginx/);
  await page.context().close();
});

test('print: on A4 every column of the results fits, controls do not print, legend swatches do', async () => {
  const page = await open('#/results?status=&size=25', { viewport: { width: A4, height: 1000 } });
  await page.emulateMedia({ media: 'print' });
  const heads = await page.$$eval('#results-table thead th', (ths) => ths.map((t) => [t.innerText.trim(), t.getBoundingClientRect().right]));
  for (const label of ['Status', 'Namespace', 'Name', 'Message', 'Source', 'Time (UTC)']) {
    const hd = heads.find(([t]) => t === label);
    assert.ok(hd, `${label} prints`);
    assert.ok(hd[1] <= A4 + 0.5, `${label} ends at ${Math.round(hd[1])} px, inside the page (${A4} px)`);
  }
  for (const sel of ['nav.tabs', '.pager', '.arrow', 'input[type=checkbox]', '#main button:not(.sort)', '.filters']) {
    assert.equal(await page.locator(sel).evaluateAll((els) => els.filter((e) => e.getClientRects().length > 0).length), 0, `${sel} does not print`);
  }
  assert.match(await page.textContent('#main .print-only'), /^Both scopes; no filters$/, 'the printout says what it holds');
  await shot(page, 'print-results', 'print', Math.round(A4 * 273 / 186)); // one A4 page between the margins
  const pdf = await page.pdf({ format: 'A4', margin: { top: '12mm', bottom: '12mm', left: '12mm', right: '12mm' } });
  assert.ok(pdf.length > 1000);
  await page.goto(url + '?poll=0#/');
  await page.waitForSelector('.legend i.fail', { state: 'attached' });
  const swatch = await page.$eval('.legend i.fail', (e) => getComputedStyle(e).printColorAdjust);
  assert.equal(swatch, 'exact', 'legend swatches keep their colour in print');
  assert.equal(await page.locator('#ns-h ~ .row input[type=checkbox]').evaluateAll((els) => els.filter((e) => e.getClientRects().length).length), 0,
    'the failing-only checkbox does not print');
  await page.context().close();
});

test('phone: every view fits 390 px, the first result is above the fold, targets are 24 px, axe-core clean', async () => {
  const s = await api('v1/summary');
  const one = (await api('v1/namespaced-resources/results?status=fail&pagination.limit=1')).items[0];
  const views = [['overview', '#/'], ['results', '#/results'], ['cluster', '#/results?scope=cluster&status='],
    ['grouped', '#/results?status=fail&group=resource'], ['policies', '#/policies'], ['namespaces', '#/namespaces'],
    ['namespace', `#/namespaces?ns=${s.namespaces[0].namespace}`],
    ['result', `#/result/${encodeURIComponent(one.id)}?scope=namespaced&ns=${encodeURIComponent(one.namespace)}`]];
  const problems = [];
  const page = await open('#/', PHONE);
  for (const [name, hash] of views) {
    await page.goto('about:blank'); // a new document each time: settled() then waits for this view
    await page.goto(url + '?poll=0' + hash);
    await settled(page);
    const wide = await page.evaluate(() => document.documentElement.scrollWidth);
    if (wide > 390) problems.push(`${name}: ${wide} px wide`);
    for (const v of await axe(page)) problems.push(`${name}: ${v}`);
    if (name === 'overview') {
      await shot(page, 'phone-overview', 'phone', 844);
      const right = await page.$$eval('#ns-table tbody tr [data-col="fail"]', (tds) => Math.max(...tds.map((t) => t.getBoundingClientRect().right)));
      if (right > 390) problems.push(`overview: the namespaces' fail counts end at ${right} px`);
    }
    if (name === 'results') {
      await shot(page, 'phone-results');
      const top = await page.$eval('#results-table tbody tr', (tr) => tr.getBoundingClientRect().top);
      if (top > 844) problems.push(`results: the first result starts at ${top} px, below the fold`);
      await page.click('details.filter-box > summary');
      await page.click('details[data-key="namespace"] > summary');
      await page.waitForSelector('details[data-key="namespace"] .opts input[type=checkbox]');
      const box = await page.$eval('details[data-key="namespace"] .opts input[type=checkbox]', (e) => e.getBoundingClientRect().height);
      if (box < 24) problems.push(`results: a picker's checkbox is ${box} px`);
      const row = await page.$eval('details[data-key="namespace"] .opts label', (e) => e.getBoundingClientRect().height);
      if (row < 24) problems.push(`results: a picker's row is ${row} px high`);
    }
  }
  assert.deepEqual(problems, []);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('back from a result returns to the same place in the list, by the Back button and by the detail\'s link', async () => {
  const page = await open('#/results?status=&size=100', { viewport: { width: 1280, height: 700 } });
  const row = page.locator('#results-table tbody tr').nth(70);
  await row.scrollIntoViewIfNeeded();
  await page.evaluate(() => window.scrollBy(0, 13));
  await page.waitForTimeout(100);
  const y = await page.evaluate(() => window.scrollY);
  assert.ok(y > 1000, `scrolled down the list (${y} px)`);
  const id = await row.getAttribute('data-id');
  for (const how of ['Back button', 'back link']) {
    await page.locator(`#results-table tbody tr[data-id="${id}"] td.msg a`).click();
    await page.waitForSelector('dd[data-field="ID"]');
    if (how === 'Back button') await page.goBack();
    else await page.click('#back');
    await page.waitForFunction((i) => document.querySelector(`#results-table tbody tr[data-id="${i}"]`), id);
    await page.waitForFunction((want) => Math.abs(window.scrollY - want) <= 2, y, { timeout: 10000 })
      .catch(async () => assert.fail(`${how}: at ${await page.evaluate(() => window.scrollY)} px, not ${y}`));
  }
  assert.match(await page.getAttribute('#back', 'href').catch(() => '#/results'), /^#\/results/);
  await page.context().close();
});

test('the namespace page shows Kind and Name, so two workloads\' failures tell apart', async () => {
  const ns = 'shop-frontend';
  const want = await api(`v1/namespaced-resources/results?namespaces=${ns}&status=fail&pagination.limit=25`);
  const page = await open(`#/namespaces?ns=${ns}`);
  await page.waitForSelector('#ns-failing');
  const heads = await page.$$eval('#ns-failing thead th', (ths) => ths.map((t) => t.textContent));
  assert.deepEqual(heads, ['Status', 'Severity', 'Kind', 'Name', 'Policy', 'Rule', 'Message']);
  const rows = await page.$$eval('#ns-failing tbody tr', (trs) => trs.map((t) => [t.dataset.id, t.children[2].textContent, t.children[3].textContent]));
  assert.deepEqual(rows, want.items.map((r) => [r.id, r.kind ?? '—', r.name ?? '—']));
  assert.ok(new Set(rows.map((r) => r[2])).size > 1, 'the failures are of several workloads');
  const sev = await api('v1/summary');
  const mine = sev.namespaces.find((n) => n.namespace === ns).failSeverity;
  const shown = await page.$$eval('#ns-severity [data-severity]', (els) => Object.fromEntries(els.map((e) => [e.dataset.severity, Number(e.querySelector('[data-count]').dataset.count)])));
  assert.deepEqual(shown, Object.fromEntries(Object.entries(mine).filter(([, n]) => n)), 'failing results by severity');
  await page.context().close();
});

test('lists for people sort case-insensitively; the Policies view\'s bars share one scale', async () => {
  const page = await open('#/policies');
  const shown = await page.$$eval('#policies-table tr.policy', (trs) => trs.map((t) => t.dataset.policy));
  assert.ok(shown.some((p) => /^[A-Z]/.test(p)) && shown.some((p) => /^[a-z]/.test(p)), 'the samples mix cases');
  assert.deepEqual(shown, [...shown].sort(byText), 'policies in case-insensitive order');
  const perResult = await page.$$eval('#policies-table tr.policy', (trs) => trs.map((t) => {
    const w = [...t.querySelectorAll('svg.bar rect')].reduce((n, r) => n + Number(r.getAttribute('width')), 0);
    const total = [...t.querySelectorAll('[data-status] [data-count]')].reduce((n, e) => n + Number(e.dataset.count), 0);
    return w / total;
  }));
  const ratios = perResult.filter((x) => x > 0);
  assert.ok(Math.max(...ratios) - Math.min(...ratios) < 0.05 * Math.max(...ratios), `one scale: ${ratios.map((x) => x.toFixed(2))}`);
  await page.goto(url + '?poll=0#/results?status=');
  await settled(page);
  await page.click('details[data-key="policy"] > summary');
  await page.waitForSelector('details[data-key="policy"] .opts input[type=checkbox]');
  const values = await page.$$eval('details[data-key="policy"] .opts input[type=checkbox]', (els) => els.map((e) => e.value));
  assert.deepEqual(values, [...values].sort(byText), 'picker values in case-insensitive order');
  await page.goto(url + '?poll=0#/');
  await page.waitForSelector('#src-h ~ * tbody th');
  const sources = await page.$$eval('#src-h ~ * tbody th', (ths) => ths.map((t) => t.textContent.replace(/ \(also .*\)$/, '')));
  assert.deepEqual(sources, [...sources].sort(byText), 'sources in case-insensitive order');
  await page.context().close();
});

test('detail: a way back, links where fields are links, the kubectl command, copyable', async () => {
  const want = (await api('v1/namespaced-resources/results?namespaces=kube-system&kinds=Deployment&pagination.limit=1')).items[0];
  const page = await open(`#/results?status=&namespace=kube-system&kind=Deployment`);
  await page.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: url.replace(/\/$/, '') });
  await page.click(`#results-table tbody tr[data-id="${want.id}"] td.msg a`);
  await page.waitForSelector('#kubectl');
  assert.equal(await page.textContent('#kubectl'), `kubectl get deployment.apps ${want.name} -n kube-system -o yaml`);
  await page.click('button[data-focus="copy-kubectl"]');
  await page.waitForFunction(() => /Copied/.test(document.getElementById('live').textContent));
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), `kubectl get deployment.apps ${want.name} -n kube-system -o yaml`);
  const links = await page.$$eval('dd[data-field] a', (as) => Object.fromEntries(as.map((a) => [a.parentElement.dataset.field, a.getAttribute('href')])));
  assert.equal(links.Namespace, '#/namespaces?ns=kube-system');
  assert.equal(links.Policy, `#/policies?policy=${encodeURIComponent(want.policy).replace(/%20/g, '+')}`);
  assert.match(links.Source, /^#\/results\?scope=namespaced&status=&source=/);
  assert.match(links.Name, /resource=/);
  assert.equal(await page.textContent('#back'), '← Back to the results');
  await page.click('#back');
  await page.waitForSelector(`#results-table tbody tr[data-id="${want.id}"]`);
  assert.match(page.url(), /namespace=kube-system&kind=Deployment/);
  const cve = (await api('v1/namespaced-resources/results?sources=Trivy%20Vulnerability&pagination.limit=1')).items[0];
  await page.goto(url + `?poll=0#/result/${cve.id}?scope=namespaced&ns=${cve.namespace}`);
  await page.waitForSelector('#props');
  assert.equal(await page.getAttribute('#props a', 'href'), cve.properties.primaryLink, 'a property holding a URL is a link');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('results grouped by resource: one row per workload with its failing policies, expandable', async () => {
  const want = await api('v1/namespaced-resources/results?status=fail&pagination.limit=1000');
  const groups = [];
  for (const r of want.items) {
    const g = groups[groups.length - 1];
    if (g && g.key === `${r.namespace}/${r.kind}/${r.name}`) g.rows.push(r);
    else groups.push({ key: `${r.namespace}/${r.kind}/${r.name}`, rows: [r] });
  }
  const page = await open('#/results?status=fail&group=resource&size=10');
  await page.waitForSelector('table.groups');
  const shown = await page.$$eval('table.groups > tbody > tr.group', (trs) => trs.map((t) => {
    const [ns, kind, name, , pols] = [...t.children].map((c) => c.textContent.replace(/^[▶▼]/, ''));
    return [`${ns}/${kind}/${name}`, Number(t.dataset.count), pols];
  }));
  const label = (r) => `${r.namespace ?? '—'}/${r.kind ?? '—'}/${r.name ?? '(no resource)'}`;
  assert.deepEqual(shown, groups.slice(0, 10).map((g) => [label(g.rows[0]), g.rows.length,
    [...new Set(g.rows.map((r) => r.policy))].sort(byText).join(', ')]));
  assert.match(await page.textContent('#result-count'), new RegExp(`of ${groups.length} \\(${want.count} results\\)`));
  const many = groups.slice(0, 10).findIndex((g) => g.rows.length > 1);
  await page.locator('table.groups > tbody > tr.group button').nth(many).click();
  await page.waitForSelector('tr.members');
  const ids = await page.$$eval('tr.members tbody tr', (trs) => trs.map((t) => t.dataset.id));
  assert.deepEqual(ids, groups[many].rows.map((r) => r.id));
  await page.context().close();
});

test('the Policies view of one source', async () => {
  const src = 'Trivy Vulnerability';
  const pols = new Set([...await api(`v1/namespaced-resources/policies?sources=${encodeURIComponent(src)}`),
    ...await api(`v1/cluster-resources/policies?sources=${encodeURIComponent(src)}`)]);
  const page = await open('#/policies');
  await page.selectOption('#policy-source', src);
  await page.waitForFunction((n) => document.querySelectorAll('#policies-table tr.policy').length === n, pols.size);
  const shown = await page.$$eval('#policies-table tr.policy', (trs) => trs.map((t) => t.dataset.policy));
  assert.deepEqual(new Set(shown), pols);
  assert.match(page.url(), /source=Trivy/);
  const link = await page.getAttribute('#policies-table tr.policy [data-status="fail"] a', 'href');
  assert.match(link, /source=Trivy/, 'its counts link to that source\'s results');
  await page.context().close();
});

test('overview: failing results by severity, per namespace and as a chart', async () => {
  const s = await api('v1/summary');
  const page = await open('#/?nsall=1');
  const label = await page.getAttribute('svg.sevchart', 'aria-label');
  const fail = s.statusSeverity.fail;
  assert.equal(label, 'Failing results by severity: ' + ['critical', 'high', 'medium', 'low', 'info', 'none']
    .map((v) => `${v === 'none' ? 'no severity' : v} ${fail[v]}`).join(', '));
  const rows = await page.$$eval('#ns-table tbody tr', (trs) => trs.map((t) => [t.querySelector('[data-col="namespace"]').textContent,
    Object.fromEntries([...t.querySelectorAll('[data-col="sev"] [data-severity]')].map((e) => [e.dataset.severity, Number(e.querySelector('[data-count]').dataset.count)]))]));
  const want = s.namespaces.map((n) => [n.namespace, Object.fromEntries(Object.entries(n.failSeverity).filter(([, c]) => c))]);
  assert.deepEqual(rows.sort(), want.sort());
  await page.context().close();
});
