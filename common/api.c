/* api.c - the endpoint table and the routing that follows it (api.h). Adding an endpoint is
 * one row here plus its renderer. */
#include "api_common.h"

#include "html_report.h"
#include "util.h"

#include <stdio.h>
#include <string.h>

#define READ "GET HEAD"
#define ALL_ROLES (API_ROLE(API_ADMIN) | API_ROLE(API_READER) | API_ROLE(API_METRICS))
#define REPORTS (API_ROLE(API_ADMIN) | API_ROLE(API_READER))
/* the 403 messages of the two kinds of endpoint a namespace-limited token may not read */
#define CLUSTER_ONLY                                                                               \
    "this token is limited to namespaces: cluster-scoped results are not visible to it"
#define WHOLE_CLUSTER                                                                              \
    "this token is limited to namespaces: /metrics covers every namespace and the cluster, so "    \
    "it is not visible to it"

/* clang-format off */
/* The seven endpoints each of the two resource scopes has (/v1/<name>/...); each precomputed
 * as v1/<name>/....json. */
#define SCOPED(name, scope, limited)                                                           \
    {"/v1/" name "/policies", READ, api_distinct, API_PARAMS_FILTERS, scope, IDX_F_POLICY,     \
       "v1/" name "/policies.json", API_JSON, REPORTS, limited, 0},                            \
    {"/v1/" name "/kinds", READ, api_distinct, API_PARAMS_FILTERS, scope, IDX_F_KIND,          \
       "v1/" name "/kinds.json", API_JSON, REPORTS, limited, 0},                               \
    {"/v1/" name "/sources", READ, api_distinct, API_PARAMS_FILTERS, scope, IDX_F_SOURCE,      \
       "v1/" name "/sources.json", API_JSON, REPORTS, limited, 0},                             \
    {"/v1/" name "/categories", READ, api_distinct, API_PARAMS_FILTERS, scope, IDX_F_CATEGORY, \
       "v1/" name "/categories.json", API_JSON, REPORTS, limited, 0},                          \
    {"/v1/" name "/resources", READ, api_resources, API_PARAMS_FILTERS, scope, 0,              \
       "v1/" name "/resources.json", API_JSON, REPORTS, limited, 0},                           \
    {"/v1/" name "/status-counts", READ, api_status_counts, API_PARAMS_FILTERS, scope, 0,      \
       "v1/" name "/status-counts.json", API_JSON, REPORTS, limited, 0},                       \
    {"/v1/" name "/results", READ, api_results, API_PARAMS_SEARCH, scope, 0,                   \
       "v1/" name "/results.json", API_JSON, REPORTS, limited, 0}

