/* test_source_files.c - the files: source: which files, in which order, and invalid ones. */
#include "source.h"
#include "tap.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmp[64];

/* Writes tmp/rel (one directory level is created), returns its full path in a static buffer. */
static const char *put(const char *rel, const char *content)
{
    static char path[256];
    snprintf(path, sizeof path, "%s/%s", tmp, rel);
    char *slash = strrchr(path, '/');
    *slash = '\0';
    mkdir(path, 0755);
    *slash = '/';
    FILE *f = fopen(path, "w");
    if (f) {
        fputs(content, f);
        fclose(f);
    }
    return path;
}

/* A one-row PolicyReport named name (JSON, which is YAML as well). */
static const char *report(const char *name)
{
    static char doc[512];
    snprintf(doc, sizeof doc,
             "{\"apiVersion\":\"wgpolicyk8s.io/v1alpha2\",\"kind\":\"PolicyReport\","
             "\"metadata\":{\"name\":\"%s\",\"namespace\":\"n\"},"
             "\"results\":[{\"policy\":\"%s\",\"result\":\"pass\"}]}",
             name, name);
    return doc;
}

static const char *report_name(const struct rowset *rs, uint32_t i)
{
    struct report_view v = {0};
    if (i < rowset_reports(rs)) rowset_get_report(rs, i, &v);
    return v.name;
}

static int contains(const char *s, const char *part)
{
    return s && strstr(s, part) != NULL;
}

/* Runs the source on arg; returns its result and fills err. */
static int collect(struct rowset *rs, const char *arg, int skip_invalid, struct err *e)
{
    struct source_opts opts = {0};
    opts.skip_invalid = skip_invalid;
    return source_files_collect(arg, &opts, rs, e);
}

static void check_status(const struct rowset *rs, const char *name, int up)
{
    int got = -1;
    const char *s = rowset_sources(rs) ? rowset_source(rs, rowset_sources(rs) - 1, &got) : NULL;
    CHECK_STR(s, name, "source recorded as %s", name);
    CHECK(got == up, "%s is %s", name, up ? "up" : "down");
}

static void test_fixtures(void)
{
    struct err e = {0};
    const char *err = e.msg;
    struct rowset *rs = rowset_new();
    int rc = collect(rs, "tests/fixtures/reports/good", 0, &e);
    CHECK(rc == 0, "the good fixtures load: %s", err);
    CHECK(rowset_reports(rs) == 6 && rowset_rows(rs) == 8, "6 reports, 8 rows: %u, %u",
          rowset_reports(rs), rowset_rows(rs));
    CHECK_STR(report_name(rs, 0), "trivy-vuln-shop-checkout", "bom.json first");
    CHECK_STR(report_name(rs, 3), "report-shop", "nested/openreports.yaml before v1alpha1.yaml");
    CHECK_STR(report_name(rs, 5), "polr-ns-legacy", "v1alpha1.yaml last");
    CHECK(rowset_warnings(rs) == 0, "no warnings");
    check_status(rs, "files:tests/fixtures/reports/good", 1);
    rowset_free(rs);

    rs = rowset_new();
    rc = collect(rs, "tests/fixtures/reports/bad", 0, &e);
    CHECK(rc == -1, "an invalid file fails the source");
    CHECK(contains(err, "tests/fixtures/reports/bad/alias.yaml#1: invalid YAML at line 6, "
                        "column 3: YAML aliases (*r) are not supported"),
          "the error names the first bad file (byte order), document and reason: %s", err);
    CHECK(contains(err, "--skip-invalid"), "and how to skip it");
    check_status(rs, "files:tests/fixtures/reports/bad", 0);
    rowset_free(rs);

    rs = rowset_new();
    rc = collect(rs, "tests/fixtures/reports/bad", 1, &e);
    CHECK(rc == 0, "--skip-invalid: the source succeeds: %s", err);
    CHECK(rowset_rows(rs) == 0 && rowset_reports(rs) == 0,
          "every bad file skipped whole, the valid first document of multi-doc.yaml too");
    CHECK(rowset_warnings(rs) == 5, "one warning per skipped file: %u", rowset_warnings(rs));
    check_status(rs, "files:tests/fixtures/reports/bad", 1);
    rowset_free(rs);
}

