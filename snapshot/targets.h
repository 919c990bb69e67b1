/* targets.h - the notification targets file (--targets FILE, YAML or JSON): parsed and checked
 * as a whole before anything is published, so a typo fails the run instead of silencing a
 * target.
 *
 *   targets:
 *     - name: ops                # required, unique, 1-64 bytes
 *       type: webhook            # webhook slack teams discord googlechat loki alertmanager
 *       url: https://...         # or urlFile: a file holding the URL (a secret)
 *       headers: {X-Token: abc}  # sent with every request (secrets too)
 *       minimumSeverity: high    # info low medium high critical; absent: everything
 *       sources: [kyverno]       # absent: every source
 *       filter:                  # include/exclude lists of patterns, '*' any run of bytes
 *         namespaces: {include: [team-a-*], exclude: [team-a-test]}
 *         policies: {exclude: [disallow-latest-tag]}
 *         kinds: {include: [Pod, Deployment]}
 *       skipExistingOnStartup: true   # default true
 *       customFields: {cluster: edge-1}
 *       certificate: /etc/ssl/receiver-ca.pem   # PEM CA bundle to trust
 *       skipTLS: false
 *       timeout: 10              # seconds per request attempt, 1-300
 *
 * Unknown keys and bad values fail with "FILE: targets[2].filter.kinds.include[0]: reason".
 * A URL and header values are secrets: no message, log line, answer or metric ever holds one. */
#ifndef POLSNAP_TARGETS_H
#define POLSNAP_TARGETS_H

#include "conf.h"
#include "err.h"

#include <stddef.h>

/* Keep in sync with target_type_names in targets.c. */
enum target_type {
    TT_WEBHOOK,
    TT_SLACK,
    TT_TEAMS,
    TT_DISCORD,
    TT_GOOGLECHAT,
    TT_LOKI,
    TT_ALERTMANAGER,
    TT_NTYPES
};
extern const char *const target_type_names[TT_NTYPES];

struct target_filter {
    struct conf_strings include, exclude; /* patterns; empty include: everything */
};

struct target_conf {
    char *name;
    enum target_type type;
    char *url;                   /* secret */
    struct conf_strings headers; /* "Name: value" lines; the values are secrets */
    int min_severity;            /* enum idx_severity; 0: none */
    struct conf_strings sources; /* n == 0: every source */
    struct target_filter namespaces, policies, kinds;
    int skip_existing; /* skipExistingOnStartup */
    struct conf_strings custom_keys, custom_values;
    char *certificate; /* CA file, or NULL */
    int skip_tls;
    long timeout_s;
};

struct targets {
    struct target_conf *v; /* sorted by name */
    size_t n;
};

/* Reads and checks path. Returns 0 with *out filled (release with targets_release), or -1 with
 * e filled (ERR_INVALID or ERR_IO, the message naming the file and the key) and *out empty. */
int targets_load(const char *path, struct targets *out, struct err *e);
void targets_release(struct targets *t);

/* 1 when target t takes a failing row with these fields (NULL: blank): severity at least its
 * minimum, a source it lists, and namespace, policy and kind through its filter (a blank value
 * is matched as "", so only a "*" pattern includes a cluster-scoped row's namespace). */
int target_accepts(const struct target_conf *t, const char *namespace, const char *kind,
                   const char *policy, const char *source, int severity);

#endif
