/* report.c - Kubernetes-shaped policy report documents (JSON or YAML) to rows. */
#include "report.h"

#include "buf.h"
#include "err.h"
#include "util.h"
#include "yamldoc.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A result's properties as JSON text: far above anything a scanner writes, low enough that a
 * hostile file cannot make every row carry megabytes. */
#define PROPS_MAX ((size_t)1 << 20)

/* Every kind a document may have: a report kind with its API group (any version of it), or a
 * list kind. A list's items without kind/apiVersion take item_kind and the list's apiVersion;
 * `kind: List` (item_kind NULL) needs both on every item. */
struct kind_info {
    const char *kind, *group;
    int cluster, list;
    const char *item_kind;
};
static const struct kind_info kinds[] = {
    {"PolicyReport", "wgpolicyk8s.io", 0, 0, NULL},
    {"ClusterPolicyReport", "wgpolicyk8s.io", 1, 0, NULL},
    {"Report", "openreports.io", 0, 0, NULL},
    {"ClusterReport", "openreports.io", 1, 0, NULL},
    {"PolicyReportList", NULL, 0, 1, "PolicyReport"},
    {"ClusterPolicyReportList", NULL, 0, 1, "ClusterPolicyReport"},
    {"ReportList", NULL, 0, 1, "Report"},
    {"ClusterReportList", NULL, 0, 1, "ClusterReport"},
    {"List", NULL, 0, 1, NULL},
};

/* One pass over a document. With rs NULL it only checks; load() runs a checking pass and then,
 * only if it passed, the same walk adding rows, so a failing document adds nothing. */
struct walk {
    struct rowset *rs;
    const char *origin;
    struct err *e; /* the first failure wins: a walk goes on checking siblings after one */
    int failed;
};

/* err_set for the walk's first failure only; returns -1 for the caller to pass on. */
#define walk_fail(w, ...) ((w)->failed++ ? -1 : err_set((w)->e, ERR_INVALID, __VA_ARGS__))

/* Strings handed over by other sources (report_load) get the same check as a JSON file. */
static int utf8_valid(const char *s)
{
    size_t n = strlen(s);
    return utf8_prefix(s, n) == n;
}

/* Where in the document a value sits ("items[2].results[0].resources"), for messages only,
 * so a truncated one is harmless. */
#define WHERE_MAX 160
static void where_printf(char out[WHERE_MAX], const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void where_printf(char out[WHERE_MAX], const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out, WHERE_MAX, fmt, ap);
    va_end(ap);
}

/* "path.key", or "key" at the top of the document. */
static void join(char out[WHERE_MAX], const char *path, const char *key)
{
    where_printf(out, "%s%s%s", path, *path ? "." : "", key);
}

