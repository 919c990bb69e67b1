/* site.h - a self-contained static site (dashboard + snapshot files) for any static host. */
#ifndef POLSNAP_SITE_H
#define POLSNAP_SITE_H

#include "err.h"

#define SITE_DATA "data/" /* where a site holds the snapshot's files */

/* Calls fn for every file of the site: rel is its path in the site ("index.html",
 * "js/app.js", "data/v1/summary.json"), path where it is now. fn returns 0, or -1 with *e set,
 * which stops the walk. Returns 0 or -1. */
typedef int (*site_file_fn)(const char *rel, const char *path, void *ctx, struct err *e);
int site_files(const char *snapshot_dir, const char *www_dir, site_file_fn fn, void *ctx,
               struct err *e);

/* Writes site_dir/ = a copy of www_dir plus site_dir/data/ = the snapshot's files (all but
 * the index, which only the query server reads). Built beside site_dir and exchanged with the
 * old one in one renameat2(RENAME_EXCHANGE), so a host never serves a half-copied site nor
 * finds none (a file system without the exchange gets two renames, a moment apart). Returns 0, or
 * -1 with *e set and site_dir as it was. */
int site_write(const char *snapshot_dir, const char *www_dir, const char *site_dir, struct err *e);

#endif
