/* err.h - the one error type every polsnap module returns.
 *
 * A failing function fills a caller-owned struct err (a code and one message of one size)
 * and returns -1; on success it leaves the struct untouched. The code says what kind of
 * failure it is, so the HTTP layer maps it to a status (err_http_status) and the snapshot job
 * to an exit status, without parsing messages. The message is for an operator: it names the
 * file, document, option or field it is about ("samples/a.yaml: document 2: results[3].result:
 * \"maybe\" is not one of pass fail warn error skip"). It never holds a secret. */
#ifndef POLSNAP_ERR_H
#define POLSNAP_ERR_H

/* One row per code in err.c's table (HTTP status, gRPC code); adding a code is one row. */
enum err_code {
    ERR_NONE = 0,
    ERR_INVALID,         /* bad input: a parameter, a report, a config value (400) */
    ERR_UNAUTHENTICATED, /* no or unknown credentials (401) */
    ERR_FORBIDDEN,       /* known credentials, not allowed (403) */
    ERR_NOT_FOUND,       /* no such thing (404) */
    ERR_METHOD,          /* a method the resource does not take (405) */
    ERR_TOO_LONG,        /* a request line or parameter over its bound (414) */
    ERR_HEADERS,         /* request headers over their bound (431) */
    ERR_IO,              /* the file system or a system call failed (500) */
    ERR_UPSTREAM,        /* a server we read from failed or refused (502) */
    ERR_UNAVAILABLE,     /* not ready yet: no snapshot, a lock held by another run (503) */
    ERR_INTERNAL,        /* a bug or a broken invariant (500) */
    ERR_NCODES
};

#define ERR_MSG_MAX 1024

struct err {
    enum err_code code;
    char msg[ERR_MSG_MAX];
};

/* Fills *e (message cut at ERR_MSG_MAX - 1 bytes) and returns -1, so that a failing function
 * can end with `return err_set(e, ERR_IO, "%s: %s", path, strerror(errno));`. */
int err_set(struct err *e, enum err_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Puts context in front of a message already set ("kubernetes: " + msg); keeps the code.
 * Returns -1 like err_set. */
int err_prefix(struct err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The HTTP status, and the gRPC code StackRox puts in its error bodies (spec section 4). */
int err_http_status(enum err_code code);
int err_grpc_code(enum err_code code);

/* The code for an HTTP status this project answers with (the inverse of err_http_status;
 * ERR_INTERNAL for any other status). */
enum err_code err_code_for_status(int http_status);

#endif
