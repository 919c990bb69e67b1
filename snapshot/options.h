/* options.h - command-line options and their environment twins, driven by one table.
 *
 * A program describes each option once, as a row: flag, environment twin, type and range,
 * default, help line, and where the value goes (an offset into the program's own struct).
 * options_parse() builds getopt_long's table from the rows, reads the environment, checks
 * each range once for the flag and its twin, and options_help() prints --help from the same
 * rows. Adding an option is adding a row (and a field for its value). */
#ifndef POLSNAP_OPTIONS_H
#define POLSNAP_OPTIONS_H

#include <stddef.h>
#include <stdio.h>

#define OPTIONS_LIST_MAX 32 /* values of one repeatable option */
#define OPTIONS_MAX 64      /* rows of one table */

enum option_type {
    OPTION_STRING, /* const char *: the argument (or the variable's value) as given */
    OPTION_FLAG,   /* int: 1 when given; the twin counts unless empty, "0" or "false" */
    OPTION_NUMBER, /* long in [min, max]: decimal */
    OPTION_LIST,   /* struct option_list: repeatable; the twin is whitespace-separated and
                      is read only when the flag is not given */
};

struct option_list {
    const char *v[OPTIONS_LIST_MAX];
    int n;
};

struct option_row {
    const char *flag;    /* "keep": the long option --keep */
    char short_name;     /* 's' for -s, or 0 */
    const char *metavar; /* "N" in "--keep N"; NULL for a flag */
    const char *env;     /* "POLSNAP_KEEP", or NULL when there is no twin */
    enum option_type type;
    long min, max;       /* OPTION_NUMBER: the range, checked for the flag and the twin */
    const char *unit;    /* OPTION_NUMBER: named after the range ("seconds"); OPTION_LIST:
                            what the items are called ("sources"); else NULL */
    const char *def;     /* the default, parsed like a given value; NULL: zero, NULL, empty */
    const char *missing; /* the usage error when the option ends up unset; NULL: optional */
    size_t offset;       /* where the value goes in the caller's struct */
    const char *help;    /* --help's text; "\n" continues on an indented line */
};

struct err;

/* Fills the struct at `out` (zeroed by the caller) from the defaults, the environment, then
 * argv (which wins). Returns 0; 1 when --help was printed on stdout; -1 with *e set
 * (ERR_INVALID: a usage error naming the flag or the variable and its value). *list_env, when
 * set, is the one copy of the list twins the values point into: free it after use, also on
 * failure. */
int options_parse(const struct option_row *rows, int nrows, const char *usage, int argc,
                  char **argv, void *out, char **list_env, struct err *e);

/* `usage`, then one line per row: "  --flag METAVAR  help (default D) [ENV]", then --help. */
void options_help(const struct option_row *rows, int nrows, const char *usage, FILE *f);

#endif
