/* idx.h - the snapshot index: one immutable, mmap-able file per snapshot that the query server
 * answers from, and the writer's and reader's shared definition of its format.
 *
 * File format, version 6 (IDX_VERSION). All integers little-endian (the writer refuses
 * big-endian hosts); every section starts 8-byte aligned; offsets count from the start of
 * the file.
 *
 *   [0, IDX_HEADER_SIZE)   struct idx_header
 *   sec[IDX_SEC_STROFF]    uint32_t stroff[nstrings + 1]: string i is strdata + stroff[i],
 *                          NUL-terminated, length stroff[i+1] - stroff[i] - 1
 *   sec[IDX_SEC_STRDATA]   the strings, in ascending byte order (strcmp) from string 1 on;
 *                          string 0 is "" and stands for null (blank): a string id of 0 is null.
 *                          So comparing two non-null ids compares the strings in byte order.
 *   sec[IDX_SEC_ROWS]      struct idx_row rows[nrows]: [0, nrows_ns) are namespaced rows,
 *                          [nrows_ns, nrows) cluster rows, each part in the default order of
 *                          spec sections 3 and 10 (cluster name, namespace, name, kind,
 *                          policy, rule, message, id; nulls first): row index order IS the
 *                          default order.
 *   sec[IDX_SEC_REPORTS]   struct idx_report reports[nreports]
 *   sec[IDX_SEC_SOURCES]   struct idx_source sources[nsources]
 *   sec[IDX_SEC_DICT]      struct idx_dict_entry: for each dictionary field f (< IDX_NDICT) the
 *                          entries dict[f].off .. +dict[f].count (entry index into this
 *                          section), one per distinct non-null value of f, sorted by
 *                          ascii-folded value, ties in byte order; so every case-insensitive
 *                          equality or prefix match is one contiguous range.
 *   sec[IDX_SEC_POSTINGS]  uint32_t row ids; entry e owns postings[e.post_off, +e.post_n),
 *                          ascending. Every row appears exactly once per field whose value is
 *                          not null.
 *   sec[IDX_SEC_SORT]      uint32_t sort[IDX_NSORT][nrows]: for each sort key k (a field
 *                          < IDX_F_ID, or IDX_SORT_TIMESTAMP) a permutation of all row ids in
 *                          that key's order, ties in row order, nulls first: strings by id
 *                          (byte order), severity by rank, timestamps numerically. A sorted
 *                          page walks it and costs what the page costs, not a sort.
 *   sec[IDX_SEC_TARGETS]   struct idx_target targets[ntargets], sorted by name: the
 *                          notification targets as /v1/targets and /metrics show them.
 *   sec[IDX_SEC_LABELS]    struct idx_label labels[nlabels]: the labels dictionary, every
 *                          distinct (key, value) pair of the reports' metadata.labels, sorted
 *                          by key id then value id (byte order; a value "" is id 0, a key is
 *                          never ""). Label l is held by the reports
 *                          label_reports[l.rep_off, +l.rep_n), ascending.
 *   sec[IDX_SEC_LABEL_REPORTS] uint32_t report indexes: the labels' postings.
 *   sec[IDX_SEC_REPORT_LABELS] uint32_t label indexes: report r's labels are
 *                          [r.label_off, +r.label_n), ascending (so in key order).
 *   sec[IDX_SEC_REPORT_ROWS]   uint32_t row ids grouped by report: report r's rows are
 *                          [r.row_off, +idx_report_nrows(r)), ascending; every row once. With
 *                          the labels' postings a labels= filter costs the rows it selects.
 *   sec[IDX_SEC_UPLOADS]   struct idx_upload uploads[idx_nuploads()], sorted by destination:
 *                          the --publish destinations and their last upload before this
 *                          snapshot, as /v1/snapshot and /metrics show them.
 *   sec[IDX_SEC_CLUSTERS]  struct idx_cluster clusters[nclusters], sorted by name: what
 *                          /v1/clusters answers (spec section 10): the edges a central
 *                          snapshot merged, and the snapshot's own --cluster.
 *
 * Invariants (idx_check() verifies all of them before a mapping is trusted):
 *   1. magic, version and header_size match; file_size equals the real size;
 *   2. every section lies inside the file and is aligned for its element type;
 *   3. stroff is non-decreasing, stroff[nstrings] == strdata length, every string NUL-terminated
 *      exactly at its end; strings 1.. are distinct and ascending in byte order;
 *   4. every string id < nstrings, every report index < nreports,  enums in range; every
 *      row's change field is IDX_CHANGE_NEW or IDX_CHANGE_UNCHANGED; sources and targets
 *      have names (not null);
 *   5. nrows_ns <= nrows; dict spans inside the DICT section; postings spans inside POSTINGS;
 *      every posting < nrows;
 *   6. each dictionary's entries are in folded order, ties by string id (what idx_dict_range's
 *      binary search relies on), and each entry's postings are strictly ascending;
 *   7. each of the IDX_NSORT sort orders is a permutation of [0, nrows);
 *   8. labels strictly ascending by (key, value), keys non-null, string ids < nstrings; every
 *      span of LABEL_REPORTS, REPORT_LABELS and REPORT_ROWS inside its section, its entries
 *      in range and strictly ascending; report r's rows are exactly the rows whose report is
 *      r, and the reports' rows cover all nrows;
 *   9. each upload's destination is a string id in range and not 0, its up 0 or 1;
 *  10. every cluster entry has a name, distinct and ascending, and a state in range.
 * Changing any struct, constant or order below changes the format: bump IDX_VERSION. */
