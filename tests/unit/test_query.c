/* test_query.c - the query-string engine: every parameter and every rejection of query_parse
 * with its exact message, then selection, order and pagination against small indexes built
 * with the real writer (hand-checked answers, and a row-scanning oracle on random data). */
#include "idx.h"
#include "idxw.h"
#include "query.h"
#include "rows.h"
#include "tap.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- parsing ---------------------------------------------------------------------------- */

/* "400 message" for a rejected query string, "ok" for an accepted one. */
static const char *perr(const char *qs)
{
    static char out[ERR_MSG_MAX + 16];
    struct query q;
    struct err err = {0};
    if (query_parse(qs, &q, &err) == 0) {
        query_release(&q);
        return "ok";
    }
    snprintf(out, sizeof out, "%d %s", err_http_status(err.code), err.msg);
    return out;
}

static int parse_ok(const char *qs, struct query *q)
{
    struct err err = {0};
    int rc = query_parse(qs, q, &err);
    if (rc) printf("#   %s: %d %s\n", qs ? qs : "(null)", err_http_status(err.code), err.msg);
    return rc == 0;
}

static void test_parse_basics(void)
{
    struct query q;
    CHECK(parse_ok(NULL, &q) && q.nterms == 0 && !q.search && !q.pretty && !q.desc &&
              q.sort_field == QUERY_SORT_DEFAULT && !q.has_limit && q.page == 0,
          "NULL query string: nothing set");
    query_release(&q);
    CHECK(parse_ok("", &q) && q.filter[IDX_F_STATUS].n == 0, "empty query string");
    query_release(&q);
    CHECK(parse_ok("&&=&x", &q), "empty pieces and an empty name are ignored");
    query_release(&q);

    CHECK(parse_ok("sources=kyverno&source=Trivy&policies=a&policy=b&namespaces=n&namespace=m"
                   "&kinds=Pod&kind=Job&resources=web&resource=db&categories=c&category=d"
                   "&status=fail&severities=high&severity=low&rule=r1&rules=r2",
                   &q),
          "every filter parameter, plural and singular");
    static const struct {
        int field;
        const char *a, *b;
    } want[] = {
        {IDX_F_SOURCE, "kyverno", "Trivy"}, {IDX_F_POLICY, "a", "b"},  {IDX_F_NAMESPACE, "n", "m"},
        {IDX_F_KIND, "Pod", "Job"},         {IDX_F_NAME, "web", "db"}, {IDX_F_CATEGORY, "c", "d"},
        {IDX_F_SEVERITY, "high", "low"},    {IDX_F_RULE, "r1", "r2"},
    };
    for (size_t i = 0; i < ARRAY_LEN(want); i++) {
        const struct query_values *v = &q.filter[want[i].field];
        CHECK(v->n == 2 && strcmp(v->v[0], want[i].a) == 0 && strcmp(v->v[1], want[i].b) == 0,
              "filter %s holds both values in order", idx_field_names[want[i].field]);
    }
    CHECK(q.filter[IDX_F_STATUS].n == 1, "status once");
    CHECK(q.filter[IDX_F_MESSAGE].n == 0 && q.filter[IDX_F_REPORT].n == 0, "others absent");
    query_release(&q);

    CHECK(parse_ok("policies=a,b&categories=Best+Practices&namespaces=%6B%75be-system", &q) &&
              q.filter[IDX_F_POLICY].n == 1,
          "a filter value is not split on commas");
    CHECK_STR(q.filter[IDX_F_POLICY].v[0], "a,b", "comma kept");
    CHECK_STR(q.filter[IDX_F_CATEGORY].v[0], "Best Practices", "'+' is a space");
    CHECK_STR(q.filter[IDX_F_NAMESPACE].v[0], "kube-system", "percent-decoding");
    query_release(&q);

    CHECK(parse_ok("status=&severities=&policies=&search=&query=", &q) &&
              q.filter[IDX_F_STATUS].n == 0 && q.filter[IDX_F_POLICY].n == 0 && !q.search &&
              q.nterms == 0,
          "empty values are ignored (an empty form field filters nothing)");
    query_release(&q);

    CHECK(parse_ok("Status=bogus&STATUS=x&statuses=x&foo=bar&limit=0&pagination.Limit=0", &q) &&
              q.filter[IDX_F_STATUS].n == 0 && !q.has_limit,
          "parameter names are exact; unknown ones are ignored");
    query_release(&q);

    CHECK(parse_ok("status=FAIL&status=Pass&severities=CRITICAL&severity=Info", &q) &&
              q.filter[IDX_F_STATUS].n == 2 && q.filter[IDX_F_SEVERITY].n == 2,
          "status and severity enums are case-insensitive");
    query_release(&q);
    CHECK_STR(perr("status=bogus"),
              "400 invalid status \"bogus\": allowed values are pass, fail, warn, error, skip",
              "bad status");
    CHECK_STR(perr("status=pass&status=failed"),
              "400 invalid status \"failed\": allowed values are pass, fail, warn, error, skip",
              "bad second status");
    CHECK_STR(perr("severities=urgent"),
              "400 invalid severity \"urgent\": allowed values are critical, high, medium, low, "
              "info",
              "bad severity");
    CHECK_STR(perr("severity=none"),
              "400 invalid severity \"none\": allowed values are critical, high, medium, low, info",
              "singular severity checked too");

    CHECK(parse_ok("search=Kube+sys&pretty", &q) && q.pretty, "pretty without a value");
    CHECK_STR(q.search, "Kube sys", "search decoded");
    query_release(&q);
    CHECK(parse_ok("pretty=false", &q) && q.pretty, "pretty with any value");
    query_release(&q);
    CHECK(parse_ok("pretty&pretty=1", &q) && q.pretty, "pretty twice is fine");
    query_release(&q);
}

