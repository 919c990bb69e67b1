/* targets.c - reads and checks the notification targets file (targets.h). */
#include "targets.h"

#include "buf.h"
#include "idx.h"
#include "util.h"
#include "yamldoc.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TARGETS_MAX_FILE ((size_t)1 << 20)
#define TARGETS_MAX 64
#define TARGETS_MAX_URL 8192

const char *const target_type_names[TT_NTYPES] = {
    "webhook", "slack", "teams", "discord", "googlechat", "loki", "alertmanager",
};

/* Where in the file a value is, for messages: "FILE: targets[2].filter". */
struct at {
    const char *file;
    char path[256];
    struct err *e;
};

static int bad(const struct at *a, const char *why)
{
    return err_set(a->e, ERR_INVALID, "%s: %s: %s", a->file, a->path, why);
}

static struct at child(const struct at *a, const char *key)
{
    struct at c = *a;
    snprintf(c.path, sizeof c.path, "%s.%s", a->path, key);
    return c;
}

static struct at item(const struct at *a, int i)
{
    struct at c = *a;
    snprintf(c.path, sizeof c.path, "%s[%d]", a->path, i);
    return c;
}

static int has_control(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f) return 1;
    return 0;
}

static int get_string(const struct at *a, const cJSON *v, size_t max, char **out)
{
    if (!cJSON_IsString(v) || !v->valuestring[0]) return bad(a, "must be a non-empty string");
    if (strlen(v->valuestring) > max) return bad(a, "is too long");
    if (has_control(v->valuestring)) return bad(a, "must not hold control characters");
    *out = xstrdup(v->valuestring);
    return 0;
}

/* JSON booleans, or YAML's text true/false (yamldoc keeps scalars as text). */
static int get_bool(const struct at *a, const cJSON *v, int *out)
{
    if (cJSON_IsBool(v)) {
        *out = cJSON_IsTrue(v);
        return 0;
    }
    if (cJSON_IsString(v) &&
        (!ascii_casecmp(v->valuestring, "true") || !ascii_casecmp(v->valuestring, "false"))) {
        *out = !ascii_casecmp(v->valuestring, "true");
        return 0;
    }
    return bad(a, "must be true or false");
}

static int get_seconds(const struct at *a, const cJSON *v, long *out)
{
    char *end = NULL;
    double d = cJSON_IsNumber(v)   ? v->valuedouble
               : cJSON_IsString(v) ? strtod(v->valuestring, &end)
                                   : -1;
    if ((end && *end) || d < 1 || d > 300 || d != (double)(long)d)
        return bad(a, "must be a whole number of seconds from 1 to 300");
    *out = (long)d;
    return 0;
}

static void push(struct target_strings *s, char *v)
{
    s->v = xreallocarray(s->v, s->n + 1, sizeof *s->v);
    s->v[s->n++] = v;
}

static void strings_release(struct target_strings *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
    memset(s, 0, sizeof *s);
}

static int get_list(const struct at *a, const cJSON *v, struct target_strings *out)
{
    if (!cJSON_IsArray(v)) return bad(a, "must be a list of strings");
    int i = 0;
    for (const cJSON *x = v->child; x; x = x->next, i++) {
        struct at ai = item(a, i);
        char *s;
        if (i >= 256) return bad(a, "has more than 256 entries");
        if (get_string(&ai, x, 1024, &s)) return -1;
        push(out, s);
    }
    return 0;
}

/* A key written twice would make the value depend on the parser: refused. */
static int check_object(const struct at *a, const cJSON *v)
{
    if (!cJSON_IsObject(v)) return bad(a, "must be a mapping");
    for (const cJSON *x = v->child; x; x = x->next)
        for (const cJSON *y = v->child; y != x; y = y->next)
            if (!strcmp(x->string, y->string)) {
                struct at c = child(a, x->string);
                return bad(&c, "is given twice");
            }
    return 0;
}

