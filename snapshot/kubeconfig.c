/* kubeconfig.c - reads a kubeconfig (libyaml) or the pod's service account into a kube_target. */
#include "kubeconfig.h"

#include "err.h"

#include "buf.h"
#include "util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#define KUBECONFIG_MAX_BYTES ((size_t)4 << 20)
#define SECRET_MAX_BYTES ((size_t)64 << 10) /* a token file */
#define PEM_MAX_BYTES ((size_t)1 << 20)     /* a CA bundle read in-cluster */

/* Reads a whole file of at most max bytes into *out (NUL-terminated; the caller frees). */
static int read_capped(const char *path, size_t max, char **out, size_t *len, struct err *e)
{
    struct buf b = BUF_INIT(max);
    if (buf_read_file(&b, path) != 0) {
        int no = errno;
        buf_release(&b);
        if (no == EFBIG) return err_set(e, ERR_INVALID, "%s is larger than %zu bytes", path, max);
        return err_set(e, ERR_IO, "cannot read %s: %s", path, strerror(no));
    }
    *out = buf_detach(&b, len);
    return 0;
}

/* A token file's content without its trailing newline or blanks. */
static int read_token(const char *path, char **out, struct err *e)
{
    size_t len = 0;
    if (read_capped(path, SECRET_MAX_BYTES, out, &len, e)) return -1;
    while (len && strchr(" \t\r\n", (*out)[len - 1]))
        (*out)[--len] = '\0';
    if (len == 0 || strlen(*out) != len) {
        free(*out);
        *out = NULL;
        return err_set(e, ERR_INVALID, "the token file %s is empty or not text", path);
    }
    return 0;
}

static int b64_value(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

/* Standard base64 (whitespace skipped, padding optional) into a NUL-terminated string;
 * NULL when s is not base64 or decodes to something holding a NUL (PEM never does). */
static char *b64_decode(const char *s)
{
    size_t n = strlen(s);
    char *out = xmalloc(n / 4 * 3 + 4);
    size_t len = 0;
    unsigned acc = 0;
    int bits = 0, pad = 0;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (strchr(" \t\r\n", c)) continue;
        if (c == '=') {
            pad++;
            continue;
        }
        int v = b64_value(c);
        if (v < 0 || pad) goto bad;
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[len++] = (char)((acc >> bits) & 0xff);
        }
    }
    if (pad > 2 || bits >= 6 || memchr(out, '\0', len)) goto bad;
    out[len] = '\0';
    return out;
bad:
    free(out);
    return NULL;
}

/* ---- the YAML tree ---- */

struct kc {
    yaml_document_t doc;
    const char *path;
    char *dir; /* the kubeconfig's directory, for relative paths */
};

/* A scalar's text, or NULL for anything else and for YAML's null spellings. */
static const char *scalar(const yaml_node_t *n)
{
    if (!n || n->type != YAML_SCALAR_NODE) return NULL;
    const char *v = (const char *)n->data.scalar.value;
    if (strlen(v) != n->data.scalar.length) return NULL; /* an escaped NUL inside */
    if (n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
        (!*v || !strcmp(v, "~") || !ascii_casecmp(v, "null")))
        return NULL;
    return v;
}

static yaml_node_t *map_get(struct kc *kc, yaml_node_t *map, const char *key)
{
    if (!map || map->type != YAML_MAPPING_NODE) return NULL;
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        const char *k = scalar(yaml_document_get_node(&kc->doc, p->key));
        if (k && !strcmp(k, key)) return yaml_document_get_node(&kc->doc, p->value);
    }
    return NULL;
}

static const char *map_str(struct kc *kc, yaml_node_t *map, const char *key)
{
    return scalar(map_get(kc, map, key));
}

/* The `what` map (cluster, context, user) of the entry called name in the list `list`.
 * On failure err lists the names that exist, so a typo is obvious. */
