// results.js - the namespaced and cluster-scoped result tables: filters, server-side sort, paging, export.
// The URL holds the whole state (data.readState/writeState), so reload and the back button just work.
import { readState, writeState, apiQuery, FILTERS, PAGE_SIZES } from '../data.js';
import { h, icon, num, href, fmtTime, statusBadge, sevBadge, sortArrow, wrapTable, keepFocus, loading, notice, cmpText, STATUSES, SEVERITIES } from '../ui.js';

const SHOWN_OPTIONS = 200;
const SCOPE_NAMES = { namespaced: 'namespaced', cluster: 'cluster-scoped' };
const GROUP_MAX = 5000; // rows grouped by resource at most (five requests of 1,000)
const COLUMNS = [
  { field: 'Status', label: 'Status', cell: (r) => statusBadge(r.status) },
  { field: 'Severity', label: 'Severity', cell: (r) => sevBadge(r.severity) },
  { field: 'Namespace', label: 'Namespace', scope: 'namespaced', cell: (r) => r.namespace ?? h('span.muted', {}, '—') },
  { field: 'Kind', label: 'Kind', cell: (r) => r.kind ?? '—' },
  { field: 'Resource', label: 'Name', cell: (r) => r.name ?? '—', wrap: true },
  { field: 'Policy', label: 'Policy', cell: (r) => r.policy ?? '—', wrap: true },
  { field: 'Rule', label: 'Rule', cell: (r) => r.rule ?? '—', wrap: true },
  { field: 'Message', label: 'Message', cls: 'msg', cell: null },
  { field: 'Source', label: 'Source', cell: (r) => r.source ?? '—' },
  { field: 'Timestamp', label: 'Time (UTC)', cls: 'time', cell: (r) => h('time', { datetime: r.timestamp === null ? null : new Date(r.timestamp * 1000).toISOString() }, fmtTime(r.timestamp).replace(' UTC', '')) },
];

// Where each dropdown filter gets its values (unfiltered endpoints, so plain files in every mode).
function optionSource(key, scope) {
  return { namespace: 'namespaces', source: `${scope}-resources/sources`, kind: `${scope}-resources/kinds`,
    policy: `${scope}-resources/policies`, category: 'categories' }[key];
}

function detailHref(r, scope) {
  // the namespace tells a static copy which shard holds the row; absent means a row without one
  return href('result/' + encodeURIComponent(r.id), scope === 'cluster' || r.namespace === null ? { scope } : { scope, ns: r.namespace });
}

