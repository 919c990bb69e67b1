/* rows_int.h - the rowset's layout, for rows.c and the index writer only (sources use rows.h).
 *
 * Strings are interned: a row holds string ids; strs[id] is the text, id 0 is blank. Ids are
 * in order of first sight, not sorted: the index writer sorts them. */
#ifndef POLSNAP_ROWS_INT_H
#define POLSNAP_ROWS_INT_H

#include "spill.h"

#include <stddef.h>
#include <stdint.h>

/* Row string slots, in row_view order. */
enum {
    R_ID,
    R_NS,
    R_KIND,
    R_NAME,
    R_MESSAGE,
    R_CATEGORY,
    R_POLICY,
    R_RULE,
    R_STATUS,
    R_SEVERITY,
    R_SOURCE,
    R_PROPERTIES,
    R_RES_API,
    R_RES_NS,
    R_RES_UID,
    R_CLUSTER,
    R_NSLOTS
};

struct row {
    int64_t timestamp;
    int64_t first_seen;   /* ROWSET_NO_TIME unless its finding key fails (rowset_set_change) */
    uint32_t s[R_NSLOTS]; /* interned string ids, 0 = blank */
    uint32_t report;
    uint8_t has_timestamp;
    uint8_t scored; /* 0 absent, 1 false, 2 true (the index's encoding) */
    uint8_t is_new; /* its finding key is new (spec section 9) */
};

struct report {
    uint32_t kind, name, ns, origin, id, source, cluster;
    uint32_t label_off, nlabels; /* its pairs in rowset.labels */
    int cluster_scoped;
};

struct cluster {
    uint32_t name, snapshot, error; /* interned */
    int state, own;
    int64_t time, last_pull;
};

struct source {
    uint32_t name;
    int up;
};

struct upload {
    uint32_t dest; /* interned */
    int up;
    int64_t last_success;
};

struct target {
    uint32_t name, min_priority, sources; /* interned; sources 0 for null */
    int skip_existing, up;
    uint64_t sent, failed;
};

/* The big arrays are spill areas (spill.h): under the job's memory budget they live in files
 * and only what is being touched is resident. Areas never move, so the pointers below are
 * their addresses, set once. */
struct rowset {
    /* strings: id 0 is blank; strs[id] points into the arena, one string after the other */
    const char **strs;
    uint32_t nstrs, capstrs;
    uint32_t *table; /* open addressing, power-of-two size, holds ids, 0 = empty */
    uint32_t tablesize;
    unsigned char *used_as_id; /* per string id: 1 once a row has this id (duplicates) */
    struct spill_area strs_area, table_area, used_area, arena;
    size_t arena_used;

    struct row *rows;
    struct spill_area rows_area;
    uint32_t nrows;
    struct report *reports;
    uint32_t nreports, capreports;
    uint32_t *labels; /* interned (key, value) pairs of the reports, report after report */
    uint32_t nlabels, caplabels; /* in pairs */
    struct source *sources;
    uint32_t nsources, capsources;
    struct target *targets;
    uint32_t ntargets, captargets;
    struct upload *uploads;
    uint32_t nuploads, capuploads;
    struct cluster *clusters;
    uint32_t nclusters, capclusters;
    uint32_t cluster;       /* rowset_set_cluster's name, interned; 0: none */
    uint32_t change_str[2]; /* interned "unchanged" and "new", the IDX_F_CHANGE values */
    uint32_t warnings;
    uint32_t repaired; /* strings whose bytes were not UTF-8 (intern_n) */
    uint32_t refused;  /* rows past IDX_MAX_ROWS: the index writer fails on them */
    int no_crds;
};

#endif