static yaml_node_t *named(struct kc *kc, const char *list, const char *what, const char *name,
                          struct err *e)
{
    yaml_node_t *seq = map_get(kc, yaml_document_get_root_node(&kc->doc), list);
    struct buf names = BUF_INIT(200);
    if (seq && seq->type == YAML_SEQUENCE_NODE) {
        for (yaml_node_item_t *i = seq->data.sequence.items.start; i < seq->data.sequence.items.top;
             i++) {
            yaml_node_t *entry = yaml_document_get_node(&kc->doc, *i);
            const char *n = map_str(kc, entry, "name");
            if (!n) continue;
            if (!strcmp(n, name)) {
                yaml_node_t *m = map_get(kc, entry, what);
                buf_release(&names);
                if (m && m->type == YAML_MAPPING_NODE) return m;
                err_set(e, ERR_INVALID, "kubeconfig %s: %s \"%s\" has no %s section", kc->path,
                        what, name, what);
                return NULL;
            }
            buf_printf(&names, "%s\"%s\"", names.len ? ", " : "", n);
        }
    }
    err_set(e, ERR_INVALID, "kubeconfig %s: no %s named \"%s\" (%s: %s)", kc->path, what, name,
            list, names.len ? names.ptr : "none");
    buf_release(&names);
    return NULL;
}

static char *resolve(struct kc *kc, const char *p)
{
    if (p[0] == '/') return xstrdup(p);
    struct buf b = BUF_INIT((size_t)-1);
    buf_printf(&b, "%s/%s", kc->dir, p);
    return buf_detach(&b, NULL);
}

/* Fields that change how we would connect or authenticate: refused, never ignored. */
static int refuse_unsupported(struct kc *kc, yaml_node_t *map, const char *section,
                              const char *const *keys, struct err *e)
{
    for (; *keys; keys++)
        if (map_get(kc, map, *keys))
            return err_set(e, ERR_INVALID,
                           "kubeconfig %s: %s uses '%s', which polsnap does not support "
                           "(supported: a token, tokenFile or client certificate, and a CA)",
                           kc->path, section, *keys);
    return 0;
}

/* A "*-data" field (base64 PEM) wins over its file twin, as in kubectl. */
static int pem_or_file(struct kc *kc, yaml_node_t *map, const char *key, char **pem, char **file,
                       struct err *e)
{
    char data_key[64];
    snprintf(data_key, sizeof data_key, "%s-data", key);
    const char *data = map_str(kc, map, data_key);
    const char *path = map_str(kc, map, key);
    if (data) {
        *pem = b64_decode(data);
        if (!*pem)
            return err_set(e, ERR_INVALID, "kubeconfig %s: %s is not valid base64", kc->path,
                           data_key);
    } else if (path) {
        *file = resolve(kc, path);
    }
    return 0;
}

static int parse_bool(struct kc *kc, yaml_node_t *map, const char *key, int *out, struct err *e)
{
    const char *v = map_str(kc, map, key);
    *out = 0;
    if (!v || !strcmp(v, "false") || !strcmp(v, "False") || !strcmp(v, "FALSE")) return 0;
    if (!strcmp(v, "true") || !strcmp(v, "True") || !strcmp(v, "TRUE")) {
        *out = 1;
        return 0;
    }
    return err_set(e, ERR_INVALID, "kubeconfig %s: %s must be true or false, not \"%s\"", kc->path,
                   key, v);
}

static int load_cluster(struct kc *kc, yaml_node_t *cluster, const char *name,
                        struct kube_target *t, struct err *e)
{
    static const char *const unsupported[] = {"proxy-url", "tls-server-name", NULL};
    char section[128];
    snprintf(section, sizeof section, "cluster \"%s\"", name);
    if (refuse_unsupported(kc, cluster, section, unsupported, e)) return -1;
    const char *server = map_str(kc, cluster, "server");
    if (!server || (strncmp(server, "https://", 8) != 0 && strncmp(server, "http://", 7) != 0))
        return err_set(e, ERR_INVALID,
                       "kubeconfig %s: cluster \"%s\" needs a server https://HOST[:PORT]", kc->path,
                       name);
    t->server = xstrdup(server);
    for (size_t n = strlen(t->server); n > 8 && t->server[n - 1] == '/'; n--)
        t->server[n - 1] = '\0';
    if (parse_bool(kc, cluster, "insecure-skip-tls-verify", &t->insecure, e)) return -1;
    return pem_or_file(kc, cluster, "certificate-authority", &t->ca_pem, &t->ca_file, e);
}

