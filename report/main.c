/* main.c - polsnap-report: the email reports (snapshot/mail.h) of the newest snapshot, for a
 * daily cron line. Exit 0 when every report was sent, 1 when one failed (the others are still
 * sent), 2 for a usage or configuration error. Its options follow one table (options.h). */
#include "idx.h"
#include "mail.h"
#include "options.h"
#include "util.h"

#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: polsnap-report --config FILE --data DIR [--report NAME...]\n"
    "\n"
    "Sends the email reports of FILE (summary and violations reports, see the README) about\n"
    "the newest snapshot in DIR (DIR/current). Exit 0 when every report was sent, 1 when one\n"
    "was not, 2 for a usage or configuration error.\n"
    "\n"
    "Options (environment twin in brackets):\n";

struct args {
    const char *config, *data;
    struct option_list only;
};

#define AT(field) offsetof(struct args, field)

static const struct option_row options[] = {
    {.flag = "config",
     .short_name = 'c',
     .metavar = "FILE",
     .env = "POLSNAP_REPORTS",
     .type = OPTION_STRING,
     .missing = "no --config file given",
     .offset = AT(config),
     .help = "the reports file, YAML or JSON"},
    {.flag = "data",
     .short_name = 'd',
     .metavar = "DIR",
     .env = "POLSNAP_DATA",
     .type = OPTION_STRING,
     .missing = "no --data directory given",
     .offset = AT(data),
     .help = "the data directory the snapshot job writes"},
    {.flag = "report",
     .metavar = "NAME",
     .type = OPTION_LIST,
     .unit = "reports",
     .offset = AT(only),
     .help = "send only this report (repeatable)"},
};

static int die_usage(const char *msg)
{
    fprintf(stderr, "polsnap-report: %s\n(see polsnap-report --help)\n", msg);
    return 2;
}

static int selected(const char *name, const struct option_list *only)
{
    for (int i = 0; i < only->n; i++)
        if (!strcmp(only->v[i], name)) return 1;
    return only->n == 0;
}

static int send_all(const struct mail_conf *c, const struct idx *ix, const struct option_list *only)
{
    int failed = 0;
    for (size_t i = 0; i < c->nreports; i++) {
        const struct mail_report *r = &c->reports[i];
        if (!selected(r->name, only)) continue;
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

/* A --report that names no report of the file is a usage error. */
static int check_selected(const struct mail_conf *c, const struct option_list *only)
{
    for (int i = 0; i < only->n; i++) {
        int known = 0;
        for (size_t k = 0; k < c->nreports; k++)
            known |= !strcmp(c->reports[k].name, only->v[i]);
        if (!known) return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct args a = {0};
    struct err e = {0};
    char *list_env = NULL;
    int rc = options_parse(options, (int)ARRAY_LEN(options), usage, argc, argv, &a, &list_env, &e);
    free(list_env); /* --report has no twin: nothing points into it */
    if (rc) return rc > 0 ? 0 : die_usage(e.msg);
    struct mail_conf conf;
    if (mail_conf_load(a.config, &conf, &e) != 0) return die_usage(e.msg);
    if (check_selected(&conf, &a.only) != 0) {
        mail_conf_release(&conf);
        return die_usage("--report names a report the file does not hold");
    }
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/current/%s", a.data, IDX_FILE);
    struct idx ix = {0};
    rc = 1;
    if (idx_open(&ix, path, &e) != 0)
        fprintf(stderr, "polsnap-report: no snapshot to report on: %s\n", e.msg);
    else
        rc = send_all(&conf, &ix, &a.only);
    idx_close(&ix);
    mail_conf_release(&conf);
    return rc;
}
