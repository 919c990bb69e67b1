// static-worker.js - answers result queries in the browser when no query server exists, off the main thread.
// It reads the snapshot's per-namespace shards (a --site directory) or, behind an API without its query
// server, the unfiltered results files; it loads only the shards a request needs and holds a bounded cache.
import { parseParams, matcher, comparator, cmpStr, fold, CSV_HEADER, csvRows } from './rows.js';

const CACHE_ROWS = 400000; // parsed rows kept across requests (least recently used shards go first)
const KEEP_MATCHES = 500000; // a sorted match list this small is kept so that paging is instant
const PARALLEL = 4;
const NONE = '\u0000none'; // the shard of namespaced rows without a namespace; sorts first (nulls first)

let cfg = null; // {base, layout: 'shards'|'whole', summary, namespaces}
let shardCache = new Map(); // shard -> rows, in recency order
let cachedRows = 0;
let lastMatches = null; // {key, rows}

function shardUrl(scope, shard) {
  if (cfg.layout === 'whole') return cfg.base + `v1/${scope}-resources/results`;
  if (scope === 'cluster') return cfg.base + 'shards/cluster.json';
  return cfg.base + 'shards/namespaced/' + (shard === NONE ? '_none' : encodeURIComponent(shard)) + '.json';
}

async function fetchJSON(url, missingOk) {
  const res = await fetch(url, { cache: 'no-cache', headers: cfg.headers });
  if (missingOk && res.status === 404) return null;
  if (!res.ok) throw Object.assign(new Error(`${url}: HTTP ${res.status}`), { status: res.status });
  return res.json();
}

async function loadShard(scope, shard) {
  const key = scope + '/' + shard;
  const hit = shardCache.get(key);
  if (hit) {
    shardCache.delete(key);
    shardCache.set(key, hit);
    return hit;
  }
  const doc = await fetchJSON(shardUrl(scope, shard), shard === NONE);
  const rows = doc === null ? [] : doc.items;
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

// Shards in the default order's namespace order; a namespace filter narrows them without loading any.
function shardsFor(scope, p) {
  if (cfg.layout === 'whole' || scope === 'cluster') return ['all'];
  const want = p.filters.get('namespace');
  const names = want ? cfg.namespaces.filter((ns) => want.has(fold(ns))) : cfg.namespaces;
  return want ? names : [NONE, ...names];
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
  const e = cfg.summaryByNs && cfg.summaryByNs.get(shard);
  if (!e) return null;
  const st = p.filters.get('status');
  return (st ? [...st] : ['pass', 'fail', 'warn', 'error', 'skip']).reduce((n, s) => n + (e[s] || 0), 0);
}

async function results(scope, qs, progress) {
  const p = parseParams(qs);
  await loadMeta();
  const match = matcher(p);
  const shards = shardsFor(scope, p);
  const limit = Number.isFinite(p.limit) ? p.limit : Infinity;
  const onlyCounted = scope === 'namespaced' && cfg.layout === 'shards' && !p.sort && !p.search &&
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
  if (scope === 'namespaced' && namespace !== undefined) tries.push(['namespaced', [namespace === null ? NONE : namespace]]);
  else if (scope === 'cluster') tries.push(['cluster', ['all']]);
  else tries.push(['cluster', ['all']], ['namespaced', shardsFor('namespaced', parseParams(''))]);
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

async function exportRows(scope, qs, format, meta, progress) {
  const { items, count } = await results(scope, qs, progress);
  const parts = [];
  if (format === 'csv') {
    parts.push(CSV_HEADER);
    for (let i = 0; i < items.length; i += 5000) parts.push(csvRows(items.slice(i, i + 5000)));
    return new Blob(parts, { type: 'text/csv' });
  }
  parts.push(JSON.stringify(meta).slice(0, -1) + `,"count":${count},"items":[`);
  for (let i = 0; i < items.length; i += 5000) {
    parts.push((i ? ',' : '') + items.slice(i, i + 5000).map((r) => JSON.stringify(r)).join(','));
  }
  parts.push(']}\n');
  return new Blob(parts, { type: 'application/json' });
}

// The namespace list and the summary, fetched once per snapshot and only by a query that needs them.
function loadMeta() {
  if (!cfg.meta) {
    cfg.meta = Promise.all([fetchJSON(cfg.base + 'v1/namespaces.json'), fetchJSON(cfg.base + 'v1/summary.json', true)])
      .then(([namespaces, summary]) => {
        cfg.namespaces = [...namespaces].sort(cmpStr);
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
    cfg = { base, layout, headers, namespaces: [], summaryByNs: null, meta: layout === 'shards' ? null : Promise.resolve() };
    shardCache = new Map();
    cachedRows = 0;
    lastMatches = null;
    return true;
  },
  results: ({ scope, qs }, progress) => results(scope, qs, progress),
  find: ({ id, scope, namespace }) => find(id, scope, namespace),
  export: ({ scope, qs, format, meta }, progress) => exportRows(scope, qs, format, meta, progress),
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
