/* test_rows.c - the rowset's and the answers' bounds (issue 15's defects): UTF-8 repaired in
 * the rowset for every source (a StackRox alert included), capacities that never wrap, an
 * answer past its buffer's cap is an error and never a 200 cut short, a buffer with a sink
 * streams past its cap, and /v1/summary's memory per request stays bounded however many rows
 * it selects. */
#include "api.h"
#include "buf.h"
#include "idx.h"
#include "idxw.h"
#include "rows.h"
#include "stackrox_alert.h"
#include "tap.h"
#include "util.h"

#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

static int valid_utf8(const char *s)
{
    return s && utf8_prefix(s, strlen(s)) == strlen(s);
}

static void utf8_is_repaired_for_every_source(void)
{
    struct rowset *rs = rowset_new();
    struct row_report rep = {
        .kind = "PolicyReport", .name = "r\xff", .namespace = "ns", .origin = "direct"};
    uint32_t r = rowset_add_report(rs, &rep);
    struct row_in in = {.policy = "p\xc3",
                        .rule = "ok",
                        .message = "a\xed\xa0\x80z",
                        .status = "fail",
                        .scored = -1};
    CHECK(rowset_add_row(rs, r, &in) == ROWSET_ADDED, "a row with invalid UTF-8 is added");
    struct row_view v;
    rowset_get(rs, 0, &v);
    CHECK_STR(v.policy, "p\xEF\xBF\xBD", "a truncated sequence becomes U+FFFD");
    CHECK_STR(v.message, "a\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBDz",
              "a surrogate's three bytes become three U+FFFD");
    struct report_view rv;
    rowset_get_report(rs, 0, &rv);
    CHECK_STR(rv.name, "r\xEF\xBF\xBD", "the report's name is repaired too");
    CHECK(rowset_warnings(rs) == 2, "one warning for the report, one for the row (%u)",
          rowset_warnings(rs));

    /* StackRox fills rows without the report loader's check */
    cJSON *list = cJSON_Parse("{\"id\":\"a1\",\"state\":\"ACTIVE\",\"policy\":{\"name\":\"x\"}}");
    cJSON_SetValuestring(cJSON_GetObjectItem(list, "policy")->child, "bad \xfe name");
    struct stackrox_row sr;
    struct err e = {0};
    CHECK(stackrox_alert_map(list, NULL, &sr, &e) == 0, "an alert maps: %s", e.msg);
    uint32_t r2 = rowset_add_report(
        rs, &(struct row_report){
                .kind = "StackRoxAlerts", .name = "c", .namespace = "ns", .origin = "rox"});
    rowset_add_row(rs, r2, &sr.row);
    rowset_get(rs, 1, &v);
    CHECK_STR(v.policy, "bad \xEF\xBF\xBD name", "a StackRox policy name is repaired");
    CHECK(valid_utf8(v.properties) && valid_utf8(v.id), "its properties and id are UTF-8");
    stackrox_row_release(&sr);
    cJSON_Delete(list);
    rowset_free(rs);
}

static void capacities_never_wrap(void)
{
    CHECK(grow_cap_u32(0, 1024, UINT32_MAX) == 1024, "first capacity");
    CHECK(grow_cap_u32(1024, 1024, UINT32_MAX) == 2048, "doubled");
    CHECK(grow_cap_u32(0x80000000u, 1024, UINT32_MAX) == UINT32_MAX,
          "2^31 grows to the bound, not to 0");
    CHECK(grow_cap_u32(200000000u, 1024, IDX_MAX_ROWS) == IDX_MAX_ROWS,
          "rows: doubling stops at IDX_MAX_ROWS (%u)", IDX_MAX_ROWS);
}

/* a sink that only counts: the answer's bytes are not kept */
static void count_sink(void *ctx, const char *data, size_t n)
{
    (void)data;
    *(size_t *)ctx += n;
}

static void buffers_stream_past_their_cap(void)
{
    size_t sunk = 0;
    struct buf b = BUF_INIT(16);
    buf_set_sink(&b, count_sink, &sunk);
    char big[300];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    buf_puts(&b, "0123456789");
    buf_puts(&b, "longer than the cap");
    buf_printf(&b, "%s", big);
    buf_flush(&b);
    CHECK(!buf_failed(&b) && sunk == 10 + 19 + 299, "a sink gets every byte (%lu)",
          (unsigned long)sunk);
    buf_release(&b);
}