static void test_order_and_selection(void)
{
    struct err e = {0};
    const char *err = e.msg;
    put("b.yml", report("b.yml"));
    put("a.json", report("a.json"));
    put("B.yaml", report("B.yaml"));
    put("a/z.yaml", report("a/z.yaml"));
    put("sub/c.yml", report("sub/c.yml"));
    put("sub/x.Json", report("other case: not read"));
    put(".hidden.yaml", report("hidden"));
    put(".git/x.yaml", report("hidden dir"));
    put("notes.txt", "not a report");
    put("a/README", "not a report");
    char link[300];
    snprintf(link, sizeof link, "%s/sub/loop", tmp);
    CHECK(symlink("..", link) == 0, "a symlink loop sub/loop -> ..");

    struct rowset *rs = rowset_new();
    int rc = collect(rs, tmp, 0, &e);
    CHECK(rc == 0, "the tree loads: %s", err);
    static const char *const order[] = {"B.yaml", "a.json", "a/z.yaml", "b.yml", "sub/c.yml"};
    CHECK(rowset_reports(rs) == 5,
          "5 files read (hidden, other extensions or case, the loop left out): %u",
          rowset_reports(rs));
    for (uint32_t i = 0; i < 5; i++)
        CHECK_STR(report_name(rs, i), order[i], "file %u in byte order of the full path", i);
    rowset_free(rs);

    char arg[300];
    snprintf(arg, sizeof arg, "%s/", tmp);
    rs = rowset_new();
    CHECK(collect(rs, arg, 0, &e) == 0 && rowset_reports(rs) == 5, "a trailing slash is fine");
    rowset_free(rs);

    snprintf(arg, sizeof arg, "%s/a/z.yaml", tmp);
    rs = rowset_new();
    CHECK(collect(rs, arg, 0, &e) == 0 && rowset_reports(rs) == 1, "a single file");
    CHECK_STR(report_name(rs, 0), "a/z.yaml", "that file");
    rowset_free(rs);

    snprintf(arg, sizeof arg, "%s/notes.txt", tmp);
    rs = rowset_new();
    CHECK(collect(rs, arg, 0, &e) == -1 && contains(err, "not a .json, .yaml or .yml file"),
          "a named file of another extension fails: %s", err);
    rowset_free(rs);
}

static void test_failures(void)
{
    char dir[128], arg[300];
    struct err e = {0};
    const char *err = e.msg;
    struct rowset *rs = rowset_new();
    CHECK(collect(rs, "/nonexistent/polsnap", 0, &e) == -1 &&
              contains(err, "/nonexistent/polsnap: No such file or directory"),
          "a missing path fails: %s", err);
    check_status(rs, "files:/nonexistent/polsnap", 0);
    CHECK(collect(rs, NULL, 0, &e) == -1 && contains(err, "needs a path"), "no path: %s", err);
    CHECK(collect(rs, "", 0, &e) == -1 && contains(err, "needs a path"), "empty path");
    rowset_free(rs);

    snprintf(dir, sizeof dir, "%s/empty", tmp);
    mkdir(dir, 0755);
    rs = rowset_new();
    CHECK(collect(rs, dir, 0, &e) == 0 && rowset_warnings(rs) == 1,
          "an empty directory loads nothing, with a warning");
    rowset_free(rs);

    /* mixed: a good file, a multi-document file whose second document is bad, a huge file
     * (sparse: no disk used) and a dangling symlink */
    put("mixed/1-good.yaml", report("good"));
    put("mixed/2-multi.yaml", "apiVersion: wgpolicyk8s.io/v1alpha2\nkind: PolicyReport\n"
                              "metadata: {name: first-doc}\n"
                              "results: [{policy: x, result: pass}]\n---\nkind: Secret\n");
    char big[256];
    snprintf(big, sizeof big, "%s", put("mixed/3-big.json", ""));
    int fd = open(big, O_WRONLY);
    CHECK(fd >= 0 && ftruncate(fd, ((off_t)256 << 20) + 1) == 0, "a sparse 256 MiB + 1 file");
    if (fd >= 0) close(fd);
    snprintf(arg, sizeof arg, "%s/mixed/4-gone.yaml", tmp);
    CHECK(symlink("/nonexistent/x.yaml", arg) == 0, "a dangling symlink");
    put("mixed/5-last.json", report("last"));
    snprintf(dir, sizeof dir, "%s/mixed", tmp);

    rs = rowset_new();
    CHECK(collect(rs, dir, 0, &e) == -1 && contains(err, "2-multi.yaml#2: kind Secret is not"),
          "without --skip-invalid the first bad document fails the source: %s", err);
    rowset_free(rs);

    rs = rowset_new();
    CHECK(collect(rs, dir, 1, &e) == 0, "with --skip-invalid it succeeds: %s", err);
    CHECK(rowset_reports(rs) == 2 && rowset_rows(rs) == 2, "only the two good files: %u reports",
          rowset_reports(rs));
    CHECK_STR(report_name(rs, 0), "good", "first good file");
    CHECK_STR(report_name(rs, 1), "last", "last good file, loading went on");
    CHECK(rowset_warnings(rs) == 3, "three files skipped, three warnings: %u", rowset_warnings(rs));
    rowset_free(rs);

    rs = rowset_new();
    CHECK(collect(rs, big, 0, &e) == -1 && contains(err, "3-big.json: larger than 256 MiB"),
          "a file past the size bound: %s", err);
    rowset_free(rs);
    rs = rowset_new();
    CHECK(collect(rs, arg, 1, &e) == -1 && contains(err, "No such file"),
          "a dangling symlink named as the path: %s", err);
    rowset_free(rs);
}

int main(void)
{
    const char *root = getenv("POLSNAP_ROOT");
    if (root && chdir(root)) return 1;
    snprintf(tmp, sizeof tmp, "/tmp/polsnap-test-files-XXXXXX");
    if (!mkdtemp(tmp)) return 1;
    test_fixtures();
    test_order_and_selection();
    test_failures();
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    if (system(cmd)) printf("# could not remove %s\n", tmp);
    return TAP_DONE();
}
