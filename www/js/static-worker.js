// static-worker.js - answers result queries in the browser when no query server exists, off the main thread.
// It reads the snapshot's per-namespace shards (a --site directory) or, behind an API without its query
// server, the unfiltered results files; it loads only the shards a request needs and holds a bounded cache.
import { parseParams, matcher, comparator, fold, cmpStr, CSV_HEADER, csvRows } from './rows.js';

const CACHE_ROWS = 400000; // parsed rows kept across requests (least recently used shards go first)
const KEEP_MATCHES = 500000; // a sorted match list this small is kept so that paging is instant
const PARALLEL = 8;
const WHOLE = { namespace: undefined, file: null, count: null }; // one file of every row of a scope

let cfg = null; // {base, layout: 'shards'|'whole', shards: [{namespace, file, count}], cluster, summaryByNs}
let shardCache = new Map(); // shard -> rows, in recency order
let cachedRows = 0;
let lastMatches = null; // {key, rows}

function shardUrl(scope, shard) {
  if (shard === WHOLE) return cfg.base + `v1/${scope}-resources/results` + (cfg.layout === 'whole' ? '' : '.json');
  return cfg.base + 'shards/' + shard.file.split('/').map(encodeURIComponent).join('/');
}

async function fetchJSON(url, missingOk = false) {
  const res = await fetch(url, { cache: 'no-cache', headers: cfg.headers });
  if (missingOk && res.status === 404) return null;
  if (!res.ok) throw Object.assign(new Error(`${url}: HTTP ${res.status}`), { status: res.status });
  return res.json();
}

async function loadShard(scope, shard) {
  const key = scope + '/' + (shard.file || 'whole');
  const hit = shardCache.get(key);
  if (hit) {
    shardCache.delete(key);
    shardCache.set(key, hit);
    return hit;
  }
  const doc = await fetchJSON(shardUrl(scope, shard));
  const rows = doc && doc.items;
  if (!Array.isArray(rows)) throw new Error(`${shardUrl(scope, shard)}: no items array`);
  shardCache.set(key, rows);
  cachedRows += rows.length;
  for (const [k, v] of shardCache) {
    if (cachedRows <= CACHE_ROWS || k === key) break;
    shardCache.delete(k);
    cachedRows -= v.length;
  }
  return rows;
}

// Shards in the default order (shards/index.json lists them so); a namespace filter narrows them unloaded.
function shardsFor(scope, p) {
  if (cfg.layout === 'whole') return [WHOLE];
  if (scope === 'cluster') return [cfg.cluster];
  const want = p.filters.get('namespace');
  return want ? cfg.shards.filter((e) => e.namespace !== null && want.has(fold(e.namespace))) : cfg.shards;
}

// Loads shards with a few fetches in flight, handing each to fn in order.
async function eachShard(scope, shards, fn, progress) {
  const pending = [];
  let next = 0;
  const launch = () => { if (next < shards.length) pending.push(loadShard(scope, shards[next++])); };
  for (let i = 0; i < PARALLEL; i++) launch();
  for (let i = 0; i < shards.length; i++) {
    const rows = await pending.shift();
    launch();
    if (fn(rows, shards[i]) === false) return;
    if (progress && (i % 20 === 19 || i === shards.length - 1)) progress(i + 1, shards.length);
  }
}

// Per-namespace counts from the summary answer "status and namespace only" requests without loading rows.
function summaryCount(shard, p) {
  const st = p.filters.get('status');
  if (!st) return shard.count;
  const e = shard.namespace !== null && cfg.summaryByNs && cfg.summaryByNs.get(shard.namespace);
  return e ? [...st].reduce((n, s) => n + (e[s] || 0), 0) : null;
}

