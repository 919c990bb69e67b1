/* fuzz_stackrox.c - libFuzzer harness: any bytes as StackRox Central's JSON, mapped by
 * stackrox_alert_map (a two-element array is an alert and its detail, anything else the
 * alert alone) and added to a rowset. Checks beyond no crash: a mapped alert's row strings
 * and properties are valid UTF-8 once in the rowset, the properties a JSON object. Built and
 * run by tests/fuzz/run. */
#include "rows.h"
#include "stackrox_alert.h"
#include "util.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int utf8(const char *s)
{
    return !s || utf8_prefix(s, strlen(s)) == strlen(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cJSON *doc = cJSON_ParseWithLength((const char *)data, size);
    if (!doc) return 0;
    const cJSON *list = doc, *detail = NULL;
    if (cJSON_IsArray(doc) && cJSON_GetArraySize(doc) == 2) {
        list = cJSON_GetArrayItem(doc, 0);
        detail = cJSON_GetArrayItem(doc, 1);
    }
    struct stackrox_row sr;
    struct err e = {0};
    if (stackrox_alert_map(list, detail, &sr, &e) == 0) {
        struct rowset *rs = rowset_new();
        struct row_report rep = {.kind = "StackRoxAlerts",
                                 .name = sr.cluster,
                                 .namespace = sr.namespace,
                                 .cluster_scoped = !sr.namespace,
                                 .origin = "fuzz"};
        if (rowset_add_row(rs, rowset_add_report(rs, &rep), &sr.row) == ROWSET_ADDED) {
            struct row_view v;
            rowset_get(rs, 0, &v);
            if (!utf8(v.policy) || !utf8(v.rule) || !utf8(v.message) || !utf8(v.name) ||
                !utf8(v.properties) || !utf8(v.id))
                abort();
            cJSON *p = v.properties ? cJSON_Parse(v.properties) : NULL;
            if (v.properties && !cJSON_IsObject(p)) abort();
            cJSON_Delete(p);
        }
        rowset_free(rs);
    } else if (!e.msg[0]) {
        abort();
    }
    stackrox_row_release(&sr);
    cJSON_Delete(doc);
    return 0;
}
