/* query.c - parses an API request's query string and evaluates it against the index. */
#include "query.h"

#include "sort_orders.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- error messages ------------------------------------------------------------------- */

/* Error messages quote what the client sent, but never more than QUOTE_MAX bytes of it, and
 * only as valid UTF-8 without control characters (other bytes become '?'), so a message is
 * always short, printable and safe to put in JSON or a log. */
#define QUOTE_MAX 80
struct quoted {
    char s[QUOTE_MAX + 8];
};
static struct quoted quote_n(const char *s, size_t n)
{
    struct quoted q;
    const unsigned char *u = (const unsigned char *)s;
    size_t o = 0, i = 0;
    q.s[o++] = '"';
    while (i < n) {
        size_t k = utf8_seq(u + i, n - i);
        if (o - 1 + (k ? k : 1) > QUOTE_MAX) {
            memcpy(q.s + o, "...", 3);
            o += 3;
            break;
        }
        if (k == 0 || u[i] < 0x20 || u[i] == 0x7f) {
            q.s[o++] = '?';
            i++;
        } else {
            memcpy(q.s + o, s + i, k);
            o += k;
            i += k;
        }
    }
    q.s[o++] = '"';
    q.s[o] = '\0';
    return q;
}
static struct quoted quote(const char *s)
{
    return quote_n(s, strlen(s));
}

/* ---- the parameters ------------------------------------------------------------------- */

enum param {
    P_FILTER,
    P_SEARCH,
    P_CONTAINS,
    P_QUERY,
    P_PRETTY,
    P_PAGE,
    P_OFFSET,
    P_DIRECTION,
    P_LIMIT,
    P_POFFSET,
    P_SORT_FIELD,
    P_REVERSED,
    P_LABELS,
    P_EXCLUDE,
    P_SORT_BY,
};
/* Parameters that may be given more than once. */
#define REPEATABLE                                                                                 \
    ((1u << P_FILTER) | (1u << P_PRETTY) | (1u << P_LABELS) | (1u << P_EXCLUDE) | (1u << P_SORT_BY))

/* Names are exact (case-sensitive). The singular filter spellings are the reference's own
 * examples; `rule` is rule-status-count's parameter and filters everywhere else too. */
static const struct param_def {
    const char *name;
    enum param kind;
    int field; /* P_FILTER only */
} params[] = {
    {"sources", P_FILTER, IDX_F_SOURCE},
    {"source", P_FILTER, IDX_F_SOURCE},
    {"categories", P_FILTER, IDX_F_CATEGORY},
    {"category", P_FILTER, IDX_F_CATEGORY},
    {"policies", P_FILTER, IDX_F_POLICY},
    {"policy", P_FILTER, IDX_F_POLICY},
    {"namespaces", P_FILTER, IDX_F_NAMESPACE},
    {"namespace", P_FILTER, IDX_F_NAMESPACE},
    {"kinds", P_FILTER, IDX_F_KIND},
    {"kind", P_FILTER, IDX_F_KIND},
    {"resources", P_FILTER, IDX_F_NAME},
    {"resource", P_FILTER, IDX_F_NAME},
    {"status", P_FILTER, IDX_F_STATUS},
    {"severities", P_FILTER, IDX_F_SEVERITY},
    {"severity", P_FILTER, IDX_F_SEVERITY},
    {"rule", P_FILTER, IDX_F_RULE},
    {"rules", P_FILTER, IDX_F_RULE},
    {"search", P_SEARCH, 0},
    {"contains", P_CONTAINS, 0},
    {"query", P_QUERY, 0},
    {"pretty", P_PRETTY, 0},
    {"page", P_PAGE, 0},
    {"offset", P_OFFSET, 0},
    {"direction", P_DIRECTION, 0},
    {"pagination.limit", P_LIMIT, 0},
    {"pagination.offset", P_POFFSET, 0},
    {"pagination.sortOption.field", P_SORT_FIELD, 0},
    {"pagination.sortOption.reversed", P_REVERSED, 0},
    {"labels", P_LABELS, 0},
    {"exclude", P_EXCLUDE, 0},
    {"sortBy", P_SORT_BY, 0},
};

/* query= field names, also the sort fields (with Timestamp). Matched case-insensitively. */
static const struct {
    const char *name;
    int field;
} query_fields[] = {
    {"Namespace", IDX_F_NAMESPACE}, {"Kind", IDX_F_KIND},     {"Resource", IDX_F_NAME},
    {"Policy", IDX_F_POLICY},       {"Rule", IDX_F_RULE},     {"Category", IDX_F_CATEGORY},
    {"Severity", IDX_F_SEVERITY},   {"Status", IDX_F_STATUS}, {"Source", IDX_F_SOURCE},
    {"Message", IDX_F_MESSAGE},     {"Report", IDX_F_REPORT}, {"Change", IDX_F_CHANGE},
};
#define SORT_FIELDS_ALLOWED                                                                        \
    "Namespace, Kind, Resource, Policy, Rule, Category, Severity, Status, Source, Message, "       \
    "Report, Change, Timestamp"
