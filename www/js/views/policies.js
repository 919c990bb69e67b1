// policies.js - every policy with its rules and each rule's status counts (rule-status-count), from the summary.
import { h, num, countLink, bar, href, sortArrow, wrapTable, keepFocus, loading, STATUSES } from '../ui.js';

const sum = (o) => STATUSES.reduce((n, s) => n + (o[s] || 0), 0);
const SCOPES = { namespaced: 'namespaced', cluster: 'cluster', both: 'both' };

export function mount(main, ctx, params) {
  ctx.title('Policies');
  const body = h('div');
  main.append(h('h1', {}, 'Policies'), body);
  let summary = null;
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
      (!only || x.policy === only));
    const val = (x) => (sort === 'policy' ? x.policy || '' : x[sort] || 0);
    rows = rows.sort((a, b) => { const c = val(a) < val(b) ? -1 : val(a) > val(b) ? 1 : 0; return desc ? -c : c; });
    if (only) expanded.add(only);
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
        h('td', {}, bar([['fail', x.fail], ['error', x.error], ['warn', x.warn], ['pass', x.pass], ['skip', x.skip]], sum(x))),
        STATUSES.map((s) => h('td.num', { 'data-status': s }, countLink(x[s] || 0, { policy: x.policy, status: s }, `${s} results of ${x.policy}`))),
        h('td.num', {}, num(x.rules.length))));
      if (open) {
        for (const r of x.rules) {
          const rf = { policy: x.policy, rule: r.rule };
          body2.push(h('tr.rule', { 'data-rule': r.rule ?? '' },
            h('td.wrap', {}, h('span.sr-only', {}, `${x.policy}, rule `), '↳ ', r.rule ?? h('span.muted', {}, '(no rule)')),
            h('td', {}, 'rule'), h('td', {}, bar([['fail', r.fail], ['error', r.error], ['warn', r.warn], ['pass', r.pass], ['skip', r.skip]], sum(r))),
            STATUSES.map((s) => h('td.num', { 'data-status': s }, countLink(r[s] || 0, { ...rf, status: s }, `${s} results of rule ${r.rule}`))),
            h('td')));
        }
      }
    }
    const filterInput = h('input', { type: 'search', value: p.get('find') || '', 'aria-label': 'Find a policy', placeholder: 'Find a policy…', 'data-focus': 'find',
      onchange: (e) => set({ find: e.target.value.trim() }) });
    body.replaceChildren(
      h('div.row.no-print', {}, filterInput,
        h('label', {}, h('input', { type: 'checkbox', checked: failing, 'data-focus': 'failing', onchange: (e) => set({ failing: e.target.checked ? '1' : null }) }),
          ' Failing policies only'),
        only ? h('a', { href: '#/policies' }, 'Show every policy') : '',
        h('button', { type: 'button', 'data-focus': 'expand-all', onclick: () => { for (const x of rows) expanded.add(x.policy); keepFocus(body, render); } }, 'Expand all'),
        h('button', { type: 'button', 'data-focus': 'collapse-all', onclick: () => { expanded.clear(); keepFocus(body, render); } }, 'Collapse all')),
      rows.length ? wrapTable(h('table.grid#policies-table', {}, h('caption', {}, `${num(rows.length)} policies; open one to see its rules and their status counts`),
        h('thead', {}, h('tr', {}, th('policy', 'Policy'), h('th', { scope: 'col' }, 'Scope'), h('th', { scope: 'col' }, h('span.sr-only', {}, 'Bar')),
          STATUSES.map((s) => th(s, s, true)), h('th.num', { scope: 'col' }, 'Rules'))),
        h('tbody', {}, body2)), 'Policies') : h('p', {}, 'No policy matches.'));
  }

  async function load() {
    body.replaceChildren(loading());
    try {
      summary = await ctx.summary();
    } catch (e) {
      return ctx.fail(e, body);
    }
    keepFocus(body, render);
  }
  load();
  return {
    update(q) { p = q; if (summary) keepFocus(body, render); },
    refresh() { load(); },
  };
}
