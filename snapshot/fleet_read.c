/* fleet_read.c - inflates a fleet export line by line and checks every line against the
 * format of common/fleet.h (see fleet_read.h). */
#include "fleet_read.h"

#include "buf.h"
#include "fleet.h"
#include "idx.h"
#include "report.h"
#include "util.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

struct reader {
    const struct fleet_sink *sink;
    struct fleet_header h;
    uint64_t line; /* lines seen, 1-based once the first is done */
    struct err *e;
};

#define BAD(...) return err_set(r->e, ERR_INVALID, __VA_ARGS__)

/* A key that must hold a string or null (*out NULL); 0, or -1 when it is neither. */
static int str_or_null(const cJSON *o, const char *key, const char **out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (cJSON_IsNull(v)) {
        *out = NULL;
        return 0;
    }
    if (!cJSON_IsString(v)) return -1;
    *out = v->valuestring;
    return 0;
}

/* A non-negative integer key (at most max); 0 or -1. */
static int count(const cJSON *o, const char *key, double max, double *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > max ||
        v->valuedouble != (double)(int64_t)v->valuedouble)
        return -1;
    *out = v->valuedouble;
    return 0;
}

static int header_line(struct reader *r, const cJSON *o)
{
    const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(o, "format");
    const char *cluster, *snapshot;
    double version, created, nrep, nrows;
    if (!cJSON_IsString(fmt) || strcmp(fmt->valuestring, FLEET_FORMAT) != 0)
        BAD("not a polsnap fleet export (line 1 has no \"format\":\"" FLEET_FORMAT "\")");
    if (count(o, "version", 1e9, &version) || version != FLEET_VERSION)
        BAD("fleet export format version is not %d (the one this program reads)", FLEET_VERSION);
    if (str_or_null(o, "cluster", &cluster) || (cluster && !dns_label(cluster, strlen(cluster))))
        BAD("line 1: \"cluster\" is not a DNS label or null");
    if (str_or_null(o, "snapshot", &snapshot) || !snapshot ||
        strlen(snapshot) >= sizeof r->h.snapshot)
        BAD("line 1: \"snapshot\" is not a snapshot id");
    if (count(o, "created", 1e15, &created) || count(o, "reports", FLEET_MAX_REPORTS, &nrep) ||
        count(o, "rows", FLEET_MAX_ROWS, &nrows))
        BAD("line 1: \"created\", \"reports\" or \"rows\" is not a count in range");
    snprintf(r->h.cluster, sizeof r->h.cluster, "%s", cluster ? cluster : "");
    snprintf(r->h.snapshot, sizeof r->h.snapshot, "%s", snapshot);
    r->h.created = (int64_t)created;
    r->h.nreports = (uint32_t)nrep;
    r->h.nrows = (uint32_t)nrows;
    return 0;
}

static int bool_or_null(const cJSON *o, const char *key, int *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (cJSON_IsNull(v))
        *out = -1;
    else if (cJSON_IsBool(v))
        *out = cJSON_IsTrue(v);
    else
        return -1;
    return 0;
}

static int report_line(struct reader *r, const cJSON *o, uint32_t i)
{
    struct row_report rep = {0};
    struct row_label labels[ROW_LABELS_MAX];
    int scoped;
    const cJSON *l = cJSON_GetObjectItemCaseSensitive(o, "labels");
    if (str_or_null(o, "kind", &rep.kind) || str_or_null(o, "name", &rep.name) ||
        str_or_null(o, "namespace", &rep.namespace) || bool_or_null(o, "clusterScoped", &scoped) ||
        scoped < 0 || str_or_null(o, "source", &rep.source) ||
        (!cJSON_IsNull(l) && report_labels_unfit(l)))
        BAD("line %llu: a report needs kind, name, namespace, source (strings or null), "
            "clusterScoped (true or false) and labels (null or an object of labels)",
            (unsigned long long)r->line);
    rep.cluster_scoped = scoped;
    for (const cJSON *c = cJSON_IsObject(l) ? l->child : NULL; c; c = c->next)
        labels[rep.nlabels++] = (struct row_label){c->string, c->valuestring};
    rep.labels = labels;
    if (r->sink) r->sink->report(r->sink->ctx, i, &rep);
    return 0;
}

/* properties: null, or the JSON text of an object whose values are strings */
static int properties_ok(const char *text)
{
    if (!text) return 1;
    cJSON *p = cJSON_Parse(text);
    int ok = cJSON_IsObject(p);
    for (const cJSON *x = p ? p->child : NULL; x && ok; x = x->next)
        ok = cJSON_IsString(x);
    cJSON_Delete(p);
    return ok;
}

