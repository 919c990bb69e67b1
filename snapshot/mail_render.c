/* mail_render.c - the two email reports as HTML and plain text (mail.h).
 *
 * summary     one line per namespace and source with its pass/fail/warn/error/skip counts,
 *             cluster-scoped results last ("cluster scope"), then the totals;
 * violations  every fail and error result, grouped by namespace then policy, cluster scope
 *             last, at most MAIL_MAX_ROWS of them (the count of the rest is said).
 * Every value is HTML-escaped; the page has no scripts and no remote content. The page and the
 * violations list are common/html_report.c's, which /v1/html-report/violations renders too. */
#include "mail.h"

#include "html_report.h"
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

static void violations(const struct idx *ix, const struct mail_report *rep, struct buf *h,
                       struct buf *t)
{
    uint32_t *ids = xmalloc(sizeof *ids * (ix->h->nrows ? ix->h->nrows : 1)), n = 0;
    for (uint32_t r = 0; r < ix->h->nrows; r++)
        if ((ix->rows[r].status == IDX_FAIL || ix->rows[r].status == IDX_ERROR) &&
            wanted(ix, rep, r))
            ids[n++] = r;
    html_report_violations(ix, ids, n, MAIL_MAX_ROWS, h, t);
    free(ids);
}

void mail_render(const struct idx *ix, const struct mail_report *r, char *subject, size_t n,
                 struct buf *h, struct buf *t)
{
    char when[21];
    rfc3339_utc(ix->h->created, when);
    snprintf(subject, n, "polsnap %s report %s (%s)", r->violations ? "violations" : "summary",
             r->name, when);
    html_report_start(h, subject, when);
    buf_printf(t, "%s\nSnapshot taken at %s\n\n", subject, when);
    if (r->violations)
        violations(ix, r, h, t);
    else
        summary(ix, r, h, t);
    html_report_end(h);
}
