/* source.h - where rows come from: one small interface, one module per kind of source.
 *
 * A source collects everything it can reach into the rowset and returns 0, or returns -1 with
 * *e set: a code (ERR_INVALID for bad input or configuration, ERR_UPSTREAM for a server that
 * failed or refused, ERR_IO for the file system) and a message an operator understands
 * ("kubernetes: 403 Forbidden listing policyreports.wgpolicyk8s.io: the service account needs list
 * on ..."). On -1 the snapshot is not published (the last good one stays served), so a source may
 * leave partial rows. Every source records its own health with rowset_source_status(). */
#ifndef POLSNAP_SOURCE_H
#define POLSNAP_SOURCE_H

#include "err.h"
#include "rows.h"

#include <stddef.h>

/* Options from the command line (spec section 8) and their POLSNAP_* environment twins. */
struct source_opts {
    int skip_invalid;                /* --skip-invalid: skip and count bad documents */
    const char *kube_context;        /* --context */
    const char *stackrox_token_file; /* --stackrox-token-file (else $ROX_API_TOKEN) */
    const char *stackrox_ca;         /* --stackrox-ca */
    int stackrox_insecure;           /* --stackrox-insecure */
    const char *stackrox_query;      /* --stackrox-query */
    long timeout_seconds;            /* --timeout: per HTTP request, default 30 */
};

struct source_kind {
    const char *prefix; /* "files", "kubernetes", "stackrox", "polsnap" */
    /* arg is what follows "prefix:" (NULL when there is no colon); NULL for "polsnap", whose
     * edges main.c hands to edges.h all at once */
    int (*collect)(const char *arg, const struct source_opts *opts, struct rowset *rs,
                   struct err *e);
};

int source_files_collect(const char *arg, const struct source_opts *opts, struct rowset *rs,
                         struct err *e);
int source_kube_collect(const char *arg, const struct source_opts *opts, struct rowset *rs,
                        struct err *e);
int source_stackrox_collect(const char *arg, const struct source_opts *opts, struct rowset *rs,
                            struct err *e);

/* The table of kinds, NULL-terminated; main.c looks the --source prefix up in it. */
extern const struct source_kind source_kinds[];

#endif
