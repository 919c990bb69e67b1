/* http.h - a small HTTPS client on libcurl: GETs for the kubernetes and stackrox sources, POSTs
 * for the notification targets, signed requests of any method for object storage (s3.h).
 *
 * One client holds one curl handle, so the pages of a chunked list reuse one TLS connection.
 * A GET either gets a complete HTTP response (any status: the caller decides what a 403 or a
 * 404 means) or fails at the transport level with a sentence an operator understands. Retries
 * are the client's business, never the caller's: 429, 5xx, timeouts and dropped or truncated
 * connections are retried up to max_attempts times with exponential backoff (first_backoff_ms,
 * doubled each time), honouring a Retry-After header (capped at max_retry_after_s). Everything
 * else (TLS trust, 4xx, a body past max_body) fails at once: retrying would not help.
 *
 * The body is stored decoded (gzip and deflate are accepted), capped at max_body bytes: a
 * larger body aborts the transfer, so a hostile or broken server cannot exhaust memory.
 * Secrets (token, key) are never written into error text. */
#ifndef POLSNAP_HTTP_H
#define POLSNAP_HTTP_H

#include "buf.h"

#include "err.h"

#include <stddef.h>

/* Every pointer is borrowed for the duration of http_client_new only (the client copies what
 * it keeps). Zero/NULL fields mean the documented default. */
struct http_conf {
    /* Trust: ca_pem (inline PEM text, ca_pem_len bytes) wins over ca_file (a PEM bundle path);
     * with neither, the system's CAs. insecure skips peer and host verification (the caller
     * warns about it). */
    const char *ca_file;
    const char *ca_pem;
    size_t ca_pem_len;
    int insecure;
    /* Client certificate (mutual TLS): inline PEM wins over a file, separately for the
     * certificate and the key. Both halves are needed; one without the other is an error. */
    const char *cert_file, *key_file;
    const char *cert_pem, *key_pem;
    size_t cert_pem_len, key_pem_len;
    /* Sent as "Authorization: Bearer TOKEN" when not NULL; a token holding a control
     * character (a CR/LF would inject headers) is refused by http_client_new. */
    const char *bearer_token;
    const char *accept; /* Accept header; default "application/json" */
    /* AWS Signature V4 on every request (CURLOPT_AWS_SIGV4, e.g. "aws:amz:us-east-1:s3") with
     * this key pair; NULL: unsigned. The caller sends x-amz-content-sha256 itself. */
    const char *aws_sigv4, *aws_key_id, *aws_secret;

    long connect_timeout_ms; /* default 10000 */
    long timeout_ms;         /* one attempt, connect included; default 30000 */
    size_t max_body;         /* decoded bytes; default 64 MiB */
    int max_attempts;        /* 1 means no retry; default 3 */
    long first_backoff_ms;   /* default 500 */
    long max_retry_after_s;  /* cap on a server's Retry-After; default 30 */
};

struct http_client;

/* Returns a client, or NULL with *e set (a client certificate half missing, a bad token,
 * curl unusable). Free with http_client_free. */
struct http_client *http_client_new(const struct http_conf *conf, struct err *e);
void http_client_free(struct http_client *c); /* NULL is fine */

struct http_response {
    long status;     /* the final HTTP status */
    struct buf body; /* the final response's body (also for 4xx/5xx); NUL-terminated */
    int attempts;    /* how many requests were sent */
    char etag[128];  /* the final response's ETag header as sent (quotes included), or "" */
};

/* A request body: len bytes at data, or, when data is NULL, len bytes of the file fd from
 * offset off (read with pread, so every retry sends the same bytes). */
struct http_body {
    const char *data;
    int fd;
    unsigned long long off, len;
};

/* GETs url (http:// or https://; redirects are not followed). resp is overwritten: call
 * http_response_release on it afterwards in every case.
 * Returns 0 when a complete response arrived, whatever its status; a 429 or 5xx is returned
 * like this once the retries ran out. Returns -1 with *e set (ERR_UPSTREAM, "GET URL: reason") on a
 * transport failure: cannot connect, TLS refused, timeout, a truncated or oversized body. */
int http_get(struct http_client *c, const char *url, struct http_response *resp, struct err *e);
void http_response_release(struct http_response *resp);

/* POSTs body[0..len) to url with the client's headers plus headers (NULL-terminated "Name:
 * value" lines, may be NULL; one holding a control character is refused), retried like a GET.
 * The URL may be a secret (a Slack webhook): messages name the request by label instead
 * ("target ops"), never by URL. Returns like http_get. */
int http_post(struct http_client *c, const char *url, const char *label, const char *body,
              size_t len, const char *const *headers, struct http_response *resp, struct err *e);

/* Any method (GET, HEAD, PUT, POST, DELETE) with headers as for http_post and body (NULL: none;
 * PUT and POST send one, empty when NULL), retried like a GET. Returns like http_get. */
int http_request(struct http_client *c, const char *method, const char *url, const char *label,
                 const struct http_body *body, const char *const *headers,
                 struct http_response *resp, struct err *e);

#endif
