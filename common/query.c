/* query.c - placeholder until the query engine lands. */
#include "query.h"

#include <stdio.h>
#include <string.h>

int query_parse(const char *qs, struct query *q, char err[QUERY_ERR_MAX])
{
    (void)qs;
    memset(q, 0, sizeof *q);
    q->sort_field = QUERY_SORT_DEFAULT;
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
    bitmap_keep_range(out, lo, hi);
}

uint32_t *query_order(const struct idx *ix, const struct query *q, const struct bitmap *sel,
                      size_t *n)
{
    (void)ix;
    (void)q;
    (void)sel;
    *n = 0;
    return NULL;
}

void query_window(const struct query *q, size_t n, size_t *first, size_t *count)
{
    (void)q;
    *first = 0;
    *count = n;
}
