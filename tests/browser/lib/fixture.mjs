// fixture.mjs - synthetic snapshots for the browser tests: rows following the spec's row model, and a static
// site laid out as `polsnap-snapshot --site` writes it (used for scale runs: 100,000 or 1,000,000 results).
import fs from 'node:fs';
import path from 'node:path';

const STATUSES = ['pass', 'fail', 'warn', 'error', 'skip'];
const SEVERITIES = ['critical', 'high', 'medium', 'low', 'info', null];
const KINDS = ['Pod', 'Deployment', 'Service', 'ConfigMap', 'StatefulSet'];
const SOURCES = ['Kyverno', 'Trivy', 'kube-bench'];

function rng(seed) {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    return x / 4294967296;
  };
}

function cmpStr(a, b) {
  if (a === b) return 0;
  if (a === null) return -1;
  if (b === null) return 1;
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}
const ORDER = ['namespace', 'name', 'kind', 'policy', 'rule', 'message', 'id'];
export function cmpDefault(a, b) {
  for (const k of ORDER) { const c = cmpStr(a[k], b[k]); if (c) return c; }
  return 0;
}

// n rows over `namespaces` namespaces; about 1 in 20 rows is cluster-scoped (some about Namespace objects).
export function makeRows(n, { namespaces = 20, policies = 12, seed = 7 } = {}) {
  const r = rng(seed);
  const pick = (a) => a[Math.floor(r() * a.length)];
  const nss = Array.from({ length: namespaces }, (_, i) => `ns-${String(i).padStart(4, '0')}`);
  const pols = Array.from({ length: policies }, (_, i) => `policy-${String.fromCharCode(97 + (i % 26))}${i}`);
  const rows = [];
  for (let i = 0; i < n; i++) {
    const cluster = r() < 0.05;
    const policy = pick(pols);
    const status = r() < 0.45 ? 'pass' : pick(STATUSES);
    const nsObj = cluster && r() < 0.5;
    const ns = cluster ? null : pick(nss);
    rows.push({
      id: 'r' + i.toString(16).padStart(8, '0'),
      namespace: ns,
      kind: nsObj ? 'Namespace' : cluster ? 'ClusterRole' : pick(KINDS),
      name: nsObj ? pick(nss) : `obj-${Math.floor(r() * 5000)}`,
      message: `${policy} says ${status} for item ${i % 97}`,
      category: pick(['Pod Security', 'Best Practices', 'Vulnerability', null]),
      policy,
      rule: `rule-${Math.floor(r() * 3)}`,
      status,
      severity: pick(SEVERITIES),
      source: pick(SOURCES),
      timestamp: 1795620000 + Math.floor(r() * 600),
      properties: r() < 0.3 ? { resultID: String(i), 'note key': 'a,b "c"' } : null,
      _scope: cluster ? 'cluster' : 'namespaced',
    });
  }
  return rows;
}

const zero = () => ({ pass: 0, fail: 0, warn: 0, error: 0, skip: 0 });
const strip = ({ _scope, ...row }) => row;
const uniqSorted = (xs) => [...new Set(xs.filter((x) => x !== null))].sort(cmpStr);

