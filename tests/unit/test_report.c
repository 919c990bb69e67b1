/* test_report.c - report documents (JSON and YAML, every shape of spec sections 1 and 7) to rows.
 */
#include "report.h"
#include "tap.h"

#include <stdlib.h>
#include <string.h>

/* What report_load_bytes reported: the first failure and how many. */
struct errs {
    int n;
    char origin[256], reason[ERR_MSG_MAX];
};

static void on_err(void *ctx, const char *origin, const char *reason)
{
    struct errs *e = ctx;
    if (!e->n++) {
        snprintf(e->origin, sizeof e->origin, "%s", origin);
        snprintf(e->reason, sizeof e->reason, "%s", reason);
    }
}

/* Loads text into rs; returns report_load_bytes' count and fills e. */
static int load(struct rowset *rs, const char *text, int yaml, struct errs *e)
{
    memset(e, 0, sizeof *e);
    return report_load_bytes(rs, text, strlen(text), yaml ? "t.yaml" : "t.json", yaml, on_err, e);
}

static struct row_view row(const struct rowset *rs, uint32_t i)
{
    struct row_view v;
    memset(&v, 0, sizeof v);
    if (i < rowset_rows(rs)) rowset_get(rs, i, &v);
    return v;
}

static struct report_view report(const struct rowset *rs, uint32_t i)
{
    struct report_view v;
    memset(&v, 0, sizeof v);
    if (i < rowset_reports(rs)) rowset_get_report(rs, i, &v);
    return v;
}

static int contains(const char *s, const char *part)
{
    return s && strstr(s, part) != NULL;
}

static void test_v1alpha2_json(void)
{
    struct rowset *rs = rowset_new();
    struct errs e;
    int rc = load(rs,
                  "{\"apiVersion\":\"wgpolicyk8s.io/v1alpha2\",\"kind\":\"PolicyReport\","
                  "\"metadata\":{\"name\":\"polr-1\",\"namespace\":\"shop\"},"
                  "\"summary\":{\"pass\":99},\"unknownField\":[1,2,{\"x\":null}],"
                  "\"results\":[{\"policy\":\"pol\",\"rule\":\"r1\",\"result\":\"Fail\","
                  "\"severity\":\"HIGH\",\"category\":\"cat\",\"message\":\"msg\","
                  "\"source\":\"kyverno\",\"scored\":true,\"timestamp\":{\"seconds\":1700000000,"
                  "\"nanos\":5},\"properties\":{\"resultID\":\"rid-1\",\"a.b c\":\"x\\\"y\"},"
                  "\"resources\":[{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"name\":\"p1\","
                  "\"namespace\":\"other\",\"uid\":\"u1\"},{\"kind\":\"Pod\",\"name\":\"p2\"}]},"
                  "{\"policy\":\"pol\",\"rule\":\"r2\",\"result\":\"pass\","
                  "\"properties\":{\"resultID\":\"rid-2\"},"
                  "\"resources\":[{\"kind\":\"Pod\",\"name\":\"p3\"}]}]}",
                  0, &e);
    CHECK(rc == 0 && e.n == 0, "v1alpha2 JSON loads (%s)", e.reason);
    CHECK(rowset_rows(rs) == 3, "a result with two resources gives two rows, plus one: %u",
          rowset_rows(rs));
    CHECK(rowset_reports(rs) == 1, "one report recorded");
    struct report_view rep = report(rs, 0);
    CHECK_STR(rep.kind, "PolicyReport", "report kind");
    CHECK_STR(rep.name, "polr-1", "report name from metadata");
    CHECK_STR(rep.namespace, "shop", "report namespace from metadata");
    CHECK(!rep.cluster_scoped, "PolicyReport is namespaced");
    struct row_view r = row(rs, 0);
    CHECK_STR(r.namespace, "shop", "namespace is the report's, not the resource's");
    CHECK_STR(r.kind, "Pod", "resource kind");
    CHECK_STR(r.name, "p1", "resource name");
    CHECK_STR(r.res_api_version, "v1", "resource apiVersion");
    CHECK_STR(r.res_namespace, "other", "resource namespace kept for the detail view");
    CHECK_STR(r.res_uid, "u1", "resource uid");
    CHECK_STR(r.policy, "pol", "policy");
    CHECK_STR(r.rule, "r1", "rule");
    CHECK_STR(r.status, "fail", "status lower-cased");
    CHECK_STR(r.severity, "high", "severity lower-cased");
    CHECK_STR(r.category, "cat", "category");
    CHECK_STR(r.message, "msg", "message");
    CHECK_STR(r.source, "kyverno", "source");
    CHECK(r.has_timestamp && r.timestamp == 1700000000, "timestamp.seconds as an integer");
    CHECK(r.scored == 1, "scored true");
    CHECK_STR(r.properties, "{\"resultID\":\"rid-1\",\"a.b c\":\"x\\\"y\"}",
              "properties: compact JSON, input order, escaped");
    CHECK(r.id && strlen(r.id) == 40 && strcmp(r.id, "rid-1") != 0,
          "two resources: the id is hashed, not the resultID (%s)", r.id);
    const char *id0 = row(rs, 0).id, *id1 = row(rs, 1).id;
    CHECK(id0 && id1 && strcmp(id0, id1) != 0, "the two rows of a result differ in id");
    CHECK_STR(row(rs, 1).name, "p2", "second resource, second row");
    CHECK_STR(row(rs, 1).res_api_version, NULL, "absent resource field is null");
    CHECK_STR(row(rs, 2).id, "rid-2", "one resource: the id is properties.resultID");
    rowset_free(rs);
}