/* sortBy also takes Policy Reporter's column names (matched case-insensitively, like the
 * query fields). */
static const struct {
    const char *name;
    int field;
} sort_by_columns[] = {
    {"resource_namespace", IDX_F_NAMESPACE},
    {"resource_name", IDX_F_NAME},
    {"resource_kind", IDX_F_KIND},
    {"resource_uid", IDX_F_RES_UID},
    {"policy", IDX_F_POLICY},
    {"rule", IDX_F_RULE},
    {"message", IDX_F_MESSAGE},
    {"severity", IDX_F_SEVERITY},
    {"status", IDX_F_STATUS},
    {"source", IDX_F_SOURCE},
    {"category", IDX_F_CATEGORY},
};
#define SORT_BY_ALLOWED                                                                            \
    "resource_namespace, resource_name, resource_kind, resource_uid, policy, rule, message, "      \
    "severity, status, source, category, " SORT_FIELDS_ALLOWED

/* Parser state besides *q. The arena is sized so that every decoded string fits (see
 * query_parse); arena_take checks it anyway. */
struct parser {
    struct query *q;
    char *arena_end, *next;
    size_t nvalues; /* filter and query= values so far, against QUERY_MAX_VALUES */
    unsigned seen;  /* bit per single-valued enum param given */
    struct err *err;
};

static char *arena_take(struct parser *p, size_t n)
{
    if (n > (size_t)(p->arena_end - p->next)) abort(); /* the sizing argument was wrong */
    char *s = p->next;
    p->next += n;
    return s;
}

/* Decodes s[0..n) ('+' is a space, %XX a byte) into a NUL-terminated arena string *out; the
 * result is valid UTF-8 without NUL bytes. piece/piecelen is the whole raw parameter, quoted
 * in errors. Returns 0, or -1 with p->err set (*out then holds garbage). */
static int decode(struct parser *p, const char *s, size_t n, const char *piece, size_t piecelen,
                  char **out)
{
    char *d = *out = arena_take(p, n + 1);
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '+') {
            d[o++] = ' ';
        } else if (s[i] == '%') {
            if (i + 2 >= n || hex_value(s[i + 1]) < 0 || hex_value(s[i + 2]) < 0)
                return err_set(p->err, ERR_INVALID, "invalid percent-encoding in %s",
                               quote_n(piece, piecelen).s);
            d[o++] = (char)(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
            i += 2;
        } else {
            d[o++] = s[i];
        }
    }
    d[o] = '\0';
    for (size_t i = 0; i < o;) {
        if (d[i] == '\0')
            return err_set(p->err, ERR_INVALID, "NUL byte in %s", quote_n(piece, piecelen).s);
        size_t k = utf8_seq((const unsigned char *)d + i, o - i);
        if (!k)
            return err_set(p->err, ERR_INVALID, "invalid UTF-8 in %s", quote_n(piece, piecelen).s);
        i += k;
    }
    return 0;
}

static int count_value(struct parser *p)
{
    if (++p->nvalues > QUERY_MAX_VALUES)
        return err_set(p->err, ERR_INVALID, "too many values: at most %d per request",
                       QUERY_MAX_VALUES);
    return 0;
}

/* Plain digits, saturating at UINT64_MAX (any such value is past every end). */
static int parse_uint(const char *s, uint64_t *out)
{
    if (!*s) return -1;
    uint64_t v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9') return -1;
        unsigned d = (unsigned)(*s - '0');
        v = v > (UINT64_MAX - d) / 10 ? UINT64_MAX : v * 10 + d;
    }
    *out = v;
    return 0;
}

static int is_one_of(const char *v, const char *const *names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (names[i] && ascii_casecmp(v, names[i]) == 0) return 1;
    return 0;
}

static int add_filter(struct parser *p, int field, const char *v)
{
    if (!*v) return 0; /* "status=": a form's empty field, not a filter on null */
    if (field == IDX_F_STATUS && !is_one_of(v, idx_status_names, IDX_NSTATUS))
        return err_set(p->err, ERR_INVALID,
                       "invalid status %s: allowed values are pass, fail, warn, error, skip",
                       quote(v).s);
    if (field == IDX_F_SEVERITY && !is_one_of(v, idx_severity_names, IDX_NSEVERITY))
        return err_set(p->err, ERR_INVALID,
                       "invalid severity %s: allowed values are critical, high, medium, low, info",
                       quote(v).s);
    int rc = count_value(p);
    if (rc) return rc;
    struct query_values *fv = &p->q->filter[field];
    fv->v = xreallocarray(fv->v, fv->n + 1, sizeof *fv->v);
    fv->v[fv->n++] = v;
    return 0;
}

/* ---- query= ---------------------------------------------------------------------------- */

static int is_space(char c)
{
    return c == ' ' || c == '\t';
}

