/* sort_orders.h - sorting row ids by one sort key of the index (IDX_SEC_SORT in
 * common/idx.h): the index writer builds the precomputed orders with it; the reader only
 * walks them. */
#ifndef POLSNAP_SORT_ORDERS_H
#define POLSNAP_SORT_ORDERS_H

#include "idx.h"

#include <stddef.h>
#include <stdint.h>

/* Sorts ids[0..n) (row ids, ascending) of rows[] stably by sort key k (a field < IDX_F_ID,
 * or IDX_SORT_TIMESTAMP): strings by id (byte order), severity by rank, timestamps
 * numerically, nulls first. */
void sort_orders_by(const struct idx_row *rows, int k, uint32_t *ids, size_t n);

#endif
