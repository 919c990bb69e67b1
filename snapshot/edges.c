/* edges.c - a central snapshot's edges (edges.h): the edge list, the kept state, pulls a few
 * at a time on worker threads, then the merge of every edge that is up or stale. */
#include "edges.h"

#include "buf.h"
#include "conf.h"
#include "edges_int.h"
#include "idx.h"
#include "util.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---- the edge list ------------------------------------------------------------------------ */

static int location_ok(const char *loc)
{
    struct s3_url u;
    struct err ignored = {0};
    return loc && *loc && !conf_has_control(loc) &&
           (strncmp(loc, "https://", 8) == 0 || strncmp(loc, "http://", 7) == 0 ||
            (strncmp(loc, "s3://", 5) == 0 && s3_url_parse(loc, &u, &ignored) == 0) ||
            !strstr(loc, "://"));
}

static void push(struct fleet *f, const struct fleet_edge *ed)
{
    f->v = xreallocarray(f->v, f->n + 1, sizeof *f->v);
    f->v[f->n++] = *ed;
}

int edges_add(struct fleet *f, const char *location, struct err *e)
{
    if (!location_ok(location))
        return err_set(e, ERR_INVALID,
                       "polsnap:%s: want polsnap:https://HOST[:PORT], polsnap:s3://BUCKET/PREFIX "
                       "or polsnap:DIRECTORY",
                       location ? location : "");
    if (f->n >= FLEET_EDGES_MAX)
        return err_set(e, ERR_INVALID, "more than %d edges", FLEET_EDGES_MAX);
    struct fleet_edge ed = {NULL, xstrdup(location), NULL, NULL};
    push(f, &ed);
    return 0;
}

static int load_edge(const struct conf_at *a, const cJSON *x, struct fleet_edge *ed)
{
    if (conf_object(a, x)) return -1;
    for (const cJSON *k = x->child; k; k = k->next) {
        struct conf_at c = conf_child(a, k->string);
        char **slot = !strcmp(k->string, "name")          ? &ed->name
                      : !strcmp(k->string, "location")    ? &ed->location
                      : !strcmp(k->string, "credentials") ? &ed->credentials
                      : !strcmp(k->string, "ca")          ? &ed->ca
                                                          : NULL;
        if (!slot) return conf_bad(&c, "unknown key: use name, location, credentials or ca");
        if (conf_string(&c, k, 4096, slot)) return -1;
    }
    if (!ed->name || !dns_label(ed->name, strlen(ed->name)))
        return conf_bad(a, "needs a name that is a DNS label (a-z, 0-9, '-', at most 63)");
    if (!location_ok(ed->location))
        return conf_bad(
            a, "needs a location: https://HOST[:PORT], s3://BUCKET/PREFIX or a data directory");
    return 0;
}

int edges_load(struct fleet *f, const char *path, struct err *e)
{
    cJSON *root = conf_load(path, e);
    if (!root) return -1;
    struct conf_at top = {path, "", e};
    const cJSON *edges = cJSON_GetObjectItemCaseSensitive(root, "edges");
    int rc = cJSON_IsArray(edges) ? 0 : conf_bad(&top, "needs a list \"edges\"");
    int i = 0;
    for (const cJSON *x = rc ? NULL : edges->child; x && rc == 0; x = x->next, i++) {
        struct conf_at a = conf_item(&top, i);
        struct fleet_edge ed = {0};
        rc = load_edge(&a, x, &ed);
        for (size_t k = 0; rc == 0 && k < f->n; k++)
            if (f->v[k].name && ed.name && !strcmp(f->v[k].name, ed.name))
                rc = conf_bad(&a, "repeats the name of another edge");
        if (rc == 0 && f->n >= FLEET_EDGES_MAX) rc = conf_bad(&a, "is one edge too many");
        if (rc == 0)
            push(f, &ed);
        else
            free(ed.name), free(ed.location), free(ed.credentials), free(ed.ca);
    }
    cJSON_Delete(root);
    return rc;
}

void edges_release(struct fleet *f)
{
    for (size_t i = 0; i < f->n; i++)
        free(f->v[i].name), free(f->v[i].location), free(f->v[i].credentials), free(f->v[i].ca);
    free(f->v);
    f->v = NULL;
    f->n = 0;
}

/* ---- kept state --------------------------------------------------------------------------- */

