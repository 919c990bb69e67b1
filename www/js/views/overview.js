// overview.js - the cluster at a glance: totals, namespaces, top failing policies, sources, cluster scope.
// Everything comes from one summary document; every number links to the results it counts.
import { h, svg, icon, num, countLink, bar, sortTable, keepFocus, href, resultsHref, loading, notice, fmtTime, cmpText, sevBreakdown, STATUSES, SEVERITIES } from '../ui.js';

const NS_SHOWN = 50;
// "(also kyverno)": the other spellings counted in an entry (the summary groups them as the filters match)
const alsoSpelled = (r) => (r.spellings && r.spellings.length > 1 ? h('span.muted', {}, ` (also ${r.spellings.slice(1).join(', ')})`) : '');
const sum = (o) => STATUSES.reduce((n, s) => n + (o[s] || 0), 0);
const parts = (o) => [['fail', o.fail], ['error', o.error], ['warn', o.warn], ['pass', o.pass], ['skip', o.skip]];

// Sorts namespaces by their worst failures: critical first, then high, and so on.
const sevRank = (r) => [...SEVERITIES, 'none'].reduce((n, v) => n * 1000 + Math.min(999, (r.failSeverity || {})[v] || 0), 0);

// Failing results by severity as bars on one scale, each labelled with its count (the table below has them too).
function severityChart(fail) {
  const rows = [...SEVERITIES, 'none'].map((v) => [v, fail[v] || 0]);
  const max = Math.max(1, ...rows.map(([, n]) => n));
  const g = svg('svg', { class: 'sevchart', viewBox: `0 0 420 ${rows.length * 22}`, role: 'img',
    'aria-label': 'Failing results by severity: ' + rows.map(([v, n]) => `${v === 'none' ? 'no severity' : v} ${n}`).join(', ') });
  rows.forEach(([v, n], i) => {
    const y = i * 22;
    g.append(svg('text', { x: '0', y: String(y + 15), class: 'label' }, v === 'none' ? 'no severity' : v),
      svg('rect', { class: 'sev-' + v, x: '90', y: String(y + 3), width: String(Math.max(n ? 2 : 0, (n / max) * 280)), height: '15' }),
      svg('text', { x: String(96 + (n / max) * 280), y: String(y + 15), class: 'count' }, String(n)));
  });
  return h('figure.sevfig', {}, h('figcaption', {}, 'Failing results by severity'), g);
}

function legend() {
  return h('div.legend', { 'aria-hidden': 'true' }, STATUSES.map((s) => h('span', {}, h('i.' + s), s)));
}

function statusCards(totals) {
  return h('div.cards', {}, STATUSES.map((s) => h(totals[s] ? 'a.card.st-' + s : 'div.card.st-' + s,
    { href: totals[s] ? resultsHref({ status: s }) : null, 'data-status': s },
    h('span.l', {}, icon(s), s), h('span.n', { 'data-count': totals[s] }, num(totals[s])))));
}

function severityTable(ss) {
  const cols = [...SEVERITIES, 'none'];
  const head = h('tr', {}, h('th', { scope: 'col' }, 'Status'), cols.map((c) => h('th.num', { scope: 'col' }, c === 'none' ? 'no severity' : c)),
    h('th.num', { scope: 'col' }, 'Total'));
  const rows = STATUSES.map((s) => {
    const r = ss[s] || {};
    const total = cols.reduce((n, c) => n + (r[c] || 0), 0);
    return h('tr', { 'data-status': s }, h('th', { scope: 'row' }, h('span.badge.st-' + s, {}, icon(s), s)),
      cols.map((c) => h('td.num', { 'data-severity': c }, countLink(r[c] || 0, { status: s, severity: c }, `${s} results of severity ${c}`))),
      h('td.num', { 'data-severity': 'total' }, countLink(total, { status: s }, `${s} results`)));
  });
  return h('div.scroll', { role: 'region', 'aria-label': 'Results by status and severity', tabindex: '0' },
    h('table.grid#sev-table', {}, h('caption', {}, 'Results by status and severity (namespaced and cluster-scoped)'),
      h('thead', {}, head), h('tbody', {}, rows)));
}

