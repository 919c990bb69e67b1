/* http.c - the libcurl client: TLS setup, capped bodies, request bodies, retries with backoff. */
#include "http.h"

#include "err.h"

#include "util.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define HTTP_DEFAULT_CONNECT_MS 10000L
#define HTTP_DEFAULT_TIMEOUT_MS 30000L
#define HTTP_DEFAULT_MAX_BODY ((size_t)64 << 20)
#define HTTP_DEFAULT_ATTEMPTS 3
#define HTTP_DEFAULT_BACKOFF_MS 500L
#define HTTP_DEFAULT_RETRY_AFTER_S 30L
/* However many attempts are configured, one wait never exceeds this. */
#define HTTP_MAX_BACKOFF_MS 30000L

struct http_client {
    CURL *curl;
    struct curl_slist *headers;
    size_t max_body;
    int max_attempts;
    long first_backoff_ms, max_retry_after_s;
    char errbuf[CURL_ERROR_SIZE];
    /* the request in flight: its body (read from pos on) and where its ETag goes */
    struct http_body body;
    unsigned long long pos;
    char *etag;
};

struct sink {
    struct buf *body;
};

static size_t http_write(char *data, size_t size, size_t n, void *ctx)
{
    struct sink *s = ctx;
    buf_add(s->body, data, n);
    /* Returning less than given makes curl abort with CURLE_WRITE_ERROR. */
    return buf_failed(s->body) ? 0 : n * size;
}

/* The request body for curl: from memory or pread from the file, at the cursor. */
static size_t http_read(char *dst, size_t size, size_t n, void *ctx)
{
    struct http_client *c = ctx;
    unsigned long long left = c->body.len - c->pos, want = (unsigned long long)size * n;
    size_t k = (size_t)(want < left ? want : left);
    if (k == 0) return 0;
    if (c->body.data) {
        memcpy(dst, c->body.data + c->pos, k);
    } else {
        ssize_t r = pread(c->body.fd, dst, k, (off_t)(c->body.off + c->pos));
        if (r <= 0) return CURL_READFUNC_ABORT;
        k = (size_t)r;
    }
    c->pos += k;
    return k;
}

/* Keeps the ETag header of the response (a multipart upload names its parts by them). */
static size_t http_header(char *line, size_t size, size_t n, void *ctx)
{
    struct http_client *c = ctx;
    size_t len = size * n;
    if (c->etag && len > 5 && ascii_has_prefix_nc(line, "etag:", 5)) {
        const char *v = line + 5, *end = line + len;
        while (v < end && (*v == ' ' || *v == '\t'))
            v++;
        while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
            end--;
        snprintf(c->etag, 128, "%.*s", (int)(end - v), v);
    }
    return len;
}

static int has_control_char(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f) return 1;
    return 0;
}

static void set_blob(CURL *curl, CURLoption opt, const char *pem, size_t len)
{
    struct curl_blob blob = {(void *)pem, len, CURL_BLOB_COPY};
    curl_easy_setopt(curl, opt, &blob);
}

static int http_setup_tls(struct http_client *c, const struct http_conf *conf, struct err *e)
{
    CURL *curl = c->curl;
    if (conf->insecure) {
        curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
    } else if (conf->ca_pem) {
        set_blob(curl, CURLOPT_CAINFO_BLOB, conf->ca_pem, conf->ca_pem_len);
    } else if (conf->ca_file) {
        curl_easy_setopt(curl, CURLOPT_CAINFO, conf->ca_file);
    }

    int has_cert = conf->cert_pem || conf->cert_file;
    int has_key = conf->key_pem || conf->key_file;
    if (has_cert != has_key) {
        err_set(e, ERR_INVALID, "a client certificate needs both the certificate and its key");
        return -1;
    }
    if (!has_cert) return 0;
    curl_easy_setopt(curl, CURLOPT_SSLCERTTYPE, "PEM");
    curl_easy_setopt(curl, CURLOPT_SSLKEYTYPE, "PEM");
    if (conf->cert_pem)
        set_blob(curl, CURLOPT_SSLCERT_BLOB, conf->cert_pem, conf->cert_pem_len);
    else
        curl_easy_setopt(curl, CURLOPT_SSLCERT, conf->cert_file);
    if (conf->key_pem)
        set_blob(curl, CURLOPT_SSLKEY_BLOB, conf->key_pem, conf->key_pem_len);
    else
        curl_easy_setopt(curl, CURLOPT_SSLKEY, conf->key_file);
    return 0;
}

static long or_default(long v, long def)
{
    return v > 0 ? v : def;
}

