/* gzsink.c - a gzip-compressed copy of a stream in its own file (gzsink.h). */
#include "gzsink.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

/* Speed over size: the biggest answers (every row, the detailed metrics) are hundreds of MB at a
 * million results, and the job's wall time matters more than the last 20% of ratio. */
#define GZ_LEVEL 1

int gzsink_open(struct gzsink *g, const char *path, struct err *e)
{
    memset(g, 0, sizeof *g);
    g->fd = -1;
    /* windowBits 15 + 16: a gzip wrapper instead of zlib's */
    if (deflateInit2(&g->z, GZ_LEVEL, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return err_set(e, ERR_INTERNAL, "%s: zlib: %s", path, g->z.msg ? g->z.msg : "init failed");
    g->fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (g->fd < 0) {
        deflateEnd(&g->z);
        return err_set(e, ERR_IO, "%s: %s", path, strerror(errno));
    }
    return 0;
}

/* Runs deflate with flush over what is in z, writing every output block. */
static void pump(struct gzsink *g, int flush)
{
    unsigned char out[1 << 16];
    do {
        g->z.next_out = out;
        g->z.avail_out = sizeof out;
        int rc = deflate(&g->z, flush);
        if (rc == Z_STREAM_ERROR) {
            g->failed = EIO;
            return;
        }
        for (size_t have = sizeof out - g->z.avail_out, off = 0; have > off && !g->failed;) {
            ssize_t w = write(g->fd, out + off, have - off);
            if (w < 0 && errno == EINTR) continue;
            if (w <= 0)
                g->failed = errno ? errno : EIO;
            else
                off += (size_t)w;
        }
    } while (g->z.avail_out == 0 && !g->failed);
}

void gzsink_write(struct gzsink *g, const char *data, size_t n)
{
    while (n && !g->failed) {
        uInt chunk = n > (1u << 30) ? (1u << 30) : (uInt)n;
        g->z.next_in = (Bytef *)(uintptr_t)data;
        g->z.avail_in = chunk;
        pump(g, Z_NO_FLUSH);
        data += chunk;
        n -= chunk;
    }
}

int gzsink_close(struct gzsink *g, const char *path, struct err *e)
{
    if (!g->failed) {
        g->z.next_in = NULL;
        g->z.avail_in = 0;
        pump(g, Z_FINISH);
    }
    deflateEnd(&g->z);
    if (!g->failed && fsync(g->fd) != 0) g->failed = errno;
    if (close(g->fd) != 0 && !g->failed) g->failed = errno;
    g->fd = -1;
    if (g->failed) return err_set(e, ERR_IO, "writing %s: %s", path, strerror(g->failed));
    return 0;
}
