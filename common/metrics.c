/* metrics.c - Prometheus exposition of a snapshot: result and summary gauges, and the
 * snapshot's own health. */
#include "metrics.h"

#include "util.h"

#include <stdlib.h>
#include <string.h>

static void put_label(struct buf *b, const char *name, const char *value, int first)
{
    buf_puts(b, first ? "" : ",");
    buf_puts(b, name);
    buf_puts(b, "=\"");
    for (const char *p = value ? value : ""; *p; p++) {
        if (*p == '\\')
            buf_add(b, "\\\\", 2);
        else if (*p == '"')
            buf_add(b, "\\\"", 2);
        else if (*p == '\n')
            buf_add(b, "\\n", 2);
        else
            buf_putc(b, *p);
    }
    buf_putc(b, '"');
}

/* The label values of a result line (alphabetical label order, as the reference prints). */
enum {
    L_CATEGORY,
    L_KIND,
    L_NAME,
    L_NAMESPACE,
    L_POLICY,
    L_REPORT,
    L_RULE,
    L_SEVERITY,
    L_SOURCE,
    L_STATUS,
    L_N
};
static const int label_field[L_N] = {IDX_F_CATEGORY, IDX_F_KIND,   IDX_F_NAME, IDX_F_NAMESPACE,
                                     IDX_F_POLICY,   IDX_F_REPORT, IDX_F_RULE, IDX_F_SEVERITY,
                                     IDX_F_SOURCE,   IDX_F_STATUS};
static const char *const label_name[L_N] = {"category", "kind", "name",     "namespace", "policy",
                                            "report",   "rule", "severity", "source",    "status"};

static const struct idx *sort_ix;
static int cmp_labels(const void *a, const void *b)
{
    const struct idx_row *x = &sort_ix->rows[*(const uint32_t *)a];
    const struct idx_row *y = &sort_ix->rows[*(const uint32_t *)b];
    for (int l = 0; l < L_N; l++) {
        uint32_t u = x->str[label_field[l]], v = y->str[label_field[l]];
        if (u != v) return u < v ? -1 : 1;
    }
    return *(const uint32_t *)a < *(const uint32_t *)b ? -1 : 1;
}

static int same_labels(const struct idx_row *x, const struct idx_row *y)
{
    for (int l = 0; l < L_N; l++)
        if (x->str[label_field[l]] != y->str[label_field[l]]) return 0;
    return 1;
}

/* Rows [lo, hi) as result lines, the cluster label first when the snapshot has clusters
 * (spec 10). Identical label sets can only occur among rows that agree on cluster, namespace,
 * name, kind, policy and rule, which are neighbours in row order: each such run is sorted by
 * its labels and repeats are skipped. */
static void result_lines(const struct idx *ix, struct buf *b, const char *family, uint32_t lo,
                         uint32_t hi, int with_namespace)
{
    uint32_t *run = NULL;
    size_t cap = 0;
    for (uint32_t start = lo, end; start < hi; start = end) {
        const struct idx_row *s = &ix->rows[start];
        for (end = start + 1; end < hi; end++) {
            const struct idx_row *e = &ix->rows[end];
            if (e->str[IDX_F_CLUSTER] != s->str[IDX_F_CLUSTER] ||
                e->str[IDX_F_NAMESPACE] != s->str[IDX_F_NAMESPACE] ||
                e->str[IDX_F_NAME] != s->str[IDX_F_NAME] ||
                e->str[IDX_F_KIND] != s->str[IDX_F_KIND] ||
                e->str[IDX_F_POLICY] != s->str[IDX_F_POLICY] ||
                e->str[IDX_F_RULE] != s->str[IDX_F_RULE])
                break;
        }
        size_t n = end - start;
        if (n > cap) {
            cap = n * 2;
            run = xreallocarray(run, cap, sizeof *run);
        }
        for (size_t i = 0; i < n; i++)
            run[i] = start + (uint32_t)i;
        if (n > 1) {
            sort_ix = ix;
            qsort(run, n, sizeof *run, cmp_labels);
        }
        for (size_t i = 0; i < n; i++) {
            const struct idx_row *row = &ix->rows[run[i]];
            if (i && same_labels(row, &ix->rows[run[i - 1]])) continue;
            buf_puts(b, family);
            buf_putc(b, '{');
            int first = 1;
            if (idx_has_clusters(ix)) {
                put_label(b, "cluster", idx_str(ix, row->str[IDX_F_CLUSTER]), 1);
                first = 0;
            }
            for (int l = 0; l < L_N; l++) {
                if (l == L_NAMESPACE && !with_namespace) continue;
                put_label(b, label_name[l], idx_str(ix, row->str[label_field[l]]), first);
                first = 0;
            }
            buf_puts(b, "} 1\n");
        }
    }
    free(run);
}

static int cmp_reports(const void *a, const void *b)
{
    const struct idx_report *x = &sort_ix->reports[*(const uint32_t *)a];
    const struct idx_report *y = &sort_ix->reports[*(const uint32_t *)b];
    if (x->cluster_name != y->cluster_name) return x->cluster_name < y->cluster_name ? -1 : 1;
    if (x->name != y->name) return x->name < y->name ? -1 : 1;
    if (x->namespace != y->namespace) return x->namespace < y->namespace ? -1 : 1;
    return *(const uint32_t *)a < *(const uint32_t *)b ? -1 : 1;
}

/* Summary lines sorted by cluster, report name and namespace (by label text, as Prometheus
 * clients print them), five statuses each. */
