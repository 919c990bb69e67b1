/* api_int.h - what the endpoint renderers (api*.c) share; not for other modules. */
#ifndef POLSNAP_API_INT_H
#define POLSNAP_API_INT_H

#include "api.h"
#include "bitmap.h"
#include "query.h"

enum api_scope { SCOPE_NAMESPACED, SCOPE_CLUSTER, SCOPE_BOTH };

/* One request being answered. */
struct api_ctx {
    const struct idx *ix;
    const struct query *q;
    const struct api_view *view;
    struct buf *out;
    enum api_scope scope;
    const char *arg; /* the {id} of /v1/results/{id} */
};

/* The rows of c->scope that the view may see and that match every filter of c->q; *sel is
 * initialised here, released by the caller. */
void api_select(const struct api_ctx *c, struct bitmap *sel);

/* Renderers: each appends its JSON to c->out and returns the status (200, or an error it
 * already rendered with api_error). */
int api_distinct(struct api_ctx *c, int field);
int api_resources(struct api_ctx *c);
int api_status_counts(struct api_ctx *c);
int api_rule_status_count(struct api_ctx *c);
int api_summary(struct api_ctx *c);
int api_results(struct api_ctx *c);
int api_result_detail(struct api_ctx *c);

/* {"pass":n,"fail":n,"warn":n,"error":n,"skip":n} */
void api_put_counts(struct buf *b, const uint32_t count[IDX_NSTATUS]);

#endif
