/* spill.c - file-backed areas, trimming under the memory budget, sorting in pieces (spill.h). */
#include "spill.h"

#include "idx.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define SPILL_CHECK_EVERY 64  /* spill_check calls between two looks at the resident set */
#define SPILL_TICK_NS 2000000 /* the trimmer's look: every 2 ms */

static struct {
    char dir[PATH_MAX];
    size_t budget;
    size_t base; /* resident at spill_init: code, libraries, the heap so far; not counted */
    int statm;   /* /proc/self/statm, read at each look */
    void (*on_failure)(const char *dir);
    unsigned calls;
    pthread_t trimmer;
    atomic_int stop;
} sp = {.statm = -1};

static void *trimmer(void *arg);
static void spill_done_fields(void);

static size_t resident_bytes(void)
{
    char text[128];
    ssize_t n = pread(sp.statm, text, sizeof text - 1, 0);
    if (n <= 0) return 0;
    text[n] = '\0';
    unsigned long size = 0, resident = 0;
    if (sscanf(text, "%lu %lu", &size, &resident) != 2) return 0;
    return (size_t)resident * (size_t)sysconf(_SC_PAGESIZE);
}

int spill_init(const char *dir, size_t budget, void (*on_failure)(const char *dir), struct err *e)
{
    char probe[PATH_MAX];
    snprintf(probe, sizeof probe, "%s/.spill-XXXXXX", dir);
    int fd = mkstemp(probe);
    if (fd < 0)
        return err_set(e, ERR_IO, "%s: cannot create spill files: %s", dir, strerror(errno));
    unlink(probe);
    close(fd);
    if (sp.statm < 0) sp.statm = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
    if (sp.statm < 0) { /* a chroot without /proc: the job runs, unbounded, as before */
        fprintf(stderr,
                "polsnap-snapshot: warning: /proc/self/statm: %s: the memory budget is not "
                "kept\n",
                strerror(errno));
        return 0;
    }
    snprintf(sp.dir, sizeof sp.dir, "%s", dir);
    sp.budget = budget;
    sp.on_failure = on_failure;
    sp.base = resident_bytes();
    idx_check_tick = spill_check;
    atomic_store(&sp.stop, 0);
    int rc = pthread_create(&sp.trimmer, NULL, trimmer, NULL);
    if (rc != 0) {
        spill_done_fields();
        return err_set(e, ERR_INTERNAL, "starting the memory trimmer: %s", strerror(rc));
    }
    return 0;
}

/* Back to no budget: anonymous areas, no trimming. */
static void spill_done_fields(void)
{
    sp.dir[0] = '\0';
    sp.budget = 0;
    sp.on_failure = NULL;
    idx_check_tick = NULL;
}

void spill_done(void)
{
    if (sp.budget) {
        atomic_store(&sp.stop, 1);
        pthread_join(sp.trimmer, NULL);
    }
    spill_done_fields();
}

size_t spill_budget(void)
{
    return sp.budget;
}

size_t spill_piece(size_t bytes_per_element)
{
    if (!sp.budget) return SIZE_MAX;
    size_t n = sp.budget / 4 / (bytes_per_element ? bytes_per_element : 1);
    return n ? n : 1;
}

static size_t page_round(size_t n)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    return (n + page - 1) / page * page;
}

/* The callers of an area cannot go on without it: the job ends here, through on_failure when
 * areas are files (a full disk is the user's problem, not a crash), else as a bug does. */
static void fail(const char *what)
{
    fprintf(stderr, "polsnap-snapshot: %s: %s\n", what, strerror(errno));
    if (sp.on_failure) sp.on_failure(sp.dir);
    abort();
}

/* The address range for up to max bytes, and (with a directory) the unlinked file behind it. */
static void area_reserve(struct spill_area *a)
{
    void *p = mmap(NULL, page_round(a->max), PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
                   -1, 0);
    if (p == MAP_FAILED) fail("reserving address space");
    a->p = p;
    a->size = 0;
    a->fd = -1;
    if (!sp.dir[0]) return;
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/.spill-XXXXXX", sp.dir);
    a->fd = mkostemp(path, O_CLOEXEC);
    if (a->fd < 0) fail(path);
    unlink(path);
}

void spill_area_need(struct spill_area *a, size_t bytes)
{
    if (bytes > a->max) {
        fprintf(stderr, "polsnap-snapshot: an area of %zu bytes past its bound %zu\n", bytes,
                a->max);
        abort();
    }
    if (!a->p) area_reserve(a);
    if (bytes <= a->size) return;
    size_t want = a->size * 2 > bytes ? a->size * 2 : bytes;
    want = page_round(want < 65536 ? 65536 : want);
    if (want > page_round(a->max)) want = page_round(a->max);
    unsigned char *at = a->p + a->size;
    if (a->fd >= 0) {
        /* blocks reserved now, not at the first touch of a page: a full disk is then an
         * error here, where a sparse file would kill the job with SIGBUS mid-loop */
        int rc = posix_fallocate(a->fd, (off_t)a->size, (off_t)(want - a->size));
        if (rc != 0) {
            errno = rc;
            fail("growing a spill file");
        }
        if (mmap(at, want - a->size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, a->fd,
                 (off_t)a->size) == MAP_FAILED)
            fail("mapping a spill file");
    } else if (mprotect(at, want - a->size, PROT_READ | PROT_WRITE) != 0) {
        fail("growing an area");
    }
    a->size = want;
}

