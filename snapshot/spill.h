/* spill.h - the snapshot job's memory budget (--memory): its big arrays live in unlinked files
 * of the snapshot's temporary directory, mapped, and the job's resident memory is trimmed back
 * under the budget whenever it passes it.
 *
 * Why files: a million results make about 500 MB of rows, strings and sort scratch, and the
 * machines this runs on have tens of MB to spare. A file-backed page that is trimmed
 * (madvise MADV_DONTNEED) leaves the process but not the file: the kernel writes it back and
 * reads it in again when it is next touched, so what the job holds stays near the budget while
 * the data may be as large as the disk allows. Whatever touches the arrays in a pattern without
 * locality (a sort) works in pieces, so that one piece's pages fit in the budget (spill_sort).
 *
 * Without spill_init (unit tests, polsnap-report) areas are anonymous memory and nothing is
 * trimmed. The state is process-wide: one job, one budget. The job maps no shared memory but
 * files, so trimming every shared mapping loses nothing. Allocation failure aborts (util.h). */
#ifndef POLSNAP_SPILL_H
#define POLSNAP_SPILL_H

#include "err.h"

#include <stddef.h>
#include <stdint.h>

/* From now on areas are files in dir (which must exist and stay until spill_done), and
 * spill_check trims when the resident set passes budget bytes more than it is now (what is
 * resident already, the program and its libraries, cannot be trimmed). Returns 0, or -1 with *e set
 * (ERR_IO: dir is not usable for files). Without /proc (a chroot) it warns and changes nothing:
 * the resident set cannot be read. When a file area cannot grow (the disk is full), the reason
 * is printed and on_failure(dir) is called; it must not return (it removes dir and exits). */
int spill_init(const char *dir, size_t budget, void (*on_failure)(const char *dir), struct err *e);
/* Back to anonymous areas and no trimming (areas already made stay as they are). */
void spill_done(void);
/* The budget given to spill_init; 0 when none. */
size_t spill_budget(void);

/* A growable array whose address never moves (so pointers into it stay valid): a range of
 * address space reserved up to max bytes, backed by a file as it grows. */
struct spill_area {
    unsigned char *p; /* NULL until the first spill_area_need */
    size_t size;      /* bytes usable at p, zero-filled when new */
    size_t max;
    int fd; /* -1: anonymous memory */
};
/* Makes at least bytes (<= max, else it aborts: the callers' limits come first) usable at
 * a->p, keeping the content; a zeroed area with max set is a valid empty one. */
void spill_area_need(struct spill_area *a, size_t bytes);
/* A fixed array of n elements of size bytes (at least one), zero-filled: sets up *a (its old
 * content is not looked at) and returns a->p. */
void *spill_array(struct spill_area *a, size_t n, size_t size);
/* Unmaps and closes; the area is zeroed but for max. NULL p is fine. */
void spill_area_release(struct spill_area *a);

/* Cheap enough to call per row: every so often it reads the resident set size and, above the
 * budget, trims: every shared mapping (spill areas, mapped indexes) drops its pages, and the
 * heap gives back its free ones. A thread started by spill_init does the same every 2 ms, for
 * the loops that do not call this (the index check, the renderers of common/). */
void spill_check(void);
/* The same look at once, for callers that come by rarely (once per 64 KB written). */
void spill_look(void);

/* Sorts v[0..n) by cmp (a total order: equal elements are not expected) in pieces of at most
 * piece elements, each sorted in place, then merged through a scratch area: an element's data
 * is expected near its neighbours' in v, so a piece touches one region and the merge walks
 * each piece once. */
/* A piece length for spill_sort when each element touches about bytes_per_element bytes: a
 * quarter of the budget's worth (everything at once without a budget). */
size_t spill_piece(size_t bytes_per_element);
void spill_sort(uint32_t *v, size_t n, size_t piece, int (*cmp)(const void *, const void *, void *),
                void *ctx);

#endif
