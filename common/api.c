/* api.c - routing, errors and the small fixed endpoints of the HTTP API (api.h). */
#include "api_int.h"

#include "metrics.h"
#include "util.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define JSON "application/json"
#define METRICS_TYPE "text/plain; version=0.0.4"

/* The gRPC code StackRox uses for each HTTP status (spec section 4). */
static int grpc_code(int status)
{
    switch (status) {
    case 400:
        return 3;
    case 401:
        return 16;
    case 403:
        return 7;
    case 404:
        return 5;
    case 405:
        return 12;
    case 414:
        return 3;
    case 503:
        return 14;
    default:
        return 13;
    }
}

struct api_result api_error(struct buf *out, int status, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    buf_printf(out, "{\"code\":%d,\"message\":", grpc_code(status));
    buf_json_str(out, msg);
    buf_puts(out, ",\"error\":");
    buf_json_str(out, msg);
    buf_puts(out, ",\"details\":[]}");
    return (struct api_result){status, JSON};
}

void api_put_counts(struct buf *b, const uint32_t count[IDX_NSTATUS])
{
    for (int s = 0; s < IDX_NSTATUS; s++)
        buf_printf(b, "%c\"%s\":%u", s ? ',' : '{', idx_status_names[s], count[s]);
    buf_putc(b, '}');
}

void api_select(const struct api_ctx *c, struct bitmap *sel)
{
    const struct idx_header *h = c->ix->h;
    uint32_t lo = c->scope == SCOPE_CLUSTER ? h->nrows_ns : 0;
    uint32_t hi = c->scope == SCOPE_NAMESPACED ? h->nrows_ns : h->nrows;
    if (c->view && c->view->namespaces) hi = h->nrows_ns; /* limited tokens: namespaced only */
    bitmap_init(sel, h->nrows);
    if (lo >= hi) return;
    query_select(c->ix, c->q, lo, hi, sel);
    if (c->view && c->view->namespaces) {
        struct bitmap allowed;
        bitmap_init(&allowed, h->nrows);
        for (size_t i = 0; i < c->view->nnamespaces; i++) {
            const char *ns = c->view->namespaces[i];
            const struct idx_dict_entry *e;
            size_t n = idx_dict_range(c->ix, IDX_F_NAMESPACE, ns, strlen(ns), 0, &e);
            for (size_t k = 0; k < n; k++) {
                if (strcmp(idx_str(c->ix, e[k].str), ns) != 0) continue; /* exact, not folded */
                const uint32_t *p = idx_postings(c->ix, &e[k]);
                for (uint32_t j = 0; j < e[k].post_n; j++)
                    bitmap_set(&allowed, p[j]);
            }
        }
        bitmap_and(sel, &allowed);
        bitmap_release(&allowed);
    }
}

static int snapshot_meta(struct api_ctx *c)
{
    const struct idx *ix = c->ix;
    char created[21];
    rfc3339_utc(ix->h->created, created);
    struct buf *b = c->out;
    buf_puts(b, "{\"id\":");
    buf_json_str(b, ix->h->snapshot_id);
    buf_printf(b,
               ",\"created\":\"%s\",\"createdUnix\":%lld,\"rows\":%u,\"warnings\":%u,"
               "\"noCrds\":%s,\"cronPeriodSeconds\":",
               created, (long long)ix->h->created, ix->h->nrows, ix->h->warnings,
               (ix->h->flags & IDX_FLAG_NO_CRDS) ? "true" : "false");
    if (ix->h->cron_period)
        buf_printf(b, "%u", ix->h->cron_period);
    else
        buf_puts(b, "null");
    buf_puts(b, ",\"sources\":[");
    for (uint32_t i = 0; i < ix->h->nsources; i++) {
        buf_puts(b, i ? ",{\"name\":" : "{\"name\":");
        buf_json_str(b, idx_str(ix, ix->sources[i].name));
        buf_printf(b, ",\"up\":%s}", ix->sources[i].up ? "true" : "false");
    }
    buf_puts(b, "],\"changes\":{\"previous\":");
    buf_json_str_or_null(b, ix->h->previous_id[0] ? ix->h->previous_id : NULL);
    buf_printf(b, ",\"new\":%u,\"resolved\":%u}}", ix->h->changes_new, ix->h->changes_resolved);
    return 200;
}

