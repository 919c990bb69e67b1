/* report.h - turns one parsed report document (PolicyReport, ClusterPolicyReport, their v1alpha1
 * form, OpenReports Report/ClusterReport, or any *List / kind: List of them) into rows.
 *
 * Used by every source that reads Kubernetes-shaped reports (files, kubernetes). All the
 * format-specific rules of spec sections 1 and 7 live here: the resources/subjects fan-out,
 * the scope fallback, result/status and properties/data, description/message, source
 * fallback to the report's top level, timestamp.seconds as number/float/string, string fields
 * holding non-strings treated as blank, properties kept as string values only. */
#ifndef POLSNAP_REPORT_H
#define POLSNAP_REPORT_H

#include "err.h"
#include "rows.h"

#include <cjson/cJSON.h>
#include <stddef.h>

/* Adds the rows of doc (not consumed; the caller frees it). origin names the document in
 * warnings and errors ("samples/kyverno.yaml#2"). Returns 0, or -1 with *e set (ERR_INVALID)
 * when doc is not a report or is malformed; on -1 no row of doc has been added. The message
 * always begins with "ORIGIN: ". rs may be NULL: the document is only checked (same return and
 * errors, nothing added). */
int report_load(struct rowset *rs, const cJSON *doc, const char *origin, struct err *e);

/* rs may be NULL here too: check only. Parses a file's bytes (JSON, or YAML with one or more
 * documents; a UTF-8 BOM is skipped) and calls report_load for each document. Returns the number of
 * documents that failed (each one is reported through on_error with its own origin and reason), 0
 * when all loaded. */
typedef void (*report_error_fn)(void *ctx, const char *origin, const char *reason);
int report_load_bytes(struct rowset *rs, const char *data, size_t len, const char *origin,
                      int is_yaml, report_error_fn on_error, void *ctx);

/* Why a metadata.labels value cannot be kept (not an object of strings, more than
 * ROW_LABELS_MAX, a key or value past Kubernetes' bounds), or NULL when it can: what the
 * report loader and the fleet export reader (fleet_read.c) both check. */
const char *report_labels_unfit(const cJSON *labels);

#endif
