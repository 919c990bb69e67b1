/* api.h - every endpoint of the HTTP API, rendered from a snapshot index, and the one table
 * (api_endpoints) that says what each endpoint is.
 *
 * One renderer serves both binaries: the snapshot job calls it with no query string to write
 * the precomputed files that lighttpd serves, and the FastCGI server calls it for every
 * request with parameters. So a static file and the dynamic answer to the same request are
 * the same bytes by construction.
 *
 * Layers, calls going down only: api.c (the table, routing, api_handle) calls the renderers
 * (api_lists.c, api_results.c, api_reports.c, api_meta.c), which call api_common.c
 * (selection, errors, the row and count representations). */
#ifndef POLSNAP_API_H
#define POLSNAP_API_H

#include "buf.h"
#include "err.h"
#include "idx.h"

#include <stddef.h>
#include <stdint.h>

/* A token's role; API_ROLE_NONE only in a view that was refused. */
enum api_role { API_ROLE_NONE, API_ADMIN, API_READER, API_METRICS, API_NROLES };
#define API_ROLE(r) (1u << (r))
extern const char *const api_role_names[API_NROLES]; /* NULL, "Admin", "Reader", "Metrics" */

/* Who asks and what they may see. With auth off (auth == 0) everything is visible and
 * /v1/auth/status answers anonymously. A namespace-limited token sees only namespaced rows of
 * its namespaces; endpoints whose row says why it may not (cluster-scoped ones, /metrics)
 * answer 403. Checking the token is the caller's job (cgi/auth); this only shapes the
 * answers. */
struct api_view {
    int auth;                      /* 1 when tokens are on */
    const char *token_name;        /* auth: the token's NAME */
    enum api_role role;            /* auth: the token's role */
    int64_t expires;               /* Unix seconds, 0 for none */
    const char *const *namespaces; /* NULL: no limit */
    size_t nnamespaces;
};

struct api_result {
    int status;               /* HTTP status */
    const char *content_type; /* static string */
};

#define API_JSON "application/json"
#define API_METRICS_TYPE "text/plain; version=0.0.4"
#define API_HTML "text/html; charset=utf-8"

/* Header lines (each ending in CRLF) a successful answer of this content type carries besides
 * Content-Type: an HTML page its Content-Security-Policy; "" for every other type. */
const char *api_type_headers(const char *content_type);

/* Which rows an answer covers (the renderers' part of the index). */
enum api_scope { API_NAMESPACED, API_CLUSTER, API_BOTH };

/* What an endpoint does with the query string; each level takes what the one above takes. */
enum api_params {
    API_PARAMS_IGNORED,  /* not even parsed: probes must not break on a cache-buster */
    API_PARAMS_FILTERS,  /* parsed and checked (400/414); the filters and paging apply */
    API_PARAMS_CONTAINS, /* the same, and contains= applies too (spec section 11) */
    API_PARAMS_SEARCH,   /* the same, and search= applies too (spec section 7) */
};

struct api_ctx; /* api_common.h */

/* One endpoint: one row of api_endpoints. Routing (api_handle), the precomputed files (the
 * snapshot job writes every row with a file), the token check (cgi/auth.c) and the X-Sendfile
 * shortcut (cgi/main.c) all read this table; tests/integration/test_endpoints.py fails when
 * lighttpd.conf's rewrite rules, tests/lib/model.py or the dashboard's static fallback
 * disagree with it. */
struct api_endpoint {
    const char *path;    /* exact; or ending in "{id}": any one more non-empty segment */
    const char *methods; /* space-separated ("GET HEAD"); others answer 405 */
    /* Appends the answer to c->out and returns its HTTP status, or -1 with *e set (nothing
     * appended): the error object is then rendered from *e. */
    int (*render)(const struct api_ctx *c, struct err *e);
    enum api_params params;
    enum api_scope scope;
    int field;                /* the distinct-value endpoints: the enum idx_field listed */
    const char *file;         /* precomputed: file name in a snapshot directory; NULL: none */
    const char *content_type; /* of a successful answer */
    unsigned roles;           /* API_ROLE() bits of the roles whose tokens may read it */
    const char *limited;      /* NULL: namespace-limited tokens may read it; else why not */
    int public;               /* no token, parameters ignored, answers with no snapshot */
};
extern const struct api_endpoint api_endpoints[];
extern const size_t api_nendpoints;
/* Roles that may ask for a path no row matches (they get its 404). */
#define API_ROLES_UNKNOWN (API_ROLE(API_ADMIN) | API_ROLE(API_READER))

/* The row for path (decoded, without the query string), NULL when none; for a "{id}" row,
 * *arg (when arg is not NULL) points at the id inside path. */
const struct api_endpoint *api_endpoint_find(const char *path, const char **arg);

/* Renders the answer to method/path?qs into out (appending; out may have a sink that
 * streams). ix is NULL when no snapshot has been published yet. path is the URL path without
 * the query string (percent-decoded by the caller). Errors are rendered as the spec's JSON
 * error object. Returns the status and content type; never fails otherwise.
 * Early flush: an error is decided before any byte of a successful answer is appended (the
 * refusals come first, and a renderer fails before it writes), and an error object is small;
 * so a caller may send a 200's headers at out's first flush. */
struct api_result api_handle(const struct idx *ix, const char *method, const char *path,
                             const char *qs, const struct api_view *view, struct buf *out);

/* The Content-Type of a successful answer for path (known before rendering, so a streamed
 * answer can send its headers first). */
const char *api_content_type(const char *path);

/* Renders the spec's error object {"code","message","error","details":[]} for *e: the HTTP
 * status and the gRPC code come from e->code (err.h's table). */
struct api_result api_error(struct buf *out, const struct err *e);

/* One row of ix in the results representation {"id":...,"properties":...} (spec section 3):
 * what the results endpoints and the snapshot job's static-hosting shards list. */
void api_put_row(struct buf *b, const struct idx *ix, const struct idx_row *row);

#endif