const struct api_endpoint api_endpoints[] = {
    /* path, methods, render, params, scope, field (distinct-value endpoints)
     *   precomputed file, content type, roles, why a namespace-limited token may not, public */
    {"/healthz", READ, api_healthz, API_PARAMS_IGNORED, API_BOTH, 0,
       NULL, API_JSON, ALL_ROLES, NULL, 1},
    {"/ready", READ, api_ready, API_PARAMS_IGNORED, API_BOTH, 0,
       NULL, API_JSON, ALL_ROLES, NULL, 1},
    {"/v1/ping", READ, api_ping, API_PARAMS_IGNORED, API_BOTH, 0,
       NULL, API_JSON, ALL_ROLES, NULL, 1},
    {"/v1/targets", READ, api_targets, API_PARAMS_FILTERS, API_BOTH, 0,
       "v1/targets.json", API_JSON, REPORTS, NULL, 0},
    {"/v1/categories", READ, api_distinct, API_PARAMS_FILTERS, API_BOTH, IDX_F_CATEGORY,
       "v1/categories.json", API_JSON, REPORTS, NULL, 0},
    {"/v1/namespaces", READ, api_distinct, API_PARAMS_FILTERS, API_NAMESPACED, IDX_F_NAMESPACE,
       "v1/namespaces.json", API_JSON, REPORTS, NULL, 0},
    {"/v1/rule-status-count", READ, api_rule_status_count, API_PARAMS_FILTERS, API_BOTH, 0,
       NULL, API_JSON, REPORTS, NULL, 0},
    {"/v1/policy-reports", READ, api_policy_reports, API_PARAMS_FILTERS, API_NAMESPACED, 0,
       "v1/policy-reports.json", API_JSON, REPORTS, NULL, 0},
    {"/v1/cluster-policy-reports", READ, api_policy_reports, API_PARAMS_FILTERS, API_CLUSTER, 0,
       "v1/cluster-policy-reports.json", API_JSON, REPORTS, CLUSTER_ONLY, 0},
    {"/v1/html-report/violations", READ, api_html_violations, API_PARAMS_FILTERS, API_BOTH, 0,
       NULL, API_HTML, REPORTS, NULL, 0},
    SCOPED("namespaced-resources", API_NAMESPACED, NULL),
    SCOPED("cluster-resources", API_CLUSTER, CLUSTER_ONLY),
    {"/v1/summary", READ, api_summary, API_PARAMS_CONTAINS, API_BOTH, 0,
       "v1/summary.json", API_JSON, REPORTS, NULL, 0},
    {"/v1/snapshot", READ, api_snapshot_meta, API_PARAMS_FILTERS, API_BOTH, 0,
       "v1/snapshot.json", API_JSON, REPORTS, NULL, 0},
    {"/v1/auth/status", READ, api_auth_status, API_PARAMS_FILTERS, API_BOTH, 0,
       NULL, API_JSON, ALL_ROLES, NULL, 0},
    {"/v1/mypermissions", READ, api_my_permissions, API_PARAMS_FILTERS, API_BOTH, 0,
       NULL, API_JSON, ALL_ROLES, NULL, 0},
    {"/v1/results/{id}", READ, api_result_detail, API_PARAMS_FILTERS, API_BOTH, 0,
       NULL, API_JSON, REPORTS, NULL, 0},
    {"/metrics", READ, api_metrics, API_PARAMS_FILTERS, API_BOTH, 0,
       "metrics.txt", API_METRICS_TYPE, ALL_ROLES, WHOLE_CLUSTER, 0},
};
/* clang-format on */
const size_t api_nendpoints = ARRAY_LEN(api_endpoints);

/* path matches pattern: exactly, or for "...{id}" the part before it then one non-empty
 * segment; *arg then points at that segment. */
static int path_matches(const char *pattern, const char *path, const char **arg)
{
    const char *hole = strstr(pattern, "{id}");
    if (!hole) return strcmp(pattern, path) == 0;
    size_t n = (size_t)(hole - pattern);
    if (strncmp(pattern, path, n) != 0 || !path[n] || strchr(path + n, '/')) return 0;
    *arg = path + n;
    return 1;
}

const struct api_endpoint *api_endpoint_find(const char *path, const char **arg)
{
    const char *ignored;
    for (size_t i = 0; i < api_nendpoints; i++)
        if (path_matches(api_endpoints[i].path, path, arg ? arg : &ignored))
            return &api_endpoints[i];
    return NULL;
}

const char *api_content_type(const char *path)
{
    const struct api_endpoint *ep = api_endpoint_find(path, NULL);
    return ep ? ep->content_type : API_JSON;
}

const char *api_type_headers(const char *content_type)
{
    static char csp[256];
    if (strcmp(content_type, API_HTML) != 0) return "";
    if (!csp[0]) snprintf(csp, sizeof csp, "Content-Security-Policy: %s\r\n", html_report_csp());
    return csp;
}

/* method is one of the space-separated words of methods */
static int method_allowed(const char *methods, const char *method)
{
    size_t n = strlen(method);
    if (n == 0) return 0;
    for (const char *m = methods; (m = strstr(m, method)) != NULL; m += n)
        if ((m == methods || m[-1] == ' ') && (m[n] == ' ' || m[n] == '\0')) return 1;
    return 0;
}

