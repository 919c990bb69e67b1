// policies.js - every policy with its rules and each rule's status counts, from the summary (of one source's rows
// when a source is chosen).
import { h, num, countLink, bar, href, sortArrow, wrapTable, keepFocus, loading, cmpText, fold, STATUSES } from '../ui.js';

const sum = (o) => STATUSES.reduce((n, s) => n + (o[s] || 0), 0);
const SCOPES = { namespaced: 'namespaced', cluster: 'cluster', both: 'both' };

export function mount(main, ctx, params) {
  ctx.title('Policies');
  const body = h('div');
  main.append(h('h1', {}, 'Policies'), body);
  let summary = null;
  let sources = [];
  let source = null; // the source the view is narrowed to
  let gen = 0;
  let p = params;
  const expanded = new Set();

  function set(changes) {
    const q = new URLSearchParams(p);
    for (const [k, v] of Object.entries(changes)) if (v === null || v === '') q.delete(k); else q.set(k, v);
    location.hash = href('policies', q);
  }

  function render() {
    const find = (p.get('find') || '').toLowerCase();
    const failing = p.get('failing') === '1';
    const sort = ['policy', ...STATUSES].includes(p.get('sort')) ? p.get('sort') : 'policy';
    const desc = p.get('desc') === '1';
    const only = p.get('policy');
    let rows = summary.policies.filter((x) => (!find || (x.policy || '').toLowerCase().includes(find)) && (!failing || x.fail || x.error) &&
      (!only || (x.policy !== null && fold(x.policy) === fold(only))));
    const val = (x) => (sort === 'policy' ? x.policy : x[sort] || 0);
    rows = rows.sort((a, b) => {
      const c = sort === 'policy' ? cmpText(val(a), val(b)) : val(a) - val(b) || cmpText(a.policy, b.policy);
      return desc ? -c : c;
    });
    const scale = Math.max(1, ...rows.map(sum)); // one scale for every bar: lengths compare across rows
    const src = source ? { source } : {};
    if (only) for (const x of rows) expanded.add(x.policy);
    const th = (key, label, isNum) => {
      const on = sort === key;
      return h('th', { scope: 'col', class: isNum ? 'num' : null, 'aria-sort': on ? (desc ? 'descending' : 'ascending') : 'none' },
        h('button.sort', { type: 'button', 'data-sort': key, onclick: () => set({ sort: key, desc: on ? (desc ? '0' : '1') : isNum ? '1' : '0' }) },
          label, sortArrow(on ? (desc ? 'desc' : 'asc') : null)));
    };
    const body2 = [];
    for (const x of rows) {
      const open = expanded.has(x.policy);
      body2.push(h('tr.policy', { 'data-policy': x.policy },
        h('th.wrap', { scope: 'row' }, h('button.sort', {
          type: 'button', 'aria-expanded': open ? 'true' : 'false', 'data-focus': 'expand:' + x.policy,
          onclick: () => { if (open) expanded.delete(x.policy); else expanded.add(x.policy); keepFocus(body, render); },
        }, h('span.arrow', { 'aria-hidden': 'true' }, open ? '▼' : '▶'), x.policy ?? '(no policy)')),
        h('td', {}, SCOPES[x.scope] || x.scope),
        h('td', {}, bar([['fail', x.fail], ['error', x.error], ['warn', x.warn], ['pass', x.pass], ['skip', x.skip]], scale)),
        STATUSES.map((s) => h('td.num', { 'data-status': s }, countLink(x[s] || 0, { ...src, policy: x.policy, status: s }, `${s} results of ${x.policy}`))),
        h('td.num', {}, num(x.rules.length))));
      if (open) {
        for (const r of x.rules) {
          const rf = { ...src, policy: x.policy, rule: r.rule };
          body2.push(h('tr.rule', { 'data-rule': r.rule ?? '' },
            h('td.wrap', {}, h('span.sr-only', {}, `${x.policy}, rule `), '↳ ', r.rule ?? h('span.muted', {}, '(no rule)')),
            h('td', {}, 'rule'), h('td', {}, bar([['fail', r.fail], ['error', r.error], ['warn', r.warn], ['pass', r.pass], ['skip', r.skip]], scale)),
            STATUSES.map((s) => h('td.num', { 'data-status': s }, countLink(r[s] || 0, { ...rf, status: s }, `${s} results of rule ${r.rule}`))),
            h('td')));
        }
      }
    }
    const sourcePick = h('select', { id: 'policy-source', 'data-focus': 'source', onchange: (e) => set({ source: e.target.value }) },
      h('option', { value: '' }, 'every source'),
      [...sources].sort((a, b) => cmpText(a.source, b.source)).map((x) => h('option', { value: x.source, selected: source !== null && fold(x.source) === fold(source) }, x.source)));
    const filterInput = h('input', { type: 'search', value: p.get('find') || '', 'aria-label': 'Find a policy', placeholder: 'Find a policy…', 'data-focus': 'find',
      onchange: (e) => set({ find: e.target.value.trim() }) });
    body.replaceChildren(
      h('div.row.no-print', {}, filterInput, h('label', { for: 'policy-source' }, 'Source'), sourcePick,
        h('label', {}, h('input', { type: 'checkbox', checked: failing, 'data-focus': 'failing', onchange: (e) => set({ failing: e.target.checked ? '1' : null }) }),
          ' Failing policies only'),
        only ? h('a', { href: '#/policies' }, 'Show every policy') : '',
        h('button', { type: 'button', 'data-focus': 'expand-all', onclick: () => { for (const x of rows) expanded.add(x.policy); keepFocus(body, render); } }, 'Expand all'),
        h('button', { type: 'button', 'data-focus': 'collapse-all', onclick: () => { expanded.clear(); keepFocus(body, render); } }, 'Collapse all')),
      source ? h('p.print-only', {}, `Source: ${source}`) : '',
      rows.length ? wrapTable(h('table.grid#policies-table', {}, h('caption', {}, `${num(rows.length)} policies${source ? ` of ${source}` : ''}; open one to see its rules and their status counts`),
        h('thead', {}, h('tr', {}, th('policy', 'Policy'), h('th', { scope: 'col' }, 'Scope'), h('th', { scope: 'col' }, h('span.sr-only', {}, 'Bar')),
          STATUSES.map((s) => th(s, s, true)), h('th.num', { scope: 'col' }, 'Rules'))),
        h('tbody', {}, body2)), 'Policies') : h('p', {}, 'No policy matches.'));
  }

  // The summary of one source's rows (the query server's /v1/summary?sources=, or the in-browser engine), or
  // the whole one; the source list always comes from the whole one.
  async function load() {
    const me = ++gen;
    body.replaceChildren(loading());
    source = p.get('source') || null;
    try {
      const whole = await ctx.summary();
      sources = whole.sources.filter((x) => x.source !== null);
      summary = source ? await ctx.data.summary('sources=' + encodeURIComponent(source)) : whole;
    } catch (e) {
      if (me === gen) ctx.fail(e, body);
      return;
    }
    if (me === gen) keepFocus(body, render);
  }
  load();
  return {
    update(q) {
      const again = (q.get('source') || null) !== source;
      p = q;
      if (again) load();
      else if (summary) keepFocus(body, render);
    },
    refresh() { load(); },
  };
}