/* headers and customFields: string to string. Header names are HTTP tokens. */
static int get_map(const struct at *a, const cJSON *v, int headers, struct target_strings *keys,
                   struct target_strings *values)
{
    if (check_object(a, v)) return -1;
    for (const cJSON *x = v->child; x; x = x->next) {
        struct at c = child(a, x->string);
        char *s;
        if (headers &&
            (!x->string[0] || strcspn(x->string, " \t:()<>@,;\\\"/[]?={}") != strlen(x->string) ||
             has_control(x->string)))
            return bad(&c, "is not a valid header name");
        if (!headers && (!x->string[0] || has_control(x->string)))
            return bad(&c, "is not a valid field name");
        if (get_string(&c, x, 4096, &s)) return -1;
        if (headers) {
            struct buf line = BUF_INIT(8192);
            buf_printf(&line, "%s: %s", x->string, s);
            free(s);
            push(values, buf_detach(&line, NULL));
        } else if (keys) {
            push(keys, xstrdup(x->string));
            push(values, s);
        }
    }
    return 0;
}

static int get_filter(const struct at *a, const cJSON *v, struct target_conf *t)
{
    if (check_object(a, v)) return -1;
    for (const cJSON *x = v->child; x; x = x->next) {
        struct at c = child(a, x->string);
        struct target_filter *f = !strcmp(x->string, "namespaces") ? &t->namespaces
                                  : !strcmp(x->string, "policies") ? &t->policies
                                  : !strcmp(x->string, "kinds")    ? &t->kinds
                                                                   : NULL;
        if (!f) return bad(&c, "unknown key: filters are namespaces, policies and kinds");
        if (check_object(&c, x)) return -1;
        for (const cJSON *y = x->child; y; y = y->next) {
            struct at d = child(&c, y->string);
            if (!strcmp(y->string, "include")) {
                if (get_list(&d, y, &f->include)) return -1;
            } else if (!strcmp(y->string, "exclude")) {
                if (get_list(&d, y, &f->exclude)) return -1;
            } else {
                return bad(&d, "unknown key: use include or exclude");
            }
        }
    }
    return 0;
}

/* The URL from a file: its first line, surrounding blanks trimmed. */
static int read_url_file(const struct at *a, const char *path, char **out)
{
    struct buf b = BUF_INIT(TARGETS_MAX_URL);
    if (buf_read_file(&b, path) != 0) {
        int errnum = errno;
        buf_release(&b);
        char why[300];
        snprintf(why, sizeof why, "cannot read %s: %s", path,
                 errnum == EFBIG ? "larger than 8 KiB" : strerror(errnum));
        return bad(a, why);
    }
    char *s = buf_detach(&b, NULL);
    s[strcspn(s, "\r\n")] = '\0';
    char *p = s;
    while (*p == ' ' || *p == '\t')
        p++;
    size_t n = strlen(p);
    while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
        p[--n] = '\0';
    *out = xstrdup(p);
    memset(s, 0, strlen(s)); /* it held a secret */
    free(s);
    return 0;
}

static int check_url(const struct at *a, const char *url)
{
    if (strncmp(url, "https://", 8) != 0 && strncmp(url, "http://", 7) != 0)
        return bad(a, "must be an http:// or https:// URL"); /* never echo the URL itself */
    if (has_control(url) || strchr(url, ' '))
        return bad(a, "must not hold spaces or control characters");
    return 0;
}

static int get_severity(const struct at *a, const cJSON *v, int *out)
{
    if (cJSON_IsString(v))
        for (int s = 1; s < IDX_NSEVERITY; s++)
            if (!ascii_casecmp(v->valuestring, idx_severity_names[s])) {
                *out = s;
                return 0;
            }
    return bad(a, "must be one of info, low, medium, high, critical");
}

