/* source_files.c - the files: source: report files (.json, .yaml, .yml) under a path. */
#include "report.h"

#include "err.h"
#include "source.h"

#include "buf.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A file past this is refused (its cJSON tree would take about 4.4 times as much memory). */
#define FILE_MAX ((size_t)256 << 20)
#define FILE_MAX_TEXT "256 MiB"
#define FILES_MAX 100000
#define DEPTH_MAX 64

enum format { NOT_REPORT, JSON, YAML };

static enum format format_of(const char *path)
{
    size_t n = strlen(path);
    static const struct {
        const char *ext;
        enum format format;
    } exts[] = {{".json", JSON}, {".yaml", YAML}, {".yml", YAML}};
    for (size_t i = 0; i < ARRAY_LEN(exts); i++) {
        size_t e = strlen(exts[i].ext);
        if (n > e && !strcmp(path + n - e, exts[i].ext)) return exts[i].format;
    }
    return NOT_REPORT;
}

struct paths {
    char **v;
    size_t n, cap;
};

static void paths_push(struct paths *p, char *path)
{
    if (p->n == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 64;
        p->v = xreallocarray(p->v, p->cap, sizeof *p->v);
    }
    p->v[p->n++] = path;
}

static void paths_release(struct paths *p)
{
    for (size_t i = 0; i < p->n; i++)
        free(p->v[i]);
    free(p->v);
}

/* The directories from the top down to the one being read: a symlink back to one of them
 * would make the walk endless. */
struct ancestors {
    dev_t dev[DEPTH_MAX];
    ino_t ino[DEPTH_MAX];
    int n;
};

static int is_ancestor(const struct ancestors *up, const struct stat *st)
{
    for (int i = 0; i < up->n; i++)
        if (up->dev[i] == st->st_dev && up->ino[i] == st->st_ino) return 1;
    return 0;
}

/* Adds the report files under dir to out. Hidden entries (".name") are passed over: that
 * is where editors keep swap files and a mounted ConfigMap keeps second copies of its files
 * (..data/). Symlinks are followed. Returns -1 with *e set when a directory cannot be
 * read or the tree is too deep or too large. */