static void test_scope_and_no_resource(void)
{
    struct rowset *rs = rowset_new();
    struct errs e;
    load(rs,
         "apiVersion: wgpolicyk8s.io/v1alpha2\n"
         "kind: PolicyReport\n"
         "metadata: {name: n, namespace: ns}\n"
         "scope: {apiVersion: apps/v1, kind: Deployment, name: web, namespace: ns, uid: u9}\n"
         "results:\n"
         "- {policy: p, rule: a, result: pass}\n"
         "- {policy: p, rule: b, result: pass, resources: []}\n"
         "- {policy: p, rule: c, result: pass, resources: [{kind: Pod, name: web-1}]}\n",
         1, &e);
    CHECK(e.n == 0 && rowset_rows(rs) == 3, "scope report loads (%s)", e.reason);
    CHECK_STR(row(rs, 0).kind, "Deployment", "no resources: the report's scope is the resource");
    CHECK_STR(row(rs, 0).name, "web", "scope name");
    CHECK_STR(row(rs, 0).res_uid, "u9", "scope uid");
    CHECK_STR(row(rs, 1).name, "web", "empty resources: the scope too");
    CHECK_STR(row(rs, 2).name, "web-1", "own resources win over the scope");
    rowset_free(rs);

    rs = rowset_new();
    load(rs,
         "{\"apiVersion\":\"wgpolicyk8s.io/v1alpha2\",\"kind\":\"ClusterPolicyReport\","
         "\"metadata\":{\"name\":\"c\",\"namespace\":\"ignored\"},"
         "\"results\":[{\"policy\":\"p\",\"result\":\"warn\"}]}",
         0, &e);
    CHECK(e.n == 0 && rowset_rows(rs) == 1, "neither resources nor scope: one row");
    CHECK_STR(row(rs, 0).kind, NULL, "that row's kind is null");
    CHECK_STR(row(rs, 0).name, NULL, "that row's name is null");
    CHECK_STR(row(rs, 0).namespace, NULL, "ClusterPolicyReport rows have no namespace");
    CHECK(report(rs, 0).cluster_scoped, "ClusterPolicyReport is cluster-scoped");
    CHECK(!row(rs, 0).has_timestamp, "absent timestamp");
    CHECK(row(rs, 0).scored == -1, "absent scored");
    CHECK_STR(row(rs, 0).properties, NULL, "absent properties");
    rowset_free(rs);
}

static void test_v1alpha1_and_v1beta1(void)
{
    struct rowset *rs = rowset_new();
    struct errs e;
    load(rs,
         "apiVersion: wgpolicyk8s.io/v1alpha1\nkind: ClusterPolicyReport\nmetadata: {name: old}\n"
         "results:\n"
         "- policy: p\n  status: Error\n  data: {resultID: old-1, k: v}\n"
         "  resources: [{kind: Node, name: n1}]\n",
         1, &e);
    CHECK(e.n == 0 && rowset_rows(rs) == 1, "v1alpha1 loads (%s)", e.reason);
    CHECK_STR(row(rs, 0).status, "error", "v1alpha1 status means result");
    CHECK_STR(row(rs, 0).properties, "{\"resultID\":\"old-1\",\"k\":\"v\"}",
              "v1alpha1 data means properties");
    CHECK_STR(row(rs, 0).id, "old-1", "resultID read from data");
    rowset_free(rs);

    rs = rowset_new();
    load(rs,
         "{\"apiVersion\":\"wgpolicyk8s.io/v1beta1\",\"kind\":\"PolicyReport\","
         "\"metadata\":{\"name\":\"b\",\"namespace\":\"n\"},\"source\":\"trivy\","
         "\"results\":[{\"policy\":\"p1\",\"result\":\"fail\"},"
         "{\"policy\":\"p2\",\"result\":\"fail\",\"source\":\"own\"},"
         "{\"policy\":\"p3\",\"result\":\"fail\",\"source\":\"\"},"
         "{\"policy\":\"p4\",\"result\":\"fail\",\"result_\":1,\"status\":\"pass\"}]}",
         0, &e);
    CHECK(e.n == 0 && rowset_rows(rs) == 4, "v1beta1 loads (%s)", e.reason);
    CHECK_STR(row(rs, 0).source, "trivy", "no result source: the report's top-level source");
    CHECK_STR(row(rs, 1).source, "own", "the result's source wins");
    CHECK_STR(row(rs, 2).source, "trivy", "a blank result source falls back too");
    CHECK_STR(row(rs, 3).status, "fail", "result wins over status when both are given");
    rowset_free(rs);
}

