/* metrics.c - Prometheus exposition of a snapshot: result and summary gauges in the configured
 * mode and filters, and the snapshot's own health. */
#include "metrics.h"

#include "util.h"

#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

static const struct metrics_config *configured;

void metrics_configure(const struct metrics_config *c)
{
    configured = c;
}

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

/* The labels of a result line, alphabetical (the order the reference prints them in). */
enum {
    L_CATEGORY,
    L_KIND,
    L_MESSAGE,
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
const char *const metrics_label_names[L_N + 1] = {"category",  "kind",   "message", "name",
                                                  "namespace", "policy", "report",  "rule",
                                                  "severity",  "source", "status",  NULL};
static const int label_field[L_N] = {IDX_F_CATEGORY,  IDX_F_KIND,   IDX_F_MESSAGE, IDX_F_NAME,
                                     IDX_F_NAMESPACE, IDX_F_POLICY, IDX_F_REPORT,  IDX_F_RULE,
                                     IDX_F_SEVERITY,  IDX_F_SOURCE, IDX_F_STATUS};
#define LABEL(l) (1u << (l))
static const unsigned detailed_labels = LABEL(L_N) - 1 - LABEL(L_MESSAGE);
static const unsigned simple_labels = LABEL(L_CATEGORY) | LABEL(L_NAMESPACE) | LABEL(L_POLICY) |
                                      LABEL(L_SEVERITY) | LABEL(L_SOURCE) | LABEL(L_STATUS);

const char *const metrics_filter_names[MF_N] = {"kinds",      "namespaces", "policies",
                                                "severities", "sources",    "status"};
static const int filter_field[MF_N] = {IDX_F_KIND,     IDX_F_NAMESPACE, IDX_F_POLICY,
                                       IDX_F_SEVERITY, IDX_F_SOURCE,    IDX_F_STATUS};

static int matches_any(const char *const *patterns, int n, const char *value)
{
    for (int i = 0; i < n; i++)
        if (fnmatch(patterns[i], value, 0) == 0) return 1;
    return 0;
}

/* The filters of metrics.h, for one row. */
static int row_passes(const struct idx *ix, const struct idx_row *row,
                      const struct metrics_config *c)
{
    for (int f = 0; c && f < MF_N; f++) {
        const struct metrics_rules *r = &c->filter[f];
        const char *v = idx_str(ix, row->str[filter_field[f]]);
        if ((!r->ninclude && !r->nexclude) || (!v && (f == MF_KINDS || f == MF_NAMESPACES)))
            continue;
        if (r->ninclude ? !matches_any(r->include, r->ninclude, v ? v : "")
                        : matches_any(r->exclude, r->nexclude, v ? v : ""))
            return 0;
    }
    return 1;
}

/* The labels being compared, written and counted (one family at a time). */
static const struct idx *sort_ix;
static unsigned sort_labels;

/* A snapshot with clusters labels every line with its cluster, first (spec 10). */
static int same_labels(const struct idx_row *x, const struct idx_row *y)
{
    if (idx_has_clusters(sort_ix) && x->str[IDX_F_CLUSTER] != y->str[IDX_F_CLUSTER]) return 0;
    for (int l = 0; l < L_N; l++)
        if ((sort_labels & LABEL(l)) && x->str[label_field[l]] != y->str[label_field[l]]) return 0;
    return 1;
}

/* By label values (string ids order as their strings), ties by row. */
static int cmp_labels(const void *a, const void *b)
{
    const struct idx_row *x = &sort_ix->rows[*(const uint32_t *)a];
    const struct idx_row *y = &sort_ix->rows[*(const uint32_t *)b];
    if (idx_has_clusters(sort_ix) && x->str[IDX_F_CLUSTER] != y->str[IDX_F_CLUSTER])
        return x->str[IDX_F_CLUSTER] < y->str[IDX_F_CLUSTER] ? -1 : 1;
    for (int l = 0; l < L_N; l++) {
        uint32_t u = x->str[label_field[l]], v = y->str[label_field[l]];
        if ((sort_labels & LABEL(l)) && u != v) return u < v ? -1 : 1;
    }
    return *(const uint32_t *)a < *(const uint32_t *)b ? -1 : 1;
}

/* One line: family{labels} value. */
static void put_line(struct buf *b, const struct idx *ix, const char *family,
                     const struct idx_row *row, uint64_t value)
{
    buf_puts(b, family);
    buf_putc(b, '{');
    int first = 1;
    if (idx_has_clusters(ix)) {
        put_label(b, "cluster", idx_str(ix, row->str[IDX_F_CLUSTER]), 1);
        first = 0;
    }
    for (int l = 0; l < L_N; l++) {
        if (!(sort_labels & LABEL(l))) continue;
        put_label(b, metrics_label_names[l], idx_str(ix, row->str[label_field[l]]), first);
        first = 0;
    }
    buf_puts(b, "} ");
    buf_put_u64(b, value);
    buf_putc(b, '\n');
}

/* Detailed: rows [lo, hi) as result lines. Identical label sets can only occur among rows
 * that agree on cluster, namespace, name, kind, policy and rule, which are neighbours in row
 * order: each such run is sorted by its labels and repeats are skipped. */
static void detailed_lines(const struct idx *ix, struct buf *b, const char *family, uint32_t lo,
                           uint32_t hi, const struct metrics_config *c)
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
        if (!run || (size_t)(end - start) > cap) {
            cap = (size_t)(end - start) * 2;
            run = xreallocarray(run, cap, sizeof *run);
        }
        size_t n = 0;
        for (uint32_t r = start; r < end; r++)
            if (row_passes(ix, &ix->rows[r], c)) run[n++] = r;
        if (n > 1) qsort(run, n, sizeof *run, cmp_labels);
        for (size_t i = 0; i < n; i++)
            if (!i || !same_labels(&ix->rows[run[i]], &ix->rows[run[i - 1]]))
                put_line(b, ix, family, &ix->rows[run[i]], 1);
    }
    free(run);
}

