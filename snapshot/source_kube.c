/* source_kube.c - the kubernetes source: API discovery, chunked lists, rows via report_load.
 *
 * One run: find which versions of wgpolicyk8s.io and openreports.io the server serves, then
 * list each served report resource across all namespaces in pages of KUBE_PAGE_LIMIT. The
 * pages of one list are kept as raw JSON text until the list is complete and only then turned
 * into rows: a 410 Gone (the continue token expired) restarts the list from the start, and
 * rows once added to the rowset cannot be taken back. Raw text costs a quarter of what the
 * parsed trees would (a cJSON tree takes about 4.4 times its input text, measured). */
#include "source.h"

#include "buf.h"
#include "err.h"
#include "http.h"
#include "kubeconfig.h"
#include "report.h"
#include "util.h"

#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KUBE_PAGE_LIMIT 500
#define KUBE_MAX_RESPONSE ((size_t)64 << 20) /* one page or discovery document */
#define KUBE_LIST_RESTARTS 3                 /* 410 Gone restarts per list */
#define KUBE_MAX_PAGES 100000
#define KUBE_DEFAULT_TIMEOUT_S 30L
#define KUBE_CONNECT_TIMEOUT_S 10L
#define KUBE_MAX_RETRY_AFTER_S 10L /* a cron run must not sleep its period away */
#define KUBE_RBAC_HINT "apply deploy/rbac.yaml"

struct kube_resource {
    const char *plural, *kind;
};

/* The report groups we read, each with the versions we understand, preferred first. */
struct kube_group {
    const char *name;
    const char *versions[4];
    struct kube_resource resources[2];
};

static const struct kube_group kube_groups[] = {
    {"wgpolicyk8s.io",
     {"v1beta1", "v1alpha2", "v1alpha1", NULL},
     {{"policyreports", "PolicyReport"}, {"clusterpolicyreports", "ClusterPolicyReport"}}},
    {"openreports.io",
     {"v1alpha1", NULL, NULL, NULL},
     {{"reports", "Report"}, {"clusterreports", "ClusterReport"}}},
};

struct kube_run {
    struct http_client *http;
    const struct kube_target *target;
    const char *identity; /* who needs the RBAC: "the service account", "the kubeconfig user" */
    const struct source_opts *opts;
    struct rowset *rs;
    struct err *e;
};

/* The human part of a Kubernetes Status body ("... cannot list resource ..."), else "". */
static void status_message(const struct http_response *r, char *out, size_t n)
{
    out[0] = '\0';
    cJSON *doc = cJSON_ParseWithLength(r->body.ptr, r->body.len);
    const cJSON *msg = cJSON_GetObjectItemCaseSensitive(doc, "message");
    if (cJSON_IsString(msg) && msg->valuestring[0]) snprintf(out, n, " (%s)", msg->valuestring);
    cJSON_Delete(doc);
}

/* An answer other than the one expected, explained for a cluster admin. doing says what we
 * were doing ("listing policyreports.wgpolicyk8s.io"); need is the permission that a 403
 * means is missing. */
static int kube_http_error(struct kube_run *k, const char *url, const struct http_response *r,
                           const char *doing, const char *need)
{
    char msg[300];
    status_message(r, msg, sizeof msg);
    const char *phrase = http_reason(r->status);
    if (r->status == 401)
        return err_set(k->e, ERR_UPSTREAM,
                       "401 Unauthorized %s%s: the API server did not accept the credentials "
                       "of %s (%s): the token may have expired or been revoked, or belong to "
                       "another cluster",
                       doing, msg, k->identity, k->target->where);
    if (r->status == 403)
        return err_set(k->e, ERR_UPSTREAM, "403 Forbidden %s%s: %s needs %s: " KUBE_RBAC_HINT,
                       doing, msg, k->identity, need);
    char tries[40] = "";
    if (r->attempts > 1) snprintf(tries, sizeof tries, " after %d attempts", r->attempts);
    return err_set(k->e, ERR_UPSTREAM, "the API server answered %ld%s%s %s%s: GET %s%s", r->status,
                   *phrase ? " " : "", phrase, doing, tries, url, msg);
}

