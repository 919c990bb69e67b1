/* fuzz_report.c - libFuzzer harness over report_load_bytes, JSON and YAML; not in the build.
 *
 * The first input byte picks the format (odd: YAML, even: JSON), the rest is the file. Beyond
 * "no crash, no leak, no undefined behaviour" it checks the loader's promises: the checking
 * pass (rs NULL) fails exactly the documents the loading pass fails, and every row's
 * properties text is a JSON object. Build and run from the repository root:
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Icommon -Isnapshot \
 *     tests/fuzz/fuzz_report.c snapshot/report.c snapshot/yamldoc.c snapshot/rows.c \
 *     common/buf.c common/util.c -lcjson -lyaml -lcrypto -o /tmp/fuzz_report
 *   mkdir -p /tmp/fuzz_corpus && for f in tests/fixtures/reports/{good,bad}/{*,*}*.*; do
 *     case $f in *.json) p=0;; *) p=1;; esac
 *     { printf $p; cat "$f"; } > /tmp/fuzz_corpus/$(basename "$f"); done
 *   /tmp/fuzz_report -max_total_time=60 -max_len=8192 /tmp/fuzz_corpus 2>/tmp/fuzz.log
 */
#include "report.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!size) return 0;
    int is_yaml = data[0] & 1;
    const char *text = (const char *)data + 1;
    struct rowset *rs = rowset_new();
    int failed = report_load_bytes(rs, text, size - 1, "fuzz", is_yaml, NULL, NULL);
    if (report_load_bytes(NULL, text, size - 1, "fuzz", is_yaml, NULL, NULL) != failed) abort();
    for (uint32_t i = 0; i < rowset_rows(rs); i++) {
        struct row_view v;
        rowset_get(rs, i, &v);
        if (v.properties) {
            cJSON *p = cJSON_Parse(v.properties);
            if (!cJSON_IsObject(p)) abort();
            cJSON_Delete(p);
        }
    }
    rowset_free(rs);
    return 0;
}
