/* status_bits.c - the per-status row bitmaps of the mapped index, built once (status_bits.h). */
#include "status_bits.h"

#include "util.h"

#include <string.h>

static struct {
    const void *base;
    size_t size;
    char snapshot_id[32];
    struct bitmap bits[IDX_NSTATUS];
} cache;

const struct bitmap *status_bits(const struct idx *ix)
{
    if (cache.base == ix->base && cache.size == ix->size &&
        strcmp(cache.snapshot_id, ix->h->snapshot_id) == 0)
        return cache.bits;
    for (int s = 0; s < IDX_NSTATUS; s++) {
        bitmap_release(&cache.bits[s]);
        bitmap_init(&cache.bits[s], ix->h->nrows);
    }
    const struct idx_dict_entry *e;
    size_t n = idx_dict_all(ix, IDX_F_STATUS, &e);
    for (size_t i = 0; i < n; i++) {
        int s = 0;
        while (s < IDX_NSTATUS && strcmp(idx_str(ix, e[i].str), idx_status_names[s]) != 0)
            s++;
        if (s == IDX_NSTATUS) continue; /* idx_check allows only the five (rows' status) */
        const uint32_t *p = idx_postings(ix, &e[i]);
        for (uint32_t j = 0; j < e[i].post_n; j++)
            bitmap_set(&cache.bits[s], p[j]);
    }
    cache.base = ix->base;
    cache.size = ix->size;
    memcpy(cache.snapshot_id, ix->h->snapshot_id, sizeof cache.snapshot_id);
    return cache.bits;
}
