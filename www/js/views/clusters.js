// clusters.js - the fleet overview of a central snapshot (README "Many clusters"): one row per cluster with its
// fail, warn and error counts, freshness and state (up, stale, gone and why), failing clusters first; each
// cluster links to its results. Shown (and linked from the header) only when the snapshot has several clusters.
import { apiQuery, readState } from '../data.js';
import { h, num, countLink, fmtTime, fmtAge, sortTable, loading, notice } from '../ui.js';

const STATE_ORDER = { gone: 0, stale: 1, up: 2 };
const PARALLEL = 4; // count requests in flight

// One status's count of a cluster's results, both scopes (a namespace-limited token sees its namespaced ones).
async function count(ctx, cluster, status) {
  const st = readState(new URLSearchParams());
  st.filters = { ...st.filters, status: [status], cluster: [cluster] };
  const q = apiQuery(st, { offset: 0, limit: 1 });
  const n = await Promise.all(['namespaced', 'cluster'].map((sc) => ctx.data.results(sc, q).then((p) => p.count, () => 0)));
  return n[0] + n[1];
}

function stateCell(c) {
  return h('span', {}, h('span.badge.state-' + c.state, { 'data-state': c.state }, c.state),
    c.error ? h('span.muted', {}, ' ', c.error) : '');
}

function freshness(c) {
  if (!c.time) return h('span.muted', {}, 'never pulled');
  const t = Date.parse(c.time) / 1000;
  return h('time', { datetime: c.time, title: fmtTime(t) }, fmtAge(Date.now() / 1000 - t));
}

export function mount(main, ctx, params) {
  const body = h('div', {}, loading());
  main.append(h('h1', {}, 'Clusters'), body);
  let p = params;
  let list = null;
  let gen = 0;

  function render() {
    const sort = p.get('sort') || 'failing';
    const rows = list.map((c) => ({ ...c }));
    body.replaceChildren(sortTable({
      // failing clusters first unless another order is asked for
      caption: `${num(rows.length)} clusters`, className: 'grid', sort, desc: p.has('desc') ? p.get('desc') === '1' : sort === 'failing',
      onSort: (key, d) => { location.hash = '#/clusters?' + new URLSearchParams({ sort: key, desc: d ? '1' : '0' }); },
      columns: [
        { key: 'name', label: 'Cluster', value: (c) => c.name, cell: (c) => h('a', { href: '#/results?' + new URLSearchParams({ cluster: c.name }), 'data-cluster': c.name }, c.name) },
        { key: 'failing', label: 'Failing', num: true, value: (c) => (c.fail || 0) * 1e8 + (c.errors ?? 0) * 1e4 + (c.warns ?? 0),
          cell: (c) => countLink(c.fail, { cluster: c.name, status: 'fail' }, `failing results in ${c.name}`) },
        { key: 'warn', label: 'warn', num: true, value: (c) => c.warns ?? -1, cell: (c) => c.warns === undefined ? h('span.muted', {}, '…') : countLink(c.warns, { cluster: c.name, status: 'warn' }) },
        { key: 'error', label: 'error', num: true, value: (c) => c.errors ?? -1, cell: (c) => c.errors === undefined ? h('span.muted', {}, '…') : countLink(c.errors, { cluster: c.name, status: 'error' }) },
        { key: 'rows', label: 'Results', num: true, value: (c) => c.rows, cell: (c) => num(c.rows) },
        { key: 'time', label: 'Snapshot', value: (c) => c.time || '', cell: freshness },
        { key: 'state', label: 'State', value: (c) => STATE_ORDER[c.state] ?? 3, cell: stateCell },
      ],
      rows,
    }));
    const down = list.filter((c) => c.state !== 'up');
    if (down.length) body.prepend(notice('warn', `${num(down.length)} of ${num(list.length)} clusters could not be read at the last pull: `,
      down.map((c) => `${c.name} (${c.state})`).join(', ')));
  }

  async function load() {
    const me = ++gen;
    ctx.title('Clusters');
    list = (await ctx.data.clusters()).map((c) => ({ ...c }));
    if (me !== gen) return;
    if (list.length < 2) {
      body.replaceChildren(notice('info', 'This snapshot describes one cluster or none: there is no fleet to show.'));
      return;
    }
    render();
    // warn and error counts, a few clusters at a time; the table re-sorts as they arrive
    let next = 0;
    const work = async () => {
      while (next < list.length && me === gen) {
        const c = list[next++];
        [c.warns, c.errors] = await Promise.all([count(ctx, c.name, 'warn'), count(ctx, c.name, 'error')]);
      }
    };
    await Promise.all(Array.from({ length: PARALLEL }, work));
    if (me === gen) render();
  }

  load();
  return {
    update(np) { p = np; if (list) render(); },
    refresh() { load(); },
  };
}
