// rows.js - the API's result-list semantics (spec sections 3, 7 and 11) for answering queries in the browser, plus CSV.
// Static hosting mode has no query server, so the worker applies exactly what the FastCGI server would.

// The dashboard's one list of statuses and severities lives in ui.js: the page loads ui.js before
// its first data request and only the worker loads rows.js, so this way round costs the first view
// no extra request.
import { API_STATUSES as STATUSES, SEVERITIES, fold, rfc3339 } from './ui.js';

export { fold };

export const ROW_KEYS = ['id', 'namespace', 'kind', 'name', 'message', 'category', 'policy', 'rule',
  'status', 'severity', 'source', 'timestamp', 'properties'];
const SEV_RANK = { info: 1, low: 2, medium: 3, high: 4, critical: 5 };

// query= field names (lower-cased) -> row keys; Report is not in the summary rows a static site holds.
const QUERY_FIELDS = { namespace: 'namespace', kind: 'kind', resource: 'name', policy: 'policy', rule: 'rule',
  category: 'category', severity: 'severity', status: 'status', source: 'source', message: 'message' };
const SORT_FIELDS = { ...QUERY_FIELDS, timestamp: 'timestamp' };
const FILTER_PARAMS = { sources: 'source', source: 'source', categories: 'category', category: 'category',
  policies: 'policy', policy: 'policy', namespaces: 'namespace', namespace: 'namespace', kinds: 'kind',
  kind: 'kind', resources: 'name', resource: 'name', status: 'status', severities: 'severity',
  severity: 'severity' };
const DEFAULT_ORDER = ['namespace', 'name', 'kind', 'policy', 'rule', 'message', 'id'];

export class BadRequest extends Error {
  constructor(message) { super(message); this.status = 400; }
}

// Byte order of UTF-8 is code-point order; UTF-16 code units agree except surrogates against U+E000..U+FFFF.
export function cmpStr(a, b) {
  if (a === b) return 0;
  if (a === null || a === undefined) return -1;
  if (b === null || b === undefined) return 1;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i), y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800 && y >= 0xd800) {
      x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
      y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
    }
    return x < y ? -1 : 1;
  }
  return a.length - b.length < 0 ? -1 : a.length === b.length ? 0 : 1;
}

function cmpNum(a, b) {
  if (a === b) return 0;
  if (a === null || a === undefined) return -1;
  if (b === null || b === undefined) return 1;
  return a < b ? -1 : 1;
}

export function cmpDefault(a, b) {
  for (const k of DEFAULT_ORDER) {
    const c = cmpStr(a[k], b[k]);
    if (c) return c;
  }
  return 0;
}

// Splits a raw query string without form decoding: '+' is query='s term separator, never a space.
export function splitQueryString(qs) {
  const out = [];
  for (const part of qs.replace(/^\?/, '').split('&')) {
    if (!part) continue;
    const eq = part.indexOf('=');
    const dec = (s) => {
      try { return decodeURIComponent(s); } catch { throw new BadRequest('malformed percent-encoding'); }
    };
    out.push(eq < 0 ? [dec(part), ''] : [dec(part.slice(0, eq)), dec(part.slice(eq + 1))]);
  }
  return out;
}

// One value of a query term: "v" exact, r/RE regex, * any non-null, else a prefix; ! negates.
function parseValue(raw) {
  let v = raw, neg = false;
  if (v.startsWith('!')) { neg = true; v = v.slice(1); }
  if (v === '*') return { neg, test: (x) => x !== null };
  if (v.startsWith('"')) {
    if (v.length < 2 || !v.endsWith('"')) throw new BadRequest(`unterminated quote in query value ${raw}`);
    const want = fold(v.slice(1, -1));
    return { neg, test: (x) => x !== null && fold(x) === want };
  }
  if (v.startsWith('r/')) {
    let re;
    try { re = new RegExp(v.slice(2), 'i'); } catch { throw new BadRequest(`bad regular expression in query value ${raw}`); }
    return { neg, test: (x) => x !== null && re.test(x) };
  }
  const want = fold(v);
  return { neg, test: (x) => x !== null && fold(x).startsWith(want) };
}

export function parseQuery(q) {
  const terms = [];
  for (const t of q.split('+')) {
    if (!t) continue;
    const colon = t.indexOf(':');
    if (colon < 1) throw new BadRequest(`malformed query term ${t}`);
    const field = fold(t.slice(0, colon));
    const key = QUERY_FIELDS[field];
    if (!key) throw new BadRequest(`unknown query field ${t.slice(0, colon)}`);
    const values = t.slice(colon + 1).split(',').filter((v) => v !== '').map(parseValue);
    if (!values.length) throw new BadRequest(`query term ${t} has no values`);
    terms.push({ key, values });
  }
  return terms;
}

