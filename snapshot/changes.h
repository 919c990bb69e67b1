/* changes.h - what changed since the previous snapshot (spec section 9): finding keys, which
 * rows are new, since when each failing key has failed, and which keys were resolved.
 *
 * A finding key names the same check on the same thing across snapshots: scope (namespaced or
 * cluster), cluster name (spec 10), namespace, resource kind and name (the report's name when
 * both are null), source, policy and rule; never the status, message, severity, timestamp, uid or
 * id. A key fails when any of its rows is fail, warn or error. Against the previous snapshot
 * (DIR/current when this run starts) a key is new when it fails now and did not fail (or was
 * absent) there, resolved the other way round. Keys are compared by a 64-bit hash of their fields:
 * two different keys sharing a hash (about one chance in 10^7 at a million keys) would be taken for
 * one. */
#ifndef POLSNAP_CHANGES_H
#define POLSNAP_CHANGES_H

#include "idx.h"
#include "rows.h"

#include <stdint.h>

struct changes {
    char previous[32]; /* the previous snapshot's id; "" when none was readable */
    uint32_t new_keys; /* failing keys that were not failing before */
    uint32_t resolved; /* keys failing before and not now */
    uint32_t new_rows; /* rows of new keys */
};

/* Called for each resolved key with one of its failing rows in the previous index. */
typedef void (*changes_resolved_fn)(const struct idx *prev, uint32_t row, void *ctx);

/* Compares rs with the index of data_dir's current snapshot and marks every row of rs
 * (rowset_set_change): new or not, and first_seen (the previous snapshot's first_seen for a
 * key failing there, else now; none for a key that does not fail). Calls on_resolved (may be
 * NULL) for each resolved key while the previous index is open. Never fails: a missing or
 * unreadable previous snapshot marks nothing new, leaves out->previous empty and logs why. */
void changes_mark(struct rowset *rs, const char *data_dir, int64_t now,
                  changes_resolved_fn on_resolved, void *ctx, struct changes *out);

/* 1 for the statuses that make a key fail: fail, warn, error. */
int changes_failing_status(const char *status);

#endif
