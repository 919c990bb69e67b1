/* options.c - the option parser and --help that follow a table of option rows (options.h). */
#include "options.h"

#include "err.h"
#include "util.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#define HELP_COLUMN 27 /* where help text starts: "  --stackrox-token-file F  " */
#define HELP_WIDTH 92  /* a line longer than this puts the [ENV] bracket on its own line */

static int truthy(const char *v)
{
    return *v && strcmp(v, "0") != 0 && strcmp(v, "false") != 0;
}

static int parse_number(const char *s, long min, long max, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < min || v > max) return -1;
    *out = v;
    return 0;
}

/* One value for one row, from the flag (`from_env` 0) or its twin: the one range check. */
static int set_value(const struct option_row *r, const char *v, int from_env, void *out,
                     struct err *e)
{
    char *field = (char *)out + r->offset;
    char name[96];
    if (from_env)
        snprintf(name, sizeof name, "%s=", r->env);
    else
        snprintf(name, sizeof name, "--%s ", r->flag);
    switch (r->type) {
    case OPTION_STRING:
        *(const char **)field = v;
        return 0;
    case OPTION_FLAG:
        *(int *)field = from_env ? truthy(v) : 1;
        return 0;
    case OPTION_NUMBER: {
        long n;
        if (parse_number(v, r->min, r->max, &n) != 0) {
            return err_set(e, ERR_INVALID, "%s%s: want %ld to %ld%s%s", name, v, r->min, r->max,
                           r->unit ? " " : "", r->unit ? r->unit : "");
        }
        *(long *)field = n;
        return 0;
    }
    case OPTION_LIST: {
        struct option_list *l = (struct option_list *)field;
        if (l->n == OPTIONS_LIST_MAX)
            return err_set(e, ERR_INVALID, "at most %d %s", OPTIONS_LIST_MAX, r->unit);
        l->v[l->n++] = v;
        return 0;
    }
    }
    return 0;
}

/* Defaults, then every twin that is set except the lists' (read after argv). */
static int read_defaults_and_env(const struct option_row *rows, int nrows, void *out, struct err *e)
{
    for (int i = 0; i < nrows; i++) {
        const struct option_row *r = &rows[i];
        int rc;
        if (r->def && (rc = set_value(r, r->def, 0, out, e)) != 0) return rc;
        const char *v = r->env ? getenv(r->env) : NULL;
        if (v && r->type != OPTION_LIST && (rc = set_value(r, v, 1, out, e)) != 0) return rc;
    }
    return 0;
}

/* A list given no flag takes its twin's words; the words live in one copy, *copy. */
static int read_list_env(const struct option_row *rows, int nrows, void *out, char **copy,
                         struct err *e)
{
    size_t total = 0;
    for (int i = 0; i < nrows; i++) {
        const char *v = rows[i].env ? getenv(rows[i].env) : NULL;
        if (rows[i].type == OPTION_LIST && v) total += strlen(v) + 1;
    }
    if (total == 0) return 0;
    char *p = *copy = xmalloc(total);
    for (int i = 0; i < nrows; i++) {
        const struct option_row *r = &rows[i];
        const char *v = r->env ? getenv(r->env) : NULL;
        struct option_list *l = (struct option_list *)((char *)out + r->offset);
        if (r->type != OPTION_LIST || !v) continue;
        size_t n = strlen(v) + 1;
        memcpy(p, v, n);
        if (l->n == 0) {
            int rc;
            for (char *save = NULL, *t = strtok_r(p, " \t\n", &save); t;
                 t = strtok_r(NULL, " \t\n", &save))
                if ((rc = set_value(r, t, 1, out, e)) != 0) return rc;
        }
        p += n;
    }
    return 0;
}

