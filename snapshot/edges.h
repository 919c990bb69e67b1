/* edges.h - a central snapshot's edges (spec section 10, README "Many clusters"): each edge's
 * fleet export (common/fleet.h) is pulled, checked, kept, and merged into the rowset under
 * the edge's name.
 *
 * Pulls run o->parallel at a time, each with the per-request timeout and the HTTP client's
 * retries. They are conditional: an https edge is asked with If-None-Match (its ETag), an S3
 * one by the snapshot its pointer (data/current.json, what --publish writes) names, a local
 * data directory by the snapshot its `current` names; an edge whose snapshot did not
 * change costs that one small request and its kept copy is merged again. A new export is
 * checked whole before it replaces the kept copy, so a truncated or corrupt one is never
 * merged, not even in part.
 *
 * An edge that cannot be read is merged from its kept copy and marked stale (with the time of
 * its last good pull and why it failed) for up to o->max_stale seconds after that pull; past
 * that, or with no copy, it is gone: listed in /v1/clusters without rows.
 *
 * Kept state, in the central's data directory (one KEY per edge location):
 *   DIR/fleet/KEY.jsonl.gz   the last good export
 *   DIR/fleet/KEY.json       {"name","etag","snapshot","time","lastPull","error"}
 *
 * In the merged rowset every row carries its edge's name (the --fleet name, else the edge's
 * own --cluster) and the id SHA-1(name, NUL, edge id) in lower-case hex. */
#ifndef POLSNAP_FLEET_EDGES_H
#define POLSNAP_FLEET_EDGES_H

#include "err.h"
#include "rows.h"
#include "s3.h"

#include <stddef.h>

#define FLEET_EDGES_MAX 10000

struct fleet_edge {
    char *name;        /* a DNS label; NULL: the edge export's own cluster */
    char *location;    /* https://HOST[:PORT], s3://BUCKET/PREFIX, or a data directory */
    char *credentials; /* https: a file holding the bearer token; NULL: the default */
    char *ca;          /* https: a PEM CA bundle; NULL: the default */
};

struct fleet {
    struct fleet_edge *v;
    size_t n;
};

struct fleet_opts {
    const char *data_dir;
    const char *token_file, *ca; /* defaults: --polsnap-token-file, --polsnap-ca */
    long max_stale;              /* seconds */
    long parallel;               /* pulls at a time, >= 1 */
    long timeout_seconds;        /* per request */
    const struct s3_conf *s3;    /* s3:// edges: endpoint, region, CA (--s3-*) */
};

/* --source polsnap:LOCATION. Returns 0, or -1 with *e set (ERR_INVALID: not a location). An
 * s3:// location uses the run's AWS credentials (as --publish does). */
int edges_add(struct fleet *f, const char *location, struct err *e);
/* --fleet FILE (YAML or JSON): {"edges":[{"name","location","credentials","ca"}]}, names
 * unique DNS labels. Returns 0, or -1 with *e naming the file and key. */
int edges_load(struct fleet *f, const char *path, struct err *e);
void edges_release(struct fleet *f);

/* Pulls every edge and merges what is up or stale into rs, with one /v1/clusters entry and
 * one source status each. Returns 0, or -1 with *e set only when DIR/fleet cannot be written
 * or a kept copy cannot be read back (then nothing may be published). */
int edges_collect(const struct fleet *f, const struct fleet_opts *o, struct rowset *rs,
                  struct err *e);

#endif