/* The refusals before rendering, in the order the spec gives them: unknown path (404),
 * method (405), no snapshot (503), a namespace-limited token on an endpoint it may not read
 * (403). 0 when none applies, else -1 with *e set. */
static int refuse(const struct api_endpoint *ep, const struct idx *ix, const char *method,
                  const char *path, const struct api_view *view, struct err *e)
{
    if (!ep) return err_set(e, ERR_NOT_FOUND, "no such endpoint: %s", path);
    if (!method_allowed(ep->methods, method)) {
        if (ep->public) return err_set(e, ERR_METHOD, "method %s is not allowed: use GET", method);
        return err_set(e, ERR_METHOD, "method %s is not allowed on %s: use GET", method, path);
    }
    if (ep->public) return 0;
    if (!ix) return err_set(e, ERR_UNAVAILABLE, "no snapshot yet: the snapshot job has not run");
    if (view && view->namespaces && ep->limited)
        return err_set(e, ERR_FORBIDDEN, "%s", ep->limited);
    return 0;
}

/* Runs the renderer of c->ep into c->out, through a streaming re-indenter when pretty is
 * asked for and the answer is JSON. Returns the status, or -1 with *e set. */
static int render(struct api_ctx *c, int pretty, struct err *e)
{
    if (!pretty || strcmp(c->ep->content_type, API_JSON) != 0) return c->ep->render(c, e);
    struct buf *out = c->out;
    struct json_pretty jp = {out, 0, 0, 0, 0};
    struct buf compact = BUF_INIT(out->max);
    buf_set_sink(&compact, json_pretty_sink, &jp);
    c->out = &compact;
    int status = c->ep->render(c, e);
    if (status < 0) api_error(&compact, e); /* an error is re-indented like the answer */
    buf_flush(&compact);
    buf_release(&compact);
    c->out = out;
    return status < 0 ? err_http_status(e->code) : status;
}

/* A renderer's answer that hit out's cap (only a buffer without a sink has one) is dropped
 * for an error: a 200 is never cut short. */
static struct api_result finish(struct buf *out, size_t start, struct api_result res, struct err *e)
{
    if (res.status >= 0 && !buf_failed(out)) return res;
    if (res.status >= 0) {
        buf_truncate(out, start);
        api_too_large(e, out->max);
    }
    return api_error(out, e);
}

struct api_result api_handle(const struct idx *ix, const char *method, const char *path,
                             const char *qs, const struct api_view *view, struct buf *out)
{
    struct err e = {0};
    struct api_ctx c = {ix, NULL, view, out, NULL, NULL};
    size_t start = out->len;
    c.ep = api_endpoint_find(path, &c.arg);
    if (refuse(c.ep, ix, method, path, view, &e)) return api_error(out, &e);
    struct api_result res = {0, c.ep->content_type};
    struct query q;
    if (c.ep->params == API_PARAMS_IGNORED) {
        /* probes must not break on a cache-buster: a query string that does not parse is
         * ignored, but ?pretty is honoured like everywhere else */
        struct err ignored = {0};
        int parsed = query_parse(qs, &q, &ignored) == 0, pretty = parsed && q.pretty;
        if (parsed) query_release(&q);
        res.status = render(&c, pretty, &e);
        return finish(out, start, res, &e);
    }
    if (query_parse(qs, &q, &e)) return api_error(out, &e);
    struct query narrowed = q; /* without the parameters this endpoint does not take */
    if (c.ep->params < API_PARAMS_SEARCH) narrowed.search = NULL;
    if (c.ep->params < API_PARAMS_CONTAINS) narrowed.contains = NULL;
    c.q = &narrowed;
    res.status = render(&c, q.pretty, &e);
    query_release(&q);
    res = finish(out, start, res, &e);
    if (res.status != 200) res.content_type = API_JSON; /* an error re-indented by render */
    return res;
}
