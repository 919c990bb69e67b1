/* source_stackrox.c - StackRox Central as a report source: alerts from its REST API as rows.
 *
 * GET /v1/alerts pages through the alerts (SR_PAGE per request, newest first, Central's default
 * order; without a "Violation State" term in the query Central lists only ACTIVE and ATTEMPTED
 * alerts). The list carries no violation messages, so the first SR_DETAIL_MAX alerts each
 * cost one GET /v1/alerts/{id}, one at a time over the same connection; the rest keep their
 * list data (message null) and one warning says how many. stackrox_alert.c maps an alert to
 * a row. Rows are grouped into one "StackRoxAlerts" report per (cluster, namespace), named
 * "stackrox-CLUSTER" ("stackrox" when Central names no cluster), cluster-scoped for alerts
 * without a namespace: the name keeps two clusters' "default" namespaces apart in /metrics. */
#include "source.h"

#include "err.h"

#include "http.h"
#include "stackrox_alert.h"
#include "util.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SR_PAGE 500
#define SR_MAX_ALERTS 100000
#define SR_DETAIL_MAX 1000
#define SR_TOKEN_MAX 16384
#define SR_URL_MAX 2048
/* One answer, decoded: a page of SR_PAGE list alerts is ~1 MiB, a runtime alert's detail
 * with its 40 violations and process indicators rarely more. */
#define SR_BODY_MAX ((size_t)32 << 20)
/* Report and source names: Central's answers are bounded already, this only has to hold them. */
#define SR_NAME_MAX ((size_t)1 << 20)
/* How much of Central's own error message goes into ours. */
#define SR_SERVER_MSG_MAX 200

/* A small string-keyed table: report handles by "cluster\x1fnamespace", rules by policy id. */
struct sr_entry {
    char *key;
    char *text;   /* rules: the rule a detailed alert of the policy had */
    uint32_t num; /* groups: the report handle */
};
struct sr_map {
    struct sr_entry *slots;
    size_t cap, n; /* cap is 0 or a power of two */
};

struct sr_run {
    const struct source_opts *opts;
    struct rowset *rs;
    struct http_client *http;
    const char *token_origin; /* where the token came from, for the 401 message */
    char base[SR_URL_MAX];    /* the URL without trailing slashes */
    struct sr_map groups, rules;
    unsigned alerts, detailed, undetailed;
    struct err *e;
};

static size_t map_hash(const char *s)
{
    return (size_t)fnv1a(s, strlen(s));
}

/* The entry for key, created (text NULL, num 0) when absent; *created says which. */
static struct sr_entry *map_get(struct sr_map *m, const char *key, int *created)
{
    if ((m->n + 1) * 2 > m->cap) {
        struct sr_map g = {xcalloc(m->cap ? m->cap * 2 : 64, sizeof *g.slots),
                           m->cap ? m->cap * 2 : 64, m->n};
        for (size_t i = 0; i < m->cap; i++) {
            if (!m->slots[i].key) continue;
            size_t j = map_hash(m->slots[i].key) & (g.cap - 1);
            while (g.slots[j].key)
                j = (j + 1) & (g.cap - 1);
            g.slots[j] = m->slots[i];
        }
        free(m->slots);
        *m = g;
    }
    size_t i = map_hash(key) & (m->cap - 1);
    for (; m->slots[i].key; i = (i + 1) & (m->cap - 1)) {
        if (strcmp(m->slots[i].key, key) == 0) {
            *created = 0;
            return &m->slots[i];
        }
    }
    m->slots[i].key = xstrdup(key);
    m->n++;
    *created = 1;
    return &m->slots[i];
}

