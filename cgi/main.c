/* main.c - polsnap-fcgi: the FastCGI query server lighttpd spawns. Reads each request's
 * method and original URI, checks its token when tokens are on (POLSNAP_TOKENS), answers it
 * from the newest snapshot through api_handle, and streams the answer back; an unfiltered
 * request is handed back to lighttpd as its precomputed file (X-Sendfile). Memory per request
 * is bounded: answers stream through one buffer (its unflushed part at most 16 MiB; an append
 * larger than that goes to lighttpd as it is), a selection is a bitmap of one bit per row, and
 * counting answers (/v1/summary) tally per distinct value, never per selected row
 * (tests/unit/test_rows.c checks /v1/summary of 200,000 rows within 4 MiB). */
#include "api.h"
#include "auth.h"
#include "buf.h"
#include "snap.h"
#include "util.h"

#include <fcgiapp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define PATH_MAX_BYTES 2048 /* longer request paths: 414 */

static void on_term(int sig)
{
    (void)sig;
    FCGX_ShutdownPending();
}

/* Streams body bytes; the first flush sends the headers of a 200 answer (error answers are
 * small and never flush early: api_handle's contract in api.h). */
struct response {
    FCGX_Stream *out;
    const char *content_type;
    int head, started;
};

/* extra: more header lines, each ending in CRLF, or NULL */
static void start(struct response *r, int status, const char *type, long length, const char *extra)
{
    FCGX_FPrintF(r->out, "Status: %d %s\r\nContent-Type: %s\r\n", status, http_reason(status),
                 type);
    if (status == 200) FCGX_PutS(api_type_headers(type), r->out);
    if (extra) FCGX_PutS(extra, r->out);
    if (length >= 0) FCGX_FPrintF(r->out, "Content-Length: %ld\r\n", length);
    FCGX_PutS("\r\n", r->out);
    r->started = 1;
}

static void stream_body(void *ctx, const char *data, size_t n)
{
    struct response *r = ctx;
    if (!r->started) start(r, 200, r->content_type, -1, NULL);
    if (!r->head) FCGX_PutStr(data, (int)n, r->out);
}

/* Percent-decodes a path in place; 0, or -1 for a bad escape or a NUL byte. */
static int decode_path(char *p)
{
    char *w = p;
    for (char *s = p; *s; s++) {
        if (*s != '%') {
            *w++ = *s;
            continue;
        }
        int v = 0;
        for (int i = 1; i <= 2; i++) {
            int d = hex_value(s[i]);
            if (d < 0) return -1;
            v = v * 16 + d;
        }
        if (v == 0) return -1;
        *w++ = (char)v;
        s += 2;
    }
    *w = '\0';
    return 0;
}

/* 1 when an Accept-Encoding value lists gzip without refusing it (q=0): the rule
 * lighttpd.conf's two conditions on the header apply to the requests it serves itself. */
static int accepts_gzip(const char *ae)
{
    for (const char *p = ae; p && (p = strstr(p, "gzip")) != NULL; p += 4) {
        if (p != ae && p[-1] != ' ' && p[-1] != ',') continue;
        const char *q = p + 4;
        while (*q == ' ')
            q++;
        if (*q == ',' || *q == '\0') return 1;
        if (*q != ';') continue;
        for (q++; *q == ' '; q++) {
        }
        if (strncmp(q, "q=0", 3) != 0) return 1;
        for (q += 3; *q == '.' || *q == '0'; q++) {
        }
        if (*q != '\0' && *q != ',' && *q != ' ') return 1; /* q=0.5 */
    }
    return 0;
}

/* Answers an unfiltered GET or HEAD with its precomputed file (its gzip copy FILE.gz, when the
 * client accepts gzip and the copy is there), handed to lighttpd by X-Sendfile
 * (x-sendfile-docroot is the data directory): 1 when it did. Only for a view that sees
 * everything, and only when the file of the snapshot ix belongs to is there (a pruned snapshot
 * still mapped, or current pointing outside the data directory, is rendered). */
