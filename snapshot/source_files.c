/* source_files.c - placeholder until its issue lands. */
#include "source.h"

#include <stdio.h>

int source_files_collect(const char *arg, const struct source_opts *opts, struct rowset *rs,
                         char err[SOURCE_ERR_MAX])
{
    (void)arg;
    (void)opts;
    (void)rs;
    snprintf(err, SOURCE_ERR_MAX, "source 'files' is not built yet");
    return -1;
}
