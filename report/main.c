/* main.c - polsnap-report: the email reports (snapshot/mail.h) of the newest snapshot, for a
 * daily cron line. Exit 0 when every report was sent, 1 when one failed (the others are still
 * sent), 2 for a usage or configuration error. */
#include "idx.h"
#include "mail.h"

#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: polsnap-report --config FILE --data DIR [--report NAME...]\n"
    "\n"
    "Sends the email reports of FILE (summary and violations reports, see the README) about\n"
    "the newest snapshot in DIR (DIR/current).\n"
    "\n"
    "  --config FILE   the reports file, YAML or JSON [POLSNAP_REPORTS]\n"
    "  --data DIR      the data directory the snapshot job writes [POLSNAP_DATA]\n"
    "  --report NAME   send only this report (repeatable)\n"
    "  --help          this text\n";

static int die_usage(const char *msg)
{
    fprintf(stderr, "polsnap-report: %s\n(see polsnap-report --help)\n", msg);
    return 2;
}

static int selected(const char *name, char **only, int nonly)
{
    for (int i = 0; i < nonly; i++)
        if (!strcmp(only[i], name)) return 1;
    return nonly == 0;
}

static int send_all(const struct mail_conf *c, const struct idx *ix, char **only, int nonly)
{
    int failed = 0;
    for (size_t i = 0; i < c->nreports; i++) {
        const struct mail_report *r = &c->reports[i];
        if (!selected(r->name, only, nonly)) continue;
        char subject[256];
        struct buf html = BUF_INIT(SIZE_MAX / 2), text = BUF_INIT(SIZE_MAX / 2);
        mail_render(ix, r, subject, sizeof subject, &html, &text);
        struct err e = {0};
        if (mail_send(c, r, subject, &html, &text, &e) != 0) {
            fprintf(stderr, "polsnap-report: %s\n", e.msg);
            failed = 1;
        } else {
            fprintf(stderr, "polsnap-report: report %s sent to %zu recipients\n", r->name, r->to.n);
        }
        buf_release(&html);
        buf_release(&text);
    }
    return failed;
}

int main(int argc, char **argv)
{
    const char *config = getenv("POLSNAP_REPORTS"), *data = getenv("POLSNAP_DATA");
    char *only[64];
    int nonly = 0, c;
    static const struct option longopts[] = {{"config", required_argument, NULL, 'c'},
                                             {"data", required_argument, NULL, 'd'},
                                             {"report", required_argument, NULL, 'r'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    opterr = 0;
    while ((c = getopt_long(argc, argv, "c:d:r:h", longopts, NULL)) != -1) {
        if (c == 'c')
            config = optarg;
        else if (c == 'd')
            data = optarg;
        else if (c == 'r' && nonly < 64)
            only[nonly++] = optarg;
        else if (c == 'h')
            return fputs(usage, stdout), 0;
        else
            return die_usage("unknown or incomplete option");
    }
    if (optind < argc) return die_usage("unexpected argument");
    if (!config || !*config) return die_usage("no --config file given");
    if (!data || !*data) return die_usage("no --data directory given");
    struct mail_conf conf;
    struct err e = {0};
    if (mail_conf_load(config, &conf, &e) != 0) return die_usage(e.msg);
    for (int i = 0; i < nonly; i++) {
        int known = 0;
        for (size_t k = 0; k < conf.nreports; k++)
            known |= !strcmp(conf.reports[k].name, only[i]);
        if (!known) {
            mail_conf_release(&conf);
            return die_usage("--report names a report the file does not hold");
        }
    }
    char path[PATH_MAX], ierr[IDX_ERR_MAX];
    snprintf(path, sizeof path, "%s/current/%s", data, IDX_FILE);
    struct idx ix = {0};
    int rc = 1;
    if (idx_open(&ix, path, ierr) != 0)
        fprintf(stderr, "polsnap-report: no snapshot to report on: %s\n", ierr);
    else
        rc = send_all(&conf, &ix, only, nonly);
    idx_close(&ix);
    mail_conf_release(&conf);
    return rc;
}
