/* bitmap.h - a fixed-size set of row indexes, one bit per row; how filters are combined.
 *
 * One bitmap over N rows takes N/8 bytes (125 KB at a million rows), so a request combines any
 * number of filters with word-wide AND/OR in time proportional to N/64, never a scan of rows. */
#ifndef POLSNAP_BITMAP_H
#define POLSNAP_BITMAP_H

#include <stddef.h>
#include <stdint.h>

struct bitmap {
    uint64_t *w;
    size_t nbits, nwords;
};

void bitmap_init(struct bitmap *b, size_t nbits); /* all clear; allocation aborts on OOM */
void bitmap_release(struct bitmap *b);
void bitmap_fill(struct bitmap *b); /* all set (bits >= nbits stay clear) */
void bitmap_clear_all(struct bitmap *b);
static inline void bitmap_set(struct bitmap *b, size_t i)
{
    b->w[i >> 6] |= (uint64_t)1 << (i & 63);
}
static inline int bitmap_get(const struct bitmap *b, size_t i)
{
    return (int)((b->w[i >> 6] >> (i & 63)) & 1);
}
void bitmap_and(struct bitmap *dst, const struct bitmap *src);
void bitmap_or(struct bitmap *dst, const struct bitmap *src);
void bitmap_not(struct bitmap *b); /* complement within [0, nbits) */
/* Keeps only bits in [lo, hi). */
void bitmap_keep_range(struct bitmap *b, size_t lo, size_t hi);
size_t bitmap_count(const struct bitmap *b);
/* Bits set in both a and b (of the same size) within [lo, hi): a count that reads words, not
 * the rows behind them. */
size_t bitmap_and_count(const struct bitmap *a, const struct bitmap *b, size_t lo, size_t hi);
/* The first set bit >= from, or nbits when none. */
size_t bitmap_next(const struct bitmap *b, size_t from);
/* The last set bit < before, or SIZE_MAX when none. */
size_t bitmap_prev(const struct bitmap *b, size_t before);

#endif
