// detail.js - one result's permalink: every field of /v1/results/{id}, or of its row on a static copy.
import { h, href, fmtAge, statusBadge, sevBadge, loading, notice, wrapTable } from '../ui.js';

function val(v) {
  return v === null || v === undefined || v === '' ? h('span.muted', {}, '—') : String(v);
}

function fields(pairs) {
  return h('dl.fields', {}, pairs.map(([k, v]) => [h('dt', {}, k), h('dd', { 'data-field': k }, v instanceof Node ? v : val(v))]));
}

// "2026-11-22T10:00:00Z (failing for 3 days)" from the detail's firstSeen, or null.
function failingSince(r) {
  if (!r.firstSeen) return null;
  const age = fmtAge((Date.now() - Date.parse(r.firstSeen)) / 1000).replace(/ ago$/, '');
  return h('span', {}, h('time', { datetime: r.firstSeen }, r.firstSeen), ` (failing for ${age})`);
}

function rfc3339(unix) {
  return unix === null || unix === undefined ? null : new Date(unix * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
}

export function mount(main, ctx, params, id) {
  const body = h('div');
  main.append(h('h1', {}, 'Result'), body);
  ctx.title('Result');
  let gen = 0;

  async function load(p, rid) {
    const me = ++gen;
    body.replaceChildren(loading());
    const scope = p.get('scope') === 'cluster' ? 'cluster' : p.get('scope') === 'namespaced' ? 'namespaced' : undefined;
    const namespace = scope === 'namespaced' ? (p.has('ns') ? p.get('ns') : null) : undefined;
    let found;
    try {
      found = await ctx.data.detail(rid, scope, namespace);
    } catch (e) {
      if (me === gen) ctx.fail(e, body);
      return;
    }
    if (me !== gen) return;
    if (!found) {
      body.replaceChildren(notice('warn', 'This result is not in the current snapshot: it may have been fixed or removed. ',
        h('a', { href: '#/results' }, 'See the failing results')));
      return;
    }
    const r = found.row;
    const res = r.resource || null;
    const rep = r.report || null;
    const ts = typeof r.timestamp === 'string' ? r.timestamp : rfc3339(r.timestamp);
    const ns = res ? res.namespace : r.namespace;
    const kind = res ? res.kind : r.kind;
    const name = res ? res.name : r.name;
    const cluster = found.scope === 'cluster' || scope === 'cluster' || (rep && /^Cluster/.test(rep.kind || ''));
    const sameResource = href('results', { scope: cluster ? 'cluster' : null, status: '',
      namespace: r.namespace ?? undefined, kind: kind ?? undefined, resource: name ?? undefined });
    ctx.title(`${r.policy || 'Result'} on ${name || 'no resource'}`);
    const props = r.properties && typeof r.properties === 'object' ? Object.entries(r.properties) : [];
    body.replaceChildren(
      h('section.panel', { 'aria-labelledby': 'd-h' }, h('h2#d-h', {}, r.policy ?? '(no policy)', r.rule ? ` / ${r.rule}` : ''),
        fields([
          ['Status', statusBadge(r.status)], ['Severity', sevBadge(r.severity)], ['Message', r.message],
          ['Policy', r.policy], ['Rule', r.rule], ['Category', r.category], ['Source', r.source],
          ['Namespace', r.namespace], ['Kind', kind], ['Name', name],
          ['Timestamp', ts ? h('time', { datetime: ts }, ts) : null],
          ...(found.detailed ? [['Scored', r.scored === null || r.scored === undefined ? null : String(r.scored)],
            ['Change', r.change === 'new' ? h('span.badge.new', {}, 'new since the previous snapshot') : r.change],
            ['First seen', failingSince(r)]] : []),
          ['ID', h('code', {}, r.id)],
        ])),
      found.detailed ? h('section.panel', { 'aria-labelledby': 'r-h' }, h('h2#r-h', {}, 'Resource and report'), fields([
        ['Resource API version', res && res.apiVersion], ['Resource kind', res && res.kind], ['Resource name', res && res.name],
        ['Resource namespace', res && res.namespace], ['Resource UID', res && res.uid],
        ['Report kind', rep && rep.kind], ['Report name', rep && rep.name], ['Report namespace', rep && rep.namespace],
      ])) : notice('info', 'This copy has no detail endpoint: the report and the resource UID are shown by the API (/v1/results/{id}) only.'),
      h('section.panel', { 'aria-labelledby': 'p-h' }, h('h2#p-h', {}, 'Properties'), props.length
        ? wrapTable(h('table.grid#props', {}, h('caption', {}, 'Properties'), h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Key'), h('th', { scope: 'col' }, 'Value'))),
          h('tbody', {}, props.map(([k, v]) => h('tr', {}, h('th.wrap', { scope: 'row' }, k), h('td.wrap', {}, typeof v === 'string' ? v : JSON.stringify(v)))))), 'Properties table')
        : h('p.muted', {}, 'None')),
      h('p.row.no-print', {},
        h('a', { href: sameResource }, 'Every result for this resource'),
        r.policy ? h('a', { href: href('results', { status: '', policy: r.policy, rule: r.rule ?? undefined }) }, 'Every result of this rule') : '',
        ns ? h('a', { href: href('namespaces', { ns }) }, `Namespace ${ns}`) : '',
        h('span', {}, 'Permalink: ', h('code', {}, location.origin + location.pathname + location.hash))));
  }

  load(params, id);
  return {
    update(p, rid) { id = rid; params = p; load(p, rid); },
    refresh() { load(params, id); },
  };
}
