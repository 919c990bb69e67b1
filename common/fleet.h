/* fleet.h - the fleet export: every row of one snapshot, with its report and resource fields,
 * in one compressed file that a central polsnap pulls from each edge (README "Many clusters",
 * spec section 10). The edge writes it with every snapshot (FLEET_FILE, served at
 * /v1/fleet/export); the central reads it back with snapshot/fleet_read.h.
 *
 * File format, version 1 (FLEET_VERSION). One gzip member (RFC 1952; its CRC-32 and length
 * catch corruption and truncation) holding UTF-8 text: one JSON value per line, each line
 * ending in "\n", at most FLEET_LINE_MAX bytes.
 *   line 1             the header:
 *                      {"format":"polsnap-fleet","version":1,"cluster":NAME|null,
 *                       "snapshot":ID,"created":UNIX,"reports":M,"rows":N}
 *   lines 2 .. M+1     the reports, in the order of their ids (so that the same reports give
 *                      the same bytes); a row names its report by position (0-based):
 *                      {"kind":S|null,"name":S|null,"namespace":S|null,"clusterScoped":BOOL,
 *                       "source":S|null,"labels":{KEY:VALUE,...}|null}
 *                      source and labels as /v1/policy-reports shows them (the labels its
 *                      metadata.labels, within Kubernetes' bounds)
 *   lines M+2 .. M+N+1 the rows, in the snapshot's default order:
 *                      {"report":I,"id":S,"kind":S|null,"name":S|null,"apiVersion":S|null,
 *                       "resourceNamespace":S|null,"uid":S|null,"message":S|null,
 *                       "category":S|null,"policy":S|null,"rule":S|null,"status":S,
 *                       "severity":S|null,"source":S|null,"timestamp":UNIX|null,
 *                       "scored":BOOL|null,"properties":S|null}
 *                      kind, name, apiVersion, resourceNamespace and uid are the resource's;
 *                      status is one of pass fail warn error skip; properties is the compact
 *                      JSON text of an object of strings, as a string (so it survives byte for
 *                      byte); the row's namespace follows from its report and resource as on
 *                      the edge (spec section 1).
 * Nothing follows the last row, and nothing follows the gzip member. Every key is always
 * present; a reader ignores keys it does not know, so adding a key keeps the version, while
 * removing one or changing what one means bumps FLEET_VERSION. */
#ifndef POLSNAP_FLEET_H
#define POLSNAP_FLEET_H

#include "buf.h"
#include "idx.h"

#define FLEET_FORMAT "polsnap-fleet"
#define FLEET_VERSION 1
#define FLEET_FILE "fleet/export.jsonl.gz" /* inside a snapshot directory */
#define FLEET_CONTENT_TYPE "application/gzip"
#define FLEET_LINE_MAX ((size_t)16 << 20) /* bytes of one line, "\n" included */

/* Appends the export of ix (compressed) to out; out may stream through a sink. The same
 * index gives the same bytes. */
void fleet_write(const struct idx *ix, struct buf *out);

#endif
