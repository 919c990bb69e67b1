/* edges_int.h - one edge's pull, shared by edges.c (scheduling, kept state, merging) and
 * edges_pull.c (the transports). Not for other modules: they use edges.h. */
#ifndef POLSNAP_FLEET_INT_H
#define POLSNAP_FLEET_INT_H

#include "edges.h"
#include "fleet_read.h"
#include "http.h"

#include <limits.h>
#include <stdint.h>

/* What is kept of an edge between runs (DIR/fleet/KEY.json); times IDX_NO_TIME when none. */
struct fleet_state {
    char name[64];
    char etag[HTTP_ETAG_MAX];
    char snapshot[32];
    int64_t time, last_pull;
    char error[ERR_MSG_MAX];
};

struct fleet_job {
    const struct fleet_edge *edge;
    const struct fleet_opts *o;
    char keep_path[PATH_MAX]; /* DIR/fleet/KEY.jsonl.gz */
    char tmp_path[PATH_MAX];  /* DIR/fleet/KEY.tmp: a pull being checked */
    int have_copy;            /* keep_path holds a checked export */
    struct fleet_state st;    /* read before the pull, updated by it */
    /* the pull's outcome */
    int unchanged;         /* the edge said its export did not change */
    struct fleet_header h; /* of a new export */
    uint64_t bytes;        /* bytes received */
    int fatal;             /* DIR/fleet could not be written: the run fails */
    struct err e;          /* why the pull failed */
};

/* Pulls the edge's export into j->tmp_path (or finds it unchanged). Returns 0 with
 * j->unchanged set, or with a new export in tmp_path and j->st.etag set; or -1 with j->e
 * set (j->fatal when the failure was writing DIR/fleet). Runs on a worker thread: touches
 * nothing but *j. */
int fleet_pull(struct fleet_job *j);

#endif
