// s3.test.mjs - the dashboard served entirely from a bucket: polsnap-snapshot --publish uploads to s3rver
// (behind the proxy that verifies every signature, tests/lib/s3.mjs), Chromium opens the site from s3rver's
// static-website endpoint, follows the pointer data/current.json and shows the same overview as the served
// dashboard (the API of the same data directory is the oracle); a new upload moves the pointer and the
// page's snapshot poll follows it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { launch, newPage, settled, apiServer, apiExpect, tempdir, cleanup, BIN } from './lib/browser.mjs';
import { makeRows, writeReports } from './lib/fixture.mjs';
import * as flows from './lib/flows.mjs';
import { startS3, KEY_ID, SECRET } from '../lib/s3.mjs';

let browser, s3, api, env, reports, data, rows;

// Asynchronous: the S3 proxy runs in this process and must keep answering while the job uploads.
function publish() {
  return new Promise((resolve, reject) => {
    execFile(path.join(BIN, 'polsnap-snapshot'), ['--source', `files:${reports}`, '--data', data, '--publish', 's3://bucket/site',
      '--s3-endpoint', s3.url], { env: { ...process.env, AWS_ACCESS_KEY_ID: KEY_ID, AWS_SECRET_ACCESS_KEY: SECRET }, timeout: 120000 },
    (err, stdout, stderr) => (err ? reject(new Error(`polsnap-snapshot failed: ${stderr}`)) : resolve(stderr)));
  });
}

before(async () => {
  rows = makeRows(2000, { namespaces: 25, seed: 11 });
  reports = tempdir('polsnap-reports-');
  data = tempdir('polsnap-data-');
  writeReports(reports, rows);
  s3 = await startS3(tempdir('polsnap-s3-'));
  await publish();
  api = await apiServer(data);
  browser = await launch();
  const oracle = apiExpect(api.url);
  env = { name: 's3', mode: 'static', url: s3.siteUrl('site/'), expect: { summary: oracle.summary, snapshot: oracle.snapshot } };
});

after(async () => {
  await browser?.close();
  await api?.stop();
  await s3?.stop();
  cleanup();
});

test('s3: the bucket site shows the same overview as the served dashboard', () => flows.overviewNumbers(browser, env));

test('s3: every request goes to the bucket, the data to the snapshot the pointer names', async () => {
  const page = await newPage(browser);
  await page.goto(env.url + '?poll=0#/');
  await settled(page);
  const id = (await env.expect.snapshot()).id;
  assert.match(await page.textContent('#fresh'), /Static copy/);
  const paths = page.requests.map((r) => new URL(r.url()).pathname);
  assert.ok(paths.every((p) => p.startsWith('/bucket/site/')), paths.join(' '));
  const data = paths.filter((p) => p.includes('/data/') && !p.endsWith('/data/current.json') && !p.endsWith('/data/v1/snapshot.json'));
  assert.ok(data.length > 0 && data.every((p) => p.startsWith(`/bucket/site/data/${id}/`)), data.join(' '));
  await page.context().close();
});

test('s3: a new upload moves the pointer and the page follows it', async () => {
  const page = await newPage(browser);
  await page.goto(env.url + '?poll=0#/');
  await settled(page);
  const before = await page.evaluate(async () => (await import('./js/data.js')).mode.snapshot.id);
  writeReports(reports, rows.map((r) => (r.namespace === rows[0].namespace ? { ...r, status: 'pass' } : r)));
  await publish();
  const after = await page.evaluate(async () => {
    const d = await import('./js/data.js');
    const changed = await d.pollSnapshot();
    return { changed, id: d.mode.snapshot.id, summary: await d.unfiltered('summary') };
  });
  const want = await (await fetch(api.url + 'v1/snapshot?fresh=1')).json();
  assert.notEqual(before, want.id, 'a second snapshot');
  assert.deepEqual([after.changed, after.id], [true, want.id], 'the poll follows the pointer to the new snapshot');
  assert.deepEqual(after.summary, await (await fetch(api.url + 'v1/summary?fresh=1')).json(), "and reads the new snapshot's files");
  await page.context().close();
});
