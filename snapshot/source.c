/* source.c - the table of source kinds that --source names. */
#include "source.h"

#include <stddef.h>

const struct source_kind source_kinds[] = {
    {"files", source_files_collect},
    {"kubernetes", source_kube_collect},
    {"stackrox", source_stackrox_collect},
    /* edges of a central snapshot: pulled together, a few at a time (edges.h), after the
     * other sources */
    {"polsnap", NULL},
    {NULL, NULL},
};