#ifndef POLSNAP_IDX_H
#define POLSNAP_IDX_H

#include "err.h"

#include <stddef.h>
#include <stdint.h>

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the index format is little-endian; this host is not"
#endif

#define IDX_MAGIC "PSNAPIDX" /* 8 bytes, no NUL in the file */
#define IDX_VERSION 6u
#define IDX_FILE "index.bin" /* its name inside a snapshot directory */
#define IDX_NO_TIME INT64_MIN

/* Row string fields. The first IDX_NDICT have dictionaries (filterable, searchable).
 * Keep in sync with idx_field_names in idx.c. */
enum idx_field {
    IDX_F_NAMESPACE = 0,
    IDX_F_KIND = 1,
    IDX_F_NAME = 2,
    IDX_F_POLICY = 3,
    IDX_F_RULE = 4,
    IDX_F_CATEGORY = 5,
    IDX_F_SEVERITY = 6,
    IDX_F_STATUS = 7,
    IDX_F_SOURCE = 8,
    IDX_F_MESSAGE = 9,
    IDX_F_REPORT = 10,  /* the report's metadata.name */
    IDX_F_CHANGE = 11,  /* "new" or "unchanged" (spec section 9; never null) */
    IDX_F_CLUSTER = 12, /* the cluster's name (spec section 10): --cluster, or the edge merged
                           from; not to be confused with struct idx_row.cluster (the scope) */
    IDX_F_ID = 13,
    IDX_NDICT = 14,
    IDX_F_PROPERTIES = 14, /* compact JSON object text, or null */
    IDX_F_RES_API = 15,    /* resource apiVersion */
    IDX_F_RES_NS = 16,     /* resource's own namespace */
    IDX_F_RES_UID = 17,
    IDX_NFIELDS = 18,
};

/* The most rows an index holds: postings offsets are 32-bit, one posting per dictionary field
 * and row. The rowset refuses rows past it (rows.h). */
#define IDX_MAX_ROWS (UINT32_MAX / (uint32_t)IDX_NDICT - 1u)

/* Sort keys: every dictionary field but the id, and the timestamp. */
#define IDX_SORT_TIMESTAMP IDX_F_ID
#define IDX_NSORT (IDX_F_ID + 1)

/* Status order is the spec's output order: pass fail warn error skip. */
enum idx_status { IDX_PASS = 0, IDX_FAIL = 1, IDX_WARN = 2, IDX_ERROR = 3, IDX_SKIP = 4 };
#define IDX_NSTATUS 5
/* Severity in rank order; 0 is null. */
enum idx_severity { IDX_SEV_NONE = 0, IDX_INFO, IDX_LOW, IDX_MEDIUM, IDX_HIGH, IDX_CRITICAL };
#define IDX_NSEVERITY 6

extern const char *const idx_status_names[IDX_NSTATUS];     /* "pass", ... */
extern const char *const idx_severity_names[IDX_NSEVERITY]; /* NULL, "info", ... */
extern const char *const idx_field_names[IDX_NFIELDS];      /* "namespace", ... */

enum idx_section {
    IDX_SEC_STROFF,
    IDX_SEC_STRDATA,
    IDX_SEC_ROWS,
    IDX_SEC_REPORTS,
    IDX_SEC_SOURCES,
    IDX_SEC_DICT,
    IDX_SEC_POSTINGS,
    IDX_SEC_SORT,
    IDX_SEC_TARGETS,
    IDX_SEC_LABELS,
    IDX_SEC_LABEL_REPORTS,
    IDX_SEC_REPORT_LABELS,
    IDX_SEC_REPORT_ROWS,
    IDX_SEC_UPLOADS,
    IDX_SEC_CLUSTERS,
    IDX_NSEC
};

