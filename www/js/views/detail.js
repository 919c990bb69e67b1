// detail.js - one result's permalink: every field of /v1/results/{id}, or of its row on a static copy.
import { h, href, icon, fmtAge, rfc3339, statusBadge, sevBadge, loading, notice, wrapTable } from '../ui.js';

function val(v) {
  return v === null || v === undefined || v === '' ? h('span.muted', {}, '—') : String(v);
}

function fields(pairs) {
  return h('dl.fields', {}, pairs.map(([k, v]) => [h('dt', {}, k), h('dd', { 'data-field': k }, v instanceof Node ? v : val(v))]));
}

// "2026-11-22T10:00:00Z (failing for 3 days)" from the detail's firstSeen, or null.
// Back to the list this result was opened from: history.back() when that list is the previous entry (so its
// scroll position comes back), else a link to it; without one, to the failing results.
function backLink(ctx) {
  const l = ctx.lastList();
  const to = l ? l.hash || '#/' : '#/results';
  const label = !l ? 'All failing results' : /^#\/results/.test(to) ? 'Back to the results' : /^#\/namespaces/.test(to) ? 'Back to the namespace'
    : /^#\/policies/.test(to) ? 'Back to the policies' : 'Back to the overview';
  return h('p.no-print', {}, h('a#back', {
    href: to, onclick: (e) => { if (l && l.back) { e.preventDefault(); history.back(); } },
  }, '← ', label));
}

// `kubectl get` for the resource: kind.group for a kind outside the core group (apiVersion "apps/v1"), the
// name, the namespace; values quoted for a POSIX shell when they hold anything but [A-Za-z0-9._:/-].
function kubectl(kind, name, ns, apiVersion) {
  if (!kind || !name) return null;
  const q = (v) => (/^[A-Za-z0-9._:/-]+$/.test(v) ? v : `'${v.replace(/'/g, "'\\''")}'`);
  const group = apiVersion && apiVersion.includes('/') ? '.' + apiVersion.split('/')[0] : '';
  return `kubectl get ${q(kind.toLowerCase() + group)} ${q(name)}${ns ? ' -n ' + q(ns) : ''} -o yaml`;
}

// A command with a button that copies it (the clipboard needs a secure context: else the text is selected).
function copyable(ctx, id, text, label) {
  const code = h('code', { id }, text);
  return h('div.copy', {}, h('span.muted', {}, label, ': '), code, h('button', {
    type: 'button', 'data-focus': 'copy-' + id, 'aria-label': `Copy: ${label}`,
    onclick: async () => {
      try {
        await navigator.clipboard.writeText(text);
        ctx.announce('Copied to the clipboard');
      } catch {
        getSelection().selectAllChildren(code);
        ctx.announce('Selected: press Ctrl+C to copy');
      }
    },
  }, icon('copy'), 'Copy'));
}

// A property value: links stay links (http and https only), anything else is text.
function propValue(v) {
  const text = typeof v === 'string' ? v : JSON.stringify(v);
  return /^https?:\/\/[^\s]+$/.test(text) ? h('a', { href: text, rel: 'noopener noreferrer' }, text) : text;
}

function failingSince(r) {
  if (!r.firstSeen) return null;
  const age = fmtAge((Date.now() - Date.parse(r.firstSeen)) / 1000).replace(/ ago$/, '');
  return h('span', {}, h('time', { datetime: r.firstSeen }, r.firstSeen), ` (failing for ${age})`);
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
    const list = (filters) => href('results', { scope: cluster ? 'cluster' : 'namespaced', status: '', ...filters });
    const sameResource = list({ namespace: r.namespace ?? undefined, kind: kind ?? undefined, resource: name ?? undefined });
    ctx.title(`${r.policy || 'Result'} on ${name || 'no resource'}`);
    const props = r.properties && typeof r.properties === 'object' ? Object.entries(r.properties) : [];
    const link = (v, to) => (v === null || v === undefined || v === '' ? null : h('a', { href: to }, v));
    const cmd = kubectl(kind, name, ns, res && res.apiVersion);
    body.replaceChildren(
      backLink(ctx),
      h('section.panel', { 'aria-labelledby': 'd-h' }, h('h2#d-h', {}, r.policy ?? '(no policy)', r.rule ? ` / ${r.rule}` : ''),
        fields([
          ['Status', statusBadge(r.status)], ['Severity', sevBadge(r.severity)], ['Message', r.message],
          ['Policy', link(r.policy, href('policies', { policy: r.policy }))],
          ['Rule', link(r.rule, list({ policy: r.policy ?? undefined, rule: r.rule }))],
          ['Category', link(r.category, list({ category: r.category }))],
          ['Source', link(r.source, list({ source: r.source }))],
          ['Namespace', link(r.namespace, href('namespaces', { ns: r.namespace }))],
          ['Kind', link(kind, list({ kind }))], ['Name', link(name, sameResource)],
          ['Timestamp', ts ? h('time', { datetime: ts }, ts) : null],
          ...(found.detailed ? [['Scored', r.scored === null || r.scored === undefined ? null : String(r.scored)],
            ['Change', r.change === 'new' ? h('span.badge.new', {}, 'new since the previous snapshot') : r.change],
            ['First seen', failingSince(r)]] : []),
          ['ID', h('code', {}, r.id)],
        ]),
        cmd ? copyable(ctx, 'kubectl', cmd, 'The command that shows the resource') : ''),
      found.detailed ? h('section.panel', { 'aria-labelledby': 'r-h' }, h('h2#r-h', {}, 'Resource and report'), fields([
        ['Resource API version', res && res.apiVersion], ['Resource kind', res && res.kind], ['Resource name', res && res.name],
        ['Resource namespace', res && res.namespace], ['Resource UID', res && res.uid],
        ['Report kind', rep && rep.kind], ['Report name', rep && rep.name], ['Report namespace', rep && rep.namespace],
      ])) : notice('info', 'This copy has no detail endpoint: the report and the resource UID are shown by the API (/v1/results/{id}) only.'),
      h('section.panel', { 'aria-labelledby': 'p-h' }, h('h2#p-h', {}, 'Properties'), props.length
        ? wrapTable(h('table.grid#props', {}, h('caption', {}, 'Properties'), h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Key'), h('th', { scope: 'col' }, 'Value'))),
          h('tbody', {}, props.map(([k, v]) => h('tr', {}, h('th.wrap', { scope: 'row' }, k), h('td.wrap', {}, propValue(v)))))), 'Properties table')
        : h('p.muted', {}, 'None')),
      h('p.row.no-print', {},
        h('a', { href: sameResource }, 'Every result for this resource'),
        r.policy ? h('a', { href: list({ policy: r.policy, rule: r.rule ?? undefined }) }, 'Every result of this rule') : '',
        ns ? h('a', { href: href('namespaces', { ns }) }, `Namespace ${ns}`) : '',
        h('span', {}, 'Permalink: ', h('code', {}, location.origin + location.pathname + location.hash))));
  }

  load(params, id);
  return {
    update(p, rid) { id = rid; params = p; load(p, rid); },
    refresh() { load(params, id); },
  };
}