static int cmp_key(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A key given twice makes the value we read depend on the parser: refuse it. */
static void check_keys(struct walk *w, const cJSON *obj, const char *path)
{
    const char *small[32], **keys = small;
    size_t n = 0;
    for (const cJSON *c = obj->child; c; c = c->next)
        n++;
    if (n < 2) return;
    if (n > ARRAY_LEN(small)) keys = xmalloc(n * sizeof *keys);
    n = 0;
    for (const cJSON *c = obj->child; c; c = c->next)
        keys[n++] = c->string ? c->string : "";
    qsort(keys, n, sizeof *keys, cmp_key);
    for (size_t i = 1; i < n; i++)
        if (!strcmp(keys[i - 1], keys[i])) {
            walk_fail(w, "%s has the key \"%.64s\" twice", *path ? path : "the document", keys[i]);
            break;
        }
    if (keys != small) free(keys);
}

/* Absent: missing, null, or an empty string (how a YAML `key:` with no value reads). */
static int absent(const cJSON *v)
{
    return !v || cJSON_IsNull(v) || (cJSON_IsString(v) && !v->valuestring[0]);
}

/* A string field's text, NULL when absent or blank; a non-string value is blank (spec 7). */
static const char *text(struct walk *w, const cJSON *v, const char *path, const char *key)
{
    if (!cJSON_IsString(v) || !v->valuestring[0]) return NULL;
    if (!utf8_valid(v->valuestring)) {
        char where[WHERE_MAX];
        join(where, path, key);
        walk_fail(w, "%s is not valid UTF-8", where);
        return NULL;
    }
    return v->valuestring;
}

static const char *str_at(struct walk *w, const cJSON *obj, const char *path, const char *key)
{
    return text(w, cJSON_GetObjectItemCaseSensitive(obj, key), path, key);
}

/* The first of two string fields that is not blank ("result", else the older "status"). */
static const char *str_either(struct walk *w, const cJSON *obj, const char *path, const char *a,
                              const char *b)
{
    const char *s = str_at(w, obj, path, a);
    return s ? s : str_at(w, obj, path, b);
}

/* A field the document's structure hangs on: NULL when absent, else it must be an object
 * (want_list 0) or a list (want_list 1) or the document is malformed. */
static const cJSON *structural(struct walk *w, const cJSON *obj, const char *path, const char *key,
                               int want_list)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    char where[WHERE_MAX];
    join(where, path, key);
    if (absent(v)) return NULL;
    if (want_list ? !cJSON_IsArray(v) : !cJSON_IsObject(v))
        walk_fail(w, "%s is not %s", where, want_list ? "a list" : "an object");
    else if (!want_list)
        check_keys(w, v, where);
    return w->failed ? NULL : v;
}

/* An object we read but do not depend on (scope, properties): another type is taken as
 * absent. */
static const cJSON *optional_object(struct walk *w, const cJSON *v, const char *where)
{
    if (!cJSON_IsObject(v)) return NULL;
    check_keys(w, v, where);
    return v;
}

/* An element of results or resources: an object, or the document is malformed. */
static int element(struct walk *w, const cJSON *v, const char *where)
{
    if (!cJSON_IsObject(v)) return walk_fail(w, "%s is not an object", where);
    check_keys(w, v, where);
    return w->failed ? -1 : 0;
}

/* timestamp.seconds: an integer, a float (truncated toward zero) or a numeric string (sign,
 * digits, fraction, exponent, as yq writes "1.666094801e+09"); 0 for anything else or a value
 * outside int64. */
static int seconds(const cJSON *ts, int64_t *out)
{
    const cJSON *v = cJSON_IsObject(ts) ? cJSON_GetObjectItemCaseSensitive(ts, "seconds") : NULL;
    double d;
    if (!v) return 0;
    if (cJSON_IsNumber(v)) {
        d = v->valuedouble;
    } else if (cJSON_IsString(v)) {
        /* strtod alone would also take "0x1f", "inf" and " 12": only plain decimals pass. */
        const char *s = v->valuestring, *q = s + (*s == '-' || *s == '+');
        size_t whole = strspn(q, "0123456789"), frac = 0;
        q += whole;
        if (whole && !*q) {
            errno = 0;
            long long ll = strtoll(s, NULL, 10);
            if (errno) return 0;
            *out = ll;
            return 1;
        }
        if (*q == '.') {
            frac = strspn(q + 1, "0123456789");
            q += 1 + frac;
        }
        if (!whole && !frac) return 0;
        if (*q == 'e' || *q == 'E') {
            q += 1 + (q[1] == '-' || q[1] == '+');
            size_t exp = strspn(q, "0123456789");
            if (!exp) return 0;
            q += exp;
        }
        if (*q) return 0;
        d = strtod(s, NULL);
    } else {
        return 0;
    }
    if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0)) return 0;
    *out = (int64_t)d;
    return 1;
}

static int scored(const cJSON *v)
{
    if (cJSON_IsBool(v)) return cJSON_IsTrue(v) ? 1 : 0;
    if (cJSON_IsString(v) && !ascii_casecmp(v->valuestring, "true")) return 1;
    if (cJSON_IsString(v) && !ascii_casecmp(v->valuestring, "false")) return 0;
    return -1;
}

