/* snap.h - the query server's view of the newest snapshot: follows DATA/current, maps its
 * index, and retires the old mapping when a newer snapshot is published.
 *
 * One process answers one request at a time: snap_current() is called once at the start of
 * a request and the returned index is used for the whole request, so a response never mixes
 * two snapshots. The previous mapping is unmapped only at the next snap_current(), when no
 * request uses it any more (a deleted snapshot stays readable while mapped). */
#ifndef POLSNAP_SNAP_H
#define POLSNAP_SNAP_H

#include "idx.h"

#include <limits.h>

struct snap {
    char data_dir[PATH_MAX];
    char target[PATH_MAX]; /* what current pointed at when ix was mapped; "" when none */
    char bad[PATH_MAX];    /* the last target that failed to open or check; "" when none */
    struct idx ix;
    int mapped;
};

void snap_init(struct snap *s, const char *data_dir);
/* The index of the newest snapshot, or NULL when none was ever published (or the only one
 * fails its check: logged). When current points at a damaged index but an older mapping is
 * held, the older one is kept and the problem logged. A target that failed is remembered and
 * not tried again (snapshots are immutable, and the check costs O(rows)): the next request
 * answers from the older mapping at once, and the failure is logged once per target. */
const struct idx *snap_current(struct snap *s);
void snap_release(struct snap *s);

#endif
