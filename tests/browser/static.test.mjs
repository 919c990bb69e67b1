// static.test.mjs - static hosting mode: a snapshot site served by a plain static lighttpd (no API, no FastCGI);
// the dashboard must say so and filter, sort, page and export in the browser with the same results.
import { test, before, after } from 'node:test';
import path from 'node:path';
import { launch, staticServer, tempdir, cleanup, ROOT } from './lib/browser.mjs';
import { makeRows, writeSite, summarize, queryRows } from './lib/fixture.mjs';
import * as flows from './lib/flows.mjs';
import assert from 'node:assert/strict';

let browser, server, env;

before(async () => {
  const rows = makeRows(3000, { namespaces: 40 });
  // edge cases: a row without a namespace, a namespace that is no DNS label, a comma and quotes in a value
  rows[3].namespace = null;
  rows[4].namespace = 'Weird ns/..';
  rows[4]._scope = 'namespaced';
  rows[5].message = 'a "quoted", multi\nline message';
  const site = tempdir('polsnap-site-');
  const fx = writeSite(site, path.join(ROOT, 'www'), rows);
  server = await staticServer(site);
  browser = await launch();
  const sorted = fx.rows;
  env = {
    name: 'static', mode: 'static', url: server.url,
    expect: {
      summary: async () => summarize(rows),
      snapshot: async () => (await fetch(server.url + 'data/v1/snapshot.json')).json(),
      results: async (scope, q) => { const items = queryRows(sorted, fx.scopes, { scope, ...q }); return { items, count: items.length }; },
    },
  };
});

after(async () => {
  await browser?.close();
  await server?.stop();
  cleanup();
});

test('static: overview numbers equal the summary', () => flows.overviewNumbers(browser, env));
test('static: overview to a failing result in three clicks', () => flows.threeClicks(browser, env));
test('static: filters, sort and paging change table and URL and survive reload', () => flows.filterSortPage(browser, env));
test('static: CSV and JSON export equal the rows', () => flows.exportRows(browser, env));
test('static: axe-core clean on every view, light and dark, and on a phone', () => flows.accessibility(browser, env));
test('static: a permalink to a result gone from the snapshot says so', () => flows.missingResult(browser, env));
test('static: keyboard only', () => flows.keyboard(browser, env));
test('static: first view within the byte and request budget', (t) => flows.budget(browser, { ...env, diagnostic: (m) => t.diagnostic(m) }));
test('static: print stylesheet', () => flows.print(browser, env));
test('static: the page says it is a static copy', async () => {
  const page = await browser.newPage();
  await page.goto(server.url + '?poll=0');
  await page.waitForSelector('#fresh .tag');
  assert.match(await page.textContent('#fresh'), /Static copy/);
  await page.close();
});