static void copy_str(char *dst, size_t n, const cJSON *v)
{
    snprintf(dst, n, "%s", cJSON_IsString(v) && strlen(v->valuestring) < n ? v->valuestring : "");
}

static int64_t time_of(const cJSON *v)
{
    return cJSON_IsNumber(v) ? (int64_t)v->valuedouble : IDX_NO_TIME;
}

/* Reads DIR/fleet/KEY.json; a missing or damaged one is no state (the edge is pulled anew). */
static void state_read(const char *path, struct fleet_state *st)
{
    memset(st, 0, sizeof *st);
    st->time = st->last_pull = IDX_NO_TIME;
    struct buf b = BUF_INIT(1 << 20);
    cJSON *o = buf_read_file(&b, path) == 0 ? cJSON_ParseWithLength(b.ptr, b.len) : NULL;
    buf_release(&b);
    if (!cJSON_IsObject(o)) {
        cJSON_Delete(o);
        return;
    }
    copy_str(st->name, sizeof st->name, cJSON_GetObjectItemCaseSensitive(o, "name"));
    copy_str(st->etag, sizeof st->etag, cJSON_GetObjectItemCaseSensitive(o, "etag"));
    copy_str(st->snapshot, sizeof st->snapshot, cJSON_GetObjectItemCaseSensitive(o, "snapshot"));
    copy_str(st->error, sizeof st->error, cJSON_GetObjectItemCaseSensitive(o, "error"));
    st->time = time_of(cJSON_GetObjectItemCaseSensitive(o, "time"));
    st->last_pull = time_of(cJSON_GetObjectItemCaseSensitive(o, "lastPull"));
    cJSON_Delete(o);
}

static void put_time(struct buf *b, const char *key, int64_t t)
{
    buf_puts(b, key);
    if (t == IDX_NO_TIME)
        buf_puts(b, "null");
    else
        buf_put_i64(b, t);
}

/* Writes the state atomically (temporary file, fsync, rename). */
static int state_write(const char *path, const struct fleet_state *st, struct err *e)
{
    struct buf b = BUF_INIT(1 << 20);
    buf_puts(&b, "{\"name\":");
    buf_json_str(&b, st->name);
    buf_puts(&b, ",\"etag\":");
    buf_json_str(&b, st->etag);
    buf_puts(&b, ",\"snapshot\":");
    buf_json_str(&b, st->snapshot);
    put_time(&b, ",\"time\":", st->time);
    put_time(&b, ",\"lastPull\":", st->last_pull);
    buf_puts(&b, ",\"error\":");
    buf_json_str(&b, st->error);
    buf_puts(&b, "}\n");
    char tmp[PATH_MAX + 8];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "wb");
    int ok = f && fwrite(b.ptr, 1, b.len, f) == b.len && fflush(f) == 0 && fsync(fileno(f)) == 0;
    if (f && fclose(f) != 0) ok = 0;
    if (ok && rename(tmp, path) != 0) ok = 0;
    buf_release(&b);
    if (!ok) return err_set(e, ERR_IO, "writing %s: %s", path, strerror(errno));
    return 0;
}

/* ---- pulling ------------------------------------------------------------------------------ */

struct pool {
    struct fleet_job *jobs;
    size_t n, next;
    pthread_mutex_t lock;
};

/* A new export is checked whole, then replaces the kept copy; the edge needs a name. */
static void pull_one(struct fleet_job *j)
{
    if (fleet_pull(j) != 0 || j->unchanged) return;
    struct fleet_header h;
    int rc = fleet_read(j->tmp_path, NULL, &h, &j->e);
    if (rc == 0 && !j->edge->name && !h.cluster[0])
        rc = err_set(&j->e, ERR_INVALID,
                     "the export names no cluster: give the edge --cluster, or a name in --fleet");
    if (rc == 0 && rename(j->tmp_path, j->keep_path) != 0) {
        j->fatal = 1;
        rc = err_set(&j->e, ERR_IO, "rename %s: %s", j->tmp_path, strerror(errno));
    }
    if (rc != 0) {
        unlink(j->tmp_path);
        if (j->e.code == ERR_INVALID) err_prefix(&j->e, "%s: ", j->edge->location);
        j->st.etag[0] = '\0';
        j->e.code = j->e.code ? j->e.code : ERR_INVALID;
        return;
    }
    j->h = h;
    j->have_copy = 1;
}