/* Trims spaces around s[*b, *e). */
static void trim(const char *s, size_t *b, size_t *e)
{
    while (*b < *e && is_space(s[*b]))
        (*b)++;
    while (*e > *b && is_space(s[*e - 1]))
        (*e)--;
}

/* Parses one value v[0..n) (trimmed, non-empty) of term into a new value of t. */
static int parse_value(struct parser *p, struct query_term *t, const char *v, size_t n,
                       const char *term)
{
    struct query_value qv = {.how = QM_PREFIX};
    if (v[0] == '!') {
        qv.negate = 1;
        v++;
        n--;
    }
    if (n == 0)
        return err_set(p->err, ERR_INVALID, "query: '!' without a value in term %s", quote(term).s);
    if (v[0] == '"') {
        if (n < 2 || v[n - 1] != '"')
            return err_set(p->err, ERR_INVALID, "query: unterminated quote in term %s",
                           quote(term).s);
        if (n == 2)
            return err_set(p->err, ERR_INVALID, "query: empty quoted value in term %s",
                           quote(term).s);
        qv.how = QM_EXACT;
        v++;
        n -= 2;
    } else if (n == 1 && v[0] == '*') {
        qv.how = QM_ANY;
    } else if (n >= 2 && v[0] == 'r' && v[1] == '/') {
        qv.how = QM_REGEX;
        v += 2;
        n -= 2;
        if (n == 0)
            return err_set(p->err, ERR_INVALID, "query: empty regex in term %s", quote(term).s);
        if (n > QUERY_MAX_REGEX)
            return err_set(p->err, ERR_INVALID, "query: regex longer than %d bytes in term %s",
                           QUERY_MAX_REGEX, quote(term).s);
        /* glibc gives ERE back-references, whose matching can take exponential time. */
        for (size_t i = 0; i + 1 < n; i++) {
            if (v[i] != '\\') continue;
            if (v[i + 1] >= '1' && v[i + 1] <= '9')
                return err_set(p->err, ERR_INVALID,
                               "query: back-references are not supported in term %s",
                               quote(term).s);
            i++;
        }
    }
    int rc = count_value(p);
    if (rc) return rc;
    char *text = arena_take(p, n + 1);
    memcpy(text, v, n);
    text[n] = '\0';
    qv.text = text;
    if (qv.how == QM_REGEX) {
        int e = regcomp(&qv.re, text, REG_EXTENDED | REG_ICASE | REG_NOSUB);
        if (e) {
            char why[128];
            regerror(e, &qv.re, why, sizeof why);
            return err_set(p->err, ERR_INVALID, "query: bad regex %s (%s) in term %s",
                           quote(text).s, why, quote(term).s);
        }
    }
    t->values = xreallocarray(t->values, t->nvalues + 1, sizeof *t->values);
    t->values[t->nvalues++] = qv;
    return 0;
}

/* One "Field:v1,v2" term, s[b, e) trimmed and non-empty. */
static int parse_term(struct parser *p, const char *s, size_t b, size_t e)
{
    char *term = arena_take(p, e - b + 1); /* the term as written, for messages */
    memcpy(term, s + b, e - b);
    term[e - b] = '\0';
    const char *colon = strchr(term, ':');
    if (!colon) return err_set(p->err, ERR_INVALID, "query: missing ':' in term %s", quote(term).s);
    size_t fb = 0, fe = (size_t)(colon - term);
    trim(term, &fb, &fe);
    int field = -1;
    for (size_t i = 0; i < ARRAY_LEN(query_fields); i++) {
        if (strlen(query_fields[i].name) == fe - fb &&
            ascii_has_prefix_nc(term + fb, query_fields[i].name, fe - fb))
            field = query_fields[i].field;
    }
    if (field < 0)
        return err_set(p->err, ERR_INVALID, "query: unknown field %s in term %s",
                       quote_n(term + fb, fe - fb).s, quote(term).s);

    struct query *q = p->q;
    q->terms = xreallocarray(q->terms, q->nterms + 1, sizeof *q->terms);
    struct query_term *t = &q->terms[q->nterms++];
    *t = (struct query_term){.field = field};
    size_t len = strlen(term);
    for (size_t vb = (size_t)(colon - term) + 1; vb <= len;) {
        const char *comma = memchr(term + vb, ',', len - vb);
        size_t ve = comma ? (size_t)(comma - term) : len, next = ve + 1;
        trim(term, &vb, &ve);
        if (ve > vb) {
            int rc = parse_value(p, t, term + vb, ve - vb, term);
            if (rc) return rc;
        }
        vb = next;
    }
    if (t->nvalues == 0)
        return err_set(p->err, ERR_INVALID, "query: no values in term %s", quote(term).s);
    return 0;
}

/* The StackRox search language: terms joined by '+', AND-ed. */
static int parse_query_lang(struct parser *p, const char *s)
{
    size_t len = strlen(s);
    for (size_t b = 0; b <= len;) {
        const char *plus = memchr(s + b, '+', len - b);
        size_t e = plus ? (size_t)(plus - s) : len, next = e + 1;
        trim(s, &b, &e);
        if (e > b) {
            int rc = parse_term(p, s, b, e);
            if (rc) return rc;
        }
        b = next;
    }
    return 0;
}