function totalsBar(totals) {
  const total = sum(totals);
  const g = svg('svg', { class: 'bigbar', viewBox: '0 0 1000 18', preserveAspectRatio: 'none', 'aria-hidden': 'true' });
  let x = 0;
  for (const [s, n] of parts(totals)) {
    if (!n) continue;
    const w = (n / total) * 1000;
    g.append(svg('rect', { class: s, x: x.toFixed(2), y: '0', width: w.toFixed(2), height: '18' }));
    x += w;
  }
  const b = h('div.bar');
  b.append(g);
  return b;
}

// "N new failures since T", linking to them (the failing rows of keys that are new in this snapshot).
function newFailures(c, snapshotTime) {
  if (!c) return '';
  const since = fmtTime(snapshotTime(c.previous));
  if (!c.new) return h('p.changes#changes', {}, `No new failures since ${since}.`);
  return notice('warn', h('span#changes', {}, h('a', { href: resultsHref({ change: 'new', status: ['fail', 'warn', 'error'] }) },
    `${num(c.new)} new failure${c.new === 1 ? '' : 's'}`), ` since ${since}`,
  c.resolved ? `; ${num(c.resolved)} resolved.` : '.'));
}

function statusCols(filters, what) {
  return STATUSES.map((s) => ({
    key: s, label: s, num: true, value: (r) => r[s] || 0,
    cell: (r) => countLink(r[s] || 0, { ...filters(r), status: s }, `${s} results ${what(r)}`),
  }));
}

