/* stackrox_alert.h - one StackRox Central alert as one polsnap row: the mapping the README shows.
 *
 * Pure (no I/O), so every rule is unit-tested here and the source only fetches. The input is
 * the alert as Central's REST API writes it (protojson: camelCase keys, enums as their names,
 * timestamps as RFC 3339 text, absent fields meaning the proto3 zero value): the ListAlert of
 * GET /v1/alerts and, when the source fetched it, the full Alert of GET /v1/alerts/{id}, which
 * alone carries the violation messages and the policy's sections.
 *
 * The mapping:
 *   source      "StackRox"
 *   policy      policy.name
 *   rule        the name of the policy's only section when the detail shows exactly one
 *               section and it is named; else policy.id (Central does not say which of several
 *               sections matched)
 *   category    policy.categories[0]
 *   severity    LOW_/MEDIUM_/HIGH_/CRITICAL_SEVERITY -> low/medium/high/critical, else null
 *   status      state ACTIVE -> fail, ATTEMPTED -> warn (enforcement blocked it: nothing that
 *               violates runs), RESOLVED -> pass, SNOOZED (older Centrals) -> skip; any other
 *               state is passed on as written, so the rowset skips and counts it
 *   resource    deployment: kind deploymentType (else the detail's deployment.type, else
 *               "Deployment"), name, namespace, uid = deployment id (Kubernetes' uid);
 *               resource: kind from commonEntityInfo.resourceType (SECRETS -> Secret, ...),
 *               name; node: kind "Node", name; none (image alerts): kind and name null
 *   message     detail only: processViolation.message, then every violations[].message, in
 *               order, joined by "; ", at most STACKROX_MESSAGE_MAX bytes ("; (+N more)" says
 *               how many did not fit); null without the detail
 *   timestamp   time (the alert's latest occurrence), Unix seconds
 *   properties  alertId, policyId, clusterName, lifecycleStage, state (blank ones left out)
 *   result_id   the alert id: ids stay stable across snapshots
 * Grouping (for rowset_add_report) is returned beside the row: the cluster name and the
 * namespace (NULL for alerts on cluster-scoped things: nodes, cluster roles, ...). */
#ifndef POLSNAP_STACKROX_ALERT_H
#define POLSNAP_STACKROX_ALERT_H

#include "buf.h"

#include "err.h"
#include "rows.h"

#include <cjson/cJSON.h>
#include <stdint.h>

#define STACKROX_MESSAGE_MAX 4096

struct stackrox_row {
    struct row_in row;     /* ready for rowset_add_row */
    const char *cluster;   /* commonEntityInfo.clusterName (or older places); NULL when blank */
    const char *namespace; /* NULL: the alert is on something cluster-scoped */
    const char *policy_id; /* policy.id; NULL when blank */
    struct buf message, properties; /* backing store of row.message and row.properties */
};

/* Maps list (one element of ListAlertsResponse.alerts) and detail (the Alert with the same id,
 * or NULL) into out. Strings in out point into list, detail and out's own buffers: they stay
 * valid while both cJSON trees live and until stackrox_row_release(out). Returns 0, or -1 with
 * err filled when list is not an object with a non-empty string id or detail is not the same
 * alert; out needs stackrox_row_release either way. */
int stackrox_alert_map(const cJSON *list, const cJSON *detail, struct stackrox_row *out,
                       struct err *e);
void stackrox_row_release(struct stackrox_row *out);

#endif
