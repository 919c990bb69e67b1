// app.js - starts the dashboard: finds the data, routes #/view?state URLs to views, keeps the snapshot fresh.
import * as data from './data.js';
import { h, icon, notice, errorBox, fmtTime, fmtAge, num, loading } from './ui.js';

const VIEWS = { '': 'overview', results: 'results', policies: 'policies', namespaces: 'namespaces', result: 'detail' };
const POLL_KEY = 'polsnap.poll';
const THEME_KEY = 'polsnap.theme';
const main = document.getElementById('main');
const fresh = document.getElementById('fresh');
const live = document.getElementById('live');

let current = null; // {name, view}
let summaryCache = null; // {id, promise}
let pollTimer = null;
let generation = 0;
let navigated = false;
// Scroll positions by history entry (history.state.entry), so that Back returns to the same place in a list
// once its rows are loaded again (the browser's own restoring runs before they are).
const positions = new Map();
let entry = 0;
let lastList = null; // {hash, back}: the last list view, for the detail's way back
let previousHash = null;

function parseHash() {
  const m = location.hash.match(/^#\/([^?]*)(?:\?(.*))?$/);
  const path = m ? m[1] : '';
  const slash = path.indexOf('/');
  const head = slash < 0 ? path : path.slice(0, slash);
  let rest = slash < 0 ? '' : path.slice(slash + 1);
  try { rest = decodeURIComponent(rest); } catch { /* keep it raw */ }
  return { name: VIEWS[head] || 'missing', rest, params: new URLSearchParams(m && m[2] ? m[2] : '') };
}

// What every view gets: the data module, the cached summary, and one way to show a failure.
const ctx = {
  data,
  summary() {
    const id = data.mode.snapshot.id;
    if (!summaryCache || summaryCache.id !== id) {
      summaryCache = { id, promise: data.summary() };
      summaryCache.promise.catch(() => { summaryCache = null; });
    }
    return summaryCache.promise;
  },
  fail(e, where) {
    if (e && e.status === 401) return askToken(e.message);
    (where || main).replaceChildren(errorBox(e));
  },
  title(t) {
    document.title = t ? `${t} · polsnap` : 'polsnap';
  },
  announce(text) {
    live.textContent = text;
  },
  // The list the user came from ({hash, back}: back is true when it is the previous history entry).
  lastList() {
    return lastList;
  },
};

// Gives the history entry an id (once): scroll positions are recorded under it from now on.
function markEntry() {
  if (!history.state || !history.state.entry) history.replaceState({ ...(history.state || {}), entry: Date.now() + Math.random() }, '');
  entry = history.state.entry;
  return positions.get(entry);
}

// Once the view just mounted or updated has loaded (no busy element, no "Loading"; at most 10 s), scrolls
// to y, the position its history entry had.
function restoreScroll(y) {
  if (!y) return;
  const mine = entry;
  const t0 = Date.now();
  const tick = () => {
    if (entry !== mine) return;
    if (main.querySelector('[aria-busy="true"], p.loading') && Date.now() - t0 < 10000) { requestAnimationFrame(tick); return; }
    window.scrollTo(0, y);
    positions.set(mine, y);
  };
  requestAnimationFrame(tick);
}

async function route() {
  const r = parseHash();
  const from = location.hash;
  if (r.name !== 'detail' && r.name !== 'missing') lastList = { hash: from, back: false };
  else if (lastList && lastList.hash === previousHash) lastList = { ...lastList, back: true };
  else lastList = lastList && { ...lastList, back: false };
  previousHash = from;
  const y = markEntry();
  for (const a of document.querySelectorAll('nav.views a')) {
    if (a.dataset.view === r.name || (r.name === 'detail' && a.dataset.view === 'results')) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  if (r.name === 'missing') {
    current = null;
    ctx.title('Not found');
    main.replaceChildren(h('h1', {}, 'Page not found'), h('p', {}, h('a', { href: '#/' }, 'Go to the overview')));
    return;
  }
  if (current && current.name === r.name) {
    current.view.update(r.params, r.rest);
    restoreScroll(y);
    return;
  }
  const gen = ++generation;
  const mod = await import(`./views/${r.name}.js`);
  if (gen !== generation) return;
  const first = !current && !navigated;
  main.replaceChildren();
  current = { name: r.name, view: mod.mount(main, ctx, r.params, r.rest) };
  navigated = true;
  restoreScroll(y);
  // a new view moves the focus to its heading (screen readers hear where they are), except on page load
  const h1 = main.querySelector('h1');
  if (!first && h1) { h1.tabIndex = -1; h1.focus(); }
}

function showFreshness() {
  const s = data.mode.snapshot;
  if (!s) { fresh.replaceChildren(); return; }
  const now = Date.now() / 1000;
  const age = s.createdUnix != null ? now - s.createdUnix : null;
  const items = [h('span', {}, icon('clock'), ' Snapshot taken at ', h('time', { datetime: s.created }, fmtTime(s.createdUnix)),
    age !== null ? ` (${fmtAge(age)})` : '', ` · ${num(s.rows)} results`)];
  if (data.mode.name === 'static') items.push(h('span.tag', {}, 'Static copy: filtering runs in your browser'));
  else if (data.mode.engine === 'browser-whole') items.push(h('span.tag', {}, 'Query server unavailable: filtering runs in your browser'));
  const warnings = [];
  if (s.cronPeriodSeconds && age !== null && age > 2 * s.cronPeriodSeconds) {
    warnings.push(`Stale: older than twice the snapshot period (${fmtAge(2 * s.cronPeriodSeconds).replace(' ago', '')}).`);
  }
  for (const src of s.sources || []) if (!src.up) warnings.push(`Source ${src.name} was down at the last snapshot.`);
  if (s.noCrds) warnings.push('The cluster has no PolicyReport CRDs.');
  if (s.warnings) items.push(h('span.muted', {}, ` · ${num(s.warnings)} input problems skipped`));
  fresh.replaceChildren(h('p', {}, items), warnings.length ? notice('warn', warnings.join(' ')) : '');
  fresh.classList.toggle('stale', warnings.length > 0);
}

function pollSeconds() {
  const q = new URLSearchParams(location.search).get('poll');
  const v = q !== null ? q : localStorage.getItem(POLL_KEY);
  const n = v === null ? 60 : Number(v);
  return Number.isFinite(n) && n >= 0 ? n : 60;
}

function schedulePoll() {
  clearTimeout(pollTimer);
  const s = pollSeconds();
  const sel = document.getElementById('poll');
  if (sel) sel.value = [0, 15, 60, 300].includes(s) ? String(s) : sel.value;
  if (s > 0) pollTimer = setTimeout(poll, s * 1000);
}

async function poll() {
  if (document.hidden) return schedulePoll(); // a background tab costs the edge box nothing
  try {
    if (await data.pollSnapshot()) {
      summaryCache = null;
      if (current) current.view.refresh();
      ctx.announce('A new snapshot was loaded.');
    }
  } catch (e) {
    if (e.status === 401) askToken(e.message);
  }
  showFreshness();
  schedulePoll();
}

function askToken(message) {
  clearTimeout(pollTimer);
  current = null;
  ctx.title('Sign in');
  const input = h('input', { id: 'token', type: 'password', autocomplete: 'off', required: true, spellcheck: 'false' });
  main.replaceChildren(h('h1', {}, 'This polsnap server needs an access token'),
    data.token() ? notice('error', 'The token was refused: ', message || 'unauthorized') : '',
    h('form.token', {
      onsubmit: (ev) => {
        ev.preventDefault();
        data.setToken(input.value.trim());
        start();
      },
    }, h('label', { for: 'token' }, 'Bearer token'), input, h('button', { type: 'submit' }, icon('key'), 'Use token')),
    h('p.muted', {}, 'The token stays in this tab only (session storage) and is sent as an Authorization header.'));
  input.focus();
  showTokenButton();
}

function showTokenButton() {
  const b = document.getElementById('forget');
  b.hidden = !data.token();
}

function setupChrome() {
  data.mode.changed = showFreshness;
  const themeBtn = document.getElementById('theme');
  const names = ['auto', 'light', 'dark'];
  const paint = () => {
    const t = localStorage.getItem(THEME_KEY) || 'auto';
    if (t === 'auto') delete document.documentElement.dataset.theme;
    else document.documentElement.dataset.theme = t;
    themeBtn.replaceChildren(icon(t === 'auto' ? 'auto' : t === 'light' ? 'sun' : 'moon'), h('span', {}, `Theme: ${t}`));
  };
  themeBtn.addEventListener('click', () => {
    const t = localStorage.getItem(THEME_KEY) || 'auto';
    localStorage.setItem(THEME_KEY, names[(names.indexOf(t) + 1) % 3]);
    paint();
  });
  paint();
  const sel = document.getElementById('poll');
  sel.addEventListener('change', () => {
    localStorage.setItem(POLL_KEY, sel.value);
    schedulePoll();
  });
  document.getElementById('forget').addEventListener('click', () => {
    data.setToken(null);
    start();
  });
  document.getElementById('skip').addEventListener('click', (ev) => {
    ev.preventDefault();
    main.focus();
  });
  window.addEventListener('hashchange', () => { if (data.mode.snapshot) route(); });
  history.scrollRestoration = 'manual';
  window.addEventListener('scroll', () => { positions.set(entry, window.scrollY); }, { passive: true });
  setInterval(showFreshness, 30000);
}

async function start() {
  showTokenButton();
  main.replaceChildren(loading('Looking for the snapshot…'));
  try {
    await data.detect();
  } catch (e) {
    if (e.status === 401) return askToken(e.message);
    main.replaceChildren(h('h1', {}, 'No data'), errorBox(e),
      h('p', {}, h('button', { type: 'button', onclick: start }, 'Try again')));
    clearTimeout(pollTimer);
    if (pollSeconds() > 0) pollTimer = setTimeout(start, pollSeconds() * 1000);
    return;
  }
  document.documentElement.dataset.mode = data.mode.name;
  current = null;
  showFreshness();
  schedulePoll();
  route();
}

setupChrome();
start();
