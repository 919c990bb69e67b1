/* faults.c - an LD_PRELOAD library for the integration tests, so that error paths and crash
 * windows a real disk reaches only rarely are tested for real. POLSNAP_FAULT is one of:
 *   fsync:PATH       fsync() of the descriptor whose path (as /proc/self/fd shows it) is PATH
 *                    fails with EIO;
 *   close:SUBSTRING  close() of a descriptor whose path contains SUBSTRING closes it, then
 *                    fails with EIO;
 *   slow:MS          each fsync() of a directory, rename(), symlink() and rmdir() is written
 *                    to stderr ("faults: CALL PATH") and takes MS milliseconds, half before the
 *                    call and half after: a test that kills the process on that line lands
 *                    in the window on either side of the step (tests/integration/test_crash.py).
 * tests/lib/polsnap.py builds it (fault_env()). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* The argument of the fault set for call ("fsync", "close", "slow"), or NULL. */
static const char *fault(const char *call)
{
    const char *spec = getenv("POLSNAP_FAULT");
    size_t n = strlen(call);
    return spec && strncmp(spec, call, n) == 0 && spec[n] == ':' ? spec + n + 1 : NULL;
}

static int fd_path(int fd, char *path, size_t size)
{
    char link[64];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t len = readlink(link, path, size - 1);
    if (len < 0) return -1;
    path[len] = '\0';
    return 0;
}

static void half_pause(void)
{
    const char *ms = fault("slow");
    long half = ms ? atol(ms) * 500000L : 0; /* nanoseconds */
    struct timespec t = {half / 1000000000L, half % 1000000000L};
    if (half) nanosleep(&t, NULL);
}

/* slow: the trace line, then the first half of the pause */
static void slow_enter(const char *call, const char *path)
{
    if (!fault("slow")) return;
    char line[4200];
    int n = snprintf(line, sizeof line, "faults: %s %s\n", call, path);
    if (n > 0 && write(2, line, (size_t)n) < 0) return;
    half_pause();
}

/* real_NAME: the libc function this file's NAME wraps */
#define REAL(name)                                                                                 \
    static __typeof__(&name) real_##name;                                                          \
    if (!real_##name) real_##name = (__typeof__(&name))dlsym(RTLD_NEXT, #name)

int fsync(int fd)
{
    REAL(fsync);
    char path[4096];
    const char *want = fault("fsync");
    struct stat st;
    int dir = fault("slow") && fstat(fd, &st) == 0 && S_ISDIR(st.st_mode);
    if ((want || dir) && fd_path(fd, path, sizeof path) == 0) {
        if (want && strcmp(path, want) == 0) {
            errno = EIO;
            return -1;
        }
        if (dir) slow_enter("fsync", path);
    }
    int rc = real_fsync(fd);
    if (dir) half_pause();
    return rc;
}

int close(int fd)
{
    REAL(close);
    char path[4096];
    const char *want = fault("close");
    int fail = want && fd_path(fd, path, sizeof path) == 0 && strstr(path, want) != NULL;
    int rc = real_close(fd);
    if (fail) {
        errno = EIO;
        return -1;
    }
    return rc;
}

int rename(const char *from, const char *to)
{
    REAL(rename);
    slow_enter("rename", from);
    int rc = real_rename(from, to);
    if (fault("slow")) half_pause();
    return rc;
}

int symlink(const char *target, const char *link)
{
    REAL(symlink);
    slow_enter("symlink", link);
    int rc = real_symlink(target, link);
    if (fault("slow")) half_pause();
    return rc;
}

int rmdir(const char *path)
{
    REAL(rmdir);
    slow_enter("rmdir", path);
    int rc = real_rmdir(path);
    if (fault("slow")) half_pause();
    return rc;
}
