/* notify.c - what each target is owed, kept in the data directory, and its delivery
 * (notify.h has the steps and the guarantees). */
#include "notify.h"

#include "api.h"
#include "changes.h"
#include "http.h"
#include "notify_fmt.h"
#include "util.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define STATE_MAX ((size_t)256 << 20)

void notify_init(struct notify *n, const struct targets *targets, const char *data_dir)
{
    memset(n, 0, sizeof *n);
    n->targets = targets;
    n->data_dir = data_dir;
    buf_init(&n->resolved, SIZE_MAX / 2);
}

/* The id of the snapshot DIR/current names, "" when there is none. */
static void read_published(struct notify *n)
{
    char link[PATH_MAX], target[PATH_MAX];
    snprintf(link, sizeof link, "%s/current", n->data_dir);
    ssize_t len = readlink(link, target, sizeof target - 1);
    n->published[0] = '\0';
    if (len <= 0) return;
    target[len] = '\0';
    const char *slash = strrchr(target, '/');
    snprintf(n->published, sizeof n->published, "%s", slash ? slash + 1 : target);
}

void notify_release(struct notify *n)
{
    buf_release(&n->resolved);
}

/* A file-name-safe form of the target's name (unsafe bytes as '_') and a hash of the name
 * against clashes: "ops-team-1a2b3c4d". */
static void slug_of(const struct target_conf *t, char slug[96])
{
    size_t k = 0;
    for (const char *p = t->name; *p; p++) {
        int safe = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                   (*p >= '0' && *p <= '9') || *p == '-' || *p == '_';
        if (k < 64) slug[k++] = safe ? *p : '_';
    }
    snprintf(slug + k, 96 - k, "-%08x", (unsigned)(fnv1a(t->name, strlen(t->name)) & 0xffffffffu));
}

static void state_path(const struct notify *n, const struct target_conf *t, char *out, size_t size)
{
    char slug[96];
    slug_of(t, slug);
    snprintf(out, size, "%s/notify/%s.json", n->data_dir, slug);
}

/* The target's state: {"target","since","sent","failed","up","seq","owed":[message...]}. A
 * missing file is a target's first run; an unreadable one is logged and started over. */
static cJSON *load_state(const struct notify *n, const struct target_conf *t)
{
    char path[PATH_MAX];
    state_path(n, t, path, sizeof path);
    struct buf b = BUF_INIT(STATE_MAX);
    cJSON *s = NULL;
    if (buf_read_file(&b, path) == 0) {
        s = cJSON_ParseWithLength(b.ptr ? b.ptr : "", b.len);
        if (!cJSON_IsObject(s) || !cJSON_IsArray(cJSON_GetObjectItem(s, "owed"))) {
            fprintf(stderr, "polsnap-snapshot: target %s: %s is damaged: starting over\n", t->name,
                    path);
            cJSON_Delete(s);
            s = NULL;
        }
    } else if (errno != ENOENT) {
        fprintf(stderr, "polsnap-snapshot: target %s: cannot read %s (%s): starting over\n",
                t->name, path, strerror(errno));
    }
    buf_release(&b);
    if (!s) {
        s = cJSON_CreateObject();
        cJSON_AddStringToObject(s, "target", t->name);
        cJSON_AddItemToObject(s, "owed", cJSON_CreateArray());
    }
    return s;
}

static int write_file_atomically(const char *path, const char *text, size_t len)
{
    char tmp[PATH_MAX + 8];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return -1;
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, text + off, len - off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) break;
        off += (size_t)w;
    }
    int ok = off == len && fsync(fd) == 0;
    ok = close(fd) == 0 && ok;
    if (!ok || rename(tmp, path) != 0) {
        unlink(tmp);
        return -1;
    }
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    *strrchr(dir, '/') = '\0';
    int dfd = open(dir, O_RDONLY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    return 0;
}

static void save_state(const struct notify *n, const struct target_conf *t, const cJSON *s)
{
    char path[PATH_MAX], dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s/notify", n->data_dir);
    mkdir(dir, 0700);
    state_path(n, t, path, sizeof path);
    char *text = cJSON_PrintUnformatted(s);
    if (write_file_atomically(path, text, strlen(text)) != 0)
        fprintf(stderr, "polsnap-snapshot: target %s: cannot write %s: %s\n", t->name, path,
                strerror(errno));
    cJSON_free(text);
}