// The summary document (the lead's /v1/summary shape) for rows.
export function summarize(rows) {
  const ss = {};
  for (const s of STATUSES) ss[s] = { critical: 0, high: 0, medium: 0, low: 0, info: 0, none: 0 };
  const ns = new Map(), pol = new Map(), src = new Map();
  const cluster = zero();
  for (const r of rows) {
    ss[r.status][r.severity ?? 'none']++;
    if (r._scope === 'cluster') cluster[r.status]++;
    else if (r.namespace !== null) {
      if (!ns.has(r.namespace)) {
        ns.set(r.namespace, { namespace: r.namespace, ...zero(), failSeverity: { critical: 0, high: 0, medium: 0, low: 0, info: 0, none: 0 } });
      }
      ns.get(r.namespace)[r.status]++;
      if (r.status === 'fail') ns.get(r.namespace).failSeverity[r.severity ?? 'none']++;
    }
    if (r.policy !== null) {
      if (!pol.has(r.policy)) pol.set(r.policy, { policy: r.policy, scopes: new Set(), ...zero(), rules: new Map() });
      const p = pol.get(r.policy);
      p.scopes.add(r._scope);
      p[r.status]++;
      if (!p.rules.has(r.rule)) p.rules.set(r.rule, { rule: r.rule, ...zero() });
      p.rules.get(r.rule)[r.status]++;
    }
    if (r.source !== null) {
      if (!src.has(r.source)) src.set(r.source, { source: r.source, ...zero() });
      src.get(r.source)[r.status]++;
    }
  }
  const byKey = (k) => (a, b) => cmpStr(a[k], b[k]);
  return {
    statusSeverity: ss,
    namespaces: [...ns.values()].sort(byKey('namespace')),
    cluster,
    policies: [...pol.values()].sort(byKey('policy')).map(({ scopes, rules, ...p }) => ({
      policy: p.policy, scope: scopes.size === 2 ? 'both' : [...scopes][0],
      pass: p.pass, fail: p.fail, warn: p.warn, error: p.error, skip: p.skip,
      rules: [...rules.values()].sort(byKey('rule')),
    })),
    sources: [...src.values()].sort(byKey('source')),
  };
}

function write(file, value) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(value));
}

function copyDir(from, to) {
  fs.mkdirSync(to, { recursive: true });
  for (const e of fs.readdirSync(from, { withFileTypes: true })) {
    if (e.isDirectory()) copyDir(path.join(from, e.name), path.join(to, e.name));
    else if (!e.name.endsWith('.png')) fs.copyFileSync(path.join(from, e.name), path.join(to, e.name));
  }
}

// Writes dir/ = www/ + dir/data/ with the snapshot's files, the layout `polsnap-snapshot --site` produces.
export function writeSite(dir, www, rows, meta = {}) {
  copyDir(www, dir);
  const d = path.join(dir, 'data');
  rows = [...rows].sort(cmpDefault);
  const created = meta.createdUnix ?? Math.floor(Date.now() / 1000) - 120;
  write(path.join(d, 'v1/snapshot.json'), {
    id: meta.id ?? `${new Date(created * 1000).toISOString().replace(/[-:]|\.\d+/g, '')}-abcd`,
    created: new Date(created * 1000).toISOString().replace(/\.\d+Z$/, 'Z'), createdUnix: created,
    rows: rows.length, warnings: 0, noCrds: false, cronPeriodSeconds: meta.cronPeriodSeconds ?? 300,
    sources: meta.sources ?? [{ name: 'files:fixture', up: true }],
  });
  write(path.join(d, 'v1/summary.json'), summarize(rows));
  write(path.join(d, 'v1/targets.json'), []);
  write(path.join(d, 'v1/categories.json'), uniqSorted(rows.map((r) => r.category)));
  write(path.join(d, 'v1/namespaces.json'), uniqSorted(rows.filter((r) => r._scope === 'namespaced').map((r) => r.namespace)));
  for (const scope of ['namespaced', 'cluster']) {
    const rs = rows.filter((r) => r._scope === scope);
    const base = path.join(d, `v1/${scope}-resources`);
    write(path.join(base, 'policies.json'), uniqSorted(rs.map((r) => r.policy)));
    write(path.join(base, 'kinds.json'), uniqSorted(rs.map((r) => r.kind)));
    write(path.join(base, 'sources.json'), uniqSorted(rs.map((r) => r.source)));
    const res = new Map();
    for (const r of rs) if (r.kind !== null || r.name !== null) res.set(`${r.kind}\u0000${r.name}`, { kind: r.kind, name: r.name });
    write(path.join(base, 'resources.json'), [...res.values()].sort((a, b) => cmpStr(a.kind, b.kind) || cmpStr(a.name, b.name)));
    if (scope === 'namespaced') {
      const counts = STATUSES.map((s) => {
        const m = new Map();
        for (const r of rs) if (r.status === s && r.namespace !== null) m.set(r.namespace, (m.get(r.namespace) || 0) + 1);
        return { status: s, items: [...m].sort((a, b) => cmpStr(a[0], b[0])).map(([namespace, count]) => ({ namespace, count })) };
      });
      write(path.join(base, 'status-counts.json'), counts);
    } else {
      write(path.join(base, 'status-counts.json'), STATUSES.map((s) => ({ status: s, count: rs.filter((r) => r.status === s).length })));
    }
    if (rows.length <= 200000) write(path.join(base, 'results.json'), { items: rs.map(strip), count: rs.length });
  }
  // shards/index.json as publish.c writes it: DNS-label namespaces name their file, others are numbered
  const shards = [];
  for (const r of rows) {
    if (r._scope !== 'namespaced') continue;
    if (!shards.length || shards[shards.length - 1].namespace !== r.namespace) shards.push({ namespace: r.namespace, items: [] });
    shards[shards.length - 1].items.push(strip(r));
  }
  const index = { namespaced: [], cluster: null };
  shards.forEach(({ namespace, items }, i) => {
    const file = namespace === null ? 'namespaced/_none.json'
      : /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(namespace) ? `namespaced/${namespace}.json` : `namespaced/_ns${i}.json`;
    write(path.join(d, 'shards', file), { items, count: items.length });
    index.namespaced.push({ namespace, file, count: items.length });
  });
  const cl = rows.filter((r) => r._scope === 'cluster').map(strip);
  write(path.join(d, 'shards/cluster.json'), { items: cl, count: cl.length });
  index.cluster = { file: 'cluster.json', count: cl.length };
  write(path.join(d, 'shards/index.json'), index);
  return { rows: rows.map(strip), scopes: rows.map((r) => r._scope) };
}