/* ---- query_parse ---------------------------------------------------------------------- */

/* A query field name or Timestamp (any case): 0 with *field set, or -1. */
static int sort_field_named(const char *v, int *field)
{
    if (ascii_casecmp(v, "Timestamp") == 0) {
        *field = QUERY_SORT_TIMESTAMP;
        return 0;
    }
    for (size_t i = 0; i < ARRAY_LEN(query_fields); i++) {
        if (ascii_casecmp(v, query_fields[i].name) == 0) {
            *field = query_fields[i].field;
            return 0;
        }
    }
    return -1;
}

static int add_sort_by(struct parser *p, const char *v)
{
    struct query *q = p->q;
    int field = QUERY_SORT_DEFAULT;
    for (size_t i = 0; i < ARRAY_LEN(sort_by_columns); i++)
        if (ascii_casecmp(v, sort_by_columns[i].name) == 0) field = sort_by_columns[i].field;
    if (field == QUERY_SORT_DEFAULT && sort_field_named(v, &field) != 0)
        return err_set(p->err, ERR_INVALID,
                       "invalid sortBy %s: allowed values are " SORT_BY_ALLOWED, quote(v).s);
    if (q->nsort_by == QUERY_SORT_BY_MAX)
        return err_set(p->err, ERR_INVALID, "too many sortBy values: at most %d",
                       QUERY_SORT_BY_MAX);
    q->sort_by[q->nsort_by++] = field;
    return 0;
}

/* Trims spaces and tabs off the arena string s[b, e) in place; returns its start. */
static char *trimmed(char *s, size_t b, size_t e)
{
    trim(s, &b, &e);
    s[e] = '\0';
    return s + b;
}

/* labels=key:value (exactly one ':') or exclude=source:kind[:...] (the text up to a second ':'
 * is the kind, as Policy Reporter reads it); other values are ignored. */
static int add_pair(struct parser *p, enum param kind, char *v)
{
    char *colon = strchr(v, ':');
    if (!colon || (kind == P_LABELS && strchr(colon + 1, ':'))) return 0;
    char *rest = colon + 1, *end = strchr(rest, ':');
    size_t restlen = end ? (size_t)(end - rest) : strlen(rest);
    int rc = count_value(p);
    if (rc) return rc;
    const char *a = trimmed(v, 0, (size_t)(colon - v)), *b = trimmed(rest, 0, restlen);
    struct query *q = p->q;
    if (kind == P_LABELS) {
        q->labels = xreallocarray(q->labels, q->nlabels + 1, sizeof *q->labels);
        q->labels[q->nlabels++] = (struct query_label){a, b};
    } else {
        q->excludes = xreallocarray(q->excludes, q->nexcludes + 1, sizeof *q->excludes);
        q->excludes[q->nexcludes++] = (struct query_exclude){a, b};
    }
    return 0;
}

static int parse_param(struct parser *p, const struct param_def *def, char *v)
{
    struct query *q = p->q;
    if (!(REPEATABLE & (1u << def->kind)) && (p->seen & (1u << def->kind)))
        return err_set(p->err, ERR_INVALID, "parameter %s given more than once",
                       quote(def->name).s);
    p->seen |= 1u << def->kind;
    switch (def->kind) {
    case P_FILTER:
        return add_filter(p, def->field, v);
    case P_SEARCH:
        q->search = *v ? v : NULL; /* an empty search box searches nothing */
        return 0;
    case P_CONTAINS:
        if (strlen(v) > QUERY_MAX_CONTAINS)
            return err_set(p->err, ERR_INVALID, "contains is longer than %d bytes",
                           QUERY_MAX_CONTAINS);
        q->contains = *v ? v : NULL;
        return 0;
    case P_QUERY:
        return parse_query_lang(p, v);
    case P_PRETTY:
        q->pretty = 1;
        return 0;
    case P_PAGE:
        if (parse_uint(v, &q->page))
            return err_set(p->err, ERR_INVALID, "page must be a non-negative integer");
        return 0;
    case P_OFFSET:
        if (parse_uint(v, &q->page_size))
            return err_set(p->err, ERR_INVALID, "offset must be a non-negative integer");
        return 0;
    case P_DIRECTION:
        if (ascii_casecmp(v, "asc") != 0 && ascii_casecmp(v, "desc") != 0)
            return err_set(p->err, ERR_INVALID,
                           "invalid direction %s: allowed values are asc, desc", quote(v).s);
        q->desc = ascii_casecmp(v, "desc") == 0;
        return 0;
    case P_LIMIT:
        if (parse_uint(v, &q->limit) || q->limit < 1 || q->limit > QUERY_LIMIT_MAX)
            return err_set(p->err, ERR_INVALID, "pagination.limit must be an integer from 1 to %d",
                           QUERY_LIMIT_MAX);
        q->has_limit = 1;
        return 0;
    case P_POFFSET:
        if (parse_uint(v, &q->offset))
            return err_set(p->err, ERR_INVALID, "pagination.offset must be a non-negative integer");
        q->has_offset = 1;
        return 0;
    case P_SORT_FIELD:
        if (sort_field_named(v, &q->sort_field) == 0) return 0;
        return err_set(
            p->err, ERR_INVALID,
            "invalid pagination.sortOption.field %s: allowed values are " SORT_FIELDS_ALLOWED,
            quote(v).s);
    case P_SORT_BY:
        return add_sort_by(p, v);
    case P_LABELS:
    case P_EXCLUDE:
        return add_pair(p, def->kind, v);
    case P_REVERSED:
        if (ascii_casecmp(v, "true") != 0 && ascii_casecmp(v, "false") != 0)
            return err_set(
                p->err, ERR_INVALID,
                "invalid pagination.sortOption.reversed %s: allowed values are true, false",
                quote(v).s);
        q->reversed = ascii_casecmp(v, "true") == 0;
        return 0;
    }
    return 0;
}

