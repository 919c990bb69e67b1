/* buf.c - the capped growable buffer, JSON string escaping and the ?pretty re-indenter. */
#include "buf.h"

#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void buf_set_sink(struct buf *b, buf_sink_fn sink, void *ctx)
{
    b->sink = sink;
    b->sink_ctx = ctx;
}

void buf_flush(struct buf *b)
{
    if (!b->sink || !b->len || !b->ptr) return;
    b->sink(b->sink_ctx, b->ptr, b->len);
    b->len = 0;
    b->ptr[0] = '\0';
}

void buf_init(struct buf *b, size_t max)
{
    struct buf init = BUF_INIT(max);
    *b = init;
}

void buf_reset(struct buf *b)
{
    b->len = 0;
    b->over = 0;
    if (b->ptr) b->ptr[0] = '\0';
}

void buf_truncate(struct buf *b, size_t len)
{
    if (len < b->len) b->len = len;
    b->over = 0;
    if (b->ptr) b->ptr[b->len] = '\0';
}

void buf_release(struct buf *b)
{
    free(b->ptr);
    buf_init(b, b->max);
}

char *buf_detach(struct buf *b, size_t *len)
{
    char *p = b->ptr ? b->ptr : xstrdup("");
    if (len) *len = b->len;
    buf_init(b, b->max);
    return p;
}

/* Makes room for n more bytes plus the NUL; 0 on success, -1 (and `over` set) past max. With
 * a sink, what has gathered is flushed first to make the room. */
static int buf_grow(struct buf *b, size_t n)
{
    if (b->over) return -1;
    if (b->sink && n > b->max - b->len) buf_flush(b);
    if (n > b->max - b->len) {
        b->over = 1;
        return -1;
    }
    size_t need = b->len + n + 1;
    if (need > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < need)
            cap *= 2;
        b->ptr = xrealloc(b->ptr, cap);
        b->cap = cap;
    }
    return 0;
}

void buf_add(struct buf *b, const void *data, size_t n)
{
    if (b->sink && !b->over && n > b->max) { /* streams past the cap: never cut short */
        buf_flush(b);
        b->sink(b->sink_ctx, data, n);
        return;
    }
    if (buf_grow(b, n)) return;
    if (n) memcpy(b->ptr + b->len, data, n);
    b->len += n;
    b->ptr[b->len] = '\0';
    if (b->sink && b->len >= BUF_FLUSH_AT) buf_flush(b);
}

static int too_big(struct buf *b)
{
    b->over = 1;
    errno = EFBIG;
    return -1;
}

int buf_read_fd(struct buf *b, int fd)
{
    struct stat st;
    if (b->over) return too_big(b);
    if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
        /* Room for the whole file, read in one pass; a file that grows while read is
         * noticed by the read past it. */
        if ((uint64_t)st.st_size > b->max - b->len) return too_big(b);
        buf_grow(b, (size_t)st.st_size);
        b->ptr[b->len] = '\0';
    }
    for (;;) {
        size_t left = b->max - b->len, room = b->ptr ? b->cap - b->len - 1 : 0;
        if (room > left) room = left;
        char spill; /* with no room, one byte read tells the end from more to come */
        ssize_t n = room ? read(fd, b->ptr + b->len, room) : read(fd, &spill, 1);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return n < 0 ? -1 : 0;
        if (!room) {
            buf_add(b, &spill, 1); /* grows the buffer, or refuses past max */
            if (buf_failed(b)) return too_big(b);
            continue;
        }
        b->len += (size_t)n;
        b->ptr[b->len] = '\0';
    }
}

int buf_read_file(struct buf *b, const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    int rc = buf_read_fd(b, fd), e = errno;
    close(fd);
    errno = e;
    return rc;
}

void buf_put_urlencoded(struct buf *b, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '.' || c == '_' || c == '~')
            buf_putc(b, (char)c);
        else
            buf_printf(b, "%%%02X", c);
    }
}

void buf_put_utf8_repaired(struct buf *b, const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        size_t run = utf8_prefix(s + i, n - i);
        buf_add(b, s + i, run);
        i += run;
        if (i < n && !utf8_seq(u + i, n - i)) {
            buf_add(b, "\xEF\xBF\xBD", 3); /* U+FFFD */
            i++;
        }
    }
}

void buf_puts(struct buf *b, const char *s)
{
    buf_add(b, s, strlen(s));
}

void buf_putc(struct buf *b, char c)
{
    buf_add(b, &c, 1);
}

void buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
    char small[256];
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    if (n < 0) {
        va_end(ap2);
        return;
    }
    if ((size_t)n < sizeof small) {
        buf_add(b, small, (size_t)n);
    } else { /* rare: formatted apart, so that buf_add's cap and sink rules apply */
        char *big = xmalloc((size_t)n + 1);
        vsnprintf(big, (size_t)n + 1, fmt, ap2);
        buf_add(b, big, (size_t)n);
        free(big);
    }
    va_end(ap2);
}

void buf_printf(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    buf_vprintf(b, fmt, ap);
    va_end(ap);
}

void buf_put_u64(struct buf *b, uint64_t v)
{
    char tmp[24], *p = tmp + sizeof tmp;
    do {
        *--p = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    buf_add(b, p, (size_t)(tmp + sizeof tmp - p));
}

void buf_put_i64(struct buf *b, int64_t v)
{
    if (v < 0) {
        buf_putc(b, '-');
        buf_put_u64(b, (uint64_t)0 - (uint64_t)v);
    } else {
        buf_put_u64(b, (uint64_t)v);
    }
}

void buf_json_strn(struct buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    buf_putc(b, '"');
    size_t run = 0; /* bytes copied verbatim in one go: the hot path of every response */
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\') continue;
        buf_add(b, s + run, i - run);
        run = i + 1;
        char esc[6] = {'\\', 0, 0, 0, 0, 0};
        size_t len = 2;
        switch (c) {
        case '"':
            esc[1] = '"';
            break;
        case '\\':
            esc[1] = '\\';
            break;
        case '\n':
            esc[1] = 'n';
            break;
        case '\r':
            esc[1] = 'r';
            break;
        case '\t':
            esc[1] = 't';
            break;
        case '\b':
            esc[1] = 'b';
            break;
        case '\f':
            esc[1] = 'f';
            break;
        default:
            esc[1] = 'u';
            esc[2] = esc[3] = '0';
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            len = 6;
        }
        buf_add(b, esc, len);
    }
    buf_add(b, s + run, n - run);
    buf_putc(b, '"');
}

void buf_json_str(struct buf *b, const char *s)
{
    buf_json_strn(b, s, strlen(s));
}

void buf_json_str_or_null(struct buf *b, const char *s)
{
    if (s)
        buf_json_str(b, s);
    else
        buf_add(b, "null", 4);
}

void buf_put_escaped(struct buf *b, const char *s)
{
    size_t run = 0, i = 0;
    for (; s && s[i]; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *ref = c == '&'    ? "&amp;"
                          : c == '<'  ? "&lt;"
                          : c == '>'  ? "&gt;"
                          : c == '"'  ? "&quot;"
                          : c == '\'' ? "&#39;"
                          : ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f)
                              ? "\xef\xbf\xbd"
                              : NULL;
        if (!ref) continue;
        buf_add(b, s + run, i - run);
        buf_puts(b, ref);
        run = i + 1;
    }
    if (s) buf_add(b, s + run, i - run);
}

static void indent(struct buf *b, int depth)
{
    static const char spaces[] = "                                ";
    buf_putc(b, '\n');
    for (int left = depth * 2; left > 0; left -= 32)
        buf_add(b, spaces, left < 32 ? (size_t)left : 32);
}

void json_pretty_sink(void *ctx, const char *s, size_t n)
{
    struct json_pretty *p = ctx;
    struct buf *b = p->out;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (p->in_str) {
            buf_putc(b, c);
            if (p->esc)
                p->esc = 0;
            else if (c == '\\')
                p->esc = 1;
            else if (c == '"')
                p->in_str = 0;
            continue;
        }
        if (c == ' ' || c == '\n' || c == '\t' || c == '\r') continue;
        if (p->open_pending) { /* the char after { or [ decides: empty, or a new level */
            p->open_pending = 0;
            if (c == '}' || c == ']') {
                buf_putc(b, c);
                continue;
            }
            indent(b, ++p->depth);
        }
        switch (c) {
        case '"':
            p->in_str = 1;
            buf_putc(b, c);
            break;
        case '{':
        case '[':
            buf_putc(b, c);
            p->open_pending = 1;
            break;
        case '}':
        case ']':
            indent(b, --p->depth);
            buf_putc(b, c);
            break;
        case ',':
            buf_putc(b, ',');
            indent(b, p->depth);
            break;
        case ':':
            buf_add(b, ": ", 2);
            break;
        default:
            buf_putc(b, c);
        }
    }
}
