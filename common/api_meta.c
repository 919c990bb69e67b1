/* api_meta.c - the small fixed endpoints: the probes, the snapshot's metadata, who the token
 * is and what it may read, the (empty) notification targets, and /metrics. */
#include "api_common.h"

#include "metrics.h"
#include "util.h"

#include <stdio.h>

int api_ping(const struct api_ctx *c, struct err *e)
{
    (void)e;
    buf_puts(c->out, "{\"status\":\"ok\"}");
    return 200;
}

/* /ready: a snapshot is being served. */
int api_ready(const struct api_ctx *c, struct err *e)
{
    (void)e;
    if (!c->ix) {
        buf_puts(c->out, "{\"error\":\"no snapshot yet\"}");
        return 503;
    }
    buf_puts(c->out, "{}");
    return 200;
}

/* /healthz: ready, and the cluster has PolicyReport CRDs. */
int api_healthz(const struct api_ctx *c, struct err *e)
{
    if (c->ix && (c->ix->h->flags & IDX_FLAG_NO_CRDS)) {
        buf_puts(c->out, "{\"error\":\"No PolicyReport CRDs found\"}");
        return 503;
    }
    return api_ready(c, e);
}

int api_targets(const struct api_ctx *c, struct err *e)
{
    (void)e;
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

int api_metrics(const struct api_ctx *c, struct err *e)
{
    (void)e;
    metrics_render(c->ix, c->out);
    return 200;
}

int api_snapshot_meta(const struct api_ctx *c, struct err *e)
{
    (void)e;
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
    buf_printf(b, ",\"new\":%u,\"resolved\":%u},\"uploads\":[", ix->h->changes_new,
               ix->h->changes_resolved);
    for (uint32_t i = 0; i < ix->nuploads; i++) {
        const struct idx_upload *u = &ix->uploads[i];
        buf_puts(b, i ? ",{\"destination\":" : "{\"destination\":");
        buf_json_str(b, idx_str(ix, u->dest));
        buf_printf(b, ",\"up\":%s,\"lastSuccess\":", u->up ? "true" : "false");
        if (u->last_success == IDX_NO_TIME) {
            buf_puts(b, "null}");
        } else {
            char t[21];
            rfc3339_utc(u->last_success, t);
            buf_printf(b, "\"%s\"}", t);
        }
    }
    buf_puts(b, "]}");
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

int api_auth_status(const struct api_ctx *c, struct err *e)
{
    (void)e;
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
    buf_json_str_or_null(b, api_role_names[v->role]);
    buf_puts(b, ",\"namespaces\":");
    put_namespaces_or_null(b, v);
    buf_putc(b, '}');
    return 200;
}

int api_my_permissions(const struct api_ctx *c, struct err *e)
{
    (void)e;
    const struct api_view *v = c->view;
    enum api_role role = (v && v->auth) ? v->role : API_ADMIN;
    int reports = role == API_ADMIN || role == API_READER;
    int cluster = reports && !(v && v->namespaces);
    /* /metrics is the whole cluster's: a namespace-limited token may not read it */
    int metrics = role != API_ROLE_NONE && !(v && v->namespaces);
#define ACCESS(x) ((x) ? "\"READ_ACCESS\"" : "\"NO_ACCESS\"")
    buf_puts(c->out, "{\"name\":");
    buf_json_str_or_null(c->out, api_role_names[role]);
    buf_printf(c->out,
               ",\"globalAccess\":%s,\"resourceToAccess\":{\"PolicyReport\":%s,"
               "\"ClusterPolicyReport\":%s,\"Metrics\":%s}}",
               ACCESS(cluster), ACCESS(reports), ACCESS(cluster), ACCESS(metrics));
#undef ACCESS
    return 200;
}