/* One raw "name=value" (or "name") piece of the query string. */
static int parse_piece(struct parser *p, const char *s, size_t n)
{
    const char *eq = memchr(s, '=', n);
    size_t nlen = eq ? (size_t)(eq - s) : n;
    char *name, *value;
    int rc = decode(p, s, nlen, s, n, &name);
    if (!rc) rc = decode(p, eq ? eq + 1 : s + n, eq ? n - nlen - 1 : 0, s, n, &value);
    if (rc) return rc;
    for (size_t i = 0; i < ARRAY_LEN(params); i++)
        if (strcmp(name, params[i].name) == 0) return parse_param(p, &params[i], value);
    return 0; /* unknown parameters are ignored */
}

#define REF_STYLE ((1u << P_PAGE) | (1u << P_OFFSET) | (1u << P_DIRECTION) | (1u << P_SORT_BY))
#define ROX_STYLE ((1u << P_LIMIT) | (1u << P_POFFSET) | (1u << P_SORT_FIELD) | (1u << P_REVERSED))

int query_parse(const char *qs, struct query *q, struct err *err)
{
    memset(q, 0, sizeof *q);
    q->sort_field = QUERY_SORT_DEFAULT;
    if (!qs) qs = "";
    size_t len = strlen(qs);
    if (len > QUERY_MAX_BYTES)
        return err_set(err, ERR_TOO_LONG, "query string too long: %lu bytes (at most %d)",
                       (unsigned long)len, QUERY_MAX_BYTES);
    /* Arena sizing: a piece of k raw bytes decodes to at most k + 2 bytes (name and value,
     * each NUL-terminated); with its '&' a piece spans k + 1 of the len + 1 bytes, so all
     * pieces take at most 3 * (len + 1) / 2. query= (at most once) also copies each term and
     * then its values, each at most the text plus a NUL per separator: 2 * (len + 1) more. */
    size_t cap = 4 * len + 4;
    q->arena = xmalloc(cap);
    struct parser p = {.q = q, .arena_end = q->arena + cap, .next = q->arena, .err = err};
    int rc = 0;
    for (size_t b = 0; b < len && !rc;) {
        const char *amp = memchr(qs + b, '&', len - b);
        size_t e = amp ? (size_t)(amp - qs) : len;
        if (e > b) rc = parse_piece(&p, qs + b, e - b);
        b = e + 1;
    }
    if (!rc && (p.seen & REF_STYLE) && (p.seen & ROX_STYLE))
        rc = err_set(err, ERR_INVALID,
                     "page, offset, direction and sortBy cannot be mixed with pagination.* "
                     "parameters");
    if (rc) query_release(q);
    return rc;
}

void query_release(struct query *q)
{
    for (int f = 0; f < IDX_F_ID; f++)
        free(q->filter[f].v);
    for (size_t t = 0; t < q->nterms; t++) {
        for (size_t v = 0; v < q->terms[t].nvalues; v++)
            if (q->terms[t].values[v].how == QM_REGEX) regfree(&q->terms[t].values[v].re);
        free(q->terms[t].values);
    }
    free(q->terms);
    free(q->labels);
    free(q->excludes);
    free(q->arena);
    memset(q, 0, sizeof *q);
    q->sort_field = QUERY_SORT_DEFAULT;
}

/* ---- query_select --------------------------------------------------------------------- */

/* Sets the rows of ids[0..n) (ascending) that lie in [lo, hi). */
static void set_ids(struct bitmap *b, const uint32_t *ids, size_t n, uint32_t lo, uint32_t hi)
{
    size_t a = 0, z = n;
    while (a < z) {
        size_t mid = a + (z - a) / 2;
        if (ids[mid] < lo)
            a = mid + 1;
        else
            z = mid;
    }
    for (; a < n && ids[a] < hi; a++)
        bitmap_set(b, ids[a]);
}