static int row_line(struct reader *r, const cJSON *o)
{
    struct row_in in = {0};
    double report;
    const char **strs[] = {&in.result_id,     &in.res_kind,  &in.res_name, &in.res_api_version,
                           &in.res_namespace, &in.res_uid,   &in.message,  &in.category,
                           &in.policy,        &in.rule,      &in.status,   &in.severity,
                           &in.source,        &in.properties};
    static const char *const keys[] = {
        "id",       "kind",   "name", "apiVersion", "resourceNamespace", "uid",    "message",
        "category", "policy", "rule", "status",     "severity",          "source", "properties"};
    if (count(o, "report", FLEET_MAX_REPORTS, &report) || report >= r->h.nreports)
        BAD("line %llu: \"report\" names no report", (unsigned long long)r->line);
    for (size_t k = 0; k < ARRAY_LEN(keys); k++)
        if (str_or_null(o, keys[k], strs[k]))
            BAD("line %llu: \"%s\" is not a string or null", (unsigned long long)r->line, keys[k]);
    int status_ok = 0;
    for (int s = 0; s < IDX_NSTATUS && in.status; s++)
        status_ok |= strcmp(in.status, idx_status_names[s]) == 0;
    if (!in.result_id || !status_ok)
        BAD("line %llu: a row needs an id and a status of pass, fail, warn, error or skip",
            (unsigned long long)r->line);
    if (!properties_ok(in.properties))
        BAD("line %llu: \"properties\" is not an object of strings", (unsigned long long)r->line);
    const cJSON *ts = cJSON_GetObjectItemCaseSensitive(o, "timestamp");
    if (cJSON_IsNumber(ts) && ts->valuedouble == (double)(int64_t)ts->valuedouble) {
        in.timestamp = (int64_t)ts->valuedouble;
        in.has_timestamp = 1;
    } else if (!cJSON_IsNull(ts)) {
        BAD("line %llu: \"timestamp\" is not an integer or null", (unsigned long long)r->line);
    }
    if (bool_or_null(o, "scored", &in.scored))
        BAD("line %llu: \"scored\" is not true, false or null", (unsigned long long)r->line);
    if (r->sink) r->sink->row(r->sink->ctx, (uint32_t)report, &in);
    return 0;
}

/* One complete line (without its "\n"). */
static int take_line(struct reader *r, const char *s, size_t n)
{
    r->line++;
    if (r->line > 1 + (uint64_t)r->h.nreports + r->h.nrows)
        BAD("line %llu: more lines than the header announces", (unsigned long long)r->line);
    if (utf8_prefix(s, n) != n) BAD("line %llu is not UTF-8", (unsigned long long)r->line);
    cJSON *o = cJSON_ParseWithLength(s, n);
    int rc;
    if (!cJSON_IsObject(o))
        rc = err_set(r->e, ERR_INVALID, "line %llu is not a JSON object",
                     (unsigned long long)r->line);
    else if (r->line == 1)
        rc = header_line(r, o);
    else if (r->line <= 1 + (uint64_t)r->h.nreports)
        rc = report_line(r, o, (uint32_t)(r->line - 2));
    else
        rc = row_line(r, o);
    cJSON_Delete(o);
    return rc;
}

/* Splits inflated bytes into lines; a part line waits in *line. */
static int take_bytes(struct reader *r, struct buf *line, const char *p, size_t n)
{
    while (n) {
        const char *nl = memchr(p, '\n', n);
        size_t k = nl ? (size_t)(nl - p) : n;
        buf_add(line, p, k);
        if (buf_failed(line))
            BAD("line %llu is longer than %zu bytes", (unsigned long long)r->line + 1,
                FLEET_LINE_MAX);
        if (!nl) return 0;
        if (take_line(r, line->ptr ? line->ptr : "", line->len)) return -1;
        buf_reset(line);
        p += k + 1;
        n -= k + 1;
    }
    return 0;
}

/* Inflates the whole of f (one gzip member, nothing after it) through take_bytes. */
static int inflate_file(struct reader *r, FILE *f, const char *path)
{
    unsigned char *ibuf = xmalloc(65536), *obuf = xmalloc(65536);
    struct buf line = BUF_INIT(FLEET_LINE_MAX);
    z_stream z = {0};
    int rc = inflateInit2(&z, 15 + 16) == Z_OK ? 0 : err_set(r->e, ERR_INTERNAL, "zlib init");
    int zr = Z_OK;
    while (rc == 0 && zr != Z_STREAM_END) {
        z.avail_in = (uInt)fread(ibuf, 1, 65536, f);
        z.next_in = ibuf;
        if (ferror(f)) rc = err_set(r->e, ERR_IO, "%s: %s", path, strerror(errno));
        if (z.avail_in == 0 && rc == 0) rc = err_set(r->e, ERR_INVALID, "truncated export");
        while (rc == 0 && z.avail_in && zr != Z_STREAM_END) {
            z.next_out = obuf;
            z.avail_out = 65536;
            zr = inflate(&z, Z_NO_FLUSH);
            if (zr != Z_OK && zr != Z_STREAM_END)
                rc = err_set(r->e, ERR_INVALID, "not a sound gzip stream (%s)",
                             z.msg ? z.msg : "corrupt");
            else
                rc = take_bytes(r, &line, (const char *)obuf, 65536 - z.avail_out);
        }
    }
    if (rc == 0 && (z.avail_in || fgetc(f) != EOF))
        rc = err_set(r->e, ERR_INVALID, "bytes after the end of the gzip stream");
    if (rc == 0 && line.len) rc = err_set(r->e, ERR_INVALID, "the last line has no newline");
    inflateEnd(&z);
    buf_release(&line);
    free(ibuf), free(obuf);
    return rc;
}

int fleet_read(const char *path, const struct fleet_sink *sink, struct fleet_header *h,
               struct err *e)
{
    FILE *f = fopen(path, "rb");
    if (!f) return err_set(e, ERR_IO, "%s: %s", path, strerror(errno));
    struct reader r = {.sink = sink, .e = e};
    int rc = inflate_file(&r, f, path);
    fclose(f);
    uint64_t want = 1 + (uint64_t)r.h.nreports + r.h.nrows;
    if (rc == 0 && r.line != want)
        rc =
            err_set(e, ERR_INVALID, "truncated export: %llu lines of the %llu its header announces",
                    (unsigned long long)r.line, (unsigned long long)want);
    if (rc == 0) *h = r.h;
    return rc;
}
