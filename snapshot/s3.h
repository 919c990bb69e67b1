/* s3.h - an S3 client on libcurl (AWS Signature V4 by CURLOPT_AWS_SIGV4; no SDK): credentials the
 * way AWS tools read them, s3:// URLs, and the object calls: get, put (multipart above the part
 * size), server-side copy, list, delete. The uploader (upload.h) and the fleet's reader of edge
 * exports use it; any S3-compatible service (AWS, MinIO, Ceph RGW) answers it.
 *
 * What is signed: libcurl computes the signature over what this module hands it, so the inputs
 * are made here, exactly as S3 canonicalizes them (the unit tests check each):
 *   - the path: every byte of the key outside RFC 3986's unreserved set and '/' as %XX
 *     (s3_key_path): "a b/é.json" -> "a%20b/%C3%A9.json";
 *   - the query: sorted by name, every name and value percent-encoded (s3_query), because
 *     libcurl 7.88 signs the query string as given: "list-type=2&prefix=dir%2F";
 *   - x-amz-content-sha256: the payload's SHA-256 in hex, sent on every request (S3 wants it);
 *   - x-amz-security-token when the credentials carry a session token.
 * Requests are retried by the HTTP client (http.h: 429, 5xx, timeouts, dropped connections).
 * A refusal becomes one sentence naming the method, the object and S3's own error code and
 * message ("PUT s3://b/k: 403 SignatureDoesNotMatch: ..."); secrets never appear in it. */
#ifndef POLSNAP_S3_H
#define POLSNAP_S3_H

#include "buf.h"
#include "err.h"
#include "http.h"

#include <stddef.h>

#define S3_KEY_MAX 1024       /* bytes of an object key (S3's own limit) */
#define S3_BUCKET_MAX 63      /* bytes of a bucket name */
#define S3_MIN_PART (5 << 20) /* S3's smallest part of a multipart upload (but the last) */

/* The credentials, from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN when the
 * first two are set, else from the shared credentials file (AWS_SHARED_CREDENTIALS_FILE, default
 * ~/.aws/credentials), section AWS_PROFILE (default "default"): aws_access_key_id,
 * aws_secret_access_key, aws_session_token. `from` says which, for messages. */
struct s3_creds {
    char key_id[129], secret[129], token[4097];
    char from[300];
};
/* Returns 0, or -1 with *e set (ERR_INVALID: none found, a file without the profile, a value
 * too long or holding a control character; the message never shows a secret). */
int s3_creds_load(struct s3_creds *c, struct err *e);

/* An s3://BUCKET/PREFIX destination: the prefix without a leading '/', "" or ending in '/'. */
struct s3_url {
    char bucket[S3_BUCKET_MAX + 1];
    char prefix[S3_KEY_MAX];
};
/* Returns 0, or -1 with *e set (ERR_INVALID: not s3://, a bucket name S3 would refuse). */
int s3_url_parse(const char *url, struct s3_url *out, struct err *e);

struct s3_conf {
    const char *endpoint;         /* scheme://host[:port]; NULL: https://s3.REGION.amazonaws.com */
    const char *region;           /* NULL: us-east-1 */
    const char *addressing;       /* "path" (endpoint/BUCKET/KEY) or "virtual" (BUCKET.host/KEY);
                                     NULL: path with an endpoint, virtual for AWS */
    const char *ca_file;          /* PEM bundle to trust; NULL: the system's */
    long timeout_ms;              /* one request; 0: http.h's default */
    unsigned long long part_size; /* multipart above this, in parts of it; 0: 16 MiB */
    size_t max_body;              /* a GET's largest body; 0: http.h's default */
};

struct s3;
/* Returns a client for bucket, or NULL with *e set (a bad endpoint or addressing). */
struct s3 *s3_open(const struct s3_conf *conf, const struct s3_creds *cr, const char *bucket,
                   struct err *e);
void s3_close(struct s3 *s); /* NULL is fine */

/* What the client has sent so far: requests (retries included) and body bytes. */
struct s3_stats {
    unsigned long requests;
    unsigned long long bytes;
};
struct s3_stats s3_stats(const struct s3 *s);

/* GETs key into *out (released first; capped at max_body). Returns 0, 1 when there is no such
 * key (404 NoSuchKey; *out empty), or -1 with *e set (NoSuchBucket among them). */
int s3_get(struct s3 *s, const char *key, struct buf *out, struct err *e);

/* An object's headers as stored with it and sent back to every reader. */
struct s3_headers {
    const char *content_type, *cache_control, *content_encoding; /* NULL: none */
};
/* PUTs body as key. sha256_hex is the body's SHA-256 (NULL: computed here). A file body longer
 * than the part size goes up as a multipart upload (aborted on failure). Returns 0 or -1. */
int s3_put(struct s3 *s, const char *key, const struct http_body *body, const char *sha256_hex,
           const struct s3_headers *h, struct err *e);
/* Copies src to dst inside the bucket, headers included (no bytes travel). Returns 0, 1 when src
 * does not exist, or -1 with *e set. */
int s3_copy(struct s3 *s, const char *dst, const char *src, struct err *e);

/* Calls fn for every key under prefix (size, is_prefix 0) and, with a delimiter, for every
 * common prefix (is_prefix 1), in S3's order, page after page. fn returning non-zero stops
 * the walk. Returns 0 or -1. */
typedef int (*s3_list_fn)(const char *key, unsigned long long size, int is_prefix, void *ctx);
int s3_list(struct s3 *s, const char *prefix, const char *delimiter, s3_list_fn fn, void *ctx,
            struct err *e);
/* Deletes keys[0..n) (missing ones are no error), up to 1000 per request. Returns 0 or -1. */
int s3_delete(struct s3 *s, const char *const *keys, size_t n, struct err *e);

/* ---- the signing inputs (also used by the tests) ---- */

/* Appends key as S3's canonical URI path does (see above); '/' stays. */
void s3_key_path(struct buf *out, const char *key);
/* Appends the canonical query of pairs[0..2n): name, value, name, value...; sorted by name. */
void s3_query(struct buf *out, const char *const *pairs, size_t n);
/* Appends the URL of key (NULL: the bucket) with query (canonical, may be NULL). */
void s3_object_url(const struct s3 *s, const char *key, const char *query, struct buf *out);
/* The SHA-256 of p[0..n) or of a file's range, lower-case hex. */
void s3_sha256_hex(const void *p, size_t n, char out[65]);
int s3_sha256_file(int fd, unsigned long long off, unsigned long long len, char out[65]);

#endif