static void test_parse_encoding(void)
{
    char big[QUERY_MAX_BYTES + 2];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    CHECK_STR(perr(big), "414 query string too long: 8193 bytes (at most 8192)", "8193 bytes");
    big[QUERY_MAX_BYTES] = '\0';
    CHECK_STR(perr(big), "ok", "8192 bytes are fine");

    CHECK_STR(perr("status=%zz"), "400 invalid percent-encoding in \"status=%zz\"", "bad hex");
    CHECK_STR(perr("policies=a%4"), "400 invalid percent-encoding in \"policies=a%4\"",
              "truncated escape");
    CHECK_STR(perr("policies=%"), "400 invalid percent-encoding in \"policies=%\"",
              "lone percent sign");
    CHECK_STR(perr("po%GGlicies=a"), "400 invalid percent-encoding in \"po%GGlicies=a\"",
              "names are decoded too");
    CHECK_STR(perr("policies=%ff"), "400 invalid UTF-8 in \"policies=%ff\"", "invalid byte");
    CHECK_STR(perr("x=%c0%af"), "400 invalid UTF-8 in \"x=%c0%af\"", "overlong form");
    CHECK_STR(perr("x=%ed%a0%80"), "400 invalid UTF-8 in \"x=%ed%a0%80\"", "surrogate");
    CHECK_STR(perr("x=%f4%90%80%80"), "400 invalid UTF-8 in \"x=%f4%90%80%80\"", "above U+10FFFF");
    CHECK_STR(perr("x=%e2%82"), "400 invalid UTF-8 in \"x=%e2%82\"", "truncated sequence");
    CHECK_STR(perr("policies=a%00b"), "400 NUL byte in \"policies=a%00b\"", "NUL byte");
    CHECK_STR(perr("x=\xff"), "400 invalid UTF-8 in \"x=?\"", "raw bytes quoted safely");
    CHECK_STR(perr("x=a\x01"), "ok", "a control character is data");

    struct query q;
    CHECK(parse_ok("policies=na%C3%AFve&policies=%F0%9F%94%92", &q), "valid UTF-8 accepted");
    CHECK_STR(q.filter[IDX_F_POLICY].v[0], "na\xc3\xafve", "two-byte character");
    CHECK_STR(q.filter[IDX_F_POLICY].v[1], "\xf0\x9f\x94\x92", "four-byte character");
    query_release(&q);
    CHECK(parse_ok("pagination%2Elimit=5&%71uery=Kind%3Apod", &q) && q.has_limit && q.limit == 5 &&
              q.nterms == 1,
          "encoded parameter names");
    query_release(&q);

    char many[QUERY_MAX_BYTES];
    size_t o = 0;
    for (int i = 0; i < QUERY_MAX_VALUES; i++)
        o += (size_t)sprintf(many + o, "policy=%d&", i);
    many[o - 1] = '\0';
    CHECK_STR(perr(many), "ok", "256 values are fine");
    strcpy(many + o - 1, "&query=Kind:a");
    CHECK_STR(perr(many), "400 too many values: at most 256 per request",
              "the 257th value (a query= one) is refused");

    char longv[400];
    memset(longv, 0, sizeof longv);
    strcpy(longv, "status=");
    memset(longv + 7, 'x', 200);
    const char *e = perr(longv);
    CHECK(strlen(e) < 200 && strstr(e, "xxx...\": allowed values"),
          "a long bad value is cut in the message: %s", e);
}

static void test_parse_query_language(void)
{
    struct query q;
    CHECK(parse_ok("query=namespace:kube,default%2BKIND:\"Pod\",!r/^d.*b$,!*%2BMessage:*", &q) &&
              q.nterms == 3,
          "three terms");
    if (q.nterms == 3) {
        const struct query_term *t = q.terms;
        CHECK(t[0].field == IDX_F_NAMESPACE && t[0].nvalues == 2, "Namespace term, 2 values");
        CHECK(t[0].values[0].how == QM_PREFIX && !t[0].values[0].negate &&
                  strcmp(t[0].values[0].text, "kube") == 0 &&
                  strcmp(t[0].values[1].text, "default") == 0,
              "plain values are prefixes");
        CHECK(t[1].field == IDX_F_KIND && t[1].nvalues == 3, "field names are case-insensitive");
        CHECK(t[1].values[0].how == QM_EXACT && strcmp(t[1].values[0].text, "Pod") == 0,
              "quoted value: exact, without quotes");
        CHECK(t[1].values[1].how == QM_REGEX && t[1].values[1].negate &&
                  strcmp(t[1].values[1].text, "^d.*b$") == 0,
              "negated regex");
        CHECK(t[1].values[2].how == QM_ANY && t[1].values[2].negate, "negated star");
        CHECK(t[2].field == IDX_F_MESSAGE && t[2].values[0].how == QM_ANY, "Message:*");
    }
    query_release(&q);

    CHECK(
        parse_ok("query=Namespace:backend,frontend%2BReport:production,%2BResource:r/.*a.*", &q) &&
            q.nterms == 3 && q.terms[1].nvalues == 1 && q.terms[1].field == IDX_F_REPORT &&
            q.terms[2].field == IDX_F_NAME,
        "the StackRox documentation's example (empty value after the comma ignored)");
    query_release(&q);
    CHECK(parse_ok("query=+Policy+:+a+,,+b+%2B%2B", &q) && q.nterms == 1 &&
              q.terms[0].nvalues == 2 && strcmp(q.terms[0].values[1].text, "b") == 0,
          "spaces around terms, fields and values are trimmed; empty terms skipped");
    query_release(&q);
    CHECK_STR(perr("query=Message:\"a+b,c\""),
              "400 query: unterminated quote in term \"Message:\"a b,c\"\"",
              "no escapes: a comma inside quotes still splits the value");
    CHECK(parse_ok("query=Message:\"a+b\"", &q) && q.terms[0].values[0].how == QM_EXACT &&
              strcmp(q.terms[0].values[0].text, "a b") == 0,
          "quoted value with a space");
    query_release(&q);
    CHECK(parse_ok("query=Rule:\"r/x\",\"!y\",\"*\"", &q) && q.terms[0].nvalues == 3 &&
              q.terms[0].values[0].how == QM_EXACT && !q.terms[0].values[1].negate &&
              q.terms[0].values[2].how == QM_EXACT,
          "quotes make r/, ! and * literal");
    query_release(&q);
    CHECK(parse_ok("query=Category:R/x,*a", &q) && q.terms[0].values[0].how == QM_PREFIX &&
              q.terms[0].values[1].how == QM_PREFIX,
          "only a lower-case r/ starts a regex; * only alone");
    query_release(&q);
    static const char *const fields[] = {"namespace", "KIND",     "Resource", "policy",
                                         "rule",      "category", "severity", "status",
                                         "source",    "message",  "report"};
    static const int fieldids[] = {IDX_F_NAMESPACE, IDX_F_KIND,     IDX_F_NAME,     IDX_F_POLICY,
                                   IDX_F_RULE,      IDX_F_CATEGORY, IDX_F_SEVERITY, IDX_F_STATUS,
                                   IDX_F_SOURCE,    IDX_F_MESSAGE,  IDX_F_REPORT};
    for (size_t i = 0; i < ARRAY_LEN(fields); i++) {
        char qs[64];
        snprintf(qs, sizeof qs, "query=%s:x", fields[i]);
        CHECK(parse_ok(qs, &q) && q.nterms == 1 && q.terms[0].field == fieldids[i],
              "query field %s", fields[i]);
        query_release(&q);
    }

    CHECK_STR(perr("query=Foo:bar"), "400 query: unknown field \"Foo\" in term \"Foo:bar\"",
              "unknown field");
    CHECK_STR(perr("query=Name:web"), "400 query: unknown field \"Name\" in term \"Name:web\"",
              "Name is not a query field (Resource is)");
    CHECK_STR(perr("query=Namespace"), "400 query: missing ':' in term \"Namespace\"",
              "term without colon");
    CHECK_STR(perr("query=Kind:a%2Bpod"), "400 query: missing ':' in term \"pod\"",
              "second term without colon");
    CHECK_STR(perr("query=Namespace:"), "400 query: no values in term \"Namespace:\"",
              "term without values");
    CHECK_STR(perr("query=Namespace:,+,"), "400 query: no values in term \"Namespace:, ,\"",
              "only empty values");
    CHECK_STR(perr("query=:x"), "400 query: unknown field \"\" in term \":x\"", "empty field");
    CHECK_STR(perr("query=Kind:\"Pod"), "400 query: unterminated quote in term \"Kind:\"Pod\"",
              "unterminated quote");
    CHECK_STR(perr("query=Kind:\""), "400 query: unterminated quote in term \"Kind:\"\"",
              "a lone quote");
    CHECK_STR(perr("query=Kind:\"\""), "400 query: empty quoted value in term \"Kind:\"\"\"",
              "empty quotes");
    CHECK_STR(perr("query=Kind:!"), "400 query: '!' without a value in term \"Kind:!\"",
              "lone negation");
    CHECK_STR(perr("query=Kind:r/"), "400 query: empty regex in term \"Kind:r/\"", "empty regex");
    CHECK_STR(perr("query=Kind:r/(a"),
              "400 query: bad regex \"(a\" (Unmatched ( or \\() in term \"Kind:r/(a\"",
              "bad regex with regerror's reason");
    CHECK_STR(perr("query=Kind:r/(a)\\1"),
              "400 query: back-references are not supported in term \"Kind:r/(a)\\1\"",
              "back-reference refused");
    CHECK_STR(perr("query=Kind:r/a\\\\1"), "ok", "an escaped backslash before a digit is fine");
    char re[400] = "query=Message:r/";
    memset(re + strlen(re), 'a', QUERY_MAX_REGEX);
    CHECK_STR(perr(re), "ok", "a 256-byte regex is fine");
    strcat(re, "a");
    const char *e = perr(re);
    CHECK(strncmp(e, "400 query: regex longer than 256 bytes in term \"Message:r/aaa", 61) == 0,
          "a 257-byte regex is refused: %.70s", e);
    CHECK_STR(perr("query=Kind:a&query=Kind:b"), "400 parameter \"query\" given more than once",
              "query twice");
    CHECK_STR(perr("query=Kind:r/a%2BKind:r/(&pretty"),
              "400 query: bad regex \"(\" (Unmatched ( or \\() in term \"Kind:r/(\"",
              "a failure after a compiled regex releases it (ASan checks)");
}

