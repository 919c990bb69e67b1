/* shard_rows.c - a run of index rows as one static-hosting shard (shard_rows.h). */
#include "shard_rows.h"

#include "api.h"

void shard_rows_render(const struct idx *ix, uint32_t lo, uint32_t hi, struct buf *out)
{
    buf_puts(out, "{\"items\":[");
    for (uint32_t r = lo; r < hi; r++) {
        if (r > lo) buf_putc(out, ',');
        api_put_row(out, ix, &ix->rows[r]);
    }
    buf_printf(out, "],\"count\":%u}", hi - lo);
}
