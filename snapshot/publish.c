/* publish.c - writes a snapshot directory and swaps DIR/current to it without ever exposing a
 * partial snapshot (layout and guarantees in publish.h). */
#include "publish.h"

#include "err.h"

#include "api.h"
#include "buf.h"
#include "changes.h"
#include "fleet.h"
#include "idx.h"
#include "gzsink.h"
#include "idxw.h"
#include "shard_rows.h"
#include "spill.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define FAIL(...)                                                                                  \
    do {                                                                                           \
        err_set(e, ERR_IO, __VA_ARGS__);                                                           \
        goto fail;                                                                                 \
    } while (0)

int publish_lock(const char *data_dir, int *lock_fd, struct err *e)
{
    char path[PATH_MAX];
    if (mkdir(data_dir, 0755) != 0 && errno != EEXIST) {
        err_set(e, ERR_IO, "cannot create data directory %s: %s", data_dir, strerror(errno));
        return -1;
    }
    snprintf(path, sizeof path, "%s/.lock", data_dir);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        err_set(e, ERR_IO, "%s: %s", path, strerror(errno));
        return -1;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        err_set(e, ERR_IO,
                "another polsnap-snapshot is writing to %s (%s is "
                "locked); this run does nothing",
                data_dir, path);
        close(fd);
        return -1;
    }
    *lock_fd = fd;
    return 0;
}

static int fsync_path(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

/* mkdir -p for the directories of a file path below root (root exists). */
static int make_parents(char *path)
{
    for (char *p = path + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        int rc = mkdir(path, 0755);
        *p = '/';
        if (rc != 0 && errno != EEXIST) return -1;
    }
    return 0;
}

struct file_sink {
    int fd, failed;
    struct gzsink *gz; /* NULL, or the compressed copy */
};

static void write_all(void *ctx, const char *data, size_t n)
{
    struct file_sink *f = ctx;
    if (f->gz) gzsink_write(f->gz, data, n);
    while (n && !f->failed) {
        ssize_t w = write(f->fd, data, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            f->failed = errno ? errno : EIO;
            return;
        }
        data += w;
        n -= (size_t)w;
    }
    spill_look(); /* a rendered file reads the whole index: its pages must not pile up */
}

/* Streams what render() appends into dir/rel (created with its parents) and, with gzip, a
 * compressed copy into dir/rel.gz; fsyncs both. */
typedef void (*render_fn)(const struct idx *ix, const void *arg, struct buf *out);
static int write_rendered(const char *dir, const char *rel, const struct idx *ix, render_fn render,
                          const void *arg, int gzip, struct err *e)
{
    char path[PATH_MAX], gzpath[PATH_MAX + 3];
    if (snprintf(path, sizeof path, "%s/%s", dir, rel) >= (int)sizeof path || make_parents(path)) {
        err_set(e, ERR_IO, "cannot create the directories of %s/%s", dir, rel);
        return -1;
    }
    snprintf(gzpath, sizeof gzpath, "%s.gz", path);
    struct gzsink gz;
    struct file_sink f = {open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644), 0, NULL};
    if (f.fd < 0) {
        err_set(e, ERR_IO, "%s: %s", path, strerror(errno));
        return -1;
    }
    if (gzip && gzsink_open(&gz, gzpath, e) != 0) {
        close(f.fd);
        return -1;
    }
    f.gz = gzip ? &gz : NULL;
    struct buf b = BUF_INIT(SIZE_MAX / 2);
    buf_set_sink(&b, write_all, &f);
    render(ix, arg, &b);
    buf_flush(&b);
    buf_release(&b);
    if (!f.failed && fsync(f.fd) != 0) f.failed = errno;
    if (close(f.fd) != 0 && !f.failed) f.failed = errno;
    int gz_rc = gzip ? gzsink_close(&gz, gzpath, e) : 0;
    if (f.failed) {
        err_set(e, ERR_IO, "writing %s: %s", path, strerror(f.failed));
        return -1;
    }
    return gz_rc;
}

