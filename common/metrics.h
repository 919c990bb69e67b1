/* metrics.h - the Prometheus text of /metrics (spec section 6), rendered from an index. */
#ifndef POLSNAP_METRICS_H
#define POLSNAP_METRICS_H

#include "buf.h"
#include "idx.h"

/* Appends the whole exposition to out. Families in the reference's order
 * (cluster_policy_report_result, cluster_policy_report_summary, policy_report_result,
 * policy_report_summary), then polsnap_*. Result lines follow the row order of the index,
 * with rows that give identical label sets written once (a repeated series is invalid
 * exposition); summary lines are sorted by report name, then namespace (as Prometheus clients
 * print them), five statuses each, alphabetically. */
void metrics_render(const struct idx *ix, struct buf *out);

#endif