static void test_parse_pagination(void)
{
    struct query q;
    CHECK(parse_ok("page=2&offset=25&direction=DESC", &q) && q.page == 2 && q.page_size == 25 &&
              q.desc,
          "reference style");
    query_release(&q);
    CHECK(parse_ok("page=0&offset=0&direction=asc", &q) && q.page == 0 && !q.desc,
          "zero page and asc");
    query_release(&q);
    CHECK(parse_ok("page=007", &q) && q.page == 7, "leading zeros");
    query_release(&q);
    CHECK(parse_ok("page=99999999999999999999999999", &q) && q.page == UINT64_MAX,
          "huge numbers saturate (they are past every end)");
    query_release(&q);
    CHECK_STR(perr("page=-1"), "400 page must be a non-negative integer", "negative page");
    CHECK_STR(perr("page=1.5"), "400 page must be a non-negative integer", "fraction");
    CHECK_STR(perr("page="), "400 page must be a non-negative integer", "empty page");
    CHECK_STR(perr("page=+1"), "400 page must be a non-negative integer", "signed page");
    CHECK_STR(perr("offset=ten"), "400 offset must be a non-negative integer", "bad offset");
    CHECK_STR(perr("offset=0x10"), "400 offset must be a non-negative integer", "hex offset");
    CHECK_STR(perr("direction=down"),
              "400 invalid direction \"down\": allowed values are asc, desc", "bad direction");
    CHECK_STR(perr("direction="), "400 invalid direction \"\": allowed values are asc, desc",
              "empty direction");
    CHECK_STR(perr("page=1&page=2"), "400 parameter \"page\" given more than once", "page twice");
    CHECK_STR(perr("search=a&search=b"), "400 parameter \"search\" given more than once",
              "search twice");
    CHECK_STR(perr("contains=a&contains=b"), "400 parameter \"contains\" given more than once",
              "contains twice");
    {
        char longer[300] = "contains=";
        memset(longer + 9, 'x', 257);
        CHECK_STR(perr(longer), "400 contains is longer than 256 bytes", "contains too long");
        longer[9 + 256] = '\0';
        struct query q2;
        CHECK(parse_ok(longer, &q2) && q2.contains && strlen(q2.contains) == 256,
              "contains of 256 bytes");
        query_release(&q2);
    }

    CHECK(parse_ok("pagination.limit=1000&pagination.offset=0&pagination.sortOption.field="
                   "timestamp&pagination.sortOption.reversed=TRUE",
                   &q) &&
              q.has_limit && q.limit == 1000 && q.has_offset && q.offset == 0 &&
              q.sort_field == QUERY_SORT_TIMESTAMP && q.reversed,
          "StackRox style");
    query_release(&q);
    CHECK(parse_ok("pagination.limit=1&pagination.sortOption.reversed=false", &q) && q.limit == 1 &&
              !q.reversed && !q.has_offset,
          "limit 1, reversed false");
    query_release(&q);
    static const struct {
        const char *name;
        int field;
    } sorts[] = {
        {"Namespace", IDX_F_NAMESPACE},     {"kind", IDX_F_KIND},     {"RESOURCE", IDX_F_NAME},
        {"Policy", IDX_F_POLICY},           {"Rule", IDX_F_RULE},     {"Category", IDX_F_CATEGORY},
        {"Severity", IDX_F_SEVERITY},       {"Status", IDX_F_STATUS}, {"Source", IDX_F_SOURCE},
        {"Message", IDX_F_MESSAGE},         {"Report", IDX_F_REPORT}, {"change", IDX_F_CHANGE},
        {"Timestamp", QUERY_SORT_TIMESTAMP}};
    for (size_t i = 0; i < ARRAY_LEN(sorts); i++) {
        char qs[80];
        snprintf(qs, sizeof qs, "pagination.sortOption.field=%s", sorts[i].name);
        CHECK(parse_ok(qs, &q) && q.sort_field == sorts[i].field, "sort field %s", sorts[i].name);
        query_release(&q);
    }
    CHECK_STR(perr("pagination.limit=0"), "400 pagination.limit must be an integer from 1 to 1000",
              "limit 0");
    CHECK_STR(perr("pagination.limit=1001"),
              "400 pagination.limit must be an integer from 1 to 1000", "limit 1001");
    CHECK_STR(perr("pagination.limit=184467440737095516160"),
              "400 pagination.limit must be an integer from 1 to 1000", "limit overflowing");
    CHECK_STR(perr("pagination.limit=-5"), "400 pagination.limit must be an integer from 1 to 1000",
              "negative limit");
    CHECK_STR(perr("pagination.offset=-1"), "400 pagination.offset must be a non-negative integer",
              "negative offset");
    CHECK_STR(perr("pagination.offset="), "400 pagination.offset must be a non-negative integer",
              "empty offset");
    CHECK_STR(perr("pagination.sortOption.field=Name"),
              "400 invalid pagination.sortOption.field \"Name\": allowed values are Namespace, "
              "Kind, Resource, Policy, Rule, Category, Severity, Status, Source, Message, Report, "
              "Change, Cluster, Timestamp",
              "bad sort field");
    CHECK_STR(perr("pagination.sortOption.reversed=yes"),
              "400 invalid pagination.sortOption.reversed \"yes\": allowed values are true, false",
              "bad reversed");
    CHECK_STR(perr("pagination.limit=5&pagination.limit=6"),
              "400 parameter \"pagination.limit\" given more than once", "limit twice");
    const char *mix = "400 page, offset, direction and sortBy cannot be mixed with pagination.* "
                      "parameters";
    CHECK_STR(perr("page=1&pagination.limit=5"), mix, "page with limit");
    CHECK_STR(perr("pagination.offset=5&offset=10"), mix, "offset with pagination.offset");
    CHECK_STR(perr("direction=desc&pagination.sortOption.reversed=true"), mix,
              "direction with reversed");
    CHECK_STR(perr("pagination.sortOption.field=Kind&direction=asc"), mix,
              "direction with a sort field");
}

