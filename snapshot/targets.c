/* targets.c - reads and checks the notification targets file (targets.h). */
#include "targets.h"

#include "buf.h"
#include "conf.h"
#include "idx.h"
#include "util.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TARGETS_MAX 64
#define TARGETS_MAX_URL 8192

const char *const target_type_names[TT_NTYPES] = {
    "webhook", "slack", "teams", "discord", "googlechat", "loki", "alertmanager",
};

/* headers and customFields: string to string. Header names are HTTP tokens. */
static int get_map(const struct conf_at *a, const cJSON *v, int headers, struct conf_strings *keys,
                   struct conf_strings *values)
{
    if (conf_object(a, v)) return -1;
    for (const cJSON *x = v->child; x; x = x->next) {
        struct conf_at c = conf_child(a, x->string);
        char *s;
        if (headers &&
            (!x->string[0] || strcspn(x->string, " \t:()<>@,;\\\"/[]?={}") != strlen(x->string) ||
             conf_has_control(x->string)))
            return conf_bad(&c, "is not a valid header name");
        if (!headers && (!x->string[0] || conf_has_control(x->string)))
            return conf_bad(&c, "is not a valid field name");
        if (conf_string(&c, x, 4096, &s)) return -1;
        if (headers) {
            struct buf line = BUF_INIT(8192);
            buf_printf(&line, "%s: %s", x->string, s);
            free(s);
            conf_push(values, buf_detach(&line, NULL));
        } else if (keys) {
            conf_push(keys, xstrdup(x->string));
            conf_push(values, s);
        }
    }
    return 0;
}

static int get_filter(const struct conf_at *a, const cJSON *v, struct target_conf *t)
{
    if (conf_object(a, v)) return -1;
    for (const cJSON *x = v->child; x; x = x->next) {
        struct conf_at c = conf_child(a, x->string);
        struct target_filter *f = !strcmp(x->string, "namespaces") ? &t->namespaces
                                  : !strcmp(x->string, "policies") ? &t->policies
                                  : !strcmp(x->string, "kinds")    ? &t->kinds
                                                                   : NULL;
        if (!f) return conf_bad(&c, "unknown key: filters are namespaces, policies and kinds");
        if (conf_object(&c, x)) return -1;
        for (const cJSON *y = x->child; y; y = y->next) {
            struct conf_at d = conf_child(&c, y->string);
            if (!strcmp(y->string, "include")) {
                if (conf_list(&d, y, &f->include)) return -1;
            } else if (!strcmp(y->string, "exclude")) {
                if (conf_list(&d, y, &f->exclude)) return -1;
            } else {
                return conf_bad(&d, "unknown key: use include or exclude");
            }
        }
    }
    return 0;
}

static int check_url(const struct conf_at *a, const char *url)
{
    if (strncmp(url, "https://", 8) != 0 && strncmp(url, "http://", 7) != 0)
        return conf_bad(a, "must be an http:// or https:// URL"); /* never echo the URL itself */
    if (conf_has_control(url) || strchr(url, ' '))
        return conf_bad(a, "must not hold spaces or control characters");
    return 0;
}

static int get_severity(const struct conf_at *a, const cJSON *v, int *out)
{
    if (cJSON_IsString(v))
        for (int s = 1; s < IDX_NSEVERITY; s++)
            if (!ascii_casecmp(v->valuestring, idx_severity_names[s])) {
                *out = s;
                return 0;
            }
    return conf_bad(a, "must be one of info, low, medium, high, critical");
}

static int get_type(const struct conf_at *a, const cJSON *v, enum target_type *out)
{
    if (cJSON_IsString(v))
        for (int t = 0; t < TT_NTYPES; t++)
            if (!strcmp(v->valuestring, target_type_names[t])) {
                *out = (enum target_type)t;
                return 0;
            }
    return conf_bad(
        a, "must be one of webhook, slack, teams, discord, googlechat, loki, alertmanager");
}

/* One key of a target; *url_file collects urlFile for after the loop. */
static int target_key(const struct conf_at *c, const cJSON *x, struct target_conf *t,
                      int *have_type, char **url_file)
{
    const char *k = x->string;
    if (!strcmp(k, "name")) return conf_string(c, x, 64, &t->name);
    if (!strcmp(k, "type")) {
        *have_type = 1;
        return get_type(c, x, &t->type);
    }
    if (!strcmp(k, "url")) return conf_string(c, x, TARGETS_MAX_URL, &t->url);
    if (!strcmp(k, "urlFile")) return conf_string(c, x, 4096, url_file);
    if (!strcmp(k, "headers")) return get_map(c, x, 1, NULL, &t->headers);
    if (!strcmp(k, "minimumSeverity")) return get_severity(c, x, &t->min_severity);
    if (!strcmp(k, "sources")) return conf_list(c, x, &t->sources);
    if (!strcmp(k, "filter")) return get_filter(c, x, t);
    if (!strcmp(k, "skipExistingOnStartup")) return conf_bool(c, x, &t->skip_existing);
    if (!strcmp(k, "customFields")) return get_map(c, x, 0, &t->custom_keys, &t->custom_values);
    if (!strcmp(k, "certificate")) return conf_string(c, x, 4096, &t->certificate);
    if (!strcmp(k, "skipTLS")) return conf_bool(c, x, &t->skip_tls);
    if (!strcmp(k, "timeout")) return conf_seconds(c, x, &t->timeout_s);
    return conf_bad(c, "unknown key (see the README's targets file)");
}

