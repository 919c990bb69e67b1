/* site.c - copies the dashboard and a snapshot into one directory a plain static host serves. */
#include "site.h"

#include "err.h"

#include "idx.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int copy_file(const char *from, const char *to, struct err *e)
{
    int in = open(from, O_RDONLY | O_CLOEXEC), out = -1, rc = -1;
    if (in < 0) goto done;
    out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (out < 0) goto done;
    char block[1 << 16];
    for (;;) {
        ssize_t n = read(in, block, sizeof block);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) goto done;
        if (n == 0) break;
        for (ssize_t off = 0; off < n;) {
            ssize_t w = write(out, block + off, (size_t)(n - off));
            if (w < 0 && errno == EINTR) continue;
            if (w <= 0) goto done;
            off += w;
        }
    }
    rc = fsync(out);
done:
    if (out >= 0 && close(out) != 0 && rc == 0) rc = -1; /* a write-back error shows here */
    if (rc != 0) err_set(e, ERR_IO, "copying %s to %s: %s", from, to, strerror(errno));
    if (in >= 0) close(in);
    return rc;
}

/* mkdir -p of the directories of path (a file's path). */
static int make_parents(const char *path, struct err *e)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    for (char *p = dir + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        int rc = mkdir(dir, 0755);
        *p = '/';
        if (rc != 0 && errno != EEXIST) return err_set(e, ERR_IO, "%s: %s", dir, strerror(errno));
    }
    return 0;
}

/* fn for every regular file below from (symlinks and special files are skipped, and so is
 * the index at the top of a snapshot, depth 0), named rel_prefix + its path below from. */
static int walk(const char *from, const char *rel_prefix, int depth, site_file_fn fn, void *ctx,
                struct err *e)
{
    if (depth > 16) return err_set(e, ERR_IO, "%s: directories nest too deep", from);
    DIR *d = opendir(from);
    if (!d) return err_set(e, ERR_IO, "%s: %s", from, strerror(errno));
    int rc = 0;
    for (struct dirent *de; rc == 0 && (de = readdir(d));) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
        if (depth == 0 && !strcmp(de->d_name, IDX_FILE)) continue;
        char src[PATH_MAX], rel[PATH_MAX];
        snprintf(src, sizeof src, "%s/%s", from, de->d_name);
        struct stat st;
        if (lstat(src, &st) != 0) continue;
        snprintf(rel, sizeof rel, "%s%s%s", rel_prefix, de->d_name, S_ISDIR(st.st_mode) ? "/" : "");
        if (S_ISDIR(st.st_mode)) {
            rc = walk(src, rel, depth + 1, fn, ctx, e);
        } else if (S_ISREG(st.st_mode)) {
            rc = fn(rel, src, ctx, e);
        }
    }
    closedir(d);
    return rc;
}

int site_files(const char *snapshot_dir, const char *www_dir, site_file_fn fn, void *ctx,
               struct err *e)
{
    if (walk(www_dir, "", 1, fn, ctx, e) != 0) return -1;
    return walk(snapshot_dir, SITE_DATA, 0, fn, ctx, e);
}

static int copy_one(const char *rel, const char *path, void *ctx, struct err *e)
{
    char dst[PATH_MAX];
    snprintf(dst, sizeof dst, "%s/%s", (const char *)ctx, rel);
    if (make_parents(dst, e) != 0) return -1;
    return copy_file(path, dst, e);
}

int site_write(const char *snapshot_dir, const char *www_dir, const char *site_dir, struct err *e)
{
    char tmp[PATH_MAX], old[PATH_MAX];
    /* fixed names (the job holds its data directory's lock): what a killed run left is
     * removed here by the next one */
    snprintf(tmp, sizeof tmp, "%s.tmp", site_dir);
    snprintf(old, sizeof old, "%s.old", site_dir);
    rm_rf(tmp);
    rm_rf(old);
    if (mkdir(tmp, 0755) != 0) return err_set(e, ERR_IO, "%s: %s", tmp, strerror(errno));
    if (site_files(snapshot_dir, www_dir, copy_one, tmp, e) != 0) {
        rm_rf(tmp);
        return -1;
    }
    /* One atomic exchange: the host sees the old site or the new one, never no site. */
    if (renameat2(AT_FDCWD, tmp, AT_FDCWD, site_dir, RENAME_EXCHANGE) == 0) {
        rm_rf(tmp); /* the old site now */
        return 0;
    }
    if (errno == ENOENT) { /* the first site */
        if (rename(tmp, site_dir) == 0) return 0;
    } else if (errno == EINVAL || errno == ENOSYS) {
        /* a file system without the exchange: two renames, a moment apart */
        int had_old = rename(site_dir, old) == 0;
        if (rename(tmp, site_dir) == 0) {
            if (had_old) rm_rf(old);
            return 0;
        }
        int saved = errno;
        if (had_old) rename(old, site_dir);
        errno = saved;
    }
    err_set(e, ERR_IO, "rename %s to %s: %s", tmp, site_dir, strerror(errno));
    rm_rf(tmp);
    return -1;
}