static double number(const cJSON *s, const char *key, double def)
{
    const cJSON *v = cJSON_GetObjectItem(s, key);
    return cJSON_IsNumber(v) ? v->valuedouble : def;
}

static void set_number(cJSON *s, const char *key, double v)
{
    cJSON_DeleteItemFromObject(s, key);
    cJSON_AddNumberToObject(s, key, v);
}

void notify_describe(struct notify *n, struct rowset *rs)
{
    read_published(n);
    for (size_t i = 0; i < n->targets->n; i++) {
        const struct target_conf *t = &n->targets->v[i];
        cJSON *s = load_state(n, t);
        struct buf src = BUF_INIT(1 << 20);
        for (size_t k = 0; k < t->sources.n; k++) {
            buf_putc(&src, k ? ',' : '[');
            buf_json_str(&src, t->sources.v[k]);
        }
        if (t->sources.n) buf_putc(&src, ']');
        struct row_target rt = {t->name,
                                t->min_severity ? idx_severity_names[t->min_severity] : "debug",
                                t->sources.n ? src.ptr : NULL,
                                t->skip_existing,
                                number(s, "up", 1) != 0,
                                (uint64_t)number(s, "sent", 0),
                                (uint64_t)number(s, "failed", 0)};
        rowset_add_target(rs, &rt);
        buf_release(&src);
        cJSON_Delete(s);
    }
}

void notify_on_resolved(const struct idx *prev, uint32_t row, void *ctx)
{
    struct notify *n = ctx;
    if (n->resolved.len) buf_putc(&n->resolved, ',');
    api_put_row(&n->resolved, prev, &prev->rows[row]);
}

/* Rows of ix as a JSON array: those of new keys that fail (every failing row with all). */
static cJSON *failing_rows(const struct idx *ix, int all)
{
    struct buf b = BUF_INIT(SIZE_MAX / 2);
    buf_putc(&b, '[');
    int first = 1;
    for (uint32_t r = 0; r < ix->h->nrows; r++) {
        const struct idx_row *row = &ix->rows[r];
        if (row->status != IDX_FAIL && row->status != IDX_WARN && row->status != IDX_ERROR)
            continue;
        if (!all && strcmp(idx_str(ix, row->str[IDX_F_CHANGE]), IDX_CHANGE_NEW) != 0) continue;
        if (!first) buf_putc(&b, ',');
        first = 0;
        api_put_row(&b, ix, row);
    }
    buf_putc(&b, ']');
    cJSON *a = cJSON_ParseWithLength(b.ptr, b.len);
    buf_release(&b);
    return a;
}

static int severity_rank(const char *s)
{
    for (int i = 1; s && i < IDX_NSEVERITY; i++)
        if (!strcmp(s, idx_severity_names[i])) return i;
    return 0;
}

static int accepts(const struct target_conf *t, const cJSON *row)
{
    return target_accepts(t, notify_field(row, "namespace"), notify_field(row, "kind"),
                          notify_field(row, "policy"), notify_field(row, "source"),
                          severity_rank(notify_field(row, "severity")));
}

/* Drops what belongs to snapshots newer than the published one: a run that died before its
 * swap. */
static void drop_unpublished(cJSON *s, const char *published)
{
    cJSON *owed = cJSON_GetObjectItem(s, "owed");
    for (int i = cJSON_GetArraySize(owed) - 1; i >= 0; i--) {
        const char *snap =
            cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetArrayItem(owed, i), "snapshot"));
        if (!snap || strcmp(snap, published) > 0) cJSON_DeleteItemFromArray(owed, i);
    }
    const char *since = cJSON_GetStringValue(cJSON_GetObjectItem(s, "since"));
    if (since && strcmp(since, published) > 0) cJSON_DeleteItemFromObject(s, "since");
}

struct batch {
    const struct idx *ix;
    cJSON *msg;   /* the message being filled, or NULL */
    size_t count; /* its findings */
    int messages, findings;
};

/* Adds a copy of row under "found" or "resolved" of the current message, opening a new one
 * when it is full. */
