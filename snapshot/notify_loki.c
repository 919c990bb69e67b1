/* notify_loki.c - Grafana Loki's push API (POST /loki/api/v1/push, JSON): one log line per
 * finding, the row in the summary representation plus the snapshot and the custom fields.
 * Labels are a small fixed set, job="polsnap" with the finding's status and severity, so a
 * stream never holds one label value per result (Loki's cardinality advice); findings are
 * grouped into one stream per (status, severity). Lines carry the snapshot's time in
 * nanoseconds. */
#include "notify_fmt.h"

#include <string.h>

static int same_labels(const cJSON *a, const char *status, const char *severity)
{
    const char *s = notify_field(a, "status"), *v = notify_field(a, "severity");
    return !strcmp(s ? s : "", status ? status : "") &&
           !strcmp(v ? v : "", severity ? severity : "");
}

static void put_line(struct buf *out, const cJSON *row, const struct notify_msg *m,
                     const struct target_conf *t)
{
    struct buf line = BUF_INIT(1 << 20);
    char *text = cJSON_PrintUnformatted(row);
    buf_puts(&line, "{\"snapshot\":");
    buf_json_str(&line, m->snapshot);
    buf_puts(&line, ",\"result\":");
    buf_puts(&line, text);
    cJSON_free(text);
    buf_puts(&line, ",\"customFields\":{");
    for (size_t i = 0; i < t->custom_keys.n; i++) {
        if (i) buf_putc(&line, ',');
        buf_json_str(&line, t->custom_keys.v[i]);
        buf_putc(&line, ':');
        buf_json_str(&line, t->custom_values.v[i]);
    }
    buf_puts(&line, "}}");
    buf_printf(out, "[\"%lld000000000\",", (long long)m->unix_time);
    buf_json_str(out, line.ptr);
    buf_putc(out, ']');
    buf_release(&line);
}

void notify_render_loki(const struct notify_msg *m, const struct target_conf *t, struct buf *out)
{
    buf_puts(out, "{\"streams\":[");
    int nstreams = 0;
    /* one stream per (status, severity), in the order first seen */
    for (const cJSON *r = m->found ? m->found->child : NULL; r; r = r->next) {
        const char *status = notify_field(r, "status"), *severity = notify_field(r, "severity");
        const cJSON *p = m->found->child;
        while (p != r && !same_labels(p, status, severity))
            p = p->next;
        if (p != r) continue; /* its stream is written already */
        buf_puts(out, nstreams++ ? ",{\"stream\":{\"job\":\"polsnap\",\"status\":"
                                 : "{\"stream\":{\"job\":\"polsnap\",\"status\":");
        buf_json_str(out, status ? status : "");
        buf_puts(out, ",\"severity\":");
        buf_json_str(out, severity ? severity : "none");
        buf_puts(out, "},\"values\":[");
        int first = 1;
        for (const cJSON *q = r; q; q = q->next) {
            if (!same_labels(q, status, severity)) continue;
            if (!first) buf_putc(out, ',');
            first = 0;
            put_line(out, q, m, t);
        }
        buf_puts(out, "]}");
    }
    buf_puts(out, "]}");
}