/* Random query strings over an alphabet of the syntax's special characters: every one is
 * either accepted or refused with a message (ASan/UBSan watch the rest). */
/* Policy Reporter 3's parameters (spec section 12). */
static void test_parse_pr3(void)
{
    struct query q;
    CHECK(
        parse_ok("labels=+app+:+web+&labels=tier%3Afront&labels=none&labels=a:b:c&labels=k:", &q) &&
            q.nlabels == 3 && !strcmp(q.labels[0].key, "app") &&
            !strcmp(q.labels[0].value, "web") && !strcmp(q.labels[1].value, "front") &&
            !strcmp(q.labels[2].key, "k") && !strcmp(q.labels[2].value, ""),
        "labels trimmed; no ':' or a second one ignored; an empty value kept");
    query_release(&q);
    CHECK(parse_ok("exclude=Kyverno:Pod:x&exclude=trivy&exclude=%20a%20:%20b", &q) &&
              q.nexcludes == 2 && !strcmp(q.excludes[0].source, "Kyverno") &&
              !strcmp(q.excludes[0].kind, "Pod") && !strcmp(q.excludes[1].source, "a") &&
              !strcmp(q.excludes[1].kind, "b"),
          "exclude: the kind ends at a second ':'; no ':' ignored");
    query_release(&q);
    CHECK(parse_ok("sortBy=resource_uid&sortBy=Severity&sortBy=RESOURCE_NAME&sortBy=timestamp&"
                   "direction=desc",
                   &q) &&
              q.nsort_by == 4 && q.sort_by[0] == IDX_F_RES_UID && q.sort_by[1] == IDX_F_SEVERITY &&
              q.sort_by[2] == IDX_F_NAME && q.sort_by[3] == QUERY_SORT_TIMESTAMP && q.desc,
          "sortBy: column names and sort fields in any case, in order");
    query_release(&q);
    const char *bad = "400 invalid sortBy \"uid\": allowed values are resource_namespace, ";
    CHECK(!strncmp(perr("sortBy=uid"), bad, strlen(bad)), "unknown sortBy: %s", perr("sortBy=uid"));
    CHECK_STR(perr("sortBy=rule&pagination.limit=3"),
              "400 page, offset, direction and sortBy cannot be mixed with pagination.* "
              "parameters",
              "sortBy with pagination.*");
    char many[400];
    size_t len = 0;
    for (int i = 0; i < 17; i++)
        len += (size_t)snprintf(many + len, sizeof many - len, "%ssortBy=rule", i ? "&" : "");
    CHECK_STR(perr(many), "400 too many sortBy values: at most 16", "17 sortBy keys");
}

static void test_parse_fuzz(void)
{
    static const char *const pieces[] = {
        "query=", "status=", "search=",   "page=",    "offset=", "pagination.limit=",
        "&",      "=",       "%",         "%2B",      "%2C",     "%3A",
        "%22",    "%ff",     "%c3%a9",    "%00",      "+",       ",",
        ":",      "!",       "\"",        "r/",       "*",       "(",
        "\\1",    "Kind",    "Namespace", "Message",  "fail",    "1",
        "0",      "-",       "a",         "\xe2\x82",
    };
    uint64_t seed = 42;
    int bad = 0;
    for (int i = 0; i < 20000; i++) {
        char qs[256];
        size_t o = 0;
        int n = 1 + (int)(seed % 12);
        for (int k = 0; k < n; k++) {
            seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
            const char *p = pieces[(seed >> 33) % ARRAY_LEN(pieces)];
            if (o + strlen(p) >= sizeof qs) break;
            memcpy(qs + o, p, strlen(p));
            o += strlen(p);
        }
        qs[o] = '\0';
        struct query q;
        struct err err = {0};
        if (query_parse(qs, &q, &err) == 0)
            query_release(&q);
        else if (err_http_status(err.code) != 400 || !err.msg[0])
            bad++;
    }
    CHECK(bad == 0, "20000 random query strings: accepted, or 400 with a message");
}

/* ---- evaluation on a hand-made index --------------------------------------------------- */

struct fixture {
    char dir[64], path[128];
    struct idx ix;
    struct rowset *rs;
};

static int fixture_open(struct fixture *f)
{
    struct err e = {0};
    strcpy(f->dir, "/tmp/polsnap-test-query-XXXXXX");
    if (!mkdtemp(f->dir)) return -1;
    snprintf(f->path, sizeof f->path, "%s/index.bin", f->dir);
    struct idxw_meta meta = {.snapshot_id = "test", .created = 1700000000};
    if (idxw_write(f->rs, f->path, &meta, &e) != 0) {
        printf("# index: %s\n", e.msg);
        return -1;
    }
    if (idx_open(&f->ix, f->path, &e) != 0) {
        printf("# index: %s\n", e.msg);
        return -1;
    }
    return 0;
}

static void fixture_close(struct fixture *f)
{
    idx_close(&f->ix);
    rowset_free(f->rs);
    unlink(f->path);
    rmdir(f->dir);
}

