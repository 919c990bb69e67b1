/* test_stackrox_alert.c - the StackRox alert -> row mapping, on Central's real JSON shapes. */
#include "stackrox_alert.h"
#include "tap.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>

static cJSON *parse(const char *json)
{
    cJSON *doc = cJSON_Parse(json);
    if (!doc) fprintf(stderr, "bad test JSON: %s\n", json);
    return doc;
}

static cJSON *load(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    struct buf b = BUF_INIT((size_t)1 << 24);
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        buf_add(&b, chunk, n);
    fclose(f);
    cJSON *doc = cJSON_ParseWithLength(b.ptr, b.len);
    buf_release(&b);
    return doc;
}

/* Maps list (+ detail) JSON text; the trees are kept in *l and *d for the row's strings. */
static int map(const char *list, const char *detail, cJSON **l, cJSON **d, struct stackrox_row *row)
{
    struct err e = {0};
    const char *err = e.msg;
    *l = parse(list);
    *d = detail ? parse(detail) : NULL;
    int rc = stackrox_alert_map(*l, *d, row, &e);
    if (rc) printf("# map: %s\n", err);
    return rc;
}

static void done(cJSON *l, cJSON *d, struct stackrox_row *row)
{
    stackrox_row_release(row);
    cJSON_Delete(l);
    cJSON_Delete(d);
}

static const char *const PRIV_LIST =
    "{\"id\":\"3a9d7c51\",\"lifecycleStage\":\"DEPLOY\",\"time\":\"2026-11-25T13:58:02."
    "123456789Z\","
    "\"policy\":{\"id\":\"ed8c7957\",\"name\":\"Privileged Container\",\"severity\":"
    "\"MEDIUM_SEVERITY\",\"description\":\"d\",\"categories\":[\"Privileges\",\"Docker CIS\"],"
    "\"developerInternalFields\":null},\"state\":\"ACTIVE\",\"enforcementCount\":0,"
    "\"enforcementAction\":\"UNSET_ENFORCEMENT\",\"commonEntityInfo\":{\"clusterName\":\"prod-eu\","
    "\"namespace\":\"monitoring\",\"clusterId\":\"c1\",\"namespaceId\":\"n1\",\"resourceType\":"
    "\"DEPLOYMENT\"},\"deployment\":{\"id\":\"1b2c3d4e\",\"name\":\"node-exporter\","
    "\"clusterName\":"
    "\"prod-eu\",\"namespace\":\"monitoring\",\"clusterId\":\"c1\",\"inactive\":false,"
    "\"namespaceId\":\"n1\",\"deploymentType\":\"DaemonSet\"}}";
static const char *const PRIV_DETAIL =
    "{\"id\":\"3a9d7c51\",\"policy\":{\"id\":\"ed8c7957\",\"policySections\":[{\"sectionName\":"
    "\"Privileged containers\",\"policyGroups\":[]}]},\"violations\":[{\"message\":\"Container "
    "'node-exporter' is privileged\",\"type\":\"GENERIC\",\"time\":null},{\"message\":\"Container "
    "'textfile-collector' is privileged\",\"type\":\"GENERIC\",\"time\":null}],"
    "\"processViolation\":null}";