struct http_client *http_client_new(const struct http_conf *conf, struct err *e)
{
    if (conf->bearer_token && has_control_char(conf->bearer_token)) {
        err_set(e, ERR_INVALID, "the bearer token contains a line break or control character");
        return NULL;
    }
    struct http_client *c = xcalloc(1, sizeof *c);
    c->curl = curl_easy_init();
    if (!c->curl) {
        err_set(e, ERR_INTERNAL, "libcurl could not be initialised");
        free(c);
        return NULL;
    }
    c->max_body = conf->max_body ? conf->max_body : HTTP_DEFAULT_MAX_BODY;
    c->max_attempts = conf->max_attempts > 0 ? conf->max_attempts : HTTP_DEFAULT_ATTEMPTS;
    c->first_backoff_ms = or_default(conf->first_backoff_ms, HTTP_DEFAULT_BACKOFF_MS);
    c->max_retry_after_s = or_default(conf->max_retry_after_s, HTTP_DEFAULT_RETRY_AFTER_S);

    struct buf h = BUF_INIT(8192);
    buf_printf(&h, "Accept: %s", conf->accept ? conf->accept : "application/json");
    c->headers = curl_slist_append(NULL, h.ptr);
    if (conf->bearer_token) {
        buf_reset(&h);
        buf_printf(&h, "Authorization: Bearer %s", conf->bearer_token);
        if (buf_failed(&h)) {
            err_set(e, ERR_INVALID, "the bearer token is longer than 8 KiB");
            buf_release(&h);
            http_client_free(c);
            return NULL;
        }
        c->headers = curl_slist_append(c->headers, h.ptr);
        /* The header text held the token: do not leave it in freed memory. */
        memset(h.ptr, 0, h.len);
    }
    buf_release(&h);
    if (!c->headers) {
        err_set(e, ERR_INTERNAL, "libcurl could not allocate the request headers");
        http_client_free(c);
        return NULL;
    }

    CURL *curl = c->curl;
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, c->headers);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "polsnap-snapshot");
    curl_easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                     or_default(conf->connect_timeout_ms, HTTP_DEFAULT_CONNECT_MS));
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS,
                     or_default(conf->timeout_ms, HTTP_DEFAULT_TIMEOUT_MS));
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, c->errbuf);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, http_write);
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, http_read);
    curl_easy_setopt(curl, CURLOPT_READDATA, c);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, http_header);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, c);
    if (conf->aws_sigv4) {
        curl_easy_setopt(curl, CURLOPT_AWS_SIGV4, conf->aws_sigv4);
        curl_easy_setopt(curl, CURLOPT_USERNAME, conf->aws_key_id);
        curl_easy_setopt(curl, CURLOPT_PASSWORD, conf->aws_secret);
    }
    if (http_setup_tls(c, conf, e)) {
        http_client_free(c);
        return NULL;
    }
    return c;
}

void http_client_free(struct http_client *c)
{
    if (!c) return;
    if (c->curl) curl_easy_cleanup(c->curl);
    curl_slist_free_all(c->headers);
    free(c);
}

void http_response_release(struct http_response *resp)
{
    buf_release(&resp->body);
}

static int status_is_retryable(long status)
{
    return status == 429 || (status >= 500 && status <= 599);
}

/* Transport failures worth another try: the server may be restarting or overloaded. */
static int code_is_retryable(CURLcode rc)
{
    switch (rc) {
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_COULDNT_CONNECT:
    case CURLE_PARTIAL_FILE:
    case CURLE_GOT_NOTHING:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
        return 1;
    default:
        return 0;
    }
}

static const char *describe(CURLcode rc)
{
    switch (rc) {
    case CURLE_COULDNT_RESOLVE_HOST:
        return "cannot resolve the server's host name";
    case CURLE_COULDNT_CONNECT:
        return "cannot connect to the server";
    case CURLE_OPERATION_TIMEDOUT:
        return "timed out";
    case CURLE_PEER_FAILED_VERIFICATION:
        return "the server's TLS certificate is not trusted (check the CA, or the server name)";
    case CURLE_SSL_CACERT_BADFILE:
        return "cannot load the CA certificates";
    case CURLE_SSL_CERTPROBLEM:
        return "cannot use the client certificate";
    case CURLE_SSL_CONNECT_ERROR:
        return "the TLS handshake failed";
    case CURLE_PARTIAL_FILE:
        return "the response was cut off before its end";
    case CURLE_GOT_NOTHING:
        return "the server closed the connection without answering";
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
        return "the connection broke";
    case CURLE_BAD_CONTENT_ENCODING:
        return "cannot decode the compressed response";
    case CURLE_UNSUPPORTED_PROTOCOL:
        return "only http:// and https:// URLs are supported";
    case CURLE_URL_MALFORMAT:
        return "the URL is malformed";
    default:
        return curl_easy_strerror(rc);
    }
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR) {
    }
}

/* How long to wait before attempt number `attempt + 1`: the server's Retry-After when it sent
 * one (capped), else first_backoff_ms doubled per attempt already made. */