static void add(struct rowset *rs, uint32_t rep, const char *kind, const char *name,
                const char *policy, const char *rule, const char *status, const char *severity,
                const char *category, const char *source, const char *message, int64_t ts)
{
    struct row_in in = {.res_kind = kind,
                        .res_name = name,
                        .policy = policy,
                        .rule = rule,
                        .status = status,
                        .severity = severity,
                        .category = category,
                        .source = source,
                        .message = message,
                        .scored = -1,
                        .resource_count = name ? 1 : 0,
                        .timestamp = ts,
                        .has_timestamp = ts != IDX_NO_TIME};
    rowset_add_row(rs, rep, &in);
}

/* Rows in default order: 0 foxtrot (null namespace), 1 alpha, 2 bravo, 3 charlie (default),
 * 4 delta, 5 echo (kube-system); cluster rows 6 (no resource), 7 golf. */
static void fixture_fill(struct rowset *rs)
{
    struct row_report def = {"PolicyReport", "polr-default", "default", 0,   "t",
                             NULL,           NULL,           0,         NULL};
    struct row_report kube = {"PolicyReport", "polr-kube", "kube-system", 0, "t", NULL,
                              NULL,           0,           NULL};
    struct row_report orphan = {"PolicyReport", "orphan", NULL, 0, "t", NULL, NULL, 0, NULL};
    struct row_report cpolr = {"ClusterPolicyReport", "cpolr", NULL, 1, "t", NULL, NULL, 0, NULL};
    uint32_t d = rowset_add_report(rs, &def), k = rowset_add_report(rs, &kube),
             o = rowset_add_report(rs, &orphan), c = rowset_add_report(rs, &cpolr);
    add(rs, d, "Pod", "alpha", "require-labels", "check-labels", "fail", "high", "Best Practices",
        "kyverno", "label app is required", 1700000300);
    add(rs, d, "Deployment", "bravo", "Require-Labels", "check-labels", "pass", "medium",
        "Best Practices", "kyverno", "validation passed", 1700000100);
    add(rs, d, "Pod", "charlie", "disallow-root", "run-as-non-root", "warn", "low", "Pod Security",
        "kyverno", "root is discouraged", IDX_NO_TIME);
    add(rs, k, "Pod", "delta", "disallow-root", "run-as-non-root", "error", "critical", NULL,
        "trivy", NULL, 1700000200);
    add(rs, k, "ConfigMap", "echo", "trivy-vuln", "CVE-2024-1", "skip", "info", "Vulnerability",
        "Trivy", "na\xc3\xafve match", -5);
    add(rs, o, "Pod", "foxtrot", "require-labels", "check-labels", "fail", NULL, NULL, NULL, NULL,
        1700000100);
    add(rs, c, "Namespace", "golf", "ns-labels", "ns-check", "fail", "high", NULL, "kyverno",
        "namespace needs labels", 1700000400);
    add(rs, c, NULL, NULL, "cluster-check", "c1", "pass", NULL, NULL, "kyverno", NULL, IDX_NO_TIME);
}

/* The names of the rows that qs selects from [lo, hi), in order, after pagination ("-" for a
 * null name), or "ERR <message>". */
static const char *run(const struct idx *ix, const char *qs, uint32_t lo, uint32_t hi)
{
    static char out[1024];
    struct query q;
    struct err err = {0};
    if (query_parse(qs, &q, &err)) {
        snprintf(out, sizeof out, "ERR %d %s", err_http_status(err.code), err.msg);
        return out;
    }
    struct bitmap sel;
    bitmap_init(&sel, ix->h->nrows);
    query_select(ix, &q, lo, hi, &sel);
    size_t first, count;
    query_window(&q, bitmap_count(&sel), &first, &count);
    uint32_t *rows = xmalloc(sizeof *rows * (count + 1));
    size_t got = query_page(ix, &q, &sel, first, count, rows);
    size_t o = 0;
    out[0] = '\0';
    for (size_t i = 0; i < got; i++) {
        const char *name = idx_str(ix, ix->rows[rows[i]].str[IDX_F_NAME]);
        o += (size_t)snprintf(out + o, sizeof out - o, "%s%s", o ? " " : "", name ? name : "-");
    }
    free(rows);
    bitmap_release(&sel);
    query_release(&q);
    return out;
}