static void test_openreports(void)
{
    struct rowset *rs = rowset_new();
    struct errs e;
    load(rs,
         "apiVersion: openreports.io/v1alpha1\nkind: Report\n"
         "metadata: {name: r, namespace: shop}\nsource: kyverno\n"
         "results:\n"
         "- policy: p\n  result: pass\n  description: all good\n"
         "  subjects: [{apiVersion: v1, kind: Pod, name: a}, {kind: Pod, name: b}]\n"
         "---\n"
         "apiVersion: openreports.io/v1alpha1\nkind: ClusterReport\nmetadata: {name: cr}\n"
         "results: [{policy: q, result: fail, message: also read}]\n",
         1, &e);
    CHECK(e.n == 0 && rowset_rows(rs) == 3, "OpenReports load (%s)", e.reason);
    CHECK_STR(row(rs, 0).message, "all good", "description is the message");
    CHECK_STR(row(rs, 0).name, "a", "subjects are the resources");
    CHECK_STR(row(rs, 1).name, "b", "second subject");
    CHECK_STR(row(rs, 0).source, "kyverno", "top-level source");
    CHECK_STR(row(rs, 0).namespace, "shop", "Report rows are namespaced");
    CHECK_STR(report(rs, 0).kind, "Report", "kind Report recorded as written");
    CHECK(report(rs, 1).cluster_scoped, "ClusterReport is cluster-scoped");
    CHECK_STR(row(rs, 2).namespace, NULL, "ClusterReport rows have no namespace");
    CHECK_STR(row(rs, 2).message, "also read", "message accepted where description is absent");
    rowset_free(rs);
}

static void test_lists(void)
{
    struct rowset *rs = rowset_new();
    struct errs e;
    load(rs,
         "apiVersion: v1\nkind: List\nmetadata: {resourceVersion: \"\"}\nitems:\n"
         "- apiVersion: wgpolicyk8s.io/v1alpha2\n  kind: PolicyReport\n"
         "  metadata: {name: a, namespace: x}\n  results: [{policy: p, result: pass}]\n"
         "- apiVersion: openreports.io/v1alpha1\n  kind: ClusterReport\n"
         "  metadata: {name: b}\n  results: [{policy: p, result: fail}]\n",
         1, &e);
    CHECK(e.n == 0 && rowset_reports(rs) == 2 && rowset_rows(rs) == 2,
          "kind: List of mixed reports (%s)", e.reason);
    CHECK_STR(report(rs, 1).kind, "ClusterReport", "List items keep their own kind");
    rowset_free(rs);

    static const struct {
        const char *list, *api, *item;
        int cluster;
    } typed[] = {
        {"PolicyReportList", "wgpolicyk8s.io/v1alpha2", "PolicyReport", 0},
        {"ClusterPolicyReportList", "wgpolicyk8s.io/v1beta1", "ClusterPolicyReport", 1},
        {"ReportList", "openreports.io/v1alpha1", "Report", 0},
        {"ClusterReportList", "openreports.io/v1alpha1", "ClusterReport", 1},
    };
    for (size_t i = 0; i < sizeof typed / sizeof typed[0]; i++) {
        char doc[512];
        snprintf(doc, sizeof doc,
                 "{\"apiVersion\":\"%s\",\"kind\":\"%s\",\"items\":[{\"metadata\":{\"name\":"
                 "\"m\",\"namespace\":\"ns\"},\"results\":[{\"policy\":\"p\",\"result\":"
                 "\"pass\"}]},{\"metadata\":{\"name\":\"m2\"}}]}",
                 typed[i].api, typed[i].list);
        rs = rowset_new();
        load(rs, doc, 0, &e);
        CHECK(e.n == 0 && rowset_reports(rs) == 2 && rowset_rows(rs) == 1,
              "%s items without kind/apiVersion load (%s)", typed[i].list, e.reason);
        CHECK_STR(report(rs, 0).kind, typed[i].item, "%s items are %s", typed[i].list,
                  typed[i].item);
        CHECK(report(rs, 0).cluster_scoped == typed[i].cluster, "%s scope", typed[i].list);
        CHECK_STR(row(rs, 0).namespace, typed[i].cluster ? NULL : "ns", "%s row namespace",
                  typed[i].list);
        rowset_free(rs);
    }

    rs = rowset_new();
    int rc = load(rs,
                  "{\"apiVersion\":\"v1\",\"kind\":\"List\",\"items\":[{\"apiVersion\":"
                  "\"wgpolicyk8s.io/v1alpha2\",\"kind\":\"PolicyReport\",\"results\":[{\"result\""
                  ":\"pass\"}]},{\"metadata\":{\"name\":\"x\"}}]}",
                  0, &e);
    CHECK(rc == 1 && contains(e.reason, "items[1] has no kind"),
          "kind: List items need their own kind: %s", e.reason);
    CHECK(rowset_rows(rs) == 0 && rowset_reports(rs) == 0,
          "a failing item adds nothing of the earlier items either");
    rc = load(rs,
              "{\"apiVersion\":\"v1\",\"kind\":\"List\",\"items\":[{\"apiVersion\":\"v1\","
              "\"kind\":\"ConfigMap\"}]}",
              0, &e);
    CHECK(rc == 1 && contains(e.reason, "items[0]: kind ConfigMap is not a policy report"),
          "a List holding a ConfigMap: %s", e.reason);
    rc = load(rs, "{\"apiVersion\":\"v1\",\"kind\":\"List\",\"items\":{}}", 0, &e);
    CHECK(rc == 1 && contains(e.reason, "items is not a list"), "items not a list: %s", e.reason);
    rc = load(rs, "{\"apiVersion\":\"v1\",\"kind\":\"List\"}", 0, &e);
    CHECK(rc == 0 && rowset_reports(rs) == 0, "an empty List is fine");
    rowset_free(rs);
}

