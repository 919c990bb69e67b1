/* site.c - copies the dashboard and a snapshot into one directory a plain static host serves. */
#include "site.h"

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

static int copy_file(const char *from, const char *to, char err[SITE_ERR_MAX])
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
    if (rc != 0) snprintf(err, SITE_ERR_MAX, "copying %s to %s: %s", from, to, strerror(errno));
    if (in >= 0) close(in);
    if (out >= 0 && close(out) != 0 && rc == 0) rc = -1;
    return rc;
}

/* Copies the regular files and directories below from into to (created); symlinks and
 * special files are skipped, and so is the index at the top of a snapshot. */
static int copy_tree(const char *from, const char *to, int depth, char err[SITE_ERR_MAX])
{
    if (depth > 16) {
        snprintf(err, SITE_ERR_MAX, "%s: directories nest too deep", from);
        return -1;
    }
    if (mkdir(to, 0755) != 0 && errno != EEXIST) {
        snprintf(err, SITE_ERR_MAX, "%s: %s", to, strerror(errno));
        return -1;
    }
    DIR *d = opendir(from);
    if (!d) {
        snprintf(err, SITE_ERR_MAX, "%s: %s", from, strerror(errno));
        return -1;
    }
    int rc = 0;
    for (struct dirent *e; rc == 0 && (e = readdir(d));) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        if (depth == 0 && !strcmp(e->d_name, IDX_FILE)) continue;
        char src[PATH_MAX], dst[PATH_MAX];
        snprintf(src, sizeof src, "%s/%s", from, e->d_name);
        snprintf(dst, sizeof dst, "%s/%s", to, e->d_name);
        struct stat st;
        if (lstat(src, &st) != 0) continue;
        if (S_ISDIR(st.st_mode))
            rc = copy_tree(src, dst, depth + 1, err);
        else if (S_ISREG(st.st_mode))
            rc = copy_file(src, dst, err);
    }
    closedir(d);
    return rc;
}

int site_write(const char *snapshot_dir, const char *www_dir, const char *site_dir,
               char err[SITE_ERR_MAX])
{
    char tmp[PATH_MAX], old[PATH_MAX], data[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s.tmp-%ld", site_dir, (long)getpid());
    snprintf(old, sizeof old, "%s.old-%ld", site_dir, (long)getpid());
    snprintf(data, sizeof data, "%s/data", tmp);
    rm_rf(tmp);
    if (copy_tree(www_dir, tmp, 1, err) != 0 || copy_tree(snapshot_dir, data, 0, err) != 0) {
        rm_rf(tmp);
        return -1;
    }
    int had_old = rename(site_dir, old) == 0;
    if (rename(tmp, site_dir) != 0) {
        snprintf(err, SITE_ERR_MAX, "rename %s to %s: %s", tmp, site_dir, strerror(errno));
        if (had_old) rename(old, site_dir);
        rm_rf(tmp);
        return -1;
    }
    if (had_old) rm_rf(old);
    return 0;
}
