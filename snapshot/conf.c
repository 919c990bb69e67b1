/* conf.c - configuration files as checked cJSON trees (conf.h). */
#include "conf.h"

#include "buf.h"
#include "util.h"
#include "yamldoc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CONF_MAX_FILE ((size_t)1 << 20)
#define CONF_MAX_SECRET 8192

int conf_bad(const struct conf_at *a, const char *why)
{
    return err_set(a->e, ERR_INVALID, "%s: %s: %s", a->file, a->path, why);
}

struct conf_at conf_child(const struct conf_at *a, const char *key)
{
    struct conf_at c = *a;
    snprintf(c.path, sizeof c.path, "%s.%s", a->path, key);
    return c;
}

struct conf_at conf_item(const struct conf_at *a, int i)
{
    struct conf_at c = *a;
    snprintf(c.path, sizeof c.path, "%s[%d]", a->path, i);
    return c;
}

int conf_has_control(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f) return 1;
    return 0;
}

int conf_string(const struct conf_at *a, const cJSON *v, size_t max, char **out)
{
    if (!cJSON_IsString(v) || !v->valuestring[0]) return conf_bad(a, "must be a non-empty string");
    if (strlen(v->valuestring) > max) return conf_bad(a, "is too long");
    if (conf_has_control(v->valuestring)) return conf_bad(a, "must not hold control characters");
    *out = xstrdup(v->valuestring);
    return 0;
}

/* JSON booleans, or YAML's text true/false (yamldoc keeps scalars as text). */
int conf_bool(const struct conf_at *a, const cJSON *v, int *out)
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
    return conf_bad(a, "must be true or false");
}

int conf_seconds(const struct conf_at *a, const cJSON *v, long *out)
{
    char *end = NULL;
    double d = cJSON_IsNumber(v)   ? v->valuedouble
               : cJSON_IsString(v) ? strtod(v->valuestring, &end)
                                   : -1;
    if ((end && *end) || d < 1 || d > 300 || d != (double)(long)d)
        return conf_bad(a, "must be a whole number of seconds from 1 to 300");
    *out = (long)d;
    return 0;
}

void conf_push(struct conf_strings *s, char *v)
{
    s->v = xreallocarray(s->v, s->n + 1, sizeof *s->v);
    s->v[s->n++] = v;
}

void conf_strings_release(struct conf_strings *s, int secret)
{
    for (size_t i = 0; i < s->n; i++) {
        if (secret) memset(s->v[i], 0, strlen(s->v[i]));
        free(s->v[i]);
    }
    free(s->v);
    memset(s, 0, sizeof *s);
}

int conf_list(const struct conf_at *a, const cJSON *v, struct conf_strings *out)
{
    if (!cJSON_IsArray(v)) return conf_bad(a, "must be a list of strings");
    int i = 0;
    for (const cJSON *x = v->child; x; x = x->next, i++) {
        struct conf_at ai = conf_item(a, i);
        char *s = NULL;
        if (i >= 256) return conf_bad(a, "has more than 256 entries");
        if (conf_string(&ai, x, 1024, &s)) return -1;
        conf_push(out, s);
    }
    return 0;
}

/* A key written twice would make the value depend on the parser: refused. */
int conf_object(const struct conf_at *a, const cJSON *v)
{
    if (!cJSON_IsObject(v)) return conf_bad(a, "must be a mapping");
    for (const cJSON *x = v->child; x; x = x->next)
        for (const cJSON *y = v->child; y != x; y = y->next)
            if (!strcmp(x->string, y->string)) {
                struct conf_at c = conf_child(a, x->string);
                return conf_bad(&c, "is given twice");
            }
    return 0;
}

int conf_secret_file(const struct conf_at *a, const char *path, char **out)
{
    struct buf b = BUF_INIT(CONF_MAX_SECRET);
    if (buf_read_file(&b, path) != 0) {
        int errnum = errno;
        buf_release(&b);
        char why[300];
        snprintf(why, sizeof why, "cannot read %s: %s", path,
                 errnum == EFBIG ? "larger than 8 KiB" : strerror(errnum));
        return conf_bad(a, why);
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
    struct err yerr = {0};
    int rc = yamldoc_next(y, &doc, &yerr);
    if (rc < 0) err_set(e, ERR_INVALID, "%s: %s", path, yerr.msg);
    if (rc == 0) err_set(e, ERR_INVALID, "%s: empty", path);
    if (rc > 0 && yamldoc_next(y, &extra, &yerr) != 0) {
        err_set(e, ERR_INVALID, "%s: holds more than one YAML document", path);
        cJSON_Delete(doc);
        cJSON_Delete(extra);
        doc = NULL;
    }
    yamldoc_free(y);
    return doc;
}

cJSON *conf_load(const char *path, struct err *e)
{
    struct buf b = BUF_INIT(CONF_MAX_FILE);
    if (buf_read_file(&b, path) != 0) {
        int errnum = errno;
        buf_release(&b);
        err_set(e, ERR_IO, "%s: %s", path,
                errnum == EFBIG ? "larger than 1 MiB" : strerror(errnum));
        return NULL;
    }
    cJSON *doc = parse_text(path, b.ptr ? b.ptr : "", b.len, e);
    buf_release(&b);
    return doc;
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

int conf_match(const struct conf_strings *pats, const char *s)
{
    for (size_t i = 0; i < pats->n; i++)
        if (glob(pats->v[i], s)) return 1;
    return 0;
}