/* n rows over 3 namespaces, 2 policies of 2 rules, ids given (no hashing) */
static int write_index(const char *path, uint32_t n)
{
    static const char *const ns[] = {"a", "b", "c"}, *const st[] = {"pass", "fail", "warn"};
    struct rowset *rs = rowset_new();
    uint32_t rep[3];
    for (int i = 0; i < 3; i++)
        rep[i] = rowset_add_report(
            rs, &(struct row_report){
                    .kind = "PolicyReport", .name = ns[i], .namespace = ns[i], .origin = "t"});
    char id[32], name[32];
    for (uint32_t i = 0; i < n; i++) {
        snprintf(id, sizeof id, "id-%u", i);
        snprintf(name, sizeof name, "pod-%u", i);
        struct row_in in = {.res_kind = "Pod",
                            .res_name = name,
                            .policy = i % 2 ? "p1" : "p2",
                            .rule = i % 4 < 2 ? "r1" : "r2",
                            .status = st[i % 3],
                            .source = "kyverno",
                            .result_id = id,
                            .resource_count = 1,
                            .scored = -1};
        rowset_add_row(rs, rep[i % 3], &in);
    }
    struct idxw_meta meta = {.snapshot_id = "big", .created = 1700000000};
    struct err e = {0};
    int rc = idxw_write(rs, path, &meta, &e);
    if (rc) printf("# idxw_write: %s\n", e.msg);
    rowset_free(rs);
    return rc;
}

/* The process's data size (private writable memory: what RLIMIT_DATA bounds), in bytes. */
static size_t data_bytes(void)
{
    unsigned long size, rss, shared, text, lib, data = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f && fscanf(f, "%lu %lu %lu %lu %lu %lu", &size, &rss, &shared, &text, &lib, &data) != 6)
        data = 0;
    if (f) fclose(f);
    return (size_t)data * (size_t)sysconf(_SC_PAGESIZE);
}

/* Answers path in a child whose data size may grow by at most limit bytes: 1 when it answered
 * 200, 0 when it did not (the old summary's per-row arrays ran out of memory there). */
static int answers_within(const struct idx *ix, const char *path, const char *qs, size_t limit)
{
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        size_t sunk = 0;
        struct buf out = BUF_INIT((size_t)1 << 16);
        buf_set_sink(&out, count_sink, &sunk);
        malloc_trim(0); /* the parent's free heap would hide what the answer takes */
        struct rlimit rl = {data_bytes() + limit, RLIM_INFINITY};
        if (setrlimit(RLIMIT_DATA, &rl) != 0) _exit(3);
        struct api_result res = api_handle(ix, "GET", path, qs, NULL, &out);
        buf_flush(&out);
        _exit(res.status == 200 && sunk > 0 ? 0 : 1);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static void answers_are_bounded(const char *dir)
{
    char path[256];
    snprintf(path, sizeof path, "%s/index.bin", dir);
    uint32_t n = 200000;
    if (write_index(path, n) != 0) return;
    struct idx ix;
    struct err e = {0};
    CHECK(idx_open(&ix, path, &e) == 0, "a %u-row index opens: %s", n, e.msg);
    /* 200,000 selected rows: the per-row arrays took 128 bytes each, 25 MB */
    size_t limit = (size_t)4 << 20;
    CHECK(answers_within(&ix, "/v1/summary", NULL, limit),
          "/v1/summary of %u rows answers within 4 MiB more memory", n);
    CHECK(answers_within(&ix, "/v1/summary", "status=fail", limit),
          "/v1/summary?status=fail (%u rows) within 4 MiB", n / 3);

    /* No sink: the answer must fit under max, else a clean error, never a cut-off 200. */
    struct buf small = BUF_INIT(4096);
    struct api_result res = api_handle(&ix, "GET", "/v1/namespaced-resources/results",
                                       "pagination.limit=1000", NULL, &small);
    CHECK(res.status == 500 && small.len < 4096 &&
              strstr(small.ptr, "\"message\":\"the answer is larger than the 4096 bytes"),
          "an answer past its buffer is a 500 with the error object: %.120s", small.ptr);
    buf_release(&small);
    idx_close(&ix);
}

int main(void)
{
    char dir[] = "/tmp/polsnap-test-rows-XXXXXX";
    if (!mkdtemp(dir)) return 1;
    utf8_is_repaired_for_every_source();
    capacities_never_wrap();
    buffers_stream_past_their_cap();
    answers_are_bounded(dir);
    rm_rf(dir);
    return TAP_DONE();
}
