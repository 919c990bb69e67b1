/* test_targets.c - the targets file: patterns, what a target accepts, defaults, and the
 * file/key/reason of each refusal. */
#include "idx.h"
#include "tap.h"
#include "targets.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[] = "/tmp/polsnap-targets-XXXXXX";
static char path[256];

static int load(const char *name, const char *text, struct targets *t, struct err *e)
{
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f) return perror(path), exit(2), -1;
    fputs(text, f);
    fclose(f);
    return targets_load(path, t, e);
}

static void patterns(void)
{
    struct conf_strings p = {0};
    conf_push(&p, strdup("team-*"));
    conf_push(&p, strdup("*-prod"));
    conf_push(&p, strdup("a*b*c"));
    CHECK(conf_match(&p, "team-a") && conf_match(&p, "TEAM-") && conf_match(&p, "x-prod"),
          "'*' is any run of bytes, case folded");
    CHECK(conf_match(&p, "abc") && conf_match(&p, "aXbYc") && !conf_match(&p, "acb"),
          "several stars");
    CHECK(!conf_match(&p, "team") && !conf_match(&p, "prod") && !conf_match(&p, ""),
          "no partial matches");
    conf_strings_release(&p, 0);
}

static void accepting(void)
{
    struct targets t;
    struct err e = {0};
    int rc = load("t.yaml",
                  "targets:\n"
                  "  - name: b\n    type: slack\n    url: https://h/x\n"
                  "    minimumSeverity: medium\n    sources: [Kyverno]\n"
                  "    filter:\n      namespaces: {include: [shop*, '*'], exclude: [shop-test]}\n"
                  "      kinds: {exclude: [Job]}\n"
                  "  - name: a\n    type: alertmanager\n    url: http://am:9093\n"
                  "    skipExistingOnStartup: 'FALSE'\n    timeout: '3'\n",
                  &t, &e);
    CHECK(rc == 0 && t.n == 2, "loads: %s", rc ? e.msg : "");
    if (rc) return;
    CHECK(!strcmp(t.v[0].name, "a") && t.v[0].type == TT_ALERTMANAGER && !t.v[0].skip_existing &&
              t.v[0].timeout_s == 3 && t.v[0].min_severity == 0,
          "sorted by name; YAML text booleans and numbers");
    CHECK(t.v[1].skip_existing && t.v[1].timeout_s == 10, "defaults: skip existing, 10 s");
    const struct target_conf *b = &t.v[1];
    CHECK(target_accepts(b, "shop", "Pod", "p", "kyverno", IDX_HIGH), "accepted");
    CHECK(!target_accepts(b, "shop", "Pod", "p", "kyverno", IDX_LOW), "below minimumSeverity");
    CHECK(!target_accepts(b, "shop", "Pod", "p", "kyverno", IDX_SEV_NONE), "no severity");
    CHECK(!target_accepts(b, "shop", "Pod", "p", "trivy", IDX_HIGH), "another source");
    CHECK(!target_accepts(b, "shop-test", "Pod", "p", "kyverno", IDX_HIGH), "excluded namespace");
    CHECK(!target_accepts(b, "shop", "Job", "p", "kyverno", IDX_HIGH), "excluded kind");
    CHECK(target_accepts(b, NULL, "Node", "p", "kyverno", IDX_HIGH), "'*' includes no namespace");
    CHECK(target_accepts(&t.v[0], NULL, NULL, NULL, NULL, IDX_SEV_NONE), "no filter: all");
    targets_release(&t);
}

static void refusals(void)
{
    static const struct {
        const char *text, *want;
    } cases[] = {
        {"targets: [{name: a, type: webhook, url: 'https://x', retries: 3}]",
         "targets[0].retries: unknown key"},
        {"targets: [{name: a, type: webhook}]", "targets[0]: has neither url nor urlFile"},
        {"targets: [{type: webhook, url: 'https://x'}]", "targets[0]: has no name"},
        {"targets: [{name: a, type: webhook, url: 'https://x', timeout: 0}]",
         "targets[0].timeout: must be a whole number of seconds from 1 to 300"},
        {"targets: [{name: a, type: webhook, url: 'https://x', headers: {'a b': c}}]",
         "targets[0].headers.a b: is not a valid header name"},
        {"targets: [{name: a, name: b, type: webhook, url: 'https://x'}]",
         "targets[0].name: is given twice"},
        {"targets: [{name: a, type: webhook, url: 'https://x', filter: {labels: {}}}]",
         "targets[0].filter.labels: unknown key"},
        {"target: []", "target: unknown key: the file holds one key, targets"},
        {"targets: {}", "targets: must be a list of targets"},
        {"a: [\n", "line "},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct targets t;
        struct err e = {0};
        int rc = load("bad.yaml", cases[i].text, &t, &e);
        char want[512];
        snprintf(want, sizeof want, "%s: %s", path, cases[i].want);
        CHECK(rc == -1 && e.code == ERR_INVALID && strncmp(e.msg, want, strlen(want)) == 0 &&
                  t.n == 0,
              "refused: %s", cases[i].want);
        if (strncmp(e.msg, want, strlen(want)) != 0) printf("#   got: %s\n", e.msg);
    }
}

int main(void)
{
    if (!mkdtemp(dir)) return perror("mkdtemp"), 2;
    patterns();
    accepting();
    refusals();
    unlink(path);
    snprintf(path, sizeof path, "%s/t.yaml", dir);
    unlink(path);
    rmdir(dir);
    return TAP_DONE();
}