static void test_multi_doc_yaml(void)
{
    struct rowset *rs = rowset_new();
    struct errs e;
    int rc = load(rs,
                  "---\n"
                  "apiVersion: wgpolicyk8s.io/v1alpha2\nkind: PolicyReport\n"
                  "metadata: {name: one, namespace: a}\nresults: [{policy: p, result: pass}]\n"
                  "---\n"
                  "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm}\n"
                  "---\n"
                  "---\n"
                  "apiVersion: wgpolicyk8s.io/v1alpha2\nkind: PolicyReport\n"
                  "metadata: {name: four, namespace: a}\nresults: [{policy: q, result: pass}]\n"
                  "...\n",
                  1, &e);
    CHECK(rc == 1, "one of four documents failed: %d", rc);
    CHECK_STR(e.origin, "t.yaml#2", "the failure is named by its document number");
    CHECK_STR(e.reason, "kind ConfigMap is not a policy report", "and says why");
    CHECK(rowset_reports(rs) == 2 && rowset_rows(rs) == 2,
          "the other documents load; the empty one is passed over");
    CHECK_STR(report(rs, 1).name, "four", "in document order");

    rc = load(rs,
              "apiVersion: wgpolicyk8s.io/v1alpha2\nkind: PolicyReport\n"
              "results: [{policy: z, result: pass}]\n---\nkey: [unclosed\n---\nkind: x\n",
              1, &e);
    CHECK(rc == 1 && !strcmp(e.origin, "t.yaml#2") && contains(e.reason, "invalid YAML at line"),
          "a YAML syntax error ends the file, named by document: %s %s", e.origin, e.reason);
    CHECK(rowset_rows(rs) == 3, "documents before the syntax error are loaded");
    rowset_free(rs);
}

static void test_field_values(void)
{
    struct rowset *rs = rowset_new();
    struct errs e;
    load(
        rs,
        "{\"apiVersion\":\"wgpolicyk8s.io/v1alpha2\",\"kind\":\"PolicyReport\","
        "\"metadata\":{\"name\":7,\"namespace\":\"\"},\"results\":["
        "{\"policy\":5,\"rule\":{\"a\":1},\"message\":[\"x\"],\"category\":true,"
        "\"severity\":null,\"result\":\"pass\",\"timestamp\":{\"seconds\":1700000000.9},"
        "\"properties\":{\"n\":1,\"b\":false,\"o\":{},\"s\":\"kept\",\"z\":null},"
        "\"scored\":\"False\",\"resources\":[{\"kind\":3,\"name\":\"\"}]},"
        "{\"policy\":\"p\",\"rule\":\"r1\",\"result\":\"pass\",\"timestamp\":{\"seconds\":"
        "\"1700000001\"},"
        "\"properties\":{\"n\":1},\"scored\":\"TRUE\"},"
        "{\"policy\":\"p\",\"rule\":\"r2\",\"result\":\"pass\",\"timestamp\":{\"seconds\":\"-12."
        "5\"},"
        "\"properties\":{},\"scored\":\"yes\",\"severity\":\"urgent\"},"
        "{\"policy\":\"p\",\"rule\":\"r3\",\"result\":\"pass\",\"timestamp\":{\"seconds\":\"0x10\"}"
        ","
        "\"scored\":false},"
        "{\"policy\":\"p\",\"rule\":\"r4\",\"result\":\"pass\",\"timestamp\":{\"seconds\":1e300}},"
        "{\"policy\":\"p\",\"rule\":\"r5\",\"result\":\"pass\",\"timestamp\":{\"seconds\":\"17e8\"}"
        "},"
        "{\"policy\":\"p\",\"rule\":\"r6\",\"result\":\"pass\",\"timestamp\":\"2024-05-01T00:00:"
        "00Z\"},"
        "{\"policy\":\"p\",\"rule\":\"r7\",\"result\":\"pass\",\"timestamp\":{\"seconds\":\" 5\"}},"
        "{\"policy\":\"p\",\"rule\":\"r8\",\"result\":\"pass\",\"timestamp\":{\"seconds\":true}},"
        "{\"policy\":\"p\",\"rule\":\"r9\",\"result\":\"pass\",\"timestamp\":{\"seconds\":0}}"
        "]}",
        0, &e);
    CHECK(e.n == 0 && rowset_rows(rs) == 10, "odd values load (%s), %u rows", e.reason,
          rowset_rows(rs));
    struct row_view r = row(rs, 0);
    CHECK_STR(report(rs, 0).name, NULL, "metadata.name not a string: blank");
    CHECK_STR(report(rs, 0).namespace, NULL, "empty namespace: null");
    CHECK_STR(r.namespace, NULL, "a PolicyReport without namespace stays namespace null");
    CHECK_STR(r.policy, NULL, "number in a string field: null");
    CHECK_STR(r.rule, NULL, "object in a string field: null");
    CHECK_STR(r.message, NULL, "array in a string field: null");
    CHECK_STR(r.category, NULL, "bool in a string field: null");
    CHECK_STR(r.severity, NULL, "null severity");
    CHECK_STR(r.kind, NULL, "number as resource kind: null");
    CHECK_STR(r.name, NULL, "empty resource name: null");
    CHECK(r.has_timestamp && r.timestamp == 1700000000, "float seconds truncated: %lld",
          (long long)r.timestamp);
    CHECK_STR(r.properties, "{\"s\":\"kept\"}", "properties keep string values only");
    CHECK(r.scored == 0, "scored \"False\" is false");
    r = row(rs, 1);
    CHECK(r.has_timestamp && r.timestamp == 1700000001, "string seconds");
    CHECK_STR(r.properties, NULL, "no string property left: null");
    CHECK(r.scored == 1, "scored \"TRUE\" is true");
    r = row(rs, 2);
    CHECK(r.has_timestamp && r.timestamp == -12, "negative float string truncated toward zero");
    CHECK_STR(r.properties, NULL, "empty properties: null");
    CHECK(r.scored == -1, "scored \"yes\" is not a boolean");
    CHECK_STR(r.severity, NULL, "severity outside the five: null, row kept");
    CHECK(!row(rs, 3).has_timestamp, "hex string seconds: no timestamp");
    CHECK(row(rs, 3).scored == 0, "scored false");
    CHECK(!row(rs, 4).has_timestamp, "seconds beyond year 9999: no timestamp");
    CHECK(row(rs, 5).has_timestamp && row(rs, 5).timestamp == 1700000000,
          "exponent string seconds");
    CHECK(!row(rs, 6).has_timestamp, "timestamp not an object: no timestamp");
    CHECK(!row(rs, 7).has_timestamp, "seconds with a space: no timestamp");
    CHECK(!row(rs, 8).has_timestamp, "boolean seconds: no timestamp");
    CHECK(row(rs, 9).has_timestamp && row(rs, 9).timestamp == 0, "seconds 0 is a timestamp");
    rowset_free(rs);
}