static int load_user(struct kc *kc, yaml_node_t *user, const char *name, struct kube_target *t,
                     struct err *e)
{
    static const char *const unsupported[] = {"exec", "auth-provider", "username",  "password",
                                              "as",   "as-uid",        "as-groups", NULL};
    char section[128];
    snprintf(section, sizeof section, "user \"%s\"", name);
    if (refuse_unsupported(kc, user, section, unsupported, e)) return -1;
    if (pem_or_file(kc, user, "client-certificate", &t->cert_pem, &t->cert_file, e) ||
        pem_or_file(kc, user, "client-key", &t->key_pem, &t->key_file, e))
        return -1;
    if (!(t->cert_pem || t->cert_file) != !(t->key_pem || t->key_file))
        return err_set(e, ERR_INVALID,
                       "kubeconfig %s: user \"%s\" has a client certificate without its key "
                       "(or a key without its certificate)",
                       kc->path, name);
    const char *token = map_str(kc, user, "token");
    const char *token_file = map_str(kc, user, "tokenFile");
    if (token) {
        t->token = xstrdup(token);
    } else if (token_file) {
        char *p = resolve(kc, token_file);
        int rc = read_token(p, &t->token, e);
        free(p);
        if (rc) return -1;
    }
    if (!t->token && !t->cert_pem && !t->cert_file)
        return err_set(e, ERR_INVALID,
                       "kubeconfig %s: user \"%s\" has no credentials (token, tokenFile or "
                       "client-certificate)",
                       kc->path, name);
    return 0;
}

static int load_doc(struct kc *kc, const char *context, struct kube_target *t, struct err *e)
{
    yaml_node_t *root = yaml_document_get_root_node(&kc->doc);
    if (!root || root->type != YAML_MAPPING_NODE)
        return err_set(e, ERR_INVALID, "kubeconfig %s: not a kubeconfig (expected a YAML mapping)",
                       kc->path);
    if (!context || !*context) context = map_str(kc, root, "current-context");
    if (!context)
        return err_set(e, ERR_INVALID,
                       "kubeconfig %s: no current-context; choose one with --context", kc->path);
    yaml_node_t *ctx = named(kc, "contexts", "context", context, e);
    if (!ctx) return -1;
    const char *cluster_name = map_str(kc, ctx, "cluster");
    const char *user_name = map_str(kc, ctx, "user");
    if (!cluster_name || !user_name)
        return err_set(e, ERR_INVALID,
                       "kubeconfig %s: context \"%s\" needs both a cluster and a user", kc->path,
                       context);
    yaml_node_t *cluster = named(kc, "clusters", "cluster", cluster_name, e);
    if (!cluster || load_cluster(kc, cluster, cluster_name, t, e)) return -1;
    yaml_node_t *user = named(kc, "users", "user", user_name, e);
    if (!user || load_user(kc, user, user_name, t, e)) return -1;
    struct buf w = BUF_INIT(4096);
    buf_printf(&w, "kubeconfig %s, context \"%s\"", kc->path, context);
    t->where = buf_detach(&w, NULL);
    return 0;
}

int kubeconfig_load(const char *path, const char *context, struct kube_target *out, struct err *e)
{
    memset(out, 0, sizeof *out);
    char *text = NULL;
    size_t len = 0;
    if (read_capped(path, KUBECONFIG_MAX_BYTES, &text, &len, e)) return -1;

    struct kc kc = {.path = path};
    const char *slash = strrchr(path, '/');
    kc.dir = slash ? xstrndup(path, slash == path ? 1 : (size_t)(slash - path)) : xstrdup(".");
    yaml_parser_t parser;
    int rc = -1;
    if (!yaml_parser_initialize(&parser)) {
        err_set(e, ERR_INVALID, "kubeconfig %s: cannot initialise the YAML parser", path);
        goto out_text;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, &kc.doc)) {
        err_set(e, ERR_INVALID, "kubeconfig %s: invalid YAML at line %lu: %s", path,
                (unsigned long)parser.problem_mark.line + 1,
                parser.problem ? parser.problem : "parse error");
        goto out_parser;
    }
    rc = load_doc(&kc, context, out, e);
    yaml_document_delete(&kc.doc);
