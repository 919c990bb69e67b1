/* mail_conf.c - reads and checks the email reports file (mail.h). */
#include "mail.h"

#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAIL_MAX_REPORTS 64

/* An address as SMTP takes it: printable, one '@', no spaces or angle brackets. */
static int get_address(const struct conf_at *a, const cJSON *v, char **out)
{
    char *s;
    if (conf_string(a, v, 254, &s)) return -1;
    const char *at = strchr(s, '@');
    if (!at || at == s || !at[1] || strchr(at + 1, '@') || strpbrk(s, " <>,;\"")) {
        free(s);
        return conf_bad(a, "is not an email address");
    }
    *out = s;
    return 0;
}

static int get_pair(const struct conf_at *a, const cJSON *v, struct conf_strings *inc,
                    struct conf_strings *exc)
{
    if (conf_object(a, v)) return -1;
    for (const cJSON *x = v->child; x; x = x->next) {
        struct conf_at c = conf_child(a, x->string);
        if (!strcmp(x->string, "include")) {
            if (conf_list(&c, x, inc)) return -1;
        } else if (!strcmp(x->string, "exclude")) {
            if (conf_list(&c, x, exc)) return -1;
        } else {
            return conf_bad(&c, "unknown key: use include or exclude");
        }
    }
    return 0;
}

static int get_filter(const struct conf_at *a, const cJSON *v, struct mail_report *r)
{
    if (conf_object(a, v)) return -1;
    for (const cJSON *x = v->child; x; x = x->next) {
        struct conf_at c = conf_child(a, x->string);
        int rc = !strcmp(x->string, "namespaces") ? get_pair(&c, x, &r->ns_include, &r->ns_exclude)
                 : !strcmp(x->string, "sources") ? get_pair(&c, x, &r->src_include, &r->src_exclude)
                 : !strcmp(x->string, "clusterScope")
                     ? conf_bool(&c, x, &r->cluster_scope)
                     : conf_bad(&c, "unknown key: filters are namespaces, sources, clusterScope");
        if (rc) return -1;
    }
    return 0;
}

static int get_report(const struct conf_at *a, const cJSON *v, struct mail_report *r)
{
    r->cluster_scope = 1;
    r->violations = -1;
    if (conf_object(a, v)) return -1;
    for (const cJSON *x = v->child; x; x = x->next) {
        struct conf_at c = conf_child(a, x->string);
        int rc = 0;
        if (!strcmp(x->string, "name")) {
            rc = conf_string(&c, x, 64, &r->name);
        } else if (!strcmp(x->string, "type")) {
            const char *t = cJSON_GetStringValue(x);
            r->violations = t && !strcmp(t, "violations") ? 1 : t && !strcmp(t, "summary") ? 0 : -1;
            if (r->violations < 0) rc = conf_bad(&c, "must be summary or violations");
        } else if (!strcmp(x->string, "to")) {
            if (!cJSON_IsArray(x) || !x->child) rc = conf_bad(&c, "must be a list of addresses");
            int i = 0;
            for (const cJSON *y = x->child; y && !rc; y = y->next, i++) {
                struct conf_at ci = conf_item(&c, i);
                char *addr = NULL;
                if (i >= 100)
                    rc = conf_bad(&c, "has more than 100 addresses");
                else if (!(rc = get_address(&ci, y, &addr)))
                    conf_push(&r->to, addr);
            }
        } else if (!strcmp(x->string, "filter")) {
            rc = get_filter(&c, x, r);
        } else {
            rc = conf_bad(&c, "unknown key: a report has name, type, to and filter");
        }
        if (rc) return -1;
    }
    if (!r->name) return conf_bad(a, "has no name");
    if (r->violations < 0) return conf_bad(a, "has no type (summary or violations)");
    if (!r->to.n) return conf_bad(a, "has no recipients (to)");
    return 0;
}