static void test_yaml_scalars(void)
{
    struct rowset *rs = rowset_new();
    struct errs e;
    load(rs,
         "apiVersion: wgpolicyk8s.io/v1alpha2\nkind: PolicyReport\n"
         "metadata: {name: 0123, namespace: 'null'}\n"
         "results:\n"
         "- policy: yes\n  rule: 1.10\n  result: PASS\n  message: null\n  category: ~\n"
         "  source: \"null\"\n  severity: Critical\n  scored: true\n"
         "  timestamp: {seconds: 1714557600}\n"
         "  properties: {count: 3, flag: false, empty: , quoted: '', nul: null}\n"
         "  resources:\n  - kind: Pod\n    name: !!str 007\n",
         1, &e);
    CHECK(e.n == 0 && rowset_rows(rs) == 1, "YAML scalars load (%s)", e.reason);
    struct row_view r = row(rs, 0);
    CHECK_STR(report(rs, 0).name, "0123", "YAML scalars are text: 0123 keeps its zero");
    CHECK_STR(report(rs, 0).namespace, "null", "a quoted 'null' is text");
    CHECK_STR(r.policy, "yes", "yes stays text");
    CHECK_STR(r.rule, "1.10", "1.10 stays text");
    CHECK_STR(r.status, "pass", "status lower-cased");
    CHECK_STR(r.message, "null", "plain null is text too");
    CHECK_STR(r.category, "~", "plain ~ is text too");
    CHECK_STR(r.source, "null", "double-quoted \"null\" is text");
    CHECK_STR(r.severity, "critical", "severity lower-cased");
    CHECK(r.scored == 1, "scored: true (text) is true");
    CHECK(r.has_timestamp && r.timestamp == 1714557600, "YAML seconds (text) parsed");
    CHECK_STR(r.properties,
              "{\"count\":\"3\",\"flag\":\"false\",\"empty\":\"\",\"quoted\":\"\","
              "\"nul\":\"null\"}",
              "YAML property values are all text, empty ones kept");
    CHECK_STR(r.name, "007", "tagged scalar keeps its text");
    rowset_free(rs);
}

/* What is tolerated as absent, and which field stands in for which. */
static void test_tolerance(void)
{
    struct rowset *rs = rowset_new();
    struct errs e;
    CHECK(load(rs, "null", 0, &e) == 0 && load(rs, "\"\"", 0, &e) == 0 && rowset_reports(rs) == 0,
          "a JSON null or empty-string document holds no report");
    int rc = load(rs,
                  "apiVersion: wgpolicyk8s.io/v9\nkind: PolicyReport\nmetadata:\nscope: x\n"
                  "results:\n"
                  "- policy: a\n  result: pass\n  properties: text\n  timestamp: soon\n"
                  "  resources:\n  subjects: [{kind: Pod, name: s}]\n"
                  "- {policy: b, result: [], status: warn, message: '', description: d,"
                  " resources: [], subjects: [{kind: Pod, name: ignored}]}\n"
                  "---\n"
                  "apiVersion: wgpolicyk8s.io\nkind: ClusterPolicyReport\nresults:\n",
                  1, &e);
    CHECK(rc == 0 && rowset_reports(rs) == 2 && rowset_rows(rs) == 2, "tolerated shapes load (%s)",
          e.reason);
    struct row_view r = row(rs, 0);
    CHECK_STR(report(rs, 0).name, NULL, "an empty metadata is absent");
    CHECK_STR(r.properties, NULL, "properties that is not an object: null");
    CHECK(!r.has_timestamp, "timestamp that is not an object: none");
    CHECK_STR(r.name, "s", "an empty resources is absent: subjects are read");
    r = row(rs, 1);
    CHECK_STR(r.status, "warn", "a non-string result falls back to status");
    CHECK_STR(r.message, "d", "an empty message falls back to description");
    CHECK_STR(r.name, NULL, "resources [] wins over subjects; scope that is not an object: none");
    rowset_free(rs);

    rs = rowset_new();
    rc = load(rs,
              "{\"apiVersion\":\"v1\",\"kind\":\"List\",\"items\":[{\"apiVersion\":"
              "\"wgpolicyk8s.io/v1alpha2\",\"kind\":\"PolicyReportList\",\"items\":[{\"results\":"
              "[{\"policy\":\"p\",\"result\":\"pass\"}]}]}]}",
              0, &e);
    CHECK(rc == 0 && rowset_reports(rs) == 1 && rowset_rows(rs) == 1,
          "lists nest: a PolicyReportList inside a List (%s)", e.reason);
    CHECK_STR(report(rs, 0).kind, "PolicyReport", "the inner list's item kind");
    rowset_free(rs);
}

