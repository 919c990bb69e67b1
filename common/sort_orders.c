/* sort_orders.c - rows ordered by one sort key: the index writer's permutations and the query
 * server's sortBy (see sort_orders.h and IDX_SEC_SORT in common/idx.h). */
#include "sort_orders.h"

#include "util.h"

#include <stdlib.h>
#include <string.h>

/* Stable LSD radix sort of rows[0..n) by key[0..n), both permuted together. A byte that is the
 * same in every key costs no pass, so string ids (< 2^24 in practice) take three passes and
 * timestamps of one year three or four. */
static void radix_sort(uint64_t *key, uint32_t *rows, size_t n)
{
    size_t count[8][256] = {{0}};
    for (size_t i = 0; i < n; i++)
        for (unsigned b = 0; b < 8; b++)
            count[b][(key[i] >> (8 * b)) & 0xff]++;
    uint64_t *k2 = xmalloc((n ? n : 1) * sizeof *k2), *ksrc = key, *kdst = k2;
    uint32_t *r2 = xmalloc((n ? n : 1) * sizeof *r2), *rsrc = rows, *rdst = r2;
    for (unsigned b = 0; b < 8; b++) {
        size_t *c = count[b], sum = 0;
        if (n == 0 || c[(ksrc[0] >> (8 * b)) & 0xff] == n) continue;
        for (int d = 0; d < 256; d++) {
            size_t cd = c[d];
            c[d] = sum;
            sum += cd;
        }
        for (size_t i = 0; i < n; i++) {
            size_t at = c[(ksrc[i] >> (8 * b)) & 0xff]++;
            kdst[at] = ksrc[i];
            rdst[at] = rsrc[i];
        }
        uint64_t *kt = ksrc;
        ksrc = kdst;
        kdst = kt;
        uint32_t *rt = rsrc;
        rsrc = rdst;
        rdst = rt;
    }
    if (rsrc != rows) memcpy(rows, rsrc, n * sizeof *rows);
    free(k2);
    free(r2);
}

/* Keys: a string id (ids order as their strings, and null is 0, first), a severity rank
 * (null 0), or a timestamp with its sign bit flipped (int64 order as unsigned; null,
 * INT64_MIN, becomes 0). The sort is stable, so ties keep the default order. */
void sort_orders_by(const struct idx_row *rows, int k, uint32_t *ids, size_t n)
{
    uint64_t *key = xmalloc((n ? n : 1) * sizeof *key);
    for (size_t i = 0; i < n; i++) {
        const struct idx_row *r = &rows[ids[i]];
        if (k == IDX_SORT_TIMESTAMP)
            key[i] = (uint64_t)r->timestamp ^ ((uint64_t)1 << 63);
        else if (k == IDX_F_SEVERITY)
            key[i] = r->severity;
        else
            key[i] = r->str[k];
    }
    radix_sort(key, ids, n);
    free(key);
}