export function mount(main, ctx, params) {
  let st = readState(params);
  let seq = 0;
  let otherCount = {}; // the other tab's count, asked once per filter set
  let theirsNow = null; // the other tab's count for the filters shown
  let filterLine = ''; // the active filters in words (print, export)
  const expandedGroups = new Set(); // resources opened in the grouped view
  let lastGrouped = null; // {key, value}: the grouped rows of the last filter set (opening one keeps them)
  const options = new Map(); // 'key:scope' -> Promise<string[]>
  const resolved = new Map(); // the same, once loaded: a re-rendered dropdown fills at once and keeps focus
  ctx.title('Results');
  const tabs = h('nav.tabs', { 'aria-label': 'Scope' });
  const filterBar = h('div.filters');
  const chips = h('div.chips', { role: 'group', 'aria-label': 'Active filters' });
  const status = h('p', { role: 'status', id: 'result-count' });
  const total = h('p#view-total');
  const actions = h('div.row.actions');
  const tableBox = h('div#results-table');
  const pager = h('nav.pager', { 'aria-label': 'Pages' });
  // the filters fold away (closed at first on a phone, so the first results show without scrolling)
  const filterBox = h('details.filter-box', { open: matchMedia('(min-width: 641px)').matches },
    h('summary', { 'data-focus': 'filter-box' }, 'Filters'), filterBar);
  main.append(h('h1', {}, 'Results'), total, tabs, h('section.panel.no-print', { 'aria-label': 'Filters' }, filterBox, chips),
    h('p.print-only', {}, ''), h('div.row.end', {}, status, actions), tableBox, pager);
  const printLine = main.querySelector('.print-only');

  function go(changes, keepPage) {
    const next = { ...st, filters: { ...st.filters }, not: new Set(st.not), ...changes };
    if (!keepPage) next.page = 1;
    location.hash = href('results', writeState(next));
  }

  function setFilter(key, values) {
    go({ filters: { ...st.filters, [key]: values } });
  }

  function toggleValue(key, v) {
    const cur = st.filters[key];
    setFilter(key, cur.includes(v) ? cur.filter((x) => x !== v) : [...cur, v]);
  }

  function toggles(key, label, values) {
    return h('fieldset', {}, h('legend', {}, label), values.map((v) => h('button', {
      type: 'button', 'aria-pressed': st.filters[key].includes(v) ? 'true' : 'false', 'data-focus': `${key}:${v}`,
      class: key === 'status' ? 'st-' + v : null, onclick: () => toggleValue(key, v),
    }, key === 'status' ? icon(v) : '', v === 'none' ? 'no severity' : v)));
  }

  async function valuesFor(key) {
    const id = `${key}:${st.scope}`;
    if (!options.has(id)) {
      const p = key === 'rule'
        ? ctx.summary().then((s) => [...new Set(s.policies.flatMap((x) => x.rules.map((r) => r.rule)).filter((r) => r !== null))])
        : ctx.data.unfiltered(optionSource(key, st.scope));
      p.then((v) => resolved.set(id, v.filter((x) => x !== null)), () => options.delete(id));
      options.set(id, p);
    }
    return options.get(id);
  }

  // A dropdown of checkboxes with a narrowing box, for lists that may hold a thousand values.
  function picker(f) {
    const chosen = st.filters[f.key];
    const negated = st.not.has(f.key);
    const box = h('div.opts', { role: 'group', 'aria-label': `${f.label} values` });
    const narrow = h('input', { type: 'search', placeholder: `Find a ${f.label.toLowerCase()}`, 'aria-label': `Find a ${f.label.toLowerCase()}`, 'data-focus': `narrow:${f.key}` });
    const exclude = h('label', {}, h('input', {
      type: 'checkbox', checked: negated, 'data-focus': `not:${f.key}`,
      onchange: (e) => { const not = new Set(st.not); if (e.target.checked) not.add(f.key); else not.delete(f.key); go({ not }); },
    }), ' Exclude the chosen values');
    let all = resolved.get(`${f.key}:${st.scope}`) || null;
    const fill = () => {
      const q = narrow.value.toLowerCase();
      const list = [...new Set([...chosen, ...all])].filter((v) => v.toLowerCase().includes(q)).sort(cmpText);
      const shown = list.slice(0, SHOWN_OPTIONS);
      box.replaceChildren(...shown.map((v) => h('label', {}, h('input', {
        type: 'checkbox', checked: chosen.includes(v), 'data-focus': `opt:${f.key}:${v}`, value: v,
        onchange: () => toggleValue(f.key, v),
      }), v)), list.length > shown.length ? h('p.muted', {}, `${num(list.length - shown.length)} more: type to narrow`) : '',
      list.length ? '' : h('p.muted', {}, 'No values'));
    };
    narrow.addEventListener('input', () => all && fill());
    if (all) fill();
    const d = h('details.pick', { 'data-key': f.key },
      h('summary', { 'data-focus': `pick:${f.key}` }, negated ? `${f.label} is not` : f.label, chosen.length ? ` (${chosen.length})` : '', ' ▾'),
      h('div.menu', {}, narrow, exclude, box));
    d.addEventListener('keydown', (e) => {
      if (e.key !== 'Escape' || !d.open) return;
      d.open = false;
      d.querySelector('summary').focus();
    });
    d.addEventListener('toggle', async () => {
      if (!d.open || all) return;
      box.replaceChildren(loading());
      try {
        all = (await valuesFor(f.key)).filter((v) => v !== null);
        fill();
      } catch (e) {
        box.replaceChildren(h('p', {}, `Could not load the values: ${e.message}`));
      }
    });
    return d;
  }

  // Report labels (Policy Reporter 3's labels= filter, the query server only): a key, then one of its values.
  function labelPicker() {
    const keySel = h('select', { 'aria-label': 'Label key', 'data-focus': 'label:key' }, h('option', { value: '' }, 'Key…'));
    const valSel = h('select', { 'aria-label': 'Label value', 'data-focus': 'label:value', disabled: true }, h('option', { value: '' }, 'Value…'));
    const add = h('button', { type: 'button', disabled: true, 'data-focus': 'label:add', onclick: () => {
      const l = `${keySel.value}:${valSel.value}`;
      if (!st.labels.includes(l)) go({ labels: [...st.labels, l] });
    } }, 'Add');
    let known = new Map();
    keySel.addEventListener('change', () => {
      valSel.replaceChildren(h('option', { value: '' }, 'Value…'),
        ...(known.get(keySel.value) || []).map((v) => h('option', { value: v }, v === '' ? '(empty)' : v)));
      valSel.disabled = !keySel.value;
      add.disabled = true;
    });
    valSel.addEventListener('change', () => { add.disabled = !keySel.value || valSel.selectedIndex < 1; });
    ctx.data.labelOptions().then((m) => {
      known = m;
      keySel.append(...[...m.keys()].map((k) => h('option', { value: k }, k)));
    });
    return h('details.pick', { 'data-key': 'label' },
      h('summary', { 'data-focus': 'pick:label' }, 'Label', st.labels.length ? ` (${st.labels.length})` : '', ' ▾'),
      h('div.menu', {}, h('label', {}, 'Key', keySel), h('label', {}, 'Value', valSel), add));
  }

  function renderFilters() {
    const open = [...filterBar.querySelectorAll('details.pick[open]')].map((d) => d.dataset.key);
    const narrowed = Object.fromEntries([...filterBar.querySelectorAll('details.pick')].map((d) => [d.dataset.key, d.querySelector('input[type=search]')?.value]));
    const search = h('input', { type: 'search', name: 'search', value: st.search, 'aria-label': 'Search namespace, kind, name, policy, rule and message', placeholder: 'Search namespace, kind, name, policy, rule, message', 'data-focus': 'search' });
    filterBar.replaceChildren(
      toggles('status', 'Status', STATUSES),
      toggles('severity', 'Severity', [...SEVERITIES, 'none']),
      ...(ctx.data.changes() || st.filters.change.length ? [toggles('change', 'Change', ['new'])] : []),
      ...FILTERS.filter((f) => !['status', 'severity', 'resource', 'change'].includes(f.key)).map(picker),
      ...(ctx.data.labelsSupported() ? [labelPicker()] : []),
      h('form.search', { role: 'search', onsubmit: (e) => { e.preventDefault(); go({ search: search.value.trim() }); } },
        search, h('button', { type: 'submit' }, 'Search')));
    for (const key of open) {
      const d = filterBar.querySelector(`details.pick[data-key="${key}"]`);
      if (!d) continue;
      const narrow = d.querySelector('input[type=search]');
      if (narrow) {
        narrow.value = narrowed[key] || '';
        narrow.dispatchEvent(new Event('input'));
      }
      d.open = true;
    }
    const active = [];
    for (const f of FILTERS) {
      for (const v of st.filters[f.key]) {
        const text = `${f.label} ${st.not.has(f.key) ? 'is not' : 'is'} ${v === 'none' ? 'no severity' : v}`;
        active.push(h('button.chip', { type: 'button', 'data-focus': `chip:${f.key}:${v}`, 'aria-label': `Remove filter: ${text}`, onclick: () => toggleValue(f.key, v) }, text, icon('x')));
      }
    }
    for (const l of st.labels) {
      const text = `Label ${l.slice(0, l.indexOf(':'))} = ${l.slice(l.indexOf(':') + 1)}`;
      active.push(h('button.chip', { type: 'button', 'data-focus': `chip:label:${l}`, 'aria-label': `Remove filter: ${text}`, onclick: () => go({ labels: st.labels.filter((x) => x !== l) }) }, text, icon('x')));
    }
    if (st.search) active.push(h('button.chip', { type: 'button', 'aria-label': `Remove search ${st.search}`, onclick: () => go({ search: '' }) }, `Search: ${st.search}`, icon('x')));
    if (active.length) active.push(h('a', { href: href('results', { status: '' }) }, 'Clear all filters'));
    chips.replaceChildren(...active);
    filterLine = active.length ? active.filter((a) => a.tagName === 'BUTTON').map((a) => a.textContent).join('; ') : 'no filters';
    printLine.textContent = `${st.both ? 'Both scopes' : SCOPE_NAMES[st.scope][0].toUpperCase() + SCOPE_NAMES[st.scope].slice(1) + ' results'}; ${filterLine}`;
    filterBox.querySelector('summary').textContent = active.length ? `Filters (${active.length - 1} active)` : 'Filters';
  }

  function headerCell(c) {
    const on = st.sort === c.field;
    const dir = on ? (st.desc ? 'desc' : 'asc') : null;
    // asc -> desc -> the default order (namespace, name, kind, policy, rule, message, id)
    const next = !on ? { sort: c.field, desc: false } : !st.desc ? { sort: c.field, desc: true } : { sort: null, desc: false };
    return h('th', { scope: 'col', role: 'columnheader', 'aria-sort': on ? (st.desc ? 'descending' : 'ascending') : 'none', class: c.cls || null, 'data-col': c.field },
      h('button.sort', { type: 'button', 'data-sort': c.field, onclick: () => go(next), title: `Sort by ${c.label}` }, c.label, sortArrow(dir)));
  }

  function renderTable(page, fresh) {
    const cols = COLUMNS.filter((c) => !c.scope || c.scope === st.scope);
    const cell = (c, r) => c.field === 'Status' && fresh.has(r.id)
      ? [c.cell(r), ' ', h('span.badge.new', { title: 'New since the previous snapshot' }, 'new')] : c.cell(r);
    // explicit table roles: on a phone the rows become cards (CSS display changes), and stay a table to screen readers
    const rows = page.items.map((r) => h('tr', { 'data-id': r.id, role: 'row' }, cols.map((c) => c.field === 'Message'
      ? h('td.msg', { role: 'cell', 'data-label': c.label }, h('a', { href: detailHref(r, st.scope) }, r.message ?? '(no message)'))
      : h('td', { class: c.wrap ? 'wrap' : c.cls || null, role: 'cell', 'data-label': c.label }, cell(c, r)))));
    const caption = `${st.scope === 'cluster' ? 'Cluster-scoped' : 'Namespaced'} results, page ${st.page}`;
    return wrapTable(h('table.grid.results', { role: 'table' }, h('caption.sr-only', {}, caption),
      h('thead', { role: 'rowgroup' }, h('tr', { role: 'row' }, cols.map(headerCell))), h('tbody', { role: 'rowgroup' }, rows)), caption);
  }

  function renderPager(count) {
    const pages = Math.max(1, Math.ceil(count / st.size));
    const btn = (label, page, text) => h('button', {
      type: 'button', 'data-page': label, disabled: page < 1 || page > pages || page === st.page,
      onclick: () => go({ page }, true), 'aria-label': text,
    }, label);
    const size = h('select', { id: 'page-size', 'data-focus': 'size', onchange: (e) => go({ size: Number(e.target.value) }) },
      PAGE_SIZES.map((n) => h('option', { value: n, selected: n === st.size }, String(n))));
    pager.replaceChildren(btn('«', 1, 'First page'), btn('‹', st.page - 1, 'Previous page'),
      h('span', {}, `Page ${num(st.page)} of ${num(pages)}`), btn('›', st.page + 1, 'Next page'), btn('»', pages, 'Last page'),
      h('label', { for: 'page-size' }, 'Per page'), size);
  }

  // Export covers what the view counts: both scopes (when the other one is visible) or the tab's.
  const exportScopes = () => (st.both && theirsNow !== null ? ['namespaced', 'cluster'] : [st.scope]);

  function renderActions(count) {
    const what = exportScopes().length === 2 ? 'both scopes' : SCOPE_NAMES[st.scope];
    const exp = (format) => h('button', { type: 'button', 'data-export': format, disabled: !count && !theirsNow, onclick: () => doExport(format),
      'aria-label': `Export ${format.toUpperCase()} (${what})` }, icon('download'), `Export ${format.toUpperCase()}`);
    // the server's printable violations report of the same filters (both scopes), beside Print
    const report = ctx.data.mode.name === 'api'
      ? [h('a.report', { href: 'v1/html-report/violations?' + apiQuery({ ...st, sort: null }), target: '_blank', rel: 'noopener', 'data-report': 'violations' },
        icon('print'), 'Violations report')] : [];
    actions.replaceChildren(h('button', { type: 'button', 'aria-pressed': st.group ? 'true' : 'false', 'data-focus': 'group', onclick: () => go({ group: !st.group }) },
      'Group by resource'), exp('csv'), exp('json'), h('button', { type: 'button', onclick: () => window.print() }, icon('print'), 'Print'), ...report);
  }

  // polsnap-<scopes>_<filters>-<snapshot time>.<format>, in characters every file system takes
  function exportName(format) {
    const parts = [exportScopes().length === 2 ? 'both-scopes' : st.scope];
    for (const f of FILTERS) {
      const vs = st.filters[f.key];
      if (vs.length) parts.push(`${f.key}-${st.not.has(f.key) ? 'not-' : ''}${vs.join('-')}`);
    }
    if (st.labels && st.labels.length) parts.push('label-' + st.labels.join('-'));
    if (st.search) parts.push('search-' + st.search);
    const s = ctx.data.mode.snapshot;
    const what = parts.join('_').replace(/[^A-Za-z0-9._-]+/g, '-').slice(0, 120);
    return `polsnap-${what}-${(s.created || s.id).replace(/[-:]/g, '')}.${format}`;
  }

  async function doExport(format) {
    const name = exportName(format);
    ctx.announce(`Preparing ${name}…`);
    try {
      const blob = await ctx.data.exportBlob(exportScopes(), apiQuery(st), format, filterLine,
        (p) => ctx.announce(`Exporting: ${num(p.done)} of ${num(p.total)}`));
      const a = h('a', { href: URL.createObjectURL(blob), download: name });
      document.body.append(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(a.href), 60000);
      ctx.announce(`Exported ${name}`);
    } catch (e) {
      ctx.fail(e, tableBox);
    }
  }

  const otherScope = () => (st.scope === 'cluster' ? 'namespaced' : 'cluster');
  const tabHref = (sc) => href('results', writeState({ ...st, scope: sc, page: 1, sort: st.sort === 'Namespace' && sc === 'cluster' ? null : st.sort }));

  // The other scope's count for the same filters, asked once per filter set; null when it cannot be had
  // (a namespace-limited token gets 403 for cluster-scoped results).
  async function countOther() {
    const key = otherScope() + '?' + apiQuery({ ...st, sort: null });
    if (otherCount.key !== key) {
      otherCount = { key, n: ctx.data.results(otherScope(), apiQuery({ ...st, sort: null }, { offset: 0, limit: 1 })).then((o) => o.count, () => null) };
    }
    return otherCount.n;
  }

  function renderTabs(mine, theirs) {
    const counts = { [st.scope]: mine, [otherScope()]: theirs };
    tabs.replaceChildren(...['namespaced', 'cluster'].map((sc) => h('a', {
      href: tabHref(sc), 'aria-current': sc === st.scope ? 'page' : null, 'data-scope': sc,
    }, sc === 'cluster' ? 'Cluster-scoped' : 'Namespaced', h('span.tab-count', { 'data-scope': sc }, typeof counts[sc] === 'number' ? ` (${num(counts[sc])})` : ''))));
  }

  // What the view counts: both scopes (a count of both links here without a scope), or the tab's scope.
  function renderTotal(mine, theirs) {
    const counts = { [st.scope]: mine, [otherScope()]: theirs };
    if (!st.both || theirs === null) {
      total.dataset.count = mine;
      total.textContent = `${num(mine)} ${SCOPE_NAMES[st.scope]} result${mine === 1 ? '' : 's'}` +
        (st.both ? ` (the ${SCOPE_NAMES[otherScope()]} results are not visible to this token)` : '');
      return;
    }
    total.dataset.count = mine + theirs;
    total.textContent = `${num(mine + theirs)} result${mine + theirs === 1 ? '' : 's'} in both scopes: ${num(counts.namespaced)} namespaced, ${num(counts.cluster)} cluster-scoped`;
  }

  function emptyNotice(theirs) {
    if (theirs) {
      return notice('info', `No ${SCOPE_NAMES[st.scope]} results match these filters; ${num(theirs)} ${SCOPE_NAMES[otherScope()]} result${theirs === 1 ? '' : 's'} do. `,
        h('a', { href: tabHref(otherScope()) }, `Show the ${SCOPE_NAMES[otherScope()]} results`));
    }
    const failOnly = st.filters.status.length === 1 && st.filters.status[0] === 'fail' && !st.not.has('status');
    return notice('info', failOnly ? 'Nothing fails with these filters. ' : 'No results match these filters. ',
      h('a', { href: href('results', writeState({ ...st, filters: { ...st.filters, status: [] }, page: 1 })) }, 'Show every status'));
  }

  async function load() {
    const me = ++seq;
    keepFocus(main, renderFilters);
    tableBox.setAttribute('aria-busy', 'true');
    if (!tableBox.firstChild) tableBox.append(loading());
    status.textContent = 'Loading…';
    const theirsP = countOther();
    let page, grouped = null;
    const progress = (p) => { if (me === seq) status.textContent = `Reading the snapshot: ${num(p.done)} of ${num(p.total)} files…`; };
    try {
      if (st.group) {
        grouped = await groupRows(progress);
        page = { count: grouped.count, items: [] };
      } else page = await ctx.data.results(st.scope, apiQuery(st, { offset: (st.page - 1) * st.size, limit: st.size }), progress);
    } catch (e) {
      if (me !== seq) return;
      tableBox.removeAttribute('aria-busy');
      status.textContent = '';
      pager.replaceChildren();
      actions.replaceChildren();
      renderTabs(undefined, await theirsP);
      return ctx.fail(e, tableBox);
    }
    const fresh = await ctx.data.newIds(st.scope);
    const theirs = await theirsP;
    if (me !== seq) return;
    theirsNow = theirs;
    tableBox.removeAttribute('aria-busy');
    status.dataset.count = page.count;
    if (grouped) showGroups(grouped, theirs);
    else showPage(page, fresh, theirs);
    renderTabs(page.count, theirs);
    renderTotal(page.count, theirs);
  }

  function showPage(page, fresh, theirs) {
    const first = page.count ? (st.page - 1) * st.size + 1 : 0;
    const last = (st.page - 1) * st.size + page.items.length;
    status.textContent = !page.count ? 'No results' : page.items.length ? `Showing ${num(first)}–${num(last)} of ${num(page.count)} results` : `${num(page.count)} results`;
    keepFocus(main, () => {
      if (page.items.length) tableBox.replaceChildren(renderTable(page, fresh));
      else if (page.count) tableBox.replaceChildren(notice('info', 'This page is past the end. ', h('a', { href: href('results', writeState({ ...st, page: 1 })) }, 'Go to the first page')));
      else tableBox.replaceChildren(emptyNotice(theirs));
      renderPager(page.count);
      renderActions(page.count);
    });
  }

  // Grouped by resource: the rows (default order, so a resource's rows are neighbours; at most GROUP_MAX)
  // as one entry per namespace, kind and name, paged by resource.
  async function groupRows(progress) {
    const key = st.scope + '?' + apiQuery({ ...st, sort: null });
    if (lastGrouped && lastGrouped.key === key) return lastGrouped.value;
    const rows = [];
    let count = 0;
    for (let offset = 0; offset < GROUP_MAX; offset += 1000) {
      const page = await ctx.data.results(st.scope, apiQuery({ ...st, sort: null }, { offset, limit: 1000 }), progress);
      rows.push(...page.items);
      count = page.count;
      if (rows.length >= count || !page.items.length) break;
    }
    const groups = [];
    for (const r of rows) {
      const g = groups[groups.length - 1];
      if (g && g.namespace === r.namespace && g.kind === r.kind && g.name === r.name) g.rows.push(r);
      else groups.push({ namespace: r.namespace, kind: r.kind, name: r.name, rows: [r] });
    }
    lastGrouped = { key, value: { groups, count, partial: rows.length < count } };
    return lastGrouped.value;
  }

  function showGroups(grouped, theirs) {
    const n = grouped.groups.length;
    const first = (st.page - 1) * st.size;
    const shown = grouped.groups.slice(first, first + st.size);
    status.textContent = !grouped.count ? 'No results' : `Showing resources ${num(Math.min(n, first + 1))}–${num(first + shown.length)} of ${num(n)} (${num(grouped.count)} results)`;
    keepFocus(main, () => {
      if (!grouped.count) tableBox.replaceChildren(emptyNotice(theirs));
      else tableBox.replaceChildren(...(grouped.partial ? [notice('info', `Grouping the first ${num(GROUP_MAX)} of ${num(grouped.count)} results: narrow the filters to group them all.`)] : []),
        groupTable(shown));
      renderPager(n);
      renderActions(grouped.count);
    });
  }

  function groupTable(groups) {
    const cluster = st.scope === 'cluster';
    const heads = [...(cluster ? [] : ['Namespace']), 'Kind', 'Name', 'Results', 'Failing policies'];
    const rows = [];
    for (const g of groups) {
      const key = `${g.namespace}\u0000${g.kind}\u0000${g.name}`;
      const open = expandedGroups.has(key);
      const counts = STATUSES.map((s) => [s, g.rows.filter((r) => r.status === s).length]).filter(([, c]) => c);
      const failing = [...new Set(g.rows.filter((r) => r.status === 'fail' || r.status === 'warn' || r.status === 'error').map((r) => r.policy ?? '(no policy)'))].sort(cmpText);
      rows.push(h('tr.group', { 'data-group': key, 'data-count': g.rows.length },
        cluster ? '' : h('td', {}, g.namespace ?? h('span.muted', {}, '—')), h('td', {}, g.kind ?? '—'),
        h('th.wrap', { scope: 'row' }, h('button.sort', {
          type: 'button', 'aria-expanded': open ? 'true' : 'false', 'data-focus': 'group:' + key,
          onclick: () => { if (open) expandedGroups.delete(key); else expandedGroups.add(key); load(); },
        }, h('span.arrow', { 'aria-hidden': 'true' }, open ? '▼' : '▶'), g.name ?? '(no resource)')),
        h('td', {}, counts.map(([s, c]) => [statusBadge(s), ` ${num(c)} `])),
        h('td.wrap', {}, failing.length ? failing.join(', ') : h('span.muted', {}, 'none'))));
      if (open) {
        rows.push(h('tr.members', {}, h('td', { colspan: String(heads.length) }, h('table.grid', {},
          h('caption.sr-only', {}, `Results of ${g.kind ?? ''} ${g.name ?? '(no resource)'}`),
          h('thead', {}, h('tr', {}, ['Status', 'Severity', 'Policy', 'Rule', 'Message'].map((c) => h('th', { scope: 'col' }, c)))),
          h('tbody', {}, g.rows.map((r) => h('tr', { 'data-id': r.id }, h('td', {}, statusBadge(r.status)), h('td', {}, sevBadge(r.severity)),
            h('td.wrap', {}, r.policy ?? '—'), h('td.wrap', {}, r.rule ?? '—'),
            h('td.msg', {}, h('a', { href: detailHref(r, st.scope) }, r.message ?? '(no message)')))))))));
      }
    }
    const caption = `${st.scope === 'cluster' ? 'Cluster-scoped' : 'Namespaced'} results by resource, page ${st.page}`;
    return wrapTable(h('table.grid.groups', {}, h('caption.sr-only', {}, caption),
      h('thead', {}, h('tr', {}, heads.map((c) => h('th', { scope: 'col' }, c)))), h('tbody', {}, rows)), caption);
  }

  // a click elsewhere closes an open dropdown, as a menu would
  main.addEventListener('click', (e) => {
    for (const d of filterBar.querySelectorAll('details.pick[open]')) if (!d.contains(e.target)) d.open = false;
  });
  load();
  return {
    update(p) {
      st = readState(p);
      load();
    },
    refresh() {
      otherCount = {};
      lastGrouped = null;
      options.clear();
      resolved.clear();
      load();
    },
  };
}