struct idx_span {
    uint64_t off;   /* bytes from file start (sec[]) or first entry index (dict[]) */
    uint64_t count; /* bytes (sec[]) or entries (dict[]) */
};

#define IDX_FLAG_NO_CRDS 1u /* the Kubernetes source found no PolicyReport CRDs */
/* Values of the IDX_F_CHANGE field, the strings rows point at. */
#define IDX_CHANGE_NEW "new"
#define IDX_CHANGE_UNCHANGED "unchanged"

struct idx_header {
    char magic[8];
    uint32_t version, header_size;
    uint64_t file_size;
    int64_t created; /* Unix seconds when the snapshot was taken */
    uint32_t nrows, nrows_ns, nstrings, nreports, nsources, flags, warnings;
    uint32_t cron_period; /* seconds between snapshots as configured, 0 when unknown */
    char snapshot_id[32]; /* NUL-terminated, e.g. "20261125T153000.123456Z" */
    /* Change tracking (spec section 9): the snapshot this one was compared with ("" when none
     * was readable: then nothing is new), and how many finding keys are new and resolved. */
    char previous_id[32];
    uint32_t changes_new, changes_resolved;
    uint32_t ntargets;  /* notification targets (IDX_SEC_TARGETS) */
    uint32_t nlabels;   /* distinct report labels (IDX_SEC_LABELS) */
    uint32_t nclusters; /* clusters (IDX_SEC_CLUSTERS) */
    uint32_t reserved;
    struct idx_span sec[IDX_NSEC];
    struct idx_span dict[IDX_NDICT];
};
#define IDX_HEADER_SIZE ((uint32_t)sizeof(struct idx_header))

struct idx_row {
    int64_t timestamp;  /* IDX_NO_TIME when null */
    int64_t first_seen; /* since when its finding key fails (spec 9); IDX_NO_TIME when it
                         * does not fail */
    uint32_t str[IDX_NFIELDS];
    uint32_t report;  /* index into reports */
    uint8_t status;   /* enum idx_status */
    uint8_t severity; /* enum idx_severity */
    uint8_t scored;   /* 0 null, 1 false, 2 true */
    uint8_t cluster;  /* 1 for cluster rows (== index >= nrows_ns) */
};

struct idx_report {
    uint32_t kind, name, namespace; /* string ids ("PolicyReport", ...) */
    uint32_t cluster;               /* 1 for ClusterPolicyReport / ClusterReport */
    uint32_t count[IDX_NSTATUS];    /* its rows per status, recomputed */
    uint32_t id;                    /* string id: 40-hex SHA-1 of kind, namespace, name */
    uint32_t source;                /* string id: its top-level source, else results[0]'s */
    uint32_t label_off, label_n;    /* its labels in IDX_SEC_REPORT_LABELS */
    uint32_t row_off;               /* its rows in IDX_SEC_REPORT_ROWS */
    uint32_t cluster_name;          /* string id: the cluster it came from (spec 10), or 0 */
};

/* One (key, value) pair of the labels dictionary. */
struct idx_label {
    uint32_t key, value;     /* string ids (value 0: the empty value) */
    uint32_t rep_off, rep_n; /* its reports in IDX_SEC_LABEL_REPORTS */
};

struct idx_source {
    uint32_t name; /* string id: "files:samples", "kubernetes", ... */
    uint32_t up;   /* 1 or 0 */
};

/* A notification target: what the API may show of it, never its URL, headers or secrets. */
struct idx_target {
    uint32_t name, min_priority; /* string ids; min_priority "debug" when it has none */
    uint32_t sources;            /* string id of a compact JSON array of strings; 0: null */
    uint32_t skip_existing;      /* 1 or 0 */
    uint32_t up; /* the last delivery before this snapshot: 1 done (or none yet), 0 failed */
    uint32_t reserved;
    uint64_t sent;   /* findings delivered since the target was added */
    uint64_t failed; /* messages given up on after their retries */
};

/* A --publish destination (s3://BUCKET/PREFIX, never a credential) and how its last upload
 * before this snapshot went. */
struct idx_upload {
    uint32_t dest;        /* string id */
    uint32_t up;          /* 1: the last upload succeeded (or none was tried yet), 0: it failed */
    int64_t last_success; /* Unix seconds of the last successful upload; IDX_NO_TIME: none */
};