/* Spec section 9: name, minimumPriority, sources, skipExistingOnStartup; nothing else (the
 * index holds nothing else: no URL, header or secret). */
static int targets_list(struct api_ctx *c)
{
    const struct idx *ix = c->ix;
    struct buf *b = c->out;
    buf_putc(b, '[');
    for (uint32_t i = 0; i < ix->h->ntargets; i++) {
        const struct idx_target *t = &ix->targets[i];
        buf_puts(b, i ? ",{\"name\":" : "{\"name\":");
        buf_json_str(b, idx_str(ix, t->name));
        buf_puts(b, ",\"minimumPriority\":");
        buf_json_str(b, idx_str(ix, t->min_priority));
        buf_puts(b, ",\"sources\":");
        buf_puts(b, t->sources ? idx_str(ix, t->sources) : "null");
        buf_printf(b, ",\"skipExistingOnStartup\":%s}", t->skip_existing ? "true" : "false");
    }
    buf_putc(b, ']');
    return 200;
}

static void put_namespaces_or_null(struct buf *b, const struct api_view *v)
{
    if (!v || !v->namespaces) {
        buf_puts(b, "null");
        return;
    }
    buf_putc(b, '[');
    for (size_t i = 0; i < v->nnamespaces; i++) {
        if (i) buf_putc(b, ',');
        buf_json_str(b, v->namespaces[i]);
    }
    buf_putc(b, ']');
}

static int auth_status(struct api_ctx *c)
{
    const struct api_view *v = c->view;
    struct buf *b = c->out;
    if (!v || !v->auth) {
        buf_puts(b, "{\"userId\":\"anonymous\",\"expires\":null,\"refreshUrl\":null,"
                    "\"role\":\"Admin\",\"namespaces\":null}");
        return 200;
    }
    buf_puts(b, "{\"userId\":");
    char user[300];
    snprintf(user, sizeof user, "auth-token:%s", v->token_name ? v->token_name : "");
    buf_json_str(b, user);
    buf_puts(b, ",\"expires\":");
    if (v->expires) {
        char t[21];
        rfc3339_utc(v->expires, t);
        buf_printf(b, "\"%s\"", t);
    } else {
        buf_puts(b, "null");
    }
    buf_puts(b, ",\"refreshUrl\":null,\"role\":");
    buf_json_str_or_null(b, v->role);
    buf_puts(b, ",\"namespaces\":");
    put_namespaces_or_null(b, v);
    buf_putc(b, '}');
    return 200;
}

static int my_permissions(struct api_ctx *c)
{
    const struct api_view *v = c->view;
    const char *role = (v && v->auth) ? v->role : "Admin";
    int reports = role && (strcmp(role, "Admin") == 0 || strcmp(role, "Reader") == 0);
    int cluster = reports && !(v && v->namespaces);
    /* /metrics is the whole cluster's: a namespace-limited token may not read it */
    int metrics = role && !(v && v->namespaces);
#define ACCESS(x) ((x) ? "\"READ_ACCESS\"" : "\"NO_ACCESS\"")
    buf_puts(c->out, "{\"name\":");
    buf_json_str_or_null(c->out, role);
    buf_printf(c->out,
               ",\"globalAccess\":%s,\"resourceToAccess\":{\"PolicyReport\":%s,"
               "\"ClusterPolicyReport\":%s,\"Metrics\":%s}}",
               ACCESS(cluster), ACCESS(reports), ACCESS(cluster), ACCESS(metrics));
#undef ACCESS
    return 200;
}

enum route_kind {
    R_DISTINCT,
    R_RESOURCES,
    R_STATUS_COUNTS,
    R_RULE_STATUS,
    R_RESULTS,
    R_DETAIL,
    R_SUMMARY,
    R_SNAPSHOT,
    R_TARGETS,
    R_AUTH_STATUS,
    R_PERMISSIONS
};

