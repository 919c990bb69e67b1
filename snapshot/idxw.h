/* idxw.h - writes a rowset as a snapshot index file (the format is in common/idx.h). */
#ifndef POLSNAP_IDXW_H
#define POLSNAP_IDXW_H

#include "idx.h"

#include "err.h"
#include "rows.h"

#include <stdint.h>

/* Writes the index of rs to path (created or truncated; fsync'ed before returning 0).
 * meta goes into the header. Returns 0, or -1 with *e set (ERR_INVALID: past the format's limits;
 * ERR_IO); on -1 path may hold a partial file, which the caller deletes with the rest of its
 * unpublished snapshot directory. rs is not changed, but for its rows when meta->free_rows is set.
 */
struct idxw_meta {
    const char *snapshot_id; /* < 32 bytes */
    int64_t created;         /* Unix seconds */
    uint32_t cron_period;    /* seconds, 0 when unknown */
    int free_rows;           /* free rs's rows once copied (rowset_free_rows): less memory */
    const char *previous_id; /* the snapshot compared with (spec 9); NULL or "" for none */
    uint32_t changes_new, changes_resolved; /* finding keys */
};
int idxw_write(struct rowset *rs, const char *path, const struct idxw_meta *meta, struct err *e);

#endif
