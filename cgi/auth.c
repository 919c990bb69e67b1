/* auth.c - the tokens file and the bearer-token check (auth.h). */
#include "auth.h"

#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

void auth_tokens_release(struct auth_tokens *t)
{
    for (size_t i = 0; i < t->n; i++) {
        free(t->v[i].name);
        for (size_t k = 0; k < t->v[i].nnamespaces; k++)
            free(t->v[i].namespaces[k]);
        free(t->v[i].namespaces);
    }
    free(t->v);
    t->v = NULL;
    t->n = 0;
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int parse_hex(const char *s, size_t n, unsigned char digest[32])
{
    if (n != 64) return -1;
    for (size_t i = 0; i < 64; i++) {
        char c = s[i];
        int v = is_digit(c) ? c - '0' : (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
        if (v < 0) return -1;
        if (i % 2)
            digest[i / 2] = (unsigned char)(digest[i / 2] | v);
        else
            digest[i / 2] = (unsigned char)(v << 4);
    }
    return 0;
}

static int parse_namespaces(const char *s, size_t n, struct auth_token *t, int line,
                            struct err *err)
{
    for (size_t i = 0; i <= n; i++) {
        size_t start = i;
        while (i < n && s[i] != ',')
            i++;
        if (!dns_label(s + start, i - start)) {
            err_set(err, ERR_INVALID,
                    "line %d: \"%.*s\" in the namespace list is not a namespace name (1-63 of "
                    "a-z, 0-9 and -, comma-separated without spaces)",
                    line, (int)(i - start > 80 ? 80 : i - start), s + start);
            return -1;
        }
        t->namespaces = xreallocarray(t->namespaces, t->nnamespaces + 1, sizeof *t->namespaces);
        t->namespaces[t->nnamespaces++] = xstrndup(s + start, i - start);
    }
    return 0;
}

/* Parses one token line (NUL-free, n bytes, not a comment) into *t. */
static int parse_line(const char *s, size_t n, struct auth_token *t, int line, struct err *err)
{
    const char *f[6];
    size_t fn[6], nf = 0;
    for (size_t i = 0; i < n;) {
        while (i < n && (s[i] == ' ' || s[i] == '\t'))
            i++;
        if (i == n) break;
        if (nf == 6) break;
        f[nf] = s + i;
        while (i < n && s[i] != ' ' && s[i] != '\t')
            i++;
        fn[nf] = (size_t)(s + i - f[nf]);
        nf++;
    }
    if (nf < 4 || nf > 5)
        return err_set(err, ERR_INVALID,
                       "line %d: %s%d field%s where SHA256HEX NAME ROLE EXPIRES [NAMESPACES] "
                       "belong",
                       line, nf > 5 ? "more than " : "", nf > 5 ? 5 : (int)nf, nf == 1 ? "" : "s");
    if (parse_hex(f[0], fn[0], t->digest) != 0)
        return err_set(err, ERR_INVALID,
                       "line %d: the first field must be the token's SHA-256 as 64 lower-case "
                       "hex digits (cgi/new-token.sh prints it)",
                       line);
    int printable = fn[1] <= AUTH_NAME_MAX;
    for (size_t i = 0; printable && i < fn[1]; i++)
        printable = f[1][i] > ' ' && f[1][i] < 0x7f;
    if (!printable)
        return err_set(err, ERR_INVALID, "line %d: NAME must be 1-%d printable ASCII characters",
                       line, AUTH_NAME_MAX);
    int r = API_ADMIN;
    while (r < API_NROLES &&
           !(strlen(api_role_names[r]) == fn[2] && !memcmp(api_role_names[r], f[2], fn[2])))
        r++;
    if (r == API_NROLES)
        return err_set(err, ERR_INVALID, "line %d: role \"%.*s\" is not Admin, Reader or Metrics",
                       line, (int)(fn[2] > 40 ? 40 : fn[2]), f[2]);
    t->role = (enum api_role)r;
    char when[64];
    if (fn[3] == 1 && f[3][0] == '-') {
        t->expires = AUTH_NEVER;
    } else if (fn[3] >= sizeof when ||
               (memcpy(when, f[3], fn[3]), when[fn[3]] = '\0', rfc3339_parse(when, &t->expires))) {
        return err_set(err, ERR_INVALID,
                       "line %d: expiry \"%.*s\" is not an RFC 3339 time "
                       "(like 2027-01-31T00:00:00Z) or -",
                       line, (int)(fn[3] > 40 ? 40 : fn[3]), f[3]);
    }
    if (nf == 5 && parse_namespaces(f[4], fn[4], t, line, err)) return -1;
    t->name = xstrndup(f[1], fn[1]);
    return 0;
}

int auth_tokens_parse(const char *text, size_t len, struct auth_tokens *out, struct err *err)
{
    struct auth_tokens t = {NULL, 0};
    int line = 0;
    if (len > AUTH_FILE_MAX) {
        err_set(err, ERR_INVALID, "larger than %lu bytes", (unsigned long)AUTH_FILE_MAX);
        goto bad;
    }
    for (size_t pos = 0; pos < len;) {
        const char *s = text + pos, *nl = memchr(s, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - s) : len - pos;
        pos += n + (nl != NULL);
        line++;
        if (n > AUTH_LINE_MAX) {
            err_set(err, ERR_INVALID, "line %d is longer than %d bytes", line, AUTH_LINE_MAX);
            goto bad;
        }
        if (memchr(s, '\0', n)) {
            err_set(err, ERR_INVALID, "line %d holds a NUL byte", line);
            goto bad;
        }
        if (n && s[n - 1] == '\r') n--; /* CRLF files */
        size_t i = 0;
        while (i < n && (s[i] == ' ' || s[i] == '\t'))
            i++;
        if (i == n || s[i] == '#') continue;
        if (t.n == AUTH_TOKENS_MAX) {
            err_set(err, ERR_INVALID, "more than %d tokens", AUTH_TOKENS_MAX);
            goto bad;
        }
        t.v = xreallocarray(t.v, t.n + 1, sizeof *t.v);
        struct auth_token *tok = &t.v[t.n++];
        memset(tok, 0, sizeof *tok);
        if (parse_line(s, n, tok, line, err)) goto bad;
        for (size_t k = 0; k + 1 < t.n; k++) {
            if (!memcmp(t.v[k].digest, tok->digest, sizeof tok->digest)) {
                err_set(err, ERR_INVALID, "line %d: the same token hash as token \"%s\" before it",
                        line, t.v[k].name);
                goto bad;
            }
        }
    }
    *out = t;
    return 0;
bad:
    auth_tokens_release(&t);
    *out = t;
    return -1;
}

void auth_init(struct auth *a, const char *path)
{
    memset(a, 0, sizeof *a);
    snprintf(a->path, sizeof a->path, "%s", path);
}

void auth_release(struct auth *a)
{
    auth_tokens_release(&a->tokens);
    a->loaded = a->usable = 0;
}

/* Reads and parses the open file fd into a->tokens; 0, or -1 with a->err set. */
static int load(struct auth *a, int fd, const struct stat *st)
{
    if (!S_ISREG(st->st_mode)) return err_set(&a->err, ERR_IO, "%s is not a regular file", a->path);
    if (st->st_mode & S_IWOTH)
        return err_set(&a->err, ERR_IO,
                       "%s is writable by every user (anyone could add a token): chmod o-w",
                       a->path);
    if ((size_t)st->st_size > AUTH_FILE_MAX)
        return err_set(&a->err, ERR_IO, "%s is larger than %lu bytes", a->path,
                       (unsigned long)AUTH_FILE_MAX);
    char *text = xmalloc(AUTH_FILE_MAX + 1);
    size_t len = 0;
    ssize_t n = 0;
    while (len <= AUTH_FILE_MAX &&
           ((n = read(fd, text + len, AUTH_FILE_MAX + 1 - len)) > 0 || (n < 0 && errno == EINTR)))
        if (n > 0) len += (size_t)n;
    int rc = -1;
    if (n < 0)
        err_set(&a->err, ERR_IO, "cannot read %s: %s", a->path, strerror(errno));
    else if (auth_tokens_parse(text, len, &a->tokens, &a->err) == 0)
        rc = 0;
    else
        err_prefix(&a->err, "%s: ", a->path);
    free(text);
    return rc;
}

void auth_refresh(struct auth *a)
{
    struct stat st;
    int errnum = stat(a->path, &st) == 0 ? 0 : errno;
    if (a->loaded && errnum == a->errnum &&
        (errnum ||
         (st.st_dev == a->dev && st.st_ino == a->ino && st.st_size == a->size &&
          st.st_mtim.tv_sec == a->mtime.tv_sec && st.st_mtim.tv_nsec == a->mtime.tv_nsec &&
          st.st_ctim.tv_sec == a->ctime.tv_sec && st.st_ctim.tv_nsec == a->ctime.tv_nsec)))
        return;
    auth_tokens_release(&a->tokens);
    a->loaded = 1;
    a->usable = 0;
    a->errnum = errnum;
    if (errnum) {
        err_set(&a->err, ERR_IO, "cannot read %s: %s", a->path, strerror(errnum));
    } else {
        /* the identity stat() saw; a change after it is noticed on the next request */
        a->dev = st.st_dev;
        a->ino = st.st_ino;
        a->size = st.st_size;
        a->mtime = st.st_mtim;
        a->ctime = st.st_ctim;
        int fd = open(a->path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            err_set(&a->err, ERR_IO, "cannot open %s: %s", a->path, strerror(errno));
        } else {
            a->usable = fstat(fd, &st) == 0 && load(a, fd, &st) == 0;
            close(fd);
        }
    }
    if (a->usable)
        fprintf(stderr, "polsnap-fcgi: tokens file %s: %lu token%s\n", a->path,
                (unsigned long)a->tokens.n, a->tokens.n == 1 ? "" : "s");
    else
        fprintf(stderr,
                "polsnap-fcgi: tokens file unusable, answering 503 to every request "
                "but /healthz, /ready and /v1/ping: %s\n",
                a->err.msg);
}

/* The token of an "Authorization: Bearer TOKEN" header, its length in *n; NULL when the
 * header is absent, empty or of another scheme. */
static const char *bearer(const char *h, size_t *n)
{
    if (!h || strncasecmp(h, "Bearer", 6) != 0 || (h[6] != ' ' && h[6] != '\t')) return NULL;
    h += 6;
    while (*h == ' ' || *h == '\t')
        h++;
    size_t len = strlen(h);
    while (len && (h[len - 1] == ' ' || h[len - 1] == '\t'))
        len--;
    *n = len;
    return len ? h : NULL;
}

/* The token whose SHA-256 is that of token[0..n); NULL when none. */
static const struct auth_token *find_token(const struct auth *a, const char *token, size_t n,
                                           struct err *e)
{
    unsigned char digest[32];
    unsigned int dn = 0;
    if (!EVP_Digest(token, n, digest, &dn, EVP_sha256(), NULL) || dn != sizeof digest) {
        err_set(e, ERR_INTERNAL, "cannot hash the token");
        return NULL;
    }
    /* compare against every token, in constant time, so timing tells nothing about the file */
    const struct auth_token *t = NULL;
    for (size_t i = 0; i < a->tokens.n; i++)
        if (CRYPTO_memcmp(a->tokens.v[i].digest, digest, sizeof digest) == 0) t = &a->tokens.v[i];
    if (!t) err_set(e, ERR_UNAUTHENTICATED, "invalid token");
    return t;
}

int auth_check(const struct auth *a, const char *path, const char *authorization, int64_t now,
               struct api_view *view, struct err *e)
{
    memset(view, 0, sizeof *view);
    view->auth = 1;
    const struct api_endpoint *ep = api_endpoint_find(path, NULL);
    if (ep && ep->public) return 0;
    if (!a->usable)
        return err_set(e, ERR_UNAVAILABLE,
                       "authentication is unavailable: the server's tokens file cannot be used "
                       "(its log says why); nothing is served until it is fixed");
    size_t n = 0;
    const char *token = bearer(authorization, &n);
    if (!token)
        return err_set(e, ERR_UNAUTHENTICATED, "%s",
                       authorization && *authorization
                           ? "unsupported authorization: send the header Authorization: Bearer "
                             "TOKEN"
                           : "no token: send the header Authorization: Bearer TOKEN");
    const struct auth_token *t = find_token(a, token, n, e);
    if (!t) return -1;
    if (t->expires != AUTH_NEVER && now >= t->expires) {
        char when[21];
        rfc3339_utc(t->expires, when);
        return err_set(e, ERR_UNAUTHENTICATED, "token \"%s\" expired at %s", t->name, when);
    }
    /* only Metrics is ever refused here, and then everything but what its rows allow */
    if (!((ep ? ep->roles : API_ROLES_UNKNOWN) & API_ROLE(t->role)))
        return err_set(e, ERR_FORBIDDEN, "token \"%s\" has role Metrics: it may read /metrics only",
                       t->name);
    view->token_name = t->name;
    view->role = t->role;
    view->expires = t->expires == AUTH_NEVER ? 0 : t->expires;
    view->namespaces = (const char *const *)t->namespaces;
    view->nnamespaces = t->nnamespaces;
    return 0;
}