static int walk(const char *dir, struct ancestors *up, struct paths *out, struct err *e)
{
    DIR *d = opendir(dir);
    if (!d) {
        err_set(e, ERR_IO, "%s: cannot read the directory: %s", dir, strerror(errno));
        return -1;
    }
    int rc = 0;
    struct dirent *de;
    while (!rc && (errno = 0, de = readdir(d))) {
        if (de->d_name[0] == '.') continue;
        struct buf b = BUF_INIT((size_t)-1);
        buf_printf(&b, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", de->d_name);
        char *path = buf_detach(&b, NULL);
        struct stat st;
        int ok = stat(path, &st) == 0;
        if (ok && S_ISDIR(st.st_mode)) {
            if (is_ancestor(up, &st)) {
                /* a symlink loop: that tree is being read already */
            } else if (up->n == DEPTH_MAX) {
                err_set(e, ERR_INVALID, "%s: directories nested deeper than %d levels", path,
                        DEPTH_MAX);
                rc = -1;
            } else {
                up->dev[up->n] = st.st_dev;
                up->ino[up->n++] = st.st_ino;
                rc = walk(path, up, out, e);
                up->n--;
            }
            free(path);
        } else if (format_of(path) != NOT_REPORT && out->n < FILES_MAX) {
            /* even when stat failed: reading it says why, and --skip-invalid applies */
            paths_push(out, path);
        } else if (format_of(path) != NOT_REPORT) {
            err_set(e, ERR_INVALID, "%s: more than %d report files", dir, FILES_MAX);
            rc = -1;
            free(path);
        } else {
            free(path);
        }
    }
    if (!rc && errno) {
        err_set(e, ERR_IO, "%s: cannot read the directory: %s", dir, strerror(errno));
        rc = -1;
    }
    closedir(d);
    return rc;
}

static int cmp_path(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The whole file, or NULL with *e set (no path in the message). The caller frees the bytes. */
static char *read_file(const char *path, size_t *len, struct err *e)
{
    /* O_NONBLOCK: opening a FIFO would wait for a writer for ever (it is refused below as not
     * a regular file; reads of a regular file ignore the flag) */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    struct stat st;
    if (fd < 0 || fstat(fd, &st)) {
        err_set(e, ERR_IO, "cannot open: %s", strerror(errno));
        if (fd >= 0) close(fd);
        return NULL;
    }
    struct buf b = BUF_INIT(FILE_MAX);
    int rc = S_ISREG(st.st_mode) ? buf_read_fd(&b, fd) : -1, no = errno;
    close(fd);
    if (rc == 0) return buf_detach(&b, len);
    buf_release(&b);
    if (!S_ISREG(st.st_mode))
        err_set(e, ERR_INVALID, "not a regular file");
    else if (no == EFBIG)
        err_set(e, ERR_INVALID, "larger than " FILE_MAX_TEXT);
    else
        err_set(e, ERR_IO, "cannot read: %s", strerror(no));
    return NULL;
}

/* The first failing document of a file (and how many failed), from report_load_bytes. */
struct file_errors {
    char origin[512];
    struct err first;
    int n;
};

static void on_error(void *ctx, const char *origin, const char *reason)
{
    struct file_errors *fe = ctx;
    if (!fe->n++) {
        snprintf(fe->origin, sizeof fe->origin, "%s", origin);
        err_set(&fe->first, ERR_INVALID, "%s", reason);
    }
}

/* Loads one file. A failing document fails the source, or under --skip-invalid the whole
 * file is left out (checked first, added only when every document passes) with a warning. */
static int load_file(struct rowset *rs, const char *path, int skip_invalid, struct err *e)
{
    struct file_errors fe = {.n = 0};
    size_t len = 0;
    int is_yaml = format_of(path) == YAML;
    char *data = read_file(path, &len, &fe.first);
    if (!data) {
        fe.n = 1;
        snprintf(fe.origin, sizeof fe.origin, "%s", path);
    } else if (!skip_invalid) {
        report_load_bytes(rs, data, len, path, is_yaml, on_error, &fe);
    } else {
        /* A JSON file is one document, which report_load_bytes adds all or nothing of. */
        if (is_yaml) report_load_bytes(NULL, data, len, path, is_yaml, on_error, &fe);
        if (!fe.n) report_load_bytes(rs, data, len, path, is_yaml, on_error, &fe);
    }
    free(data);
    if (!fe.n) return 0;
    if (!skip_invalid) {
        return err_set(e, fe.first.code, "%s: %s (--skip-invalid skips invalid files)", fe.origin,
                       fe.first.msg);
    }
    if (fe.n > 1)
        rowset_warn(rs, fe.origin, "%s (and %d more invalid documents): file skipped", fe.first.msg,
                    fe.n - 1);
    else
        rowset_warn(rs, fe.origin, "%s: file skipped", fe.first.msg);
    return 0;
}

static int collect(const char *arg, const struct source_opts *opts, struct rowset *rs,
                   struct err *e)
{
    struct stat st;
    if (!arg || !*arg) {
        err_set(e, ERR_INVALID, "files: needs a path (--source files:PATH)");
        return -1;
    }
    if (stat(arg, &st)) {
        err_set(e, ERR_INVALID, "%s: %s", arg, strerror(errno));
        return -1;
    }
    struct paths files = {NULL, 0, 0};
    int rc = 0;
    if (S_ISDIR(st.st_mode)) {
        struct ancestors up = {.dev = {st.st_dev}, .ino = {st.st_ino}, .n = 1};
        rc = walk(arg, &up, &files, e);
        if (files.n) qsort(files.v, files.n, sizeof *files.v, cmp_path);
        if (!rc && !files.n) rowset_warn(rs, arg, "no .json, .yaml or .yml file found");
    } else if (format_of(arg) == NOT_REPORT) {
        err_set(e, ERR_INVALID, "%s: not a .json, .yaml or .yml file", arg);
        rc = -1;
    } else {
        paths_push(&files, xstrdup(arg));
    }
    for (size_t i = 0; !rc && i < files.n; i++)
        rc = load_file(rs, files.v[i], opts && opts->skip_invalid, e);
    paths_release(&files);
    return rc;
}

int source_files_collect(const char *arg, const struct source_opts *opts, struct rowset *rs,
                         struct err *e)
{
    int rc = collect(arg, opts, rs, e);
    struct buf name = BUF_INIT((size_t)-1);
    buf_printf(&name, "files:%s", arg ? arg : "");
    rowset_source_status(rs, name.ptr, rc == 0);
    buf_release(&name);
    return rc;
}