static void *worker(void *arg)
{
    struct pool *p = arg;
    for (;;) {
        pthread_mutex_lock(&p->lock);
        size_t i = p->next < p->n ? p->next++ : p->n;
        pthread_mutex_unlock(&p->lock);
        if (i == p->n) return NULL;
        pull_one(&p->jobs[i]);
    }
}

static void run_pool(struct fleet_job *jobs, size_t n, long parallel)
{
    struct pool p = {jobs, n, 0, PTHREAD_MUTEX_INITIALIZER};
    size_t nthreads = (size_t)parallel < n ? (size_t)parallel : n;
    pthread_t *t = xcalloc(nthreads ? nthreads : 1, sizeof *t);
    size_t started = 0;
    for (; started < nthreads; started++)
        if (pthread_create(&t[started], NULL, worker, &p) != 0) break;
    if (started == 0) worker(&p); /* no thread could start: pull on this one */
    for (size_t i = 0; i < started; i++)
        pthread_join(t[i], NULL);
    free(t);
}

/* ---- merging ------------------------------------------------------------------------------ */

struct merge {
    struct rowset *rs;
    const char *name, *origin;
    uint32_t *report_of; /* export report index -> rowset report */
    uint32_t cap;
};

static void merge_report(void *ctx, uint32_t i, const struct row_report *rep)
{
    struct merge *m = ctx;
    struct row_report r = *rep;
    r.origin = m->origin;
    r.cluster = m->name;
    if (i >= m->cap) {
        m->cap = m->cap ? m->cap * 2 : 64;
        m->report_of = xreallocarray(m->report_of, m->cap, sizeof *m->report_of);
    }
    m->report_of[i] = rowset_add_report(m->rs, &r);
}

