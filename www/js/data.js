// data.js - where the dashboard's numbers come from: the polsnap API, or a static copy answered in the browser.
// Also the results view's state: what the URL holds and how it becomes an API request.

import { fold, API_STATUSES } from './ui.js';

const TOKEN_KEY = 'polsnap.token';

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

// engine: 'server', 'browser' (static copy) or 'browser-whole' (API without its query server); changed() is
// called when the engine switches, so that the page can say so
export const mode = { name: null, engine: null, snapshot: null, etag: null, changed: null, pointer: false };
let worker = null;
let engineArgs = null;
let calls = 0;
const waiting = new Map();

export function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function setToken(t) {
  if (t) sessionStorage.setItem(TOKEN_KEY, t);
  else sessionStorage.removeItem(TOKEN_KEY);
}

function headers(extra) {
  const h = { Accept: 'application/json', ...extra };
  const t = token();
  if (t) h.Authorization = 'Bearer ' + t;
  return h;
}

async function errorOf(res) {
  let msg = `${res.status} ${res.statusText}`.trim();
  let json = false;
  try {
    const body = await res.json();
    if (body && typeof body.message === 'string') { msg = body.message; json = true; }
  } catch { /* not the API's error format */ }
  return Object.assign(new ApiError(res.status, msg), { json });
}

async function getJSON(url) {
  const res = await fetch(url, { headers: headers(), cache: 'no-cache' });
  if (!res.ok) throw await errorOf(res);
  return res.json();
}

function isSnapshot(s) {
  return s && typeof s === 'object' && typeof s.id === 'string';
}

// The API answers v1/snapshot; a static copy has data/v1/snapshot.json. Relative URLs keep a sub-path working.
export async function detect() {
  mode.name = null;
  try {
    const res = await fetch('v1/snapshot', { headers: headers(), cache: 'no-store' });
    if (!res.ok) {
      // an answer in the API's error format means the API is here (e.g. 503: no snapshot yet; 401); an object
      // store's XML 403 is a bucket hiding which keys are missing (S3 without s3:ListBucket)
      const e = await errorOf(res);
      const bucket = /xml/.test(res.headers.get('Content-Type') || '');
      if (e.json || (!bucket && (e.status === 401 || e.status === 403))) throw e;
    } else {
      const s = await res.json().catch(() => null);
      if (isSnapshot(s)) {
        mode.name = 'api';
        mode.engine = 'server';
        mode.etag = res.headers.get('ETag');
        mode.snapshot = s;
        return s;
      }
    }
  } catch (e) {
    if (e instanceof ApiError) throw e;
  }
  let s = await getJSON('data/v1/snapshot.json').catch(() => null);
  if (!isSnapshot(s)) s = await followPointer(await getJSON(POINTER).catch(() => null));
  if (!isSnapshot(s)) throw new ApiError(0, 'No snapshot found: neither v1/snapshot (API), data/v1/snapshot.json (static copy) nor data/current.json (bucket) answered.');
  mode.name = 'static';
  mode.snapshot = s;
  mode.engine = 'browser';
  useLocalEngine(staticBase, 'shards');
  return s;
}

// A bucket (polsnap-snapshot --publish) keeps each snapshot under data/ID/, which never changes, and names the
// newest in the pointer data/current.json ({id, base: "ID/"}), written last: following it never mixes two.
const POINTER = 'data/current.json';
let staticBase = 'data/';

async function followPointer(p) {
  if (!p || typeof p.base !== 'string' || !/^[0-9A-Za-z._-]+\/$/.test(p.base)) return null;
  const s = await getJSON('data/' + p.base + 'v1/snapshot.json').catch(() => null);
  if (isSnapshot(s)) {
    mode.pointer = true;
    staticBase = 'data/' + p.base;
  }
  return s;
}