static void test_deployment(void)
{
    cJSON *l, *d;
    struct stackrox_row r;
    CHECK(map(PRIV_LIST, PRIV_DETAIL, &l, &d, &r) == 0, "deployment alert maps");
    CHECK_STR(r.row.source, "StackRox", "source");
    CHECK_STR(r.row.policy, "Privileged Container", "policy is the policy name");
    CHECK_STR(r.row.rule, "Privileged containers", "rule is the only section's name");
    CHECK_STR(r.row.category, "Privileges", "category is the first category");
    CHECK_STR(r.row.severity, "medium", "MEDIUM_SEVERITY is medium");
    CHECK_STR(r.row.status, "fail", "ACTIVE is fail");
    CHECK_STR(r.row.res_kind, "DaemonSet", "kind is the deployment type");
    CHECK_STR(r.row.res_name, "node-exporter", "resource name");
    CHECK_STR(r.row.res_namespace, "monitoring", "resource namespace");
    CHECK_STR(r.row.res_uid, "1b2c3d4e", "uid is the deployment id");
    CHECK(r.row.resource_count == 1, "one resource");
    CHECK_STR(r.row.message,
              "Container 'node-exporter' is privileged; Container 'textfile-collector' is "
              "privileged",
              "messages joined by '; '");
    CHECK_STR(r.row.result_id, "3a9d7c51", "result id is the alert id");
    CHECK(r.row.has_timestamp && r.row.timestamp == 1795615082, "timestamp is the alert time");
    CHECK_STR(r.row.properties,
              "{\"alertId\":\"3a9d7c51\",\"policyId\":\"ed8c7957\",\"clusterName\":\"prod-eu\","
              "\"lifecycleStage\":\"DEPLOY\",\"state\":\"ACTIVE\"}",
              "properties");
    CHECK_STR(r.cluster, "prod-eu", "grouped by cluster");
    CHECK_STR(r.namespace, "monitoring", "grouped by namespace");
    CHECK_STR(r.policy_id, "ed8c7957", "policy id");
    CHECK(r.row.scored == -1, "scored absent");
    done(l, d, &r);

    CHECK(map(PRIV_LIST, NULL, &l, &d, &r) == 0, "without the detail");
    CHECK_STR(r.row.rule, "ed8c7957", "rule falls back to the policy id");
    CHECK(r.row.message == NULL, "no message without the detail");
    CHECK_STR(r.row.res_kind, "DaemonSet", "kind still from the list");
    done(l, d, &r);
}

static void test_rule(void)
{
    static const char *const list =
        "{\"id\":\"a\",\"policy\":{\"id\":\"p1\",\"name\":\"P\"},\"state\":\"ACTIVE\"}";
    static const char *const cases[][2] = {
        {"{\"id\":\"a\",\"policy\":{\"policySections\":[{\"sectionName\":\"S1\"},"
         "{\"sectionName\":\"S2\"}]}}",
         "p1"},
        {"{\"id\":\"a\",\"policy\":{\"policySections\":[{\"sectionName\":\"\"}]}}", "p1"},
        {"{\"id\":\"a\",\"policy\":{\"policySections\":[]}}", "p1"},
        {"{\"id\":\"a\",\"policy\":{\"policySections\":[{\"sectionName\":7}]}}", "p1"},
        {"{\"id\":\"a\",\"policy\":{\"policySections\":[{\"sectionName\":\"Only\"}]}}", "Only"},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        cJSON *l, *d;
        struct stackrox_row r;
        CHECK(map(list, cases[i][0], &l, &d, &r) == 0, "rule case %zu maps", i);
        CHECK_STR(r.row.rule, cases[i][1], "rule case %zu", i);
        done(l, d, &r);
    }
}

static void test_enums(void)
{
    static const char *const states[][2] = {
        {"\"state\":\"ACTIVE\"", "fail"},
        {"\"state\":\"ATTEMPTED\"", "warn"},
        {"\"state\":\"RESOLVED\"", "pass"},
        {"\"state\":\"SNOOZED\"", "skip"},
        {"\"state\":\"NEW_STATE\"", "NEW_STATE"},
        {"\"x\":0", "fail"},
        {"\"state\":null", "fail"},
    };
    for (size_t i = 0; i < ARRAY_LEN(states); i++) {
        char json[256];
        snprintf(json, sizeof json, "{\"id\":\"a\",%s}", states[i][0]);
        cJSON *l, *d;
        struct stackrox_row r;
        CHECK(map(json, NULL, &l, &d, &r) == 0, "state %s maps", states[i][0]);
        CHECK_STR(r.row.status, states[i][1], "state %s -> status", states[i][0]);
        done(l, d, &r);
    }
    static const char *const sevs[][2] = {
        {"LOW_SEVERITY", "low"},           {"MEDIUM_SEVERITY", "medium"}, {"HIGH_SEVERITY", "high"},
        {"CRITICAL_SEVERITY", "critical"}, {"UNSET_SEVERITY", NULL},      {"BOGUS", NULL},
    };
    for (size_t i = 0; i < ARRAY_LEN(sevs); i++) {
        char json[256];
        snprintf(json, sizeof json, "{\"id\":\"a\",\"policy\":{\"severity\":\"%s\"}}", sevs[i][0]);
        cJSON *l, *d;
        struct stackrox_row r;
        CHECK(map(json, NULL, &l, &d, &r) == 0, "severity %s maps", sevs[i][0]);
        CHECK_STR(r.row.severity, sevs[i][1], "severity %s", sevs[i][0]);
        done(l, d, &r);
    }
}