/* One cluster of /v1/clusters. An edge's rows carry its name (IDX_F_CLUSTER). */
enum idx_cluster_state { IDX_CLUSTER_UP = 0, IDX_CLUSTER_STALE = 1, IDX_CLUSTER_GONE = 2 };
#define IDX_NCLUSTER_STATES 3
extern const char *const idx_cluster_state_names[IDX_NCLUSTER_STATES]; /* "up", ... */
struct idx_cluster {
    uint32_t name;     /* string id, never 0 */
    uint32_t snapshot; /* string id of the edge snapshot's id (0 when never pulled) */
    uint32_t error;    /* string id: why the last pull failed, or 0 */
    uint32_t state;    /* enum idx_cluster_state */
    uint32_t own;      /* 1: this snapshot's own --cluster (its id and time are the header's) */
    uint32_t reserved;
    int64_t time;        /* the edge snapshot's time (IDX_NO_TIME when never pulled) */
    int64_t last_pull;   /* last good pull, IDX_NO_TIME: none */
    uint32_t rows, fail; /* its rows in this snapshot, and how many of them fail */
};

struct idx_dict_entry {
    uint32_t str, post_off, post_n;
};

/* ---- reader ---------------------------------------------------------------------------- */

/* A read-only view of a mapped index. Fields are valid between idx_open and idx_close. */
struct idx {
    const unsigned char *base;
    size_t size;
    const struct idx_header *h;
    const uint32_t *stroff;
    const char *strdata;
    const struct idx_row *rows;
    const struct idx_report *reports;
    const struct idx_source *sources;
    const struct idx_dict_entry *dict; /* the whole DICT section */
    const uint32_t *postings;
    const uint32_t *sort; /* sort[k * nrows + i]: the i-th row in sort key k's order */
    const struct idx_target *targets;
    const struct idx_upload *uploads;
    uint32_t nuploads;
    const struct idx_label *labels;
    const uint32_t *label_reports, *report_labels, *report_rows;
    const struct idx_cluster *clusters;
};

/* 1 when the snapshot knows of clusters (spec 10): a row carries one, or /v1/clusters lists
 * one. Then metrics carry the cluster label. */
static inline int idx_has_clusters(const struct idx *ix)
{
    return ix->h->nclusters > 0 || ix->h->dict[IDX_F_CLUSTER].count > 0;
}

/* Maps path and runs idx_check. Returns 0 with *ix filled, or -1 with *e set (ERR_IO: the
 * file cannot be read; ERR_INVALID: it is not a sound index) and *ix untouched. Close with
 * idx_close. */
int idx_open(struct idx *ix, const char *path, struct err *e);
void idx_close(struct idx *ix); /* on a zeroed struct: nothing */
/* When set, idx_check calls it every 64 items it reads (strings, rows, entries, postings):
 * the snapshot job sets it (snapshot/spill.h) so that checking an index of any size keeps
 * the job's memory budget. NULL by default. */
extern void (*idx_check_tick)(void);
/* Verifies invariants 1-7 of a mapping of size bytes at base; fills *ix on success.
 * Returns 0, or -1 with *e saying which invariant failed (ERR_INVALID) and *ix untouched. */
int idx_check(struct idx *ix, const void *base, size_t size, struct err *e);

/* The string with id (NULL for id 0: a blank field). */
static inline const char *idx_str(const struct idx *ix, uint32_t id)
{
    return id ? ix->strdata + ix->stroff[id] : (const char *)0;
}
static inline uint32_t idx_strlen(const struct idx *ix, uint32_t id)
{
    return ix->stroff[id + 1] - ix->stroff[id] - 1;
}

/* Dictionary entries of field (< IDX_NDICT) whose value equals value[0..n) case-insensitively
 * (prefix == 0) or starts with it case-insensitively (prefix == 1). Returns the number of
 * entries and stores the first in *first (the range is contiguous). */
size_t idx_dict_range(const struct idx *ix, int field, const char *value, size_t n, int prefix,
                      const struct idx_dict_entry **first);
/* All entries of a field's dictionary (every distinct non-null value). */
size_t idx_dict_all(const struct idx *ix, int field, const struct idx_dict_entry **first);

/* The label key=value (exact, case-sensitive, as Kubernetes labels are); NULL when no report
 * has it. */
const struct idx_label *idx_label_find(const struct idx *ix, const char *key, const char *value);

/* A report's rows: idx_report_nrows of them from idx_report_rows, ascending. */
static inline uint32_t idx_report_nrows(const struct idx_report *r)
{
    uint32_t n = 0;
    for (int s = 0; s < IDX_NSTATUS; s++)
        n += r->count[s];
    return n;
}
static inline const uint32_t *idx_report_rows(const struct idx *ix, const struct idx_report *r)
{
    return ix->report_rows + r->row_off;
}

static inline const uint32_t *idx_postings(const struct idx *ix, const struct idx_dict_entry *e)
{
    return ix->postings + e->post_off;
}

#endif
