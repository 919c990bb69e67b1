/* api_common.h - what the endpoint renderers (api_lists.c, api_results.c, api_reports.c,
 * api_meta.c) share: the request being answered, the selection of its rows and the count
 * representation. Below the renderers: nothing here calls up into them or into the table (api.c).
 */
#ifndef POLSNAP_API_COMMON_H
#define POLSNAP_API_COMMON_H

#include "api.h"
#include "bitmap.h"
#include "query.h"

/* One request being answered. */
struct api_ctx {
    const struct idx *ix;          /* NULL only for public endpoints (no snapshot yet) */
    const struct query *q;         /* NULL for endpoints that ignore parameters */
    const struct api_view *view;   /* NULL: the snapshot job (sees everything) */
    struct buf *out;               /* where the answer goes */
    const struct api_endpoint *ep; /* its row: scope, field */
    const char *arg;               /* the {id} of a "{id}" row */
};

/* The rows of c->ep->scope that the view may see and that match every filter of c->q; *sel
 * is initialised here, released by the caller. */
void api_select(const struct api_ctx *c, struct bitmap *sel);

/* err_set for an answer that does not fit in a buffer of max bytes (ERR_INTERNAL, 500): what a
 * renderer returns, and api_handle says, instead of a 200 cut short. */
int api_too_large(struct err *e, size_t max);

/* {"pass":n,"fail":n,"warn":n,"error":n,"skip":n} */
void api_put_counts(struct buf *b, const uint32_t count[IDX_NSTATUS]);

/* The row's summary keys in the spec's order, without the timestamp, the properties and the
 * closing brace (the detail representation writes its own timestamp). */
void api_put_row_fields(struct buf *b, const struct idx *ix, const struct idx_row *row);
void api_put_properties(struct buf *b, const struct idx *ix, const struct idx_row *row);
/* key (already JSON, like ",\"name\":") then the string id's value or null */
void api_put_field(struct buf *b, const struct idx *ix, const char *key, uint32_t id);

/* The renderers of the table's rows (struct api_endpoint.render). */
int api_distinct(const struct api_ctx *c, struct err *e);
int api_resources(const struct api_ctx *c, struct err *e);
int api_status_counts(const struct api_ctx *c, struct err *e);
int api_rule_status_count(const struct api_ctx *c, struct err *e);
int api_summary(const struct api_ctx *c, struct err *e);
int api_results(const struct api_ctx *c, struct err *e);
int api_policy_reports(const struct api_ctx *c, struct err *e);
int api_html_violations(const struct api_ctx *c, struct err *e);
int api_result_detail(const struct api_ctx *c, struct err *e);
int api_snapshot_meta(const struct api_ctx *c, struct err *e);
int api_targets(const struct api_ctx *c, struct err *e);
int api_auth_status(const struct api_ctx *c, struct err *e);
int api_my_permissions(const struct api_ctx *c, struct err *e);
int api_metrics(const struct api_ctx *c, struct err *e);
int api_healthz(const struct api_ctx *c, struct err *e);
int api_ready(const struct api_ctx *c, struct err *e);
int api_ping(const struct api_ctx *c, struct err *e);

#endif