static void test_entities(void)
{
    cJSON *l, *d;
    struct stackrox_row r;
    CHECK(map("{\"id\":\"s\",\"commonEntityInfo\":{\"clusterName\":\"prod-eu\",\"namespace\":"
              "\"stackrox\",\"resourceType\":\"SECRETS\"},\"resource\":{\"name\":\"central-"
              "htpasswd\"}}",
              NULL, &l, &d, &r) == 0,
          "secret alert maps");
    CHECK_STR(r.row.res_kind, "Secret", "SECRETS is kind Secret");
    CHECK_STR(r.row.res_name, "central-htpasswd", "resource name");
    CHECK_STR(r.row.res_namespace, "stackrox", "resource namespace");
    CHECK(r.row.res_uid == NULL, "no uid for a resource");
    done(l, d, &r);

    CHECK(map("{\"id\":\"c\",\"commonEntityInfo\":{\"clusterName\":\"prod-eu\",\"namespace\":\"\","
              "\"resourceType\":\"CLUSTER_ROLE_BINDINGS\"},\"resource\":{\"name\":\"ops-admin\"}}",
              NULL, &l, &d, &r) == 0,
          "cluster role binding alert maps");
    CHECK_STR(r.row.res_kind, "ClusterRoleBinding", "CLUSTER_ROLE_BINDINGS kind");
    CHECK(r.namespace == NULL && r.row.res_namespace == NULL, "cluster-scoped: no namespace");
    done(l, d, &r);

    CHECK(map("{\"id\":\"x\",\"commonEntityInfo\":{\"resourceType\":\"FUTURE_THINGS\"},"
              "\"resource\":{\"name\":\"f\"}}",
              NULL, &l, &d, &r) == 0,
          "unknown resource type maps");
    CHECK_STR(r.row.res_kind, "FUTURE_THINGS", "an unknown resource type is kept as written");
    done(l, d, &r);

    CHECK(map("{\"id\":\"n\",\"commonEntityInfo\":{\"clusterName\":\"prod-eu\",\"namespace\":\"\","
              "\"resourceType\":\"NODE\"},\"node\":{\"name\":\"worker-3\"}}",
              NULL, &l, &d, &r) == 0,
          "node alert maps");
    CHECK_STR(r.row.res_kind, "Node", "node kind");
    CHECK_STR(r.row.res_name, "worker-3", "node name");
    CHECK(r.namespace == NULL, "node alerts are cluster-scoped");
    CHECK(r.row.resource_count == 1, "node is the resource");
    done(l, d, &r);

    CHECK(map("{\"id\":\"i\",\"commonEntityInfo\":null}", NULL, &l, &d, &r) == 0,
          "image alert (no entity) maps");
    CHECK(r.row.res_kind == NULL && r.row.res_name == NULL && r.row.resource_count == 0,
          "no entity: kind and name null, no resource");
    CHECK(r.cluster == NULL, "no cluster");
    done(l, d, &r);

    /* An older Central: no commonEntityInfo, cluster and namespace on the deployment. */
    CHECK(map("{\"id\":\"o\",\"deployment\":{\"id\":\"u\",\"name\":\"web\",\"clusterName\":\"old\","
              "\"namespace\":\"shop\"}}",
              "{\"id\":\"o\",\"deployment\":{\"type\":\"ReplicationController\"}}", &l, &d,
              &r) == 0,
          "older deployment alert maps");
    CHECK_STR(r.cluster, "old", "cluster from the deployment");
    CHECK_STR(r.namespace, "shop", "namespace from the deployment");
    CHECK_STR(r.row.res_kind, "ReplicationController", "kind from the detail's deployment.type");
    done(l, d, &r);

    CHECK(map("{\"id\":\"o\",\"deployment\":{\"name\":\"web\"}}", NULL, &l, &d, &r) == 0,
          "typeless deployment maps");
    CHECK_STR(r.row.res_kind, "Deployment", "kind defaults to Deployment");
    done(l, d, &r);
}

