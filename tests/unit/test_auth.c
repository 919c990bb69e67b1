/* test_auth.c - the tokens file parser (every malformed line shape), RFC 3339 expiries, and
 * the bearer check: roles, expiry, namespace limits, re-reading and failing closed. */
#include "auth.h"
#include "tap.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

/* arbitrary digests, for the parser only */
#define H_ADMIN "b4ff8a6d8e4a2b0e33302c6a90b6dcbed4c7d3ae5c09e6ed4c3c75e81cb4ea34"
#define H_READER "c0d8d55c1d8fdbd5fd6b3bc26b0f2b7e1bb2c03ab1e87b73a1e0b2a7e6c3b0c1"
#define H_METRICS "7c2b8e5e6f3a1f0f4d0f6cd4e7e0d2f2c2b1f9a3b6e3b8c0d4a9f1e2d3c4b5a6"

static int parse(const char *text, struct auth_tokens *t, char err[ERR_MSG_MAX])
{
    struct err e = {0};
    int rc = auth_tokens_parse(text, strlen(text), t, &e);
    snprintf(err, ERR_MSG_MAX, "%s", e.msg);
    if (rc) printf("# %s\n", err);
    return rc;
}

/* Each text must be rejected, with a message containing want. */
static void rejects(const char *text, const char *want, const char *what)
{
    struct auth_tokens t;
    char err[ERR_MSG_MAX];
    int rc = parse(text, &t, err);
    CHECK(rc == -1 && t.n == 0 && t.v == NULL && strstr(err, want), "rejects %s", what);
}

static void good_files(void)
{
    struct auth_tokens t;
    char err[ERR_MSG_MAX];
    CHECK(parse("", &t, err) == 0 && t.n == 0, "an empty file holds no tokens");
    CHECK(parse("# only a comment\n\n   \n\t# indented comment\n", &t, err) == 0 && t.n == 0,
          "comments and blank lines are ignored");
    const char *text = "# polsnap tokens\r\n" H_ADMIN " ops Admin -\r\n"
                       "  " H_READER "\tdash\tReader\t2027-01-31T00:00:00Z  \n" H_METRICS
                       " prom Metrics 2027-01-31T01:00:00+01:00 shop,payments,a-1"; /* no \n */
    CHECK(parse(text, &t, err) == 0 && t.n == 3, "three tokens: CRLF, tabs, no final newline");
    if (t.n == 3) {
        CHECK_STR(t.v[0].name, "ops", "name");
        CHECK(t.v[0].role == API_ADMIN && t.v[0].expires == AUTH_NEVER && !t.v[0].namespaces,
              "Admin, no expiry, no namespace limit");
        CHECK(t.v[0].digest[0] == 0xb4 && t.v[0].digest[31] == 0x34, "digest from hex");
        CHECK(t.v[1].role == API_READER && t.v[1].expires == 1801353600, "Reader, expiry");
        CHECK(t.v[2].role == API_METRICS && t.v[2].expires == 1801353600,
              "Metrics, an expiry with an offset means the same instant");
        CHECK(t.v[2].nnamespaces == 3, "three namespaces");
        if (t.v[2].nnamespaces == 3) {
            CHECK_STR(t.v[2].namespaces[0], "shop", "namespaces in file order");
            CHECK_STR(t.v[2].namespaces[2], "a-1", "last namespace");
        }
    }
    auth_tokens_release(&t);
    CHECK(t.n == 0 && t.v == NULL, "release empties");
}