static int parse_target(const struct conf_at *a, const cJSON *v, struct target_conf *t)
{
    memset(t, 0, sizeof *t);
    t->skip_existing = 1;
    t->timeout_s = 10;
    if (conf_object(a, v)) return -1;
    int have_type = 0;
    char *url_file = NULL;
    for (const cJSON *x = v->child; x; x = x->next) {
        struct conf_at c = conf_child(a, x->string);
        if (target_key(&c, x, t, &have_type, &url_file)) {
            free(url_file);
            return -1;
        }
    }
    int rc = 0;
    struct conf_at u = conf_child(a, url_file ? "urlFile" : "url");
    if (!t->name)
        rc = conf_bad(a, "has no name");
    else if (!have_type)
        rc = conf_bad(a, "has no type");
    else if (t->url && url_file)
        rc = conf_bad(a, "has both url and urlFile: give one");
    else if (!t->url && !url_file)
        rc = conf_bad(a, "has neither url nor urlFile");
    else if (url_file)
        rc = conf_secret_file(&u, url_file, &t->url);
    if (rc == 0 && t->url) rc = check_url(&u, t->url);
    free(url_file);
    return rc;
}

static int cmp_names(const void *x, const void *y)
{
    return strcmp(((const struct target_conf *)x)->name, ((const struct target_conf *)y)->name);
}

static int parse_file(const struct conf_at *a, const cJSON *doc, struct targets *out)
{
    struct conf_at top = *a;
    snprintf(top.path, sizeof top.path, "targets");
    if (conf_object(a, doc)) return -1;
    const cJSON *list = NULL;
    for (const cJSON *x = doc->child; x; x = x->next) {
        if (strcmp(x->string, "targets") != 0) {
            struct conf_at c = conf_child(a, x->string);
            snprintf(c.path, sizeof c.path, "%s", x->string);
            return conf_bad(&c, "unknown key: the file holds one key, targets");
        }
        list = x;
    }
    if (!list || !cJSON_IsArray(list)) return conf_bad(&top, "must be a list of targets");
    int n = cJSON_GetArraySize(list), i = 0;
    if (n > TARGETS_MAX) return conf_bad(&top, "holds more than 64 targets");
    out->v = xcalloc((size_t)n + 1, sizeof *out->v);
    for (const cJSON *x = list->child; x; x = x->next, i++) {
        struct conf_at c = conf_item(&top, i);
        out->n++;
        if (parse_target(&c, x, &out->v[i])) return -1;
        for (int j = 0; j < i; j++)
            if (!strcmp(out->v[j].name, out->v[i].name))
                return conf_bad(&c, "repeats another target's name");
    }
    qsort(out->v, out->n, sizeof *out->v, cmp_names);
    return 0;
}

int targets_load(const char *path, struct targets *out, struct err *e)
{
    memset(out, 0, sizeof *out);
    cJSON *doc = conf_load(path, e);
    if (!doc) return -1;
    struct conf_at a = {path, "", e};
    int rc = parse_file(&a, doc, out);
    cJSON_Delete(doc);
    if (rc) targets_release(out);
    return rc;
}

static void conf_release(struct target_conf *t)
{
    free(t->name);
    if (t->url) memset(t->url, 0, strlen(t->url));
    free(t->url);
    conf_strings_release(&t->headers, 1);
    conf_strings_release(&t->sources, 0);
    struct target_filter *f[] = {&t->namespaces, &t->policies, &t->kinds};
    for (size_t i = 0; i < ARRAY_LEN(f); i++) {
        conf_strings_release(&f[i]->include, 0);
        conf_strings_release(&f[i]->exclude, 0);
    }
    conf_strings_release(&t->custom_keys, 0);
    conf_strings_release(&t->custom_values, 0);
    free(t->certificate);
}

void targets_release(struct targets *t)
{
    for (size_t i = 0; i < t->n; i++)
        conf_release(&t->v[i]);
    free(t->v);
    memset(t, 0, sizeof *t);
}

static int passes(const struct target_filter *f, const char *value)
{
    const char *s = value ? value : "";
    return (!f->include.n || conf_match(&f->include, s)) && !conf_match(&f->exclude, s);
}

int target_accepts(const struct target_conf *t, const char *namespace, const char *kind,
                   const char *policy, const char *source, int severity)
{
    if (t->min_severity && severity < t->min_severity) return 0;
    if (t->sources.n) {
        int any = 0;
        for (size_t i = 0; i < t->sources.n && !any; i++)
            any = source && !ascii_casecmp(source, t->sources.v[i]);
        if (!any) return 0;
    }
    return passes(&t->namespaces, namespace) && passes(&t->policies, policy) &&
           passes(&t->kinds, kind);
}
