/* query.c - placeholder until the query engine lands: answers requests without parameters. */
#include "query.h"

#include "util.h"

#include <stdio.h>
#include <string.h>

int query_parse(const char *qs, struct query *q, char err[QUERY_ERR_MAX])
{
    memset(q, 0, sizeof *q);
    q->sort_field = QUERY_SORT_DEFAULT;
    if (!qs || !*qs) return 0;
    snprintf(err, QUERY_ERR_MAX, "query parameters are not supported yet");
    return 400;
}

void query_release(struct query *q)
{
    (void)q;
}

void query_select(const struct idx *ix, const struct query *q, uint32_t lo, uint32_t hi,
                  struct bitmap *out)
{
    (void)ix;
    (void)q;
    bitmap_fill(out);
    bitmap_keep_range(out, lo, hi);
}

uint32_t *query_order(const struct idx *ix, const struct query *q, const struct bitmap *sel,
                      size_t *n)
{
    (void)ix;
    (void)q;
    *n = bitmap_count(sel);
    uint32_t *ids = xmalloc(sizeof *ids * (*n + 1));
    size_t k = 0;
    for (size_t i = bitmap_next(sel, 0); i < sel->nbits; i = bitmap_next(sel, i + 1))
        ids[k++] = (uint32_t)i;
    return ids;
}

void query_window(const struct query *q, size_t n, size_t *first, size_t *count)
{
    (void)q;
    *first = 0;
    *count = n;
}
