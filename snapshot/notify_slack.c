/* notify_slack.c - Slack incoming webhooks, Block Kit: a header block, one section per finding
 * (mrkdwn, cut under the 3000-character limit) and a context block with the snapshot and the
 * target's custom fields; `text` is the notification's fallback. At most 42 of Slack's 50
 * blocks (notify_formats caps a message at 40 findings). */
#include "notify_fmt.h"

#include <stdio.h>
#include <string.h>

/* Slack's mrkdwn wants &, < and > escaped (they start links and mentions). */
static void mrkdwn(struct buf *b, const char *s, size_t max)
{
    for (size_t n = 0; s && *s && n < max; s++, n++) {
        if (*s == '&')
            buf_puts(b, "&amp;");
        else if (*s == '<')
            buf_puts(b, "&lt;");
        else if (*s == '>')
            buf_puts(b, "&gt;");
        else
            buf_putc(b, *s);
    }
}

static void put_section(struct buf *out, const cJSON *row)
{
    struct buf t = BUF_INIT(4096);
    char res[600];
    notify_resource(row, res, sizeof res);
    buf_puts(&t, "*");
    mrkdwn(&t, notify_field(row, "policy"), 200);
    buf_puts(&t, " / ");
    mrkdwn(&t, notify_field(row, "rule"), 200);
    char status[64];
    notify_status(row, status, sizeof status);
    buf_puts(&t, "*: ");
    mrkdwn(&t, status, 64);
    buf_puts(&t, "\n");
    mrkdwn(&t, res, 400);
    buf_puts(&t, "\n");
    mrkdwn(&t, notify_field(row, "message"), 1500);
    buf_puts(out, ",{\"type\":\"section\",\"text\":{\"type\":\"mrkdwn\",\"text\":");
    notify_json_cut(out, t.ptr, 2900, "");
    buf_puts(out, "}}");
    buf_release(&t);
}

void notify_render_slack(const struct notify_msg *m, const struct target_conf *t, struct buf *out)
{
    char title[64];
    notify_title(m, title, sizeof title);
    buf_puts(out, "{\"text\":");
    buf_json_str(out, title);
    buf_puts(out, ",\"blocks\":[{\"type\":\"header\",\"text\":{\"type\":\"plain_text\",\"text\":");
    buf_json_str(out, title);
    buf_puts(out, "}}");
    for (const cJSON *r = m->found ? m->found->child : NULL; r; r = r->next)
        put_section(out, r);
    buf_puts(out, ",{\"type\":\"context\",\"elements\":[{\"type\":\"mrkdwn\",\"text\":");
    struct buf c = BUF_INIT(4096);
    buf_printf(&c, "snapshot %s", m->snapshot);
    for (size_t i = 0; i < t->custom_keys.n && i < 8; i++) {
        buf_puts(&c, " | ");
        mrkdwn(&c, t->custom_keys.v[i], 100);
        buf_puts(&c, ": ");
        mrkdwn(&c, t->custom_values.v[i], 200);
    }
    notify_json_cut(out, c.ptr, 2900, "");
    buf_release(&c);
    buf_puts(out, "}]}]}");
}