static int get_smtp(const struct conf_at *a, const cJSON *v, struct mail_conf *c)
{
    if (conf_object(a, v)) return -1;
    char *password_file = NULL;
    int rc = 0;
    for (const cJSON *x = v->child; x && !rc; x = x->next) {
        struct conf_at k = conf_child(a, x->string);
        const char *n = x->string;
        rc = !strcmp(n, "url")            ? conf_string(&k, x, 2048, &c->url)
             : !strcmp(n, "from")         ? get_address(&k, x, &c->from)
             : !strcmp(n, "username")     ? conf_string(&k, x, 256, &c->username)
             : !strcmp(n, "passwordFile") ? conf_string(&k, x, 4096, &password_file)
             : !strcmp(n, "certificate")  ? conf_string(&k, x, 4096, &c->certificate)
             : !strcmp(n, "skipTLS")      ? conf_bool(&k, x, &c->skip_tls)
             : !strcmp(n, "timeout")      ? conf_seconds(&k, x, &c->timeout_s)
                                     : conf_bad(&k, "unknown key (see the README's reports file)");
    }
    struct conf_at u = conf_child(a, "url");
    if (!rc && !c->url) rc = conf_bad(a, "has no url");
    if (!rc && c->url && strncmp(c->url, "smtp://", 7) != 0 && strncmp(c->url, "smtps://", 8) != 0)
        rc = conf_bad(&u, "must be an smtp:// (STARTTLS) or smtps:// URL");
    if (!rc && !c->from) rc = conf_bad(a, "has no from address");
    if (!rc && !c->username != !password_file)
        rc = conf_bad(a, "username and passwordFile go together");
    if (!rc && password_file) {
        struct conf_at p = conf_child(a, "passwordFile");
        rc = conf_secret_file(&p, password_file, &c->password);
    }
    free(password_file);
    return rc;
}

static int parse(const struct conf_at *a, const cJSON *doc, struct mail_conf *c)
{
    if (conf_object(a, doc)) return -1;
    const cJSON *smtp = NULL, *reports = NULL;
    for (const cJSON *x = doc->child; x; x = x->next) {
        struct conf_at k = *a;
        snprintf(k.path, sizeof k.path, "%s", x->string);
        if (!strcmp(x->string, "smtp"))
            smtp = x;
        else if (!strcmp(x->string, "reports"))
            reports = x;
        else
            return conf_bad(&k, "unknown key: the file holds smtp and reports");
    }
    struct conf_at s = *a, r = *a;
    snprintf(s.path, sizeof s.path, "smtp");
    snprintf(r.path, sizeof r.path, "reports");
    if (!smtp) return conf_bad(&s, "missing");
    if (get_smtp(&s, smtp, c)) return -1;
    if (!reports || !cJSON_IsArray(reports) || !reports->child)
        return conf_bad(&r, "must be a list of reports");
    int n = cJSON_GetArraySize(reports), i = 0;
    if (n > MAIL_MAX_REPORTS) return conf_bad(&r, "holds more than 64 reports");
    c->reports = xcalloc((size_t)n, sizeof *c->reports);
    for (const cJSON *x = reports->child; x; x = x->next, i++) {
        struct conf_at ri = conf_item(&r, i);
        c->nreports++;
        if (get_report(&ri, x, &c->reports[i])) return -1;
        for (int j = 0; j < i; j++)
            if (!strcmp(c->reports[j].name, c->reports[i].name))
                return conf_bad(&ri, "repeats another report's name");
    }
    return 0;
}

int mail_conf_load(const char *path, struct mail_conf *out, struct err *e)
{
    memset(out, 0, sizeof *out);
    out->timeout_s = 30;
    cJSON *doc = conf_load(path, e);
    if (!doc) return -1;
    struct conf_at a = {path, "", e};
    int rc = parse(&a, doc, out);
    cJSON_Delete(doc);
    if (rc) mail_conf_release(out);
    return rc;
}

void mail_conf_release(struct mail_conf *c)
{
    for (size_t i = 0; i < c->nreports; i++) {
        struct mail_report *r = &c->reports[i];
        free(r->name);
        struct conf_strings *lists[] = {&r->to, &r->ns_include, &r->ns_exclude, &r->src_include,
                                        &r->src_exclude};
        for (size_t k = 0; k < ARRAY_LEN(lists); k++)
            conf_strings_release(lists[k], 0);
    }
    free(c->reports);
    if (c->password) memset(c->password, 0, strlen(c->password));
    free(c->password);
    free(c->url), free(c->from), free(c->username), free(c->certificate);
    memset(c, 0, sizeof *c);
}