static void set_postings(struct bitmap *b, const struct idx *ix, const struct idx_dict_entry *e,
                         uint32_t lo, uint32_t hi)
{
    set_ids(b, idx_postings(ix, e), e->post_n, lo, hi);
}

static void set_entries(struct bitmap *b, const struct idx *ix, const struct idx_dict_entry *e,
                        size_t n, uint32_t lo, uint32_t hi)
{
    for (size_t i = 0; i < n; i++)
        set_postings(b, ix, &e[i], lo, hi);
}

static void set_range(struct bitmap *b, const struct idx *ix, int field, const char *v, int prefix,
                      uint32_t lo, uint32_t hi)
{
    const struct idx_dict_entry *e;
    size_t n = idx_dict_range(ix, field, v, strlen(v), prefix, &e);
    set_entries(b, ix, e, n, lo, hi);
}

/* Sets the rows whose field matches qv, negation aside. */
static void set_value(struct bitmap *b, const struct idx *ix, int field,
                      const struct query_value *qv, uint32_t lo, uint32_t hi)
{
    const struct idx_dict_entry *e;
    size_t n;
    switch (qv->how) {
    case QM_PREFIX:
    case QM_EXACT:
        set_range(b, ix, field, qv->text, qv->how == QM_PREFIX, lo, hi);
        break;
    case QM_ANY:
        n = idx_dict_all(ix, field, &e);
        set_entries(b, ix, e, n, lo, hi);
        break;
    case QM_REGEX:
        n = idx_dict_all(ix, field, &e);
        for (size_t i = 0; i < n; i++)
            if (regexec(&qv->re, idx_str(ix, e[i].str), 0, NULL, 0) == 0)
                set_postings(b, ix, &e[i], lo, hi);
        break;
    }
}

/* 1 when needle (folded, length n >= 1) occurs in s ignoring ASCII case. */
static int has_folded(const char *s, const char *needle, size_t n)
{
    for (; *s; s++) {
        if (ascii_fold((unsigned char)*s) != (unsigned char)needle[0]) continue;
        if (ascii_has_prefix_nc(s, needle, n)) return 1;
    }
    return 0;
}

/* contains=: the rows of every dictionary value of the six fields that holds the text. The
 * dictionaries hold each distinct value once, so this costs the distinct values, not the rows. */
static void set_contains(struct bitmap *b, const struct idx *ix, const char *text, uint32_t lo,
                         uint32_t hi)
{
    static const int fields[] = {IDX_F_NAMESPACE, IDX_F_KIND, IDX_F_NAME,
                                 IDX_F_POLICY,    IDX_F_RULE, IDX_F_MESSAGE};
    size_t n = strlen(text);
    char folded[QUERY_MAX_CONTAINS + 1];
    for (size_t i = 0; i < n; i++)
        folded[i] = (char)ascii_fold((unsigned char)text[i]);
    folded[n] = '\0';
    for (size_t f = 0; f < ARRAY_LEN(fields); f++) {
        const struct idx_dict_entry *e;
        size_t k = idx_dict_all(ix, fields[f], &e);
        for (size_t i = 0; i < k; i++)
            if (has_folded(idx_str(ix, e[i].str), folded, n)) set_postings(b, ix, &e[i], lo, hi);
    }
}

/* A plain filter parameter resolved against the dictionary: the string ids it accepts and
 * how many postings they have in all (what OR-ing them into a bitmap would cost). */
#define FILTER_IDS_MAX 64
struct filter_plan {
    int field;
    uint64_t postings;
    size_t nids; /* > FILTER_IDS_MAX: too many to test row by row */
    uint32_t ids[FILTER_IDS_MAX];
};

static void plan_filter(const struct idx *ix, const struct query_values *v, int field,
                        struct filter_plan *p)
{
    p->field = field;
    p->postings = 0;
    p->nids = 0;
    for (size_t i = 0; i < v->n; i++) {
        const struct idx_dict_entry *e;
        size_t n = idx_dict_range(ix, field, v->v[i], strlen(v->v[i]), 0, &e);
        for (size_t k = 0; k < n; k++, p->nids++) {
            p->postings += e[k].post_n;
            if (p->nids < FILTER_IDS_MAX) p->ids[p->nids] = e[k].str;
        }
    }
}

static int cmp_plans(const void *a, const void *b)
{
    uint64_t x = ((const struct filter_plan *)a)->postings;
    uint64_t y = ((const struct filter_plan *)b)->postings;
    return x < y ? -1 : x > y;
}

/* Keeps only the rows of sel whose field holds one of the plan's ids. */
static void keep_matching(const struct idx *ix, const struct filter_plan *p, struct bitmap *sel)
{
    for (size_t r = bitmap_next(sel, 0); r < sel->nbits; r = bitmap_next(sel, r + 1)) {
        uint32_t s = ix->rows[r].str[p->field];
        size_t k = 0;
        while (k < p->nids && p->ids[k] != s)
            k++;
        if (k == p->nids) sel->w[r >> 6] &= ~((uint64_t)1 << (r & 63));
    }
}