static void bad_files(void)
{
    rejects(H_ADMIN " ops Admin\n", "line 1: 3 fields where", "three fields");
    rejects(H_ADMIN "\n", "line 1: 1 field where", "one field");
    rejects("# c\n" H_ADMIN " ops Admin - ns extra\n", "line 2: more than 5 fields", "six fields");
    rejects(H_ADMIN " ops Admin - ns # comment\n", "more than 5 fields",
            "a trailing comment (not allowed)");
    rejects("B4FF8A6D8E4A2B0E33302C6A90B6DCBED4C7D3AE5C09E6ED4C3C75E81CB4EA34 ops Admin -\n",
            "64 lower-case hex", "upper-case hex");
    rejects("b4ff8a6d ops Admin -\n", "64 lower-case hex", "a short hash");
    rejects(H_ADMIN "0 ops Admin -\n", "64 lower-case hex", "a long hash");
    rejects("g4ff8a6d8e4a2b0e33302c6a90b6dcbed4c7d3ae5c09e6ed4c3c75e81cb4ea34 ops Admin -\n",
            "64 lower-case hex", "a non-hex digit");
    rejects("admin-token ops Admin -\n", "64 lower-case hex", "a token instead of its hash");
    rejects(H_ADMIN " ops admin -\n", "role \"admin\" is not Admin, Reader or Metrics",
            "a role in the wrong case");
    rejects(H_ADMIN " ops Viewer -\n", "role \"Viewer\"", "an unknown role");
    rejects(H_ADMIN " op\x01s Admin -\n", "NAME must be", "a control character in the name");
    rejects(H_ADMIN " caf\xc3\xa9 Admin -\n", "NAME must be", "a non-ASCII name");
    char longname[300];
    memset(longname, 'n', 129);
    longname[129] = '\0';
    char line[600];
    snprintf(line, sizeof line, H_ADMIN " %s Admin -\n", longname);
    rejects(line, "NAME must be 1-128", "a name of 129 bytes");
    rejects(H_ADMIN " ops Admin 2027-01-31\n", "expiry \"2027-01-31\" is not an RFC 3339",
            "a date without a time");
    rejects(H_ADMIN " ops Admin never\n", "is not an RFC 3339", "a word as expiry");
    rejects(H_ADMIN " ops Admin 2027-02-30T00:00:00Z\n", "is not an RFC 3339",
            "a day that does not exist");
    rejects(H_ADMIN " ops Admin 2027-01-31T00:00:00\n", "is not an RFC 3339",
            "an expiry without a zone");
    rejects(H_ADMIN " ops Admin -- \n", "is not an RFC 3339", "-- as expiry");
    rejects(H_ADMIN " ops Admin - shop,,payments\n", "\"\" in the namespace list",
            "an empty namespace between commas");
    rejects(H_ADMIN " ops Admin - shop,\n", "\"\" in the namespace list", "a trailing comma");
    rejects(H_ADMIN " ops Admin - Shop\n", "\"Shop\" in the namespace list",
            "an upper-case namespace");
    rejects(H_ADMIN " ops Admin - -shop\n", "\"-shop\"", "a namespace starting with -");
    rejects(H_ADMIN " ops Admin - shop, payments\n", "more than 5 fields", "a space after a comma");
    rejects(H_ADMIN " a Admin -\n" H_READER " b Reader -\n" H_ADMIN " c Reader -\n",
            "line 3: the same token hash as token \"a\"", "the same hash twice");
    char nul[] = H_ADMIN " ops Admin -\n# x\0y\n";
    struct auth_tokens t;
    struct err e = {0};
    CHECK(auth_tokens_parse(nul, sizeof nul - 1, &t, &e) == -1 &&
              strstr(e.msg, "line 2 holds a NUL byte"),
          "rejects a NUL byte");

    char *big = malloc(AUTH_LINE_MAX + 100);
    memset(big, '#', AUTH_LINE_MAX + 1);
    strcpy(big + AUTH_LINE_MAX + 1, "\n");
    rejects(big, "line 1 is longer than 4096 bytes", "a line over the bound (even a comment)");
    free(big);

    size_t n = AUTH_TOKENS_MAX + 1, linelen = 64 + 12;
    char *many = malloc(n * linelen + 1), *p = many;
    for (size_t i = 0; i < n; i++)
        p += sprintf(p, "%064lx x Admin -\n", (unsigned long)i);
    rejects(many, "more than 10000 tokens", "10001 tokens");
    free(many);
    char *huge = calloc(AUTH_FILE_MAX + 2, 1);
    memset(huge, '\n', AUTH_FILE_MAX + 1);
    CHECK(auth_tokens_parse(huge, AUTH_FILE_MAX + 1, &t, &e) == -1 && strstr(e.msg, "larger than"),
          "rejects a file over 1 MiB");
    free(huge);
}

static void times(void)
{
    int64_t v = 7;
    CHECK(rfc3339_parse("1970-01-01T00:00:00Z", &v) == 0 && v == 0, "the epoch");
    CHECK(rfc3339_parse("2024-02-29t12:00:00.999z", &v) == 0 && v == 1709208000,
          "leap day, fraction dropped, lower-case t and z");
    CHECK(rfc3339_parse("2024-01-01T00:30:00-00:30", &v) == 0 && v == 1704070800,
          "negative offset");
    CHECK(rfc3339_parse("2016-12-31T23:59:60Z", &v) == 0 && v == 1483228799, "leap second");
    v = 7;
    CHECK(rfc3339_parse("2023-02-29T00:00:00Z", &v) == -1 && v == 7,
          "no Feb 29 in 2023, output untouched");
    CHECK(rfc3339_parse("2024-13-01T00:00:00Z", &v) == -1, "month 13");
    CHECK(rfc3339_parse("2024-01-01T24:00:00Z", &v) == -1, "hour 24");
    CHECK(rfc3339_parse("2024-01-01T00:00:00.Z", &v) == -1, "an empty fraction");
    CHECK(rfc3339_parse("2024-01-01T00:00:00+0100", &v) == -1, "an offset without a colon");
    CHECK(rfc3339_parse("2024-01-01T00:00:00+24:00", &v) == -1, "offset hour 24");
    CHECK(rfc3339_parse("2024-01-01T00:00:00Zjunk", &v) == -1, "trailing bytes");
    CHECK(rfc3339_parse("2024-1-01T00:00:00Z", &v) == -1, "a one-digit month");
    CHECK(rfc3339_parse("", &v) == -1, "an empty string");
}

