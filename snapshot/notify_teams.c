/* notify_teams.c - Microsoft Teams through a Workflows webhook ("Post to a channel when a
 * webhook request is received"): a message with one Adaptive Card (version 1.4) attachment,
 * a title, one container per finding (a heading, the resource, the message cut to 300 bytes)
 * and a fact set of the snapshot and custom fields. 20 findings stay under Teams' 28 KB. */
#include "notify_fmt.h"

#include <stdio.h>

static void text_block(struct buf *out, const char *text, size_t max, const char *extra)
{
    buf_puts(out, "{\"type\":\"TextBlock\",\"wrap\":true,\"text\":");
    notify_json_cut(out, text, max, "");
    buf_puts(out, extra);
    buf_putc(out, '}');
}

static void put_finding(struct buf *out, const cJSON *row)
{
    char head[500], res[600], status[64];
    notify_status(row, status, sizeof status);
    snprintf(head, sizeof head, "%s / %s: %s", notify_text(row, "policy"), notify_text(row, "rule"),
             status);
    notify_resource(row, res, sizeof res);
    buf_puts(out, ",{\"type\":\"Container\",\"separator\":true,\"items\":[");
    text_block(out, head, 300, ",\"weight\":\"Bolder\"");
    buf_putc(out, ',');
    text_block(out, res, 300, ",\"isSubtle\":true");
    buf_putc(out, ',');
    text_block(out, notify_field(row, "message"), 300, "");
    buf_puts(out, "]}");
}

void notify_render_teams(const struct notify_msg *m, const struct target_conf *t, struct buf *out)
{
    char title[64];
    notify_title(m, title, sizeof title);
    buf_puts(out, "{\"type\":\"message\",\"attachments\":[{\"contentType\":"
                  "\"application/vnd.microsoft.card.adaptive\",\"contentUrl\":null,\"content\":{"
                  "\"$schema\":\"http://adaptivecards.io/schemas/adaptive-card.json\","
                  "\"type\":\"AdaptiveCard\",\"version\":\"1.4\",\"body\":[");
    text_block(out, title, 100, ",\"size\":\"Large\",\"weight\":\"Bolder\"");
    for (const cJSON *r = m->found ? m->found->child : NULL; r; r = r->next)
        put_finding(out, r);
    buf_puts(out, ",{\"type\":\"FactSet\",\"facts\":[{\"title\":\"snapshot\",\"value\":");
    buf_json_str(out, m->snapshot);
    buf_putc(out, '}');
    for (size_t i = 0; i < t->custom_keys.n; i++) {
        buf_puts(out, ",{\"title\":");
        notify_json_cut(out, t->custom_keys.v[i], 100, "");
        buf_puts(out, ",\"value\":");
        notify_json_cut(out, t->custom_values.v[i], 200, "");
        buf_putc(out, '}');
    }
    buf_puts(out, "]}]}}]}");
}
