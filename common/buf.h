/* buf.h - a growable, size-capped byte buffer; the one type every JSON and text output uses.
 *
 * Invariants: once anything was added, ptr is non-NULL and ptr[len] == '\0' (the content is
 * binary-safe all the same); len <= max. An append that would pass max adds nothing and sets
 * the sticky flag `over`; later appends are no-ops, so a renderer appends freely and checks
 * buf_failed() once at the end (api_handle does for every answer). A buffer with a sink never
 * fails: it streams past max. Allocation failure aborts (see util.h).
 *
 * Lifecycle (git's strbuf words): BUF_INIT / buf_init set up without allocating; buf_reset
 * empties but keeps the memory (the FastCGI loop reuses one buffer); buf_release frees and
 * returns to the init state; buf_detach hands the bytes to the caller, who frees them. */
#ifndef POLSNAP_BUF_H
#define POLSNAP_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* A sink, when set, receives the content whenever BUF_FLUSH_AT bytes have gathered (and at
 * buf_flush), and the buffer is emptied: a response of any size streams through a bounded
 * buffer. max then bounds the unflushed part only: an append that does not fit flushes first,
 * and one larger than max goes to the sink as it is. */
typedef void (*buf_sink_fn)(void *ctx, const char *data, size_t n);
#define BUF_FLUSH_AT ((size_t)64 * 1024)

struct buf {
    char *ptr;
    size_t len, cap, max;
    int over; /* an append was refused because of max */
    buf_sink_fn sink;
    void *sink_ctx;
};

#define BUF_INIT(maxbytes)                                                                         \
    {                                                                                              \
        NULL, 0, 0, (maxbytes), 0, NULL, NULL                                                      \
    }

void buf_init(struct buf *b, size_t max);
void buf_reset(struct buf *b);
void buf_release(struct buf *b);
/* Cuts the content back to its first len bytes (no-op past len) and clears `over`: a caller
 * drops an answer that did not fit and writes an error instead. */
void buf_truncate(struct buf *b, size_t len);
/* Returns the content (NUL-terminated, never NULL) and stores its length in *len when len is
 * not NULL; the buffer is back in the init state. The caller frees the result. */
char *buf_detach(struct buf *b, size_t *len);
static inline int buf_failed(const struct buf *b)
{
    return b->over;
}

void buf_set_sink(struct buf *b, buf_sink_fn sink, void *ctx);
/* Hands what has gathered to the sink (no-op without one). */
void buf_flush(struct buf *b);

/* Appends the whole content of the file at path. Returns 0, or -1 with errno set: from open
 * or read, or EFBIG when the file does not fit under max (b then holds a part of it; a regular
 * file whose size says so is refused before any read). */
int buf_read_file(struct buf *b, const char *path);
/* The same for an open descriptor, read to its end (the caller closes it). */
int buf_read_fd(struct buf *b, int fd);

void buf_add(struct buf *b, const void *data, size_t n);
/* Appends s percent-encoded: every byte but RFC 3986's unreserved characters as %XX. */
void buf_put_urlencoded(struct buf *b, const char *s);
void buf_puts(struct buf *b, const char *s);
void buf_putc(struct buf *b, char c);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void buf_vprintf(struct buf *b, const char *fmt, va_list ap);
void buf_put_u64(struct buf *b, uint64_t v);
void buf_put_i64(struct buf *b, int64_t v);

/* Appends s[0..n) with every byte that does not belong to a valid UTF-8 sequence (util.h's
 * utf8_seq) replaced by U+FFFD, so that what is appended is valid UTF-8. */
void buf_put_utf8_repaired(struct buf *b, const char *s, size_t n);

/* Appends s as a JSON string literal, quotes included, escaped per RFC 8259 (control
 * characters as \u00XX; bytes >= 0x80 are copied, so valid UTF-8 stays valid). */
void buf_json_str(struct buf *b, const char *s);
void buf_json_strn(struct buf *b, const char *s, size_t n);
/* Like buf_json_str, but NULL (a blank field) is written as null. */
void buf_json_str_or_null(struct buf *b, const char *s);

/* Appends s (NULL: nothing) escaped for HTML and XML text and quoted attribute values: & < > " '
 * as character references, control characters other than tab, newline and CR as U+FFFD (HTML
 * and XML 1.0 do not allow them); other bytes copied, so valid UTF-8 stays valid. */
void buf_put_escaped(struct buf *b, const char *s);

/* ?pretty: a streaming re-indenter. Fed compact JSON (our own output) in pieces of any size,
 * it appends to out the same JSON indented by two spaces per level, one member or element per
 * line, "key": value; empty objects and arrays stay {} and []. Use json_pretty_sink as a
 * buf sink with a struct json_pretty (out set, the rest zero) as its context. */
struct json_pretty {
    struct buf *out;
    int depth, in_str, esc, open_pending;
};
void json_pretty_sink(void *ctx, const char *s, size_t n);

#endif
