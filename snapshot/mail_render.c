/* mail_render.c - the two email reports as HTML and plain text (mail.h).
 *
 * summary     one line per namespace and source with its pass/fail/warn/error/skip counts,
 *             cluster-scoped results last ("cluster scope"), then the totals;
 * violations  every fail and error result, grouped by namespace then policy, cluster scope
 *             last, at most MAIL_MAX_ROWS of them (the count of the rest is said).
 * Every value is HTML-escaped; the page has no scripts and no remote content. */
#include "mail.h"

#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAIL_MAX_ROWS 5000

static const char *or_dash(const char *s)
{
    return s ? s : "-";
}

/* Whether row r passes the report's filter. */
static int wanted(const struct idx *ix, const struct mail_report *rep, uint32_t r)
{
    const struct idx_row *row = &ix->rows[r];
    const char *ns = idx_str(ix, row->str[IDX_F_NAMESPACE]),
               *src = idx_str(ix, row->str[IDX_F_SOURCE]);
    if (row->cluster && !rep->cluster_scope) return 0;
    if (!row->cluster && ((rep->ns_include.n && !conf_match(&rep->ns_include, or_dash(ns))) ||
                          conf_match(&rep->ns_exclude, or_dash(ns))))
        return 0;
    return !((rep->src_include.n && !conf_match(&rep->src_include, src ? src : "")) ||
             conf_match(&rep->src_exclude, src ? src : ""));
}

static const char style[] =
    "<style>body{font-family:sans-serif;color:#222}table{border-collapse:collapse;margin:0 0 "
    "1em}td,th{border:1px solid #ccc;padding:2px 6px;text-align:left}th{background:#eee}"
    ".fail,.error{color:#a00;font-weight:bold}</style>";

static void page_start(struct buf *h, const char *title, const char *when)
{
    buf_puts(h, "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>");
    buf_put_escaped(h, title);
    buf_puts(h, "</title>");
    buf_puts(h, style);
    buf_puts(h, "</head><body><h1>");
    buf_put_escaped(h, title);
    buf_puts(h, "</h1><p>Snapshot taken at ");
    buf_put_escaped(h, when);
    buf_puts(h, "</p>");
}

struct tally {
    uint32_t ns, src; /* string ids */
    int cluster;
    uint32_t count[IDX_NSTATUS];
};

static int cmp_tally(const void *a, const void *b)
{
    const struct tally *x = a, *y = b;
    if (x->cluster != y->cluster) return x->cluster - y->cluster;
    if (x->ns != y->ns) return x->ns < y->ns ? -1 : 1;
    return x->src < y->src ? -1 : x->src > y->src;
}

static void summary(const struct idx *ix, const struct mail_report *rep, struct buf *h,
                    struct buf *t)
{
    struct tally *v = NULL, total = {0};
    size_t n = 0, cap = 0, group = 0; /* v[group..n): the tallies of the current namespace */
    for (uint32_t r = 0; r < ix->h->nrows; r++) {
        if (!wanted(ix, rep, r)) continue;
        const struct idx_row *row = &ix->rows[r];
        struct tally k = {row->str[IDX_F_NAMESPACE], row->str[IDX_F_SOURCE], row->cluster, {0}};
        if (n && (v[n - 1].ns != k.ns || v[n - 1].cluster != k.cluster)) group = n;
        size_t i = group; /* rows come grouped by scope and namespace (index order) */
        while (i < n && cmp_tally(&v[i], &k) != 0)
            i++;
        if (i == n) {
            if (n == cap) v = xreallocarray(v, cap = cap ? cap * 2 : 64, sizeof *v);
            v[n++] = k;
        }
        v[i].count[row->status]++;
        total.count[row->status]++;
    }
    if (n) qsort(v, n, sizeof *v, cmp_tally);
    buf_puts(h, "<table><tr><th>Namespace</th><th>Source</th><th>Pass</th><th>Fail</th>"
                "<th>Warn</th><th>Error</th><th>Skip</th></tr>");
    buf_puts(t, "namespace / source: pass fail warn error skip\n");
    for (size_t i = 0; i <= n; i++) {
        const struct tally *x = i < n ? &v[i] : &total;
        const char *ns = i == n       ? "all"
                         : x->cluster ? "cluster scope"
                                      : or_dash(idx_str(ix, x->ns));
        const char *src = i == n ? "" : or_dash(idx_str(ix, x->src));
        buf_puts(h, i == n ? "<tr><th>" : "<tr><td>");
        buf_put_escaped(h, ns);
        buf_puts(h, "</td><td>");
        buf_put_escaped(h, src);
        buf_puts(h, "</td>");
        buf_printf(t, "%s%s%s:", ns, *src ? " / " : "", src);
        for (int s = 0; s < IDX_NSTATUS; s++) {
            buf_printf(h, "<td>%u</td>", x->count[s]);
            buf_printf(t, " %u", x->count[s]);
        }
        buf_puts(h, "</tr>");
        buf_putc(t, '\n');
    }
    buf_puts(h, "</table>");
    free(v);
}

