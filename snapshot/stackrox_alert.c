/* stackrox_alert.c - the StackRox alert -> row mapping (see stackrox_alert.h for the table). */
#include "stackrox_alert.h"

#include "err.h"

#include "util.h"

#include <stdio.h>
#include <string.h>

/* Room kept at the end of the message for "; (+N more)". */
#define MORE_SUFFIX_MAX 24

static const cJSON *member(const cJSON *obj, const char *key)
{
    return cJSON_IsObject(obj) ? cJSON_GetObjectItemCaseSensitive(obj, key) : NULL;
}

/* A member's string value; NULL when absent, not a string or empty (protojson writes the
 * proto3 zero value "" for unset strings). */
static const char *text(const cJSON *obj, const char *key)
{
    const cJSON *v = member(obj, key);
    return cJSON_IsString(v) && v->valuestring[0] ? v->valuestring : NULL;
}

/* An enum member: its name, or the proto3 zero value's name when absent (protojson leaves out
 * unpopulated fields unless asked to emit them). */
static const char *enum_name(const cJSON *obj, const char *key, const char *zero)
{
    const cJSON *v = member(obj, key);
    if (!v || cJSON_IsNull(v)) return zero;
    return cJSON_IsString(v) ? v->valuestring : "";
}

static const char *lookup(const char *const table[][2], size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(table[i][0], key) == 0) return table[i][1];
    return NULL;
}

static const char *const severities[][2] = {
    {"LOW_SEVERITY", "low"},
    {"MEDIUM_SEVERITY", "medium"},
    {"HIGH_SEVERITY", "high"},
    {"CRITICAL_SEVERITY", "critical"},
};

static const char *const states[][2] = {
    {"ACTIVE", "fail"},
    {"ATTEMPTED", "warn"},
    {"RESOLVED", "pass"},
    {"SNOOZED", "skip"},
};

/* ListAlert.ResourceType -> Kubernetes kind; keep in sync with storage/alert.proto. */
static const char *const resource_kinds[][2] = {
    {"DEPLOYMENT", "Deployment"},
    {"SECRETS", "Secret"},
    {"CONFIGMAPS", "ConfigMap"},
    {"CLUSTER_ROLES", "ClusterRole"},
    {"CLUSTER_ROLE_BINDINGS", "ClusterRoleBinding"},
    {"NETWORK_POLICIES", "NetworkPolicy"},
    {"SECURITY_CONTEXT_CONSTRAINTS", "SecurityContextConstraints"},
    {"EGRESS_FIREWALLS", "EgressFirewall"},
    {"NODE", "Node"},
};

/* The only section's name, else NULL: with several sections Central does not say which one
 * matched, and an unnamed section names nothing. */
static const char *only_section_name(const cJSON *detail)
{
    const cJSON *sections = member(member(detail, "policy"), "policySections");
    if (!cJSON_IsArray(sections) || cJSON_GetArraySize(sections) != 1) return NULL;
    return text(cJSON_GetArrayItem(sections, 0), "sectionName");
}

/* Cuts n down so that s[0..n) does not end inside a UTF-8 sequence. */
static size_t utf8_floor(const char *s, size_t n)
{
    size_t i = n;
    while (i > 0 && ((unsigned char)s[i] & 0xC0) == 0x80)
        i--;
    return i;
}

static void add_message(struct buf *b, const char *m, int *dropped)
{
    if (!m) return;
    size_t room = STACKROX_MESSAGE_MAX - MORE_SUFFIX_MAX;
    size_t sep = b->len ? 2 : 0, n = strlen(m);
    if (*dropped || b->len + sep + n > room) {
        /* A first message too long on its own is cut rather than lost. */
        if (!b->len && !*dropped) {
            buf_add(b, m, utf8_floor(m, room));
            return;
        }
        (*dropped)++;
        return;
    }
    if (sep) buf_puts(b, "; ");
    buf_add(b, m, n);
}

static void build_message(struct buf *b, const cJSON *detail)
{
    int dropped = 0;
    add_message(b, text(member(detail, "processViolation"), "message"), &dropped);
    const cJSON *v;
    cJSON_ArrayForEach(v, member(detail, "violations"))
        add_message(b, text(v, "message"), &dropped);
    if (dropped) buf_printf(b, "; (+%d more)", dropped);
}

static void add_property(struct buf *b, const char *key, const char *value)
{
    if (!value || !value[0]) return;
    buf_putc(b, b->len ? ',' : '{');
    buf_json_str(b, key);
    buf_putc(b, ':');
    buf_json_str(b, value);
}

