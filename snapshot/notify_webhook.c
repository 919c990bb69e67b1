/* notify_webhook.c - polsnap's own webhook format: the findings in the API's summary
 * representation with the message id, snapshot id and time, and the target's custom fields.
 *
 *   {"id":"...","snapshot":"...","time":"...","target":"ops","results":[row...],
 *    "customFields":{...}}
 */
#include "notify_fmt.h"

static void put_rows(struct buf *out, const cJSON *rows)
{
    int first = 1;
    for (const cJSON *r = rows ? rows->child : NULL; r; r = r->next, first = 0) {
        char *text = cJSON_PrintUnformatted(r);
        if (!first) buf_putc(out, ',');
        buf_puts(out, text);
        cJSON_free(text);
    }
}

void notify_render_webhook(const struct notify_msg *m, const struct target_conf *t, struct buf *out)
{
    buf_puts(out, "{\"id\":");
    buf_json_str(out, m->id);
    buf_puts(out, ",\"snapshot\":");
    buf_json_str(out, m->snapshot);
    buf_puts(out, ",\"time\":");
    buf_json_str(out, m->time);
    buf_puts(out, ",\"target\":");
    buf_json_str(out, t->name);
    buf_puts(out, ",\"results\":[");
    put_rows(out, m->found);
    buf_puts(out, "],\"customFields\":{");
    for (size_t i = 0; i < t->custom_keys.n; i++) {
        if (i) buf_putc(out, ',');
        buf_json_str(out, t->custom_keys.v[i]);
        buf_putc(out, ':');
        buf_json_str(out, t->custom_values.v[i]);
    }
    buf_puts(out, "}}");
}