static long wait_ms(const struct http_client *c, int attempt)
{
    curl_off_t retry_after = 0;
    if (curl_easy_getinfo(c->curl, CURLINFO_RETRY_AFTER, &retry_after) == CURLE_OK &&
        retry_after > 0) {
        long s = retry_after < c->max_retry_after_s ? (long)retry_after : c->max_retry_after_s;
        return s * 1000;
    }
    long ms = c->first_backoff_ms;
    for (int i = 1; i < attempt && ms < HTTP_MAX_BACKOFF_MS; i++)
        ms *= 2;
    return ms < HTTP_MAX_BACKOFF_MS ? ms : HTTP_MAX_BACKOFF_MS;
}

/* One request with retries; what names it in messages is `what` ("GET URL", or a caller's
 * label when the URL is a secret). */
static int perform(struct http_client *c, const char *what, struct http_response *resp,
                   struct err *e)
{
    buf_init(&resp->body, c->max_body);
    resp->status = 0;
    resp->attempts = 0;
    struct sink sink = {&resp->body};
    curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, &sink);
    c->etag = resp->etag;

    for (int attempt = 1;; attempt++) {
        buf_reset(&resp->body);
        c->errbuf[0] = '\0';
        c->pos = 0;
        resp->etag[0] = '\0';
        resp->attempts = attempt;
        CURLcode rc = curl_easy_perform(c->curl);
        int more = attempt < c->max_attempts;
        if (rc == CURLE_OK) {
            curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &resp->status);
            if (!(more && status_is_retryable(resp->status))) return 0;
        } else if (rc == CURLE_WRITE_ERROR && buf_failed(&resp->body)) {
            err_set(e, ERR_UPSTREAM, "%s: the response is larger than the %zu-byte limit", what,
                    c->max_body);
            return -1;
        } else if (!(more && code_is_retryable(rc))) {
            char tries[48] = "";
            if (attempt > 1) snprintf(tries, sizeof tries, " after %d attempts", attempt);
            err_set(e, ERR_UPSTREAM, "%s: %s%s%s%s", what, describe(rc), tries,
                    c->errbuf[0] ? ": " : "", c->errbuf);
            return -1;
        }
        sleep_ms(wait_ms(c, attempt));
    }
}

int http_get(struct http_client *c, const char *url, struct http_response *resp, struct err *e)
{
    char what[ERR_MSG_MAX / 2];
    snprintf(what, sizeof what, "GET %s", url);
    curl_easy_setopt(c->curl, CURLOPT_URL, url);
    curl_easy_setopt(c->curl, CURLOPT_HTTPGET, 1L);
    return perform(c, what, resp, e);
}

int http_post(struct http_client *c, const char *url, const char *label, const char *body,
              size_t len, const char *const *headers, struct http_response *resp, struct err *e)
{
    struct http_body b = {body, -1, 0, len};
    return http_request(c, "POST", url, label, &b, headers, resp, e);
}

/* The method's options on the handle; http_request puts GET back after each request. */
static void set_method(CURL *curl, const char *method, unsigned long long len)
{
    if (!strcmp(method, "PUT")) {
        curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
    } else if (!strcmp(method, "POST")) {
        curl_easy_setopt(curl, CURLOPT_POST, 1L);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    } else if (!strcmp(method, "HEAD")) {
        curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
    } else if (strcmp(method, "GET") != 0) {
        curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    }
}

int http_request(struct http_client *c, const char *method, const char *url, const char *label,
                 const struct http_body *body, const char *const *headers,
                 struct http_response *resp, struct err *e)
{
    /* "Expect:" drops curl's Expect: 100-continue: a round trip per request for nothing */
    struct curl_slist *h = curl_slist_append(NULL, "Expect:");
    for (const struct curl_slist *x = c->headers; x; x = x->next)
        h = curl_slist_append(h, x->data);
    for (size_t i = 0; headers && headers[i]; i++) {
        if (has_control_char(headers[i])) {
            curl_slist_free_all(h);
            return err_set(e, ERR_INVALID, "%s: a header holds a line break or control character",
                           label);
        }
        h = curl_slist_append(h, headers[i]);
    }
    c->body = body ? *body : (struct http_body){"", -1, 0, 0};
    curl_easy_setopt(c->curl, CURLOPT_URL, url);
    curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, h);
    set_method(c->curl, method, c->body.len);
    int rc = perform(c, label, resp, e);
    curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, c->headers);
    curl_easy_setopt(c->curl, CURLOPT_CUSTOMREQUEST, NULL);
    curl_easy_setopt(c->curl, CURLOPT_NOBODY, 0L);
    curl_easy_setopt(c->curl, CURLOPT_HTTPGET, 1L);
    curl_slist_free_all(h);
    c->etag = NULL;
    return rc;
}
