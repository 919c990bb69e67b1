/* report.c - placeholder until the loader lands. */
#include "report.h"

#include <stdio.h>

int report_load(struct rowset *rs, const cJSON *doc, const char *origin, char err[REPORT_ERR_MAX])
{
    (void)rs;
    (void)doc;
    snprintf(err, REPORT_ERR_MAX, "%s: report loading is not built yet", origin);
    return -1;
}

int report_load_bytes(struct rowset *rs, const char *data, size_t len, const char *origin,
                      int is_yaml, report_error_fn on_error, void *ctx)
{
    (void)rs;
    (void)data;
    (void)len;
    (void)is_yaml;
    on_error(ctx, origin, "report loading is not built yet");
    return 1;
}