/* The string-valued members of props as a compact JSON object in input order; NULL when there
 * are none. The caller frees the text. */
static char *properties(struct walk *w, const cJSON *props, const char *where)
{
    struct buf b = BUF_INIT(PROPS_MAX);
    int n = 0;
    buf_putc(&b, '{');
    for (const cJSON *c = props ? props->child : NULL; c; c = c->next) {
        if (!cJSON_IsString(c)) continue;
        if (!utf8_valid(c->string) || !utf8_valid(c->valuestring)) {
            walk_fail(w, "%s has a key or value that is not valid UTF-8", where);
            break;
        }
        if (n++) buf_putc(&b, ',');
        buf_json_str(&b, c->string);
        buf_putc(&b, ':');
        buf_json_str(&b, c->valuestring);
    }
    buf_putc(&b, '}');
    if (buf_failed(&b))
        walk_fail(w, "%s is larger than %lu bytes", where, (unsigned long)PROPS_MAX);
    if (w->failed || !n) {
        buf_release(&b);
        return NULL;
    }
    return buf_detach(&b, NULL);
}

/* What the rows of one report share. */
struct report_ctx {
    const cJSON *scope;
    const char *scope_path, *source;
    uint32_t handle;
};

static void resource_fields(struct walk *w, const cJSON *res, const char *path, struct row_in *r)
{
    r->res_api_version = str_at(w, res, path, "apiVersion");
    r->res_kind = str_at(w, res, path, "kind");
    r->res_name = str_at(w, res, path, "name");
    r->res_namespace = str_at(w, res, path, "namespace");
    r->res_uid = str_at(w, res, path, "uid");
}

static void add_row(struct walk *w, const struct report_ctx *rc, const struct row_in *r)
{
    if (w->rs && !w->failed) rowset_add_row(w->rs, rc->handle, r);
}

/* One result: a row per resource (resources, else subjects), else one for the report's scope,
 * else one without a resource. */
static int walk_result(struct walk *w, const struct report_ctx *rc, const cJSON *res,
                       const char *path)
{
    char where[WHERE_MAX];
    if (element(w, res, path)) return -1;
    struct row_in r = {0};
    r.policy = str_at(w, res, path, "policy");
    r.rule = str_at(w, res, path, "rule");
    r.category = str_at(w, res, path, "category");
    r.severity = str_at(w, res, path, "severity");
    r.status = str_either(w, res, path, "result", "status");
    r.message = str_either(w, res, path, "message", "description");
    r.source = str_at(w, res, path, "source");
    if (!r.source) r.source = rc->source;
    r.has_timestamp = seconds(cJSON_GetObjectItemCaseSensitive(res, "timestamp"), &r.timestamp);
    r.scored = scored(cJSON_GetObjectItemCaseSensitive(res, "scored"));
    const cJSON *props = cJSON_GetObjectItemCaseSensitive(res, "properties");
    if (!props || cJSON_IsNull(props)) props = cJSON_GetObjectItemCaseSensitive(res, "data");
    join(where, path, "properties");
    props = optional_object(w, props, where);
    char *props_text = properties(w, props, where);
    r.properties = props_text;
    if (props_text) r.result_id = str_at(w, props, where, "resultID");

    const char *key = "resources";
    const cJSON *resources = structural(w, res, path, key, 1);
    if (!resources && !w->failed) resources = structural(w, res, path, key = "subjects", 1);
    r.resource_count = cJSON_GetArraySize(resources);
    if (!r.resource_count) {
        if (rc->scope) resource_fields(w, rc->scope, rc->scope_path, &r);
        add_row(w, rc, &r);
    }
    join(where, path, key);
    int i = 0;
    for (const cJSON *c = resources ? resources->child : NULL; c && !w->failed; c = c->next) {
        char rpath[WHERE_MAX];
        where_printf(rpath, "%s[%d]", where, i++);
        if (element(w, c, rpath)) break;
        resource_fields(w, c, rpath, &r);
        add_row(w, rc, &r);
    }
    free(props_text);
    return w->failed ? -1 : 0;
}

