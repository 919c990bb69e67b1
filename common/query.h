/* query.h - the query string of an API request: parsed and validated once, then evaluated
 * against an index into the set and order of matching rows.
 *
 * Parsing (spec sections 3 and 7) turns the raw QUERY_STRING into struct query: percent-
 * decoding ('+' is a space), UTF-8 validation, size bounds, the filter parameters (plural and
 * singular spellings), status/severity enum checks, search, query= (the StackRox search
 * language, regexes compiled here, once per request), contains= (spec section 11), both
 * pagination styles and pretty.
 * Every rejection is a struct err (ERR_INVALID: 400, ERR_TOO_LONG: 414) whose message names
 * the offending part.
 *
 * Evaluation never scans rows: each filter value is a range of an index dictionary whose
 * postings are OR-ed into a bitmap; parameters are AND-ed. */
#ifndef POLSNAP_QUERY_H
#define POLSNAP_QUERY_H

#include "bitmap.h"
#include "err.h"
#include "idx.h"

#include <regex.h>
#include <stddef.h>
#include <stdint.h>

#define QUERY_MAX_BYTES 8192   /* longer raw query strings: 414 */
#define QUERY_MAX_VALUES 256   /* values over all parameters: 400 past it */
#define QUERY_MAX_REGEX 256    /* bytes of one r/ pattern: 400 past it */
#define QUERY_LIMIT_MAX 1000   /* pagination.limit range is 1..1000 */
#define QUERY_MAX_CONTAINS 256 /* bytes of contains=: 400 past it */

/* Filterable fields: the index's dictionary fields (enum idx_field) NAMESPACE..REPORT. The
 * plain parameters map: namespaces->NAMESPACE, kinds->KIND, resources->NAME,
 * policies->POLICY, rule->RULE, categories->CATEGORY, severities->SEVERITY, status->STATUS,
 * sources->SOURCE. query= fields: Namespace Kind Resource Policy Rule Category Severity
 * Status Source Message Report. */
struct query_values {
    const char **v; /* decoded, NUL-terminated, owned by the query */
    size_t n;
};

enum query_match { QM_PREFIX, QM_EXACT, QM_REGEX, QM_ANY };
struct query_value {
    enum query_match how;
    int negate;       /* "!v": rows whose field does NOT match (null fields included) */
    const char *text; /* for QM_PREFIX/QM_EXACT (without quotes or '!') */
    regex_t re;       /* for QM_REGEX: REG_EXTENDED|REG_ICASE|REG_NOSUB */
};
/* One "Field:v1,v2" term of query=; the term matches when any of its values matches. */
struct query_term {
    int field; /* enum idx_field < IDX_F_ID */
    struct query_value *values;
    size_t nvalues;
};

/* Policy Reporter 3's parameters (spec section 12). labels=key:value: rows whose report has
 * that label (exact); exclude=source:kind: drops rows whose source and kind both match
 * (case-insensitive). Both trimmed of spaces and tabs; a labels value that is not exactly
 * key:value, or an exclude value without ':', is ignored (as Policy Reporter does). */
struct query_label {
    const char *key, *value;
};
struct query_exclude {
    const char *source, *kind;
};
#define QUERY_SORT_BY_MAX 16 /* sortBy keys per request: 400 past it */

/* Sort fields beyond enum idx_field: */
#define QUERY_SORT_DEFAULT (-1)
#define QUERY_SORT_TIMESTAMP IDX_SORT_TIMESTAMP

struct query {
    struct query_values filter[IDX_F_ID]; /* per field; n == 0: parameter absent */
    const char *search;                   /* NULL when absent */
    const char *contains;                 /* NULL when absent or empty */
    struct query_term *terms;             /* query=: AND of terms */
    size_t nterms;
    int pretty;

    /* Reference style: page (1-based) and offset (page size) apply when both >= 1. */
    uint64_t page, page_size;
    int desc; /* direction=desc */
    /* StackRox style. */
    int has_limit, has_offset;
    uint64_t limit, offset;
    int sort_field; /* QUERY_SORT_DEFAULT, an enum idx_field, or QUERY_SORT_TIMESTAMP */
    int reversed;
    /* sortBy (reference style, with direction): keys in order, each an enum idx_field (the
     * string fields, IDX_F_RES_UID included) or QUERY_SORT_TIMESTAMP. */
    int sort_by[QUERY_SORT_BY_MAX];
    size_t nsort_by;

    struct query_label *labels; /* AND-ed */
    size_t nlabels;
    struct query_exclude *excludes; /* a row matching any is dropped */
    size_t nexcludes;

    char *arena; /* every string above points into it */
};

/* Parses qs (QUERY_STRING without '?', may be NULL or ""). Returns 0 with *q filled (release
 * with query_release), or -1 with *err set (ERR_INVALID or ERR_TOO_LONG) and *q released. */
int query_parse(const char *qs, struct query *q, struct err *err);
void query_release(struct query *q);

/* Sets in *out (bitmap of ix->h->nrows bits, initialised by the caller; its previous content
 * is replaced) exactly the rows in [lo, hi) that match every filter, search, contains and
 * query= term of q. contains walks the dictionaries of namespace, kind, name, policy, rule and
 * message (each distinct value once), never the rows. */
void query_select(const struct idx *ix, const struct query *q, uint32_t lo, uint32_t hi,
                  struct bitmap *out);

/* Sets in *reports (a bitmap of ix->h->nreports bits, initialised by the caller; its content
 * is replaced) the reports holding every label of q: all reports when q has none. */
void query_label_reports(const struct idx *ix, const struct query *q, struct bitmap *reports);

/* The rows [first, first+count) of the selection sel in the requested order (sortOption
 * field and reversed, or sortBy keys, then direction; the default order is row order),
 * written to out (room for count ids); returns how many were written. For no key or one with
 * a precomputed order it walks the bitmap or that order: the cost is the position of the last
 * row returned, never a sort. Several sortBy keys (or resource_uid) sort the selection: a
 * stable radix pass per key. */
size_t query_page(const struct idx *ix, const struct query *q, const struct bitmap *sel,
                  size_t first, size_t count, uint32_t *out);

/* The [first, first+count) window of n ordered items that pagination selects. */
void query_window(const struct query *q, size_t n, size_t *first, size_t *count);

#endif
