/* test_idx.c - the index round trip: rows -> idxw_write -> idx_open, and idx_check refusing
 * damaged files. */
#include "idx.h"
#include "idxw.h"
#include "rows.h"
#include "tap.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void add(struct rowset *rs, uint32_t rep, const char *kind, const char *name,
                const char *policy, const char *status, const char *severity)
{
    struct row_in in = {.res_kind = kind,
                        .res_name = name,
                        .policy = policy,
                        .rule = "r",
                        .status = status,
                        .severity = severity,
                        .scored = -1};
    rowset_add_row(rs, rep, &in);
}

static char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    fseek(f, 0, SEEK_END);
    *n = (size_t)ftell(f);
    rewind(f);
    char *p = malloc(*n);
    if (fread(p, 1, *n, f) != *n) *n = 0;
    fclose(f);
    return p;
}

/* The orders the reader relies on (idx.h invariants 3 and 6): each corrupted copy of a sound
 * index must be refused, naming the order it breaks. */
static void refuse_disorder(const char *bytes, size_t size)
{
    char *copy = malloc(size);
    struct idx bad;
    struct err ie = {0};

    memcpy(copy, bytes, size);
    struct idx_header *h = (struct idx_header *)copy;
    uint32_t *stroff = (uint32_t *)(copy + h->sec[IDX_SEC_STROFF].off);
    char *strdata = copy + h->sec[IDX_SEC_STRDATA].off;
    strdata[stroff[1]] = '\x7f'; /* string 1 now sorts after string 2 */
    CHECK(idx_check(&bad, copy, size, &ie) != 0 && strstr(ie.msg, "byte order"),
          "strings out of byte order are refused: %s", ie.msg);

    memcpy(copy, bytes, size);
    struct idx_dict_entry *dict = (struct idx_dict_entry *)(copy + h->sec[IDX_SEC_DICT].off);
    struct idx_dict_entry *pol = dict + h->dict[IDX_F_POLICY].off, t = pol[0];
    CHECK(h->dict[IDX_F_POLICY].count >= 2, "the policy dictionary has entries to swap");
    pol[0] = pol[1];
    pol[1] = t;
    CHECK(idx_check(&bad, copy, size, &ie) != 0 && strstr(ie.msg, "folded order"),
          "dictionary entries out of folded order are refused: %s", ie.msg);

    memcpy(copy, bytes, size);
    const struct idx_dict_entry *ns = dict + h->dict[IDX_F_NAMESPACE].off; /* "b": two rows */
    uint32_t *post = (uint32_t *)(copy + h->sec[IDX_SEC_POSTINGS].off) + ns->post_off;
    CHECK(h->dict[IDX_F_NAMESPACE].count == 1 && ns->post_n == 2, "namespace b has two postings");
    uint32_t p0 = post[0];
    post[0] = post[1];
    post[1] = p0;
    CHECK(idx_check(&bad, copy, size, &ie) != 0 && strstr(ie.msg, "postings not ascending"),
          "postings out of order are refused: %s", ie.msg);
    free(copy);
}

