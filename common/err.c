/* err.c - the error codes' table and the two setters of err.h. */
#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const struct {
    int http, grpc;
} codes[ERR_NCODES] = {
    [ERR_NONE] = {200, 0},      [ERR_INVALID] = {400, 3},      [ERR_UNAUTHENTICATED] = {401, 16},
    [ERR_FORBIDDEN] = {403, 7}, [ERR_NOT_FOUND] = {404, 5},    [ERR_METHOD] = {405, 12},
    [ERR_TOO_LONG] = {414, 3},  [ERR_HEADERS] = {431, 3},      [ERR_IO] = {500, 13},
    [ERR_UPSTREAM] = {502, 13}, [ERR_UNAVAILABLE] = {503, 14}, [ERR_INTERNAL] = {500, 13},
};

int err_set(struct err *e, enum err_code code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    e->code = code;
    return -1;
}

int err_prefix(struct err *e, const char *fmt, ...)
{
    char head[ERR_MSG_MAX], tail[ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(head, sizeof head, fmt, ap);
    va_end(ap);
    memcpy(tail, e->msg, sizeof tail);
    snprintf(e->msg, sizeof e->msg, "%s%s", head, tail);
    return -1;
}

int err_http_status(enum err_code code)
{
    return (unsigned)code < ERR_NCODES ? codes[code].http : 500;
}

int err_grpc_code(enum err_code code)
{
    return (unsigned)code < ERR_NCODES ? codes[code].grpc : 13;
}

enum err_code err_code_for_status(int http_status)
{
    for (int c = ERR_INVALID; c < ERR_NCODES; c++)
        if (codes[c].http == http_status) return (enum err_code)c;
    return ERR_INTERNAL;
}
