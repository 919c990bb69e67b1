/* notify_discord.c - Discord webhooks: `content` and one embed per finding (title, the message
 * as description, resource, namespace, severity and source fields, a colour by severity,
 * the snapshot's time). Discord takes 10 embeds and 6000 characters per message: 8 findings
 * with every text cut short stay under both. */
#include "notify_fmt.h"

#include <stdio.h>
#include <string.h>

static int colour(const char *severity)
{
    static const struct {
        const char *name;
        int rgb;
    } c[] = {{"critical", 0x8b0000},
             {"high", 0xd9534f},
             {"medium", 0xf0ad4e},
             {"low", 0x5bc0de},
             {"info", 0x999999}};
    for (size_t i = 0; severity && i < sizeof c / sizeof c[0]; i++)
        if (!strcmp(severity, c[i].name)) return c[i].rgb;
    return 0xd9534f;
}

static void field(struct buf *out, const char *name, const char *value, int first)
{
    buf_puts(out, first ? "{\"name\":" : ",{\"name\":");
    buf_json_str(out, name);
    buf_puts(out, ",\"value\":");
    notify_json_cut(out, value, 120, "-");
    buf_puts(out, ",\"inline\":true}");
}

static void put_embed(struct buf *out, const cJSON *row, const struct notify_msg *m)
{
    char title[300], res[600];
    snprintf(title, sizeof title, "%s / %s: %s", notify_text(row, "policy"),
             notify_text(row, "rule"), notify_text(row, "status"));
    notify_resource(row, res, sizeof res);
    buf_puts(out, "{\"title\":");
    notify_json_cut(out, title, 100, "");
    buf_puts(out, ",\"description\":");
    notify_json_cut(out, notify_field(row, "message"), 200, "-");
    buf_printf(out, ",\"color\":%d,\"timestamp\":", colour(notify_field(row, "severity")));
    buf_json_str(out, m->time);
    buf_puts(out, ",\"fields\":[");
    field(out, "Resource", res, 1);
    field(out, "Severity", notify_field(row, "severity"), 0);
    field(out, "Source", notify_field(row, "source"), 0);
    buf_puts(out, "]}");
}

void notify_render_discord(const struct notify_msg *m, const struct target_conf *t, struct buf *out)
{
    char title[64];
    notify_title(m, title, sizeof title);
    struct buf c = BUF_INIT(2048);
    buf_puts(&c, title);
    for (size_t i = 0; i < t->custom_keys.n && i < 4; i++)
        buf_printf(&c, " | %.60s: %.100s", t->custom_keys.v[i], t->custom_values.v[i]);
    buf_puts(out, "{\"content\":");
    notify_json_cut(out, c.ptr, 500, "");
    buf_release(&c);
    buf_puts(out, ",\"embeds\":[");
    int first = 1;
    for (const cJSON *r = m->found ? m->found->child : NULL; r; r = r->next, first = 0) {
        if (!first) buf_putc(out, ',');
        put_embed(out, r, m);
    }
    buf_puts(out, "]}");
}
