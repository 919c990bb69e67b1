/* edges_pull.c - the transports of one edge's pull (edges_int.h): an edge's API over HTTPS
 * (a conditional GET of /v1/fleet/export), what an edge published to S3 (its pointer, then
 * its export) and an edge's data directory on this machine. */
#include "edges_int.h"

#include "buf.h"
#include "fleet.h"
#include "s3.h"
#include "util.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define FLEET_BODY_MAX ((size_t)1 << 30) /* bytes of one pulled export */
#define TOKEN_MAX 8192

/* Writes n bytes to j->tmp_path (fsync'ed); a failure is the central's own: fatal. */
static int write_tmp(struct fleet_job *j, const char *data, size_t n)
{
    int fd = open(j->tmp_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int failed = fd < 0 ? errno : 0;
    while (!failed && n) {
        ssize_t w = write(fd, data, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0)
            failed = errno ? errno : EIO;
        else
            data += w, n -= (size_t)w;
    }
    if (fd >= 0 && !failed && fsync(fd) != 0) failed = errno;
    if (fd >= 0 && close(fd) != 0 && !failed) failed = errno;
    if (!failed) return 0;
    j->fatal = 1;
    return err_set(&j->e, ERR_IO, "%s: %s", j->tmp_path, strerror(failed));
}

/* The first line of a token file, blanks trimmed; the buffer is wiped by the caller. */
static int read_token(const char *path, struct buf *tok, struct err *e)
{
    if (buf_read_file(tok, path) != 0)
        return err_set(e, ERR_INVALID, "token file %s: %s", path,
                       errno == EFBIG ? "longer than 8 KiB" : strerror(errno));
    char *p = tok->ptr ? tok->ptr : "";
    char *nl = strpbrk(p, "\r\n");
    if (nl) *nl = '\0';
    size_t n = strlen(p);
    while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
        p[--n] = '\0';
    if (!n) return err_set(e, ERR_INVALID, "token file %s is empty", path);
    return 0;
}

/* A refusal's reason: the API error object's message when the body is one. */
static void refusal(struct fleet_job *j, const char *url, const struct http_response *r)
{
    cJSON *o = cJSON_ParseWithLength(r->body.ptr ? r->body.ptr : "", r->body.len);
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(o, "message");
    err_set(&j->e, ERR_UPSTREAM, "GET %s: HTTP %ld%s%.200s", url, r->status,
            cJSON_IsString(m) ? ": " : "", cJSON_IsString(m) ? m->valuestring : "");
    cJSON_Delete(o);
}

static int pull_https(struct fleet_job *j)
{
    const struct fleet_edge *ed = j->edge;
    const char *token_file = ed->credentials ? ed->credentials : j->o->token_file;
    struct buf tok = BUF_INIT(TOKEN_MAX), url = BUF_INIT(4096), inm = BUF_INIT(HTTP_ETAG_MAX + 32);
    int rc = token_file ? read_token(token_file, &tok, &j->e) : 0;
    size_t n = strlen(ed->location);
    while (n && ed->location[n - 1] == '/')
        n--;
    buf_add(&url, ed->location, n);
    buf_puts(&url, "/v1/fleet/export");
    struct http_conf conf = {.ca_file = ed->ca ? ed->ca : j->o->ca,
                             .bearer_token = token_file ? tok.ptr : NULL,
                             .accept = FLEET_CONTENT_TYPE,
                             .timeout_ms = j->o->timeout_seconds * 1000,
                             .max_body = FLEET_BODY_MAX};
    struct http_client *c = rc == 0 ? http_client_new(&conf, &j->e) : NULL;
    if (tok.ptr) memset(tok.ptr, 0, tok.len);
    buf_release(&tok);
    if (!c) rc = -1;
    const char *headers[2] = {NULL, NULL};
    if (j->have_copy && j->st.etag[0]) {
        buf_printf(&inm, "If-None-Match: %s", j->st.etag);
        headers[0] = inm.ptr;
    }
    struct http_response r = {0};
    if (rc == 0) rc = http_request(c, "GET", url.ptr, url.ptr, NULL, headers, &r, &j->e);
    if (rc == 0) {
        j->bytes = r.body.len;
        if (r.status == 304 && j->have_copy)
            j->unchanged = 1;
        else if (r.status == 200)
            rc = write_tmp(j, r.body.ptr ? r.body.ptr : "", r.body.len);
        else
            rc = -1, refusal(j, url.ptr, &r);
        if (rc == 0 && !j->unchanged) snprintf(j->st.etag, sizeof j->st.etag, "%s", r.etag);
    }
    http_response_release(&r);
    http_client_free(c);
    buf_release(&url);
    buf_release(&inm);
    return rc;
}

/* A data directory on this machine: its `current` names the snapshot (the "ETag"). */
static int pull_dir(struct fleet_job *j)
{
    const char *dir = j->edge->location;
    char link[PATH_MAX], target[PATH_MAX], src[PATH_MAX * 2];
    snprintf(link, sizeof link, "%s/current", dir);
    ssize_t n = readlink(link, target, sizeof target - 1);
    if (n <= 0)
        return err_set(&j->e, ERR_UPSTREAM, "%s: %s (no snapshot yet?)", link,
                       n < 0 ? strerror(errno) : "empty link");
    target[n] = '\0';
    const char *id = strrchr(target, '/') ? strrchr(target, '/') + 1 : target;
    if (j->have_copy && strcmp(id, j->st.etag) == 0) {
        j->unchanged = 1;
        return 0;
    }
    snprintf(src, sizeof src, "%s/%s/%s", dir, target[0] == '/' ? "" : target, FLEET_FILE);
    if (target[0] == '/') snprintf(src, sizeof src, "%s/%s", target, FLEET_FILE);
    struct buf b = BUF_INIT(FLEET_BODY_MAX);
    int rc = 0;
    if (buf_read_file(&b, src) != 0)
        rc = err_set(&j->e, ERR_UPSTREAM, "%s: %s", src,
                     errno == EFBIG ? "larger than 1 GiB" : strerror(errno));
    if (rc == 0) {
        j->bytes = b.len;
        rc = write_tmp(j, b.ptr ? b.ptr : "", b.len);
    }
    if (rc == 0) snprintf(j->st.etag, sizeof j->st.etag, "%s", id);
    buf_release(&b);
    return rc;
}

/* The snapshot id of an S3 pointer {"id":ID,...}: letters, digits, '.', '-' (what publish.c
 * names snapshots), so it is safe in a key. */
static int pointer_id(struct fleet_job *j, const struct buf *b, char id[32])
{
    cJSON *o = cJSON_ParseWithLength(b->ptr ? b->ptr : "", b->len);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "id");
    int ok = cJSON_IsString(v) && *v->valuestring && strlen(v->valuestring) < 32;
    for (const char *p = ok ? v->valuestring : ""; *p && ok; p++)
        ok = (*p >= '0' && *p <= '9') || (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
             *p == '.' || *p == '-';
    if (ok) snprintf(id, 32, "%s", v->valuestring);
    cJSON_Delete(o);
    if (!ok)
        return err_set(&j->e, ERR_UPSTREAM, "%s: data/current.json names no snapshot",
                       j->edge->location);
    return 0;
}

/* An edge that publishes to S3 (--publish s3://BUCKET/PREFIX): the pointer data/current.json
 * names its snapshot (the "ETag" of this transport: one small GET when nothing changed), whose
 * export is data/ID/fleet/export.jsonl.gz. The credentials and endpoint are the central's own
 * (--s3-endpoint and the AWS variables, as for --publish). */
static int pull_s3(struct fleet_job *j)
{
    struct s3_url u;
    struct s3_creds cr;
    if (s3_url_parse(j->edge->location, &u, &j->e) != 0 || s3_creds_load(&cr, &j->e) != 0)
        return -1;
    struct s3_conf conf = *j->o->s3;
    conf.timeout_ms = j->o->timeout_seconds * 1000;
    conf.max_body = FLEET_BODY_MAX;
    struct s3 *s = s3_open(&conf, &cr, u.bucket, &j->e);
    memset(&cr, 0, sizeof cr);
    if (!s) return -1;
    char key[S3_KEY_MAX + 64], id[32] = "";
    struct buf b = BUF_INIT(FLEET_BODY_MAX);
    snprintf(key, sizeof key, "%sdata/current.json", u.prefix);
    int rc = s3_get(s, key, &b, &j->e);
    if (rc == 1)
        rc = err_set(&j->e, ERR_UPSTREAM, "%s: no data/current.json: nothing published yet",
                     j->edge->location);
    if (rc == 0) rc = pointer_id(j, &b, id);
    j->bytes += b.len;
    if (rc == 0 && j->have_copy && strcmp(id, j->st.etag) == 0) j->unchanged = 1;
    if (rc == 0 && !j->unchanged) {
        snprintf(key, sizeof key, "%sdata/%s/%s", u.prefix, id, FLEET_FILE);
        rc = s3_get(s, key, &b, &j->e);
        if (rc == 1) rc = err_set(&j->e, ERR_UPSTREAM, "s3://%s/%s: missing", u.bucket, key);
        j->bytes += b.len;
        if (rc == 0) rc = write_tmp(j, b.ptr ? b.ptr : "", b.len);
        if (rc == 0) snprintf(j->st.etag, sizeof j->st.etag, "%s", id);
    }
    buf_release(&b);
    s3_close(s);
    return rc;
}

int fleet_pull(struct fleet_job *j)
{
    const char *loc = j->edge->location;
    if (strncmp(loc, "s3://", 5) == 0) return pull_s3(j);
    if (strncmp(loc, "https://", 8) == 0 || strncmp(loc, "http://", 7) == 0) return pull_https(j);
    return pull_dir(j);
}
