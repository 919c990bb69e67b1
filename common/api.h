/* api.h - every endpoint of the HTTP API, rendered from a snapshot index.
 *
 * One renderer serves both binaries: the snapshot job calls it with no query string to write
 * the precomputed files that lighttpd serves, and the FastCGI server calls it for every
 * request with parameters. So a static file and the dynamic answer to the same request are
 * the same bytes by construction. */
#ifndef POLSNAP_API_H
#define POLSNAP_API_H

#include "buf.h"
#include "idx.h"

#include <stddef.h>
#include <stdint.h>

/* Who asks and what they may see. With auth off (auth == 0) everything is visible and
 * /v1/auth/status answers anonymously. A namespace-limited token sees only namespaced rows of
 * its namespaces; cluster-scoped endpoints and /metrics (it covers every namespace) then
 * answer 403. Checking the token is the
 * caller's job (cgi/auth); this only shapes the answers. */
struct api_view {
    int auth;                      /* 1 when tokens are on */
    const char *token_name;        /* auth: the token's NAME */
    const char *role;              /* "Admin", "Reader" or "Metrics" */
    int64_t expires;               /* Unix seconds, 0 for none */
    const char *const *namespaces; /* NULL: no limit */
    size_t nnamespaces;
};

struct api_result {
    int status;               /* HTTP status */
    const char *content_type; /* static string */
};

/* Renders the answer to method/path?qs into out (appending; out may have a sink that
 * streams). ix is NULL when no snapshot has been published yet. path is the URL path without
 * the query string (percent-decoded by the caller). Errors are rendered as the spec's JSON
 * error object. Returns the status and content type; never fails otherwise. */
struct api_result api_handle(const struct idx *ix, const char *method, const char *path,
                             const char *qs, const struct api_view *view, struct buf *out);

/* The Content-Type of a successful answer for path (known before rendering, so a streamed
 * answer can send its headers first). */
const char *api_content_type(const char *path);

/* Renders the spec's error object {"code","message","error","details":[]} for an HTTP status. */
struct api_result api_error(struct buf *out, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Rows [lo, hi) of ix as a results answer {"items":[...],"count":n} (the static-hosting
 * shards: each namespace's rows are one contiguous run of the index). */
void api_write_rows(const struct idx *ix, uint32_t lo, uint32_t hi, struct buf *out);

/* One row in the summary representation (the 13 keys), as the list endpoints write it; the
 * notification targets send rows in it too. */
void api_put_row(struct buf *out, const struct idx *ix, const struct idx_row *row);

/* The unfiltered endpoints the snapshot job precomputes: URL path and file name relative to
 * the snapshot directory; NULL-terminated. */
struct api_static_file {
    const char *path, *file;
};
extern const struct api_static_file api_static_files[];

#endif
