/* yamldoc.h - YAML text to cJSON trees, one document at a time (libyaml's event parser).
 *
 * The tree is what the same object would be in JSON, minus YAML's typing (spec 7: YAML scalars
 * are text): every scalar is a cJSON string holding its text as written, so `yes`, `0123`,
 * `1.10`, `true`, `null` and `~` stay text and an empty value is "". Mappings become objects
 * (keys must be scalars, kept in input order, duplicates kept: the reader decides), sequences
 * become arrays.
 * Anchors are accepted and ignored; aliases are rejected: they are how a small file expands
 * without bound, and Kubernetes never writes them. Without aliases a tree has at most one
 * node per event, so its size is bounded by the input's; nesting is bounded by
 * YAMLDOC_MAX_DEPTH. A scalar holding a NUL byte is rejected (a C string would cut it). */
#ifndef POLSNAP_YAMLDOC_H
#define POLSNAP_YAMLDOC_H

#include "err.h"
#include <cjson/cJSON.h>
#include <stddef.h>

#define YAMLDOC_MAX_DEPTH 256

struct yamldoc;

/* Starts reading data[0..len); the bytes are not copied: keep them until yamldoc_free. */
struct yamldoc *yamldoc_open(const char *data, size_t len);

/* Reads the next document. Returns 1 with *doc set (the caller frees it with cJSON_Delete; an
 * empty document is the string ""), 0 at the end of the stream, or -1 with *e set ("line 3,
 * column 7: ...") on a syntax error or a limit. After -1 or 0, later calls return 0 and leave
 * *doc alone. */
int yamldoc_next(struct yamldoc *y, cJSON **doc, struct err *e);

/* The number (from 1) of the document last returned or failed; 0 before the first. */
int yamldoc_index(const struct yamldoc *y);

void yamldoc_free(struct yamldoc *y); /* NULL is fine */

#endif
