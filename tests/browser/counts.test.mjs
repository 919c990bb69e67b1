// counts.test.mjs - every count the dashboard links lands on a view whose total is that count: each count link
// of the overview (and of the Policies view, also narrowed to one source) is opened and the total the results view states is compared with
// the number clicked. For the bundled samples (values that differ only in case, cluster-only policies) and a
// generated set with such values, through the API and on the generated set's static copy.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { launch, newPage, settled, apiServer, staticServer, snapshot, tempdir, cleanup, ROOT } from './lib/browser.mjs';
import { makeRows, writeReports } from './lib/fixture.mjs';

let browser, setupError;
const envs = {};
const servers = [];

// Values that differ only in case, a policy only cluster-scoped rows have, a rule spelt two ways.
function caseVariants(rows) {
  rows.forEach((r, i) => {
    if (r.source === 'Kyverno' && i % 2) r.source = 'kyverno';
    if (r.policy === 'policy-a0' && i % 3 === 0) r.policy = 'Policy-A0';
    if (r.namespace === 'ns-0001' && i % 2) r.namespace = 'NS-0001';
    if (r.rule === 'rule-1' && i % 2) r.rule = 'RULE-1';
    if (r._scope === 'cluster' && i % 4 === 0) r.policy = 'cluster-only';
  });
  return rows;
}

before(async () => {
  browser = await launch();
  try {
    const samples = tempdir('polsnap-data-');
    snapshot('--source', `files:${path.join(ROOT, 'samples')}`, '--data', samples);
    const reports = tempdir('polsnap-reports-');
    writeReports(reports, caseVariants(makeRows(900, { namespaces: 6, policies: 5, seed: 11 })));
    const generated = tempdir('polsnap-data-');
    const site = path.join(tempdir('polsnap-site-'), 'site');
    snapshot('--source', `files:${reports}`, '--data', generated, '--site', site, '--www', path.join(ROOT, 'www'));
    const [a, b, c] = [await apiServer(samples), await apiServer(generated), await staticServer(site)];
    servers.push(a, b, c);
    envs.samples = a.url;
    envs.generated = b.url;
    envs.site = c.url;
  } catch (e) {
    setupError = e;
  }
});

after(async () => {
  await browser?.close();
  for (const s of servers) await s.stop();
  cleanup();
});

// [href, count, label] of every link to the results view that carries the number it shows.
async function countLinks(page) {
  return page.$$eval('#main a[href^="#/results"]', (as) => as.map((a) => {
    const n = a.matches('[data-count]') ? a : a.querySelector('[data-count]');
    return n ? [a.getAttribute('href'), Number(n.dataset.count), (a.getAttribute('aria-label') || a.textContent).trim()] : null;
  }).filter(Boolean));
}

// Opens each link in the same page (as a click does) and reads the total the results view states.
async function totals(page, links) {
  const wrong = [];
  for (const [hash, want, label] of links) {
    await page.evaluate((h) => {
      const t = document.getElementById('view-total');
      if (t) t.removeAttribute('data-count');
      location.hash = h;
    }, hash);
    try {
      await page.waitForFunction((h) => location.hash === h && document.querySelector('#view-total[data-count]') &&
        !document.querySelector('[aria-busy="true"]'), hash, { timeout: 20000 });
    } catch {
      wrong.push(`${label}: ${hash} shows no total`);
      continue;
    }
    const got = Number(await page.getAttribute('#view-total', 'data-count'));
    if (got !== want) wrong.push(`${label} (${want}) lands on ${got}: ${hash}`);
  }
  return wrong;
}

async function overviewLinks(page, url) {
  await page.goto(url + '?poll=0#/?nsall=1');
  await settled(page);
  const more = await page.$('button[data-focus="ns-more"]');
  if (more) await more.click();
  return countLinks(page);
}

for (const name of ['samples', 'generated', 'site']) {
  test(`${name}: every count link on the overview lands on a view with that total`, async (t) => {
    if (setupError) throw setupError;
    const page = await newPage(browser);
    const links = await overviewLinks(page, envs[name]);
    t.diagnostic(`${links.length} count links on the overview`);
    assert.ok(links.length > 40, `the overview has its count links (${links.length})`);
    assert.deepEqual(await totals(page, links), []);
    assert.deepEqual(page.errors.filter((e) => !(name === 'site' && /status of 404/.test(e))), []);
    await page.context().close();
  });
}

for (const [name, hash] of [['generated', '#/policies'], ['generated', '#/policies?source=kyverno'], ['site', '#/policies?source=Trivy']]) {
  test(`${name}: every count link of the Policies view (${hash}) lands on a view with that total`, async () => {
    if (setupError) throw setupError;
    const page = await newPage(browser);
    await page.goto(envs[name] + '?poll=0' + hash);
    await settled(page);
    await page.click('button[data-focus="expand-all"]');
    const links = await countLinks(page);
    assert.ok(links.length > 30, `the Policies view has its count links (${links.length})`);
    assert.deepEqual(await totals(page, links), []);
    await page.context().close();
  });
}

test('samples: values that differ only in case are one entry, counted as the filters match', async () => {
  if (setupError) throw setupError;
  const page = await newPage(browser);
  await page.goto(envs.samples + '?poll=0#/');
  await settled(page);
  const sources = await page.$$eval('#src-h ~ * tbody th', (ths) => ths.map((t) => t.textContent));
  const folded = sources.map((s) => s.replace(/ \(also .*\)$/, '').toLowerCase());
  assert.equal(new Set(folded).size, folded.length, `one row per source whatever its case: ${sources}`);
  assert.ok(sources.some((s) => /^Kyverno \(also kyverno\)$|^kyverno \(also Kyverno\)$/.test(s)), `Kyverno and kyverno are one source: ${sources}`);
  await page.context().close();
});

test('samples: an empty tab says where the results are when the other scope has them', async () => {
  if (setupError) throw setupError;
  const page = await newPage(browser);
  const s = await (await fetch(envs.samples + 'v1/summary')).json();
  const p = s.policies.find((x) => x.scope === 'cluster' && x.fail);
  await page.goto(envs.samples + `?poll=0#/results?policy=${encodeURIComponent(p.policy)}`);
  await settled(page);
  await page.waitForSelector('#view-total[data-count]');
  assert.match(await page.textContent('#results-table'), new RegExp(`No namespaced results match these filters; ${p.fail} cluster-scoped results? do`));
  await page.click('#results-table a:text("Show the cluster-scoped results")');
  await page.waitForFunction((n) => document.querySelectorAll('#results-table tbody tr').length === n, p.fail);
  await page.context().close();
});