static void test_status_and_duplicates(void)
{
    struct rowset *rs = rowset_new();
    struct errs e;
    int rc = load(rs,
                  "apiVersion: wgpolicyk8s.io/v1alpha2\nkind: PolicyReport\n"
                  "metadata: {name: n, namespace: ns}\nresults:\n"
                  "- {policy: p, rule: a, result: unknown}\n"
                  "- {policy: p, rule: b}\n"
                  "- {policy: p, rule: c, result: pass, timestamp: {seconds: 1}}\n"
                  "- {policy: p, rule: c, result: pass, timestamp: {seconds: 2}}\n"
                  "- {policy: p, rule: d, result: skip}\n",
                  1, &e);
    CHECK(rc == 0, "bad statuses do not fail the document");
    CHECK(rowset_rows(rs) == 2, "bad status, missing status and duplicate skipped: %u rows",
          rowset_rows(rs));
    CHECK(rowset_warnings(rs) == 3, "each counted as a warning: %u", rowset_warnings(rs));
    CHECK(row(rs, 0).has_timestamp && row(rs, 0).timestamp == 1, "the first duplicate stays");
    CHECK_STR(row(rs, 1).status, "skip", "skip is a status");
    rowset_free(rs);
}

static void test_bom_and_empty(void)
{
    struct rowset *rs = rowset_new();
    struct errs e;
    int rc = load(rs,
                  "\xef\xbb\xbf{\"apiVersion\":\"wgpolicyk8s.io/v1alpha2\",\"kind\":"
                  "\"PolicyReport\",\"metadata\":{\"name\":\"b\"}}",
                  0, &e);
    CHECK(rc == 0 && rowset_reports(rs) == 1 && rowset_rows(rs) == 0,
          "JSON with a BOM; no results: a report without rows (%s)", e.reason);
    rc = load(rs,
              "\xef\xbb\xbf"
              "apiVersion: wgpolicyk8s.io/v1alpha2\nkind: PolicyReport\nresults:\n",
              1, &e);
    CHECK(rc == 0 && rowset_reports(rs) == 2, "YAML with a BOM; results: null (%s)", e.reason);
    rc = load(rs,
              "apiVersion: wgpolicyk8s.io/v1alpha2\r\nkind: PolicyReport\r\n"
              "metadata: {name: crlf}\r\nresults: [{policy: p, result: pass}]\r\n---\r\n",
              1, &e);
    CHECK(rc == 0 && rowset_reports(rs) == 3 && rowset_rows(rs) == 1,
          "CRLF line ends, a trailing --- (%s)", e.reason);
    CHECK_STR(report(rs, 2).name, "crlf", "no \\r left in values");
    rc = load(rs, "", 1, &e);
    CHECK(rc == 0 && rowset_reports(rs) == 3, "an empty YAML file has no documents");
    rc = load(rs, "# only a comment\n", 1, &e);
    CHECK(rc == 0 && rowset_reports(rs) == 3, "a YAML file of comments has no documents");
    rc = load(rs, " \n\t", 0, &e);
    CHECK(rc == 1 && contains(e.reason, "empty file"), "an empty JSON file fails: %s", e.reason);
    rc = load(rs, "\xef\xbb\xbf", 0, &e);
    CHECK(rc == 1 && contains(e.reason, "empty file"), "a JSON file of a BOM fails: %s", e.reason);
    rowset_free(rs);
}

