/* mail.h - email reports, as Policy Reporter sends them from a daily CronJob: a summary (counts
 * per namespace and source) and a violations report (every fail and error result), each as an
 * HTML page with a plain-text alternative, filtered per report, sent over SMTP by libcurl.
 * bin/polsnap-report (report/main.c) runs them against the newest snapshot.
 *
 * The reports file (YAML or JSON, checked as a whole like the targets file):
 *   smtp:
 *     url: smtps://mail.example.com:465   # smtps:// (TLS from the start) or smtp:// (STARTTLS,
 *                                         # required: never in clear text)
 *     from: polsnap@example.com
 *     username: polsnap                   # optional, with passwordFile
 *     passwordFile: /etc/polsnap/smtp-password
 *     certificate: /etc/ssl/mail-ca.pem   # optional CA bundle; skipTLS: true skips checks
 *     timeout: 30
 *   reports:
 *     - name: daily-summary               # required, unique
 *       type: summary                     # summary or violations
 *       to: [ops@example.com]
 *       filter:
 *         namespaces: {include: [team-a-*], exclude: []}
 *         sources: {include: [kyverno]}
 *         clusterScope: false              # cluster-scoped results (default true)
 * The password is a secret: no message or log line holds it. */
#ifndef POLSNAP_MAIL_H
#define POLSNAP_MAIL_H

#include "buf.h"
#include "conf.h"
#include "err.h"
#include "idx.h"

#include <stddef.h>

struct mail_report {
    char *name;
    int violations; /* 0: summary */
    struct conf_strings to;
    struct conf_strings ns_include, ns_exclude, src_include, src_exclude;
    int cluster_scope;
};

struct mail_conf {
    char *url, *from, *username, *password, *certificate;
    int skip_tls;
    long timeout_s;
    struct mail_report *reports;
    size_t nreports;
};

/* Reads and checks path: 0 with *out filled (release with mail_conf_release), or -1 with e
 * naming the file and key; *out is then empty. */
int mail_conf_load(const char *path, struct mail_conf *out, struct err *e);
void mail_conf_release(struct mail_conf *c);

/* Renders report r over ix: the subject line, the HTML page and the plain text (appended to
 * html and text). Never fails. */
void mail_render(const struct idx *ix, const struct mail_report *r, char *subject, size_t n,
                 struct buf *html, struct buf *text);

/* Sends one message (multipart/alternative: text, then HTML) to r's recipients. Returns 0, or
 * -1 with e saying why (never the password). */
int mail_send(const struct mail_conf *c, const struct mail_report *r, const char *subject,
              const struct buf *html, const struct buf *text, struct err *e);

#endif
