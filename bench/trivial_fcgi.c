/* trivial_fcgi.c - the benchmark's FastCGI reference: a libfcgi responder that answers
 * /fcgi/N with the bytes of its N-th file argument, read once at start. It does no work per
 * request beyond libfcgi's own, so polsnap-fcgi's req/s over its req/s is the price of the
 * query itself. Built by bench/run only; never part of the product. */
#include "util.h"

#include <fcgiapp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_BODY                                                                                   \
    ((long)256 << 20) /* larger files are refused: this is a reference, not a server               \
                       */

struct body {
    char *data;
    int len;
};

static void on_term(int sig)
{
    (void)sig;
    FCGX_ShutdownPending();
}

/* Reads path whole into *b; 0, or -1 with a message on stderr (b untouched). */
static int load(const char *path, struct body *b)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return -1;
    }
    long n = -1;
    if (fseek(f, 0, SEEK_END) == 0) n = ftell(f);
    if (n < 0 || n > MAX_BODY || fseek(f, 0, SEEK_SET) != 0) {
        fprintf(stderr, "%s: unreadable or larger than %ld bytes\n", path, MAX_BODY);
        fclose(f);
        return -1;
    }
    char *data = xmalloc((size_t)n + 1);
    size_t got = fread(data, 1, (size_t)n, f);
    fclose(f);
    if (got != (size_t)n) {
        fprintf(stderr, "%s: short read\n", path);
        free(data);
        return -1;
    }
    b->data = data;
    b->len = (int)n;
    return 0;
}

/* The body index named by the last path segment of uri ("/fcgi/3?x" -> 3), or -1. */
static int body_index(const char *uri, int count)
{
    const char *p = uri ? strrchr(uri, '/') : NULL;
    if (!p) return -1;
    int i = 0, digits = 0;
    for (p++; *p >= '0' && *p <= '9' && digits < 9; p++, digits++)
        i = i * 10 + (*p - '0');
    if (!digits || (*p && *p != '?') || i >= count) return -1;
    return i;
}

static void free_bodies(struct body *bodies, int count)
{
    for (int i = 0; i < count; i++)
        free(bodies[i].data);
    free(bodies);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr,
                "usage: trivial-fcgi FILE... (spawned by lighttpd; /fcgi/N answers FILE N)\n");
        return 2;
    }
    int count = argc - 1;
    struct body *bodies = xcalloc((size_t)count, sizeof(*bodies));
    for (int i = 0; i < count; i++) {
        if (load(argv[i + 1], &bodies[i]) != 0) {
            free_bodies(bodies, count); /* xcalloc left the unloaded ones NULL */
            return 1;
        }
    }

    struct sigaction sa = {.sa_handler = on_term};
    sigaction(SIGTERM, &sa, NULL);
    if (FCGX_Init() != 0) return 1;
    FCGX_Request req;
    FCGX_InitRequest(&req, 0, 0);
    while (FCGX_Accept_r(&req) >= 0) {
        int i = body_index(FCGX_GetParam("REQUEST_URI", req.envp), count);
        if (i < 0) {
            FCGX_PutS("Status: 404 Not Found\r\nContent-Type: text/plain\r\n\r\nno such body\n",
                      req.out);
        } else {
            FCGX_PutS("Status: 200 OK\r\nContent-Type: application/json\r\n\r\n", req.out);
            FCGX_PutStr(bodies[i].data, bodies[i].len, req.out);
        }
        FCGX_Finish_r(&req);
    }
    free_bodies(bodies, count);
    return 0;
}