static void test_messages(void)
{
    cJSON *l, *d;
    struct stackrox_row r;
    CHECK(map("{\"id\":\"p\"}",
              "{\"id\":\"p\",\"violations\":[{\"message\":\"second\"},{\"message\":\"\"},"
              "{\"message\":5},{\"message\":\"third\"}],\"processViolation\":{\"message\":"
              "\"Binary '/usr/bin/nc' executed\"}}",
              &l, &d, &r) == 0,
          "runtime alert maps");
    CHECK_STR(r.row.message, "Binary '/usr/bin/nc' executed; second; third",
              "process violation first, blanks skipped");
    done(l, d, &r);

    CHECK(map("{\"id\":\"p\"}", "{\"id\":\"p\",\"violations\":[]}", &l, &d, &r) == 0,
          "alert without violations maps");
    CHECK(r.row.message == NULL, "no violations: null message");
    done(l, d, &r);

    /* 300 messages of 20 bytes: only the first ones fit, the rest are counted. */
    struct buf detail = BUF_INIT((size_t)1 << 20);
    buf_puts(&detail, "{\"id\":\"m\",\"violations\":[");
    for (int i = 0; i < 300; i++)
        buf_printf(&detail, "%s{\"message\":\"message number %05d\"}", i ? "," : "", i);
    buf_puts(&detail, "]}");
    CHECK(map("{\"id\":\"m\"}", detail.ptr, &l, &d, &r) == 0, "many violations map");
    size_t len = strlen(r.row.message);
    CHECK(len <= STACKROX_MESSAGE_MAX, "message bounded (%zu bytes)", len);
    /* 20 + 22*(k-1) <= 4096 - 24 keeps k = 185 whole messages. */
    char want[64];
    snprintf(want, sizeof want, "; (+%d more)", 300 - 185);
    CHECK(len > strlen(want) && strcmp(r.row.message + len - strlen(want), want) == 0,
          "message ends with the count of the ones left out");
    CHECK(strstr(r.row.message, "message number 00184; (+115 more)") != NULL,
          "the last message kept is whole");
    done(l, d, &r);
    buf_reset(&detail);

    /* One huge message of 2-byte characters is cut, never inside a character. */
    buf_puts(&detail, "{\"id\":\"h\",\"violations\":[{\"message\":\"a");
    for (int i = 0; i < 5000; i++)
        buf_puts(&detail, "\xc3\xa9");
    buf_puts(&detail, "\"},{\"message\":\"next\"}]}");
    CHECK(map("{\"id\":\"h\"}", detail.ptr, &l, &d, &r) == 0, "huge violation maps");
    len = strlen(r.row.message);
    CHECK(len <= STACKROX_MESSAGE_MAX, "huge message bounded (%zu bytes)", len);
    const char *suffix = strstr(r.row.message, "; (+1 more)");
    CHECK(suffix != NULL && suffix[strlen("; (+1 more)")] == '\0', "the next one is counted");
    size_t cut = suffix ? (size_t)(suffix - r.row.message) : 0;
    CHECK(cut > 0 && ((unsigned char)r.row.message[cut - 1] == 0xa9),
          "cut after a whole character");
    done(l, d, &r);
    buf_release(&detail);
}

static void test_errors(void)
{
    cJSON *l, *d;
    struct stackrox_row r;
    struct err e = {0};
    const char *err = e.msg;
    l = parse("{\"policy\":{\"name\":\"x\"}}");
    CHECK(stackrox_alert_map(l, NULL, &r, &e) == -1, "an alert without id fails");
    CHECK(strstr(err, "without an id") != NULL, "and says why: %s", err);
    stackrox_row_release(&r);
    cJSON_Delete(l);
    l = parse("{\"id\":\"\"}");
    CHECK(stackrox_alert_map(l, NULL, &r, &e) == -1, "an empty id fails");
    stackrox_row_release(&r);
    cJSON_Delete(l);
    l = parse("[1]");
    CHECK(stackrox_alert_map(l, NULL, &r, &e) == -1, "a non-object fails");
    stackrox_row_release(&r);
    cJSON_Delete(l);
    l = parse("{\"id\":\"a\"}");
    d = parse("{\"id\":\"b\"}");
    CHECK(stackrox_alert_map(l, d, &r, &e) == -1, "a detail of another alert fails");
    CHECK(strstr(err, "alert a") && strstr(err, "of alert b"), "and names both: %s", err);
    stackrox_row_release(&r);
    cJSON_Delete(l);
    cJSON_Delete(d);
    CHECK(map("{\"id\":\"a\",\"time\":\"yesterday\",\"policy\":{\"name\":7,\"categories\":[3]}}",
              NULL, &l, &d, &r) == 0,
          "odd field types map");
    CHECK(!r.row.has_timestamp, "unparsable time: no timestamp");
    CHECK(r.row.policy == NULL && r.row.category == NULL, "non-strings are blank");
    done(l, d, &r);
}