static void add_finding(struct batch *b, cJSON *owed, cJSON *s, const struct target_conf *t,
                        const cJSON *row, const char *list)
{
    if (b->msg && b->count == notify_formats[t->type].max_items) b->msg = NULL;
    if (!b->msg) {
        int seq = (int)number(s, "seq", 0) + 1;
        set_number(s, "seq", seq);
        char id[160], slug[96], when[21];
        slug_of(t, slug);
        snprintf(id, sizeof id, "%s.%s.%d", b->ix->h->snapshot_id, slug, seq);
        rfc3339_utc(b->ix->h->created, when);
        b->msg = cJSON_CreateObject();
        cJSON_AddStringToObject(b->msg, "id", id);
        cJSON_AddStringToObject(b->msg, "snapshot", b->ix->h->snapshot_id);
        cJSON_AddStringToObject(b->msg, "time", when);
        cJSON_AddNumberToObject(b->msg, "unix", (double)b->ix->h->created);
        cJSON_AddItemToObject(b->msg, "found", cJSON_CreateArray());
        cJSON_AddItemToObject(b->msg, "resolved", cJSON_CreateArray());
        cJSON_AddItemToArray(owed, b->msg);
        b->count = 0;
        b->messages++;
    }
    cJSON_AddItemToArray(cJSON_GetObjectItem(b->msg, list), cJSON_Duplicate(row, 1));
    b->count++;
    b->findings++;
}

static void enqueue_target(struct notify *n, const struct target_conf *t, const struct idx *ix,
                           const cJSON *news, cJSON **all, const cJSON *resolved)
{
    cJSON *s = load_state(n, t);
    drop_unpublished(s, n->published);
    int first_run = !cJSON_GetObjectItem(s, "since");
    if (first_run) cJSON_AddStringToObject(s, "since", ix->h->snapshot_id);
    if (first_run && t->skip_existing) {
        fprintf(stderr,
                "polsnap-snapshot: target %s: first run: the current findings are recorded "
                "as known (skipExistingOnStartup)\n",
                t->name);
        save_state(n, t, s);
        cJSON_Delete(s);
        return;
    }
    if (first_run && !*all) *all = failing_rows(ix, 1);
    const cJSON *rows = first_run ? *all : news;
    cJSON *owed = cJSON_GetObjectItem(s, "owed");
    struct batch b = {ix, NULL, 0, 0, 0};
    for (const cJSON *r = rows ? rows->child : NULL; r; r = r->next)
        if (accepts(t, r)) add_finding(&b, owed, s, t, r, "found");
    for (const cJSON *r = resolved ? resolved->child : NULL;
         r && !first_run && notify_formats[t->type].wants_resolved; r = r->next)
        if (accepts(t, r)) add_finding(&b, owed, s, t, r, "resolved");
    while (cJSON_GetArraySize(owed) > NOTIFY_MAX_OWED) {
        cJSON_DeleteItemFromArray(owed, 0);
        fprintf(stderr,
                "polsnap-snapshot: target %s: more than %d messages owed: the oldest "
                "is dropped\n",
                t->name, NOTIFY_MAX_OWED);
    }
    if (b.findings)
        fprintf(stderr, "polsnap-snapshot: target %s: %d findings queued in %d messages\n", t->name,
                b.findings, b.messages);
    save_state(n, t, s);
    cJSON_Delete(s);
}

void notify_enqueue(const struct idx *ix, void *ctx)
{
    struct notify *n = ctx;
    if (!n->targets->n) return;
    cJSON *news = failing_rows(ix, 0), *all = NULL;
    struct buf r = BUF_INIT(SIZE_MAX / 2);
    buf_putc(&r, '[');
    buf_add(&r, n->resolved.ptr ? n->resolved.ptr : "", n->resolved.len);
    buf_putc(&r, ']');
    cJSON *resolved = cJSON_ParseWithLength(r.ptr, r.len);
    buf_release(&r);
    for (size_t i = 0; i < n->targets->n; i++)
        enqueue_target(n, &n->targets->v[i], ix, news, &all, resolved);
    cJSON_Delete(news);
    cJSON_Delete(all);
    cJSON_Delete(resolved);
}

/* The request of one target: its URL and headers (secrets) and the format's. */
static struct http_client *client_for(const struct target_conf *t)
{
    struct http_conf conf = {.ca_file = t->certificate,
                             .insecure = t->skip_tls,
                             .accept = "application/json, */*",
                             .connect_timeout_ms = t->timeout_s * 1000,
                             .timeout_ms = t->timeout_s * 1000,
                             .max_body = (size_t)1 << 20,
                             .max_attempts = 3,
                             .first_backoff_ms = 500,
                             .max_retry_after_s = 30};
    struct err e = {0};
    struct http_client *c = http_client_new(&conf, &e);
    if (!c) fprintf(stderr, "polsnap-snapshot: target %s: %s\n", t->name, e.msg);
    if (c && t->skip_tls)
        fprintf(stderr,
                "polsnap-snapshot: warning: target %s: TLS verification is off "
                "(skipTLS)\n",
                t->name);
    return c;
}

