// namespaces.js - namespaces with their status counts, including the cluster-scoped results about the
// Namespace object itself (other dashboards leave those out of a namespace's view).
import { apiQuery, readState } from '../data.js';
import { h, num, countLink, bar, href, sortTable, keepFocus, loading, notice, statusBadge, sevBadge, sevBreakdown, wrapTable, STATUSES } from '../ui.js';

const sum = (o) => STATUSES.reduce((n, s) => n + (o[s] || 0), 0);
const parts = (o) => [['fail', o.fail], ['error', o.error], ['warn', o.warn], ['pass', o.pass], ['skip', o.skip]];
const EMPTY = { pass: 0, fail: 0, warn: 0, error: 0, skip: 0 };

// Every cluster-scoped result whose resource is a Namespace, grouped by the namespace's name.
async function namespaceObjects(ctx, name) {
  const st = readState(new URLSearchParams('status=&scope=cluster&kind=Namespace'));
  if (name !== undefined) st.filters.resource = [name];
  const rows = [];
  for (let offset = 0; offset < 20000; offset += 1000) {
    const page = await ctx.data.results('cluster', apiQuery(st, { offset, limit: 1000 }));
    rows.push(...page.items);
    if (rows.length >= page.count || !page.items.length) break;
  }
  return rows;
}

function resultRows(rows, scope) {
  return rows.map((r) => h('tr', { 'data-id': r.id },
    h('td', {}, statusBadge(r.status)), h('td', {}, sevBadge(r.severity)), h('td', {}, r.kind ?? '—'), h('td.wrap', {}, r.name ?? '—'),
    h('td.wrap', {}, r.policy ?? '—'), h('td.wrap', {}, r.rule ?? '—'),
    h('td.msg', {}, h('a', { href: href('result/' + encodeURIComponent(r.id), scope === 'cluster' || r.namespace === null ? { scope } : { scope, ns: r.namespace }) }, r.message ?? '(no message)'))));
}