static void render_endpoint(const struct idx *ix, const void *arg, struct buf *out)
{
    api_handle(ix, "GET", arg, NULL, NULL, out);
}

struct rows_arg {
    uint32_t lo, hi;
};

static void render_rows(const struct idx *ix, const void *arg, struct buf *out)
{
    const struct rows_arg *r = arg;
    shard_rows_render(ix, r->lo, r->hi, out);
}

struct shard_index {
    const char **files;
    uint32_t *lo, *hi;
    size_t n;
};

static void render_shard_index(const struct idx *ix, const void *arg, struct buf *out)
{
    const struct shard_index *si = arg;
    buf_puts(out, "{\"namespaced\":[");
    for (size_t i = 0; i < si->n; i++) {
        buf_puts(out, i ? ",{\"namespace\":" : "{\"namespace\":");
        buf_json_str_or_null(out, idx_str(ix, ix->rows[si->lo[i]].str[IDX_F_NAMESPACE]));
        buf_puts(out, ",\"cluster\":");
        buf_json_str_or_null(out, idx_str(ix, ix->rows[si->lo[i]].str[IDX_F_CLUSTER]));
        buf_puts(out, ",\"file\":");
        buf_json_str(out, si->files[i]);
        buf_printf(out, ",\"count\":%u}", si->hi[i] - si->lo[i]);
    }
    buf_printf(out, "],\"cluster\":{\"file\":\"cluster.json\",\"count\":%u}}",
               ix->h->nrows - ix->h->nrows_ns);
}

