/* sort_orders.h - sorting row ids by one sort key of the index (IDX_SEC_SORT in
 * common/idx.h): the index writer builds the precomputed orders with it, and the query
 * server sorts a selection with it when a request's sortBy keys have no precomputed order
 * (several keys, resource_uid), so both order rows the same way. */
#ifndef POLSNAP_SORT_ORDERS_H
#define POLSNAP_SORT_ORDERS_H

#include "idx.h"

#include <stddef.h>
#include <stdint.h>

/* Sorts ids[0..n) (row ids) of rows[] stably by sort key k (a string field other than
 * IDX_F_ID, or IDX_SORT_TIMESTAMP): strings by id (byte order), severity by rank, timestamps
 * numerically, nulls first. */
void sort_orders_by(const struct idx_row *rows, int k, uint32_t *ids, size_t n);

#endif
