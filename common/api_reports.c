/* api_reports.c - Policy Reporter 3's reports (spec section 12): the report lists,
 * /v1/policy-reports and /v1/cluster-policy-reports (one item per report document with its
 * labels and recomputed counts, filtered by the report's namespace, source and labels), and
 * the printable /v1/html-report/violations. */
#include "api_common.h"

#include "html_report.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

/* value is one of v's (ASCII-folded equality, as the filters match); v empty: any. NULL
 * (a blank field) matches only an absent filter. */
static int matches_any(const struct query_values *v, const char *value)
{
    if (!v->n) return 1;
    for (size_t i = 0; value && i < v->n; i++)
        if (ascii_casecmp(value, v->v[i]) == 0) return 1;
    return 0;
}

/* A namespace-limited view sees the reports of its namespaces (exact names). */
static int visible(const struct api_view *view, const char *ns)
{
    if (!view || !view->namespaces) return 1;
    for (size_t i = 0; ns && i < view->nnamespaces; i++)
        if (strcmp(ns, view->namespaces[i]) == 0) return 1;
    return 0;
}

/* The list's order: namespace, name, then kind and load order so that it is total. String ids
 * are byte-order ranks and null (0) comes first. */
struct report_key {
    uint32_t ns, name, kind, index;
};

static int cmp_report_keys(const void *a, const void *b)
{
    const struct report_key *x = a, *y = b;
    if (x->ns != y->ns) return x->ns < y->ns ? -1 : 1;
    if (x->name != y->name) return x->name < y->name ? -1 : 1;
    if (x->kind != y->kind) return x->kind < y->kind ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

/* {"id",...,"labels":{...}|null,"pass",...} of report r; its labels are in key order. */
static void put_report(struct buf *b, const struct idx *ix, const struct idx_report *r)
{
    api_put_field(b, ix, "{\"id\":", r->id);
    api_put_field(b, ix, ",\"name\":", r->name);
    api_put_field(b, ix, ",\"namespace\":", r->namespace);
    api_put_field(b, ix, ",\"source\":", r->source);
    buf_puts(b, ",\"labels\":");
    if (!r->label_n) buf_puts(b, "null");
    for (uint32_t i = 0; i < r->label_n; i++) {
        const struct idx_label *l = &ix->labels[ix->report_labels[r->label_off + i]];
        const char *v = idx_str(ix, l->value);
        buf_putc(b, i ? ',' : '{');
        buf_json_str(b, idx_str(ix, l->key));
        buf_putc(b, ':');
        buf_json_str(b, v ? v : "");
    }
    if (r->label_n) buf_putc(b, '}');
    static const int order[] = {IDX_PASS, IDX_SKIP, IDX_WARN, IDX_ERROR, IDX_FAIL};
    for (size_t s = 0; s < ARRAY_LEN(order); s++)
        buf_printf(b, ",\"%s\":%u", idx_status_names[order[s]], r->count[order[s]]);
    buf_putc(b, '}');
}

int api_policy_reports(const struct api_ctx *c, struct err *e)
{
    (void)e;
    const struct idx *ix = c->ix;
    const struct query *q = c->q;
    uint32_t cluster = c->ep->scope == API_CLUSTER;
    struct bitmap labelled;
    bitmap_init(&labelled, ix->h->nreports);
    query_label_reports(ix, q, &labelled);
    struct report_key *keys = xmalloc(sizeof *keys * (ix->h->nreports + 1));
    size_t n = 0;
    for (uint32_t i = 0; i < ix->h->nreports; i++) {
        const struct idx_report *r = &ix->reports[i];
        const char *ns = idx_str(ix, r->namespace);
        if (r->cluster != cluster || !bitmap_get(&labelled, i) || !visible(c->view, ns) ||
            !matches_any(&q->filter[IDX_F_NAMESPACE], cluster ? NULL : ns) ||
            !matches_any(&q->filter[IDX_F_SOURCE], idx_str(ix, r->source)))
            continue;
        keys[n++] = (struct report_key){cluster ? 0 : r->namespace, r->name, r->kind, i};
    }
    qsort(keys, n, sizeof *keys, cmp_report_keys);
    size_t first, count;
    query_window(q, n, &first, &count);
    int desc = q->desc || q->reversed;
    buf_puts(c->out, "{\"items\":[");
    for (size_t i = first; i < first + count; i++) {
        if (i > first) buf_putc(c->out, ',');
        put_report(c->out, ix, &ix->reports[keys[desc ? n - 1 - i : i].index]);
    }
    buf_printf(c->out, "],\"count\":%lu}", (unsigned long)n);
    free(keys);
    bitmap_release(&labelled);
    return 200;
}

/* Every fail and error row of the selection on one printable page (html_report.h). */
int api_html_violations(const struct api_ctx *c, struct err *e)
{
    (void)e;
    const struct idx *ix = c->ix;
    struct bitmap sel;
    api_select(c, &sel);
    uint32_t *ids = xmalloc(sizeof *ids * (bitmap_count(&sel) + 1));
    size_t n = 0;
    for (size_t r = bitmap_next(&sel, 0); r < sel.nbits; r = bitmap_next(&sel, r + 1))
        if (ix->rows[r].status == IDX_FAIL || ix->rows[r].status == IDX_ERROR)
            ids[n++] = (uint32_t)r;
    char when[21];
    rfc3339_utc(ix->h->created, when);
    html_report_start(c->out, "polsnap violations report", when);
    html_report_violations(ix, ids, n, SIZE_MAX, c->out, NULL);
    html_report_end(c->out);
    free(ids);
    bitmap_release(&sel);
    return 200;
}
