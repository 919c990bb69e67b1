/* util.h - allocation that never fails, ASCII case folding, small helpers used everywhere.
 *
 * Out of memory is not an error path in polsnap: the x* wrappers print a message and abort.
 * That is safe because the snapshot job publishes atomically (an abort leaves the last good
 * snapshot live) and lighttpd respawns a FastCGI process that died. */
#ifndef POLSNAP_UTIL_H
#define POLSNAP_UTIL_H

#include <stddef.h>
#include <stdint.h>

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
/* xreallocarray(p, n, size): like xrealloc(p, n*size), aborting on overflow. */
void *xreallocarray(void *p, size_t n, size_t size);
/* The next capacity of a growing array of cap elements (first when cap is 0): doubled, but
 * never past limit, so a 32-bit count never wraps; at limit it aborts like running out of
 * memory (callers with a clean error for their bound check it before growing). */
uint32_t grow_cap_u32(uint32_t cap, uint32_t first, uint32_t limit);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

/* ASCII folding: 'A'..'Z' become 'a'..'z', every other byte (UTF-8 included) is unchanged.
 * The spec says matching is case-insensitive "by ASCII folding"; locale never matters. */
static inline unsigned char ascii_fold(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
}
/* The value of a hex digit (either case), or -1. */
static inline int hex_value(char c)
{
    return (c >= '0' && c <= '9')   ? c - '0'
           : (c >= 'a' && c <= 'f') ? c - 'a' + 10
           : (c >= 'A' && c <= 'F') ? c - 'A' + 10
                                    : -1;
}

/* FNV-1a's steps over s[0..n), 64 bits: the hash of every hash table in the project. Its
 * offset basis, 1469598103934665603, is the published one (14695981039346656037) short of
 * its last digit; it spreads keys as well and is kept so that tables lay out as before. */
uint64_t fnv1a(const char *s, size_t n);

/* Length of the valid UTF-8 sequence at s[0..n) (1-4), or 0 when s does not start one (or
 * n is 0): no overlong forms, no surrogates, nothing above U+10FFFF. */
size_t utf8_seq(const unsigned char *s, size_t n);
/* The length of the longest valid UTF-8 prefix of s[0..n): n when all of it is valid. */
size_t utf8_prefix(const char *s, size_t n);

/* 1 when s[0..n) is a DNS-1123 label, what Kubernetes allows as a namespace name: 1-63 of
 * [a-z0-9-], alphanumeric at both ends. */
int dns_label(const char *s, size_t n);

/* Removes path and everything under it (symlinks are removed, not followed); quietly does
 * what it can: callers use it to clean up, where a failure changes nothing. */
void rm_rf(const char *path);

/* <0, 0, >0 like strcmp, comparing folded bytes. */
int ascii_casecmp(const char *a, const char *b);
/* 1 when prefix (length n) is a folded prefix of s. */
int ascii_has_prefix_nc(const char *s, const char *prefix, size_t n);

/* Formats Unix seconds as RFC 3339 UTC ("2024-05-01T10:00:00Z") into out[21]. */
void rfc3339_utc(int64_t seconds, char out[21]);

/* Parses an RFC 3339 date-time ("2024-05-01T10:00:00Z", "...T10:00:00.5+02:00"; T and Z in
 * either case, at most 9 fraction digits, dropped; a leap second counts as :59) into Unix
 * seconds. Returns 0 with *out set, or -1 with *out untouched (also for dates that do not
 * exist, like February 30). */
int rfc3339_parse(const char *s, int64_t *out);

/* The reason phrase of an HTTP status this project sends or meets ("" for others). */
const char *http_reason(long status);

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#endif