static int kube_get(struct kube_run *k, const char *url, struct http_response *r)
{
    return http_get(k->http, url, r, k->e);
}

/* 1 and *version set when the group is served in a version we read, 0 when the server does
 * not know the group (404), -1 on any failure. */
static int kube_discover(struct kube_run *k, const struct kube_group *g, const char **version)
{
    struct buf url = BUF_INIT((size_t)-1);
    buf_printf(&url, "%s/apis/%s", k->target->server, g->name);
    struct http_response r;
    char doing[128];
    snprintf(doing, sizeof doing, "discovering the API group %s", g->name);
    int rc = kube_get(k, url.ptr, &r);
    if (rc == 0 && r.status == 404) {
        rc = 0;
        goto out;
    }
    if (rc == 0 && r.status != 200) {
        rc = kube_http_error(k, url.ptr, &r, doing,
                             "'get' on the discovery URLs /apis and /apis/* (non-resource)");
        goto out;
    }
    if (rc) goto out;
    cJSON *doc = cJSON_ParseWithLength(r.body.ptr, r.body.len);
    const cJSON *versions = cJSON_GetObjectItemCaseSensitive(doc, "versions");
    rc = -1;
    if (!cJSON_IsArray(versions)) {
        err_set(k->e, ERR_UPSTREAM, "%s: the answer of GET %s is not an APIGroup document", doing,
                url.ptr);
        goto out_doc;
    }
    struct buf seen = BUF_INIT(256);
    for (int i = 0; g->versions[i] && rc < 0; i++) {
        const cJSON *v;
        cJSON_ArrayForEach(v, versions)
        {
            const cJSON *name = cJSON_GetObjectItemCaseSensitive(v, "version");
            if (!cJSON_IsString(name)) continue;
            if (i == 0) buf_printf(&seen, "%s%s", seen.len ? ", " : "", name->valuestring);
            if (!strcmp(name->valuestring, g->versions[i])) {
                *version = g->versions[i];
                rc = 1;
            }
        }
    }
    if (rc < 0)
        err_set(k->e, ERR_UPSTREAM,
                "the API server serves %s only in version(s) %s, which polsnap cannot read",
                g->name, seen.len ? seen.ptr : "(none)");
    buf_release(&seen);
out_doc:
    cJSON_Delete(doc);
out:
    http_response_release(&r);
    buf_release(&url);
    return rc;
}

/* The raw pages of one list, kept until the list is complete. */
struct pages {
    char **text;
    size_t *len;
    size_t n, cap;
};

static void pages_clear(struct pages *p)
{
    for (size_t i = 0; i < p->n; i++)
        free(p->text[i]);
    p->n = 0;
}

static void pages_release(struct pages *p)
{
    pages_clear(p);
    free(p->text);
    free(p->len);
}

static void pages_push(struct pages *p, struct buf *body)
{
    if (p->n == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 8;
        p->text = xreallocarray(p->text, p->cap, sizeof *p->text);
        p->len = xreallocarray(p->len, p->cap, sizeof *p->len);
    }
    p->text[p->n] = buf_detach(body, &p->len[p->n]);
    p->n++;
}

/* Validates a list page and returns its continue token (a copy, NULL on the last page) in
 * *next. Returns 0, or -1 with the error set. */
static int page_check(struct kube_run *k, const char *url, const struct buf *body, char **next)
{
    *next = NULL;
    cJSON *doc = cJSON_ParseWithLength(body->ptr, body->len);
    const cJSON *items = cJSON_GetObjectItemCaseSensitive(doc, "items");
    const cJSON *meta = cJSON_GetObjectItemCaseSensitive(doc, "metadata");
    const cJSON *cont = cJSON_GetObjectItemCaseSensitive(meta, "continue");
    int rc = 0;
    if (!cJSON_IsObject(doc) || !(cJSON_IsArray(items) || cJSON_IsNull(items)))
        rc = err_set(k->e, ERR_UPSTREAM, "the answer of GET %s is not a Kubernetes list (%s)", url,
                     doc ? "no items" : "not JSON");
    else if (cJSON_IsString(cont) && cont->valuestring[0])
        *next = xstrdup(cont->valuestring);
    cJSON_Delete(doc);
    return rc;
}

