/* auth.h - bearer tokens (spec section 4): the tokens file, re-read when it changes, and the
 * decision whether one request may be answered.
 *
 * The file holds SHA-256 digests, never tokens. Each non-comment line is
 *     SHA256HEX NAME ROLE EXPIRES [NAMESPACES]
 * (64 lower-case hex digits; a name of printable ASCII; Admin, Reader or Metrics; an RFC 3339
 * time or "-"; a comma list of Kubernetes namespace names). Anything else in the file makes
 * the whole file unusable, and an unusable file fails closed: every request but the public
 * endpoints (api_endpoints rows marked public: /healthz, /ready, /v1/ping) is answered 503
 * until the file is fixed. */
#ifndef POLSNAP_AUTH_H
#define POLSNAP_AUTH_H

#include "api.h"

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#define AUTH_FILE_MAX ((size_t)1 << 20) /* bytes of a tokens file */
#define AUTH_LINE_MAX 4096              /* bytes of one line */
#define AUTH_TOKENS_MAX 10000           /* tokens in one file */
#define AUTH_NAME_MAX 128               /* bytes of a token's NAME */
#define AUTH_NEVER INT64_MAX            /* expires: no expiry ("-") */

struct auth_token {
    unsigned char digest[32]; /* SHA-256 of the token */
    char *name;
    enum api_role role; /* API_ADMIN, API_READER or API_METRICS */
    int64_t expires;    /* Unix seconds, AUTH_NEVER for none */
    char **namespaces;  /* NULL: no limit; else nnamespaces names in file order */
    size_t nnamespaces; /* >= 1 when namespaces is set */
};

struct auth_tokens {
    struct auth_token *v;
    size_t n;
};

/* Parses the text of a tokens file (len bytes, need not be NUL-terminated). Returns 0 with
 * *out filled (release with auth_tokens_release), or -1 with *out empty and *err
 * (ERR_INVALID) naming the line and what is wrong with it. */
int auth_tokens_parse(const char *text, size_t len, struct auth_tokens *out, struct err *err);
void auth_tokens_release(struct auth_tokens *t);

/* The tokens file as last read, and what it was when read (to notice a change). */
struct auth {
    char path[PATH_MAX];
    int loaded; /* 1 once auth_refresh ran */
    int usable; /* 1: tokens is valid; 0: fail closed, err says why */
    struct auth_tokens tokens;
    struct err err;
    /* the file's identity at the last read; errnum != 0 when stat failed */
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime, ctime;
    int errnum;
};

void auth_init(struct auth *a, const char *path);
/* Stats the file (one syscall: call it once per request) and re-reads it when it changed or
 * never was read. Logs one line to stderr per change: the number of tokens loaded, or why the
 * file cannot be used. */
void auth_refresh(struct auth *a);
void auth_release(struct auth *a);

/* Whether a request for path (decoded, without the query string) carrying this Authorization
 * header (NULL when absent) may be answered at time now. Returns 0 and fills *view (its
 * strings point into a->tokens: valid until the next auth_refresh) when it may; else -1 with
 * *e set (ERR_UNAUTHENTICATED: no or bad token, 401; ERR_FORBIDDEN: a role the endpoint's
 * row does not list, 403; ERR_UNAVAILABLE: unusable tokens file, 503) and *view holding only
 * auth = 1 (no name, no role, no namespaces). Public endpoints always pass, with no token. */
int auth_check(const struct auth *a, const char *path, const char *authorization, int64_t now,
               struct api_view *view, struct err *e);

#endif