/* The plain filters, AND-ed: the one with the fewest postings is OR-ed into a bitmap first;
 * a later one whose postings far outnumber the rows still selected tests those rows instead
 * of setting all its postings, so a narrow filter beside a broad one (a namespace and
 * status=fail) costs about what the narrow one costs. */
static void select_filters(const struct idx *ix, const struct query *q, uint32_t lo, uint32_t hi,
                           struct bitmap *out, struct bitmap *acc)
{
    struct filter_plan plans[IDX_F_ID];
    size_t nplans = 0;
    for (int f = 0; f < IDX_F_ID; f++)
        if (q->filter[f].n) plan_filter(ix, &q->filter[f], f, &plans[nplans++]);
    qsort(plans, nplans, sizeof *plans, cmp_plans);
    size_t selected = hi - lo;
    for (size_t i = 0; i < nplans; i++) {
        const struct filter_plan *p = &plans[i];
        if (i > 0 && p->nids <= FILTER_IDS_MAX && p->postings > 4 * (uint64_t)selected) {
            keep_matching(ix, p, out);
        } else {
            bitmap_clear_all(acc);
            for (size_t k = 0; k < q->filter[p->field].n; k++)
                set_range(acc, ix, p->field, q->filter[p->field].v[k], 0, lo, hi);
            bitmap_and(out, acc);
        }
        selected = bitmap_count(out);
    }
}

void query_label_reports(const struct idx *ix, const struct query *q, struct bitmap *reports)
{
    bitmap_fill(reports);
    struct bitmap one;
    bitmap_init(&one, ix->h->nreports);
    for (size_t i = 0; i < q->nlabels; i++) {
        const struct idx_label *l = idx_label_find(ix, q->labels[i].key, q->labels[i].value);
        bitmap_clear_all(&one);
        for (uint32_t k = 0; l && k < l->rep_n; k++)
            bitmap_set(&one, ix->label_reports[l->rep_off + k]);
        bitmap_and(reports, &one);
    }
    bitmap_release(&one);
}

/* labels=: the rows of the reports holding every label, from the labels dictionary and each
 * report's row list (no row is looked at that is not selected). */
static void select_labels(const struct idx *ix, const struct query *q, uint32_t lo, uint32_t hi,
                          struct bitmap *out, struct bitmap *acc)
{
    struct bitmap reports;
    bitmap_init(&reports, ix->h->nreports);
    query_label_reports(ix, q, &reports);
    bitmap_clear_all(acc);
    for (size_t r = bitmap_next(&reports, 0); r < reports.nbits; r = bitmap_next(&reports, r + 1))
        set_ids(acc, idx_report_rows(ix, &ix->reports[r]), idx_report_nrows(&ix->reports[r]), lo,
                hi);
    bitmap_and(out, acc);
    bitmap_release(&reports);
}

/* exclude=: drops the rows whose source and kind both match one of the pairs. */
static void select_excludes(const struct idx *ix, const struct query *q, uint32_t lo, uint32_t hi,
                            struct bitmap *out, struct bitmap *acc, struct bitmap *neg)
{
    struct bitmap dropped;
    bitmap_init(&dropped, ix->h->nrows);
    for (size_t i = 0; i < q->nexcludes; i++) {
        bitmap_clear_all(acc);
        set_range(acc, ix, IDX_F_SOURCE, q->excludes[i].source, 0, lo, hi);
        bitmap_clear_all(neg);
        set_range(neg, ix, IDX_F_KIND, q->excludes[i].kind, 0, lo, hi);
        bitmap_and(acc, neg);
        bitmap_or(&dropped, acc);
    }
    bitmap_not(&dropped);
    bitmap_and(out, &dropped);
    bitmap_release(&dropped);
}

void query_select(const struct idx *ix, const struct query *q, uint32_t lo, uint32_t hi,
                  struct bitmap *out)
{
    size_t nrows = ix->h->nrows;
    if (hi > nrows) hi = (uint32_t)nrows;
    if (lo > hi) lo = hi;
    bitmap_fill(out);
    bitmap_keep_range(out, lo, hi);
    struct bitmap acc, neg;
    bitmap_init(&acc, nrows);
    bitmap_init(&neg, nrows);