/* Rows come in index order (namespace, then name): sort the failing ones by namespace and
 * policy, stably, cluster rows last. */
static const struct idx *sort_ix;
static int cmp_violation(const void *a, const void *b)
{
    const struct idx_row *x = &sort_ix->rows[*(const uint32_t *)a],
                         *y = &sort_ix->rows[*(const uint32_t *)b];
    if (x->cluster != y->cluster) return x->cluster - y->cluster;
    if (x->str[IDX_F_NAMESPACE] != y->str[IDX_F_NAMESPACE])
        return x->str[IDX_F_NAMESPACE] < y->str[IDX_F_NAMESPACE] ? -1 : 1;
    if (x->str[IDX_F_POLICY] != y->str[IDX_F_POLICY])
        return x->str[IDX_F_POLICY] < y->str[IDX_F_POLICY] ? -1 : 1;
    return *(const uint32_t *)a < *(const uint32_t *)b ? -1 : 1;
}

static void violation_row(const struct idx *ix, const struct idx_row *row, struct buf *h,
                          struct buf *t)
{
    const char *f[] = {idx_str(ix, row->str[IDX_F_KIND]), idx_str(ix, row->str[IDX_F_NAME]),
                       idx_str(ix, row->str[IDX_F_RULE]), idx_status_names[row->status],
                       idx_severity_names[row->severity], idx_str(ix, row->str[IDX_F_MESSAGE])};
    buf_puts(h, "<tr>");
    for (size_t i = 0; i < ARRAY_LEN(f); i++) {
        buf_puts(h, i == 3 ? "<td class=\"" : "<td>");
        if (i == 3) buf_printf(h, "%s\">", f[3]);
        buf_put_escaped(h, or_dash(f[i]));
        buf_puts(h, "</td>");
    }
    buf_puts(h, "</tr>");
    buf_printf(t, "  %s %s  %s: %s (%s)  %s\n", or_dash(f[0]), or_dash(f[1]), or_dash(f[2]), f[3],
               or_dash(f[4]), or_dash(f[5]));
}

static void violations(const struct idx *ix, const struct mail_report *rep, struct buf *h,
                       struct buf *t)
{
    uint32_t *ids = xmalloc(sizeof *ids * (ix->h->nrows ? ix->h->nrows : 1)), n = 0;
    for (uint32_t r = 0; r < ix->h->nrows; r++)
        if ((ix->rows[r].status == IDX_FAIL || ix->rows[r].status == IDX_ERROR) &&
            wanted(ix, rep, r))
            ids[n++] = r;
    sort_ix = ix;
    qsort(ids, n, sizeof *ids, cmp_violation);
    buf_printf(h, "<p>%u failing results.</p>", n);
    buf_printf(t, "%u failing results.\n", n);
    for (uint32_t i = 0; i < n && i < MAIL_MAX_ROWS; i++) {
        const struct idx_row *row = &ix->rows[ids[i]], *prev = i ? &ix->rows[ids[i - 1]] : NULL;
        if (!prev || prev->cluster != row->cluster ||
            prev->str[IDX_F_NAMESPACE] != row->str[IDX_F_NAMESPACE] ||
            prev->str[IDX_F_POLICY] != row->str[IDX_F_POLICY]) {
            const char *ns =
                row->cluster ? "cluster scope" : or_dash(idx_str(ix, row->str[IDX_F_NAMESPACE]));
            const char *pol = or_dash(idx_str(ix, row->str[IDX_F_POLICY]));
            if (prev) buf_puts(h, "</table>");
            buf_puts(h, "<h2>");
            buf_put_escaped(h, ns);
            buf_puts(h, ": ");
            buf_put_escaped(h, pol);
            buf_puts(h, "</h2><table><tr><th>Kind</th><th>Name</th><th>Rule</th><th>Status</th>"
                        "<th>Severity</th><th>Message</th></tr>");
            buf_printf(t, "\n%s: %s\n", ns, pol);
        }
        violation_row(ix, row, h, t);
    }
    if (n) buf_puts(h, "</table>");
    if (n > MAIL_MAX_ROWS) {
        buf_printf(h, "<p>... and %u more (see the dashboard).</p>", n - MAIL_MAX_ROWS);
        buf_printf(t, "\n... and %u more (see the dashboard).\n", n - MAIL_MAX_ROWS);
    }
    free(ids);
}

void mail_render(const struct idx *ix, const struct mail_report *r, char *subject, size_t n,
                 struct buf *h, struct buf *t)
{
    char when[21];
    rfc3339_utc(ix->h->created, when);
    snprintf(subject, n, "polsnap %s report %s (%s)", r->violations ? "violations" : "summary",
             r->name, when);
    page_start(h, subject, when);
    buf_printf(t, "%s\nSnapshot taken at %s\n\n", subject, when);
    if (r->violations)
        violations(ix, r, h, t);
    else
        summary(ix, r, h, t);
    buf_puts(h, "</body></html>\n");
}
