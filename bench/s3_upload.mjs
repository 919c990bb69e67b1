// s3_upload.mjs - what --publish costs: requests and bytes sent to the bucket by a first upload and by a
// typical later one (one report changed), against the site itself (what a naive copy would send: every file
// once). Everything on 127.0.0.1: s3rver behind the signature-verifying proxy of tests/lib/s3.mjs, which
// counts every request and its body. Times are printed, never asserted.
//
//     node bench/s3_upload.mjs [RESULTS]      (default 100000; make first)
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startS3, KEY_ID, SECRET } from '../tests/lib/s3.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BIN = process.env.POLSNAP_BIN || path.join(ROOT, 'bin');
const results = Number(process.argv[2] || 100000);
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'polsnap-s3bench-'));
const reports = path.join(work, 'reports'), data = path.join(work, 'data');

function publish() {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    execFile(path.join(BIN, 'polsnap-snapshot'), ['--source', `files:${reports}`, '--data', data, '--publish', 's3://bucket/site',
      '--s3-endpoint', s3.url], { env: { ...process.env, AWS_ACCESS_KEY_ID: KEY_ID, AWS_SECRET_ACCESS_KEY: SECRET }, maxBuffer: 1 << 26 },
    (err, stdout, stderr) => (err ? reject(new Error(stderr)) : resolve((Date.now() - t0) / 1000)));
  });
}

// The site --site would write: the dashboard plus the snapshot's files but the index.
function siteSize() {
  let bytes = 0, files = 0;
  const walk = (d, top) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p, false);
      else if (e.isFile() && !(top && e.name === 'index.bin')) bytes += fs.statSync(p).size, files++;
    }
  };
  walk(fs.realpathSync(path.join(data, 'current')), true);
  walk(path.join(ROOT, 'www'), false);
  return { bytes, files };
}

// One report changes: the first result "pass" of the first report file becomes "fail".
function changeOneReport() {
  const f = path.join(reports, fs.readdirSync(reports).sort()[0]);
  const text = fs.readFileSync(f, 'utf8');
  const i = text.indexOf('result: "pass"');
  if (i < 0) throw new Error(`${f}: no passing result to change`);
  fs.writeFileSync(f, text.slice(0, i) + 'result: "fail"' + text.slice(i + 'result: "pass"'.length));
}

let s3;
const line = (name, run, site, secs) => {
  const bytes = run.reduce((a, e) => a + e.bytes, 0);
  const puts = run.filter((e) => e.method === 'PUT' && !e.copy).length, copies = run.filter((e) => e.copy).length;
  console.log(`${name.padEnd(26)} ${String(run.length).padStart(5)} requests (${puts} uploads, ${copies} copies) ` +
    `${(bytes / 1e6).toFixed(1).padStart(7)} MB = ${(bytes / site.bytes).toFixed(2)} x the site, ${secs.toFixed(1)} s`);
};
try {
  execFileSync('python3', [path.join(ROOT, 'tests/lib/gen_reports.py'), '--results', String(results), '--out', reports], { stdio: ['ignore', 'ignore', 'inherit'] });
  s3 = await startS3(path.join(work, 's3'));
  const t1 = await publish();
  const first = s3.log.splice(0);
  const site = siteSize();
  console.log(`# ${results} results: the site is ${(site.bytes / 1e6).toFixed(1)} MB in ${site.files} files`);
  line('first upload', first, site, t1);
  changeOneReport();
  const t2 = await publish();
  line('one report changed', s3.log.splice(0), siteSize(), t2);
  const t3 = await publish();
  line('nothing changed', s3.log.splice(0), siteSize(), t3);
  const bad = [...first].filter((e) => e.status >= 400 && e.key !== 'site/data/manifest.json');
  if (bad.length) throw new Error(`refused requests: ${JSON.stringify(bad.slice(0, 3))}`);
} finally {
  await s3?.stop();
  fs.rmSync(work, { recursive: true, force: true });
}