// The snapshot poll: a conditional GET of a tiny document; true when a new snapshot was published.
export async function pollSnapshot() {
  const url = mode.name === 'api' ? 'v1/snapshot' : mode.pointer ? POINTER : 'data/v1/snapshot.json';
  const res = await fetch(url, { headers: headers(mode.etag ? { 'If-None-Match': mode.etag } : {}), cache: 'no-store' });
  if (res.status === 304) return false;
  if (!res.ok) throw await errorOf(res);
  const body = await res.json();
  const s = mode.pointer ? await followPointer(body) : body;
  if (!isSnapshot(s)) throw new ApiError(0, `${url} is not a snapshot document`);
  mode.etag = res.headers.get('ETag');
  const changed = s.id !== mode.snapshot.id;
  mode.snapshot = s;
  if (changed && mode.pointer) useLocalEngine(staticBase, 'shards');
  else if (changed && worker) call('init', engineArgs);
  return changed;
}

// The in-browser engine (a worker) starts on the first query that needs it, not before the first view.
function useLocalEngine(path, layout) {
  engineArgs = { base: new URL(path, location.href).href, layout, headers: headers() };
  if (worker) call('init', engineArgs);
}

function call(op, args, progress) {
  if (!worker) {
    worker = new Worker(new URL('./static-worker.js', import.meta.url), { type: 'module' });
    worker.onmessage = ({ data }) => {
      const w = waiting.get(data.id);
      if (!w) return;
      if (data.progress) { if (w.progress) w.progress(data.progress); return; }
      waiting.delete(data.id);
      if (data.ok) w.resolve(data.result);
      else w.reject(new ApiError(data.status, data.message));
    };
    worker.onerror = (e) => {
      for (const w of waiting.values()) w.reject(new ApiError(0, 'the in-browser query engine failed: ' + e.message));
      waiting.clear();
    };
    if (op !== 'init' && engineArgs) call('init', engineArgs);
  }
  const id = ++calls;
  return new Promise((resolve, reject) => {
    waiting.set(id, { resolve, reject, progress });
    worker.postMessage({ id, op, args });
  });
}

// An unfiltered endpoint: a file in either mode (API: lighttpd serves it without the query server).
export function unfiltered(path) {
  return getJSON(mode.name === 'api' ? 'v1/' + path : staticBase + 'v1/' + path + '.json');
}

// The summary (of the rows qs selects, when given), grouped the way the filters match: entries whose namespace, policy, rule or source differ only
// in case (ASCII) are one entry under the first spelling (spellings lists them all), so that a count equals
// what its link's filter selects.
export async function summary(qs) {
  const s = !qs ? await unfiltered('summary')
    : mode.engine === 'server' ? await getJSON('v1/summary?' + qs) : await call('summary', { qs });
  const policies = foldBy(s.policies, 'policy', (had, e) => {
    if (had.scope !== e.scope) had.scope = 'both';
    had.rules = [...had.rules, ...e.rules];
  });
  for (const p of policies) p.rules = foldBy(p.rules, 'rule');
  return { ...s, namespaces: foldBy(s.namespaces, 'namespace'), sources: foldBy(s.sources, 'source'), policies };
}

function foldBy(list, key, merge) {
  const out = new Map();
  for (const e of list) {
    const k = e[key] === null ? null : fold(e[key]);
    const had = out.get(k);
    if (!had) {
      out.set(k, { ...e, spellings: e[key] === null ? [] : [e[key]] });
      continue;
    }
    for (const st of API_STATUSES) had[st] = (had[st] || 0) + (e[st] || 0);
    if (e.failSeverity) {
      had.failSeverity = { ...had.failSeverity };
      for (const [v, n] of Object.entries(e.failSeverity)) had.failSeverity[v] = (had.failSeverity[v] || 0) + n;
    }
    if (!had.spellings.includes(e[key])) had.spellings.push(e[key]);
    if (merge) merge(had, e);
  }
  return [...out.values()];
}

// {items, count} for scope 'namespaced' | 'cluster' and a query string built by apiQuery().
export async function results(scope, qs, progress) {
  if (mode.engine === 'server') {
    try {
      return await getJSON(`v1/${scope}-resources/results?${qs}`);
    } catch (e) {
      // Without the FastCGI query server lighttpd has no answer in our error format: filter in the browser.
      if (e.json || !(e.status === 404 || e.status >= 500)) throw e;
      mode.engine = 'browser-whole';
      useLocalEngine('./', 'whole');
      if (mode.changed) mode.changed();
    }
  }
  return call('results', { scope, qs }, progress);
}

