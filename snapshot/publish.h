/* publish.h - turns a rowset into a published snapshot directory, atomically.
 *
 * Before the index is written, every row is compared with the snapshot DIR/current names
 * (changes.h), so the index records what is new since then.
 *
 * Layout of DIR (the data directory):
 *   DIR/.lock                 flock'ed while a job runs: overlapping cron runs fail fast
 *   DIR/snapshots/ID/         one immutable snapshot (ID sorts by time: 20261125T153000.123456Z)
 *   DIR/snapshots/.tmp-PID/   the snapshot being written by job PID (and its spilled arrays,
 *                             spill.h); never served, removed on failure
 *   DIR/current -> snapshots/ID   the newest, swapped with rename(2) (write, fsync, rename)
 * A snapshot directory holds index.bin, metrics.txt, v1/... (one JSON file per unfiltered
 * endpoint: the rows of api_endpoints with a file) and shards/ (per-namespace results for static
 * hosting: shards/index.json lists them). */
#ifndef POLSNAP_PUBLISH_H
#define POLSNAP_PUBLISH_H

#include "changes.h"
#include "rows.h"

#include "err.h"

#include <stdint.h>

struct publish_opts {
    const char *data_dir;
    const char *tmp_dir;  /* from publish_begin */
    unsigned keep;        /* snapshots kept after the swap, >= 1 */
    uint32_t cron_period; /* seconds, 0 unknown (shown by /v1/snapshot for staleness) */
    /* Change tracking against DIR/current (changes.h): on_resolved (may be NULL) sees each
     * resolved key's row in the previous index, with ctx. */
    changes_resolved_fn on_resolved;
    /* Called (may be NULL) with the new snapshot's index once it is written and before
     * DIR/current is swapped to it: what must be durable before anyone can see the snapshot
     * (the notifications it owes) is written here. */
    void (*before_swap)(const struct idx *ix, void *ctx);
    void *ctx;
};

/* Takes DIR/.lock (fails at once when another job holds it). Returns 0 with the lock fd in
 * *lock_fd, or -1 with *e set. */
int publish_lock(const char *data_dir, int *lock_fd, struct err *e);

/* Makes the snapshot's temporary directory DIR/snapshots/.tmp-PID (its path in tmp_out,
 * PATH_MAX bytes), under the lock, after removing what an interrupted run left (.tmp-
 * directories, a snapshot renamed into place but never swapped in) and all but the current
 * snapshot and the newest keep - 1 older ones. Returns 0, or -1 with *e set. The caller
 * removes it (rm_rf) when it does not go on to publish_snapshot. */
int publish_begin(const char *data_dir, unsigned keep, char *tmp_out, struct err *e);

/* Writes *rs as a new snapshot from o->tmp_dir (renamed into place, or removed on failure),
 * swaps DIR/current to it, then keeps the current snapshot and the newest keep - 1 older ones
 * (leftovers of interrupted runs never count against keep). Takes the rowset: it is freed (and
 * *rs set to NULL) as soon as the index is written, so the rows are not held while the files
 * are rendered from the index. Returns 0 exactly when DIR/current names the new snapshot, with
 * its directory path in path_out (PATH_MAX bytes); a failed fsync of DIR after the swap is then
 * only a warning (the swap is visible; a power loss could undo it). Returns -1 with *e set when
 * it does not: then nothing that was published before has changed and the new directory is
 * removed. */
int publish_snapshot(struct rowset **rs, const struct publish_opts *o, char *path_out,
                     struct err *e);

#endif