async function results(scope, qs, progress) {
  const p = parseParams(qs);
  await loadMeta();
  const match = matcher(p);
  const shards = shardsFor(scope, p);
  const limit = Number.isFinite(p.limit) ? p.limit : Infinity;
  const onlyCounted = scope === 'namespaced' && cfg.layout === 'shards' && !p.sort && !p.search && !p.contains &&
    !p.terms.length && [...p.filters.keys()].every((k) => k === 'status' || k === 'namespace');
  if (onlyCounted) {
    // Default order, counts known per shard: skip whole shards up to the offset, load just the page's.
    const order = p.reversed ? [...shards].reverse() : shards;
    const counts = [];
    for (const s of order) {
      let c = summaryCount(s, p);
      if (c === null) c = (await loadShard(scope, s)).filter(match).length;
      counts.push(c);
    }
    const count = counts.reduce((a, b) => a + b, 0);
    const items = [];
    let skip = p.offset;
    for (let i = 0; i < order.length && items.length < limit; i++) {
      if (skip >= counts[i]) { skip -= counts[i]; continue; }
      let rows = (await loadShard(scope, order[i])).filter(match);
      if (p.reversed) rows = rows.reverse();
      const take = rows.slice(skip, skip + (limit - items.length));
      skip = 0;
      items.push(...take);
    }
    return { items, count };
  }
  const key = scope + '?' + qs.replace(/(^|&)pagination\.(limit|offset)=[^&]*/g, '');
  let matches;
  if (lastMatches && lastMatches.key === key) {
    matches = lastMatches.rows;
  } else {
    matches = [];
    await eachShard(scope, shards, (rows) => {
      for (const r of rows) if (match(r)) matches.push(r);
    }, progress);
    const cmp = comparator(p);
    if (cmp) matches.sort(cmp);
    if (p.reversed) matches.reverse();
    lastMatches = matches.length <= KEEP_MATCHES ? { key, rows: matches } : null;
  }
  const end = limit === Infinity ? matches.length : p.offset + limit;
  return { items: matches.slice(p.offset, end), count: matches.length };
}

async function find(id, scope, namespace) {
  await loadMeta();
  const tries = [];
  const all = (sc) => shardsFor(sc, parseParams(''));
  if (scope === 'namespaced' && namespace !== undefined && cfg.layout === 'shards') {
    tries.push(['namespaced', cfg.shards.filter((e) => e.namespace === namespace)]);
  } else if (scope) tries.push([scope, all(scope)]);
  else tries.push(['cluster', all('cluster')], ['namespaced', all('namespaced')]);
  for (const [sc, shards] of tries) {
    let found = null;
    await eachShard(sc, shards, (rows) => {
      found = rows.find((r) => r.id === id) || null;
      return found === null;
    });
    if (found) return { scope: sc, row: found };
  }
  return null;
}

// CSV or JSON of every row of each scope's batches; batches(scope, state) yields arrays of rows and sets the
// scope's count. CSV: one table, the scope in its first column. JSON: meta and {count, items} per scope.
async function exportBlob(format, meta, scopes, batches) {
  const parts = format === 'csv' ? [CSV_HEADER] : [JSON.stringify(meta).slice(0, -1)];
  for (const scope of scopes) {
    const state = { count: 0 };
    let first = true;
    if (format === 'json') parts.push(`,${JSON.stringify(scope)}:{"items":[`);
    for await (const rows of batches(scope, state)) {
      for (let i = 0; i < rows.length; i += 5000) {
        const slice = rows.slice(i, i + 5000);
        if (format === 'csv') parts.push(csvRows(slice, scope));
        else if (slice.length) { parts.push((first ? '' : ',') + slice.map((r) => JSON.stringify(r)).join(',')); first = false; }
      }
    }
    if (format === 'json') parts.push(`],"count":${state.count}}`);
  }
  if (format === 'csv') return new Blob(parts, { type: 'text/csv' });
  return new Blob([...parts, '}\n'], { type: 'application/json' });
}

function exportLocal(scopes, qs, format, meta, progress) {
  return exportBlob(format, meta, scopes, async function* (scope, state) {
    const { items, count } = await results(scope, qs, progress);
    state.count = count;
    yield items;
  });
}

// Behind the API the worker pages through the query server, so that a million rows never block the page.
function exportApi(base, headers, scopes, qs, format, meta, progress) {
  const page = async (scope, offset) => {
    const url = `${base}v1/${scope}-resources/results?${qs}${qs ? '&' : ''}pagination.limit=1000&pagination.offset=${offset}`;
    const res = await fetch(url, { headers, cache: 'no-cache' });
    if (!res.ok) {
      let msg = `HTTP ${res.status}`;
      try { msg = (await res.json()).message || msg; } catch { /* not the API's error format */ }
      throw Object.assign(new Error(msg), { status: res.status });
    }
    return res.json();
  };
  return exportBlob(format, meta, scopes, async function* (scope, state) {
    const first = await page(scope, 0);
    state.count = first.count;
    yield first.items;
    // the count is known now: keep a few pages in flight, in order
    const offsets = [];
    for (let o = 1000; o < first.count; o += 1000) offsets.push(o);
    const inflight = offsets.splice(0, PARALLEL).map((o) => page(scope, o));
    for (let done = 1000; inflight.length; done += 1000) {
      const next = await inflight.shift();
      if (offsets.length) inflight.push(page(scope, offsets.shift()));
      yield next.items;
      progress(Math.min(done + 1000, first.count), first.count);
    }
  });
}

