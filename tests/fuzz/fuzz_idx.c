/* fuzz_idx.c - libFuzzer harness for the index reader: any bytes as an index file. idx_check
 * must refuse what it cannot trust; whatever it accepts must render every endpoint without a
 * fault. Not in the build: `make fuzz` builds and runs it. Seed it with real index.bin files. */
#include "api.h"
#include "idx.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const paths[] = {"/v1/namespaced-resources/results",
                                        "/v1/cluster-resources/results",
                                        "/v1/namespaces",
                                        "/v1/namespaced-resources/status-counts",
                                        "/v1/summary",
                                        "/metrics",
                                        "/v1/snapshot",
                                        "/v1/namespaced-resources/resources",
                                        "/healthz"};
    /* the reader maps files 8-byte aligned; give the checker the same */
    uint64_t *copy = malloc(size + 8);
    memcpy(copy, data, size);
    struct idx ix;
    struct err e = {0};
    if (idx_check(&ix, copy, size, &e) == 0) {
        struct buf out = BUF_INIT((size_t)1 << 24);
        for (size_t i = 0; i < sizeof paths / sizeof *paths; i++) {
            buf_reset(&out);
            api_handle(&ix, "GET", paths[i],
                       "query=Namespace:a+Policy:r/p&pagination.sortOption.field=Severity", NULL,
                       &out);
            buf_reset(&out);
            api_handle(&ix, "GET", paths[i], NULL, NULL, &out);
        }
        buf_release(&out);
    }
    free(copy);
    return 0;
}
