/* source_stackrox.c - placeholder until its issue lands. */
#include "source.h"

#include <stdio.h>

int source_stackrox_collect(const char *arg, const struct source_opts *opts, struct rowset *rs,
                            char err[SOURCE_ERR_MAX])
{
    (void)arg;
    (void)opts;
    (void)rs;
    snprintf(err, SOURCE_ERR_MAX, "source 'stackrox' is not built yet");
    return -1;
}