// /v1/summary of the rows qs selects in both scopes, as the query server answers it (api_lists.c).
async function summary(qs) {
  const zero = () => ({ pass: 0, fail: 0, warn: 0, error: 0, skip: 0 });
  const sevs = () => ({ critical: 0, high: 0, medium: 0, low: 0, info: 0, none: 0 });
  const out = { statusSeverity: {}, cluster: zero() };
  for (const s of Object.keys(zero())) out.statusSeverity[s] = sevs();
  const ns = new Map(), pol = new Map(), src = new Map();
  const tally = (m, k, make) => { if (!m.has(k)) m.set(k, make()); return m.get(k); };
  for (const scope of ['namespaced', 'cluster']) {
    for (const r of (await results(scope, qs)).items) {
      out.statusSeverity[r.status][r.severity ?? 'none']++;
      if (scope === 'cluster') out.cluster[r.status]++;
      else if (r.namespace !== null) {
        const n = tally(ns, r.namespace, () => ({ namespace: r.namespace, ...zero(), failSeverity: sevs() }));
        n[r.status]++;
        if (r.status === 'fail') n.failSeverity[r.severity ?? 'none']++;
      }
      if (r.source !== null) tally(src, r.source, () => ({ source: r.source, ...zero() }))[r.status]++;
      const p = tally(pol, r.policy, () => ({ policy: r.policy, scopes: new Set(), ...zero(), rules: new Map() }));
      p.scopes.add(scope);
      p[r.status]++;
      tally(p.rules, r.rule, () => ({ rule: r.rule, ...zero() }))[r.status]++;
    }
  }
  const sorted = (m, k) => [...m.values()].sort((a, b) => cmpStr(a[k], b[k]));
  out.namespaces = sorted(ns, 'namespace');
  out.policies = sorted(pol, 'policy').map(({ scopes, rules, ...p }) => ({
    ...p, scope: scopes.size === 2 ? 'both' : [...scopes][0], rules: sorted(rules, 'rule') }));
  out.sources = sorted(src, 'source');
  return out;
}

// The namespace list and the summary, fetched once per snapshot and only by a query that needs them.
function loadMeta() {
  if (!cfg.meta) {
    cfg.meta = Promise.all([fetchJSON(cfg.base + 'shards/index.json'), fetchJSON(cfg.base + 'v1/summary.json', true)])
      .then(([index, summary]) => {
        if (!index || !Array.isArray(index.namespaced) || !index.cluster) throw new Error('shards/index.json is malformed');
        cfg.shards = index.namespaced;
        cfg.cluster = index.cluster;
        if (summary && Array.isArray(summary.namespaces)) {
          cfg.summaryByNs = new Map(summary.namespaces.filter((e) => e.namespace !== null).map((e) => [e.namespace, e]));
        }
      });
    cfg.meta.catch(() => { cfg.meta = null; });
  }
  return cfg.meta;
}

const ops = {
  init({ base, layout, headers }) {
    cfg = { base, layout, headers, shards: [], cluster: null, summaryByNs: null, meta: layout === 'shards' ? null : Promise.resolve() };
    shardCache = new Map();
    cachedRows = 0;
    lastMatches = null;
    return true;
  },
  results: ({ scope, qs }, progress) => results(scope, qs, progress),
  find: ({ id, scope, namespace }) => find(id, scope, namespace),
  export: ({ scopes, qs, format, meta }, progress) => exportLocal(scopes, qs, format, meta, progress),
  exportApi: ({ base, headers, scopes, qs, format, meta }, progress) => exportApi(base, headers, scopes, qs, format, meta, progress),
  summary: ({ qs }) => summary(qs),
};

self.onmessage = async ({ data }) => {
  const { id, op, args } = data;
  const progress = (done, total) => self.postMessage({ id, progress: { done, total } });
  try {
    self.postMessage({ id, ok: true, result: await ops[op](args, progress) });
  } catch (e) {
    self.postMessage({ id, ok: false, status: e.status || 500, message: e.message || String(e) });
  }
};