export function mount(main, ctx, params) {
  const body = h('div');
  main.append(h('h1', {}, 'Overview'), body);
  ctx.title('Overview');
  let summary = null;
  let showAll = false;

  function namespaceSection(p) {
    const failingOnly = p.get('nsall') !== '1';
    const sort = p.get('nsort') || 'fail';
    const desc = p.has('nsort') ? p.get('ndesc') === '1' : true;
    const all = summary.namespaces;
    const rows = failingOnly ? all.filter((r) => r.fail || r.error) : all;
    const set = (changes) => {
      const q = new URLSearchParams(p);
      for (const [k, v] of Object.entries(changes)) if (v === null) q.delete(k); else q.set(k, v);
      location.hash = href('', q);
    };
    const table = sortTable({
      caption: `Namespaces (${num(rows.length)} of ${num(all.length)})`, className: 'grid.fixed',
      sort, desc,
      onSort: (key, d) => set({ nsort: key, ndesc: d ? '1' : '0' }),
      limit: showAll ? 0 : NS_SHOWN,
      columns: [
        { key: 'namespace', label: 'Namespace', value: (r) => r.namespace,
          cell: (r) => h('a', { href: href('namespaces', { ns: r.namespace }) }, r.namespace) },
        { key: 'bar', label: 'Failing and warning', cell: (r) => bar(parts(r), sum(r)) },
        ...statusCols((r) => ({ namespace: r.namespace }), (r) => `in ${r.namespace}`),
        { key: 'total', label: 'Total', num: true, value: sum, cell: (r) => countLink(sum(r), { namespace: r.namespace }, `results in ${r.namespace}`) },
        { key: 'sev', label: 'Failing by severity', value: sevRank, cell: (r) => sevBreakdown(r.failSeverity, { namespace: r.namespace }, `in ${r.namespace}`) },
      ],
      rows,
    });
    table.id = 'ns-table';
    const toggle = h('label.no-print', {}, h('input', {
      type: 'checkbox', checked: failingOnly, 'data-focus': 'failing-only',
      onchange: (e) => set({ nsall: e.target.checked ? null : '1' }),
    }), ' Failing namespaces only (fail or error)');
    const more = !showAll && rows.length > NS_SHOWN ? h('button', {
      type: 'button', 'data-focus': 'ns-more',
      onclick: () => { showAll = true; renderNs(p); },
    }, `Show all ${num(rows.length)} namespaces`) : '';
    return [h('div.row', {}, toggle, legend()), rows.length ? table : h('p', {}, 'No namespace has failing results.'), more];
  }

  const nsPanel = h('section.panel', { 'aria-labelledby': 'ns-h' });
  function renderNs(p) {
    keepFocus(nsPanel, () => nsPanel.replaceChildren(h('h2#ns-h', {}, 'Namespaces'), ...namespaceSection(p)));
  }

  function topPolicies() {
    const top = summary.policies.filter((p) => p.fail).sort((a, b) => b.fail - a.fail || cmpText(a.policy, b.policy)).slice(0, 10);
    // a policy only cluster-scoped rows have links to that tab; one of both scopes to a view counting both
    const scope = (p) => (p.scope === 'cluster' ? { scope: 'cluster' } : {});
    if (!top.length) return h('p', {}, 'No policy has failing results.');
    const max = top[0].fail;
    return h('div.scroll', { role: 'region', 'aria-label': 'Top failing policies', tabindex: '0' }, h('table.grid#top-policies', {},
      h('caption', {}, 'Top failing policies'),
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Policy'), h('th', { scope: 'col' }, h('span.sr-only', {}, 'Bar')),
        h('th.num', { scope: 'col' }, 'fail'), h('th.num', { scope: 'col' }, 'warn'), h('th.num', { scope: 'col' }, 'error'))),
      h('tbody', {}, top.map((p) => h('tr', {}, h('th.wrap', { scope: 'row' }, p.policy === null ? '(no policy)' : h('a', { href: href('policies', { policy: p.policy }) }, p.policy)),
        h('td', {}, bar([['fail', p.fail]], max, 160)),
        h('td.num', {}, countLink(p.fail, { ...scope(p), policy: p.policy, status: 'fail' }, `failing results of ${p.policy}`)),
        h('td.num', {}, countLink(p.warn, { ...scope(p), policy: p.policy, status: 'warn' }, `warnings of ${p.policy}`)),
        h('td.num', {}, countLink(p.error, { ...scope(p), policy: p.policy, status: 'error' }, `errors of ${p.policy}`)))))));
  }

  function clusterTable() {
    const c = summary.cluster || {};
    return h('div.scroll', { role: 'region', 'aria-label': 'Cluster-scoped results', tabindex: '0' }, h('table.grid#cluster-table', {},
      h('caption', {}, 'Cluster-scoped results'),
      h('thead', {}, h('tr', {}, STATUSES.map((s) => h('th.num', { scope: 'col' }, s)))),
      h('tbody', {}, h('tr', {}, STATUSES.map((s) => h('td.num', { 'data-status': s },
        countLink(c[s] || 0, { scope: 'cluster', status: s }, `cluster-scoped ${s} results`)))))));
  }

  function sourcesTable(p) {
    return sortTable({
      caption: 'Results by source', sort: p.get('ssort') || 'source', desc: p.get('sdesc') === '1',
      onSort: (key, d) => { const q = new URLSearchParams(p); q.set('ssort', key); q.set('sdesc', d ? '1' : '0'); location.hash = href('', q); },
      columns: [
        { key: 'source', label: 'Source', value: (r) => r.source || '', cell: (r) => [r.source || h('span.muted', {}, '(none)'), alsoSpelled(r)] },
        ...statusCols((r) => ({ source: r.source }), (r) => `from ${r.source}`),
      ],
      rows: summary.sources.filter((r) => r.source !== null),
    });
  }

  const srcPanel = h('section.panel', { 'aria-labelledby': 'src-h' });
  function renderSources(p) {
    keepFocus(srcPanel, () => srcPanel.replaceChildren(h('h2#src-h', {}, 'Sources'), sourcesTable(p)));
  }

  async function load() {
    body.replaceChildren(loading('Loading the summary…'));
    try {
      summary = await ctx.summary();
    } catch (e) {
      return ctx.fail(e, body);
    }
    const totals = {};
    for (const s of STATUSES) totals[s] = Object.values(summary.statusSeverity[s] || {}).reduce((a, b) => a + b, 0);
    const total = sum(totals);
    renderNs(params);
    renderSources(params);
    body.replaceChildren(
      newFailures(ctx.data.changes(), ctx.data.snapshotTime),
      h('section.panel', { 'aria-labelledby': 'tot-h' }, h('h2#tot-h', {}, `All ${num(total)} results`),
        statusCards(totals), totalsBar(totals), legend(), severityChart(summary.statusSeverity.fail || {}), severityTable(summary.statusSeverity)),
      nsPanel,
      h('div.grid2', {},
        h('section.panel', { 'aria-labelledby': 'pol-h' }, h('h2#pol-h', {}, 'Policies'), topPolicies(),
          h('p', {}, h('a', { href: '#/policies' }, `All ${num(summary.policies.length)} policies`))),
        h('div', {},
          h('section.panel', { 'aria-labelledby': 'cl-h' }, h('h2#cl-h', {}, 'Cluster scope'), clusterTable()),
          srcPanel)));
  }

  load();
  return {
    update(p) {
      params = p;
      if (!summary) return;
      renderNs(p);
      renderSources(p);
    },
    refresh() { summary = null; load(); },
  };
}