static int get_type(const struct at *a, const cJSON *v, enum target_type *out)
{
    if (cJSON_IsString(v))
        for (int t = 0; t < TT_NTYPES; t++)
            if (!strcmp(v->valuestring, target_type_names[t])) {
                *out = (enum target_type)t;
                return 0;
            }
    return bad(a, "must be one of webhook, slack, teams, discord, googlechat, loki, alertmanager");
}

/* One key of a target; *url_file collects urlFile for after the loop. */
static int target_key(const struct at *c, const cJSON *x, struct target_conf *t, int *have_type,
                      char **url_file)
{
    const char *k = x->string;
    if (!strcmp(k, "name")) return get_string(c, x, 64, &t->name);
    if (!strcmp(k, "type")) {
        *have_type = 1;
        return get_type(c, x, &t->type);
    }
    if (!strcmp(k, "url")) return get_string(c, x, TARGETS_MAX_URL, &t->url);
    if (!strcmp(k, "urlFile")) return get_string(c, x, 4096, url_file);
    if (!strcmp(k, "headers")) return get_map(c, x, 1, NULL, &t->headers);
    if (!strcmp(k, "minimumSeverity")) return get_severity(c, x, &t->min_severity);
    if (!strcmp(k, "sources")) return get_list(c, x, &t->sources);
    if (!strcmp(k, "filter")) return get_filter(c, x, t);
    if (!strcmp(k, "skipExistingOnStartup")) return get_bool(c, x, &t->skip_existing);
    if (!strcmp(k, "customFields")) return get_map(c, x, 0, &t->custom_keys, &t->custom_values);
    if (!strcmp(k, "certificate")) return get_string(c, x, 4096, &t->certificate);
    if (!strcmp(k, "skipTLS")) return get_bool(c, x, &t->skip_tls);
    if (!strcmp(k, "timeout")) return get_seconds(c, x, &t->timeout_s);
    return bad(c, "unknown key (see the README's targets file)");
}

static int parse_target(const struct at *a, const cJSON *v, struct target_conf *t)
{
    memset(t, 0, sizeof *t);
    t->skip_existing = 1;
    t->timeout_s = 10;
    if (check_object(a, v)) return -1;
    int have_type = 0;
    char *url_file = NULL;
    for (const cJSON *x = v->child; x; x = x->next) {
        struct at c = child(a, x->string);
        if (target_key(&c, x, t, &have_type, &url_file)) {
            free(url_file);
            return -1;
        }
    }
    int rc = 0;
    struct at u = child(a, url_file ? "urlFile" : "url");
    if (!t->name)
        rc = bad(a, "has no name");
    else if (!have_type)
        rc = bad(a, "has no type");
    else if (t->url && url_file)
        rc = bad(a, "has both url and urlFile: give one");
    else if (!t->url && !url_file)
        rc = bad(a, "has neither url nor urlFile");
    else if (url_file)
        rc = read_url_file(&u, url_file, &t->url);
    if (rc == 0) rc = check_url(&u, t->url);
    free(url_file);
    return rc;
}

static int cmp_names(const void *x, const void *y)
{
    return strcmp(((const struct target_conf *)x)->name, ((const struct target_conf *)y)->name);
}

static int parse_file(const struct at *a, const cJSON *doc, struct targets *out)
{
    struct at top = *a;
    snprintf(top.path, sizeof top.path, "targets");
    if (check_object(a, doc)) return -1;
    const cJSON *list = NULL;
    for (const cJSON *x = doc->child; x; x = x->next) {
        if (strcmp(x->string, "targets") != 0) {
            struct at c = child(a, x->string);
            snprintf(c.path, sizeof c.path, "%s", x->string);
            return bad(&c, "unknown key: the file holds one key, targets");
        }
        list = x;
    }
    if (!list || !cJSON_IsArray(list)) return bad(&top, "must be a list of targets");
    int n = cJSON_GetArraySize(list), i = 0;
    if (n > TARGETS_MAX) return bad(&top, "holds more than 64 targets");
    out->v = xcalloc((size_t)n + 1, sizeof *out->v);
    for (const cJSON *x = list->child; x; x = x->next, i++) {
        struct at c = item(&top, i);
        out->n++;
        if (parse_target(&c, x, &out->v[i])) return -1;
        for (int j = 0; j < i; j++)
            if (!strcmp(out->v[j].name, out->v[i].name))
                return bad(&c, "repeats another target's name");
    }
    qsort(out->v, out->n, sizeof *out->v, cmp_names);
    return 0;
}