/* Why metadata.labels cannot be kept (NULL: they can): Kubernetes' bounds (rows.h), string
 * values. Keys are unique already (check_keys). */
static const char *labels_unfit(const cJSON *labels)
{
    if (!cJSON_IsObject(labels)) return "is not an object";
    int n = 0;
    for (const cJSON *c = labels->child; c; c = c->next, n++) {
        const char *slash = strchr(c->string, '/'), *name = slash ? slash + 1 : c->string;
        if (!cJSON_IsString(c)) return "has a value that is not a string";
        if (!*name || strlen(name) > ROW_LABEL_NAME_MAX ||
            (slash && (size_t)(slash - c->string) > ROW_LABEL_PREFIX_MAX))
            return "has a key longer than Kubernetes allows (63 bytes, prefix 253) or empty";
        if (strlen(c->valuestring) > ROW_LABEL_NAME_MAX) return "has a value longer than 63 bytes";
    }
    if (n > ROW_LABELS_MAX) return "holds more than 64 labels";
    return NULL;
}

/* The report's labels into out (room for ROW_LABELS_MAX), their number; labels that do not
 * fit are left out with a warning (adding pass only, so it is counted once). */
static uint32_t report_labels(struct walk *w, const cJSON *meta, const char *path,
                              struct row_label *out)
{
    char where[WHERE_MAX];
    join(where, path, "labels");
    const cJSON *labels = cJSON_GetObjectItemCaseSensitive(meta, "labels");
    if (absent(labels)) return 0;
    if (cJSON_IsObject(labels)) check_keys(w, labels, where);
    for (const cJSON *c = cJSON_IsObject(labels) ? labels->child : NULL; c; c = c->next)
        if (!utf8_valid(c->string) || (cJSON_IsString(c) && !utf8_valid(c->valuestring)))
            walk_fail(w, "%s is not valid UTF-8", where);
    const char *why = w->failed ? NULL : labels_unfit(labels);
    if (w->failed || why) {
        if (why && w->rs)
            rowset_warn(w->rs, w->origin, "%s %s: the report is kept without them", where, why);
        return 0;
    }
    uint32_t n = 0;
    for (const cJSON *c = labels->child; c; c = c->next, n++)
        out[n] = (struct row_label){c->string, c->valuestring};
    return n;
}

/* Policy Reporter's report source: the top-level one, else its first result's. */
static const char *report_source(struct walk *w, const cJSON *doc, const char *path,
                                 const cJSON *results)
{
    const char *s = str_at(w, doc, path, "source");
    if (s || !results || !cJSON_IsObject(results->child)) return s;
    char where[WHERE_MAX];
    join(where, path, "results[0]");
    return str_at(w, results->child, where, "source");
}

static const struct kind_info *find_kind(const char *kind)
{
    for (size_t i = 0; kind && i < ARRAY_LEN(kinds); i++)
        if (!strcmp(kinds[i].kind, kind)) return &kinds[i];
    return NULL;
}

/* The group part of "group/version" (or of a bare "group") must be the kind's. */
static int group_ok(const char *group, const char *api)
{
    size_t g = strlen(group);
    return api && !strncmp(api, group, g) && (api[g] == '/' || !api[g]);
}

/* A report, or a list of them (lists may nest). path names it in messages: "" for the
 * document, "items[3]" for an item; def_kind and def_api are what a list passes down. */