static int check_required(const struct option_row *rows, int nrows, void *out, struct err *e)
{
    for (int i = 0; i < nrows; i++) {
        const char *field = (const char *)out + rows[i].offset;
        if (!rows[i].missing) continue;
        int unset = rows[i].type == OPTION_LIST ? ((const struct option_list *)field)->n == 0
                    : rows[i].type == OPTION_STRING
                        ? !*(const char *const *)field || !**(const char *const *)field
                        : 0;
        if (unset) return err_set(e, ERR_INVALID, "%s", rows[i].missing);
    }
    return 0;
}

int options_parse(const struct option_row *rows, int nrows, const char *usage, int argc,
                  char **argv, void *out, char **list_env, struct err *e)
{
    struct option longopts[OPTIONS_MAX + 2];
    char shorts[2 * OPTIONS_MAX + 2], *s = shorts;
    int rc, c, n = nrows;
    *list_env = NULL;
    if (n > OPTIONS_MAX) return err_set(e, ERR_INTERNAL, "more than %d options", OPTIONS_MAX);
    if ((rc = read_defaults_and_env(rows, n, out, e)) != 0) return rc;
    for (int i = 0; i < n; i++) {
        longopts[i] =
            (struct option){rows[i].flag, rows[i].metavar ? required_argument : no_argument, NULL,
                            rows[i].short_name ? rows[i].short_name : 256 + i};
        if (rows[i].short_name) {
            *s++ = rows[i].short_name;
            if (rows[i].metavar) *s++ = ':';
        }
    }
    *s++ = 'h';
    *s = '\0';
    longopts[n] = (struct option){"help", no_argument, NULL, 'h'};
    longopts[n + 1] = (struct option){NULL, 0, NULL, 0};
    opterr = 0;
    while ((c = getopt_long(argc, argv, shorts, longopts, NULL)) != -1) {
        int row = -1;
        for (int i = 0; i < n && row < 0; i++)
            if (longopts[i].val == c) row = i;
        if (c == 'h' && row < 0) {
            options_help(rows, n, usage, stdout);
            return 1;
        }
        if (row < 0)
            return err_set(e, ERR_INVALID, "unknown or incomplete option %s", argv[optind - 1]);
        if ((rc = set_value(&rows[row], optarg, 0, out, e)) != 0) return rc;
    }
    if (optind < argc) return err_set(e, ERR_INVALID, "unexpected argument %s", argv[optind]);
    if ((rc = read_list_env(rows, n, out, list_env, e)) != 0) return rc;
    return check_required(rows, n, out, e);
}

/* Prints text, continuing each "\n" on a line indented to the help column. */
static int print_indented(const char *text, FILE *f)
{
    int col = HELP_COLUMN;
    for (const char *p = text; *p; p++) {
        if (*p == '\n') {
            fprintf(f, "\n%*s", HELP_COLUMN, "");
            col = HELP_COLUMN;
        } else {
            fputc(*p, f);
            col++;
        }
    }
    return col;
}

void options_help(const struct option_row *rows, int nrows, const char *usage, FILE *f)
{
    fputs(usage, f);
    for (int i = 0; i < nrows; i++) {
        const struct option_row *r = &rows[i];
        char head[64], bracket[96] = "";
        snprintf(head, sizeof head, "--%s%s%s", r->flag, r->metavar ? " " : "",
                 r->metavar ? r->metavar : "");
        fprintf(f, "  %-*s ", HELP_COLUMN - 3, head);
        int col = print_indented(r->help, f);
        if (r->def) col += fprintf(f, " (default %s)", r->def);
        if (r->env)
            snprintf(bracket, sizeof bracket, "[%s%s]", r->env,
                     r->type == OPTION_FLAG   ? "=1"
                     : r->type == OPTION_LIST ? ", whitespace-separated"
                                              : "");
        if (*bracket && col + 1 + (int)strlen(bracket) > HELP_WIDTH)
            fprintf(f, "\n%*s%s\n", HELP_COLUMN, "", bracket);
        else
            fprintf(f, "%s%s\n", *bracket ? " " : "", bracket);
    }
    fprintf(f, "  %-*s this text\n", HELP_COLUMN - 3, "--help");
}
