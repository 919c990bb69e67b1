/* gzsink.h - a gzip-compressed copy of a stream in a file of its own: the precompressed answers
 * lighttpd sends to clients that accept gzip (lighttpd.conf, and polsnap-fcgi's X-Sendfile). */
#ifndef POLSNAP_GZSINK_H
#define POLSNAP_GZSINK_H

#include "err.h"

#include <stddef.h>
#include <zlib.h>

struct gzsink {
    z_stream z;
    int fd;     /* -1 when not open */
    int failed; /* an errno, sticky */
};

/* Creates path (O_EXCL) for a gzip stream (RFC 1952, no name, mtime 0: the same input gives
 * the same bytes). Returns 0, or -1 with *e set. */
int gzsink_open(struct gzsink *g, const char *path, struct err *e);
/* Compresses data[0..n) into the file; a failure is kept for gzsink_close. */
void gzsink_write(struct gzsink *g, const char *data, size_t n);
/* Finishes the stream, fsyncs and closes. Returns 0, or -1 with *e set (naming path). */
int gzsink_close(struct gzsink *g, const char *path, struct err *e);

#endif
