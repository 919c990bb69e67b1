/* notify_alertmanager.c - Alertmanager's POST /api/v2/alerts: one alert per finding.
 *
 * The labels are the finding key's fields only (alertname PolicyViolation, scope, namespace,
 * kind, name or the report, source, policy, rule; blanks left out), so the resolve of a finding
 * names the very alert that fired, whatever its status, message or severity did meanwhile.
 * Those go in the annotations, with the target's custom fields. A firing alert starts at the
 * snapshot's time and ends 24 hours later (as Policy Reporter's do: Alertmanager resolves an
 * alert whose endsAt has passed); a resolved one ends at the snapshot's time. */
#include "notify_fmt.h"

#include "util.h"

#include <string.h>

#define FIRING_SECONDS (24 * 3600)

static void put_pair(struct buf *out, int *first, const char *key, const char *value)
{
    if (!value) return;
    buf_puts(out, *first ? "" : ",");
    *first = 0;
    buf_json_str(out, key);
    buf_putc(out, ':');
    notify_json_cut(out, value, 4096, NULL);
}

static void put_alert(struct buf *out, const cJSON *row, const struct target_conf *t,
                      const struct notify_msg *m, int resolved)
{
    int first = 1;
    const char *kind = notify_field(row, "kind"), *name = notify_field(row, "name");
    buf_puts(out, "{\"labels\":{");
    put_pair(out, &first, "alertname", "PolicyViolation");
    put_pair(out, &first, "scope", notify_field(row, "namespace") ? "namespaced" : "cluster");
    put_pair(out, &first, "namespace", notify_field(row, "namespace"));
    put_pair(out, &first, "kind", kind);
    put_pair(out, &first, "name", name);
    put_pair(out, &first, "source", notify_field(row, "source"));
    put_pair(out, &first, "policy", notify_field(row, "policy"));
    put_pair(out, &first, "rule", notify_field(row, "rule"));
    buf_puts(out, "},\"annotations\":{");
    first = 1;
    put_pair(out, &first, "message", notify_field(row, "message"));
    put_pair(out, &first, "status", notify_field(row, "status"));
    put_pair(out, &first, "severity", notify_field(row, "severity"));
    put_pair(out, &first, "category", notify_field(row, "category"));
    put_pair(out, &first, "resultId", notify_field(row, "id"));
    put_pair(out, &first, "snapshot", m->snapshot);
    for (size_t i = 0; i < t->custom_keys.n; i++)
        put_pair(out, &first, t->custom_keys.v[i], t->custom_values.v[i]);
    char ends[21];
    rfc3339_utc(resolved ? m->unix_time : m->unix_time + FIRING_SECONDS, ends);
    buf_printf(out, "},\"startsAt\":\"%s\",\"endsAt\":\"%s\"}", m->time, ends);
}

void notify_render_alertmanager(const struct notify_msg *m, const struct target_conf *t,
                                struct buf *out)
{
    int first = 1;
    buf_putc(out, '[');
    for (int pass = 0; pass < 2; pass++) {
        const cJSON *rows = pass ? m->resolved : m->found;
        for (const cJSON *r = rows ? rows->child : NULL; r; r = r->next, first = 0) {
            if (!first) buf_putc(out, ',');
            put_alert(out, r, t, m, pass);
        }
    }
    buf_putc(out, ']');
}
