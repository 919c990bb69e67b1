/* shard_rows.h - one static-hosting shard: a contiguous run of index rows rendered as a
 * results answer, so the dashboard's static fallback reads the same representation the API
 * serves. */
#ifndef POLSNAP_SHARD_ROWS_H
#define POLSNAP_SHARD_ROWS_H

#include "buf.h"
#include "idx.h"

#include <stdint.h>

/* Rows [lo, hi) of ix as {"items":[...],"count":n} (each namespace's rows are one contiguous
 * run of the index). Appends to out. */
void shard_rows_render(const struct idx *ix, uint32_t lo, uint32_t hi, struct buf *out);

#endif