static void test_time(void)
{
    static const struct {
        const char *s;
        int ok;
        int64_t want;
    } cases[] = {
        {"2026-11-25T13:58:02Z", 1, 1795615082},
        {"2026-11-25T13:58:02.123456789Z", 1, 1795615082},
        {"2026-11-25T14:52:07.481516Z", 1, 1795618327},
        {"2024-02-29T12:00:00Z", 1, 1709208000},
        {"1970-01-01T00:00:00Z", 1, 0},
        {"1969-12-31T23:59:59Z", 1, -1},
        {"2026-11-25T16:00:00+02:00", 1, 1795615200},
        {"2026-11-25t13:58:02z", 1, 1795615082},
        {"2025-02-29T12:00:00Z", 0, 0},
        {"2026-13-01T00:00:00Z", 0, 0},
        {"2026-11-25T24:00:00Z", 0, 0},
        {"2026-11-25T13:58:02", 0, 0},
        {"2026-11-25T13:58:02.Z", 0, 0},
        {"2026-11-25T13:58:02.1234567890Z", 0, 0},
        {"2026-11-25T13:58:02Zjunk", 0, 0},
        {"2026-11-25 13:58:02Z", 0, 0},
        {"2026-11", 0, 0},
        {"", 0, 0},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        int64_t t = 42;
        int rc = rfc3339_parse(cases[i].s, &t);
        if (cases[i].ok)
            CHECK(rc == 0 && t == cases[i].want, "time '%s' -> %lld (got %lld)", cases[i].s,
                  (long long)cases[i].want, (long long)t);
        else
            CHECK(rc == -1 && t == 42, "time '%s' refused, output untouched", cases[i].s);
    }
}

/* The recorded responses the integration tests serve map without a surprise. */
static void test_fixtures(void)
{
    cJSON *list = load("tests/fixtures/stackrox/list-alerts.json");
    CHECK(list != NULL, "fixture list loads");
    const cJSON *a;
    struct buf statuses = BUF_INIT(4096), kinds = BUF_INIT(4096);
    int n = 0, failed = 0;
    cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(list, "alerts"))
    {
        char path[256];
        struct err e = {0};
        snprintf(path, sizeof path, "tests/fixtures/stackrox/alerts/%s.json",
                 cJSON_GetObjectItemCaseSensitive(a, "id")->valuestring);
        cJSON *detail = load(path);
        struct stackrox_row r;
        if (!detail || stackrox_alert_map(a, detail, &r, &e) != 0 || !r.row.message) failed++;
        buf_printf(&statuses, "%s%s", n ? "," : "", r.row.status ? r.row.status : "-");
        buf_printf(&kinds, "%s%s", n ? "," : "", r.row.res_kind ? r.row.res_kind : "-");
        n++;
        stackrox_row_release(&r);
        cJSON_Delete(detail);
    }
    CHECK(n == 8 && failed == 0, "all 8 recorded alerts map with messages (%d, %d failed)", n,
          failed);
    CHECK_STR(statuses.ptr, "fail,fail,fail,fail,fail,fail,warn,fail", "recorded statuses");
    CHECK_STR(kinds.ptr,
              "Secret,StatefulSet,ClusterRoleBinding,DaemonSet,Node,Deployment,Job,Deployment",
              "recorded kinds");
    buf_release(&statuses);
    buf_release(&kinds);
    cJSON_Delete(list);
}

int main(void)
{
    test_deployment();
    test_rule();
    test_enums();
    test_entities();
    test_messages();
    test_errors();
    test_time();
    test_fixtures();
    return TAP_DONE();
}
