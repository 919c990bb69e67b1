/* fleet_read.h - reads and checks a fleet export (the format is in common/fleet.h), handing
 * each report and row to a sink as the row loader's own structs (rows.h).
 *
 * A central polsnap reads an edge's export twice: once when it arrives, with no sink, to check
 * all of it (an export that fails is never kept, so nothing of it is ever merged in part), and
 * once to merge the kept copy into its rowset. The same function does both, so what was
 * checked is what is merged. */
#ifndef POLSNAP_FLEET_READ_H
#define POLSNAP_FLEET_READ_H

#include "err.h"
#include "rows.h"

#include <stdint.h>

#define FLEET_MAX_ROWS 50000000u   /* rows of one export */
#define FLEET_MAX_REPORTS 5000000u /* reports of one export */

struct fleet_header {
    char cluster[64];  /* the edge's --cluster (a DNS label), "" when it has none */
    char snapshot[32]; /* the edge snapshot's id */
    int64_t created;   /* its time, Unix seconds */
    uint32_t nreports, nrows;
};

/* Called for each report (i counts from 0; rep->origin and rep->cluster are NULL) and each
 * row (row->result_id is the edge's id, row->resource_count 0). Pointers are valid during
 * the call only. */
struct fleet_sink {
    void (*report)(void *ctx, uint32_t i, const struct row_report *rep);
    void (*row)(void *ctx, uint32_t report, const struct row_in *row);
    void *ctx;
};

/* Reads the export at path. Returns 0 with *h filled, or -1 with *e set (ERR_IO: cannot read;
 * ERR_INVALID: not a sound export, naming the line and what is wrong) and *h untouched. sink
 * may be NULL (check only); on -1 the sink may have seen a part. */
int fleet_read(const char *path, const struct fleet_sink *sink, struct fleet_header *h,
               struct err *e);

#endif