function parseCount(name, v, min, max) {
  if (!/^[0-9]+$/.test(v)) throw new BadRequest(`${name} must be a non-negative integer`);
  const n = Number(v);
  if (n < min || n > max) throw new BadRequest(`${name} must be between ${min} and ${max}`);
  return n;
}

// Parses a results request (StackRox-style pagination only: that is all the dashboard sends).
export function parseParams(qs) {
  const p = { filters: new Map(), search: null, contains: null, terms: [], offset: 0, limit: Infinity, sort: null, reversed: false };
  for (const [name, value] of splitQueryString(qs)) {
    const key = FILTER_PARAMS[name];
    if (key) {
      const v = fold(value);
      if (key === 'status' && !STATUSES.includes(v)) throw new BadRequest(`invalid status ${value}: allowed are ${STATUSES.join(', ')}`);
      if (key === 'severity' && !SEVERITIES.includes(v)) throw new BadRequest(`invalid severity ${value}: allowed are ${SEVERITIES.join(', ')}`);
      if (!p.filters.has(key)) p.filters.set(key, new Set());
      p.filters.get(key).add(v);
    } else if (name === 'search') {
      p.search = value === '' ? null : fold(value);
    } else if (name === 'contains') {
      if (new TextEncoder().encode(value).length > 256) throw new BadRequest('contains is longer than 256 bytes');
      p.contains = value === '' ? null : fold(value);
    } else if (name === 'query') {
      p.terms.push(...parseQuery(value));
    } else if (name === 'labels' || name === 'exclude') {
      throw new BadRequest(`${name} needs the polsnap API: a static copy's rows do not carry their reports' labels`);
    } else if (name === 'pagination.limit') {
      p.limit = parseCount(name, value, 1, 1000);
    } else if (name === 'pagination.offset') {
      p.offset = parseCount(name, value, 0, Number.MAX_SAFE_INTEGER);
    } else if (name === 'pagination.sortOption.field') {
      const k = SORT_FIELDS[fold(value)];
      if (!k) throw new BadRequest(`unknown sort field ${value}`);
      p.sort = k;
    } else if (name === 'pagination.sortOption.reversed') {
      if (value !== 'true' && value !== 'false') throw new BadRequest('pagination.sortOption.reversed must be true or false');
      p.reversed = value === 'true';
    }
  }
  return p;
}

export function matcher(p) {
  const filters = [...p.filters];
  const { search, contains, terms } = p;
  const has = (x) => x !== null && fold(x).includes(contains);
  return (row) => {
    for (const [key, set] of filters) {
      const v = row[key];
      if (v === null || !set.has(fold(v))) return false;
    }
    for (const { key, values } of terms) {
      const v = row[key];
      if (!values.some((t) => t.test(v) !== t.neg)) return false;
    }
    if (contains !== null && !(has(row.namespace) || has(row.kind) || has(row.name) || has(row.policy) ||
      has(row.rule) || has(row.message))) return false;
    if (search !== null) {
      const pre = (x) => x !== null && fold(x).startsWith(search);
      if (!(pre(row.namespace) || pre(row.name) || pre(row.policy) || pre(row.rule) ||
        row.severity === search || row.status === search)) return false;
    }
    return true;
  };
}

// The requested order as a comparator, or null for the default order (shards are already in it).
export function comparator(p) {
  if (!p.sort) return null;
  const k = p.sort;
  const first = k === 'timestamp' ? (a, b) => cmpNum(a.timestamp, b.timestamp)
    : k === 'severity' ? (a, b) => cmpNum(SEV_RANK[a.severity] ?? null, SEV_RANK[b.severity] ?? null)
      : (a, b) => cmpStr(a[k], b[k]);
  return (a, b) => first(a, b) || cmpDefault(a, b);
}

function csvCell(v) {
  if (v === null || v === undefined) return '';
  const s = typeof v === 'object' ? JSON.stringify(v) : String(v);
  return /[",\r\n]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
}

// CSV: the scope, then the 13 row fields; the timestamp in RFC 3339 UTC, as the table shows it.
export const CSV_HEADER = ['scope', ...ROW_KEYS].join(',') + '\r\n';

export function csvRows(rows, scope) {
  let out = '';
  for (const r of rows) out += [scope, ...ROW_KEYS.map((k) => (k === 'timestamp' ? rfc3339(r[k]) : r[k]))].map(csvCell).join(',') + '\r\n';
  return out;
}