static void test_fixed_index(void)
{
    struct fixture f = {.rs = rowset_new()};
    fixture_fill(f.rs);
    if (fixture_open(&f) != 0) {
        CHECK(0, "fixture index written and opened");
        fixture_close(&f);
        return;
    }
    const struct idx *ix = &f.ix;
    uint32_t ns = ix->h->nrows_ns, all = ix->h->nrows;
    CHECK(ns == 6 && all == 8, "fixture: 6 namespaced and 2 cluster rows");

    static const struct {
        const char *qs, *want;
    } nscases[] = {
        {"", "foxtrot alpha bravo charlie delta echo"},
        {"policies=REQUIRE-LABELS", "foxtrot alpha bravo"},
        {"policy=require-labels&policy=disallow-root", "foxtrot alpha bravo charlie delta"},
        {"policies=require", ""},
        {"status=fail", "foxtrot alpha"},
        {"status=FAIL&severities=high", "alpha"},
        {"status=fail&status=warn&severity=low&severity=high", "alpha charlie"},
        {"namespaces=default&kinds=pod", "alpha charlie"},
        {"namespace=nowhere", ""},
        {"resources=ALPHA&resource=echo", "alpha echo"},
        {"sources=trivy", "delta echo"},
        {"categories=best+practices", "alpha bravo"},
        {"rule=check-labels", "foxtrot alpha bravo"},
        {"rules=CVE-2024-1&policies=trivy-vuln", "echo"},
        {"search=de", "alpha bravo charlie delta"},
        {"search=crit", ""},
        {"search=Critical", "delta"},
        {"search=FAIL", "foxtrot alpha"},
        {"search=check", "foxtrot alpha bravo"},
        {"search=disallow&status=warn", "charlie"},
        /* contains= (spec 11): namespace, kind, name, policy, rule, message; not category,
         * source or severity */
        {"contains=ube", "delta echo"},
        {"contains=LABEL", "foxtrot alpha bravo"},
        {"contains=root", "charlie delta"},
        {"contains=configM", "echo"},
        {"contains=harl", "charlie"},
        {"contains=%C3%AFve", "echo"},
        {"contains=2024-1", "echo"},
        {"contains=a&status=fail", "foxtrot alpha"},
        {"contains=best", ""},
        {"contains=kyverno", ""},
        {"contains=high", ""},
        {"contains=", "foxtrot alpha bravo charlie delta echo"},
        {"contains=label&search=b", "bravo"},
        {"query=Namespace:kube", "delta echo"},
        {"query=Namespace:\"kube\"", ""},
        {"query=Namespace:\"KUBE-SYSTEM\"", "delta echo"},
        {"query=Namespace:!default", "foxtrot delta echo"},
        {"query=Namespace:!\"default\"", "foxtrot delta echo"},
        {"query=Namespace:*", "alpha bravo charlie delta echo"},
        {"query=Namespace:!*", "foxtrot"},
        {"query=Message:r/root", "charlie"},
        {"query=Message:r/^LABEL", "alpha"},
        {"query=Message:r/is", "alpha charlie"},
        {"query=Message:!r/is", "foxtrot bravo delta echo"},
        {"query=Message:r/na..ve", "echo"},
        {"query=Category:r/.", "alpha bravo charlie echo"},
        {"query=Severity:h%2BStatus:f", "alpha"},
        {"query=Policy:require,disallow", "foxtrot alpha bravo charlie delta"},
        {"query=Policy:!require,disallow", "charlie delta echo"},
        {"query=Kind:pod%2BNamespace:!default", "foxtrot delta"},
        {"query=Source:kyv", "alpha bravo charlie"},
        {"query=Report:polr-", "alpha bravo charlie delta echo"},
        {"query=Report:orphan", "foxtrot"},
        {"query=Resource:\"Echo\"", "echo"},
        {"query=Rule:r/^c%2BStatus:!pass", "foxtrot alpha echo"},
        {"query=Rule:r/^[a-z]{3}-[0-9]", "echo"},
        {"query=Kind:pod&status=fail&search=f", "foxtrot"},
        {"direction=desc", "echo delta charlie bravo alpha foxtrot"},
        {"pagination.sortOption.reversed=true", "echo delta charlie bravo alpha foxtrot"},
        {"page=2&offset=4", "delta echo"},
        {"page=3&offset=4", ""},
        {"page=2&offset=4&direction=desc", "alpha foxtrot"},
        {"page=1&offset=0", "foxtrot alpha bravo charlie delta echo"},
        {"page=0&offset=2", "foxtrot alpha bravo charlie delta echo"},
        {"pagination.limit=2&pagination.offset=1", "alpha bravo"},
        {"pagination.offset=4", "delta echo"},
        {"pagination.offset=40", ""},
        {"pagination.limit=3", "foxtrot alpha bravo"},
        {"pagination.sortOption.field=Timestamp", "charlie echo foxtrot bravo delta alpha"},
        {"pagination.sortOption.field=Timestamp&pagination.sortOption.reversed=true",
         "alpha delta bravo foxtrot echo charlie"},
        {"pagination.sortOption.field=severity", "foxtrot echo charlie bravo alpha delta"},
        {"pagination.sortOption.field=Policy", "bravo charlie delta foxtrot alpha echo"},
        {"pagination.sortOption.field=Status", "delta foxtrot alpha bravo echo charlie"},
        {"pagination.sortOption.field=Message", "foxtrot delta alpha echo charlie bravo"},
        {"pagination.sortOption.field=Message&pagination.sortOption.reversed=true",
         "bravo charlie echo alpha delta foxtrot"},
        {"pagination.sortOption.field=Namespace", "foxtrot alpha bravo charlie delta echo"},
        {"pagination.sortOption.field=Kind&pagination.limit=3&pagination.offset=1",
         "bravo foxtrot alpha"},
        {"pagination.sortOption.field=Source&status=fail&status=pass", "foxtrot alpha bravo"},
        {"status=bogus", "ERR 400 invalid status \"bogus\": allowed values are pass, fail, warn, "
                         "error, skip"},
    };
    for (size_t i = 0; i < ARRAY_LEN(nscases); i++)
        CHECK_STR(run(ix, nscases[i].qs, 0, ns), nscases[i].want, "namespaced: %s", nscases[i].qs);

    static const struct {
        const char *qs, *want;
    } clcases[] = {
        {"", "- golf"},
        {"status=fail", "golf"},
        {"query=Resource:!*", "-"},
        {"query=Kind:!namespace", "-"},
        {"query=Namespace:!*", "- golf"},
        {"query=Namespace:*", ""},
        {"policies=require-labels", ""},
        {"search=ns", "golf"},
        {"pagination.sortOption.field=Timestamp&pagination.sortOption.reversed=true", "golf -"},
    };
    for (size_t i = 0; i < ARRAY_LEN(clcases); i++)
        CHECK_STR(run(ix, clcases[i].qs, ns, all), clcases[i].want, "cluster: %s", clcases[i].qs);
    CHECK_STR(run(ix, "status=fail", 0, all), "foxtrot alpha golf", "both scopes");
    CHECK_STR(run(ix, "", 2, 4), "bravo charlie", "an inner range");
    CHECK_STR(run(ix, "", 5, 99), "echo - golf", "hi past the end is clamped");

    /* select replaces out's previous content */
    struct query q;
    struct err err = {0};
    query_parse("status=pass", &q, &err);
    struct bitmap sel;
    bitmap_init(&sel, all);
    bitmap_fill(&sel);
    query_select(ix, &q, 0, ns, &sel);
    CHECK(bitmap_count(&sel) == 1 && bitmap_get(&sel, 2), "select overwrites a filled bitmap");
    bitmap_release(&sel);
    query_release(&q);
    fixture_close(&f);
}

static void test_window(void)
{
    static const struct {
        const char *qs;
        size_t n, first, count;
    } cases[] = {
        {"", 10, 0, 10},
        {"page=2&offset=3", 10, 3, 3},
        {"page=4&offset=3", 10, 9, 1},
        {"page=5&offset=3", 10, 10, 0},
        {"page=0&offset=3", 10, 0, 10},
        {"page=3", 10, 0, 10},
        {"offset=3", 10, 0, 10},
        {"page=99999999999999999999&offset=99999999999999999999", 10, 10, 0},
        {"page=2&offset=18446744073709551615", 10, 10, 0},
        {"pagination.limit=4", 10, 0, 4},
        {"pagination.limit=4&pagination.offset=4", 10, 4, 4},
        {"pagination.limit=4&pagination.offset=8", 10, 8, 2},
        {"pagination.offset=3", 10, 3, 7},
        {"pagination.offset=20", 10, 10, 0},
        {"pagination.offset=99999999999999999999", 10, 10, 0},
        {"pagination.limit=5", 0, 0, 0},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        struct query q;
        size_t first = 99, count = 99;
        if (!parse_ok(cases[i].qs, &q)) {
            CHECK(0, "window %s parses", cases[i].qs);
            continue;
        }
        query_window(&q, cases[i].n, &first, &count);
        CHECK(first == cases[i].first && count == cases[i].count,
              "window of %lu for %s: [%lu, +%lu)", (unsigned long)cases[i].n, cases[i].qs,
              (unsigned long)first, (unsigned long)count);
        query_release(&q);
    }
}

/* ---- random index against a row-scanning oracle --------------------------------------- */

static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static uint32_t rnd(uint32_t n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng % n);
}