function resultTable(caption, rows, scope, id) {
  return wrapTable(h('table.grid', { id }, h('caption', {}, caption),
    h('thead', {}, h('tr', {}, ['Status', 'Severity', 'Kind', 'Name', 'Policy', 'Rule', 'Message'].map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', {}, resultRows(rows, scope))), caption);
}

export function mount(main, ctx, params) {
  const body = h('div');
  const title = h('h1', {}, 'Namespaces');
  main.append(title, body);
  let p = params;
  let summary = null;
  let objects = null; // name -> status counts of the Namespace object's cluster-scoped results
  let gen = 0;

  function set(changes) {
    const q = new URLSearchParams(p);
    for (const [k, v] of Object.entries(changes)) if (v === null || v === '') q.delete(k); else q.set(k, v);
    location.hash = href('namespaces', q);
  }

  function renderList() {
    ctx.title('Namespaces');
    title.textContent = 'Namespaces';
    const find = (p.get('find') || '').toLowerCase();
    const rows = summary.namespaces.filter((r) => r.namespace !== null && (!find || r.namespace.toLowerCase().includes(find)))
      .map((r) => ({ ...r, obj: (objects && objects.get(r.namespace)) || EMPTY }));
    const objCell = (r) => {
      if (!objects) return h('span.muted', {}, '…');
      const o = r.obj;
      if (!sum(o)) return h('span.zero', {}, 'none');
      return h('span', {}, STATUSES.filter((s) => o[s]).map((s) => [countLink(o[s], { scope: 'cluster', kind: 'Namespace', resource: r.namespace, status: s },
        `${s} cluster-scoped results about namespace ${r.namespace}`), ` ${s} `]));
    };
    body.replaceChildren(
      h('div.row.no-print', {}, h('input', { type: 'search', value: p.get('find') || '', placeholder: 'Find a namespace…', 'aria-label': 'Find a namespace', 'data-focus': 'find',
        onchange: (e) => set({ find: e.target.value.trim() }) })),
      sortTable({
        caption: `${num(rows.length)} namespaces`, className: 'grid.fixed', sort: p.get('sort') || 'namespace', desc: p.get('desc') === '1',
        onSort: (key, d) => set({ sort: key, desc: d ? '1' : null }),
        columns: [
          { key: 'namespace', label: 'Namespace', value: (r) => r.namespace, cell: (r) => h('a', { href: href('namespaces', { ns: r.namespace }) }, r.namespace) },
          { key: 'bar', label: 'Results', cell: (r) => bar(parts(r), sum(r)) },
          ...STATUSES.map((s) => ({ key: s, label: s, num: true, value: (r) => r[s] || 0,
            cell: (r) => countLink(r[s] || 0, { namespace: r.namespace, status: s }, `${s} results in ${r.namespace}`) })),
          { key: 'obj', label: 'Namespace object (cluster-scoped)', value: (r) => r.obj.fail * 1e6 + r.obj.error * 1e3 + r.obj.warn, cell: objCell },
        ],
        rows,
      }));
  }

  async function renderOne(name) {
    const me = ++gen;
    ctx.title(`Namespace ${name}`);
    title.textContent = `Namespace ${name}`;
    const r = summary.namespaces.find((x) => x.namespace === name) || { namespace: name, ...EMPTY };
    const objBox = h('div', {}, loading());
    const failBox = h('div', {}, loading());
    body.replaceChildren(
      h('p', {}, h('a', { href: '#/namespaces' }, 'All namespaces')),
      h('section.panel', { 'aria-labelledby': 'nc-h' }, h('h2#nc-h', {}, 'Namespaced results'),
        wrapTable(h('table.grid#ns-counts', {}, h('caption', {}, `Results in ${name} by status`),
          h('thead', {}, h('tr', {}, STATUSES.map((s) => h('th.num', { scope: 'col' }, s)), h('th.num', { scope: 'col' }, 'total'))),
          h('tbody', {}, h('tr', {}, STATUSES.map((s) => h('td.num', { 'data-status': s }, countLink(r[s] || 0, { namespace: name, status: s }, `${s} results`))),
            h('td.num', {}, countLink(sum(r), { namespace: name }, 'results'))))), 'Counts'),
        h('p#ns-severity', {}, h('strong', {}, 'Failing by severity: '), sevBreakdown(r.failSeverity, { namespace: name }, `in ${name}`))),
      h('section.panel', { 'aria-labelledby': 'no-h' }, h('h2#no-h', {}, 'The Namespace object (cluster-scoped results)'), objBox),
      h('section.panel', { 'aria-labelledby': 'nf-h' }, h('h2#nf-h', {}, `Failing results in ${name}`), failBox));
    try {
      const rows = await namespaceObjects(ctx, name);
      if (me !== gen) return;
      objBox.replaceChildren(rows.length ? resultTable(`Cluster-scoped results about Namespace ${name}`, rows, 'cluster', 'ns-object') : h('p', {}, 'No cluster-scoped result is about this Namespace object.'));
    } catch (e) {
      if (me === gen) objBox.replaceChildren(e.status === 403 ? notice('info', 'Your token does not cover cluster-scoped results.') : notice('error', e.message));
    }
    try {
      const st = readState(new URLSearchParams());
      st.filters.namespace = [name];
      const page = await ctx.data.results('namespaced', apiQuery(st, { offset: 0, limit: 25 }));
      if (me !== gen) return;
      failBox.replaceChildren(page.count ? resultTable(`First ${Math.min(25, page.count)} of ${num(page.count)} failing results in ${name}`, page.items, 'namespaced', 'ns-failing') : h('p', {}, 'Nothing fails in this namespace.'),
        h('p', {}, h('a', { href: href('results', { namespace: name, status: '' }) }, `All ${num(sum(r))} results in ${name}`)));
    } catch (e) {
      if (me === gen) ctx.fail(e, failBox);
    }
  }

  async function loadObjects() {
    try {
      const rows = await namespaceObjects(ctx);
      objects = new Map();
      for (const x of rows) {
        if (x.name === null) continue;
        const o = objects.get(x.name) || { ...EMPTY };
        o[x.status]++;
        objects.set(x.name, o);
      }
    } catch {
      objects = new Map(); // e.g. a namespace-limited token: cluster results are 403
    }
    if (!p.get('ns')) keepFocus(body, renderList);
  }

  async function load() {
    body.replaceChildren(loading());
    try {
      summary = await ctx.summary();
    } catch (e) {
      return ctx.fail(e, body);
    }
    show();
    if (!objects) loadObjects();
  }

  function show() {
    if (p.get('ns')) renderOne(p.get('ns'));
    else keepFocus(body, renderList);
  }

  load();
  return {
    update(q) { p = q; if (summary) show(); },
    refresh() { objects = null; load(); },
  };
}
