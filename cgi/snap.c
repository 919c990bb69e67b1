/* snap.c - follows DATA/current from request to request (see snap.h). */
#include "snap.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void snap_init(struct snap *s, const char *data_dir)
{
    memset(s, 0, sizeof *s);
    snprintf(s->data_dir, sizeof s->data_dir, "%s", data_dir);
}

const struct idx *snap_current(struct snap *s)
{
    char link[PATH_MAX + 16], target[PATH_MAX];
    snprintf(link, sizeof link, "%s/current", s->data_dir);
    /* readlink once per request: a cheap syscall, and the only way to see a swap at once */
    ssize_t n = readlink(link, target, sizeof target - 1);
    if (n < 0) return s->mapped ? &s->ix : NULL;
    target[n] = '\0';
    if (s->mapped && strcmp(target, s->target) == 0) return &s->ix;
    if (strcmp(target, s->bad) == 0) return s->mapped ? &s->ix : NULL;

    /* Open through the resolved target, not through current, so that a swap between the
     * readlink and the open cannot pair one snapshot's name with another's index. */
    char path[PATH_MAX * 2 + 32];
    struct err err = {0};
    if (target[0] == '/')
        snprintf(path, sizeof path, "%s/%s", target, IDX_FILE);
    else
        snprintf(path, sizeof path, "%s/%s/%s", s->data_dir, target, IDX_FILE);
    struct idx next;
    if (idx_open(&next, path, &err) != 0) {
        fprintf(stderr, "polsnap-fcgi: cannot use snapshot %s: %s%s\n", target, err.msg,
                s->mapped ? " (still answering from the previous one)" : "");
        snprintf(s->bad, sizeof s->bad, "%s", target);
        return s->mapped ? &s->ix : NULL;
    }
    if (s->mapped) idx_close(&s->ix);
    s->ix = next;
    s->mapped = 1;
    snprintf(s->target, sizeof s->target, "%s", target);
    return &s->ix;
}

void snap_release(struct snap *s)
{
    if (s->mapped) idx_close(&s->ix);
    s->mapped = 0;
}
