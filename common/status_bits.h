/* status_bits.h - one bitmap per status over the rows of an index, built once per mapped
 * snapshot from the status dictionary's postings and kept: the count endpoints AND a
 * selection with them and count words instead of reading the rows (a row is 96 bytes, its bit
 * one). */
#ifndef POLSNAP_STATUS_BITS_H
#define POLSNAP_STATUS_BITS_H

#include "bitmap.h"
#include "idx.h"

/* The IDX_NSTATUS bitmaps of ix (bits[s]: the rows of status s), valid until the next call
 * with another index. Built on the first call for an index (a pass over the status postings;
 * IDX_NSTATUS * nrows / 8 bytes, kept for the process: 625 KB at a million rows) and cached,
 * keyed by the mapping and the snapshot id. Not thread-safe: one request at a time. */
const struct bitmap *status_bits(const struct idx *ix);

#endif
