/* s3.c - the S3 object calls on the HTTP client, signed by libcurl (contract in s3.h). */
#include "s3.h"

#include "err.h"

#include "util.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define S3_DEFAULT_PART ((unsigned long long)16 << 20)
#define S3_DELETE_BATCH 1000
#define S3_MAX_PARTS 10000
#define S3_EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

struct s3 {
    struct http_client *http;
    char bucket[S3_BUCKET_MAX + 1];
    char base[512]; /* scheme://host[:port][/BUCKET]: what every object path follows */
    char token[4200];
    unsigned long long part_size;
    struct s3_stats stats;
};

/* ---- signing inputs ---- */

void s3_key_path(struct buf *out, const char *key)
{
    char seg[S3_KEY_MAX + 1];
    for (const char *p = key;;) {
        size_t n = strcspn(p, "/");
        snprintf(seg, sizeof seg, "%.*s", (int)(n < S3_KEY_MAX ? n : S3_KEY_MAX), p);
        buf_put_urlencoded(out, seg);
        if (!p[n]) break;
        buf_putc(out, '/');
        p += n + 1;
    }
}

static int cmp_pair(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

void s3_query(struct buf *out, const char *const *pairs, size_t n)
{
    const char **sorted = xmalloc(sizeof *sorted * 2 * (n ? n : 1));
    memcpy(sorted, pairs, sizeof *sorted * 2 * n);
    qsort(sorted, n, 2 * sizeof *sorted, cmp_pair); /* each element is a name and its value */
    for (size_t i = 0; i < n; i++) {
        if (i) buf_putc(out, '&');
        buf_put_urlencoded(out, sorted[2 * i]);
        buf_putc(out, '=');
        buf_put_urlencoded(out, sorted[2 * i + 1]);
    }
    free(sorted);
}

void s3_object_url(const struct s3 *s, const char *key, const char *query, struct buf *out)
{
    buf_puts(out, s->base);
    buf_putc(out, '/');
    if (key) s3_key_path(out, key);
    if (query && *query) buf_printf(out, "?%s", query);
}

static void hex(const unsigned char *md, unsigned n, char *out)
{
    for (unsigned i = 0; i < n; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

void s3_sha256_hex(const void *p, size_t n, char out[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    if (!EVP_Digest(p, n, md, &len, EVP_sha256(), NULL) || len != 32) abort();
    hex(md, len, out);
}

int s3_sha256_file(int fd, unsigned long long off, unsigned long long len, char out[65])
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL)) abort();
    static char block[1 << 16];
    int rc = 0;
    while (len > 0 && rc == 0) {
        size_t want = len < sizeof block ? (size_t)len : sizeof block;
        ssize_t r = pread(fd, block, want, (off_t)off);
        if (r <= 0) rc = -1;
        if (r > 0) EVP_DigestUpdate(ctx, block, (size_t)r), off += (size_t)r, len -= (size_t)r;
    }
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned n = 0;
    if (!EVP_DigestFinal_ex(ctx, md, &n) || n != 32) abort();
    EVP_MD_CTX_free(ctx);
    hex(md, n, out);
    return rc;
}

/* ---- URLs and the client ---- */

/* S3's rules for new buckets: 3-63 of [a-z0-9.-], alphanumeric at both ends. */
static int bucket_name_ok(const char *b, size_t n)
{
    if (n < 3 || n > S3_BUCKET_MAX) return 0;
    for (size_t i = 0; i < n; i++)
        if (!((b[i] >= 'a' && b[i] <= 'z') || (b[i] >= '0' && b[i] <= '9') || b[i] == '.' ||
              b[i] == '-'))
            return 0;
    return b[0] != '.' && b[0] != '-' && b[n - 1] != '.' && b[n - 1] != '-';
}

int s3_url_parse(const char *url, struct s3_url *out, struct err *e)
{
    if (strncmp(url, "s3://", 5) != 0)
        return err_set(e, ERR_INVALID, "%s: want s3://BUCKET/PREFIX", url);
    const char *b = url + 5;
    size_t n = strcspn(b, "/");
    if (!bucket_name_ok(b, n))
        return err_set(e, ERR_INVALID,
                       "%s: the bucket name must be 3-63 of a-z 0-9 . -, starting and ending "
                       "with a letter or digit",
                       url);
    const char *p = b + n;
    while (*p == '/')
        p++;
    size_t plen = strlen(p);
    if (plen + 2 > sizeof out->prefix) return err_set(e, ERR_INVALID, "%s: prefix too long", url);
    for (const char *q = p; *q; q++)
        if ((unsigned char)*q < 0x20 || *q == 0x7f)
            return err_set(e, ERR_INVALID, "%s: the prefix holds a control character", url);
    snprintf(out->bucket, sizeof out->bucket, "%.*s", (int)n, b);
    snprintf(out->prefix, sizeof out->prefix, "%s%s", p, plen && p[plen - 1] != '/' ? "/" : "");
    return 0;
}

struct s3 *s3_open(const struct s3_conf *conf, const struct s3_creds *cr, const char *bucket,
                   struct err *e)
{
    const char *region = conf->region && *conf->region ? conf->region : "us-east-1";
    const char *ep = conf->endpoint && *conf->endpoint ? conf->endpoint : NULL;
    const char *mode = conf->addressing && *conf->addressing ? conf->addressing
                       : ep                                  ? "path"
                                                             : "virtual";
    if (strcmp(mode, "path") != 0 && strcmp(mode, "virtual") != 0) {
        err_set(e, ERR_INVALID, "S3 addressing %s: want path or virtual", mode);
        return NULL;
    }
    char host[256];
    if (ep) {
        const char *h = strstr(ep, "://");
        size_t len = strlen(ep);
        if (!h || (strncmp(ep, "http://", 7) != 0 && strncmp(ep, "https://", 8) != 0) ||
            len > 200) {
            err_set(e, ERR_INVALID, "S3 endpoint %s: want http://HOST[:PORT] or https://...", ep);
            return NULL;
        }
        while (len > 0 && ep[len - 1] == '/')
            len--;
        snprintf(host, sizeof host, "%.*s", (int)len, ep);
    } else {
        snprintf(host, sizeof host, "https://s3.%s.amazonaws.com", region);
    }
    struct s3 *s = xcalloc(1, sizeof *s);
    snprintf(s->bucket, sizeof s->bucket, "%s", bucket);
    const char *after = strstr(host, "://") + 3;
    if (!strcmp(mode, "path"))
        snprintf(s->base, sizeof s->base, "%s/%s", host, bucket);
    else
        snprintf(s->base, sizeof s->base, "%.*s%s.%s", (int)(after - host), host, bucket, after);
    if (cr->token[0]) snprintf(s->token, sizeof s->token, "x-amz-security-token: %s", cr->token);
    s->part_size = conf->part_size ? conf->part_size : S3_DEFAULT_PART;
    if (s->part_size < S3_MIN_PART) s->part_size = S3_MIN_PART;
    char sigv4[128];
    snprintf(sigv4, sizeof sigv4, "aws:amz:%s:s3", region);
    struct http_conf hc = {.ca_file = conf->ca_file,
                           .accept = "application/xml",
                           .aws_sigv4 = sigv4,
                           .aws_key_id = cr->key_id,
                           .aws_secret = cr->secret,
                           .timeout_ms = conf->timeout_ms,
                           .max_body = conf->max_body};
    s->http = http_client_new(&hc, e);
    if (!s->http) {
        free(s);
        return NULL;
    }
    return s;
}

void s3_close(struct s3 *s)
{
    if (!s) return;
    http_client_free(s->http);
    memset(s->token, 0, sizeof s->token);
    free(s);
}

struct s3_stats s3_stats(const struct s3 *s)
{
    return s->stats;
}

/* ---- XML answers (S3 speaks a small, flat XML: a tag scanner reads it) ---- */

/* Decodes the five predefined entities and numeric ones below 128; others stay as written. */
static void xml_text(const char *p, const char *end, char *out, size_t n)
{
    static const struct {
        const char *name;
        char c;
    } ents[] = {{"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}};
    size_t o = 0;
    while (p < end && o + 1 < n) {
        size_t k = 0;
        for (size_t i = 0; *p == '&' && i < ARRAY_LEN(ents) && !k; i++) {
            size_t l = strlen(ents[i].name);
            if ((size_t)(end - p) >= l && !strncmp(p, ents[i].name, l)) out[o++] = ents[i].c, k = l;
        }
        if (!k) out[o++] = *p, k = 1;
        p += k;
    }
    out[o] = '\0';
}

/* The next <tag>...</tag> in [p, end): its content in [*from, *to); returns the end of the
 * closing tag, or NULL when there is none. */
static const char *xml_find(const char *p, const char *end, const char *tag, const char **from,
                            const char **to)
{
    char open[64], close[64];
    snprintf(open, sizeof open, "<%s>", tag);
    snprintf(close, sizeof close, "</%s>", tag);
    const char *a = memmem(p, (size_t)(end - p), open, strlen(open));
    if (!a) return NULL;
    a += strlen(open);
    const char *b = memmem(a, (size_t)(end - a), close, strlen(close));
    if (!b) return NULL;
    *from = a, *to = b;
    return b + strlen(close);
}

static int xml_get(const char *p, const char *end, const char *tag, char *out, size_t n)
{
    const char *a, *b;
    out[0] = '\0';
    if (!xml_find(p, end, tag, &a, &b)) return 0;
    xml_text(a, b, out, n);
    return 1;
}

/* ---- requests ---- */

/* "PUT s3://bucket/key: 403 SignatureDoesNotMatch: message" from S3's error body. */
static int fail(const struct s3 *s, const char *method, const char *key,
                const struct http_response *r, struct err *e)
{
    const char *body = r->body.ptr ? r->body.ptr : "", *end = body + r->body.len;
    char code[128], msg[400];
    if (!xml_get(body, end, "Code", code, sizeof code))
        snprintf(code, sizeof code, "%s", http_reason(r->status));
    xml_get(body, end, "Message", msg, sizeof msg);
    const char *hint = !strcmp(code, "SignatureDoesNotMatch") || !strcmp(code, "InvalidAccessKeyId")
                           ? " (check the access key and secret)"
                       : !strcmp(code, "NoSuchBucket") ? " (create the bucket first)"
                                                       : "";
    enum err_code ec = r->status == 403   ? ERR_FORBIDDEN
                       : r->status == 404 ? ERR_NOT_FOUND
                       : r->status == 400 ? ERR_INVALID
                                          : ERR_UPSTREAM;
    return err_set(e, ec, "%s s3://%s/%s: %ld %s%s%s%s", method, s->bucket, key ? key : "",
                   r->status, code, *msg ? ": " : "", msg, hint);
}

/* One request: method on key?query with the signing headers plus extra (NULL-terminated).
 * Returns 0 with *r filled (any status: the caller releases it), or -1 (transport). */
static int request(struct s3 *s, const char *method, const char *key, const char *query,
                   const struct http_body *body, const char *sha256, const char *const *extra,
                   struct http_response *r, struct err *e)
{
    const char *h[12];
    size_t n = 0;
    char content[96];
    snprintf(content, sizeof content, "x-amz-content-sha256: %s",
             sha256 ? sha256 : S3_EMPTY_SHA256);
    h[n++] = content;
    if (s->token[0]) h[n++] = s->token;
    for (size_t i = 0; extra && extra[i] && n + 1 < ARRAY_LEN(h); i++)
        h[n++] = extra[i];
    h[n] = NULL;
    struct buf url = BUF_INIT(4 * S3_KEY_MAX + 1024);
    s3_object_url(s, key, query, &url);
    char label[S3_KEY_MAX + 128];
    snprintf(label, sizeof label, "%s s3://%s/%s", method, s->bucket, key ? key : "");
    int rc = http_request(s->http, method, url.ptr, label, body, h, r, e);
    buf_release(&url);
    s->stats.requests += (unsigned long)(r->attempts > 0 ? r->attempts : 1);
    if (body) s->stats.bytes += body->len * (unsigned long long)(r->attempts > 0 ? r->attempts : 1);
    return rc;
}

static int ok(long status)
{
    return status >= 200 && status <= 299;
}

/* A 404 about the key (NoSuchKey), not about the bucket (NoSuchBucket: an error). */
static int no_such_key(const struct http_response *r)
{
    char code[64];
    const char *b = r->body.ptr ? r->body.ptr : "";
    return r->status == 404 &&
           (!xml_get(b, b + r->body.len, "Code", code, sizeof code) || !strcmp(code, "NoSuchKey"));
}

int s3_get(struct s3 *s, const char *key, struct buf *out, struct err *e)
{
    struct http_response r;
    if (request(s, "GET", key, NULL, NULL, NULL, NULL, &r, e) != 0) {
        http_response_release(&r);
        return -1;
    }
    int rc = ok(r.status) ? 0 : no_such_key(&r) ? 1 : fail(s, "GET", key, &r, e);
    buf_release(out);
    if (rc == 0) *out = r.body, buf_init(&r.body, 0);
    http_response_release(&r);
    return rc;
}

/* The object's own headers ("Content-Type: ..."), into lines[0..3) of 256 bytes. */
static void object_headers(const struct s3_headers *h, char lines[3][256], const char **v)
{
    size_t n = 0;
    if (h && h->content_type) snprintf(lines[n], 256, "Content-Type: %s", h->content_type), n++;
    if (h && h->cache_control) snprintf(lines[n], 256, "Cache-Control: %s", h->cache_control), n++;
    if (h && h->content_encoding)
        snprintf(lines[n], 256, "Content-Encoding: %s", h->content_encoding), n++;
    for (size_t i = 0; i < n; i++)
        v[i] = lines[i];
    v[n] = NULL;
}

/* Sends a request that must succeed (2xx without an <Error> body: CopyObject and
 * CompleteMultipartUpload may fail inside a 200). Returns 0, or -1 with *e set. */
static int must(struct s3 *s, const char *method, const char *key, const char *query,
                const struct http_body *body, const char *sha, const char *const *extra,
                struct http_response *r, struct err *e)
{
    if (request(s, method, key, query, body, sha, extra, r, e) != 0) return -1;
    const char *b = r->body.ptr ? r->body.ptr : "";
    if (!ok(r->status) || (r->body.len && strstr(b, "<Error>"))) return fail(s, method, key, r, e);
    return 0;
}

/* Parts of part_size from fd; then the list of their ETags completes the upload. */
static int put_parts(struct s3 *s, const char *key, const char *upload_id,
                     const struct http_body *body, struct buf *done, struct err *e)
{
    unsigned long long part = s->part_size;
    buf_puts(done, "<CompleteMultipartUpload>");
    for (unsigned long long off = 0, no = 1; off < body->len; off += part, no++) {
        if (no > S3_MAX_PARTS) return err_set(e, ERR_INVALID, "%s: more than 10000 parts", key);
        struct http_body pb = {NULL, body->fd, body->off + off,
                               body->len - off < part ? body->len - off : part};
        char sha[65], num[24];
        if (s3_sha256_file(body->fd, pb.off, pb.len, sha) != 0)
            return err_set(e, ERR_IO, "%s: cannot read the part at byte %llu", key, off);
        snprintf(num, sizeof num, "%llu", no);
        const char *q[] = {"partNumber", num, "uploadId", upload_id};
        struct buf query = BUF_INIT(4096);
        s3_query(&query, q, 2);
        struct http_response r;
        int rc = must(s, "PUT", key, query.ptr, &pb, sha, NULL, &r, e);
        buf_release(&query);
        if (rc == 0) {
            buf_printf(done, "<Part><PartNumber>%llu</PartNumber><ETag>", no);
            buf_put_escaped(done, r.etag);
            buf_puts(done, "</ETag></Part>");
        }
        http_response_release(&r);
        if (rc != 0) return -1;
    }
    buf_puts(done, "</CompleteMultipartUpload>");
    return 0;
}

static int put_multipart(struct s3 *s, const char *key, const struct http_body *body,
                         const char *const *hdrs, struct err *e)
{
    struct http_response r;
    char id[1024];
    int rc = must(s, "POST", key, "uploads=", NULL, NULL, hdrs, &r, e);
    if (rc == 0 && !xml_get(r.body.ptr, r.body.ptr + r.body.len, "UploadId", id, sizeof id))
        rc = err_set(e, ERR_UPSTREAM, "POST s3://%s/%s: no UploadId in the answer", s->bucket, key);
    http_response_release(&r);
    if (rc != 0) return -1;
    const char *q[] = {"uploadId", id};
    struct buf query = BUF_INIT(4096), done = BUF_INIT((size_t)S3_MAX_PARTS * 200);
    s3_query(&query, q, 1);
    rc = put_parts(s, key, id, body, &done, e);
    if (rc == 0) {
        char sha[65];
        s3_sha256_hex(done.ptr, done.len, sha);
        struct http_body cb = {done.ptr, -1, 0, done.len};
        rc = must(s, "POST", key, query.ptr, &cb, sha, NULL, &r, e);
        http_response_release(&r);
    }
    if (rc != 0) { /* best effort: an abandoned upload only costs storage until aborted */
        struct err ignored = {0};
        request(s, "DELETE", key, query.ptr, NULL, NULL, NULL, &r, &ignored);
        http_response_release(&r);
    }
    buf_release(&query);
    buf_release(&done);
    return rc;
}

int s3_put(struct s3 *s, const char *key, const struct http_body *body, const char *sha256_hex,
           const struct s3_headers *h, struct err *e)
{
    char lines[3][256];
    const char *hdrs[4];
    object_headers(h, lines, hdrs);
    if (!body->data && body->len > s->part_size) return put_multipart(s, key, body, hdrs, e);
    char sha[65];
    if (sha256_hex)
        snprintf(sha, sizeof sha, "%s", sha256_hex);
    else if (body->data)
        s3_sha256_hex(body->data, (size_t)body->len, sha);
    else if (s3_sha256_file(body->fd, body->off, body->len, sha) != 0)
        return err_set(e, ERR_IO, "%s: cannot read what to upload", key);
    struct http_response r;
    int rc = must(s, "PUT", key, NULL, body, sha, hdrs, &r, e);
    http_response_release(&r);
    return rc;
}

int s3_copy(struct s3 *s, const char *dst, const char *src, struct err *e)
{
    struct buf source = BUF_INIT(4 * S3_KEY_MAX + 128);
    buf_printf(&source, "x-amz-copy-source: /%s/", s->bucket);
    s3_key_path(&source, src);
    const char *extra[] = {source.ptr, NULL};
    struct http_response r;
    int rc = request(s, "PUT", dst, NULL, NULL, NULL, extra, &r, e);
    buf_release(&source);
    if (rc == 0 && no_such_key(&r)) {
        rc = 1;
    } else if (rc == 0 && (!ok(r.status) || (r.body.ptr && strstr(r.body.ptr, "<Error>")))) {
        rc = fail(s, "PUT (copy)", dst, &r, e);
    }
    http_response_release(&r);
    return rc;
}

/* One page of ListObjectsV2: fn for each entry; *next gets the continuation token or "". */
static int list_page(const struct buf *body, s3_list_fn fn, void *ctx, char *next, size_t nn)
{
    const char *p = body->ptr ? body->ptr : "", *end = p + body->len, *a, *b;
    char key[S3_KEY_MAX + 1], size[32], trunc[8];
    int stop = 0;
    for (const char *q = p; !stop && (q = xml_find(q, end, "Contents", &a, &b));) {
        xml_get(a, b, "Key", key, sizeof key);
        xml_get(a, b, "Size", size, sizeof size);
        stop = fn(key, strtoull(size, NULL, 10), 0, ctx);
    }
    for (const char *q = p; !stop && (q = xml_find(q, end, "CommonPrefixes", &a, &b));) {
        xml_get(a, b, "Prefix", key, sizeof key);
        stop = fn(key, 0, 1, ctx);
    }
    xml_get(p, end, "IsTruncated", trunc, sizeof trunc);
    if (stop || strcmp(trunc, "true") != 0 || !xml_get(p, end, "NextContinuationToken", next, nn))
        next[0] = '\0';
    return stop;
}

int s3_list(struct s3 *s, const char *prefix, const char *delimiter, s3_list_fn fn, void *ctx,
            struct err *e)
{
    char next[1024] = "";
    for (int page = 0;; page++) {
        const char *q[8];
        size_t n = 0;
        q[2 * n] = "list-type", q[2 * n + 1] = "2", n++;
        q[2 * n] = "prefix", q[2 * n + 1] = prefix, n++;
        if (delimiter) q[2 * n] = "delimiter", q[2 * n + 1] = delimiter, n++;
        if (page) q[2 * n] = "continuation-token", q[2 * n + 1] = next, n++;
        struct buf query = BUF_INIT(8192);
        s3_query(&query, q, n);
        struct http_response r;
        int rc = must(s, "GET", "", query.ptr, NULL, NULL, NULL, &r, e);
        buf_release(&query);
        if (rc == 0) list_page(&r.body, fn, ctx, next, sizeof next);
        http_response_release(&r);
        if (rc != 0) return -1;
        if (!next[0]) return 0;
    }
}

/* Content-MD5 of the body: DeleteObjects refuses a request without it. */
static void md5_header(const struct buf *b, char *out, size_t n)
{
    unsigned char md[EVP_MAX_MD_SIZE], b64[64];
    unsigned len = 0;
    if (!EVP_Digest(b->ptr, b->len, md, &len, EVP_md5(), NULL)) abort();
    EVP_EncodeBlock(b64, md, (int)len);
    snprintf(out, n, "Content-MD5: %s", b64);
}

int s3_delete(struct s3 *s, const char *const *keys, size_t n, struct err *e)
{
    for (size_t at = 0; at < n; at += S3_DELETE_BATCH) {
        struct buf x = BUF_INIT((size_t)S3_DELETE_BATCH * (6 * S3_KEY_MAX + 40) + 100);
        buf_puts(&x, "<Delete><Quiet>true</Quiet>");
        for (size_t i = at; i < n && i < at + S3_DELETE_BATCH; i++) {
            buf_puts(&x, "<Object><Key>");
            buf_put_escaped(&x, keys[i]);
            buf_puts(&x, "</Key></Object>");
        }
        buf_puts(&x, "</Delete>");
        char md5[64], sha[65];
        md5_header(&x, md5, sizeof md5);
        s3_sha256_hex(x.ptr, x.len, sha);
        const char *extra[] = {md5, "Content-Type: application/xml", NULL};
        struct http_body body = {x.ptr, -1, 0, x.len};
        struct http_response r;
        int rc = must(s, "POST", NULL, "delete=", &body, sha, extra, &r, e);
        http_response_release(&r);
        buf_release(&x);
        if (rc != 0) return -1;
    }
    return 0;
}