struct route {
    const char *path;
    enum route_kind kind;
    enum api_scope scope;
    int field; /* R_DISTINCT */
};

#define NS_ROUTES(prefix, scope)                                                                   \
    {prefix "/policies", R_DISTINCT, scope, IDX_F_POLICY},                                         \
        {prefix "/kinds", R_DISTINCT, scope, IDX_F_KIND},                                          \
        {prefix "/sources", R_DISTINCT, scope, IDX_F_SOURCE},                                      \
        {prefix "/resources", R_RESOURCES, scope, 0},                                              \
        {prefix "/status-counts", R_STATUS_COUNTS, scope, 0},                                      \
    {                                                                                              \
        prefix "/results", R_RESULTS, scope, 0                                                     \
    }

static const struct route routes[] = {
    {"/v1/targets", R_TARGETS, SCOPE_BOTH, 0},
    {"/v1/categories", R_DISTINCT, SCOPE_BOTH, IDX_F_CATEGORY},
    {"/v1/namespaces", R_DISTINCT, SCOPE_NAMESPACED, IDX_F_NAMESPACE},
    {"/v1/rule-status-count", R_RULE_STATUS, SCOPE_BOTH, 0},
    NS_ROUTES("/v1/namespaced-resources", SCOPE_NAMESPACED),
    NS_ROUTES("/v1/cluster-resources", SCOPE_CLUSTER),
    {"/v1/summary", R_SUMMARY, SCOPE_BOTH, 0},
    {"/v1/snapshot", R_SNAPSHOT, SCOPE_BOTH, 0},
    {"/v1/auth/status", R_AUTH_STATUS, SCOPE_BOTH, 0},
    {"/v1/mypermissions", R_PERMISSIONS, SCOPE_BOTH, 0},
};

const struct api_static_file api_static_files[] = {
    {"/v1/targets", "v1/targets.json"},
    {"/v1/categories", "v1/categories.json"},
    {"/v1/namespaces", "v1/namespaces.json"},
    {"/v1/namespaced-resources/policies", "v1/namespaced-resources/policies.json"},
    {"/v1/namespaced-resources/kinds", "v1/namespaced-resources/kinds.json"},
    {"/v1/namespaced-resources/sources", "v1/namespaced-resources/sources.json"},
    {"/v1/namespaced-resources/resources", "v1/namespaced-resources/resources.json"},
    {"/v1/namespaced-resources/status-counts", "v1/namespaced-resources/status-counts.json"},
    {"/v1/namespaced-resources/results", "v1/namespaced-resources/results.json"},
    {"/v1/cluster-resources/policies", "v1/cluster-resources/policies.json"},
    {"/v1/cluster-resources/kinds", "v1/cluster-resources/kinds.json"},
    {"/v1/cluster-resources/sources", "v1/cluster-resources/sources.json"},
    {"/v1/cluster-resources/resources", "v1/cluster-resources/resources.json"},
    {"/v1/cluster-resources/status-counts", "v1/cluster-resources/status-counts.json"},
    {"/v1/cluster-resources/results", "v1/cluster-resources/results.json"},
    {"/v1/summary", "v1/summary.json"},
    {"/v1/snapshot", "v1/snapshot.json"},
    {"/metrics", "metrics.txt"},
    {NULL, NULL},
};

static int dispatch(struct api_ctx *c, const struct route *r)
{
    switch (r->kind) {
    case R_DISTINCT:
        return api_distinct(c, r->field);
    case R_RESOURCES:
        return api_resources(c);
    case R_STATUS_COUNTS:
        return api_status_counts(c);
    case R_RULE_STATUS:
        return api_rule_status_count(c);
    case R_RESULTS:
        return api_results(c);
    case R_DETAIL:
        return api_result_detail(c);
    case R_SUMMARY:
        return api_summary(c);
    case R_SNAPSHOT:
        return snapshot_meta(c);
    case R_TARGETS:
        return targets_list(c);
    case R_AUTH_STATUS:
        return auth_status(c);
    case R_PERMISSIONS:
        return my_permissions(c);
    }
    return 500;
}