/* Simple and custom: the rows of [lo, hi) that pass, grouped by their labels, one line per
 * group with its size, in label order. */
static void counted_lines(const struct idx *ix, struct buf *b, const char *family, uint32_t lo,
                          uint32_t hi, const struct metrics_config *c)
{
    uint32_t *rows = xmalloc(sizeof *rows * ((size_t)(hi - lo) + 1)), n = 0;
    for (uint32_t r = lo; r < hi; r++)
        if (row_passes(ix, &ix->rows[r], c)) rows[n++] = r;
    qsort(rows, n, sizeof *rows, cmp_labels);
    for (uint32_t i = 0, j; i < n; i = j) {
        for (j = i + 1; j < n && same_labels(&ix->rows[rows[i]], &ix->rows[rows[j]]); j++) {
        }
        put_line(b, ix, family, &ix->rows[rows[i]], j - i);
    }
    free(rows);
}

static void family(struct buf *b, const char *name, const char *help)
{
    buf_printf(b, "# HELP %s %s\n# TYPE %s gauge\n", name, help, name);
}

/* One result family: its header, then its lines in the configured mode. */
static void result_family(const struct idx *ix, struct buf *b, int cluster)
{
    const struct metrics_config *c = configured;
    enum metrics_mode mode = c ? c->mode : METRICS_DETAILED;
    const char *name = cluster ? "cluster_policy_report_result" : "policy_report_result";
    const char *help = mode != METRICS_DETAILED
                           ? (cluster ? "Gauge of ClusterPolicyReportResults by Policy"
                                      : "Gauge of Results by Policy")
                           : (cluster ? "List of all ClusterPolicyReport Results"
                                      : "List of all PolicyReport Results");
    family(b, name, help);
    sort_ix = ix;
    sort_labels = mode == METRICS_DETAILED ? detailed_labels
                  : mode == METRICS_SIMPLE ? simple_labels
                                           : c->labels;
    if (cluster) sort_labels &= ~LABEL(L_NAMESPACE);
    uint32_t lo = cluster ? ix->h->nrows_ns : 0, hi = cluster ? ix->h->nrows : ix->h->nrows_ns;
    if (mode == METRICS_DETAILED)
        detailed_lines(ix, b, name, lo, hi, c);
    else
        counted_lines(ix, b, name, lo, hi, c);
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
    /* Policy Reporter writes the summaries in detailed mode only: the others are for less */
    int summaries = !configured || configured->mode == METRICS_DETAILED;
    result_family(ix, b, 1);
    buf_putc(b, '\n');
    if (summaries) {
        family(b, "cluster_policy_report_summary", "Summary of all ClusterPolicyReports");
        summary_lines(ix, b, "cluster_policy_report_summary", 1);
        buf_putc(b, '\n');
    }
    result_family(ix, b, 0);
    buf_putc(b, '\n');
    if (summaries) {
        family(b, "policy_report_summary", "Summary of all PolicyReports");
        summary_lines(ix, b, "policy_report_summary", 0);
        buf_putc(b, '\n');
    }
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

/* "a,b,,c" split in place on commas into v (empty items dropped); -1 past max. */
static int split_list(char *text, const char **v, int max, int *n)
{
    for (char *save = NULL, *t = strtok_r(text, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (*n == max) return -1;
        v[(*n)++] = t;
    }
    return 0;
}

static int parse_labels(struct metrics_config *c, char *list, struct err *e)
{
    const char *names[L_N * 4];
    int n = 0;
    if (split_list(list, names, (int)ARRAY_LEN(names), &n) != 0 || n == 0)
        return err_set(e, ERR_INVALID, "--metrics-labels: want a comma list of labels");
    for (int i = 0; i < n; i++) {
        int l = 0;
        while (l < L_N && strcmp(names[i], metrics_label_names[l]) != 0)
            l++;
        if (l == L_N)
            return err_set(e, ERR_INVALID,
                           "--metrics-labels: unknown label %s (category, kind, message, name, "
                           "namespace, policy, report, rule, severity, source, status)",
                           names[i]);
        c->labels |= LABEL(l);
    }
    return 0;
}

/* "FIELD=P1,P2" or "FIELD!=P1,P2", in place. */
static int parse_filter(struct metrics_config *c, char *spec, struct err *e)
{
    char *eq = strchr(spec, '=');
    int exclude = eq && eq > spec && eq[-1] == '!';
    if (!eq)
        return err_set(e, ERR_INVALID,
                       "--metrics-filter %s: want FIELD=PATTERNS or FIELD!=PATTERNS", spec);
    eq[exclude ? -1 : 0] = '\0';
    int f = 0;
    while (f < MF_N && strcmp(spec, metrics_filter_names[f]) != 0)
        f++;
    if (f == MF_N)
        return err_set(e, ERR_INVALID,
                       "--metrics-filter: unknown field %s (kinds, namespaces, policies, "
                       "severities, sources, status)",
                       spec);
    struct metrics_rules *r = &c->filter[f];
    int before = exclude ? r->nexclude : r->ninclude;
    if (split_list(eq + 1, exclude ? r->exclude : r->include, METRICS_PATTERNS_MAX,
                   exclude ? &r->nexclude : &r->ninclude) != 0)
        return err_set(e, ERR_INVALID, "--metrics-filter %s: more than %d patterns", spec,
                       METRICS_PATTERNS_MAX);
    if ((exclude ? r->nexclude : r->ninclude) == before)
        return err_set(e, ERR_INVALID, "--metrics-filter %s: no patterns", spec);
    return 0;
}

int metrics_config_parse(struct metrics_config *c, const char *mode, const char *labels,
                         const char *const *filters, int nfilters, struct err *e)
{
    static const char *const modes[] = {"detailed", "simple", "custom"};
    size_t total = (labels ? strlen(labels) : 0) + 1;
    for (int i = 0; i < nfilters; i++)
        total += strlen(filters[i]) + 1;
    char *p = c->text = xmalloc(total);
    c->mode = METRICS_DETAILED;
    for (int m = 0; mode && *mode && m < (int)ARRAY_LEN(modes); m++)
        if (strcmp(mode, modes[m]) == 0) c->mode = (enum metrics_mode)m;
    if (mode && *mode && strcmp(mode, modes[c->mode]) != 0)
        return err_set(e, ERR_INVALID, "--metrics-mode %s: want detailed, simple or custom", mode);
    if ((c->mode == METRICS_CUSTOM) != (labels && *labels))
        return err_set(e, ERR_INVALID,
                       c->mode == METRICS_CUSTOM ? "--metrics-mode custom needs --metrics-labels"
                                                 : "--metrics-labels needs --metrics-mode custom");
    if (labels && *labels) {
        memcpy(p, labels, strlen(labels) + 1);
        if (parse_labels(c, p, e) != 0) return -1;
        p += strlen(labels) + 1;
    }
    for (int i = 0; i < nfilters; i++) {
        size_t n = strlen(filters[i]) + 1;
        memcpy(p, filters[i], n);
        if (parse_filter(c, p, e) != 0) return -1;
        p += n;
    }
    return 0;
}

void metrics_config_release(struct metrics_config *c)
{
    free(c->text);
    c->text = NULL;
}