static int send_static(struct response *r, const struct snap *snap, const struct idx *ix,
                       const char *path, const char *qs, const struct api_view *view,
                       const char *accept_encoding)
{
    if (!ix || (qs && *qs) || (view && view->namespaces) || !snap->target[0] ||
        snap->target[0] == '/' || strstr(snap->target, ".."))
        return 0;
    const struct api_endpoint *ep = api_endpoint_find(path, NULL);
    if (!ep || !ep->file) return 0;
    char file[PATH_MAX * 3];
    struct stat st;
    snprintf(file, sizeof file, "%s/%s/%s", snap->data_dir, snap->target, ep->file);
    if (stat(file, &st) != 0 || !S_ISREG(st.st_mode)) return 0;
    size_t plain = strlen(file);
    int gz = accepts_gzip(accept_encoding) && plain + 3 < sizeof file;
    if (gz) {
        memcpy(file + plain, ".gz", 4);
        gz = stat(file, &st) == 0 && S_ISREG(st.st_mode);
        if (!gz) file[plain] = '\0';
    }
    FCGX_FPrintF(r->out,
                 "Status: 200 OK\r\nContent-Type: %s\r\nVary: Accept-Encoding\r\n%sX-Sendfile: ",
                 ep->content_type, gz ? "Content-Encoding: gzip\r\n" : "");
    /* lighttpd percent-decodes the header's path: escape all but the plainest bytes */
    for (const unsigned char *p = (const unsigned char *)file; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            strchr("/._-~", *p))
            FCGX_PutChar(*p, r->out);
        else
            FCGX_FPrintF(r->out, "%%%02X", *p);
    }
    FCGX_PutS("\r\n\r\n", r->out);
    r->started = 1;
    return 1;
}

/* The error lighttpd's error handler passed on (REDIRECT_STATUS) when it is not a missing
 * file: 1 with *e set, else 0. A missing static file (404) is answered like any request; 403
 * from the static handler is a directory without index.html, as unknown as a 404; other
 * errors (431: headers past server.max-request-field-size) are answered as what they mean. */
static int redirect_error(const char *redirect, struct err *e)
{
    if (!redirect || !strcmp(redirect, "404") || !strcmp(redirect, "403") ||
        !strcmp(redirect, "200"))
        return 0;
    if (strcmp(redirect, "431") == 0)
        err_set(e, ERR_HEADERS,
                "request headers too large: the request line and headers take more than 16 KiB");
    else if (strcmp(redirect, "414") == 0)
        err_set(e, ERR_TOO_LONG, "request line too long (at most 16 KiB)");
    else
        err_set(e, ERR_INVALID,
                "malformed request: the URL holds a control character or a byte lighttpd "
                "refuses (%s)",
                redirect);
    return 1;
}

/* Checks the token (when tokens are on) and answers path: as its precomputed file, or
 * rendered into out (streaming through r). *extra gets a header line a 401 needs. */
static struct api_result answer(FCGX_Request *req, struct response *r, struct snap *snap,
                                struct auth *auth, const char *path, const char *qs,
                                struct buf *out, const char **extra)
{
    const char *method = FCGX_GetParam("REQUEST_METHOD", req->envp);
    if (!method) method = "GET";
    struct api_view view, *v = NULL;
    struct err e = {0};
    if (auth) {
        auth_refresh(auth);
        v = &view;
        if (auth_check(auth, path, FCGX_GetParam("HTTP_AUTHORIZATION", req->envp),
                       (int64_t)time(NULL), &view, &e)) {
            if (e.code == ERR_UNAUTHENTICATED)
                *extra = "WWW-Authenticate: Bearer realm=\"polsnap\"\r\n";
            return api_error(out, &e);
        }
    }
    /* one snapshot for the whole request, whether sent as a file or rendered */
    const struct idx *ix = snap_current(snap);
    /* not from the error handler (REDIRECT_STATUS 404: the file is missing) */
    const char *redirect = FCGX_GetParam("REDIRECT_STATUS", req->envp);
    int handler = redirect && (!strcmp(redirect, "404") || !strcmp(redirect, "403"));
    if (!handler && (r->head || !strcmp(method, "GET")) &&
        send_static(r, snap, ix, path, qs, v, FCGX_GetParam("HTTP_ACCEPT_ENCODING", req->envp)))
        return (struct api_result){200, NULL};
    r->content_type = api_content_type(path);
    buf_set_sink(out, stream_body, r);
    return api_handle(ix, method, path, qs, v, out);
}