/* The merged id: lower-case hex SHA-1 of the cluster name, a NUL byte and the edge's id. */
static void merged_id(const char *name, const char *id, char out[41])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    if (!c || !EVP_DigestInit_ex(c, EVP_sha1(), NULL) ||
        !EVP_DigestUpdate(c, name, strlen(name) + 1) || !EVP_DigestUpdate(c, id, strlen(id)) ||
        !EVP_DigestFinal_ex(c, md, &n) || n != 20)
        abort();
    EVP_MD_CTX_free(c);
    for (unsigned i = 0; i < 20; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

/* Rows come after every report (the format's order), so report_of is complete. */
static void merge_row(void *ctx, uint32_t report, const struct row_in *row)
{
    struct merge *m = ctx;
    struct row_in r = *row;
    char id[41];
    merged_id(m->name, row->result_id, id);
    r.result_id = id;
    r.resource_count = 1;
    rowset_add_row(m->rs, m->report_of[report], &r);
}

/* The kept copy, checked when it arrived, into rs. A failure now (the file changed under
 * us) has added a part: the caller fails the run, so no snapshot shows it. */
static int merge_edge(const struct fleet_job *j, const char *name, struct rowset *rs, struct err *e)
{
    char origin[128];
    snprintf(origin, sizeof origin, "edge %s", name);
    struct fleet_header h;
    struct merge m = {rs, name, origin, NULL, 0};
    struct fleet_sink sink = {merge_report, merge_row, &m};
    int rc = fleet_read(j->keep_path, &sink, &h, e);
    free(m.report_of);
    if (rc != 0) return err_prefix(e, "the kept export of edge %s cannot be read back: ", name);
    return 0;
}

/* ---- one run ------------------------------------------------------------------------------ */

static void job_init(struct fleet_job *j, const struct fleet_edge *ed, const struct fleet_opts *o,
                     char *state_path, size_t n)
{
    char key[17];
    const char *dir = o->data_dir;
    snprintf(key, sizeof key, "%016llx",
             (unsigned long long)fnv1a(ed->location, strlen(ed->location)));
    j->edge = ed;
    j->o = o;
    snprintf(j->keep_path, sizeof j->keep_path, "%s/fleet/%s.jsonl.gz", dir, key);
    snprintf(j->tmp_path, sizeof j->tmp_path, "%s/fleet/%s.tmp", dir, key);
    snprintf(state_path, n, "%s/fleet/%s.json", dir, key);
    state_read(state_path, &j->st);
    j->have_copy = access(j->keep_path, R_OK) == 0 && j->st.last_pull != IDX_NO_TIME;
}

/* After the pull: the edge's name, state and kept state. */
static int settle(struct fleet_job *j, int64_t now, long max_stale)
{
    const char *name = j->edge->name     ? j->edge->name
                       : j->h.cluster[0] ? j->h.cluster
                       : j->st.name[0]   ? j->st.name
                                         : j->edge->location;
    if (name != j->st.name) snprintf(j->st.name, sizeof j->st.name, "%s", name);
    if (j->e.code == ERR_NONE) {
        if (!j->unchanged) {
            snprintf(j->st.snapshot, sizeof j->st.snapshot, "%s", j->h.snapshot);
            j->st.time = j->h.created;
        }
        j->st.last_pull = now;
        j->st.error[0] = '\0';
        return IDX_CLUSTER_UP;
    }
    snprintf(j->st.error, sizeof j->st.error, "%s", j->e.msg);
    return j->have_copy && now - j->st.last_pull <= max_stale ? IDX_CLUSTER_STALE
                                                              : IDX_CLUSTER_GONE;
}

static int name_taken(const struct fleet_job *jobs, size_t i)
{
    for (size_t k = 0; k < i; k++)
        if (!strcmp(jobs[k].st.name, jobs[i].st.name)) return 1;
    return 0;
}

static const char *const state_words[] = {"up", "stale", "gone"};

/* One edge after its pull: state kept, rows merged, its /v1/clusters entry and source. */
static int finish(struct fleet_job *jobs, size_t i, const char *state_path, int64_t now,
                  struct rowset *rs, struct err *e)
{
    struct fleet_job *j = &jobs[i];
    int state = settle(j, now, j->o->max_stale);
    if (name_taken(jobs, i)) {
        state = IDX_CLUSTER_GONE;
        snprintf(j->st.error, sizeof j->st.error, "another edge is named %s", j->st.name);
    }
    if (state_write(state_path, &j->st, e) != 0) return -1;
    if (state != IDX_CLUSTER_GONE && merge_edge(j, j->st.name, rs, e) != 0) return -1;
    struct row_cluster c = {j->st.name, j->st.snapshot, j->st.error[0] ? j->st.error : NULL,
                            state,      j->st.time,     j->st.last_pull,
                            0};
    rowset_add_cluster(rs, &c);
    char label[PATH_MAX + 16];
    snprintf(label, sizeof label, "polsnap:%s", j->edge->location);
    rowset_source_status(rs, label, state == IDX_CLUSTER_UP);
    fprintf(stderr, "polsnap-snapshot: edge %s: %s%s%s%s\n", j->st.name, state_words[state],
            state == IDX_CLUSTER_UP ? (j->unchanged ? " (unchanged)" : " (pulled)") : "",
            j->st.error[0] ? ": " : "", j->st.error);
    return 0;
}

int edges_collect(const struct fleet *f, const struct fleet_opts *o, struct rowset *rs,
                  struct err *e)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s/fleet", o->data_dir);
    if (mkdir(dir, 0755) != 0 && errno != EEXIST)
        return err_set(e, ERR_IO, "cannot create %s: %s", dir, strerror(errno));
    http_global_init();
    struct fleet_job *jobs = xcalloc(f->n ? f->n : 1, sizeof *jobs);
    char(*states)[PATH_MAX] = xcalloc(f->n ? f->n : 1, sizeof *states);
    for (size_t i = 0; i < f->n; i++)
        job_init(&jobs[i], &f->v[i], o, states[i], sizeof states[i]);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    run_pool(jobs, f->n, o->parallel);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    int64_t now = (int64_t)time(NULL);
    int rc = 0;
    uint64_t bytes = 0;
    size_t pulled = 0, unchanged = 0;
    for (size_t i = 0; i < f->n && rc == 0; i++) {
        if (jobs[i].fatal) {
            *e = jobs[i].e;
            rc = -1;
            break;
        }
        rc = finish(jobs, i, states[i], now, rs, e);
        bytes += jobs[i].bytes;
        pulled += jobs[i].e.code == ERR_NONE && !jobs[i].unchanged;
        unchanged += jobs[i].e.code == ERR_NONE && jobs[i].unchanged;
    }
    fprintf(stderr,
            "polsnap-snapshot: fleet: %zu edges, %zu pulled, %zu unchanged, %zu not read; "
            "%llu bytes received in %.2f s\n",
            f->n, pulled, unchanged, f->n - pulled - unchanged, (unsigned long long)bytes,
            (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    free(states);
    free(jobs);
    return rc;
}