const char *api_content_type(const char *path)
{
    return strcmp(path, "/metrics") == 0 ? METRICS_TYPE : JSON;
}

static int is_read(const char *method)
{
    return strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
}

struct api_result api_handle(const struct idx *ix, const char *method, const char *path,
                             const char *qs, const struct api_view *view, struct buf *out)
{
    /* Health and ping answer whatever the parameters: probes must not break on a cache-buster. */
    if (!strcmp(path, "/healthz") || !strcmp(path, "/ready") || !strcmp(path, "/v1/ping")) {
        if (!is_read(method))
            return api_error(out, 405, "method %s is not allowed: use GET", method);
        if (!strcmp(path, "/v1/ping")) {
            buf_puts(out, "{\"status\":\"ok\"}");
            return (struct api_result){200, JSON};
        }
        if (!ix) {
            buf_puts(out, "{\"error\":\"no snapshot yet\"}");
            return (struct api_result){503, JSON};
        }
        if (!strcmp(path, "/healthz") && (ix->h->flags & IDX_FLAG_NO_CRDS)) {
            buf_puts(out, "{\"error\":\"No PolicyReport CRDs found\"}");
            return (struct api_result){503, JSON};
        }
        buf_puts(out, "{}");
        return (struct api_result){200, JSON};
    }

    struct route detail = {"/v1/results/", R_DETAIL, SCOPE_BOTH, 0};
    const struct route *r = NULL;
    int metrics = strcmp(path, "/metrics") == 0;
    for (size_t i = 0; !metrics && i < ARRAY_LEN(routes); i++)
        if (strcmp(path, routes[i].path) == 0) r = &routes[i];
    struct api_ctx c = {ix, NULL, view, out, SCOPE_BOTH, NULL};
    if (!r && !metrics && strncmp(path, detail.path, strlen(detail.path)) == 0 &&
        path[strlen(detail.path)] && !strchr(path + strlen(detail.path), '/')) {
        r = &detail;
        c.arg = path + strlen(detail.path);
    }
    if (!r && !metrics) return api_error(out, 404, "no such endpoint: %s", path);
    if (!is_read(method))
        return api_error(out, 405, "method %s is not allowed on %s: use GET", method, path);
    if (!ix) return api_error(out, 503, "no snapshot yet: the snapshot job has not run");
    if (view && view->namespaces && r && r->scope == SCOPE_CLUSTER)
        return api_error(out, 403,
                         "this token is limited to namespaces: cluster-scoped "
                         "results are not visible to it");
    if (view && view->namespaces && metrics)
        return api_error(out, 403,
                         "this token is limited to namespaces: /metrics covers every "
                         "namespace and the cluster, so it is not visible to it");

    struct query q;
    char err[QUERY_ERR_MAX];
    int status = query_parse(qs, &q, err);
    if (status) return api_error(out, status, "%s", err);
    if (metrics) {
        metrics_render(ix, out);
        query_release(&q);
        return (struct api_result){200, api_content_type(path)};
    }
    /* search applies to the results endpoints only (spec section 7) */
    struct query without_search = q;
    without_search.search = NULL;
    c.q = r->kind == R_RESULTS ? &q : &without_search;
    c.scope = r->scope;
    struct json_pretty pretty = {out, 0, 0, 0, 0};
    struct buf compact = BUF_INIT(out->max);
    struct buf *target = out;
    if (q.pretty) { /* render compact into a streaming re-indenter in front of out */
        buf_set_sink(&compact, json_pretty_sink, &pretty);
        target = &compact;
    }
    c.out = target;
    status = dispatch(&c, r);
    if (q.pretty) {
        buf_flush(&compact);
        buf_release(&compact);
    }
    query_release(&q);
    return (struct api_result){status, JSON};
}