static void summary_lines(const struct idx *ix, struct buf *b, const char *family, int cluster)
{
    /* alphabetical, as the reference prints them */
    static const struct {
        const char *title;
        int status;
    } statuses[] = {{"Error", IDX_ERROR},
                    {"Fail", IDX_FAIL},
                    {"Pass", IDX_PASS},
                    {"Skip", IDX_SKIP},
                    {"Warn", IDX_WARN}};
    uint32_t *order = xmalloc(sizeof *order * (ix->h->nreports + 1)), n = 0;
    for (uint32_t r = 0; r < ix->h->nreports; r++)
        if ((int)ix->reports[r].cluster == cluster) order[n++] = r;
    sort_ix = ix;
    qsort(order, n, sizeof *order, cmp_reports);
    for (uint32_t k = 0; k < n; k++) {
        const struct idx_report *rep = &ix->reports[order[k]];
        for (size_t i = 0; i < ARRAY_LEN(statuses); i++) {
            buf_puts(b, family);
            buf_putc(b, '{');
            int clusters = idx_has_clusters(ix);
            if (clusters) put_label(b, "cluster", idx_str(ix, rep->cluster_name), 1);
            put_label(b, "name", idx_str(ix, rep->name), !clusters);
            if (!cluster) put_label(b, "namespace", idx_str(ix, rep->namespace), 0);
            put_label(b, "status", statuses[i].title, 0);
            buf_printf(b, "} %u\n", rep->count[statuses[i].status]);
        }
    }
    free(order);
}

static void family(struct buf *b, const char *name, const char *help)
{
    buf_printf(b, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
}

/* The notification targets' delivery state as of the snapshot (written only when there are
 * targets): the last outcome, findings delivered, messages given up on. */
static void target_lines(const struct idx *ix, struct buf *b)
{
    static const struct {
        const char *name, *type, *help;
    } fams[] = {
        {"polsnap_target_up", "gauge",
         "Whether the target's last delivery before this snapshot succeeded"},
        {"polsnap_target_sent_total", "counter", "Findings delivered to the target"},
        {"polsnap_target_failed_total", "counter",
         "Messages the target did not take after their retries (kept and sent again)"},
    };
    for (size_t f = 0; f < ARRAY_LEN(fams) && ix->h->ntargets; f++) {
        buf_printf(b, "\n# HELP %s %s\n# TYPE %s %s\n", fams[f].name, fams[f].help, fams[f].name,
                   fams[f].type);
        for (uint32_t i = 0; i < ix->h->ntargets; i++) {
            const struct idx_target *t = &ix->targets[i];
            buf_printf(b, "%s{", fams[f].name);
            put_label(b, "target", idx_str(ix, t->name), 1);
            buf_puts(b, "} ");
            buf_put_u64(b, f == 0 ? t->up : f == 1 ? t->sent : t->failed);
            buf_putc(b, '\n');
        }
    }
}

/* The --publish destinations as of the snapshot (written only when there are some): whether
 * the last upload before it succeeded, and when one last did (0: none yet). */
static void upload_lines(const struct idx *ix, struct buf *b)
{
    static const struct {
        const char *name, *help;
    } fams[] = {
        {"polsnap_upload_up",
         "Whether the last upload to the destination before this snapshot succeeded"},
        {"polsnap_upload_last_success_timestamp_seconds",
         "Unix time of the last successful upload to the destination (0: none yet)"},
    };
    for (size_t f = 0; f < ARRAY_LEN(fams) && ix->nuploads; f++) {
        buf_putc(b, '\n');
        family(b, fams[f].name, fams[f].help);
        for (uint32_t i = 0; i < ix->nuploads; i++) {
            const struct idx_upload *u = &ix->uploads[i];
            buf_printf(b, "%s{", fams[f].name);
            put_label(b, "destination", idx_str(ix, u->dest), 1);
            buf_puts(b, "} ");
            buf_put_i64(b, f == 0 ? u->up : u->last_success == IDX_NO_TIME ? 0 : u->last_success);
            buf_putc(b, '\n');
        }
    }
}

void metrics_render(const struct idx *ix, struct buf *b)
{
    const struct idx_header *h = ix->h;
    family(b, "cluster_policy_report_result", "List of all ClusterPolicyReport Results");
    result_lines(ix, b, "cluster_policy_report_result", h->nrows_ns, h->nrows, 0);
    buf_putc(b, '\n');
    family(b, "cluster_policy_report_summary", "Summary of all ClusterPolicyReports");
    summary_lines(ix, b, "cluster_policy_report_summary", 1);
    buf_putc(b, '\n');
    family(b, "policy_report_result", "List of all PolicyReport Results");
    result_lines(ix, b, "policy_report_result", 0, h->nrows_ns, 1);
    buf_putc(b, '\n');
    family(b, "policy_report_summary", "Summary of all PolicyReports");
    summary_lines(ix, b, "policy_report_summary", 0);
    buf_putc(b, '\n');
    family(b, "polsnap_snapshot_timestamp_seconds", "Unix time the served snapshot was taken");
    buf_printf(b, "polsnap_snapshot_timestamp_seconds %lld\n\n", (long long)h->created);
    family(b, "polsnap_snapshot_rows", "Rows (result and resource pairs) in the served snapshot");
    buf_printf(b, "polsnap_snapshot_rows %u\n\n", h->nrows);
    family(b, "polsnap_snapshot_warnings", "Warnings while building the served snapshot");
    buf_printf(b, "polsnap_snapshot_warnings %u\n\n", h->warnings);
    family(b, "polsnap_source_up",
           "Whether the source was read completely for the served snapshot");
    for (uint32_t i = 0; i < h->nsources; i++) {
        buf_puts(b, "polsnap_source_up{");
        put_label(b, "source", idx_str(ix, ix->sources[i].name), 1);
        buf_printf(b, "} %u\n", ix->sources[i].up);
    }
    target_lines(ix, b);
    upload_lines(ix, b);
}