static char tokens_path[64];

static void write_file(const char *text)
{
    /* a new file each time, renamed over the old one, as an operator's editor would */
    char tmp[80];
    snprintf(tmp, sizeof tmp, "%s.new", tokens_path);
    FILE *f = fopen(tmp, "w");
    fputs(text, f);
    fclose(f);
    chmod(tmp, 0600);
    rename(tmp, tokens_path);
}

/* the HTTP status auth_check refuses path with (0: allowed), the message in msg */
static int check(struct auth *a, const char *path, const char *header, struct api_view *v,
                 char msg[ERR_MSG_MAX])
{
    struct err e = {0};
    auth_refresh(a);
    int rc = auth_check(a, path, header, 1800000000, v, &e);
    snprintf(msg, ERR_MSG_MAX, "%s", e.msg);
    return rc ? err_http_status(e.code) : 0; /* the status the server answers */
}

#define TOKENS                                                                                     \
    "%s admin Admin -\n"                                                                           \
    "%s reader Reader 2030-01-01T00:00:00Z\n"                                                      \
    "%s prom Metrics -\n"                                                                          \
    "%s old Reader 2020-01-01T00:00:00Z\n"                                                         \
    "%s shop Reader - shop,payments\n"

/* The hex SHA-256 of token (the tests build files from tokens, as cgi/new-token.sh does). */
static void hexsha(const char *token, char out[65])
{
    char cmd[200];
    snprintf(cmd, sizeof cmd, "printf %%s '%s' | sha256sum", token);
    FILE *p = popen(cmd, "r");
    if (!p || !fgets(out, 65, p)) out[0] = '\0';
    if (p) pclose(p);
}