/* Sends one owed message. Returns 0 when the target took it (2xx). */
static int send_message(struct http_client *c, const struct target_conf *t, const cJSON *msg)
{
    const char *id = cJSON_GetStringValue(cJSON_GetObjectItem(msg, "id"));
    struct notify_msg m = {id ? id : "",
                           cJSON_GetStringValue(cJSON_GetObjectItem(msg, "snapshot")),
                           cJSON_GetStringValue(cJSON_GetObjectItem(msg, "time")),
                           (int64_t)number(msg, "unix", 0),
                           cJSON_GetObjectItem(msg, "found"),
                           cJSON_GetObjectItem(msg, "resolved")};
    if (!m.snapshot || !m.time) return -1;
    struct buf body = BUF_INIT(SIZE_MAX / 2), url = BUF_INIT(16384), key = BUF_INIT(512);
    notify_formats[t->type].render(&m, t, &body);
    buf_printf(&url, "%s%s", t->url, notify_formats[t->type].path);
    buf_printf(&key, "Idempotency-Key: %s", m.id);
    const char **headers = xcalloc(t->headers.n + 3, sizeof *headers);
    headers[0] = "Content-Type: application/json";
    headers[1] = key.ptr;
    for (size_t i = 0; i < t->headers.n; i++)
        headers[i + 2] = t->headers.v[i];
    char label[200];
    snprintf(label, sizeof label, "target %s", t->name);
    struct http_response resp;
    struct err e = {0};
    int rc = http_post(c, url.ptr, label, body.ptr, body.len, headers, &resp, &e);
    if (rc == 0 && (resp.status < 200 || resp.status > 299))
        rc = err_set(&e, ERR_UPSTREAM, "%s: HTTP %ld after %d attempt%s", label, resp.status,
                     resp.attempts, resp.attempts == 1 ? "" : "s");
    if (rc != 0)
        fprintf(stderr,
                "polsnap-snapshot: %s: message %s not delivered (%s); kept for the next "
                "run\n",
                label, m.id, e.msg);
    http_response_release(&resp);
    memset(url.ptr, 0, url.len); /* it held the URL */
    buf_release(&url);
    buf_release(&key);
    buf_release(&body);
    free(headers);
    return rc;
}

/* Sends what t is owed, oldest first, stopping at the first failure (order is kept). */
static int send_target(struct notify *n, const struct target_conf *t)
{
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    cJSON *s = load_state(n, t);
    cJSON *owed = cJSON_GetObjectItem(s, "owed");
    int total = cJSON_GetArraySize(owed), delivered = 0, findings = 0, failed = 0;
    struct http_client *c = total ? client_for(t) : NULL;
    while (cJSON_GetArraySize(owed) > 0) {
        const cJSON *msg = cJSON_GetArrayItem(owed, 0);
        int k = cJSON_GetArraySize(cJSON_GetObjectItem(msg, "found")) +
                cJSON_GetArraySize(cJSON_GetObjectItem(msg, "resolved"));
        if (!c || send_message(c, t, msg) != 0) {
            failed = 1;
            set_number(s, "failed", number(s, "failed", 0) + 1);
            break;
        }
        cJSON_DeleteItemFromArray(owed, 0);
        set_number(s, "sent", number(s, "sent", 0) + k);
        delivered++;
        findings += k;
        save_state(n, t, s); /* each delivered message leaves the file at once */
    }
    http_client_free(c);
    set_number(s, "up", failed ? 0 : 1);
    save_state(n, t, s);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (delivered)
        fprintf(stderr, "polsnap-snapshot: target %s: sent %d findings in %d messages, %.2f s\n",
                t->name, findings, delivered,
                (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    if (failed)
        fprintf(stderr, "polsnap-snapshot: target %s: %d of %d messages still owed\n", t->name,
                cJSON_GetArraySize(owed), total);
    cJSON_Delete(s);
    return failed;
}

int notify_send(struct notify *n)
{
    int failing = 0;
    for (size_t i = 0; i < n->targets->n; i++)
        failing += send_target(n, &n->targets->v[i]);
    return failing;
}
