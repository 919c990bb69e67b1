/* s3_creds.c - S3 credentials as AWS tools read them: the environment, else the shared
 * credentials file's profile (s3.h). */
#include "s3.h"

#include "err.h"

#include "buf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CREDS_FILE_MAX ((size_t)1 << 20)

/* Copies v into out (n bytes); -1 when it does not fit or holds a control character (a CR/LF
 * would forge a header). */
static int take(char *out, size_t n, const char *v, size_t len)
{
    if (len >= n) return -1;
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f) return -1;
    memcpy(out, v, len);
    out[len] = '\0';
    return 0;
}

static int from_env(struct s3_creds *c, const char *id, const char *secret, struct err *e)
{
    const char *token = getenv("AWS_SESSION_TOKEN");
    if (!token) token = "";
    if (take(c->key_id, sizeof c->key_id, id, strlen(id)) ||
        take(c->secret, sizeof c->secret, secret, strlen(secret)) ||
        take(c->token, sizeof c->token, token, strlen(token)))
        return err_set(e, ERR_INVALID,
                       "AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY or AWS_SESSION_TOKEN is too long "
                       "or holds a control character");
    snprintf(c->from, sizeof c->from, "the environment");
    return 0;
}

static const char *trim(const char *s, const char **end)
{
    while (s < *end && (*s == ' ' || *s == '\t'))
        s++;
    while (*end > s && ((*end)[-1] == ' ' || (*end)[-1] == '\t' || (*end)[-1] == '\r'))
        (*end)--;
    return s;
}

/* One "name = value" line of the profile: fills the field it names (others are ignored). */
static int profile_line(struct s3_creds *c, const char *p, const char *end)
{
    const char *eq = memchr(p, '=', (size_t)(end - p));
    if (!eq) return 0;
    const char *nend = eq, *v = eq + 1, *vend = end;
    const char *name = trim(p, &nend);
    v = trim(v, &vend);
    size_t nl = (size_t)(nend - name), vl = (size_t)(vend - v);
    if (nl == 17 && !strncmp(name, "aws_access_key_id", nl))
        return take(c->key_id, sizeof c->key_id, v, vl);
    if (nl == 21 && !strncmp(name, "aws_secret_access_key", nl))
        return take(c->secret, sizeof c->secret, v, vl);
    if (nl == 17 && !strncmp(name, "aws_session_token", nl))
        return take(c->token, sizeof c->token, v, vl);
    return 0;
}

static int from_file(struct s3_creds *c, const char *path, const char *profile, struct err *e)
{
    struct buf b = BUF_INIT(CREDS_FILE_MAX);
    if (buf_read_file(&b, path) != 0) {
        int er = errno;
        buf_release(&b);
        return err_set(e, ERR_INVALID,
                       "no S3 credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set "
                       "and %s cannot be read (%s)",
                       path, strerror(er));
    }
    int in = 0, found = 0, bad = 0;
    for (const char *p = b.ptr, *end = b.ptr + b.len; p < end && !bad;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p)), *le = nl ? nl : end;
        const char *s = trim(p, &le);
        if (s < le && *s == '[') {
            const char *close = memchr(s, ']', (size_t)(le - s));
            const char *ne = close ? close : le, *n = trim(s + 1, &ne);
            in = close && strlen(profile) == (size_t)(ne - n) &&
                 !strncmp(n, profile, strlen(profile));
            found |= in;
        } else if (in && s < le && *s != '#' && *s != ';') {
            bad = profile_line(c, s, le) != 0;
        }
        p = nl ? nl + 1 : end;
    }
    buf_release(&b);
    if (bad)
        return err_set(e, ERR_INVALID, "%s [%s]: a value is too long or holds a control character",
                       path, profile);
    if (!found) return err_set(e, ERR_INVALID, "%s: no profile [%s]", path, profile);
    if (!c->key_id[0] || !c->secret[0])
        return err_set(e, ERR_INVALID, "%s [%s]: needs aws_access_key_id and aws_secret_access_key",
                       path, profile);
    snprintf(c->from, sizeof c->from, "%s [%s]", path, profile);
    return 0;
}

int s3_creds_load(struct s3_creds *c, struct err *e)
{
    memset(c, 0, sizeof *c);
    const char *id = getenv("AWS_ACCESS_KEY_ID"), *secret = getenv("AWS_SECRET_ACCESS_KEY");
    if (id && *id && secret && *secret) return from_env(c, id, secret, e);
    const char *file = getenv("AWS_SHARED_CREDENTIALS_FILE"), *home = getenv("HOME");
    const char *profile = getenv("AWS_PROFILE");
    char path[4096];
    if (file && *file)
        snprintf(path, sizeof path, "%s", file);
    else
        snprintf(path, sizeof path, "%s/.aws/credentials", home && *home ? home : "");
    int rc = from_file(c, path, profile && *profile ? profile : "default", e);
    if (rc != 0) memset(c, 0, sizeof *c);
    return rc;
}