int main(void)
{
    char dir[] = "/tmp/polsnap-test-idx-XXXXXX", path[128];
    struct err ie = {0}, we = {0};
    if (!mkdtemp(dir)) return 1;
    snprintf(path, sizeof path, "%s/index.bin", dir);

    struct rowset *rs = rowset_new();
    static const struct row_label nslabels[] = {{"team", "b"}, {"app", ""}};
    static const struct row_label clabels[] = {{"team", "b"}};
    struct row_report nsrep = {"PolicyReport", "polr-b", "b", 0, "t", "kyverno", nslabels, 2};
    struct row_report crep = {"ClusterPolicyReport", "cpolr", NULL, 1, "t", NULL, clabels, 1};
    uint32_t b = rowset_add_report(rs, &nsrep), c = rowset_add_report(rs, &crep);
    add(rs, b, "Pod", "web", "Require-Labels", "FAIL", "High");
    add(rs, b, "Pod", "api", "require-labels", "pass", "bogus");
    add(rs, c, "Namespace", "b", "ns-labels", "warn", NULL);
    add(rs, b, "Pod", "api", "require-labels", "pass", "bogus"); /* duplicate */
    add(rs, b, "Pod", "db", "disallow-root", "nonsense", NULL);  /* bad status */
    CHECK(rowset_rows(rs) == 3 && rowset_warnings(rs) == 2, "duplicate and bad status dropped");
    rowset_add_upload(rs, "s3://z/site/", 0, 1700000000);
    rowset_add_upload(rs, "s3://a/", 1, ROWSET_NO_TIME);

    struct idxw_meta meta = {.snapshot_id = "snap-1", .created = 1700000000, .cron_period = 300};
    CHECK(idxw_write(rs, path, &meta, &we) == 0, "index written: %s", we.msg);
    struct idx ix;
    CHECK(idx_open(&ix, path, &ie) == 0, "index opens and checks: %s", ie.msg);
    CHECK(ix.h->nrows == 3 && ix.h->nrows_ns == 2, "two namespaced rows, one cluster row");
    CHECK_STR(idx_str(&ix, ix.rows[0].str[IDX_F_NAME]), "api", "default order: api before web");
    CHECK_STR(idx_str(&ix, ix.rows[1].str[IDX_F_STATUS]), "fail", "status lower-cased");
    CHECK(ix.rows[1].severity == IDX_HIGH && ix.rows[0].severity == IDX_SEV_NONE,
          "severity ranked, unknown severity null");
    CHECK(ix.rows[2].cluster == 1 && ix.rows[2].str[IDX_F_NAMESPACE] == 0,
          "cluster row last with a null namespace");
    CHECK_STR(idx_str(&ix, ix.rows[0].str[IDX_F_NAMESPACE]), "b", "report namespace");

    const struct idx_dict_entry *e;
    size_t n = idx_dict_range(&ix, IDX_F_POLICY, "REQUIRE-labels", 14, 0, &e);
    CHECK(n == 2, "case-insensitive equality finds both spellings (%lu)", (unsigned long)n);
    CHECK(n == 2 && e[0].post_n + e[1].post_n == 2, "postings of both");
    n = idx_dict_range(&ix, IDX_F_POLICY, "req", 3, 1, &e);
    CHECK(n == 2, "prefix range");
    n = idx_dict_range(&ix, IDX_F_POLICY, "require", 7, 0, &e);
    CHECK(n == 0, "a prefix is not an exact match");
    n = idx_dict_range(&ix, IDX_F_NAME, "b", 1, 0, &e);
    CHECK(n == 1 && idx_postings(&ix, e)[0] == 2, "cluster row found by name");
    CHECK(ix.reports[0].count[IDX_FAIL] == 1 && ix.reports[0].count[IDX_PASS] == 1,
          "report counts recomputed");
    const uint32_t *by_sev = ix.sort + (size_t)IDX_F_SEVERITY * ix.h->nrows;
    CHECK(by_sev[0] == 0 && by_sev[1] == 2 && by_sev[2] == 1,
          "sorted by severity: null (api, then the cluster row), then high (web)");
    const uint32_t *by_time = ix.sort + (size_t)IDX_SORT_TIMESTAMP * ix.h->nrows;
    CHECK(by_time[0] == 0 && by_time[1] == 1 && by_time[2] == 2,
          "no timestamps: the sort keeps row order");
    const struct idx_label *team = idx_label_find(&ix, "team", "b");
    CHECK(ix.h->nlabels == 2 && team && team->rep_n == 2, "one entry per distinct label pair");
    CHECK(idx_label_find(&ix, "app", "") && !idx_label_find(&ix, "app", "x") &&
              !idx_label_find(&ix, "Team", "b"),
          "labels are found exactly, an empty value too");
    CHECK(ix.reports[0].label_n == 2 &&
              ix.labels[ix.report_labels[0]].key < ix.labels[ix.report_labels[1]].key,
          "a report's labels in key order");
    CHECK_STR(idx_str(&ix, ix.reports[0].source), "kyverno", "report source kept");
    CHECK(idx_report_nrows(&ix.reports[0]) == 2 && idx_report_rows(&ix, &ix.reports[0])[0] == 0 &&
              idx_report_rows(&ix, &ix.reports[1])[0] == 2,
          "each report's rows");
    CHECK(strlen(idx_str(&ix, ix.reports[1].id)) == 40, "report id is 40 hex");
    CHECK(ix.nuploads == 2 && !strcmp(idx_str(&ix, ix.uploads[0].dest), "s3://a/") &&
              ix.uploads[0].up == 1 && ix.uploads[0].last_success == IDX_NO_TIME &&
              ix.uploads[1].up == 0 && ix.uploads[1].last_success == 1700000000,
          "uploads by destination, with their outcome and last success");
    idx_close(&ix);

    size_t size;
    char *bytes = slurp(path, &size);
    struct idx bad;
    CHECK(idx_check(&bad, bytes, size - 8, &ie) != 0 && strstr(ie.msg, "truncated"),
          "a truncated index is refused: %s", ie.msg);
    char *copy = malloc(size);
    memcpy(copy, bytes, size);
    copy[0] = 'X';
    CHECK(idx_check(&bad, copy, size, &ie) != 0, "bad magic refused");
    memcpy(copy, bytes, size);
    ((struct idx_header *)copy)->nrows_ns = 99;
    CHECK(idx_check(&bad, copy, size, &ie) != 0, "inconsistent counts refused");
    memcpy(copy, bytes, size);
    struct idx_header *h = (struct idx_header *)copy;
    uint32_t *post = (uint32_t *)(copy + h->sec[IDX_SEC_POSTINGS].off);
    post[0] = 12345;
    CHECK(idx_check(&bad, copy, size, &ie) != 0 && strstr(ie.msg, "posting"),
          "a posting naming no row is refused");
    memcpy(copy, bytes, size);
    h = (struct idx_header *)copy;
    uint32_t *sort = (uint32_t *)(copy + h->sec[IDX_SEC_SORT].off);
    sort[1] = sort[0];
    CHECK(idx_check(&bad, copy, size, &ie) != 0 && strstr(ie.msg, "permutation"),
          "a sort order that repeats a row is refused");
    memcpy(copy, bytes, size);
    h = (struct idx_header *)copy;
    uint32_t *rrows = (uint32_t *)(copy + h->sec[IDX_SEC_REPORT_ROWS].off);
    uint32_t r0 = rrows[0];
    rrows[0] = rrows[2];
    rrows[2] = r0;
    CHECK(idx_check(&bad, copy, size, &ie) != 0 && strstr(ie.msg, "report"),
          "a report listing another's row is refused: %s", ie.msg);
    memcpy(copy, bytes, size);
    h = (struct idx_header *)copy;
    struct idx_label *lb = (struct idx_label *)(copy + h->sec[IDX_SEC_LABELS].off);
    struct idx_label tmp = lb[0];
    lb[0] = lb[1];
    lb[1] = tmp;
    CHECK(idx_check(&bad, copy, size, &ie) != 0 && strstr(ie.msg, "label"),
          "labels out of order are refused: %s", ie.msg);
    memcpy(copy, bytes, size);
    h = (struct idx_header *)copy;
    ((struct idx_upload *)(copy + h->sec[IDX_SEC_UPLOADS].off))[1].dest = 0;
    CHECK(idx_check(&bad, copy, size, &ie) != 0 && strstr(ie.msg, "upload 1"),
          "an upload without a destination is refused: %s", ie.msg);
    refuse_disorder(bytes, size);
    free(copy);
    free(bytes);
    rowset_free(rs);
    unlink(path);
    rmdir(dir);
    return TAP_DONE();
}
