// ui.js - DOM building, icons, formatting and the small widgets every view shares.

// The dashboard's one list of statuses: in the API's order (pass, fail, warn, error, skip; the
// worker's rows.js checks filters against it), each with its place when tables, bars and cards
// show the worst first (STATUSES).
const STATUS_RANK = { pass: 3, fail: 0, warn: 2, error: 1, skip: 4 };
export const API_STATUSES = Object.keys(STATUS_RANK);
export const STATUSES = [...API_STATUSES].sort((a, b) => STATUS_RANK[a] - STATUS_RANK[b]);
export const SEVERITIES = ['critical', 'high', 'medium', 'low', 'info'];
const SVG = 'http://www.w3.org/2000/svg';

// Matching is case-insensitive by ASCII folding only (spec 7), so toLowerCase() would be wrong for e.g. 'İ'.
export function fold(s) {
  return s.replace(/[A-Z]+/g, (m) => m.toLowerCase());
}

// The order of lists for people (policies, sources, picker values): case-insensitive, then by bytes, nulls
// first. The API's own lists stay in byte order (spec section 2).
export function cmpText(a, b) {
  if (a === b) return 0;
  if (a === null || a === undefined) return -1;
  if (b === null || b === undefined) return 1;
  const x = fold(a), y = fold(b);
  return x < y ? -1 : x > y ? 1 : a < b ? -1 : 1;
}

// h('a.link#id', {href, onclick}, children...): class and id shorthand, on* listeners, else attributes.
export function h(spec, attrs, ...children) {
  const el = document.createElement(spec.match(/^[a-z0-9]+/)[0]);
  const id = spec.match(/#([\w-]+)/);
  if (id) el.id = id[1];
  const classes = [...spec.matchAll(/\.([\w-]+)/g)].map((m) => m[1]);
  if (classes.length) el.className = classes.join(' ');
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

function setAttrs(el, attrs) {
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.classList.add(...String(v).split(' ').filter(Boolean));
    else el.setAttribute(k, v === true ? '' : v);
  }
}

export function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

export function svg(tag, attrs, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, v);
  for (const c of children) el.append(c);
  return el;
}

// 16x16 stroke icons; shape as well as colour tells the status apart.
const ICONS = {
  pass: 'M3 8.5l3 3 7-7',
  fail: 'M4 4l8 8M12 4l-8 8',
  warn: 'M8 2L1.5 14h13L8 2zM8 6.5v3.5M8 12v.5',
  error: 'M8 1.5a6.5 6.5 0 100 13 6.5 6.5 0 000-13zM8 4.5v4.5M8 11v.5',
  skip: 'M3 3l5 5-5 5M9 3l5 5-5 5',
  sun: 'M8 5a3 3 0 100 6 3 3 0 000-6zM8 1v2M8 13v2M1 8h2M13 8h2M3 3l1.5 1.5M11.5 11.5L13 13M3 13l1.5-1.5M11.5 4.5L13 3',
  moon: 'M13 10A6 6 0 016 3a6 6 0 107 7z',
  auto: 'M8 1.5a6.5 6.5 0 100 13zM8 1.5a6.5 6.5 0 010 13',
  download: 'M8 2v8M4.5 7L8 10.5 11.5 7M2.5 13.5h11',
  print: 'M4 6V2h8v4M4 11H2V6h12v5h-2M4 9h8v5H4z',
  clock: 'M8 1.5a6.5 6.5 0 100 13 6.5 6.5 0 000-13zM8 4v4l3 2',
  key: 'M10 2a4 4 0 11-3.5 6L2 12.5V14h2v-1.5h1.5V11H7l1-1A4 4 0 0110 2zM11 4.5v.5',
  x: 'M4 4l8 8M12 4l-8 8',
  copy: 'M5 5V2.5h8.5V11H11M2.5 5H11v8.5H2.5z',
};

export function icon(name, label) {
  const el = svg('svg', { class: 'icon', viewBox: '0 0 16 16', width: '16', height: '16', focusable: 'false' },
    svg('path', { d: ICONS[name] }));
  if (label) { el.setAttribute('role', 'img'); el.setAttribute('aria-label', label); } else el.setAttribute('aria-hidden', 'true');
  return el;
}

export function statusBadge(status) {
  return h('span.badge.st-' + status, {}, icon(status), status);
}

export function sevBadge(sev) {
  return sev ? h('span.sev.sev-' + sev, {}, sev) : h('span.muted', {}, '—');
}

const nf = new Intl.NumberFormat('en-US');
export function num(n) {
  return nf.format(n);
}

export function fmtTime(unix) {
  if (unix === null || unix === undefined) return '—';
  return new Date(unix * 1000).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
}

// Unix seconds as RFC 3339 UTC ("2026-11-25T15:30:00Z"), or null.
export function rfc3339(unix) {
  return unix === null || unix === undefined ? null : new Date(unix * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
}

export function fmtAge(seconds) {
  if (seconds < 0) seconds = 0;
  if (seconds < 90) return `${Math.round(seconds)} s ago`;
  if (seconds < 90 * 60) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 36 * 3600) return `${Math.round(seconds / 3600)} h ago`;
  return `${Math.round(seconds / 86400)} days ago`;
}

// '#/view?k=v' with parameters in the given order; arrays repeat the key.
export function href(view, params) {
  const p = params instanceof URLSearchParams ? params : new URLSearchParams();
  if (!(params instanceof URLSearchParams)) {
    for (const [k, v] of Object.entries(params || {})) {
      for (const x of [].concat(v)) if (x !== undefined && x !== null) p.append(k, x);
    }
  }
  const qs = p.toString();
  return '#/' + view + (qs ? '?' + qs : '');
}

