/* fleet_write.c - renders a snapshot index as a fleet export (format in fleet.h): the JSON
 * lines are written into a text buffer whose sink deflates them into the output. */
#include "fleet.h"

#include "api.h"
#include "api_common.h"

#include "util.h"

#include <stdint.h>
#include <stdlib.h>
#include <zlib.h>

struct deflater {
    z_stream z;
    struct buf *out;
};

/* Compresses n bytes (flush: Z_NO_FLUSH, or Z_FINISH at the end) into d->out. */
static void deflate_into(struct deflater *d, const char *data, size_t n, int flush)
{
    unsigned char chunk[16384];
    d->z.next_in = (unsigned char *)(uintptr_t)data;
    d->z.avail_in = (uInt)n;
    do {
        d->z.next_out = chunk;
        d->z.avail_out = sizeof chunk;
        if (deflate(&d->z, flush) == Z_STREAM_ERROR) abort(); /* a bug: the state is ours */
        buf_add(d->out, chunk, sizeof chunk - d->z.avail_out);
    } while (d->z.avail_out == 0);
}

static void deflate_sink(void *ctx, const char *data, size_t n)
{
    deflate_into(ctx, data, n, Z_NO_FLUSH);
}

static void put_header(const struct idx *ix, struct buf *t)
{
    const struct idx_header *h = ix->h;
    /* the snapshot's own cluster: the name its rows carry (the first, when several) */
    const struct idx_dict_entry *first;
    size_t n = idx_dict_all(ix, IDX_F_CLUSTER, &first);
    buf_printf(t, "{\"format\":\"%s\",\"version\":%d,\"cluster\":", FLEET_FORMAT, FLEET_VERSION);
    buf_json_str_or_null(t, n ? idx_str(ix, first->str) : NULL);
    buf_puts(t, ",\"snapshot\":");
    buf_json_str(t, h->snapshot_id);
    buf_printf(t, ",\"created\":%lld,\"reports\":%u,\"rows\":%u}\n", (long long)h->created,
               h->nreports, h->nrows);
}

static void put_row(const struct idx *ix, const struct idx_row *r, uint32_t report, struct buf *t)
{
    const uint32_t *s = r->str;
    buf_printf(t, "{\"report\":%u", report);
    api_put_field(t, ix, ",\"id\":", s[IDX_F_ID]);
    api_put_field(t, ix, ",\"kind\":", s[IDX_F_KIND]);
    api_put_field(t, ix, ",\"name\":", s[IDX_F_NAME]);
    api_put_field(t, ix, ",\"apiVersion\":", s[IDX_F_RES_API]);
    api_put_field(t, ix, ",\"resourceNamespace\":", s[IDX_F_RES_NS]);
    api_put_field(t, ix, ",\"uid\":", s[IDX_F_RES_UID]);
    api_put_field(t, ix, ",\"message\":", s[IDX_F_MESSAGE]);
    api_put_field(t, ix, ",\"category\":", s[IDX_F_CATEGORY]);
    api_put_field(t, ix, ",\"policy\":", s[IDX_F_POLICY]);
    api_put_field(t, ix, ",\"rule\":", s[IDX_F_RULE]);
    api_put_field(t, ix, ",\"status\":", s[IDX_F_STATUS]);
    api_put_field(t, ix, ",\"severity\":", s[IDX_F_SEVERITY]);
    api_put_field(t, ix, ",\"source\":", s[IDX_F_SOURCE]);
    buf_puts(t, ",\"timestamp\":");
    if (r->timestamp == IDX_NO_TIME)
        buf_puts(t, "null");
    else
        buf_put_i64(t, r->timestamp);
    buf_puts(t, r->scored == 0   ? ",\"scored\":null"
                : r->scored == 2 ? ",\"scored\":true"
                                 : ",\"scored\":false");
    api_put_field(t, ix, ",\"properties\":", s[IDX_F_PROPERTIES]);
    buf_puts(t, "}\n");
}

/* The reports go out in the order of their ids, not the index's (the order the sources listed
 * them), so that one cluster's export is the same bytes whichever way its reports were read:
 * a central pull then sees an unchanged edge as unchanged. String ids ascend with the strings,
 * so the ids compare as numbers (the sort's context is the index, through qsort_r). */
static int cmp_report_ids(const void *a, const void *b, void *ctx)
{
    const struct idx *ix = ctx;
    uint32_t x = ix->reports[*(const uint32_t *)a].id, y = ix->reports[*(const uint32_t *)b].id;
    return x < y ? -1 : x > y;
}

void fleet_write(const struct idx *ix, struct buf *out)
{
    struct deflater d = {.out = out};
    /* 15 + 16: a gzip wrapper (RFC 1952) around the deflate stream */
    if (deflateInit2(&d.z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) abort();
    struct buf t = BUF_INIT(SIZE_MAX / 2); /* the unflushed part: at most one line */
    buf_set_sink(&t, deflate_sink, &d);
    put_header(ix, &t);
    uint32_t nrep = ix->h->nreports, *order = xmalloc(sizeof *order * (nrep ? nrep : 1));
    uint32_t *line = xmalloc(sizeof *line * (nrep ? nrep : 1)); /* report -> its line */
    for (uint32_t i = 0; i < nrep; i++)
        order[i] = i;
    qsort_r(order, nrep, sizeof *order, cmp_report_ids, (void *)ix);
    for (uint32_t i = 0; i < nrep; i++) {
        const struct idx_report *rep = &ix->reports[order[i]];
        line[order[i]] = i;
        api_put_field(&t, ix, "{\"kind\":", rep->kind);
        api_put_field(&t, ix, ",\"name\":", rep->name);
        api_put_field(&t, ix, ",\"namespace\":", rep->namespace);
        buf_printf(&t, ",\"clusterScoped\":%s", rep->cluster ? "true" : "false");
        api_put_field(&t, ix, ",\"source\":", rep->source);
        buf_puts(&t, ",\"labels\":");
        api_put_labels(&t, ix, rep);
        buf_puts(&t, "}\n");
    }
    for (uint32_t r = 0; r < ix->h->nrows; r++)
        put_row(ix, &ix->rows[r], line[ix->rows[r].report], &t);
    free(order), free(line);
    buf_flush(&t);
    buf_release(&t);
    deflate_into(&d, "", 0, Z_FINISH);
    deflateEnd(&d.z);
}
