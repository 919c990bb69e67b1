/* buf.c - the capped growable buffer, JSON string escaping and the ?pretty re-indenter. */
#include "buf.h"

#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* Makes room for n more bytes plus the NUL; 0 on success, -1 (and `over` set) past max. */
static int buf_grow(struct buf *b, size_t n)
{
    if (b->over) return -1;
    if (n > b->max - b->len) {
        b->over = 1;
        return -1;
    }
    size_t need = b->len + n + 1;
    if (need > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < need) cap *= 2;
        b->ptr = xrealloc(b->ptr, cap);
        b->cap = cap;
    }
    return 0;
}

void buf_add(struct buf *b, const void *data, size_t n)
{
    if (buf_grow(b, n)) return;
    if (n) memcpy(b->ptr + b->len, data, n);
    b->len += n;
    b->ptr[b->len] = '\0';
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
    } else if (!buf_grow(b, (size_t)n)) {
        vsnprintf(b->ptr + b->len, (size_t)n + 1, fmt, ap2);
        b->len += (size_t)n;
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
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        case '\b': esc[1] = 'b'; break;
        case '\f': esc[1] = 'f'; break;
        default:
            memcpy(esc + 1, "u00", 3);
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

static void indent(struct buf *b, int depth)
{
    buf_putc(b, '\n');
    for (int i = 0; i < depth; i++) buf_add(b, "  ", 2);
}

void buf_json_pretty(struct buf *b, const char *json, size_t n)
{
    int depth = 0;
    for (size_t i = 0; i < n; i++) {
        char c = json[i];
        switch (c) {
        case '"': {
            size_t j = i + 1;
            while (j < n && json[j] != '"') j += (json[j] == '\\') ? 2 : 1;
            if (j >= n) j = n - 1;
            buf_add(b, json + i, j - i + 1);
            i = j;
            break;
        }
        case '{':
        case '[': {
            size_t j = i + 1;
            while (j < n && (json[j] == ' ' || json[j] == '\n')) j++;
            if (j < n && (json[j] == '}' || json[j] == ']')) {
                buf_putc(b, c);
                buf_putc(b, json[j]);
                i = j;
                break;
            }
            buf_putc(b, c);
            indent(b, ++depth);
            break;
        }
        case '}':
        case ']':
            indent(b, --depth);
            buf_putc(b, c);
            break;
        case ',':
            buf_putc(b, ',');
            indent(b, depth);
            break;
        case ':':
            buf_add(b, ": ", 2);
            break;
        case ' ':
        case '\n':
        case '\t':
        case '\r':
            break;
        default:
            buf_putc(b, c);
        }
    }
}