static int write_shards(const char *dir, const struct idx *ix, struct err *e)
{
    uint32_t nns = ix->h->nrows_ns;
    struct shard_index si = {xmalloc(sizeof(char *) * (nns + 1)), xmalloc(4 * (nns + 1)),
                             xmalloc(4 * (nns + 1)), 0};
    int rc = 0;
    for (uint32_t lo = 0, hi; lo < nns && rc == 0; lo = hi) {
        uint32_t ns = ix->rows[lo].str[IDX_F_NAMESPACE], cl = ix->rows[lo].str[IDX_F_CLUSTER];
        for (hi = lo + 1; hi < nns && ix->rows[hi].str[IDX_F_NAMESPACE] == ns &&
                          ix->rows[hi].str[IDX_F_CLUSTER] == cl;
             hi++) {
        }
        char rel[160], sub[80] = "namespaced";
        const char *name = idx_str(ix, ns), *cluster = idx_str(ix, cl);
        /* One shard per cluster and namespace (each a run of the default order). A name that
         * is a DNS-1123 label (what Kubernetes allows, what --cluster takes) names its own
         * file or directory; anything else (hostile input, "..") gets a numbered name.
         * index.json maps them all. */
        if (cluster && dns_label(cluster, strlen(cluster)))
            snprintf(sub, sizeof sub, "namespaced/%s", cluster);
        else if (cluster)
            snprintf(sub, sizeof sub, "namespaced/_c%lu", (unsigned long)si.n);
        if (!name)
            snprintf(rel, sizeof rel, "%s/_none.json", sub);
        else if (dns_label(name, strlen(name)))
            snprintf(rel, sizeof rel, "%s/%s.json", sub, name);
        else
            snprintf(rel, sizeof rel, "%s/_ns%lu.json", sub, (unsigned long)si.n);
        char path[PATH_MAX];
        snprintf(path, sizeof path, "shards/%s", rel);
        struct rows_arg ra = {lo, hi};
        rc = write_rendered(dir, path, ix, render_rows, &ra, 0, e);
        si.files[si.n] = xstrdup(rel);
        si.lo[si.n] = lo;
        si.hi[si.n++] = hi;
    }
    struct rows_arg cl = {nns, ix->h->nrows};
    if (rc == 0) rc = write_rendered(dir, "shards/cluster.json", ix, render_rows, &cl, 0, e);
    if (rc == 0) rc = write_rendered(dir, "shards/index.json", ix, render_shard_index, &si, 0, e);
    for (size_t i = 0; i < si.n; i++)
        free((char *)si.files[i]);
    free(si.files), free(si.lo), free(si.hi);
    return rc;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The snapshot DIR/current names, into id (NAME_MAX + 1 bytes): 1 when it names
 * snapshots/ID, 0 when there is no current (nothing was ever swapped in), -1 when it names
 * something else (set by hand: then nothing is taken for an orphan). */
static int current_id(const char *data_dir, char *id)
{
    char link[PATH_MAX], target[PATH_MAX];
    snprintf(link, sizeof link, "%s/current", data_dir);
    ssize_t n = readlink(link, target, sizeof target - 1);
    if (n < 0) return errno == ENOENT ? 0 : -1;
    target[n] = '\0';
    if (strncmp(target, "snapshots/", 10) != 0 || strchr(target + 10, '/') ||
        strlen(target + 10) > NAME_MAX)
        return -1;
    snprintf(id, NAME_MAX + 1, "%s", target + 10);
    return 1;
}

/* Keeps the snapshot current names and the newest keep - 1 older ones, and deletes the rest:
 * older ones, .tmp- directories and snapshots newer than current, which an interrupted run
 * renamed into place but never swapped in, so nobody was ever served them. We hold the lock,
 * so no other job is writing any of them. Run before a snapshot is written (an earlier run's
 * leftovers never pile up, and a full disk gets their space back) and after the swap. */
static void prune(const char *data_dir, const char *snapdir, unsigned keep)
{
    char cur[NAME_MAX + 1] = "", path[PATH_MAX];
    int has_cur = current_id(data_dir, cur);
    DIR *d = opendir(snapdir);
    if (!d) return;
    char **names = NULL;
    size_t n = 0, cap = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.') {
            if (strncmp(e->d_name, ".tmp-", 5) == 0) {
                snprintf(path, sizeof path, "%s/%s", snapdir, e->d_name);
                rm_rf(path);
            }
            continue;
        }
        if (n == cap) names = xreallocarray(names, cap = cap ? cap * 2 : 16, sizeof *names);
        names[n++] = xstrdup(e->d_name);
    }
    closedir(d);
    if (!names) return;
    qsort(names, n, sizeof *names, cmp_names);
    /* older snapshots kept beside current (all keep of them when current is set by hand) */
    size_t older = 0, room = has_cur == 1 ? keep - 1 : keep;
    for (size_t i = n; i-- > 0;) {
        int c = has_cur == 1 ? strcmp(names[i], cur) : has_cur == 0 ? 1 : -1;
        const char *why = NULL;
        if (c > 0)
            why = "newer than the one current names: never served";
        else if (c < 0 && older++ >= room)
            why = "old";
        if (why) {
            snprintf(path, sizeof path, "%s/%s", snapdir, names[i]);
            rm_rf(path);
            fprintf(stderr, "polsnap-snapshot: removed snapshot %s (%s)\n", names[i], why);
        }
        free(names[i]);
    }
    free(names);
}

int publish_begin(const char *data_dir, unsigned keep, char *tmp_out, struct err *e)
{
    char snapdir[PATH_MAX];
    snprintf(snapdir, sizeof snapdir, "%s/snapshots", data_dir);
    snprintf(tmp_out, PATH_MAX, "%s/.tmp-%ld", snapdir, (long)getpid());
    if (mkdir(snapdir, 0755) != 0 && errno != EEXIST)
        return err_set(e, ERR_IO, "%s: %s", snapdir, strerror(errno));
    prune(data_dir, snapdir, keep ? keep : 1); /* a killed run's leftovers, .tmp-PID among them */
    if (mkdir(tmp_out, 0755) != 0) return err_set(e, ERR_IO, "%s: %s", tmp_out, strerror(errno));
    return 0;
}