void *spill_array(struct spill_area *a, size_t n, size_t size)
{
    if (n == 0) n = 1;
    if (size && n > SIZE_MAX / size) {
        fprintf(stderr, "polsnap-snapshot: an array of %zu x %zu bytes\n", n, size);
        abort();
    }
    *a = (struct spill_area){.max = n * size, .fd = -1};
    spill_area_need(a, a->max);
    return a->p;
}

void spill_area_release(struct spill_area *a)
{
    if (!a->p) return;
    if (a->fd >= 0) close(a->fd);
    munmap(a->p, page_round(a->max));
    *a = (struct spill_area){.max = a->max, .fd = -1};
}

/* Drops every shared mapping's pages: the job's shared mappings are all files (spill areas,
 * mapped indexes), so their content stays in the files. Private memory is only given back
 * where the heap has free pages. */
static void trim(void)
{
    FILE *f = fopen("/proc/self/maps", "re");
    char line[512];
    int at_start = 1; /* a line longer than the buffer comes in pieces */
    while (f && fgets(line, sizeof line, f)) {
        unsigned long lo, hi;
        char perms[5];
        if (at_start && sscanf(line, "%lx-%lx %4s", &lo, &hi, perms) == 3 && perms[3] == 's')
            madvise((void *)(uintptr_t)lo, hi - lo, MADV_DONTNEED);
        at_start = strchr(line, '\n') != NULL;
    }
    if (f) fclose(f);
    malloc_trim(0);
}

/* Over the budget, less a margin of a quarter (what runs between two looks must not reach
 * it), counting from what was resident at the start. */
static int over_budget(void)
{
    return resident_bytes() > sp.base + sp.budget - sp.budget / 4;
}

void spill_check(void)
{
    if (sp.budget && ++sp.calls % SPILL_CHECK_EVERY == 0 && over_budget()) trim();
}

void spill_look(void)
{
    if (sp.budget && over_budget()) trim();
}

/* Code the job does not control (index checks, renderers in common/) walks mapped files
 * too: a thread looks at the resident set every tick. Trimming under a running reader is
 * safe: a dropped page of a shared mapping is read back from its file when touched. */
static void *trimmer(void *arg)
{
    (void)arg;
    struct timespec tick = {0, SPILL_TICK_NS};
    while (!atomic_load(&sp.stop)) {
        nanosleep(&tick, NULL);
        if (over_budget()) trim();
    }
    return NULL;
}

/* The k-way merge of sorted pieces of v (each `piece` long, the last maybe shorter) into out:
 * a binary heap of the pieces by their first unmerged element. */
struct merge {
    const uint32_t *v;
    size_t *pos, *end;
    size_t *heap, nheap;
    int (*cmp)(const void *, const void *, void *);
    void *ctx;
};

static int heap_less(const struct merge *m, size_t a, size_t b)
{
    return m->cmp(&m->v[m->pos[a]], &m->v[m->pos[b]], m->ctx) < 0;
}

static void heap_down(struct merge *m, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, best = i;
        if (l < m->nheap && heap_less(m, m->heap[l], m->heap[best])) best = l;
        if (r < m->nheap && heap_less(m, m->heap[r], m->heap[best])) best = r;
        if (best == i) return;
        size_t t = m->heap[i];
        m->heap[i] = m->heap[best];
        m->heap[best] = t;
        i = best;
    }
}

static void merge_pieces(struct merge *m, uint32_t *out)
{
    for (size_t i = m->nheap; i-- > 0;)
        heap_down(m, i);
    for (size_t o = 0; m->nheap; o++) {
        size_t p = m->heap[0];
        out[o] = m->v[m->pos[p]++];
        if (m->pos[p] == m->end[p]) m->heap[0] = m->heap[--m->nheap];
        heap_down(m, 0);
        spill_check();
    }
}

void spill_sort(uint32_t *v, size_t n, size_t piece, int (*cmp)(const void *, const void *, void *),
                void *ctx)
{
    if (piece == 0) piece = 1;
    for (size_t i = 0; i < n; i += piece) {
        qsort_r(v + i, n - i < piece ? n - i : piece, sizeof *v, cmp, ctx);
        spill_check();
    }
    if (n <= piece) return;
    size_t k = (n + piece - 1) / piece;
    struct merge m = {v,
                      xmalloc(sizeof(size_t) * k),
                      xmalloc(sizeof(size_t) * k),
                      xmalloc(sizeof(size_t) * k),
                      k,
                      cmp,
                      ctx};
    for (size_t i = 0; i < k; i++) {
        m.pos[i] = i * piece;
        m.end[i] = (i + 1) * piece < n ? (i + 1) * piece : n;
        m.heap[i] = i;
    }
    struct spill_area out;
    merge_pieces(&m, spill_array(&out, n, sizeof *v));
    for (size_t i = 0; i < n; i += 65536) {
        memcpy(v + i, out.p + i * sizeof *v, sizeof *v * (n - i < 65536 ? n - i : 65536));
        spill_check();
    }
    spill_area_release(&out);
    free(m.pos), free(m.end), free(m.heap);
}
