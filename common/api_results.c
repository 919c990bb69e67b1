/* api_results.c - the results endpoints: the summary representation of rows with pagination,
 * and the detailed representation of one result (spec sections 2, 3 and 5). */
#include "api_common.h"

#include "util.h"

#include <stdlib.h>
#include <string.h>

int api_results(const struct api_ctx *c, struct err *e)
{
    (void)e;
    const struct idx *ix = c->ix;
    struct bitmap sel;
    api_select(c, &sel);
    size_t total = bitmap_count(&sel), first, count;
    query_window(c->q, total, &first, &count);
    struct buf *b = c->out;
    buf_puts(b, "{\"items\":[");
    uint32_t *page = xmalloc(sizeof *page * (count ? count : 1));
    size_t n = query_page(ix, c->q, &sel, first, count, page);
    for (size_t i = 0; i < n; i++) {
        if (i) buf_putc(b, ',');
        api_put_row(b, ix, &ix->rows[page[i]]);
    }
    free(page);
    buf_printf(b, "],\"count\":%lu}", (unsigned long)total);
    bitmap_release(&sel);
    return 200;
}

/* The row with this exact id that the view may see; UINT32_MAX when none. */
static uint32_t find_id(const struct api_ctx *c, const char *id)
{
    const struct idx_dict_entry *e;
    size_t n = idx_dict_range(c->ix, IDX_F_ID, id, strlen(id), 0, &e);
    for (size_t k = 0; k < n; k++) {
        if (strcmp(idx_str(c->ix, e[k].str), id) != 0 || !e[k].post_n) continue;
        uint32_t r = idx_postings(c->ix, &e[k])[0];
        struct bitmap sel;
        struct query none = {.sort_field = QUERY_SORT_DEFAULT};
        struct api_ctx all = *c;
        all.q = &none;
        api_select(&all, &sel);
        int visible = bitmap_get(&sel, r);
        bitmap_release(&sel);
        return visible ? r : UINT32_MAX;
    }
    return UINT32_MAX;
}

int api_result_detail(const struct api_ctx *c, struct err *e)
{
    const struct idx *ix = c->ix;
    uint32_t r = find_id(c, c->arg);
    if (r == UINT32_MAX) return err_set(e, ERR_NOT_FOUND, "no result with id %s", c->arg);
    const struct idx_row *row = &ix->rows[r];
    const struct idx_report *rep = &ix->reports[row->report];
    struct buf *b = c->out;
    api_put_row_fields(b, ix, row);
    buf_puts(b, ",\"timestamp\":");
    api_put_time_or_null(b, row->timestamp);
    api_put_properties(b, ix, row);
    api_put_field(b, ix, ",\"cluster\":", row->str[IDX_F_CLUSTER]);
    api_put_field(b, ix, ",\"report\":{\"kind\":", rep->kind);
    api_put_field(b, ix, ",\"name\":", rep->name);
    api_put_field(b, ix, ",\"namespace\":", rep->namespace);
    buf_puts(b, "},\"resource\":");
    const uint32_t *s = row->str;
    if (!s[IDX_F_KIND] && !s[IDX_F_NAME] && !s[IDX_F_RES_API] && !s[IDX_F_RES_UID] &&
        !s[IDX_F_RES_NS]) {
        buf_puts(b, "null");
    } else {
        api_put_field(b, ix, "{\"apiVersion\":", s[IDX_F_RES_API]);
        api_put_field(b, ix, ",\"kind\":", s[IDX_F_KIND]);
        api_put_field(b, ix, ",\"name\":", s[IDX_F_NAME]);
        api_put_field(b, ix, ",\"namespace\":", s[IDX_F_RES_NS]);
        api_put_field(b, ix, ",\"uid\":", s[IDX_F_RES_UID]);
        buf_putc(b, '}');
    }
    buf_printf(b, ",\"scored\":%s",
               row->scored == 0   ? "null"
               : row->scored == 2 ? "true"
                                  : "false");
    api_put_field(b, ix, ",\"change\":", s[IDX_F_CHANGE]);
    buf_puts(b, ",\"firstSeen\":");
    api_put_time_or_null(b, row->first_seen);
    buf_putc(b, '}');
    return 200;
}