int publish_snapshot(struct rowset **rs, const struct publish_opts *o, char *path_out,
                     struct err *e)
{
    char snapdir[PATH_MAX], final[PATH_MAX], link_tmp[PATH_MAX], link_path[PATH_MAX],
        target[PATH_MAX], id[32];
    const char *tmp = o->tmp_dir;
    struct err rerr = {0};
    struct idx ix = {0};
    int made_tmp = 1, made_final = 0;

    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    gmtime_r(&tv.tv_sec, &tm);
    char stamp[20];
    strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%S", &tm);
    snprintf(id, sizeof id, "%s.%06ldZ", stamp, (long)tv.tv_usec);

    snprintf(snapdir, sizeof snapdir, "%s/snapshots", o->data_dir);
    snprintf(final, sizeof final, "%s/%s", snapdir, id);

    char idxpath[PATH_MAX];
    snprintf(idxpath, sizeof idxpath, "%s/%s", tmp, IDX_FILE);
    fprintf(stderr, "polsnap-snapshot: writing index of %u rows\n", rowset_rows(*rs));
    struct changes chg;
    changes_mark(*rs, o->data_dir, (int64_t)tv.tv_sec, o->on_resolved, o->ctx, &chg);
    struct idxw_meta meta = {id,           (int64_t)tv.tv_sec, o->cron_period, 1,
                             chg.previous, chg.new_keys,       chg.resolved};
    int written = idxw_write(*rs, idxpath, &meta, e);
    rowset_free(*rs);
    *rs = NULL;
    if (written != 0) {
        err_prefix(e, "writing the index: ");
        goto fail;
    }
    /* Render from the index just written, through the reader the query server uses: the
     * static files and the dynamic answers come from the same bytes by construction. */
    if (idx_open(&ix, idxpath, &rerr) != 0) FAIL("reading back the index: %s", rerr.msg);
    fprintf(stderr, "polsnap-snapshot: rendering the precomputed endpoints\n");
    for (const struct api_endpoint *ep = api_endpoints; ep < api_endpoints + api_nendpoints; ep++) {
        if (!ep->file) continue;
        /* an answer that is gzip by its format (the fleet export) needs no gzip copy */
        int gzip = strcmp(ep->content_type, FLEET_CONTENT_TYPE) != 0;
        if (write_rendered(tmp, ep->file, &ix, render_endpoint, ep->path, gzip, e) != 0) goto fail;
    }
    if (write_shards(tmp, &ix, e) != 0) goto fail;
    if (o->before_swap) o->before_swap(&ix, o->ctx);
    idx_close(&ix);

    if (fsync_path(tmp) != 0) FAIL("fsync %s: %s", tmp, strerror(errno));
    if (rename(tmp, final) != 0) FAIL("rename %s: %s", tmp, strerror(errno));
    made_tmp = 0, made_final = 1; /* from here until the swap, a failure removes final */
    if (fsync_path(snapdir) != 0) FAIL("fsync %s: %s", snapdir, strerror(errno));

    /* the swap: a new symlink beside current, renamed over it */
    snprintf(target, sizeof target, "snapshots/%s", id);
    snprintf(link_tmp, sizeof link_tmp, "%s/.current.tmp", o->data_dir);
    snprintf(link_path, sizeof link_path, "%s/current", o->data_dir);
    unlink(link_tmp);
    if (symlink(target, link_tmp) != 0) FAIL("symlink %s: %s", link_tmp, strerror(errno));
    if (rename(link_tmp, link_path) != 0) {
        unlink(link_tmp);
        FAIL("rename %s over %s: %s", link_tmp, link_path, strerror(errno));
    }
    /* current names the new snapshot now: it is published, whatever follows */
    if (fsync_path(o->data_dir) != 0)
        fprintf(stderr,
                "polsnap-snapshot: warning: fsync %s: %s: the new snapshot is served, but a "
                "power loss now could bring the previous one back\n",
                o->data_dir, strerror(errno));
    snprintf(path_out, PATH_MAX, "%s", final);
    prune(o->data_dir, snapdir, o->keep ? o->keep : 1);
    return 0;

fail:
    idx_close(&ix);
    if (made_tmp) rm_rf(tmp);
    if (made_final) rm_rf(final);
    return -1;
}