static int walk_report(struct walk *w, const cJSON *doc, const char *path, const char *def_kind,
                       const char *def_api)
{
    const char *what = *path ? path : "the document", *sep = *path ? ": " : "";
    if (element(w, doc, what)) return -1;
    const char *kind = str_at(w, doc, path, "kind"), *api = str_at(w, doc, path, "apiVersion");
    if (!kind) kind = def_kind;
    if (!api) api = def_api;
    const struct kind_info *k = find_kind(kind);
    if (w->failed) return -1;
    if (!kind) return walk_fail(w, "%s has no kind: not a policy report", what);
    if (!k) return walk_fail(w, "%s%skind %.64s is not a policy report", path, sep, kind);
    char where[WHERE_MAX];
    if (k->list) {
        const cJSON *items = structural(w, doc, path, "items", 1);
        join(where, path, "items");
        int i = 0;
        for (const cJSON *c = items ? items->child : NULL; c && !w->failed; c = c->next) {
            char ipath[WHERE_MAX];
            where_printf(ipath, "%s[%d]", where, i++);
            walk_report(w, c, ipath, k->item_kind, k->item_kind ? api : NULL);
        }
        return w->failed ? -1 : 0;
    }
    if (!group_ok(k->group, api))
        return walk_fail(w, "%s%s%s has apiVersion %.64s, expected %s/...", path, sep, kind,
                         api ? api : "(none)", k->group);
    const cJSON *meta = structural(w, doc, path, "metadata", 0);
    join(where, path, "metadata");
    struct row_label labels[ROW_LABELS_MAX];
    struct row_report rep = {kind,
                             str_at(w, meta, where, "name"),
                             str_at(w, meta, where, "namespace"),
                             k->cluster,
                             w->origin,
                             NULL,
                             labels,
                             report_labels(w, meta, where, labels)};
    char scope_path[WHERE_MAX];
    join(scope_path, path, "scope");
    struct report_ctx rc = {
        optional_object(w, cJSON_GetObjectItemCaseSensitive(doc, "scope"), scope_path), scope_path,
        str_at(w, doc, path, "source"), 0};
    const cJSON *results = structural(w, doc, path, "results", 1);
    rep.source = report_source(w, doc, path, results);
    join(where, path, "results");
    if (w->failed) return -1;
    struct buf origin = BUF_INIT((size_t)-1);
    if (w->rs) {
        if (*path) {
            buf_printf(&origin, "%s %s", w->origin, path);
            rep.origin = origin.ptr;
        }
        rc.handle = rowset_add_report(w->rs, &rep);
    }
    int i = 0;
    for (const cJSON *c = results ? results->child : NULL; c && !w->failed; c = c->next) {
        char rpath[WHERE_MAX];
        where_printf(rpath, "%s[%d]", where, i++);
        walk_result(w, &rc, c, rpath);
    }
    buf_release(&origin);
    return w->failed ? -1 : 0;
}

/* The checking pass, then (rs not NULL) the adding pass; *e gets no origin prefix. An
 * absent document (an empty YAML document, a JSON null) holds no report and is passed over. */
static int load(struct rowset *rs, const cJSON *doc, const char *origin, struct err *e)
{
    struct walk w = {NULL, origin, e, 0};
    if (absent(doc)) return 0;
    if (walk_report(&w, doc, "", NULL, NULL)) return -1;
    if (rs) {
        w.rs = rs;
        walk_report(&w, doc, "", NULL, NULL); /* the same walk over the same tree: cannot fail */
    }
    return 0;
}

int report_load(struct rowset *rs, const cJSON *doc, const char *origin, struct err *e)
{
    if (!load(rs, doc, origin, e)) return 0;
    return err_prefix(e, "%s: ", origin);
}

/* "line L, column C" of byte off; columns count bytes. */
static void position(const char *data, size_t off, char *out, size_t size)
{
    unsigned long line = 1, col = 1;
    for (size_t i = 0; i < off; i++) {
        if (data[i] == '\n')
            line++, col = 1;
        else
            col++;
    }
    snprintf(out, size, "line %lu, column %lu", line, col);
}

static int json_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* The nesting depth of the arrays and objects open at data[off] (strings skipped): cJSON
 * refuses documents nested deeper than CJSON_NESTING_LIMIT, and the error should say so. */