/* The alerted object: deployment, other Kubernetes resource, node, or nothing. */
static void map_resource(const cJSON *list, const cJSON *detail, struct row_in *row)
{
    const cJSON *info = member(list, "commonEntityInfo");
    const cJSON *dep = member(list, "deployment"), *res = member(list, "resource"),
                *node = member(list, "node");
    if (cJSON_IsObject(dep)) {
        row->res_kind = text(dep, "deploymentType");
        if (!row->res_kind) row->res_kind = text(member(detail, "deployment"), "type");
        if (!row->res_kind) row->res_kind = "Deployment";
        row->res_name = text(dep, "name");
        row->res_uid = text(dep, "id");
    } else if (cJSON_IsObject(res)) {
        const char *type = enum_name(info, "resourceType", "DEPLOYMENT");
        row->res_kind = lookup(resource_kinds, ARRAY_LEN(resource_kinds), type);
        if (!row->res_kind) row->res_kind = type; /* a newer Central's type, as written */
        row->res_name = text(res, "name");
    } else if (cJSON_IsObject(node)) {
        row->res_kind = "Node";
        row->res_name = text(node, "name");
    } else {
        return;
    }
    row->resource_count = 1;
}

int stackrox_alert_map(const cJSON *list, const cJSON *detail, struct stackrox_row *out,
                       struct err *e)
{
    memset(out, 0, sizeof *out);
    buf_init(&out->message, STACKROX_MESSAGE_MAX);
    buf_init(&out->properties, 4 * STACKROX_MESSAGE_MAX);
    const char *id = text(list, "id");
    if (!id) {
        err_set(e, ERR_INVALID, "alert without an id");
        return -1;
    }
    if (detail) {
        const char *did = text(detail, "id");
        if (!did || strcmp(did, id) != 0) {
            err_set(e, ERR_INVALID, "alert %.64s: the detail is of alert %.64s", id,
                    did ? did : "(none)");
            return -1;
        }
    }
    const cJSON *policy = member(list, "policy"), *info = member(list, "commonEntityInfo"),
                *dep = member(list, "deployment");
    struct row_in *row = &out->row;
    row->scored = -1;
    row->source = "StackRox";
    row->result_id = id;
    row->policy = text(policy, "name");
    out->policy_id = text(policy, "id");
    row->rule = only_section_name(detail);
    if (!row->rule) row->rule = out->policy_id;
    const cJSON *categories = member(policy, "categories");
    if (cJSON_IsArray(categories)) {
        const cJSON *first = cJSON_GetArrayItem(categories, 0);
        if (cJSON_IsString(first)) row->category = first->valuestring;
    }
    row->severity =
        lookup(severities, ARRAY_LEN(severities), enum_name(policy, "severity", "UNSET_SEVERITY"));
    const char *state = enum_name(list, "state", "ACTIVE");
    row->status = lookup(states, ARRAY_LEN(states), state);
    if (!row->status) row->status = state;

    /* Deployment cluster and namespace fields are the deprecated copies of commonEntityInfo's. */
    out->cluster = text(info, "clusterName");
    if (!out->cluster) out->cluster = text(dep, "clusterName");
    if (!out->cluster) out->cluster = text(detail, "clusterName");
    out->namespace = text(info, "namespace");
    if (!out->namespace) out->namespace = text(dep, "namespace");
    map_resource(list, detail, row);
    if (row->resource_count) row->res_namespace = out->namespace;

    if (detail) {
        build_message(&out->message, detail);
        if (out->message.len) row->message = out->message.ptr;
    }
    int64_t t;
    const char *time = text(list, "time");
    if (time && rfc3339_parse(time, &t) == 0) {
        row->timestamp = t;
        row->has_timestamp = 1;
    }

    struct buf *p = &out->properties;
    add_property(p, "alertId", id);
    add_property(p, "policyId", out->policy_id);
    add_property(p, "clusterName", out->cluster);
    add_property(p, "lifecycleStage", enum_name(list, "lifecycleStage", "DEPLOY"));
    add_property(p, "state", state);
    buf_putc(p, '}');
    row->properties = buf_failed(p) ? NULL : p->ptr;
    return 0;
}

void stackrox_row_release(struct stackrox_row *out)
{
    buf_release(&out->message);
    buf_release(&out->properties);
}

/* Reads exactly n digits at *s into *v and advances *s; 0 or -1. */
