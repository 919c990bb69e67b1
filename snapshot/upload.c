/* upload.c - the static site to an S3 bucket: changed objects only, pointer last (upload.h). */
#include "upload.h"

#include "err.h"

#include "buf.h"
#include "site.h"
#include "util.h"

#include <cjson/cJSON.h>
#include <fcntl.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MANIFEST "data/manifest.json"
#define POINTER "data/current.json"
#define MANIFEST_MAX ((size_t)16 << 20)
#define CACHE_SNAPSHOT "public, max-age=31536000, immutable"
#define CACHE_DASHBOARD "public, max-age=300"
#define CACHE_POINTER "no-cache"
#define STATE_FILE "uploads.json"
#define STATE_MAX ((size_t)1 << 20)

/* One row per file type the site holds; the first match of the name's end wins. */
static const struct {
    const char *ext, *type;
} types[] = {
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".mjs", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".json", "application/json"},
    {".txt", "text/plain; version=0.0.4"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".ico", "image/x-icon"},
};

static int ends_with(const char *s, size_t n, const char *end)
{
    size_t k = strlen(end);
    return n >= k && memcmp(s + n - k, end, k) == 0;
}

/* A snapshot file (below data/ in the site), not a dashboard file. */
static int is_data(const char *rel)
{
    return strncmp(rel, SITE_DATA, strlen(SITE_DATA)) == 0;
}

struct s3_headers upload_headers(const char *rel)
{
    size_t n = strlen(rel);
    struct s3_headers h = {"application/octet-stream", CACHE_DASHBOARD, NULL};
    if (ends_with(rel, n, ".gz")) h.content_encoding = "gzip", n -= 3;
    for (size_t i = 0; i < ARRAY_LEN(types); i++)
        if (ends_with(rel, n, types[i].ext)) {
            h.content_type = types[i].type;
            break;
        }
    if (is_data(rel)) h.cache_control = CACHE_SNAPSHOT;
    return h;
}

struct file {
    char *rel, *path; /* rel as site_files names it; key: rel without a trailing .gz */
    char key[S3_KEY_MAX];
    char sha[65];
    unsigned long long size;
    int skip; /* a plain twin of a precompressed file: the .gz one is uploaded */
};

struct files {
    struct file *v;
    size_t n, cap;
};

static int add_file(const char *rel, const char *path, void *ctx, struct err *e)
{
    struct files *fs = ctx;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        int er = errno;
        if (fd >= 0) close(fd);
        return err_set(e, ERR_IO, "%s: %s", path, strerror(er));
    }
    if (fs->n == fs->cap)
        fs->v = xreallocarray(fs->v, fs->cap = fs->cap ? 2 * fs->cap : 64, sizeof *fs->v);
    struct file *f = &fs->v[fs->n];
    memset(f, 0, sizeof *f);
    size_t n = strlen(rel);
    snprintf(f->key, sizeof f->key, "%.*s", (int)(ends_with(rel, n, ".gz") ? n - 3 : n), rel);
    f->size = (unsigned long long)st.st_size;
    int rc = s3_sha256_file(fd, 0, f->size, f->sha);
    close(fd);
    if (rc != 0) return err_set(e, ERR_IO, "%s: cannot read it", path);
    f->rel = xstrdup(rel), f->path = xstrdup(path);
    fs->n++;
    return 0;
}

static int cmp_file(const void *a, const void *b)
{
    const struct file *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    return c ? c : strcmp(x->rel, y->rel); /* "k" sorts before "k.gz" */
}

static void files_release(struct files *fs)
{
    for (size_t i = 0; i < fs->n; i++)
        free(fs->v[i].rel), free(fs->v[i].path);
    free(fs->v);
}

/* The site's files, by key; of a file and its .gz twin, the .gz one. */
static int collect(const char *snapdir, const char *www, struct files *fs, struct err *e)
{
    if (site_files(snapdir, www, add_file, fs, e) != 0) return -1;
    qsort(fs->v, fs->n, sizeof *fs->v, cmp_file);
    for (size_t i = 0; i + 1 < fs->n; i++)
        if (!strcmp(fs->v[i].key, fs->v[i + 1].key)) fs->v[i].skip = 1;
    return 0;
}