/* Each document must fail with a reason containing the text given, adding nothing. */
static void test_invalid(void)
{
    static const struct {
        int yaml;
        const char *doc, *reason;
    } cases[] = {
        {0, "{\"kind\": \"PolicyReport\", ", "invalid JSON at line 1, column 25"},
        {0, "{\"a\":1}\n\n  }", "unexpected text after the JSON document at line 3, column 3"},
        {0, "{\"a\":1}{\"b\":2}", "unexpected text after the JSON document"},
        {0, "[1,2]", "the document is not an object"},
        {1, "just text", "the document is not an object"},
        {1, "- a\n- b\n", "the document is not an object"},
        {0, "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\"}",
         "kind ConfigMap is not a policy report"},
        {0, "{\"apiVersion\":\"v1\"}", "the document has no kind"},
        {0, "{\"kind\":5}", "the document has no kind"},
        {0, "{\"kind\":\"PolicyReport\"}",
         "PolicyReport has apiVersion (none), expected wgpolicyk8s.io/"},
        {0, "{\"kind\":\"PolicyReport\",\"apiVersion\":\"openreports.io/v1alpha1\"}",
         "PolicyReport has apiVersion openreports.io/v1alpha1"},
        {0, "{\"kind\":\"Report\",\"apiVersion\":\"openreports.io.example/v1\"}",
         "Report has apiVersion openreports.io.example/v1, expected openreports.io/..."},
        {0, "{\"kind\":\"PolicyReport\",\"apiVersion\":\"wgpolicyk8s.io/v1alpha2\",\"results\":{}}",
         "results is not a list"},
        {0,
         "{\"kind\":\"PolicyReport\",\"apiVersion\":\"wgpolicyk8s.io/v1alpha2\",\"metadata\":[]}",
         "metadata is not an object"},
        {1, "kind: PolicyReport\napiVersion: wgpolicyk8s.io/v1alpha2\nmetadata: null\n",
         "metadata is not an object"},
        {0,
         "{\"apiVersion\":\"v1\",\"kind\":\"List\",\"items\":[{\"kind\":\"PolicyReportList\","
         "\"apiVersion\":\"wgpolicyk8s.io/v1\",\"items\":[{\"kind\":\"Secret\"}]}]}",
         "items[0].items[0]: kind Secret is not a policy report"},
        {1,
         "kind: PolicyReport\napiVersion: wgpolicyk8s.io/v1alpha2\nresults: [{result: pass}, 3]\n",
         "results[1] is not an object"},
        {1,
         "kind: PolicyReport\napiVersion: wgpolicyk8s.io/v1alpha2\nresults: [{result: pass}, ~]\n",
         "results[1] is not an object"},
        {1,
         "kind: PolicyReport\napiVersion: wgpolicyk8s.io/v1alpha2\n"
         "results: [{result: pass, resources: [{kind: Pod}, x]}]\n",
         "results[0].resources[1] is not an object"},
        {1,
         "kind: Report\napiVersion: openreports.io/v1alpha1\n"
         "results: [{result: pass, subjects: {kind: Pod}}]\n",
         "results[0].subjects is not a list"},
        {1,
         "kind: PolicyReport\napiVersion: wgpolicyk8s.io/v1alpha2\n"
         "results: [{result: pass, policy: a, policy: b}]\n",
         "results[0] has the key \"policy\" twice"},
        {0,
         "{\"kind\":\"PolicyReport\",\"kind\":\"ConfigMap\",\"apiVersion\":\"wgpolicyk8s.io/"
         "v1alpha2\"}",
         "the document has the key \"kind\" twice"},
        {0,
         "{\"kind\":\"PolicyReport\",\"apiVersion\":\"wgpolicyk8s.io/v1alpha2\",\"results\":"
         "[{\"result\":\"pass\",\"message\":\"\xff\"}]}",
         "invalid UTF-8 at line 1, column 102 (byte 101)"},
        {0,
         "{\"kind\":\"PolicyReport\",\"apiVersion\":\"wgpolicyk8s.io/v1alpha2\",\"results\":"
         "[{\"result\":\"pass\",\"properties\":{\"k\":\"\xed\xa0\x80\"}}]}",
         "invalid UTF-8 at line 1, column 110 (byte 109)"},
        {1, "a: &x [1]\nb: *x\n", "YAML aliases (*x) are not supported"},
        {1, "a: \"nul\\0byte\"\n", "a scalar holds a NUL character"},
        {1, "? [a, b]\n: c\n", "a mapping key is not a scalar"},
        {1, "a: b\n c: d\n", "invalid YAML at line 2"},
        {1, "a: \xff\n", "invalid YAML at byte"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct rowset *rs = rowset_new();
        struct errs e;
        int rc = load(rs, cases[i].doc, cases[i].yaml, &e);
        CHECK(rc == 1 && e.n == 1 && contains(e.reason, cases[i].reason), "invalid %zu fails: %s",
              i, e.reason);
        CHECK(rowset_rows(rs) == 0 && rowset_reports(rs) == 0, "invalid %zu adds nothing", i);
        rowset_free(rs);
    }

    char deep[2 * 300 + 64];
    size_t n = (size_t)snprintf(deep, sizeof deep, "a: ");
    for (int i = 0; i < 300; i++)
        deep[n++] = '[';
    for (int i = 0; i < 300; i++)
        deep[n++] = ']';
    deep[n] = '\0';
    struct rowset *rs = rowset_new();
    struct errs e;
    CHECK(load(rs, deep, 1, &e) == 1 && contains(e.reason, "nested deeper than 256"),
          "YAML nesting is bounded: %s", e.reason);
    rowset_free(rs);
}

static void test_report_load(void)
{
    struct rowset *rs = rowset_new();
    struct err e = {0};
    const char *err = e.msg;
    cJSON *doc =
        cJSON_Parse("{\"apiVersion\":\"wgpolicyk8s.io/v1alpha2\",\"kind\":\"PolicyReport\","
                    "\"metadata\":{\"name\":\"x\",\"namespace\":\"n\"},\"results\":["
                    "{\"policy\":\"p\",\"result\":\"pass\"},"
                    "{\"policy\":\"q\",\"result\":\"fail\",\"resources\":7}]}");
    CHECK(report_load(rs, doc, "api/polr/n/x", &e) == -1, "report_load fails a bad result");
    CHECK_STR(err, "api/polr/n/x: results[1].resources is not a list",
              "the error names the origin and the place");
    CHECK(rowset_rows(rs) == 0 && rowset_reports(rs) == 0,
          "no row of the failing document, not even the good first result");
    cJSON_ReplaceItemInObject(cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "results"), 1),
                              "resources", cJSON_CreateArray());
    CHECK(report_load(rs, doc, "api/polr/n/x", &e) == 0, "fixed, it loads");
    CHECK(rowset_rows(rs) == 2 && rowset_reports(rs) == 1, "two rows, one report");
    CHECK(report_load(NULL, doc, "check", &e) == 0, "rs NULL: a check only");
    cJSON *first = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "results"), 0);
    cJSON_AddItemToObject(first, "message", cJSON_CreateString("bad \xc3("));
    CHECK(report_load(rs, doc, "api", &e) == -1 &&
              !strcmp(err, "api: results[0].message is not valid UTF-8"),
          "a tree from elsewhere: strings are checked for UTF-8: %s", err);
    cJSON_DeleteItemFromObject(first, "message");
    cJSON *props = cJSON_AddObjectToObject(first, "properties");
    cJSON_AddItemToObject(props, "k", cJSON_CreateString("\xed\xa0\x80"));
    CHECK(report_load(rs, doc, "api", &e) == -1 &&
              !strcmp(err, "api: results[0].properties has a key or value that is not valid "
                           "UTF-8"),
          "property values too (a UTF-16 surrogate): %s", err);
    CHECK(rowset_rows(rs) == 2, "neither added a row");
    CHECK(report_load_bytes(NULL, "{\"kind\":\"X\"}", 12, "o", 0, NULL, NULL) == 1,
          "check only, no callback: the count of failures");
    cJSON_Delete(doc);
    rowset_free(rs);
}