static void handle(FCGX_Request *req, struct snap *snap, struct auth *auth, struct buf *out)
{
    const char *method = FCGX_GetParam("REQUEST_METHOD", req->envp);
    const char *uri = FCGX_GetParam("REQUEST_URI", req->envp);
    if (!method) method = "GET";
    if (!uri) uri = "/";
    struct response r = {req->out, "application/json", strcmp(method, "HEAD") == 0, 0};
    buf_reset(out);
    buf_set_sink(out, NULL, NULL);

    struct api_result res;
    struct err e = {0};
    char path[PATH_MAX_BYTES + 1] = "";
    const char *extra = NULL;
    const char *q = strchr(uri, '?');
    size_t plen = q ? (size_t)(q - uri) : strlen(uri);
    if (redirect_error(FCGX_GetParam("REDIRECT_STATUS", req->envp), &e)) {
        res = api_error(out, &e);
    } else if (plen > PATH_MAX_BYTES) {
        err_set(&e, ERR_TOO_LONG, "request path longer than %d bytes", PATH_MAX_BYTES);
        res = api_error(out, &e);
    } else {
        memcpy(path, uri, plen);
        path[plen] = '\0';
        if (decode_path(path) != 0) {
            err_set(&e, ERR_INVALID, "invalid percent-encoding in the request path");
            res = api_error(out, &e);
        } else {
            res = answer(req, &r, snap, auth, path, q ? q + 1 : NULL, out, &extra);
        }
    }
    if (r.started) {
        buf_flush(out);
        if (res.status != 200)
            fprintf(stderr, "polsnap-fcgi: %s %s: status %d after streaming began\n", method, path,
                    res.status);
        return;
    }
    start(&r, res.status, res.content_type, (long)out->len, extra);
    if (!r.head) FCGX_PutStr(out->ptr ? out->ptr : "", (int)out->len, req->out);
}

/* --endpoints: the endpoint table, one tab-separated line per row (path, methods, content
 * type, precomputed file or "-", roles, "limited" when namespace-limited tokens are refused,
 * "public" or "token"), so that tests and operators see what is served without reading C. */
static void list_endpoints(void)
{
    for (size_t i = 0; i < api_nendpoints; i++) {
        const struct api_endpoint *ep = &api_endpoints[i];
        printf("%s\t%s\t%s\t%s\t", ep->path, ep->methods, ep->content_type,
               ep->file ? ep->file : "-");
        const char *sep = "";
        for (int r = API_ADMIN; r < API_NROLES; r++) {
            if (!(ep->roles & API_ROLE(r))) continue;
            printf("%s%s", sep, api_role_names[r]);
            sep = ",";
        }
        printf("\t%s\t%s\n", ep->limited ? "limited" : "-", ep->public ? "public" : "token");
    }
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--endpoints") == 0) {
        list_endpoints();
        return 0;
    }
    const char *data = getenv("POLSNAP_DATA");
    if (!data || !*data) {
        fprintf(stderr, "polsnap-fcgi: POLSNAP_DATA is not set (lighttpd.conf passes it)\n");
        return 1;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_term;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (FCGX_Init() != 0) return 1;
    FCGX_Request req;
    FCGX_InitRequest(&req, 0, 0);
    /* tokens off unless a tokens file is configured (lighttpd passes "" when it is not) */
    const char *tokens = getenv("POLSNAP_TOKENS");
    struct auth auth;
    if (tokens && *tokens) auth_init(&auth, tokens);
    struct snap snap;
    snap_init(&snap, data);
    struct buf out = BUF_INIT((size_t)16 << 20); /* the unflushed part: error bodies are tiny */
    while (FCGX_Accept_r(&req) >= 0) {
        handle(&req, &snap, tokens && *tokens ? &auth : NULL, &out);
        FCGX_Finish_r(&req);
    }
    buf_release(&out);
    snap_release(&snap);
    if (tokens && *tokens) auth_release(&auth);
    return 0;
}
