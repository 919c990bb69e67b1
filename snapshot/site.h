/* site.h - a self-contained static site (dashboard + snapshot files) for any static host. */
#ifndef POLSNAP_SITE_H
#define POLSNAP_SITE_H

#include "err.h"

/* Writes site_dir/ = a copy of www_dir plus site_dir/data/ = the snapshot's files (all but
 * the index, which only the query server reads). Built beside site_dir and exchanged with the
 * old one in one renameat2(RENAME_EXCHANGE), so a host never serves a half-copied site nor
 * finds none (a file system without the exchange gets two renames, a moment apart). Returns 0, or
 * -1 with *e set and site_dir as it was. */
int site_write(const char *snapshot_dir, const char *www_dir, const char *site_dir, struct err *e);

#endif