static void map_release(struct sr_map *m)
{
    for (size_t i = 0; i < m->cap; i++) {
        free(m->slots[i].key);
        free(m->slots[i].text);
    }
    free(m->slots);
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Central's own explanation from an error body ({"code":16,"message":"...","error":"..."}),
 * bounded and with control characters blanked, as ": message"; "" when there is none. */
static void server_message(const struct buf *body, char out[SR_SERVER_MSG_MAX + 3])
{
    out[0] = '\0';
    cJSON *doc = body->ptr ? cJSON_ParseWithLength(body->ptr, body->len) : NULL;
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(doc, "message");
    if (!cJSON_IsString(m) || !m->valuestring[0])
        m = cJSON_GetObjectItemCaseSensitive(doc, "error");
    if (cJSON_IsString(m) && m->valuestring[0]) {
        size_t n = 0;
        out[n++] = ':';
        out[n++] = ' ';
        for (const char *s = m->valuestring; *s && n < SR_SERVER_MSG_MAX + 2; s++)
            out[n++] = (unsigned char)*s < 0x20 || *s == 0x7f ? ' ' : *s;
        out[n] = '\0';
    }
    cJSON_Delete(doc);
}

/* GETs base+path and parses the body as a JSON object into *doc. 0 on success; 1 for a 404
 * when allow_404 (*doc NULL); else -1 with r->e set. */
static int get_json(struct sr_run *r, const char *path, int allow_404, cJSON **doc)
{
    char url[SR_URL_MAX * 2], smsg[SR_SERVER_MSG_MAX + 3];
    struct http_response resp;
    *doc = NULL;
    if ((size_t)snprintf(url, sizeof url, "%s%s", r->base, path) >= sizeof url)
        return err_set(r->e, ERR_UPSTREAM, "request URL too long (%s...)", r->base);
    int rc = http_get(r->http, url, &resp, r->e);
    if (rc != 0) {
        http_response_release(&resp);
        return -1;
    }
    if (resp.status != 200) {
        long status = resp.status;
        int attempts = resp.attempts;
        server_message(&resp.body, smsg);
        http_response_release(&resp);
        if (status == 404 && allow_404) return 1;
        if (status == 401)
            return err_set(r->e, ERR_UPSTREAM, "StackRox rejected the API token (401): check %s%s",
                           r->token_origin, smsg);
        if (status == 403)
            return err_set(r->e, ERR_UPSTREAM,
                           "StackRox denied GET %s (403): the token's role needs read access to "
                           "Alert%s",
                           url, smsg);
        if (status == 404)
            return err_set(r->e, ERR_UPSTREAM,
                           "GET %s: 404 Not Found: is %s StackRox Central's API address?%s", url,
                           r->base, smsg);
        if (status == 429 || status >= 500)
            return err_set(r->e, ERR_UPSTREAM,
                           "GET %s: Central answered %ld, still after %d attempts%s", url, status,
                           attempts, smsg);
        return err_set(r->e, ERR_UPSTREAM, "GET %s: unexpected HTTP status %ld%s", url, status,
                       smsg);
    }
    const char *end = NULL;
    *doc = cJSON_ParseWithLengthOpts(resp.body.ptr ? resp.body.ptr : "", resp.body.len, &end, 0);
    if (*doc && end)
        while (end < resp.body.ptr + resp.body.len && is_space(*end))
            end++;
    int ok = *doc && cJSON_IsObject(*doc) && end == resp.body.ptr + resp.body.len;
    size_t len = resp.body.len;
    http_response_release(&resp);
    if (!ok) {
        cJSON_Delete(*doc);
        *doc = NULL;
        return err_set(r->e, ERR_UPSTREAM, "GET %s: the answer is not a JSON object (%lu bytes)",
                       url, (unsigned long)len);
    }
    return 0;
}

/* Fills *token (malloc'd, trimmed) from --stackrox-token-file, else $ROX_API_TOKEN, and
 * r->token_origin; 0, or -1 with r->e set. */
static int read_token(struct sr_run *r, char **token, char origin[SR_URL_MAX])
{
    const char *file = r->opts->stackrox_token_file;
    struct buf b = BUF_INIT(SR_TOKEN_MAX);
    if (file && *file) {
        snprintf(origin, SR_URL_MAX, "the token in %s", file);
        if (buf_read_file(&b, file) != 0) {
            int no = errno;
            buf_release(&b);
            if (no != EFBIG)
                return err_set(r->e, ERR_IO, "cannot read the token file %s: %s", file,
                               strerror(no));
            return err_set(r->e, ERR_UPSTREAM,
                           "the token file %s is larger than %d bytes: not an API token", file,
                           SR_TOKEN_MAX);
        }
    } else {
        snprintf(origin, SR_URL_MAX, "ROX_API_TOKEN");
        const char *env = getenv("ROX_API_TOKEN");
        if (!env)
            return err_set(r->e, ERR_UPSTREAM,
                           "no API token: set ROX_API_TOKEN or --stackrox-token-file FILE "
                           "(a token with read access to Alert)");
        buf_puts(&b, env);
        if (buf_failed(&b)) {
            buf_release(&b);
            return err_set(r->e, ERR_UPSTREAM,
                           "ROX_API_TOKEN is longer than %d bytes: not an API token", SR_TOKEN_MAX);
        }
    }
    size_t len, start = 0;
    char *t = buf_detach(&b, &len);
    while (start < len && is_space(t[start]))
        start++;
    while (len > start && is_space(t[len - 1]))
        len--;
    for (size_t i = start; i < len; i++) {
        if ((unsigned char)t[i] <= 0x20 || (unsigned char)t[i] >= 0x7f) {
            free(t);
            return err_set(r->e, ERR_UPSTREAM,
                           "%s holds a space, a line break or a non-ASCII byte inside: an API "
                           "token is one word",
                           origin);
        }
    }
    if (len == start) {
        free(t);
        return err_set(r->e, ERR_UPSTREAM, "%s is empty", origin);
    }
    memmove(t, t + start, len - start);
    t[len - start] = '\0';
    *token = t;
    return 0;
}

/* Checks the URL, reads the token, warns about --stackrox-insecure and opens the client. */
static int sr_open(struct sr_run *r, const char *arg, char origin[SR_URL_MAX])
{
    if (!arg || !*arg)
        return err_set(r->e, ERR_UPSTREAM,
                       "--source stackrox:URL needs Central's address, e.g. "
                       "stackrox:https://central.example.com");
    size_t n = strlen(arg);
    if (n >= SR_URL_MAX - 64)
        return err_set(r->e, ERR_UPSTREAM, "the URL is longer than %d bytes", SR_URL_MAX - 64);
    if (!ascii_has_prefix_nc(arg, "https://", 8) || n == 8)
        return err_set(r->e, ERR_UPSTREAM,
                       "%s: the URL must start with https:// (Central serves its API over TLS)",
                       arg);
    for (const char *s = arg; *s; s++)
        if ((unsigned char)*s <= 0x20 || *s == 0x7f || *s == '?' || *s == '#')
            return err_set(r->e, ERR_UPSTREAM,
                           "%s: the URL must be Central's address alone (no spaces, query or "
                           "fragment)",
                           arg);
    while (n > 8 && arg[n - 1] == '/')
        n--;
    memcpy(r->base, arg, n);
    r->base[n] = '\0';

    char *token = NULL;
    if (read_token(r, &token, origin)) return -1;
    r->token_origin = origin;
    const struct source_opts *o = r->opts;
    if (o->stackrox_insecure) {
        fprintf(stderr,
                "polsnap-snapshot: warning: stackrox: --stackrox-insecure: the certificate of "
                "%s is not verified, so anyone on the way can read the API token\n",
                r->base);
    } else if (o->stackrox_ca && *o->stackrox_ca) {
        FILE *f = fopen(o->stackrox_ca, "rb");
        if (!f) {
            free(token);
            return err_set(r->e, ERR_UPSTREAM, "cannot read the CA bundle %s (--stackrox-ca): %s",
                           o->stackrox_ca, strerror(errno));
        }
        fclose(f);
    }
    struct http_conf conf = {
        .ca_file = o->stackrox_ca && *o->stackrox_ca ? o->stackrox_ca : NULL,
        .insecure = o->stackrox_insecure,
        .bearer_token = token,
        .timeout_ms = o->timeout_seconds > 0 ? o->timeout_seconds * 1000 : 0,
        .max_body = SR_BODY_MAX,
    };
    r->http = http_client_new(&conf, r->e);
    /* The client keeps its own copy; ours is wiped so it does not linger on the heap. */
    if (token) memset(token, 0, strlen(token));
    free(token);
    return r->http ? 0 : -1;
}

/* Adds a mapped alert to the report of its (cluster, namespace), creating the report on first
 * sight, after making its rule agree with the detailed alerts of the same policy. */
static void add_row(struct sr_run *r, struct stackrox_row *row, int detailed)
{
    if (row->policy_id) {
        int created;
        struct sr_entry *e = map_get(&r->rules, row->policy_id, &created);
        if (detailed && !e->text && row->row.rule) e->text = xstrdup(row->row.rule);
        if (!detailed && e->text) row->row.rule = e->text;
    }
    const char *cluster = row->cluster ? row->cluster : "";
    size_t cn = strlen(cluster), nn = row->namespace ? strlen(row->namespace) : 0;
    char *key = xmalloc(cn + nn + 2);
    snprintf(key, cn + nn + 2, "%s\x1f%s", cluster, row->namespace ? row->namespace : "");
    int created;
    struct sr_entry *g = map_get(&r->groups, key, &created);
    free(key);
    if (created) {
        struct buf name = BUF_INIT(SR_NAME_MAX);
        buf_puts(&name, row->cluster ? "stackrox-" : "stackrox");
        buf_puts(&name, cluster);
        struct row_report rep = {"StackRoxAlerts", name.ptr,        row->namespace, !row->namespace,
                                 r->base,          row->row.source, NULL,           0};
        g->num = rowset_add_report(r->rs, &rep);
        buf_release(&name);
    }
    rowset_add_row(r->rs, g->num, &row->row);
}

/* One ListAlert: its detail while under the cap, the mapping, the row. 0 or -1. */
static int add_alert(struct sr_run *r, const cJSON *alert)
{
    const cJSON *idv = cJSON_GetObjectItemCaseSensitive(alert, "id");
    const char *id = cJSON_IsString(idv) && idv->valuestring[0] ? idv->valuestring : NULL;
    cJSON *detail = NULL;
    if (id && r->detailed >= SR_DETAIL_MAX) {
        r->undetailed++;
    } else if (id) {
        struct buf path = BUF_INIT(SR_URL_MAX);
        buf_puts(&path, "/v1/alerts/");
        buf_put_urlencoded(&path, id);
        int rc = buf_failed(&path) ? err_set(r->e, ERR_UPSTREAM, "an alert id longer than %d bytes",
                                             SR_URL_MAX / 4)
                                   : get_json(r, path.ptr, 1, &detail);
        buf_release(&path);
        if (rc < 0) return -1;
        if (rc == 1)
            rowset_warn(r->rs, r->base,
                        "alert %s was gone (404) when its details were read: kept without "
                        "violation messages",
                        id);
        r->detailed++;
    }
    struct stackrox_row row;
    struct err me = {0};
    int rc = stackrox_alert_map(alert, detail, &row, &me);
    if (rc == 0) {
        add_row(r, &row, detail != NULL);
    } else if (r->opts->skip_invalid) {
        rowset_warn(r->rs, r->base, "%s: skipped", me.msg);
        rc = 0;
    } else {
        err_set(r->e, ERR_INVALID, "%s (--skip-invalid skips such alerts)", me.msg);
    }
    stackrox_row_release(&row);
    cJSON_Delete(detail);
    return rc;
}

/* Pages through GET /v1/alerts until a short page. 0 or -1. */
static int list_alerts(struct sr_run *r)
{
    const char *q = r->opts->stackrox_query;
    for (long offset = 0;; offset += SR_PAGE) {
        if (offset >= SR_MAX_ALERTS)
            return err_set(r->e, ERR_UPSTREAM,
                           "at least %d alerts: narrow them with --stackrox-query (e.g. "
                           "'Cluster:NAME' or 'Severity:CRITICAL_SEVERITY')",
                           SR_MAX_ALERTS);
        struct buf path = BUF_INIT(SR_URL_MAX);
        buf_puts(&path, "/v1/alerts?");
        if (q && *q) {
            buf_puts(&path, "query=");
            buf_put_urlencoded(&path, q);
            buf_putc(&path, '&');
        }
        buf_printf(&path, "pagination.limit=%d&pagination.offset=%ld", SR_PAGE, offset);
        cJSON *doc = NULL;
        int rc = buf_failed(&path) ? err_set(r->e, ERR_UPSTREAM, "--stackrox-query is too long")
                                   : get_json(r, path.ptr, 0, &doc);
        buf_release(&path);
        if (rc || !doc) return -1;
        const cJSON *alerts = cJSON_GetObjectItemCaseSensitive(doc, "alerts");
        /* Without "alerts" only an empty object is an (empty) ListAlertsResponse. */
        if (!cJSON_IsArray(alerts) && (alerts || doc->child)) {
            cJSON_Delete(doc);
            return err_set(r->e, ERR_UPSTREAM,
                           "GET %s/v1/alerts: the answer has no \"alerts\" list: is this "
                           "StackRox Central?",
                           r->base);
        }
        int n = cJSON_GetArraySize(alerts);
        const cJSON *a;
        cJSON_ArrayForEach(a, alerts)
        {
            if (add_alert(r, a)) {
                cJSON_Delete(doc);
                return -1;
            }
        }
        cJSON_Delete(doc);
        r->alerts += (unsigned)n;
        /* More than asked for: a Central that ignores pagination sent every alert at once. */
        if (n != SR_PAGE) break;
    }
    if (r->undetailed)
        rowset_warn(r->rs, r->base,
                    "%u of %u alerts have no violation messages: details are read for the "
                    "newest %d only (one request each); narrow the alerts with --stackrox-query",
                    r->undetailed, r->alerts, SR_DETAIL_MAX);
    return 0;
}

int source_stackrox_collect(const char *arg, const struct source_opts *opts, struct rowset *rs,
                            struct err *e)
{
    struct sr_run r = {.opts = opts, .rs = rs, .e = e};
    char origin[SR_URL_MAX];
    int rc = sr_open(&r, arg, origin);
    if (rc == 0) rc = list_alerts(&r);
    struct buf name = BUF_INIT(SR_NAME_MAX);
    buf_puts(&name, "stackrox:");
    buf_puts(&name, arg ? arg : "");
    rowset_source_status(rs, name.ptr, rc == 0);
    buf_release(&name);
    http_client_free(r.http);
    map_release(&r.groups);
    map_release(&r.rules);
    return rc;
}