// The detailed representation when the API has it; else the summary row found in the snapshot's files.
export async function detail(id, scope, namespace) {
  if (mode.name === 'api') {
    try {
      return { detailed: true, row: await getJSON('v1/results/' + encodeURIComponent(id)) };
    } catch (e) {
      if (e.status === 404 && e.json) return null; // the API says: no such result in this snapshot
      if (e.json || !(e.status === 404 || e.status >= 500)) throw e; // else: no detail endpoint here
    }
  }
  if (!engineArgs) useLocalEngine('./', 'whole');
  const found = await call('find', { id, scope, namespace });
  return found ? { detailed: false, scope: found.scope, row: found.row } : null;
}

// The snapshot's changes since the previous one ({previous, new, resolved}), when the query server can
// select them (a static copy's rows do not say which are new); else null.
export function changes() {
  const c = mode.snapshot && mode.snapshot.changes;
  return mode.engine === 'server' && c && c.previous ? c : null;
}

// The ids of the rows of new findings in a scope (at most 1000, once per snapshot): the "new" marker.
const newIdsCache = new Map();
export function newIds(scope) {
  const c = changes();
  if (!c || !c.new) return Promise.resolve(new Set());
  const key = mode.snapshot.id + ':' + scope;
  if (!newIdsCache.has(key)) {
    newIdsCache.set(key, results(scope, 'query=' + encodeURIComponent('Change:"new"') + '&pagination.limit=1000')
      .then((p) => new Set(p.items.map((r) => r.id)), () => new Set()));
  }
  return newIdsCache.get(key);
}

// A snapshot id (20261125T153000.123456Z) as Unix seconds.
export function snapshotTime(id) {
  const m = /^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)/.exec(id || '');
  return m ? Date.UTC(+m[1], m[2] - 1, +m[3], +m[4], +m[5], +m[6]) / 1000 : null;
}

// The whole filtered view of the scopes as a Blob (all pages), CSV or JSON; filters is the view's filter line.
export async function exportBlob(scopes, qs, format, filters, progress) {
  const meta = { snapshot: { id: mode.snapshot.id, created: mode.snapshot.created }, scopes, filters, query: qs };
  if (mode.engine !== 'server') return call('export', { scopes, qs, format, meta }, progress);
  return call('exportApi', { base: new URL('.', location.href).href, headers: headers(), scopes, qs, format, meta }, progress);
}

// ---- the results view's state, as the URL holds it ----

export const FILTERS = [
  { key: 'status', param: 'status', field: 'Status', label: 'Status' },
  { key: 'severity', param: 'severities', field: 'Severity', label: 'Severity' },
  { key: 'namespace', param: 'namespaces', field: 'Namespace', label: 'Namespace' },
  { key: 'source', param: 'sources', field: 'Source', label: 'Source' },
  { key: 'kind', param: 'kinds', field: 'Kind', label: 'Kind' },
  { key: 'resource', param: 'resources', field: 'Resource', label: 'Resource' },
  { key: 'policy', param: 'policies', field: 'Policy', label: 'Policy' },
  { key: 'rule', param: null, field: 'Rule', label: 'Rule' },
  { key: 'category', param: 'categories', field: 'Category', label: 'Category' },
  { key: 'change', param: null, field: 'Change', label: 'Change' },
];
// Report label filters (spec section 12): "key:value" strings, sent as labels=; the URL holds them as label=.
// Only the query server answers them (a static copy's rows do not carry their reports' labels).
export function labelsSupported() {
  return mode.engine === 'server';
}

// Every label key of the snapshot's reports with its values, sorted: Map key -> [values].
let labelCache = null;
export function labelOptions() {
  const key = mode.snapshot && mode.snapshot.id;
  if (!labelCache || labelCache.key !== key) {
    const lists = ['policy-reports', 'cluster-policy-reports'].map((p) => unfiltered(p).then((r) => r.items, () => []));
    labelCache = { key, p: Promise.all(lists).then((all) => {
      const m = new Map();
      for (const rep of all.flat()) {
        for (const [k, v] of Object.entries(rep.labels || {})) {
          if (!m.has(k)) m.set(k, new Set());
          m.get(k).add(v);
        }
      }
      const byCode = (a, b) => (a < b ? -1 : a > b ? 1 : 0);
      return new Map([...m.keys()].sort(byCode).map((k) => [k, [...m.get(k)].sort(byCode)]));
    }) };
  }
  return labelCache.p;
}