static void checks(void)
{
    snprintf(tokens_path, sizeof tokens_path, "/tmp/polsnap-test-tokens-%d", (int)getpid());
    char h[5][65], text[2048];
    const char *names[5] = {"t-admin", "t-reader", "t-metrics", "t-old", "t-shop"};
    for (int i = 0; i < 5; i++)
        hexsha(names[i], h[i]);
    snprintf(text, sizeof text, TOKENS, h[0], h[1], h[2], h[3], h[4]);
    write_file(text);

    struct auth a;
    auth_init(&a, tokens_path);
    struct api_view v;
    char msg[ERR_MSG_MAX];
    CHECK(check(&a, "/v1/namespaces", NULL, &v, msg) == 401 && strstr(msg, "no token"),
          "no header: 401");
    CHECK(a.usable && a.tokens.n == 5, "the file was read: 5 tokens");
    CHECK(check(&a, "/v1/namespaces", "", &v, msg) == 401, "an empty header: 401");
    CHECK(check(&a, "/v1/namespaces", "Basic dDp0", &v, msg) == 401 &&
              strstr(msg, "unsupported authorization"),
          "another scheme: 401");
    CHECK(check(&a, "/v1/namespaces", "Bearer ", &v, msg) == 401, "Bearer without a token: 401");
    CHECK(check(&a, "/v1/namespaces", "Bearer t-nobody", &v, msg) == 401 &&
              !strcmp(msg, "invalid token"),
          "an unknown token: 401 invalid token");
    CHECK(check(&a, "/v1/namespaces", "Bearer " H_ADMIN, &v, msg) == 401,
          "the hash itself is not a token");
    CHECK(check(&a, "/v1/namespaces", "Bearer t-admin", &v, msg) == 0 && v.auth &&
              v.role == API_ADMIN && !strcmp(v.token_name, "admin") && !v.expires && !v.namespaces,
          "Admin passes, view filled");
    CHECK(check(&a, "/v1/namespaces", "bearer   t-admin  ", &v, msg) == 0,
          "scheme in any case, spaces around the token");
    CHECK(check(&a, "/v1/namespaces", "Bearer t-admi", &v, msg) == 401, "a token's prefix: 401");
    CHECK(check(&a, "/v1/cluster-resources/results", "Bearer t-reader", &v, msg) == 0 &&
              v.role == API_READER && v.expires == 1893456000,
          "Reader passes, expiry in the view");
    CHECK(check(&a, "/metrics", "Bearer t-reader", &v, msg) == 0, "Reader reads /metrics");
    CHECK(check(&a, "/v1/namespaces", "Bearer t-old", &v, msg) == 401 &&
              strstr(msg, "expired at 2020-01-01T00:00:00Z") && !v.role,
          "an expired token: 401 saying so, view zeroed");
    CHECK(check(&a, "/metrics", "Bearer t-metrics", &v, msg) == 0 && v.role == API_METRICS,
          "Metrics reads /metrics");
    CHECK(check(&a, "/v1/auth/status", "Bearer t-metrics", &v, msg) == 0 &&
              check(&a, "/v1/mypermissions", "Bearer t-metrics", &v, msg) == 0,
          "Metrics reads its own status and permissions");
    CHECK(check(&a, "/v1/namespaces", "Bearer t-metrics", &v, msg) == 403 &&
              strstr(msg, "role Metrics"),
          "Metrics may not read reports: 403");
    CHECK(check(&a, "/v1/no-such", "Bearer t-metrics", &v, msg) == 403,
          "Metrics on an unknown path: 403");
    CHECK(check(&a, "/v1/namespaced-resources/results", "Bearer t-shop", &v, msg) == 0 &&
              v.nnamespaces == 2 && !strcmp(v.namespaces[0], "shop") &&
              !strcmp(v.namespaces[1], "payments"),
          "a namespace-limited token carries its namespaces");
    const char *open_paths[] = {"/healthz", "/ready", "/v1/ping"};
    for (int i = 0; i < 3; i++)
        CHECK(check(&a, open_paths[i], NULL, &v, msg) == 0 &&
                  check(&a, open_paths[i], "Bearer wrong", &v, msg) == 0,
              "%s needs no token (and ignores a wrong one)", open_paths[i]);

    /* revoke the reader: the next check reads the changed file */
    snprintf(text, sizeof text, "%s admin Admin -\n", h[0]);
    write_file(text);
    CHECK(check(&a, "/v1/namespaces", "Bearer t-reader", &v, msg) == 401,
          "a token removed from the file is refused at once");
    CHECK(check(&a, "/v1/namespaces", "Bearer t-admin", &v, msg) == 0, "the others still pass");

    /* fail closed */
    write_file("not-a-token line\n");
    CHECK(check(&a, "/v1/namespaces", "Bearer t-admin", &v, msg) == 503 &&
              strstr(msg, "tokens file cannot be used") && !a.usable &&
              strstr(a.err.msg, "line 1: 2 fields"),
          "a malformed file: 503 for every token, the reason kept for the log");
    CHECK(check(&a, "/v1/namespaces", NULL, &v, msg) == 503, "... and without a token");
    CHECK(check(&a, "/v1/ping", NULL, &v, msg) == 0 && check(&a, "/ready", NULL, &v, msg) == 0,
          "... but ping and ready still answer");
    unlink(tokens_path);
    CHECK(check(&a, "/v1/namespaces", "Bearer t-admin", &v, msg) == 503 &&
              strstr(a.err.msg, "No such file"),
          "a missing file: 503");
    mkdir(tokens_path, 0700);
    CHECK(check(&a, "/v1/namespaces", "Bearer t-admin", &v, msg) == 503 &&
              strstr(a.err.msg, "not a regular file"),
          "a directory: 503");
    rmdir(tokens_path);
    write_file(text);
    chmod(tokens_path, 0666);
    CHECK(check(&a, "/v1/namespaces", "Bearer t-admin", &v, msg) == 503 &&
              strstr(a.err.msg, "writable by every user"),
          "a world-writable file: 503");
    chmod(tokens_path, 0644);
    CHECK(check(&a, "/v1/namespaces", "Bearer t-admin", &v, msg) == 0 && a.usable,
          "fixed (chmod is a change too): served again");
    auth_release(&a);
    unlink(tokens_path);
}

/* The documented example file (tests/fixtures/tokens/example), read as the server reads it. */
static void example_file(void)
{
    const char *root = getenv("POLSNAP_ROOT");
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/fixtures/tokens/example", root ? root : ".");
    struct auth a;
    auth_init(&a, path);
    struct api_view v;
    char msg[ERR_MSG_MAX];
    CHECK(check(&a, "/v1/namespaces", "Bearer example-admin", &v, msg) == 0 && a.tokens.n == 4,
          "the example file: 4 tokens, example-admin passes");
    CHECK(check(&a, "/v1/namespaces", "Bearer example-reader", &v, msg) == 0 &&
              !strcmp(v.token_name, "ci@example.com"),
          "the example file: example-reader is ci@example.com");
    CHECK(check(&a, "/v1/namespaces", "Bearer example-metrics", &v, msg) == 403,
          "the example file: example-metrics reads /metrics only");
    CHECK(check(&a, "/v1/namespaces", "Bearer example-shop", &v, msg) == 0 && v.nnamespaces == 2 &&
              !strcmp(v.namespaces[1], "payments"),
          "the example file: example-shop is limited to two namespaces");
    auth_release(&a);
}

int main(void)
{
    good_files();
    bad_files();
    times();
    checks();
    example_file();
    return TAP_DONE();
}