// A link to the results view for the given filters (status always explicit: '' = every status).
export function resultsHref(filters) {
  return href('results', { status: '', ...filters });
}

// A number that clicks through to the results it counts. A null value (a row without a policy, say) has no
// filter parameter, so such a number stays plain rather than link to a wider set.
export function countLink(n, filters, label) {
  if (!n) return h('span.zero', { 'data-count': 0 }, '0');
  if (Object.values(filters).some((v) => v === null)) return h('span', { 'data-count': n }, num(n));
  return h('a.count', { href: resultsHref(filters), 'data-count': n, 'aria-label': label ? `${num(n)} ${label}` : null }, num(n));
}

// Failing results by severity ("2 critical · 5 high"), each count a link to them; filters narrow them (a namespace).
export function sevBreakdown(counts, filters, what) {
  const present = [...SEVERITIES, 'none'].filter((v) => counts && counts[v]);
  if (!present.length) return h('span.zero', {}, 'none');
  return h('span.sevs', {}, present.map((v, i) => [i ? ' · ' : '', h('span', { 'data-severity': v },
    countLink(counts[v], { ...filters, status: 'fail', severity: v }, `failing results of severity ${v} ${what}`), ' ', v === 'none' ? 'no severity' : v)]));
}

export function notice(kind, ...children) {
  return h('div.notice.' + kind, { role: kind === 'error' ? 'alert' : 'status' },
    icon(kind === 'error' ? 'error' : kind === 'warn' ? 'warn' : 'clock'), h('div', {}, ...children));
}

export function loading(text) {
  return h('p.loading', { role: 'status' }, text || 'Loading…');
}

export function errorBox(e) {
  if (e && e.status === 403) return notice('error', h('strong', {}, 'Not allowed. '), e.message);
  return notice('error', h('strong', {}, 'Could not load the data. '), e && e.message ? e.message : String(e));
}

// A table that the user sorts in the page (for data already loaded whole, like the summary).
// columns: [{key, label, num, value(row) -> sortable, cell(row) -> node}]
export function sortTable({ caption, columns, rows, sort, desc, onSort, limit, className }) {
  const col = columns.find((c) => c.key === sort) || columns[0];
  const sorted = [...rows].sort((a, b) => {
    const x = col.value(a), y = col.value(b);
    const c = typeof x === 'string' || typeof y === 'string' ? cmpText(x, y) : x < y ? -1 : x > y ? 1 : 0;
    return desc ? -c : c;
  });
  const shown = limit ? sorted.slice(0, limit) : sorted;
  const head = h('tr', {}, columns.map((c) => h('th', {
    scope: 'col', class: c.num ? 'num' : null, 'data-col': c.key,
    'aria-sort': c.value && c.key === col.key ? (desc ? 'descending' : 'ascending') : c.value ? 'none' : null,
  }, c.value ? h('button.sort', {
    type: 'button', 'data-sort': c.key,
    onclick: () => onSort(c.key, c.key === col.key ? !desc : !!c.num),
  }, c.label, sortArrow(c.key === col.key ? (desc ? 'desc' : 'asc') : null)) : c.label)));
  const row = (r) => h('tr', {}, columns.map((c, i) =>
    h(i === 0 ? 'th' : 'td', { scope: i === 0 ? 'row' : null, class: c.num ? 'num' : null, 'data-col': c.key }, c.cell(r))));
  const tbody = h('tbody', {}, shown.slice(0, CHUNK).map(row));
  // a thousand rows at once would block the page for a quarter second: add the rest in slices
  (async () => {
    for (let i = CHUNK; i < shown.length; i += CHUNK) {
      await new Promise((r) => setTimeout(r, 0));
      if (!tbody.isConnected) return; // re-rendered meanwhile
      tbody.append(...shown.slice(i, i + CHUNK).map(row));
    }
  })();
  return wrapTable(h('table.' + (className || 'grid'), {}, h('caption', {}, caption), h('thead', {}, head), tbody), caption);
}
const CHUNK = 50;

export function sortArrow(dir) {
  return h('span.arrow', { 'aria-hidden': 'true' }, dir === 'asc' ? '▲' : dir === 'desc' ? '▼' : '↕');
}

// Wide tables scroll sideways inside a focusable region on narrow screens.
export function wrapTable(table, label) {
  return h('div.scroll', { role: 'region', 'aria-label': label, tabindex: '0' }, table);
}

// After a re-render, put the focus back on the control that had it (matched by a data attribute).
export function keepFocus(root, render) {
  const a = document.activeElement;
  const attr = a && root.contains(a) && ['data-sort', 'data-page', 'data-focus'].find((n) => a.hasAttribute(n));
  const val = attr && a.getAttribute(attr);
  render();
  if (attr) {
    const again = root.querySelector(`[${attr}="${CSS.escape(val)}"]`);
    if (again) again.focus();
  }
}

// Stacked horizontal bar (decorative: the numbers beside it are its table form).
export function bar(parts, total, width = 120) {
  const g = svg('svg', { class: 'bar', width: String(width), height: '12', viewBox: `0 0 ${width} 12`, 'aria-hidden': 'true' });
  let x = 0;
  for (const [cls, n] of parts) {
    if (!n || !total) continue;
    const w = Math.max(1, (n / total) * width);
    g.append(svg('rect', { class: cls, x: x.toFixed(2), y: '0', width: w.toFixed(2), height: '12' }));
    x += w;
  }
  return g;
}
