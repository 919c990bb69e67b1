/* upload.h - publishes the static site (what --site writes: the dashboard and a snapshot's files)
 * to an S3 bucket so that any static host or CDN in front of it serves the dashboard.
 *
 * Layout under s3://BUCKET/PREFIX/ (readers never see a half-updated site):
 *   index.html, app.css, js/...   the dashboard (Cache-Control: max-age=300)
 *   data/ID/...                   one snapshot's files, never changed once written
 *                                 (Cache-Control: max-age=31536000, immutable)
 *   data/current.json             the pointer {"id":ID,"base":"ID/"}: written last, after every
 *                                 object it leads to; the dashboard follows it (no-cache)
 *   data/manifest.json            what the last complete upload holds: every object's SHA-256
 * One run: read the manifest; upload each snapshot file that differs from the current
 * snapshot's (a server-side copy otherwise: no bytes travel) and each dashboard file that
 * changed; write the manifest, then the pointer; then delete the snapshots beyond `keep` and
 * whatever a killed run left behind. A failure before the pointer leaves readers on the
 * previous upload, and the next run completes the job. */
#ifndef POLSNAP_UPLOAD_H
#define POLSNAP_UPLOAD_H

#include "err.h"
#include "rows.h"
#include "s3.h"

#include <stdint.h>

struct upload_opts {
    const struct s3_conf *s3;
    const struct s3_creds *creds;
    const char *www_dir;
    unsigned keep; /* snapshots kept in the bucket, >= 1 */
};

/* What one upload did, for the log line and the bench. */
struct upload_report {
    unsigned put, copied, unchanged, deleted; /* objects */
    struct s3_stats sent;                     /* requests and body bytes */
};

/* Uploads the site of snapshot_dir (its id is its directory name) to dest, s3://BUCKET/PREFIX.
 * Returns 0, or -1 with *e set; the local snapshot is never touched. */
int upload_site(const char *dest, const char *snapshot_dir, const struct upload_opts *o,
                struct upload_report *rep, struct err *e);

/* How each destination's last upload went is kept in DATA/uploads.json ({"s3://b/p": {"up":
 * true, "lastSuccess": UNIX}}, rewritten atomically after each attempt); the next snapshot's
 * index carries it (/v1/snapshot's uploads, /metrics), as targets carry their deliveries. */

/* Adds each of dests[0..n) to rs with its last outcome (up and no success when none yet). */
void upload_describe(const char *data_dir, const char *const *dests, int n, struct rowset *rs);
/* Records an attempt on dest at `now`: ok 1 moves lastSuccess, ok 0 keeps it. Returns 0, or
 * -1 with *e set (the file could not be written). */
int upload_record(const char *data_dir, const char *dest, int ok, int64_t now, struct err *e);

/* The Content-Type, Cache-Control and Content-Encoding of a site file (rel as site_files names
 * it, "data/v1/summary.json"); a name ending in .gz is gzip-encoded, typed by the rest. */
struct s3_headers upload_headers(const char *rel);

#endif