/* Fetches every page of one resource into pages, following continue tokens and restarting
 * on 410 Gone. */
static int kube_fetch_list(struct kube_run *k, const struct kube_group *g, const char *version,
                           const struct kube_resource *res, struct pages *pages)
{
    char doing[160], need[200];
    snprintf(doing, sizeof doing, "listing %s.%s", res->plural, g->name);
    snprintf(need, sizeof need, "'list' on %s.%s at cluster scope", res->plural, g->name);
    struct buf url = BUF_INIT((size_t)-1);
    char *token = NULL;
    int restarts = 0, rc = 0, done = 0;
    pages_clear(pages);
    while (rc == 0 && !done) {
        buf_reset(&url);
        buf_printf(&url, "%s/apis/%s/%s/%s?limit=%d", k->target->server, g->name, version,
                   res->plural, KUBE_PAGE_LIMIT);
        if (token) {
            buf_puts(&url, "&continue=");
            buf_put_urlencoded(&url, token);
        }
        struct http_response r;
        if (kube_get(k, url.ptr, &r)) {
            rc = -1;
        } else if (r.status == 410 && token && restarts < KUBE_LIST_RESTARTS) {
            /* The continue token expired: the list must be read again from its start. */
            restarts++;
            free(token);
            token = NULL;
            pages_clear(pages);
        } else if (r.status == 410 && token) {
            rc = err_set(k->e, ERR_UPSTREAM,
                         "%s: the list expired (410 Gone) %d times while paging through it; "
                         "the reports change faster than they can be read (GET %s)",
                         doing, restarts + 1, url.ptr);
        } else if (r.status != 200) {
            rc = kube_http_error(k, url.ptr, &r, doing, need);
        } else {
            char *next;
            rc = page_check(k, url.ptr, &r.body, &next);
            if (rc == 0 && next && token && !strcmp(next, token))
                rc = err_set(k->e, ERR_UPSTREAM,
                             "%s: the server returned the same continue token twice", doing);
            else if (rc == 0 && pages->n >= KUBE_MAX_PAGES)
                rc = err_set(k->e, ERR_UPSTREAM, "%s: more than %d pages", doing, KUBE_MAX_PAGES);
            if (rc == 0) pages_push(pages, &r.body);
            free(token);
            token = next;
            done = rc == 0 && !token;
        }
        http_response_release(&r);
    }
    free(token);
    buf_release(&url);
    return rc;
}

/* Turns the items of the fetched pages into rows. */
static int kube_load_pages(struct kube_run *k, const struct kube_group *g, const char *version,
                           const struct kube_resource *res, const struct pages *pages)
{
    char api_version[64];
    snprintf(api_version, sizeof api_version, "%s/%s", g->name, version);
    for (size_t p = 0; p < pages->n; p++) {
        cJSON *doc = cJSON_ParseWithLength(pages->text[p], pages->len[p]);
        cJSON *item;
        cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(doc, "items"))
        {
            /* Items of a list may leave out kind and apiVersion: they are the list's. */
            if (cJSON_IsObject(item) && !cJSON_GetObjectItemCaseSensitive(item, "kind"))
                cJSON_AddStringToObject(item, "kind", res->kind);
            if (cJSON_IsObject(item) && !cJSON_GetObjectItemCaseSensitive(item, "apiVersion"))
                cJSON_AddStringToObject(item, "apiVersion", api_version);
            const cJSON *meta = cJSON_GetObjectItemCaseSensitive(item, "metadata");
            const char *ns =
                cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(meta, "namespace"));
            const char *name = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(meta, "name"));
            char origin[300];
            struct err re = {0};
            snprintf(origin, sizeof origin, "kubernetes %s %s%s%s", res->kind, ns ? ns : "",
                     ns ? "/" : "", name ? name : "(unnamed)");
            if (report_load(k->rs, item, origin, &re) == 0) continue;
            if (k->opts->skip_invalid) {
                rowset_warn(k->rs, origin, "skipped: %s", re.msg);
                continue;
            }
            cJSON_Delete(doc);
            /* report_load's errors may already start with the origin: name it once. */
            int named = !strncmp(re.msg, origin, strlen(origin));
            return err_set(k->e, ERR_INVALID, "%s%s%s (--skip-invalid skips such reports)",
                           named ? "" : origin, named ? "" : ": ", re.msg);
        }
        cJSON_Delete(doc);
    }
    return 0;
}

