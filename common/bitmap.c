/* bitmap.c - word-wide set operations over row indexes. */
#include "bitmap.h"

#include "util.h"

#include <stdlib.h>
#include <string.h>

void bitmap_init(struct bitmap *b, size_t nbits)
{
    b->nbits = nbits;
    b->nwords = (nbits + 63) / 64;
    b->w = xcalloc(b->nwords ? b->nwords : 1, sizeof *b->w);
}

void bitmap_release(struct bitmap *b)
{
    free(b->w);
    b->w = NULL;
    b->nbits = b->nwords = 0;
}

void bitmap_clear_all(struct bitmap *b)
{
    memset(b->w, 0, b->nwords * sizeof *b->w);
}

static void trim_tail(struct bitmap *b)
{
    if (b->nbits % 64) b->w[b->nwords - 1] &= ((uint64_t)1 << (b->nbits % 64)) - 1;
}

void bitmap_fill(struct bitmap *b)
{
    memset(b->w, 0xff, b->nwords * sizeof *b->w);
    trim_tail(b);
}

void bitmap_and(struct bitmap *dst, const struct bitmap *src)
{
    for (size_t i = 0; i < dst->nwords; i++)
        dst->w[i] &= src->w[i];
}

void bitmap_or(struct bitmap *dst, const struct bitmap *src)
{
    for (size_t i = 0; i < dst->nwords; i++)
        dst->w[i] |= src->w[i];
}

void bitmap_not(struct bitmap *b)
{
    for (size_t i = 0; i < b->nwords; i++)
        b->w[i] = ~b->w[i];
    trim_tail(b);
}

void bitmap_keep_range(struct bitmap *b, size_t lo, size_t hi)
{
    for (size_t i = 0; i < b->nwords; i++) {
        size_t first = i * 64, last = first + 64;
        if (last <= lo || first >= hi) {
            b->w[i] = 0;
            continue;
        }
        if (lo > first) b->w[i] &= ~(((uint64_t)1 << (lo - first)) - 1);
        if (hi < last) b->w[i] &= ((uint64_t)1 << (hi - first)) - 1;
    }
}

size_t bitmap_count(const struct bitmap *b)
{
    size_t n = 0;
    for (size_t i = 0; i < b->nwords; i++)
        n += (size_t)__builtin_popcountll(b->w[i]);
    return n;
}

size_t bitmap_and_count(const struct bitmap *a, const struct bitmap *b, size_t lo, size_t hi)
{
    if (hi > a->nbits) hi = a->nbits;
    if (lo >= hi) return 0;
    size_t first = lo >> 6, last = (hi - 1) >> 6, n = 0;
    for (size_t i = first; i <= last; i++) {
        uint64_t w = a->w[i] & b->w[i];
        if (i == first) w &= ~(uint64_t)0 << (lo & 63);
        if (i == last && (hi & 63)) w &= ((uint64_t)1 << (hi & 63)) - 1;
        n += (size_t)__builtin_popcountll(w);
    }
    return n;
}

size_t bitmap_next(const struct bitmap *b, size_t from)
{
    if (from >= b->nbits) return b->nbits;
    size_t i = from >> 6;
    uint64_t w = b->w[i] & (~(uint64_t)0 << (from & 63));
    for (;;) {
        if (w) {
            size_t bit = (i << 6) + (size_t)__builtin_ctzll(w);
            return bit < b->nbits ? bit : b->nbits;
        }
        if (++i >= b->nwords) return b->nbits;
        w = b->w[i];
    }
}

size_t bitmap_prev(const struct bitmap *b, size_t before)
{
    if (before > b->nbits) before = b->nbits;
    if (before == 0) return SIZE_MAX;
    size_t last = before - 1, i = last >> 6;
    uint64_t w = b->w[i];
    if ((last & 63) != 63) w &= ((uint64_t)1 << ((last & 63) + 1)) - 1;
    for (;;) {
        if (w) return (i << 6) + 63 - (size_t)__builtin_clzll(w);
        if (i-- == 0) return SIZE_MAX;
        w = b->w[i];
    }
}
