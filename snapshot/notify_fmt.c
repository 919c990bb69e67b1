/* notify_fmt.c - the table of message formats and the helpers their renderers share. */
#include "notify_fmt.h"

#include <stdio.h>
#include <string.h>

/* Keep in sync with enum target_type. max_items keeps each service's documented limits:
 * Slack 50 blocks (a header, 40 sections, a context), Discord 10 embeds and 6000 characters,
 * Teams' 28 KB and Google Chat's 32 KB payloads with messages cut to a few hundred bytes. */
const struct notify_format notify_formats[TT_NTYPES] = {
    [TT_WEBHOOK] = {500, "", 0, notify_render_webhook},
    [TT_SLACK] = {40, "", 0, notify_render_slack},
    [TT_TEAMS] = {20, "", 0, notify_render_teams},
    [TT_DISCORD] = {8, "", 0, notify_render_discord},
    [TT_GOOGLECHAT] = {20, "", 0, notify_render_googlechat},
    [TT_LOKI] = {500, "/loki/api/v1/push", 0, notify_render_loki},
    [TT_ALERTMANAGER] = {500, "/api/v2/alerts", 1, notify_render_alertmanager},
};

const char *notify_field(const cJSON *row, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(row, key);
    return cJSON_IsString(v) && v->valuestring[0] ? v->valuestring : NULL;
}

const char *notify_text(const cJSON *row, const char *key)
{
    const char *s = notify_field(row, key);
    return s ? s : "-";
}

void notify_json_cut(struct buf *out, const char *s, size_t max, const char *fallback)
{
    if (!s) s = fallback;
    size_t n = strlen(s);
    if (n <= max) {
        buf_json_str(out, s);
        return;
    }
    size_t cut = max > 3 ? max - 3 : 0;
    while (cut && ((unsigned char)s[cut] & 0xc0) == 0x80) /* not inside a UTF-8 sequence */
        cut--;
    char tmp[8192];
    if (cut > sizeof tmp - 4) cut = sizeof tmp - 4;
    memcpy(tmp, s, cut);
    memcpy(tmp + cut, "...", 4);
    buf_json_str(out, tmp);
}

void notify_resource(const cJSON *row, char *out, size_t n)
{
    const char *kind = notify_field(row, "kind"), *name = notify_field(row, "name"),
               *ns = notify_field(row, "namespace");
    if (!kind && !name) {
        snprintf(out, n, "%s", ns ? ns : "-");
        return;
    }
    snprintf(out, n, "%s %s%s%s", kind ? kind : "-", ns ? ns : "", ns ? "/" : "",
             name ? name : "-");
}

void notify_status(const cJSON *row, char *out, size_t n)
{
    const char *sev = notify_field(row, "severity");
    snprintf(out, n, "%s%s%s%s", notify_text(row, "status"), sev ? " (" : "", sev ? sev : "",
             sev ? ")" : "");
}

void notify_title(const struct notify_msg *m, char *out, size_t n)
{
    int k = cJSON_GetArraySize(m->found);
    snprintf(out, n, "%d new policy failure%s", k, k == 1 ? "" : "s");
}