export const SORT_FIELDS = ['Status', 'Severity', 'Namespace', 'Kind', 'Resource', 'Policy', 'Rule', 'Message',
  'Category', 'Source', 'Timestamp'];
export const PAGE_SIZES = [10, 25, 50, 100, 250, 500];

// URL params -> state. Without a status parameter the view shows failing results (the default view);
// "status=" (empty) means every status. Without a scope parameter (or with both=1) the view counts both
// scopes (its total is what a count of both, like the overview's status cards, links to) and shows the
// namespaced tab (or the scope given); scope=namespaced|cluster alone counts that scope only.
export function readState(params) {
  const st = { scope: params.get('scope') === 'cluster' ? 'cluster' : 'namespaced',
    both: !params.has('scope') || params.get('both') === '1', filters: {}, not: new Set(),
    search: params.get('search') || '', sort: null, desc: params.get('desc') === '1', page: 1, size: 50,
    group: params.get('group') === 'resource' };
  for (const f of FILTERS) st.filters[f.key] = params.getAll(f.key).filter((v) => v !== '');
  st.labels = params.getAll('label').filter((v) => v.includes(':'));
  if (!params.has('status')) st.filters.status = ['fail'];
  for (const k of (params.get('not') || '').split(',')) if (st.filters[k]) st.not.add(k);
  if (SORT_FIELDS.includes(params.get('sort'))) st.sort = params.get('sort');
  const page = Number(params.get('page'));
  if (Number.isInteger(page) && page >= 1) st.page = page;
  const size = Number(params.get('size'));
  if (PAGE_SIZES.includes(size)) st.size = size;
  return st;
}

export function writeState(st) {
  const p = new URLSearchParams();
  if (!st.both || st.scope !== 'namespaced') p.set('scope', st.scope);
  if (st.both && st.scope !== 'namespaced') p.set('both', '1');
  for (const f of FILTERS) {
    const vs = st.filters[f.key] || [];
    if (f.key === 'status' && !vs.length) p.set('status', '');
    for (const v of vs) p.append(f.key, v);
  }
  for (const l of st.labels || []) p.append('label', l);
  const not = [...st.not].filter((k) => (st.filters[k] || []).length);
  if (not.length) p.set('not', not.join(','));
  if (st.search) p.set('search', st.search);
  if (st.sort) p.set('sort', st.sort);
  if (st.sort && st.desc) p.set('desc', '1');
  if (st.page > 1) p.set('page', String(st.page));
  if (st.size !== 50) p.set('size', String(st.size));
  if (st.group) p.set('group', 'resource');
  return p;
}

const enc = encodeURIComponent;
const exact = (v) => `"${v}"`;

// State -> the API's query string. Negation, rules and "no severity" need query= (StackRox syntax):
// values OR within a term, terms AND-ed, so "none of a, b" is one negated term per value.
export function apiQuery(st, { offset, limit } = {}) {
  const parts = [];
  const terms = [];
  for (const f of FILTERS) {
    const vs = st.filters[f.key] || [];
    if (!vs.length) continue;
    const none = f.key === 'severity' && vs.includes('none');
    const named = vs.filter((v) => !(f.key === 'severity' && v === 'none'));
    if (st.not.has(f.key)) {
      for (const v of named) terms.push(`${f.field}:!${exact(v)}`);
      if (none) terms.push(`${f.field}:*`);
    } else if (f.param && !none) {
      for (const v of vs) parts.push(`${f.param}=${enc(v)}`);
    } else {
      terms.push(`${f.field}:` + [...named.map(exact), ...(none ? ['!*'] : [])].join(','));
    }
  }
  for (const l of st.labels || []) parts.push('labels=' + enc(l));
  if (st.search) parts.push('contains=' + enc(st.search)); // the search box: a substring (spec section 11)
  if (terms.length) parts.push('query=' + enc(terms.join('+')));
  if (st.sort) {
    parts.push('pagination.sortOption.field=' + st.sort);
    parts.push('pagination.sortOption.reversed=' + (st.desc ? 'true' : 'false'));
  }
  if (limit) parts.push(`pagination.limit=${limit}`, `pagination.offset=${offset || 0}`);
  return parts.join('&');
}
