/* api_common.c - what every renderer builds on (api_common.h): the error object, the
 * selection of a request's rows, and the row and count representations. */
#include "api_common.h"

#include <string.h>

const char *const api_role_names[API_NROLES] = {NULL, "Admin", "Reader", "Metrics"};

struct api_result api_error(struct buf *out, const struct err *e)
{
    buf_printf(out, "{\"code\":%d,\"message\":", err_grpc_code(e->code));
    buf_json_str(out, e->msg);
    buf_puts(out, ",\"error\":");
    buf_json_str(out, e->msg);
    buf_puts(out, ",\"details\":[]}");
    return (struct api_result){err_http_status(e->code), API_JSON};
}

int api_too_large(struct err *e, size_t max)
{
    return err_set(e, ERR_INTERNAL,
                   "the answer is larger than the %lu bytes this server builds an answer in: "
                   "narrow it with filters or pages",
                   (unsigned long)max);
}

void api_put_counts(struct buf *b, const uint32_t count[IDX_NSTATUS])
{
    for (int s = 0; s < IDX_NSTATUS; s++)
        buf_printf(b, "%c\"%s\":%u", s ? ',' : '{', idx_status_names[s], count[s]);
    buf_putc(b, '}');
}

/* Narrows sel to the rows of the view's namespaces (exact names, not folded). */
static void keep_namespaces(const struct api_ctx *c, struct bitmap *sel)
{
    struct bitmap allowed;
    bitmap_init(&allowed, c->ix->h->nrows);
    for (size_t i = 0; i < c->view->nnamespaces; i++) {
        const char *ns = c->view->namespaces[i];
        const struct idx_dict_entry *e;
        size_t n = idx_dict_range(c->ix, IDX_F_NAMESPACE, ns, strlen(ns), 0, &e);
        for (size_t k = 0; k < n; k++) {
            if (strcmp(idx_str(c->ix, e[k].str), ns) != 0) continue;
            const uint32_t *p = idx_postings(c->ix, &e[k]);
            for (uint32_t j = 0; j < e[k].post_n; j++)
                bitmap_set(&allowed, p[j]);
        }
    }
    bitmap_and(sel, &allowed);
    bitmap_release(&allowed);
}

void api_select(const struct api_ctx *c, struct bitmap *sel)
{
    const struct idx_header *h = c->ix->h;
    enum api_scope scope = c->ep->scope;
    uint32_t lo = scope == API_CLUSTER ? h->nrows_ns : 0;
    uint32_t hi = scope == API_NAMESPACED ? h->nrows_ns : h->nrows;
    int limited = c->view && c->view->namespaces;
    if (limited) hi = h->nrows_ns; /* limited tokens: namespaced only */
    bitmap_init(sel, h->nrows);
    if (lo >= hi) return;
    query_select(c->ix, c->q, lo, hi, sel);
    if (limited) keep_namespaces(c, sel);
}

void api_put_field(struct buf *b, const struct idx *ix, const char *key, uint32_t id)
{
    buf_puts(b, key);
    buf_json_str_or_null(b, idx_str(ix, id));
}

/* The 11 string keys of a row, in the spec's order. */
void api_put_row_fields(struct buf *b, const struct idx *ix, const struct idx_row *row)
{
    const uint32_t *s = row->str;
    api_put_field(b, ix, "{\"id\":", s[IDX_F_ID]);
    api_put_field(b, ix, ",\"namespace\":", s[IDX_F_NAMESPACE]);
    api_put_field(b, ix, ",\"kind\":", s[IDX_F_KIND]);
    api_put_field(b, ix, ",\"name\":", s[IDX_F_NAME]);
    api_put_field(b, ix, ",\"message\":", s[IDX_F_MESSAGE]);
    api_put_field(b, ix, ",\"category\":", s[IDX_F_CATEGORY]);
    api_put_field(b, ix, ",\"policy\":", s[IDX_F_POLICY]);
    api_put_field(b, ix, ",\"rule\":", s[IDX_F_RULE]);
    api_put_field(b, ix, ",\"status\":", s[IDX_F_STATUS]);
    api_put_field(b, ix, ",\"severity\":", s[IDX_F_SEVERITY]);
    api_put_field(b, ix, ",\"source\":", s[IDX_F_SOURCE]);
}

void api_put_properties(struct buf *b, const struct idx *ix, const struct idx_row *row)
{
    /* stored as the compact JSON object text the loader built */
    const char *props = idx_str(ix, row->str[IDX_F_PROPERTIES]);
    buf_puts(b, ",\"properties\":");
    buf_puts(b, props ? props : "null");
}

/* The 11 string keys, then timestamp (Unix seconds) and properties: 13 keys. */
void api_put_row(struct buf *b, const struct idx *ix, const struct idx_row *row)
{
    api_put_row_fields(b, ix, row);
    buf_puts(b, ",\"timestamp\":");
    if (row->timestamp == IDX_NO_TIME)
        buf_puts(b, "null");
    else
        buf_put_i64(b, row->timestamp);
    api_put_properties(b, ix, row);
    buf_putc(b, '}');
}
