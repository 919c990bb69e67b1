/* notify_fmt.h - how each kind of target writes one message: the table notify.c sends with,
 * one renderer per format (notify_<type>.c), and the helpers they share.
 *
 * A message is a batch of findings of one snapshot for one target, at most the format's
 * max_items of them (so Slack's 50 blocks, Discord's 10 embeds, Teams' and Google Chat's
 * payload limits are never passed). Findings are rows in the summary representation (13 keys,
 * blanks null). Renderers append the request body to out and never fail. */
#ifndef POLSNAP_NOTIFY_FMT_H
#define POLSNAP_NOTIFY_FMT_H

#include "buf.h"
#include "targets.h"

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

struct notify_msg {
    const char *id;       /* stable across retries and runs: the Idempotency-Key */
    const char *snapshot; /* the snapshot the findings are new in */
    const char *time;     /* its time, RFC 3339 UTC */
    int64_t unix_time;
    const cJSON *found;    /* array of rows newly failing (or failing, on a first run) */
    const cJSON *resolved; /* array of rows no longer failing (Alertmanager only) */
};

typedef void (*notify_render_fn)(const struct notify_msg *m, const struct target_conf *t,
                                 struct buf *out);

struct notify_format {
    size_t max_items; /* findings (found + resolved) per message */
    const char *path; /* appended to the target's url ("/api/v2/alerts"), or "" */
    int wants_resolved;
    notify_render_fn render;
};
/* Indexed by enum target_type. */
extern const struct notify_format notify_formats[TT_NTYPES];

void notify_render_webhook(const struct notify_msg *m, const struct target_conf *t,
                           struct buf *out);
void notify_render_alertmanager(const struct notify_msg *m, const struct target_conf *t,
                                struct buf *out);
void notify_render_slack(const struct notify_msg *m, const struct target_conf *t, struct buf *out);
void notify_render_teams(const struct notify_msg *m, const struct target_conf *t, struct buf *out);
void notify_render_discord(const struct notify_msg *m, const struct target_conf *t,
                           struct buf *out);
void notify_render_googlechat(const struct notify_msg *m, const struct target_conf *t,
                              struct buf *out);
void notify_render_loki(const struct notify_msg *m, const struct target_conf *t, struct buf *out);

/* A row's string field, NULL when blank or absent. */
const char *notify_field(const cJSON *row, const char *key);
/* The same, "-" when blank (for text a reader sees). */
const char *notify_text(const cJSON *row, const char *key);
/* Appends s as a JSON string cut to at most max bytes (at a UTF-8 boundary, "..." added when
 * cut); NULL is written as fallback. */
void notify_json_cut(struct buf *out, const char *s, size_t max, const char *fallback);
/* "Pod shop/web" (kind, namespace/name), or the report-less "-" when the row has none. */
void notify_resource(const cJSON *row, char *out, size_t n);
/* "fail (high)", or "fail" without a severity. */
void notify_status(const cJSON *row, char *out, size_t n);
/* "3 new policy failures" for a message. */
void notify_title(const struct notify_msg *m, char *out, size_t n);

#endif
