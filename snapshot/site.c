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

/* Copies the regular files and directories below from into to (created); symlinks and
 * special files are skipped, and so is the index at the top of a snapshot. */
static int copy_tree(const char *from, const char *to, int depth, struct err *e)
{
    if (depth > 16) {
        err_set(e, ERR_IO, "%s: directories nest too deep", from);
        return -1;
    }
    if (mkdir(to, 0755) != 0 && errno != EEXIST) {
        err_set(e, ERR_IO, "%s: %s", to, strerror(errno));
        return -1;
    }
    DIR *d = opendir(from);
    if (!d) {
        err_set(e, ERR_IO, "%s: %s", from, strerror(errno));
        return -1;
    }
    int rc = 0;
    for (struct dirent *de; rc == 0 && (de = readdir(d));) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
        if (depth == 0 && !strcmp(de->d_name, IDX_FILE)) continue;
        char src[PATH_MAX], dst[PATH_MAX];
        snprintf(src, sizeof src, "%s/%s", from, de->d_name);
        snprintf(dst, sizeof dst, "%s/%s", to, de->d_name);
        struct stat st;
        if (lstat(src, &st) != 0) continue;
        if (S_ISDIR(st.st_mode))
            rc = copy_tree(src, dst, depth + 1, e);
        else if (S_ISREG(st.st_mode))
            rc = copy_file(src, dst, e);
    }
    closedir(d);
    return rc;
}

int site_write(const char *snapshot_dir, const char *www_dir, const char *site_dir, struct err *e)
{
    char tmp[PATH_MAX], old[PATH_MAX], data[PATH_MAX];
    /* fixed names (the job holds its data directory's lock): what a killed run left is
     * removed here by the next one */
    snprintf(tmp, sizeof tmp, "%s.tmp", site_dir);
    snprintf(old, sizeof old, "%s.old", site_dir);
    snprintf(data, sizeof data, "%s/data", tmp);
    rm_rf(tmp);
    rm_rf(old);
    if (copy_tree(www_dir, tmp, 1, e) != 0 || copy_tree(snapshot_dir, data, 0, e) != 0) {
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
