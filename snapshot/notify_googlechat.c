/* notify_googlechat.c - Google Chat incoming webhooks: `text` and one card (cardsV2) with a
 * header and one section per finding (decorated texts for the resource and status, the
 * message as a paragraph cut to 500 bytes), custom fields in a last section. 20 findings stay
 * under Chat's 32,000-byte message limit. */
#include "notify_fmt.h"

#include <stdio.h>

static void decorated(struct buf *out, const char *label, const char *text, int first)
{
    buf_puts(out,
             first ? "{\"decoratedText\":{\"topLabel\":" : ",{\"decoratedText\":{\"topLabel\":");
    notify_json_cut(out, label, 100, "");
    buf_puts(out, ",\"text\":");
    notify_json_cut(out, text, 300, "-");
    buf_puts(out, "}}");
}

static void put_section(struct buf *out, const cJSON *row)
{
    char head[400], res[600], status[64];
    snprintf(head, sizeof head, "%s / %s", notify_text(row, "policy"), notify_text(row, "rule"));
    notify_status(row, status, sizeof status);
    notify_resource(row, res, sizeof res);
    buf_puts(out, ",{\"header\":");
    notify_json_cut(out, head, 200, "");
    buf_puts(out, ",\"widgets\":[");
    decorated(out, "Resource", res, 1);
    decorated(out, "Status", status, 0);
    buf_puts(out, ",{\"textParagraph\":{\"text\":");
    notify_json_cut(out, notify_field(row, "message"), 500, "-");
    buf_puts(out, "}}]}");
}

void notify_render_googlechat(const struct notify_msg *m, const struct target_conf *t,
                              struct buf *out)
{
    char title[64];
    notify_title(m, title, sizeof title);
    buf_puts(out, "{\"text\":");
    buf_json_str(out, title);
    buf_puts(out, ",\"cardsV2\":[{\"cardId\":");
    buf_json_str(out, m->id);
    buf_puts(out, ",\"card\":{\"header\":{\"title\":");
    buf_json_str(out, title);
    buf_puts(out, ",\"subtitle\":");
    buf_json_str(out, m->snapshot);
    buf_puts(out, "},\"sections\":[{\"widgets\":[");
    decorated(out, "snapshot", m->time, 1);
    for (size_t i = 0; i < t->custom_keys.n; i++)
        decorated(out, t->custom_keys.v[i], t->custom_values.v[i], 0);
    buf_puts(out, "]}");
    for (const cJSON *r = m->found ? m->found->child : NULL; r; r = r->next)
        put_section(out, r);
    buf_puts(out, "]}}]}");
}