static const char *const vocab[IDX_F_ID][7] = {
    [IDX_F_NAMESPACE] = {"default", "Dev", "dev-team", "kube-system", "prod", NULL, NULL},
    [IDX_F_KIND] = {"Pod", "pod", "Deployment", "Job", "Secret", NULL, NULL},
    [IDX_F_NAME] = {"web", "Web-1", "api", "db", "cache", "worker", NULL},
    [IDX_F_POLICY] = {"require-labels", "Require-Labels", "disallow-root", "no-latest", "cve",
                      "trivy-vuln", NULL},
    [IDX_F_RULE] = {"check", "check-labels", "root", "latest-tag", "CVE-1", NULL, NULL},
    [IDX_F_CATEGORY] = {"Best Practices", "Pod Security", "vuln", "best", NULL, NULL, NULL},
    [IDX_F_SEVERITY] = {"critical", "high", "medium", "low", "info", NULL, NULL},
    [IDX_F_STATUS] = {"pass", "fail", "warn", "error", "skip", "pass", "fail"},
    [IDX_F_SOURCE] = {"kyverno", "Kyverno", "trivy", "falco", NULL, NULL, NULL},
    [IDX_F_MESSAGE] = {"image uses latest", "root user", "label app missing", "ok", "na\xc3\xafve",
                       NULL, NULL},
};

static const char *pick(int field)
{
    return vocab[field][rnd(7)];
}

static void fill_random(struct rowset *rs, int nrows)
{
    static const char *const ns[] = {"default", "Dev", "dev-team", "kube-system", "prod", NULL};
    uint32_t reps[7];
    for (int i = 0; i < 6; i++) {
        struct row_report r = {
            "PolicyReport", ns[i] ? ns[i] : "nons", ns[i], 0, "t", NULL, NULL, 0, NULL};
        reps[i] = rowset_add_report(rs, &r);
    }
    struct row_report c = {"ClusterPolicyReport", "cpol", NULL, 1, "t", NULL, NULL, 0, NULL};
    reps[6] = rowset_add_report(rs, &c);
    for (int i = 0; i < nrows; i++) {
        char msg[40];
        snprintf(msg, sizeof msg, "%s %d", pick(IDX_F_MESSAGE) ? "row" : "Row", i);
        const char *name = pick(IDX_F_NAME);
        struct row_in in = {.res_kind = pick(IDX_F_KIND),
                            .res_name = name,
                            .policy = pick(IDX_F_POLICY),
                            .rule = pick(IDX_F_RULE),
                            .status = pick(IDX_F_STATUS),
                            .severity = pick(IDX_F_SEVERITY),
                            .category = pick(IDX_F_CATEGORY),
                            .source = pick(IDX_F_SOURCE),
                            .message = rnd(3) ? pick(IDX_F_MESSAGE) : msg,
                            .scored = -1,
                            .resource_count = name ? 1 : 0,
                            .timestamp = (int64_t)rnd(600) - 100,
                            .has_timestamp = rnd(5) != 0};
        rowset_add_row(rs, reps[rnd(7)], &in);
    }
}

static int value_matches(const struct query_value *v, const char *s)
{
    int m;
    switch (v->how) {
    case QM_PREFIX:
        m = s && ascii_has_prefix_nc(s, v->text, strlen(v->text));
        break;
    case QM_EXACT:
        m = s && ascii_casecmp(s, v->text) == 0;
        break;
    case QM_REGEX:
        m = s && regexec(&v->re, s, 0, NULL, 0) == 0;
        break;
    default:
        m = s != NULL;
    }
    return v->negate ? !m : m;
}

/* The meaning of q for one row, by scanning: what query_select must agree with. */
static int oracle(const struct idx *ix, const struct query *q, uint32_t r)
{
    const struct idx_row *row = &ix->rows[r];
    for (int f = 0; f < IDX_F_ID; f++) {
        if (!q->filter[f].n) continue;
        const char *s = idx_str(ix, row->str[f]);
        int any = 0;
        for (size_t i = 0; i < q->filter[f].n; i++)
            any |= s && ascii_casecmp(s, q->filter[f].v[i]) == 0;
        if (!any) return 0;
    }
    if (q->search) {
        static const int pf[] = {IDX_F_NAMESPACE, IDX_F_NAME, IDX_F_POLICY, IDX_F_RULE};
        int any = 0;
        for (size_t i = 0; i < ARRAY_LEN(pf); i++) {
            const char *s = idx_str(ix, row->str[pf[i]]);
            any |= s && ascii_has_prefix_nc(s, q->search, strlen(q->search));
        }
        for (int f = IDX_F_SEVERITY; f <= IDX_F_STATUS; f++) {
            const char *s = idx_str(ix, row->str[f]);
            any |= s && ascii_casecmp(s, q->search) == 0;
        }
        if (!any) return 0;
    }
    for (size_t t = 0; t < q->nterms; t++) {
        const char *s = idx_str(ix, row->str[q->terms[t].field]);
        int any = 0;
        for (size_t v = 0; v < q->terms[t].nvalues; v++)
            any |= value_matches(&q->terms[t].values[v], s);
        if (!any) return 0;
    }
    return 1;
}

static const struct idx *cmp_ix;
static int cmp_field;
static int64_t sort_key(uint32_t r)
{
    const struct idx_row *row = &cmp_ix->rows[r];
    if (cmp_field == QUERY_SORT_TIMESTAMP) return row->timestamp;
    return row->severity;
}
/* Compares by the strings themselves (not ids) so the oracle does not assume sorted ids. */
static int cmp_rows(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    int c;
    if (cmp_field == QUERY_SORT_TIMESTAMP || cmp_field == IDX_F_SEVERITY) {
        int64_t kx = sort_key(x), ky = sort_key(y);
        c = kx < ky ? -1 : kx > ky;
    } else {
        const char *sx = idx_str(cmp_ix, cmp_ix->rows[x].str[cmp_field]);
        const char *sy = idx_str(cmp_ix, cmp_ix->rows[y].str[cmp_field]);
        c = !sx ? (sy ? -1 : 0) : !sy ? 1 : strcmp(sx, sy);
    }
    return c ? c : (x > y) - (x < y);
}