    select_filters(ix, q, lo, hi, out, &acc);
    if (q->nlabels) select_labels(ix, q, lo, hi, out, &acc);
    if (q->nexcludes) select_excludes(ix, q, lo, hi, out, &acc, &neg);
    if (q->search) {
        static const int prefix_fields[] = {IDX_F_NAMESPACE, IDX_F_NAME, IDX_F_POLICY, IDX_F_RULE};
        bitmap_clear_all(&acc);
        for (size_t i = 0; i < ARRAY_LEN(prefix_fields); i++)
            set_range(&acc, ix, prefix_fields[i], q->search, 1, lo, hi);
        set_range(&acc, ix, IDX_F_SEVERITY, q->search, 0, lo, hi);
        set_range(&acc, ix, IDX_F_STATUS, q->search, 0, lo, hi);
        bitmap_and(out, &acc);
    }
    if (q->contains) {
        bitmap_clear_all(&acc);
        set_contains(&acc, ix, q->contains, lo, hi);
        bitmap_and(out, &acc);
    }
    for (size_t t = 0; t < q->nterms; t++) {
        const struct query_term *term = &q->terms[t];
        bitmap_clear_all(&acc);
        for (size_t v = 0; v < term->nvalues; v++) {
            const struct query_value *qv = &term->values[v];
            if (!qv->negate) {
                set_value(&acc, ix, term->field, qv, lo, hi);
                continue;
            }
            /* The complement over all rows; out's own range limits it to [lo, hi). */
            bitmap_clear_all(&neg);
            set_value(&neg, ix, term->field, qv, lo, hi);
            bitmap_not(&neg);
            bitmap_or(&acc, &neg);
        }
        bitmap_and(out, &acc);
    }
    bitmap_release(&acc);
    bitmap_release(&neg);
}

/* ---- query_page ----------------------------------------------------------------------- */

/* Index of the k-th (0-based) set bit counting from the low end (or from the high end when
 * from_top); nbits when there is none. Skips whole words by their popcount. */
static size_t nth_set(const struct bitmap *sel, size_t k, int from_top)
{
    for (size_t i = 0; i < sel->nwords; i++) {
        size_t w = from_top ? sel->nwords - 1 - i : i;
        size_t c = (size_t)__builtin_popcountll(sel->w[w]);
        if (k >= c) {
            k -= c;
            continue;
        }
        uint64_t word = sel->w[w];
        for (;;) {
            int bit = from_top ? 63 - __builtin_clzll(word) : __builtin_ctzll(word);
            if (k-- == 0) return w * 64 + (size_t)bit;
            word &= ~((uint64_t)1 << bit);
        }
    }
    return sel->nbits;
}

/* Several sortBy keys (or one without a precomputed order): the selection in row order
 * (the default order), stably sorted by the last key, then the one before, ... so the first
 * key decides and the default order breaks the last ties. */
static size_t page_sorted(const struct idx *ix, const struct query *q, const struct bitmap *sel,
                          size_t first, size_t count, uint32_t *out)
{
    size_t n = bitmap_count(sel), k = 0;
    uint32_t *ids = xmalloc(sizeof *ids * (n ? n : 1));
    for (size_t r = bitmap_next(sel, 0); r < sel->nbits; r = bitmap_next(sel, r + 1))
        ids[k++] = (uint32_t)r;
    for (size_t i = q->nsort_by; i-- > 0;)
        sort_orders_by(ix->rows, q->sort_by[i], ids, n);
    size_t m = 0;
    for (size_t i = first; i < n && m < count; i++)
        out[m++] = ids[q->desc ? n - 1 - i : i];
    free(ids);
    return m;
}

size_t query_page(const struct idx *ix, const struct query *q, const struct bitmap *sel,
                  size_t first, size_t count, uint32_t *out)
{
    int desc = q->desc || q->reversed; /* the parser refuses both styles at once */
    size_t n = 0;
    if (!count) return 0;
    if (q->nsort_by > 1 || (q->nsort_by == 1 && q->sort_by[0] >= IDX_NSORT))
        return page_sorted(ix, q, sel, first, count, out);
    int sort_field = q->nsort_by ? q->sort_by[0] : q->sort_field;
    if (sort_field == QUERY_SORT_DEFAULT) {
        /* Row order is the default order: skip whole words to the first row, then walk. */
        for (size_t r = nth_set(sel, first, desc); n < count && r < sel->nbits;) {
            out[n++] = (uint32_t)r;
            if (desc) {
                r = bitmap_prev(sel, r);
                if (r == SIZE_MAX) break;
            } else {
                r = bitmap_next(sel, r + 1);
            }
        }
        return n;
    }
    uint32_t nrows = ix->h->nrows;
    const uint32_t *perm = ix->sort + (size_t)sort_field * nrows;
    size_t skipped = 0;
    for (uint32_t i = 0; i < nrows && n < count; i++) {
        uint32_t r = perm[desc ? nrows - 1 - i : i];
        if (!bitmap_get(sel, r)) continue;
        if (skipped < first)
            skipped++;
        else
            out[n++] = r;
    }
    return n;
}

/* ---- query_window --------------------------------------------------------------------- */

void query_window(const struct query *q, size_t n, size_t *first, size_t *count)
{
    uint64_t start = 0, size = UINT64_MAX;
    if (q->page >= 1 && q->page_size >= 1) {
        size = q->page_size;
        start = q->page - 1 > UINT64_MAX / size ? UINT64_MAX : (q->page - 1) * size;
    } else if (q->has_limit || q->has_offset) {
        start = q->offset;
        if (q->has_limit) size = q->limit;
    }
    if (start > n) start = n;
    *first = (size_t)start;
    *count = (size_t)(size < n - start ? size : n - start);
}