static cJSON *parse_text(const char *path, const char *text, size_t len, struct err *e)
{
    size_t n = strlen(path);
    if (n >= 5 && !strcmp(path + n - 5, ".json")) {
        cJSON *doc = cJSON_ParseWithLength(text, len);
        if (!doc) err_set(e, ERR_INVALID, "%s: not valid JSON", path);
        return doc;
    }
    struct yamldoc *y = yamldoc_open(text, len);
    cJSON *doc = NULL, *extra = NULL;
    char yerr[YAMLDOC_ERR_MAX];
    int rc = yamldoc_next(y, &doc, yerr);
    if (rc < 0) err_set(e, ERR_INVALID, "%s: %s", path, yerr);
    if (rc == 0) err_set(e, ERR_INVALID, "%s: empty", path);
    if (rc > 0 && yamldoc_next(y, &extra, yerr) != 0) {
        err_set(e, ERR_INVALID, "%s: holds more than one YAML document", path);
        cJSON_Delete(doc);
        cJSON_Delete(extra);
        doc = NULL;
    }
    yamldoc_free(y);
    return doc;
}

int targets_load(const char *path, struct targets *out, struct err *e)
{
    memset(out, 0, sizeof *out);
    struct buf b = BUF_INIT(TARGETS_MAX_FILE);
    if (buf_read_file(&b, path) != 0) {
        int errnum = errno;
        buf_release(&b);
        return err_set(e, ERR_IO, "%s: %s", path,
                       errnum == EFBIG ? "larger than 1 MiB" : strerror(errnum));
    }
    cJSON *doc = parse_text(path, b.ptr ? b.ptr : "", b.len, e);
    buf_release(&b);
    if (!doc) return -1;
    struct at a = {path, "", e};
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
    for (size_t i = 0; i < t->headers.n; i++)
        memset(t->headers.v[i], 0, strlen(t->headers.v[i]));
    strings_release(&t->headers);
    strings_release(&t->sources);
    struct target_filter *f[] = {&t->namespaces, &t->policies, &t->kinds};
    for (size_t i = 0; i < ARRAY_LEN(f); i++) {
        strings_release(&f[i]->include);
        strings_release(&f[i]->exclude);
    }
    strings_release(&t->custom_keys);
    strings_release(&t->custom_values);
    free(t->certificate);
}

void targets_release(struct targets *t)
{
    for (size_t i = 0; i < t->n; i++)
        conf_release(&t->v[i]);
    free(t->v);
    memset(t, 0, sizeof *t);
}

/* '*' matches any run of bytes (none included); everything else one byte, ASCII-folded. */
static int glob(const char *p, const char *s)
{
    const char *star = NULL, *resume = NULL;
    while (*s) {
        if (*p == '*') {
            star = p++;
            resume = s;
        } else if (*p && ascii_fold((unsigned char)*p) == ascii_fold((unsigned char)*s)) {
            p++, s++;
        } else if (star) {
            p = star + 1;
            s = ++resume;
        } else {
            return 0;
        }
    }
    while (*p == '*')
        p++;
    return *p == '\0';
}

static int any_match(const struct target_strings *pats, const char *s)
{
    for (size_t i = 0; i < pats->n; i++)
        if (glob(pats->v[i], s)) return 1;
    return 0;
}

static int passes(const struct target_filter *f, const char *value)
{
    const char *s = value ? value : "";
    return (!f->include.n || any_match(&f->include, s)) && !any_match(&f->exclude, s);
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