static void random_query(char *qs, size_t cap)
{
    static const char *const params[] = {"namespaces", "kinds",  "resources",
                                         "policies",   "rule",   "categories",
                                         "severities", "status", "sources"};
    static const int pfield[] = {IDX_F_NAMESPACE, IDX_F_KIND,   IDX_F_NAME,
                                 IDX_F_POLICY,    IDX_F_RULE,   IDX_F_CATEGORY,
                                 IDX_F_SEVERITY,  IDX_F_STATUS, IDX_F_SOURCE};
    static const char *const qfield[] = {"Namespace", "Kind",     "Resource", "Policy", "Rule",
                                         "Category",  "Severity", "Status",   "Source", "Message"};
    static const char *const forms[] = {"%s",    "\"%s\"", "!%s", "!\"%s\"",
                                        "r/^%s", "!r/%s",  "*",   "!*"};
    size_t o = 0;
    int nparams = (int)rnd(3);
    for (int i = 0; i < nparams; i++) {
        int p = (int)rnd(ARRAY_LEN(params));
        const char *v = pick(pfield[p]);
        if (v && o < cap - 64) o += (size_t)snprintf(qs + o, cap - o, "%s=%s&", params[p], v);
    }
    if (rnd(3) == 0) {
        const char *v = pick(IDX_F_POLICY);
        if (v) o += (size_t)snprintf(qs + o, cap - o, "search=%.3s&", v);
    }
    int nterms = (int)rnd(3);
    if (nterms) o += (size_t)snprintf(qs + o, cap - o, "query=");
    for (int t = 0; t < nterms; t++) {
        int fi = (int)rnd(ARRAY_LEN(qfield));
        o += (size_t)snprintf(qs + o, cap - o, "%s%s:", t ? "%2B" : "", qfield[fi]);
        int nv = 1 + (int)rnd(2);
        for (int v = 0; v < nv; v++) {
            const char *val = pick(fi == 9 ? IDX_F_MESSAGE : fi == 2 ? IDX_F_NAME : pfield[fi]);
            char cut[16];
            int cl = snprintf(cut, sizeof cut, "%.*s", 1 + (int)rnd(6), val ? val : "zz");
            if ((unsigned char)cut[cl - 1] >= 0xc0) cut[cl - 1] = '\0'; /* a cut character */
            for (char *c = cut; *c; c++)
                if (*c == ' ') *c = '+';
            o += (size_t)snprintf(qs + o, cap - o, v ? "," : "");
            o += (size_t)snprintf(qs + o, cap - o, forms[rnd(ARRAY_LEN(forms))], cut);
        }
        if (o >= cap - 64) break;
    }
    qs[o] = '\0';
}

static void test_random_index(void)
{
    struct fixture f = {.rs = rowset_new()};
    fill_random(f.rs, 3000);
    if (fixture_open(&f) != 0) {
        CHECK(0, "random index written and opened");
        fixture_close(&f);
        return;
    }
    const struct idx *ix = &f.ix;
    uint32_t ns = ix->h->nrows_ns, all = ix->h->nrows;
    CHECK(all > 2000 && ns > 0 && ns < all, "random index: %u rows, %u namespaced", all, ns);

    int wrong = 0, nonempty = 0, partial = 0, parsed = 0;
    struct bitmap sel;
    bitmap_init(&sel, all);
    for (int i = 0; i < 1500; i++) {
        char qs[512];
        random_query(qs, sizeof qs);
        struct query q;
        struct err err = {0};
        if (query_parse(qs, &q, &err) != 0) {
            printf("# unexpected parse error for %s: %s\n", qs, err.msg);
            wrong++;
            continue;
        }
        parsed++;
        uint32_t lo = rnd(3) == 0 ? ns : 0, hi = rnd(3) == 0 ? ns : all;
        if (lo > hi) lo = 0;
        query_select(ix, &q, lo, hi, &sel);
        size_t want = 0;
        for (uint32_t r = 0; r < all; r++) {
            int w = r >= lo && r < hi && oracle(ix, &q, r);
            want += (size_t)w;
            if (w != bitmap_get(&sel, r)) {
                if (!wrong) printf("# mismatch for %s [%u,%u) at row %u\n", qs, lo, hi, r);
                wrong++;
                break;
            }
        }
        nonempty += want > 0;
        partial += want > 0 && want < hi - lo;
        query_release(&q);
    }
    CHECK(wrong == 0 && parsed == 1500, "1500 random queries select what a row scan selects");
    CHECK(nonempty > 300 && partial > 300,
          "the random queries are not trivial (%d non-empty, %d "
          "partial)",
          nonempty, partial);

    cmp_ix = ix;
    static const char *const sorts[] = {"Namespace", "Kind",     "Resource", "Policy",
                                        "Rule",      "Category", "Severity", "Status",
                                        "Source",    "Message",  "Report",   "Timestamp"};
    for (size_t s = 0; s < ARRAY_LEN(sorts); s++) {
        for (int rev = 0; rev < 2; rev++) {
            char qs[128];
            snprintf(qs, sizeof qs,
                     "status=fail&status=pass&pagination.sortOption.field=%s"
                     "&pagination.sortOption.reversed=%s",
                     sorts[s], rev ? "true" : "false");
            struct query q;
            if (!parse_ok(qs, &q)) continue;
            query_select(ix, &q, 0, all, &sel);
            size_t n = bitmap_count(&sel);
            uint32_t *got = xmalloc(sizeof *got * (n + 1));
            n = query_page(ix, &q, &sel, 0, n, got);
            uint32_t *want = xmalloc(n * sizeof *want + 1);
            size_t m = 0;
            for (uint32_t r = 0; r < all; r++)
                if (oracle(ix, &q, r)) want[m++] = r;
            cmp_field = q.sort_field;
            qsort(want, m, sizeof *want, cmp_rows);
            int same = m == n;
            for (size_t i = 0; same && i < n; i++)
                same = got[i] == want[rev ? n - 1 - i : i];
            CHECK(same && n > 500, "order by %s%s matches a comparison sort (%lu rows)", sorts[s],
                  rev ? " reversed" : "", (unsigned long)n);
            free(got);
            free(want);
            query_release(&q);
        }
    }
    bitmap_release(&sel);
    fixture_close(&f);
}

/* bitmap_and_count against a bit-by-bit count, over ranges that start and end inside words,
 * on word edges and past the end. */
static void test_and_count(void)
{
    struct bitmap a, b;
    size_t n = 1000, bad = 0;
    bitmap_init(&a, n);
    bitmap_init(&b, n);
    srand(7);
    for (size_t i = 0; i < n; i++) {
        if (rand() % 3) bitmap_set(&a, i);
        if (rand() % 2) bitmap_set(&b, i);
    }
    static const size_t ends[] = {0, 1, 63, 64, 65, 127, 128, 500, 999, 1000, 1200};
    for (size_t i = 0; i < ARRAY_LEN(ends); i++)
        for (size_t j = 0; j < ARRAY_LEN(ends); j++) {
            size_t want = 0;
            for (size_t r = ends[i]; r < ends[j] && r < n; r++)
                want += bitmap_get(&a, r) && bitmap_get(&b, r);
            bad += bitmap_and_count(&a, &b, ends[i], ends[j]) != want;
        }
    CHECK(bad == 0, "bitmap_and_count counts a AND b within [lo, hi) (%zu ranges wrong)", bad);
    bitmap_release(&a);
    bitmap_release(&b);
}

int main(void)
{
    test_and_count();
    test_parse_basics();
    test_parse_encoding();
    test_parse_query_language();
    test_parse_pagination();
    test_parse_pr3();
    test_parse_fuzz();
    test_fixed_index();
    test_window();
    test_random_index();
    return TAP_DONE();
}