static int kube_collect_group(struct kube_run *k, const struct kube_group *g, const char *version)
{
    struct pages pages = {0};
    int rc = 0;
    for (size_t i = 0; i < ARRAY_LEN(g->resources) && rc == 0; i++) {
        rc = kube_fetch_list(k, g, version, &g->resources[i], &pages);
        if (rc == 0) rc = kube_load_pages(k, g, version, &g->resources[i], &pages);
    }
    pages_release(&pages);
    return rc;
}

static int kube_run_all(struct kube_run *k)
{
    const char *versions[ARRAY_LEN(kube_groups)] = {NULL};
    int served = 0;
    for (size_t i = 0; i < ARRAY_LEN(kube_groups); i++) {
        int rc = kube_discover(k, &kube_groups[i], &versions[i]);
        if (rc < 0) return -1;
        if (rc == 0) versions[i] = NULL;
        served += rc;
    }
    if (!served) {
        /* Not a failure of the snapshot: /healthz reports it and other sources still count. */
        fprintf(stderr, "polsnap-snapshot: kubernetes: the API server serves neither "
                        "wgpolicyk8s.io nor openreports.io: no PolicyReport CRDs installed\n");
        rowset_set_no_crds(k->rs);
        return 0;
    }
    for (size_t i = 0; i < ARRAY_LEN(kube_groups); i++)
        if (versions[i] && kube_collect_group(k, &kube_groups[i], versions[i])) return -1;
    return 0;
}

/* The kubeconfig path: the --source argument, else $KUBECONFIG (one file), else NULL for
 * in-cluster. */
static const char *kubeconfig_path(const char *arg, struct err *e, int *bad)
{
    *bad = 0;
    if (arg && *arg) return arg;
    const char *env = getenv("KUBECONFIG");
    if (!env || !*env) return NULL;
    if (strchr(env, ':')) {
        err_set(e, ERR_INVALID,
                "KUBECONFIG lists several files (%s); polsnap reads one: "
                "name it with --source kubernetes:PATH",
                env);
        *bad = 1;
    }
    return env;
}

int source_kube_collect(const char *arg, const struct source_opts *opts, struct rowset *rs,
                        struct err *e)
{
    int bad;
    const char *path = kubeconfig_path(arg, e, &bad);
    struct kube_target target;
    int rc = -1;
    if (bad) goto out_status;
    if (path ? kubeconfig_load(path, opts->kube_context, &target, e)
             : kubeconfig_in_cluster(&target, e))
        goto out_status;
    if (!strncmp(target.server, "http://", 7))
        fprintf(stderr,
                "polsnap-snapshot: warning: kubernetes: %s is plain http: the "
                "credentials and reports cross the network unencrypted\n",
                target.server);
    if (target.insecure)
        fprintf(stderr,
                "polsnap-snapshot: warning: kubernetes: TLS verification is off "
                "(insecure-skip-tls-verify in %s)\n",
                target.where);

    long timeout = opts->timeout_seconds > 0 ? opts->timeout_seconds : KUBE_DEFAULT_TIMEOUT_S;
    struct http_conf conf = {0};
    kube_target_http_conf(&target, &conf);
    conf.timeout_ms = timeout * 1000;
    conf.connect_timeout_ms =
        (timeout < KUBE_CONNECT_TIMEOUT_S ? timeout : KUBE_CONNECT_TIMEOUT_S) * 1000;
    conf.max_body = KUBE_MAX_RESPONSE;
    conf.max_retry_after_s = KUBE_MAX_RETRY_AFTER_S;
    struct kube_run k = {
        .http = http_client_new(&conf, e),
        .target = &target,
        .identity = path ? "the kubeconfig's user" : "the service account",
        .opts = opts,
        .rs = rs,
        .e = e,
    };
    if (!k.http)
        err_prefix(e, "%s: ", target.where);
    else
        rc = kube_run_all(&k);
    http_client_free(k.http);
    kube_target_release(&target);
out_status:
    rowset_source_status(rs, "kubernetes", rc == 0);
    return rc;
}
