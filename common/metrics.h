/* metrics.h - the Prometheus text of /metrics (spec section 6), rendered from an index, in one
 * of Policy Reporter's three modes and with its include/exclude filters. */
#ifndef POLSNAP_METRICS_H
#define POLSNAP_METRICS_H

#include "buf.h"
#include "err.h"
#include "idx.h"

/* How result lines are labelled (Policy Reporter v3's metrics.mode):
 *   detailed  one line per distinct set of the ten labels category, kind, name, namespace,
 *             policy, report, rule, severity, source, status; the value is 1 (the default);
 *   simple    one line per distinct (category, namespace, policy, severity, source, status);
 *             the value is how many rows share them;
 *   custom    the same with the labels named in metrics_config.labels (any of the ten, and
 *             message).
 * Cluster families never carry namespace. The summary families are written in detailed mode
 * only (as Policy Reporter does: the other modes are for fewer series). */
enum metrics_mode { METRICS_DETAILED, METRICS_SIMPLE, METRICS_CUSTOM };

/* The filterable fields, named as Policy Reporter's metrics.filter keys. */
enum metrics_filter_field {
    MF_KINDS,
    MF_NAMESPACES,
    MF_POLICIES,
    MF_SEVERITIES,
    MF_SOURCES,
    MF_STATUS,
    MF_N
};
#define METRICS_PATTERNS_MAX 32 /* patterns of one include or exclude list */

/* A row's result line is written when, for every field with rules, its value matches one
 * include pattern (when there are includes) or no exclude pattern (when there are only
 * excludes). Patterns are fnmatch(3) globs, case-sensitive; a blank value is ""; a row without
 * a namespace or a kind passes those fields' rules (Policy Reporter's rule). */
struct metrics_rules {
    const char *include[METRICS_PATTERNS_MAX], *exclude[METRICS_PATTERNS_MAX];
    int ninclude, nexclude;
};

struct metrics_config {
    enum metrics_mode mode;
    unsigned labels; /* custom: bit (1 << label) per label, in metrics_label_names order */
    struct metrics_rules filter[MF_N];
    char *text; /* owns the patterns */
};

/* "category", "kind", "message", "name", "namespace", "policy", "report", "rule", "severity",
 * "source", "status": alphabetical, the order labels are printed in. NULL-terminated. */
extern const char *const metrics_label_names[];
/* "kinds", ... "status", in enum metrics_filter_field order. */
extern const char *const metrics_filter_names[MF_N];

/* Fills *c (zeroed by the caller) from the option values: mode "detailed", "simple" or
 * "custom" (NULL or "" is detailed); labels a comma list, required with custom and refused
 * otherwise; each filter "FIELD=P1,P2" (include) or "FIELD!=P1,P2" (exclude). Returns 0, or -1
 * with *e set (ERR_INVALID, naming the bad value). Release with metrics_config_release, also
 * after a failure. */
int metrics_config_parse(struct metrics_config *c, const char *mode, const char *labels,
                         const char *const *filters, int nfilters, struct err *e);
void metrics_config_release(struct metrics_config *c);

/* What metrics_render follows in this process: the snapshot job sets it from its options
 * before it renders metrics.txt (which lighttpd serves for every /metrics request). NULL, the
 * default: detailed, nothing filtered. c must outlive the rendering. */
void metrics_configure(const struct metrics_config *c);

/* Appends the whole exposition to out. Families in the reference's order
 * (cluster_policy_report_result, cluster_policy_report_summary, policy_report_result,
 * policy_report_summary; no summaries but in detailed mode), then polsnap_*. Detailed result lines
 * follow the row order of the index, with rows that give identical label sets written once (a
 * repeated series is invalid exposition); simple and custom lines are sorted by their label values.
 * Summary lines are sorted by report name, then namespace (as Prometheus clients print them), five
 * statuses each, alphabetically. */
void metrics_render(const struct idx *ix, struct buf *out);

#endif