static size_t json_depth_at(const char *data, size_t off)
{
    size_t depth = 0;
    for (size_t i = 0, in_str = 0; i < off; i++) {
        if (in_str) {
            if (data[i] == '\\')
                i++;
            else if (data[i] == '"')
                in_str = 0;
        } else if (data[i] == '"') {
            in_str = 1;
        } else if (data[i] == '[' || data[i] == '{') {
            depth++;
        } else if ((data[i] == ']' || data[i] == '}') && depth) {
            depth--;
        }
    }
    return depth;
}

/* One JSON document filling data[0..len) (whitespace around it allowed), or NULL with *e set. */
static cJSON *parse_json(const char *data, size_t len, struct err *e)
{
    const char *end = NULL;
    char where[64];
    size_t i = 0, valid = utf8_prefix(data, len);
    while (i < len && json_space(data[i]))
        i++;
    if (i == len) {
        err_set(e, ERR_INVALID, "empty file: no JSON document");
        return NULL;
    }
    if (valid < len) {
        position(data, valid, where, sizeof where);
        err_set(e, ERR_INVALID, "invalid UTF-8 at %s (byte %lu)", where, (unsigned long)valid);
        return NULL;
    }
    cJSON *doc = cJSON_ParseWithLengthOpts(data, len, &end, 0);
    size_t off = end && end >= data && end <= data + len ? (size_t)(end - data) : 0;
    if (!doc) {
        position(data, off, where, sizeof where);
        if (json_depth_at(data, off) >= CJSON_NESTING_LIMIT)
            err_set(e, ERR_INVALID, "invalid JSON at %s: nested deeper than %d levels", where,
                    CJSON_NESTING_LIMIT);
        else
            err_set(e, ERR_INVALID, "invalid JSON at %s", where);
        return NULL;
    }
    while (off < len && json_space(data[off]))
        off++;
    if (off < len) {
        cJSON_Delete(doc);
        position(data, off, where, sizeof where);
        err_set(e, ERR_INVALID, "unexpected text after the JSON document at %s", where);
        return NULL;
    }
    return doc;
}

static void report_error(report_error_fn on_error, void *ctx, const char *origin,
                         const char *reason)
{
    if (on_error) on_error(ctx, origin, reason);
}

static int load_json(struct rowset *rs, const char *data, size_t len, const char *origin,
                     report_error_fn on_error, void *ctx)
{
    struct err e = {0};
    cJSON *doc = parse_json(data, len, &e);
    int rc = doc ? load(rs, doc, origin, &e) : -1;
    cJSON_Delete(doc);
    if (rc) report_error(on_error, ctx, origin, e.msg);
    return rc ? 1 : 0;
}

/* Documents one at a time: a cJSON tree costs several times its text. */
static int load_yaml(struct rowset *rs, const char *data, size_t len, const char *origin,
                     report_error_fn on_error, void *ctx)
{
    struct yamldoc *y = yamldoc_open(data, len);
    struct buf doc_origin = BUF_INIT((size_t)-1);
    struct err e = {0};
    int failed = 0, r;
    cJSON *doc = NULL;
    while ((r = yamldoc_next(y, &doc, &e)) != 0) {
        buf_reset(&doc_origin);
        buf_printf(&doc_origin, "%s#%d", origin, yamldoc_index(y));
        if (r < 0) {
            err_prefix(&e, "invalid YAML at ");
            report_error(on_error, ctx, doc_origin.ptr, e.msg);
            failed++;
            break;
        }
        if (load(rs, doc, doc_origin.ptr, &e)) {
            report_error(on_error, ctx, doc_origin.ptr, e.msg);
            failed++;
        }
        cJSON_Delete(doc);
    }
    buf_release(&doc_origin);
    yamldoc_free(y);
    return failed;
}

int report_load_bytes(struct rowset *rs, const char *data, size_t len, const char *origin,
                      int is_yaml, report_error_fn on_error, void *ctx)
{
    if (len >= 3 && !memcmp(data, "\xef\xbb\xbf", 3)) {
        data += 3;
        len -= 3;
    }
    return is_yaml ? load_yaml(rs, data, len, origin, on_error, ctx)
                   : load_json(rs, data, len, origin, on_error, ctx);
}
