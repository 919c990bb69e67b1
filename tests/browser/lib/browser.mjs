// browser.mjs - what the browser tests share: Debian's headless Chromium through playwright-core, a page that
// records console errors and requests, the real lighttpd (the project's config or a plain static one), axe-core.
import { chromium } from 'playwright-core';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = process.env.POLSNAP_ROOT || path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const BIN = process.env.POLSNAP_BIN || path.join(ROOT, 'bin');
export const ARTIFACTS = path.join(ROOT, 'tests/artifacts');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

const made = [];
export function tempdir(prefix) {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  made.push(d);
  return d;
}

// Removes every directory tempdir() made (a suite's after() hook calls it).
export function cleanup() {
  for (const d of made.splice(0)) fs.rmSync(d, { recursive: true, force: true });
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

async function waitListening(port, proc, logFile) {
  const deadline = Date.now() + 10000;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error('lighttpd exited: ' + fs.readFileSync(logFile, 'utf8'));
    const ok = await new Promise((resolve) => {
      const c = net.connect(port, '127.0.0.1', () => { c.destroy(); resolve(true); });
      c.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`lighttpd did not listen on ${port}`);
}

// lighttpd -D with the given config and environment on a free loopback port; stop() ends it.
export async function lighttpd(conf, env) {
  const port = await freePort();
  const run = tempdir('polsnap-run-');
  const logFile = path.join(run, 'lighttpd.log');
  const log = fs.openSync(logFile, 'w');
  const proc = spawn('lighttpd', ['-D', '-f', conf], {
    env: { ...process.env, ...env(port, run) }, stdio: ['ignore', log, log], detached: true,
  });
  await waitListening(port, proc, logFile);
  return {
    port, url: `http://127.0.0.1:${port}/`, run,
    async stop() {
      if (proc.exitCode === null) {
        process.kill(-proc.pid, 'SIGTERM');
        await new Promise((r) => { const t = setTimeout(() => { try { process.kill(-proc.pid, 'SIGKILL'); } catch { /* gone */ } r(); }, 5000); proc.on('exit', () => { clearTimeout(t); r(); }); });
      }
      fs.rmSync(run, { recursive: true, force: true });
    },
  };
}

// The project's server: lighttpd.conf serving www/ and a snapshot in data (API mode).
export function apiServer(data, extra = {}) {
  return lighttpd(path.join(ROOT, 'lighttpd.conf'), (port, run) => ({
    POLSNAP_ROOT: ROOT, POLSNAP_DATA: data, POLSNAP_PORT: String(port), POLSNAP_BIND: '127.0.0.1',
    POLSNAP_RUN: run, POLSNAP_FCGI: path.join(BIN, 'polsnap-fcgi'), ...extra,
  }));
}

// The API as the oracle: what the page must show for a filter set (all pages of it).
export function apiExpect(base) {
  const get = async (p) => {
    const res = await fetch(base + p);
    if (!res.ok) throw new Error(`${p}: HTTP ${res.status} ${await res.text()}`);
    return res.json();
  };
  return {
    summary: () => get('v1/summary'),
    raw: (scope, qs) => get(`v1/${scope}-resources/results?${qs}`),
    snapshot: () => get('v1/snapshot'),
    async results(scope, { status = [], namespace = [], policy = [], sort = null, desc = false } = {}) {
      const q = [...status.map((v) => `status=${v}`), ...namespace.map((v) => `namespaces=${encodeURIComponent(v)}`),
        ...policy.map((v) => `policies=${encodeURIComponent(v)}`)];
      if (sort) q.push(`pagination.sortOption.field=${sort}`, `pagination.sortOption.reversed=${desc}`);
      const items = [];
      let count = 0;
      for (let offset = 0; ; offset += 1000) {
        const page = await get(`v1/${scope}-resources/results?${[...q, 'pagination.limit=1000', `pagination.offset=${offset}`].join('&')}`);
        items.push(...page.items);
        count = page.count;
        if (items.length >= count || !page.items.length) break;
      }
      return { items, count };
    },
  };
}

// A plain static host for a --site directory (static mode).
export function staticServer(site) {
  return lighttpd(path.join(ROOT, 'tests/browser/lib/static.conf'), (port, run) => ({
    SITE_ROOT: site, SITE_PORT: String(port), SITE_RUN: run,
  }));
}

// bin/polsnap-snapshot with args; throws with its output when it fails.
export function snapshot(...args) {
  const r = spawnSync(path.join(BIN, 'polsnap-snapshot'), args, { encoding: 'utf8', timeout: 120000 });
  if (r.status !== 0) throw new Error(`polsnap-snapshot ${args.join(' ')} exited ${r.status}: ${r.stderr}${r.stdout}`);
  return r;
}

// playwright-core gives every launch a fresh temporary profile (it refuses --user-data-dir here).
export function launch() {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
}

// A page that records console errors, page errors, failed requests and every request in order.
export async function newPage(browser, opts = {}) {
  const context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1280, height: 900 }, ...opts });
  const page = await context.newPage();
  page.errors = [];
  page.requests = [];
  page.on('console', (m) => { if (m.type() === 'error') page.errors.push('console: ' + m.text()); });
  page.on('pageerror', (e) => page.errors.push('pageerror: ' + e.message));
  page.on('request', (r) => page.requests.push(r));
  return page;
}

// Waits until the view has finished loading (no element busy, no "Loading" text, the main h1 shown).
export async function settled(page) {
  await page.waitForFunction(() => {
    const main = document.getElementById('main');
    return main && main.querySelector('h1') && !main.querySelector('[aria-busy="true"], p.loading');
  }, null, { timeout: 30000 });
}

const AXE_SOURCE = fs.readFileSync(path.join(ROOT, 'node_modules/axe-core/axe.min.js'), 'utf8');
export async function axe(page) {
  // evaluated, not added as a <script>: the server's Content-Security-Policy blocks inline scripts
  if (!(await page.evaluate(() => !!window.axe))) await page.evaluate(AXE_SOURCE);
  const r = await page.evaluate(async () => window.axe.run(document, { resultTypes: ['violations'] }));
  return r.violations.map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')}`);
}

export async function screenshot(page, name) {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: path.join(ARTIFACTS, name + '.png'), fullPage: true });
}

export async function getJSON(url) {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return res.json();
}