static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *data = malloc(1 << 16);
    *len = fread(data, 1, 1 << 16, f);
    fclose(f);
    return data;
}

static void test_fixtures(void)
{
    static const struct {
        const char *path;
        int reports, rows, failures;
    } files[] = {
        {"good/kubectl-list.yaml", 2, 3, 0}, {"good/bom.json", 1, 1, 0},
        {"good/v1alpha1.yaml", 1, 2, 0},     {"good/nested/openreports.yaml", 2, 2, 0},
        {"bad/multi-doc.yaml", 1, 1, 1},     {"bad/malformed.json", 0, 0, 1},
        {"bad/malformed.yaml", 0, 0, 1},     {"bad/empty.json", 0, 0, 1},
        {"bad/alias.yaml", 0, 0, 1},
    };
    const char *root = getenv("POLSNAP_ROOT");
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char path[512];
        size_t len = 0;
        snprintf(path, sizeof path, "%s%stests/fixtures/reports/%s", root ? root : "",
                 root ? "/" : "", files[i].path);
        char *data = read_all(path, &len);
        struct rowset *rs = rowset_new();
        struct errs e = {0};
        int rc = data ? report_load_bytes(rs, data, len, files[i].path,
                                          strstr(path, ".json") == NULL, on_err, &e)
                      : -1;
        CHECK(rc == files[i].failures && (int)rowset_reports(rs) == files[i].reports &&
                  (int)rowset_rows(rs) == files[i].rows,
              "fixture %s: %d failures, %u reports, %u rows (%s)", files[i].path, rc,
              rowset_reports(rs), rowset_rows(rs), e.reason);
        if (i == 0) {
            CHECK_STR(row(rs, 1).message,
                      "validation error: Running as root is not allowed. rule run-as-non-root "
                      "failed at path /spec/template/spec/containers/0/securityContext/",
                      "kubectl's folded message reads back as one line");
            CHECK_STR(row(rs, 1).properties, "{\"process\":\"background scan\"}",
                      "kubectl list: properties");
            CHECK_STR(row(rs, 2).kind, "Namespace", "kubectl list: cluster report scope");
        }
        if (i == 1) {
            CHECK_STR(row(rs, 0).id, "d8a1c0e3-trivy-1", "trivy: resultID is the id");
            CHECK_STR(row(rs, 0).source, "trivy", "trivy: top-level source");
            CHECK(row(rs, 0).timestamp == 1714557600, "trivy: float seconds truncated");
            CHECK_STR(row(rs, 0).properties,
                      "{\"resultID\":\"d8a1c0e3-trivy-1\",\"installed.version\":\"3.0.11\","
                      "\"fixed version\":\"3.0.13\"}",
                      "trivy: non-string properties dropped");
        }
        if (i == 4) CHECK_STR(e.origin, "bad/multi-doc.yaml#2", "multi-doc: failing document");
        free(data);
        rowset_free(rs);
    }
}

int main(void)
{
    test_v1alpha2_json();
    test_scope_and_no_resource();
    test_v1alpha1_and_v1beta1();
    test_openreports();
    test_lists();
    test_multi_doc_yaml();
    test_field_values();
    test_yaml_scalars();
    test_tolerance();
    test_status_and_duplicates();
    test_bom_and_empty();
    test_invalid();
    test_report_load();
    test_fixtures();
    return TAP_DONE();
}