// Writes rows as PolicyReport / ClusterPolicyReport documents (one report per namespace) for polsnap-snapshot.
export function writeReports(dir, rows) {
  fs.mkdirSync(dir, { recursive: true });
  const reports = new Map();
  for (const r of rows) {
    const key = r._scope === 'cluster' ? 'cluster' : `ns:${r.namespace}`;
    if (!reports.has(key)) reports.set(key, []);
    reports.get(key).push(r);
  }
  let i = 0;
  for (const [key, rs] of reports) {
    const cluster = key === 'cluster';
    const doc = {
      apiVersion: 'wgpolicyk8s.io/v1alpha2', kind: cluster ? 'ClusterPolicyReport' : 'PolicyReport',
      metadata: cluster ? { name: 'cluster-report' } : { name: `report-${rs[0].namespace}`, namespace: rs[0].namespace },
      results: rs.map((r) => ({
        policy: r.policy, rule: r.rule, result: r.status, severity: r.severity ?? undefined, category: r.category ?? undefined,
        source: r.source, message: r.message, timestamp: { seconds: r.timestamp, nanos: 0 },
        properties: { resultID: r.id, ...(r.properties ? { 'note key': r.properties['note key'] } : {}) },
        resources: [{ apiVersion: 'v1', kind: r.kind, name: r.name, ...(cluster ? {} : { namespace: r.namespace }), uid: `uid-${r.id}` }],
      })),
    };
    fs.writeFileSync(path.join(dir, `report-${String(i++).padStart(5, '0')}.json`), JSON.stringify(doc));
  }
}

// An oracle for the few filters the browser tests use, written apart from www/js/rows.js on purpose.
export function queryRows(rows, scopes, { scope = 'namespaced', status = [], namespace = [], policy = [], sort = null, desc = false } = {}) {
  const SORT = { Policy: 'policy', Namespace: 'namespace', Status: 'status', Message: 'message', Resource: 'name' };
  let out = rows.filter((r, i) => scopes[i] === scope && (!status.length || status.includes(r.status)) &&
    (!namespace.length || namespace.includes(r.namespace)) && (!policy.length || policy.includes(r.policy)));
  out.sort((a, b) => (sort ? cmpStr(a[SORT[sort]], b[SORT[sort]]) : 0) || cmpDefault(a, b));
  if (desc) out.reverse();
  return out;
}
