/* rows.h - the rowset: every row of one snapshot, built by the sources. The index writer reads
 * it through its layout (rows_int.h), not through this interface.
 *
 * Data flows one way: sources -> rowset -> index writer. A source never touches rows directly;
 * it describes a report (rowset_add_report) and then each (result, resource) pair of it
 * (rowset_add_row). The rowset applies the row rules of spec section 1 that do not depend on
 * the input format, so every source gets them the same way:
 *   - empty strings become NULL (null), never stored;
 *   - status lower-cased and checked against pass/fail/warn/error/skip (else: warning, skipped);
 *   - severity lower-cased, outside critical/high/medium/low/info becomes NULL;
 *   - namespace: NULL for a cluster-scoped report, else the report's namespace, else the
 *     resource's namespace;
 *   - id: result_id when given and the result has at most one resource, else a deterministic
 *     40-hex SHA-1 of everything that identifies the row except its timestamp: the fields
 *     below joined by the byte 0x1f, a blank one as "", in this order (the test oracle in
 *     tests/lib/model.py computes the same): report kind, report namespace, report name,
 *     resource apiVersion, resource namespace, resource kind, resource name, resource uid,
 *     result_id, policy, rule, status (lower-cased), severity (normalised), category, source,
 *     message, properties (the compact JSON text as given);
 *   - a second row with an id already seen is a duplicate: dropped, counted as a warning;
 *   - bytes that are not UTF-8 in any string, from any source, become U+FFFD, with a warning
 *     per row or report (the id is computed from the bytes as given).
 * Strings are copied (interned) into the rowset's arena: callers keep ownership of theirs.
 * Warnings are counted and logged to stderr with their origin ("file.yaml: ...").
 * Allocation failure aborts (util.h); no function here fails otherwise. */
#ifndef POLSNAP_ROWS_H
#define POLSNAP_ROWS_H

#include <stdint.h>

struct rowset;

struct rowset *rowset_new(void);
void rowset_free(struct rowset *rs); /* NULL is fine */

/* One report document. kind is the document's kind as written ("PolicyReport",
 * "ClusterPolicyReport", "Report", "ClusterReport"; StackRox uses "StackRoxAlerts"), name and
 * namespace from its metadata (NULL or "" when absent), cluster_scoped for ClusterPolicyReport
 * and ClusterReport. origin names where it came from for warnings (a path, a URL). source is
 * what Policy Reporter's report lists show (its top-level source, else its first result's);
 * labels its metadata.labels (nlabels pairs, already checked against ROW_LABELS_MAX and the
 * key and value bounds by the source; a value may be ""). The report's id is the 40-hex
 * SHA-1 of kind, namespace and name joined by 0x1f (blank as "").
 * Returns the report's handle for rowset_add_row. */
#define ROW_LABELS_MAX 64        /* labels per report, as Kubernetes allows */
#define ROW_LABEL_NAME_MAX 63    /* bytes of a key's name part, and of a value */
#define ROW_LABEL_PREFIX_MAX 253 /* bytes of a key's optional "prefix/" part */
struct row_label {
    const char *key, *value;
};
struct row_report {
    const char *kind, *name, *namespace;
    int cluster_scoped;
    const char *origin;
    const char *source;
    const struct row_label *labels;
    uint32_t nlabels;
};
uint32_t rowset_add_report(struct rowset *rs, const struct row_report *report);

/* One (result, resource) pair. Every string may be NULL or "" (both mean blank). */
struct row_in {
    const char *res_api_version, *res_kind, *res_name, *res_namespace, *res_uid;
    const char *message, *category, *policy, *rule, *source;
    const char *status;     /* raw text; checked and lower-cased here */
    const char *severity;   /* raw text; lower-cased here */
    const char *result_id;  /* properties.resultID, or the source's own id (StackRox alert) */
    int resource_count;     /* resources of the result (0 when none); result_id is used only <= 1 */
    const char *properties; /* NULL or a compact JSON object of string values */
    int64_t timestamp;      /* Unix seconds; meaningful only when has_timestamp */
    int has_timestamp;
    int scored; /* -1 absent, 0 false, 1 true */
};

enum rowset_add_result {
    ROWSET_ADDED = 0,
    ROWSET_BAD_STATUS = 1, /* skipped, warning counted */
    ROWSET_DUPLICATE = 2,  /* skipped, warning counted */
    ROWSET_FULL = 3,       /* past IDX_MAX_ROWS: refused; idxw_write then fails, naming it */
};
enum rowset_add_result rowset_add_row(struct rowset *rs, uint32_t report, const struct row_in *row);

/* Counts a warning (and logs "polsnap-snapshot: warning: <origin>: <message>"). */
void rowset_warn(struct rowset *rs, const char *origin, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Source health, for /healthz and the polsnap_source_up metric. name is what the metric
 * label shows: "files:samples", "kubernetes", "stackrox:https://central". */
void rowset_source_status(struct rowset *rs, const char *name, int up);
/* The Kubernetes source found no PolicyReport CRDs: /healthz answers 503. */
void rowset_set_no_crds(struct rowset *rs);

/* Change tracking (spec section 9, computed by changes.c): row i (in the order added) is new
 * or not, and first_seen is since when its finding key has failed (ROWSET_NO_TIME: it does not
 * fail). A row never marked is unchanged with no first_seen. */
#define ROWSET_NO_TIME INT64_MIN
void rowset_set_change(struct rowset *rs, uint32_t i, int is_new, int64_t first_seen);

/* A notification target as /v1/targets and /metrics show it (never a URL or a secret):
 * min_priority "debug" when it has none, sources a compact JSON array text or NULL. */
struct row_target {
    const char *name, *min_priority, *sources;
    int skip_existing, up;
    uint64_t sent, failed;
};
void rowset_add_target(struct rowset *rs, const struct row_target *t);

/* A --publish destination and its last upload before this snapshot (upload.h): up 1 when it
 * succeeded or none was tried yet; last_success ROWSET_NO_TIME when none succeeded. */
void rowset_add_upload(struct rowset *rs, const char *dest, int up, int64_t last_success);

/* Reading back, for the tests: rows and reports in the order added.
 * Every pointer stays valid until rowset_free; blank fields are NULL. */
struct row_view {
    const char *id, *namespace, *kind, *name, *message, *category, *policy, *rule, *status,
        *severity, *source, *properties, *res_api_version, *res_namespace, *res_uid;
    int64_t timestamp, first_seen;
    int has_timestamp, scored, is_new;
    uint32_t report;
};
void rowset_get(const struct rowset *rs, uint32_t i, struct row_view *out);
struct report_view {
    const char *kind, *name, *namespace, *id, *source;
    int cluster_scoped;
    uint32_t nlabels;
};
void rowset_get_report(const struct rowset *rs, uint32_t i, struct report_view *out);
/* Sources in the order recorded; *up is 1 or 0. */
uint32_t rowset_sources(const struct rowset *rs);
const char *rowset_source(const struct rowset *rs, uint32_t i, int *up);

/* Frees the row array once it has been copied (the index writer does, when asked): the
 * rowset then keeps its strings, reports and sources, and has no rows. */
void rowset_free_rows(struct rowset *rs);

uint32_t rowset_rows(const struct rowset *rs);
uint32_t rowset_reports(const struct rowset *rs);
uint32_t rowset_warnings(const struct rowset *rs);

#endif