out_parser:
    yaml_parser_delete(&parser);
out_text:
    if (text) explicit_bzero(text, len); /* it may hold a token or a private key */
    free(text);
    free(kc.dir);
    if (rc) kube_target_release(out);
    return rc;
}

int kubeconfig_in_cluster(struct kube_target *out, struct err *e)
{
    memset(out, 0, sizeof *out);
    const char *host = getenv("KUBERNETES_SERVICE_HOST");
    const char *port = getenv("KUBERNETES_SERVICE_PORT");
    if (!host || !*host)
        return err_set(e, ERR_INVALID,
                       "not running inside a pod (KUBERNETES_SERVICE_HOST is not set): "
                       "give a kubeconfig with --source kubernetes:PATH or KUBECONFIG");
    if (!port || !*port || strspn(port, "0123456789") != strlen(port) || strlen(port) > 5)
        return err_set(e, ERR_INVALID, "in-cluster: KUBERNETES_SERVICE_PORT must be a port number");
    if (strpbrk(host, "/@?# \t\r\n"))
        return err_set(e, ERR_INVALID,
                       "in-cluster: KUBERNETES_SERVICE_HOST \"%s\" is not a host name", host);
    const char *dir = getenv("POLSNAP_SERVICEACCOUNT_DIR");
    if (!dir || !*dir) dir = KUBECONFIG_SA_DIR;

    struct buf b = BUF_INIT((size_t)-1);
    int v6 = strchr(host, ':') != NULL;
    buf_printf(&b, "https://%s%s%s:%s", v6 ? "[" : "", host, v6 ? "]" : "", port);
    out->server = buf_detach(&b, NULL);
    buf_printf(&b, "%s/token", dir);
    char *token_path = buf_detach(&b, NULL);
    int rc = read_token(token_path, &out->token, e);
    free(token_path);
    if (rc) {
        kube_target_release(out);
        return -1;
    }
    buf_printf(&b, "%s/ca.crt", dir);
    out->ca_file = buf_detach(&b, NULL);
    /* Check the CA now: curl's own message for a missing file does not say which one. */
    char *ca = NULL;
    size_t ca_len = 0;
    if (read_capped(out->ca_file, PEM_MAX_BYTES, &ca, &ca_len, e)) {
        kube_target_release(out);
        return -1;
    }
    free(ca);
    buf_printf(&b, "in-cluster service account %s, API server %s", dir, out->server);
    out->where = buf_detach(&b, NULL);
    return 0;
}

static void wipe_free(char *s)
{
    if (s) explicit_bzero(s, strlen(s));
    free(s);
}

void kube_target_release(struct kube_target *t)
{
    if (!t) return;
    free(t->server);
    free(t->ca_file);
    free(t->ca_pem);
    free(t->cert_file);
    free(t->cert_pem);
    free(t->key_file);
    wipe_free(t->key_pem);
    wipe_free(t->token);
    free(t->where);
    memset(t, 0, sizeof *t);
}

void kube_target_http_conf(const struct kube_target *t, struct http_conf *conf)
{
    conf->ca_file = t->ca_file;
    conf->ca_pem = t->ca_pem;
    conf->ca_pem_len = t->ca_pem ? strlen(t->ca_pem) : 0;
    conf->insecure = t->insecure;
    conf->cert_file = t->cert_file;
    conf->cert_pem = t->cert_pem;
    conf->cert_pem_len = t->cert_pem ? strlen(t->cert_pem) : 0;
    conf->key_file = t->key_file;
    conf->key_pem = t->key_pem;
    conf->key_pem_len = t->key_pem ? strlen(t->key_pem) : 0;
    conf->bearer_token = t->token;
}
