/* fuzz_query.c - libFuzzer harness: any byte string as a query string, parsed and, when it
 * parses, evaluated and rendered on every endpoint over a small index. Not in the build:
 * `make fuzz` builds and runs it (see the Makefile). */
#include "api.h"
#include "idx.h"
#include "idxw.h"
#include "query.h"
#include "rows.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct idx ix;

/* A small index with blanks, both scopes and every status, written once per process. */
static void build_index(void)
{
    struct rowset *rs = rowset_new();
    struct row_report a = {"PolicyReport", "polr-a", "a", 0, "fuzz", NULL, NULL, 0};
    struct row_report c = {"ClusterPolicyReport", "cpolr", NULL, 1, "fuzz", NULL, NULL, 0};
    uint32_t ra = rowset_add_report(rs, &a), rc = rowset_add_report(rs, &c);
    static const char *const st[] = {"pass", "fail", "warn", "error", "skip"};
    static const char *const sev[] = {"high", NULL, "low", "critical", "info"};
    for (int i = 0; i < 40; i++) {
        char name[16], pol[16];
        snprintf(name, sizeof name, "Pod-%d", i % 7);
        snprintf(pol, sizeof pol, "policy-%d", i % 5);
        struct row_in in = {.res_kind = i % 3 ? "Pod" : NULL,
                            .res_name = name,
                            .policy = pol,
                            .rule = i % 2 ? "r" : "R",
                            .status = st[i % 5],
                            .severity = sev[i % 5],
                            .message = i % 4 ? "msg \xc3\xa9" : NULL,
                            .source = i % 2 ? "Kyverno" : "kube-bench",
                            .category = "cat",
                            .timestamp = 1700000000 + i,
                            .has_timestamp = i % 3,
                            .scored = -1};
        rowset_add_row(rs, i % 4 ? ra : rc, &in);
    }
    char path[] = "/tmp/polsnap-fuzz-query-XXXXXX";
    struct err e = {0};
    int fd = mkstemp(path);
    struct idxw_meta meta = {.snapshot_id = "fuzz", .created = 1700000000};
    if (fd < 0 || idxw_write(rs, path, &meta, &e) != 0 || idx_open(&ix, path, &e) != 0) abort();
    close(fd);
    unlink(path);
    rowset_free(rs);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const paths[] = {"/v1/namespaced-resources/results",
                                        "/v1/cluster-resources/results",
                                        "/v1/namespaces",
                                        "/v1/namespaced-resources/status-counts",
                                        "/v1/cluster-resources/status-counts",
                                        "/v1/rule-status-count",
                                        "/v1/namespaced-resources/resources",
                                        "/v1/summary",
                                        "/v1/categories"};
    if (!ix.base) build_index();
    char *qs = malloc(size + 1);
    memcpy(qs, data, size);
    qs[size] = '\0';
    struct buf out = BUF_INIT((size_t)1 << 24);
    for (size_t i = 0; i < sizeof paths / sizeof *paths; i++) {
        buf_reset(&out);
        struct api_result r = api_handle(&ix, "GET", paths[i], qs, NULL, &out);
        if (r.status == 200 && (!out.len || (out.ptr[0] != '[' && out.ptr[0] != '{'))) abort();
    }
    buf_release(&out);
    free(qs);
    return 0;
}
