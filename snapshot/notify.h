/* notify.h - sending each target the findings that are new in a snapshot, exactly once.
 *
 * One run goes through four steps, in this order:
 *   1. notify_describe, before the index is written: each target's public face (name, minimum
 *      severity, sources, skipExistingOnStartup) and its delivery totals so far go into the
 *      rowset, for /v1/targets and the polsnap_target_* metrics of the new snapshot;
 *   2. notify_on_resolved, as changes.c meets each resolved key in the previous index;
 *   3. notify_enqueue, once the new index is written and before DIR/current is swapped: the
 *      findings each target accepts are cut into messages of its format's size and added to
 *      what the target is owed, DIR/notify/<target>.json (written to a temporary file,
 *      fsynced, renamed);
 *   4. notify_send, after the swap: every target is sent what it is owed, message by message;
 *      each delivered message leaves the file at once (rewritten the same way).
 * So a crash after the swap loses nothing: the next run sends what is still owed. A crash
 * before the swap leaves messages of a snapshot that was never published; the next run drops
 * every message whose snapshot id is newer than DIR/current's, so nothing is sent for a
 * snapshot nobody saw, and its findings, still new against DIR/current, are queued again once.
 * A message cut off in flight is sent again by the next run with the same Idempotency-Key.
 *
 * A target's first run (no file yet) with skipExistingOnStartup true records the current
 * findings as known and sends nothing; with false it is sent every failing finding it accepts.
 * Failures never fail the run: they are logged (never with a URL or a header) and counted.
 * At most NOTIFY_MAX_OWED messages are kept per target; older ones are dropped with a log
 * line. */
#ifndef POLSNAP_NOTIFY_H
#define POLSNAP_NOTIFY_H

#include "buf.h"
#include "idx.h"
#include "rows.h"
#include "targets.h"

#include <stddef.h>

#define NOTIFY_MAX_OWED 1000

struct notify {
    const struct targets *targets;
    const char *data_dir;
    char published[64];  /* DIR/current's snapshot id when the run started; "" for none */
    struct buf resolved; /* rows of resolved keys (summary representation), comma-separated */
};

/* Sets up n for one run (nothing is read or written yet; release is then safe). targets may
 * hold none. */
void notify_init(struct notify *n, const struct targets *targets, const char *data_dir);
void notify_release(struct notify *n);

/* Step 1, with DIR locked: notes DIR/current's snapshot and adds every target to rs
 * (rowset_add_target) with its totals from DIR/notify. */
void notify_describe(struct notify *n, struct rowset *rs);
/* Step 2, a changes_resolved_fn with the struct notify as ctx. */
void notify_on_resolved(const struct idx *prev, uint32_t row, void *ctx);
/* Step 3, publish_opts.before_swap with the struct notify as ctx: ix is the new index. */
void notify_enqueue(const struct idx *ix, void *ctx);
/* Step 4. Returns the number of targets that were not sent everything they are owed. */
int notify_send(struct notify *n);

#endif