/* The state of one destination during a run. */
struct run {
    struct s3 *s3;
    const char *prefix, *id;
    cJSON *old;       /* the previous manifest, or NULL */
    const char *prev; /* the snapshot the pointer names now, or NULL */
    struct upload_report *rep;
};

/* The object key of a site file: prefix + key, with data/ID/ in front of a snapshot file's. */
static void object_key(const struct run *r, const struct file *f, const char *id, char *out)
{
    if (is_data(f->key))
        snprintf(out, S3_KEY_MAX, "%s%s%s/%s", r->prefix, SITE_DATA, id,
                 f->key + strlen(SITE_DATA));
    else
        snprintf(out, S3_KEY_MAX, "%s%s", r->prefix, f->key);
}

static const char *old_sha(const struct run *r, const struct file *f)
{
    const cJSON *objs = cJSON_GetObjectItemCaseSensitive(r->old, "objects");
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(objs, f->key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* One file: nothing when the dashboard file is unchanged, a copy when the snapshot file equals
 * the current snapshot's, else a PUT. */
static int send_file(struct run *r, const struct file *f, struct err *e)
{
    char key[S3_KEY_MAX], from[S3_KEY_MAX];
    const char *sha = old_sha(r, f);
    int same = sha && !strcmp(sha, f->sha), data = is_data(f->key);
    object_key(r, f, r->id, key);
    if (same && !data) return r->rep->unchanged++, 0;
    if (same && r->prev) {
        object_key(r, f, r->prev, from);
        int rc = s3_copy(r->s3, key, from, e);
        if (rc <= 0) return rc == 0 ? (r->rep->copied++, 0) : -1;
    }
    int fd = open(f->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return err_set(e, ERR_IO, "%s: %s", f->path, strerror(errno));
    struct http_body body = {NULL, fd, 0, f->size};
    struct s3_headers h = upload_headers(f->rel);
    int rc = s3_put(r->s3, key, &body, f->sha, &h, e);
    close(fd);
    if (rc == 0) r->rep->put++;
    return rc;
}

static int put_json(struct run *r, const char *rel, const struct buf *b, const char *cache,
                    struct err *e)
{
    char key[S3_KEY_MAX];
    snprintf(key, sizeof key, "%s%s", r->prefix, rel);
    struct s3_headers h = {"application/json", cache, NULL};
    struct http_body body = {b->ptr, -1, 0, b->len};
    if (s3_put(r->s3, key, &body, NULL, &h, e) != 0) return -1;
    r->rep->put++;
    return 0;
}

/* {"version":1,"current":ID,"snapshots":[ID, older...],"objects":{key: sha256}} */
static void render_manifest(const struct run *r, const struct files *fs, unsigned keep,
                            struct buf *b)
{
    buf_puts(b, "{\"version\":1,\"current\":");
    buf_json_str(b, r->id);
    buf_puts(b, ",\"snapshots\":[");
    buf_json_str(b, r->id);
    const cJSON *old = cJSON_GetObjectItemCaseSensitive(r->old, "snapshots"), *s;
    unsigned n = 1;
    cJSON_ArrayForEach(s, old)
    {
        if (n >= keep || !cJSON_IsString(s) || !strcmp(s->valuestring, r->id)) continue;
        buf_putc(b, ',');
        buf_json_str(b, s->valuestring);
        n++;
    }
    buf_puts(b, "],\"objects\":{");
    for (size_t i = 0, k = 0; i < fs->n; i++) {
        if (fs->v[i].skip) continue;
        if (k++) buf_putc(b, ',');
        buf_json_str(b, fs->v[i].key);
        buf_printf(b, ":\"%s\"", fs->v[i].sha);
    }
    buf_puts(b, "}}");
}

/* Reads the previous manifest (none on a first upload). */
static int read_manifest(struct run *r, struct err *e)
{
    char key[S3_KEY_MAX];
    snprintf(key, sizeof key, "%s%s", r->prefix, MANIFEST);
    struct buf b = BUF_INIT(MANIFEST_MAX);
    int rc = s3_get(r->s3, key, &b, e);
    if (rc == 0) {
        r->old = cJSON_ParseWithLength(b.ptr, b.len);
        const cJSON *cur = cJSON_GetObjectItemCaseSensitive(r->old, "current");
        if (!r->old)
            fprintf(stderr, "polsnap-snapshot: %s is not JSON: uploading everything\n", key);
        r->prev = cJSON_IsString(cur) ? cur->valuestring : NULL;
    }
    buf_release(&b);
    return rc < 0 ? -1 : 0;
}

struct doomed {
    const struct run *r;
    const cJSON *keep;
    char **keys;
    size_t n, cap;
};

static void doom(struct doomed *d, const char *key)
{
    if (d->n == d->cap)
        d->keys = xreallocarray(d->keys, d->cap = d->cap ? 2 * d->cap : 64, sizeof *d->keys);
    d->keys[d->n++] = xstrdup(key);
}

static int doom_key(const char *key, unsigned long long size, int is_prefix, void *ctx)
{
    (void)size;
    if (!is_prefix) doom(ctx, key);
    return 0;
}

static int kept(const cJSON *keep, const char *id, size_t n)
{
    const cJSON *s;
    cJSON_ArrayForEach(s, keep)
    {
        if (cJSON_IsString(s) && strlen(s->valuestring) == n && !strncmp(s->valuestring, id, n))
            return 1;
    }
    return 0;
}

/* Every snapshot prefix data/X/ that the new manifest does not keep. */
static int doom_prefix(const char *key, unsigned long long size, int is_prefix, void *ctx)
{
    (void)size;
    struct doomed *d = ctx;
    size_t base = strlen(d->r->prefix) + strlen(SITE_DATA), n = strlen(key);
    if (!is_prefix || n <= base + 1 || kept(d->keep, key + base, n - base - 1)) return 0;
    doom(d, key); /* listed below: the prefix's keys */
    return 0;
}

/* Deletes what the new manifest does not hold: old snapshots, leftovers of killed runs, and
 * dashboard files that are gone. */
static int prune(struct run *r, const cJSON *now, struct err *e)
{
    struct doomed pre = {r, cJSON_GetObjectItemCaseSensitive(now, "snapshots"), NULL, 0, 0};
    struct doomed del = pre;
    char data[S3_KEY_MAX];
    snprintf(data, sizeof data, "%s%s", r->prefix, SITE_DATA);
    int rc = s3_list(r->s3, data, "/", doom_prefix, &pre, e);
    for (size_t i = 0; rc == 0 && i < pre.n; i++)
        rc = s3_list(r->s3, pre.keys[i], NULL, doom_key, &del, e);
    const cJSON *o, *objs = cJSON_GetObjectItemCaseSensitive(now, "objects");
    cJSON_ArrayForEach(o, cJSON_GetObjectItemCaseSensitive(r->old, "objects"))
    {
        if (!is_data(o->string) && !cJSON_GetObjectItemCaseSensitive(objs, o->string)) {
            char key[S3_KEY_MAX];
            snprintf(key, sizeof key, "%s%s", r->prefix, o->string);
            doom(&del, key);
        }
    }
    if (rc == 0 && del.n) rc = s3_delete(r->s3, (const char *const *)del.keys, del.n, e);
    if (rc == 0) r->rep->deleted = (unsigned)del.n;
    for (size_t i = 0; i < pre.n; i++)
        free(pre.keys[i]);
    for (size_t i = 0; i < del.n; i++)
        free(del.keys[i]);
    free(pre.keys), free(del.keys);
    return rc;
}

/* Snapshot files first, then the dashboard, the manifest, the pointer; then the pruning. */
static int upload_run(struct run *r, const struct files *fs, const struct upload_opts *o,
                      struct err *e)
{
    if (read_manifest(r, e) != 0) return -1;
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < fs->n; i++) {
            const struct file *f = &fs->v[i];
            if (!f->skip && is_data(f->key) == !pass && send_file(r, f, e) != 0) return -1;
        }
    struct buf m = BUF_INIT(MANIFEST_MAX), p = BUF_INIT(4096);
    render_manifest(r, fs, o->keep ? o->keep : 1, &m);
    buf_puts(&p, "{\"id\":");
    buf_json_str(&p, r->id);
    buf_printf(&p, ",\"base\":\"%s/\"}", r->id);
    int rc = buf_failed(&m) ? err_set(e, ERR_INVALID, "the manifest is over its size") : 0;
    if (rc == 0) rc = put_json(r, MANIFEST, &m, CACHE_POINTER, e);
    if (rc == 0) rc = put_json(r, POINTER, &p, CACHE_POINTER, e);
    cJSON *now = rc == 0 ? cJSON_ParseWithLength(m.ptr, m.len) : NULL;
    buf_release(&m), buf_release(&p);
    if (rc == 0) {
        struct err pe = {0};
        if (prune(r, now, &pe) != 0)
            fprintf(stderr,
                    "polsnap-snapshot: warning: the upload is complete, but old objects "
                    "were not deleted (the next run tries again): %s\n",
                    pe.msg);
    }
    cJSON_Delete(now);
    return rc;
}

int upload_site(const char *dest, const char *snapshot_dir, const struct upload_opts *o,
                struct upload_report *rep, struct err *e)
{
    struct s3_url u;
    memset(rep, 0, sizeof *rep);
    if (s3_url_parse(dest, &u, e) != 0) return -1;
    struct files fs = {0};
    if (collect(snapshot_dir, o->www_dir, &fs, e) != 0) {
        files_release(&fs);
        return -1;
    }
    const char *id = strrchr(snapshot_dir, '/');
    struct run r = {s3_open(o->s3, o->creds, u.bucket, e),
                    u.prefix,
                    id ? id + 1 : snapshot_dir,
                    NULL,
                    NULL,
                    rep};
    int rc = r.s3 ? upload_run(&r, &fs, o, e) : -1;
    if (r.s3) rep->sent = s3_stats(r.s3);
    cJSON_Delete(r.old);
    s3_close(r.s3);
    files_release(&fs);
    return rc;
}

/* DATA/uploads.json parsed, or an empty object when there is none (or it is unreadable: the
 * state is informative, so a damaged file only loses the history). */
static cJSON *state_read(const char *data_dir)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", data_dir, STATE_FILE);
    struct buf b = BUF_INIT(STATE_MAX);
    cJSON *st = buf_read_file(&b, path) == 0 ? cJSON_ParseWithLength(b.ptr, b.len) : NULL;
    buf_release(&b);
    if (!cJSON_IsObject(st)) cJSON_Delete(st), st = cJSON_CreateObject();
    return st;
}

void upload_describe(const char *data_dir, const char *const *dests, int n, struct rowset *rs)
{
    cJSON *st = state_read(data_dir);
    for (int i = 0; i < n; i++) {
        const cJSON *d = cJSON_GetObjectItemCaseSensitive(st, dests[i]);
        const cJSON *up = cJSON_GetObjectItemCaseSensitive(d, "up");
        const cJSON *last = cJSON_GetObjectItemCaseSensitive(d, "lastSuccess");
        rowset_add_upload(rs, dests[i], !cJSON_IsFalse(up),
                          cJSON_IsNumber(last) ? (int64_t)last->valuedouble : ROWSET_NO_TIME);
    }
    cJSON_Delete(st);
}

int upload_record(const char *data_dir, const char *dest, int ok, int64_t now, struct err *e)
{
    cJSON *st = state_read(data_dir), *d = cJSON_GetObjectItemCaseSensitive(st, dest);
    if (!cJSON_IsObject(d)) {
        cJSON_DeleteItemFromObjectCaseSensitive(st, dest);
        d = cJSON_AddObjectToObject(st, dest);
    }
    cJSON_DeleteItemFromObjectCaseSensitive(d, "up");
    cJSON_AddBoolToObject(d, "up", ok);
    if (ok) {
        cJSON_DeleteItemFromObjectCaseSensitive(d, "lastSuccess");
        cJSON_AddNumberToObject(d, "lastSuccess", (double)now);
    }
    char *text = cJSON_PrintUnformatted(st);
    cJSON_Delete(st);
    char path[PATH_MAX], tmp[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", data_dir, STATE_FILE);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644), rc = -1;
    size_t len = text ? strlen(text) : 0;
    if (fd >= 0 && text && write(fd, text, len) == (ssize_t)len && fsync(fd) == 0) rc = 0;
    if (fd >= 0 && close(fd) != 0) rc = -1;
    if (rc == 0 && rename(tmp, path) != 0) rc = -1;
    if (rc != 0) err_set(e, ERR_IO, "%s: %s", path, strerror(errno)), unlink(tmp);
    free(text);
    return rc;
}
