/* html_report.c - the printable violations report (html_report.h). */
#include "html_report.h"

#include "util.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The one style element's content; html_report_csp() allows exactly these bytes. */
static const char style[] =
    "body{font-family:sans-serif;color:#222}table{border-collapse:collapse;margin:0 0 1em}"
    "td,th{border:1px solid #ccc;padding:2px 6px;text-align:left}th{background:#eee}"
    ".fail,.error{color:#a00;font-weight:bold}h2{font-size:1.1em;break-after:avoid}"
    "@media print{body{font-size:10pt}tr{break-inside:avoid}}";

const char *html_report_csp(void)
{
    static char csp[160];
    if (csp[0]) return csp;
    unsigned char md[EVP_MAX_MD_SIZE], b64[64];
    unsigned int mdlen = 0;
    if (!EVP_Digest(style, sizeof style - 1, md, &mdlen, EVP_sha256(), NULL) || mdlen != 32)
        abort();
    EVP_EncodeBlock(b64, md, (int)mdlen);
    snprintf(csp, sizeof csp,
             "default-src 'none'; style-src 'sha256-%s'; base-uri 'none'; form-action 'none'; "
             "frame-ancestors 'none'",
             (const char *)b64);
    return csp;
}

/* A value as isolated, escaped text; "-" for a blank one. */
static void value(struct buf *h, const char *s)
{
    buf_puts(h, "<bdi>");
    buf_put_escaped(h, s ? s : "-");
    buf_puts(h, "</bdi>");
}

static const char *or_dash(const char *s)
{
    return s ? s : "-";
}

void html_report_start(struct buf *h, const char *title, const char *when)
{
    buf_puts(h, "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>");
    buf_put_escaped(h, title);
    buf_puts(h, "</title><style>");
    buf_puts(h, style);
    buf_puts(h, "</style></head><body><h1>");
    value(h, title);
    buf_puts(h, "</h1><p>Snapshot taken at ");
    value(h, when);
    buf_puts(h, "</p>");
}

void html_report_end(struct buf *h)
{
    buf_puts(h, "</body></html>\n");
}

/* The group order: cluster scope last, then namespace and policy (string ids: byte order). */
static int cmp_group(const struct idx_row *x, const struct idx_row *y)
{
    if (x->cluster != y->cluster) return x->cluster - y->cluster;
    if (x->str[IDX_F_NAMESPACE] != y->str[IDX_F_NAMESPACE])
        return x->str[IDX_F_NAMESPACE] < y->str[IDX_F_NAMESPACE] ? -1 : 1;
    if (x->str[IDX_F_POLICY] != y->str[IDX_F_POLICY])
        return x->str[IDX_F_POLICY] < y->str[IDX_F_POLICY] ? -1 : 1;
    return 0;
}

/* Groups, then row order within one (the sort's context is the index, through qsort_r). */
static int cmp_violation(const void *a, const void *b, void *ctx)
{
    const struct idx *ix = ctx;
    uint32_t i = *(const uint32_t *)a, j = *(const uint32_t *)b;
    int c = cmp_group(&ix->rows[i], &ix->rows[j]);
    return c ? c : (i < j ? -1 : i > j);
}

static void violation_row(const struct idx *ix, const struct idx_row *row, struct buf *h,
                          struct buf *t)
{
    const char *f[] = {idx_str(ix, row->str[IDX_F_KIND]), idx_str(ix, row->str[IDX_F_NAME]),
                       idx_str(ix, row->str[IDX_F_RULE]), idx_status_names[row->status],
                       idx_severity_names[row->severity], idx_str(ix, row->str[IDX_F_MESSAGE])};
    buf_puts(h, "<tr>");
    for (size_t i = 0; i < ARRAY_LEN(f); i++) {
        if (i == 3)
            buf_printf(h, "<td class=\"%s\">", f[3]);
        else
            buf_puts(h, "<td>");
        value(h, f[i]);
        buf_puts(h, "</td>");
    }
    buf_puts(h, "</tr>");
    if (t)
        buf_printf(t, "  %s %s  %s: %s (%s)  %s\n", or_dash(f[0]), or_dash(f[1]), or_dash(f[2]),
                   f[3], or_dash(f[4]), or_dash(f[5]));
}

/* The heading and table head of a namespace (ns, a string id; cluster: the cluster scope) and
 * policy group. */
static void group_start(const struct idx *ix, int cluster, uint32_t ns_id, uint32_t policy,
                        struct buf *h, struct buf *t)
{
    const char *ns = cluster ? "cluster scope" : or_dash(idx_str(ix, ns_id));
    const char *pol = or_dash(idx_str(ix, policy));
    buf_puts(h, "<h2>");
    value(h, ns);
    buf_puts(h, ": ");
    value(h, pol);
    buf_puts(h, "</h2><table><tr><th>Kind</th><th>Name</th><th>Rule</th><th>Status</th>"
                "<th>Severity</th><th>Message</th></tr>");
    if (t) buf_printf(t, "\n%s: %s\n", ns, pol);
}

void html_report_violations(const struct idx *ix, uint32_t *ids, size_t n, size_t max,
                            struct buf *h, struct buf *t)
{
    qsort_r(ids, n, sizeof *ids, cmp_violation, (void *)ix);
    buf_printf(h, "<p>%lu failing results.</p>", (unsigned long)n);
    if (t) buf_printf(t, "%lu failing results.\n", (unsigned long)n);
    for (size_t i = 0; i < n && i < max; i++) {
        const struct idx_row *row = &ix->rows[ids[i]];
        if (i == 0 || cmp_group(&ix->rows[ids[i - 1]], row) != 0) {
            if (i) buf_puts(h, "</table>");
            group_start(ix, row->cluster, row->str[IDX_F_NAMESPACE], row->str[IDX_F_POLICY], h, t);
        }
        violation_row(ix, row, h, t);
    }
    if (n && max) buf_puts(h, "</table>");
    if (n > max) {
        buf_printf(h, "<p>... and %lu more (see the dashboard).</p>", (unsigned long)(n - max));
        if (t) buf_printf(t, "\n... and %lu more (see the dashboard).\n", (unsigned long)(n - max));
    }
}
