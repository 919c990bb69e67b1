/* test_s3.c - what the S3 client hands libcurl to sign (the canonical path of keys with spaces and
 * unicode, the sorted and encoded query, the URL in both addressings, the payload hash), s3://
 * URLs, the credentials reader, and each site file's object headers. (The signatures themselves
 * are verified by @smithy/signature-v4 in tests/integration/test_s3.py.) */
#include "s3.h"
#include "tap.h"
#include "upload.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *path_of(const char *key)
{
    static char out[512];
    struct buf b = BUF_INIT(4096);
    s3_key_path(&b, key);
    snprintf(out, sizeof out, "%s", b.ptr ? b.ptr : "");
    buf_release(&b);
    return out;
}

static void key_paths(void)
{
    CHECK_STR(path_of("site/data/v1/summary.json"), "site/data/v1/summary.json", "plain keys stay");
    CHECK_STR(path_of("my site/caf\xc3\xa9/a b.json"), "my%20site/caf%C3%A9/a%20b.json",
              "a space is %%20 (never +), UTF-8 bytes are %%XX in upper case");
    CHECK_STR(path_of("a+b=c&d(1)!*'"), "a%2Bb%3Dc%26d%281%29%21%2A%27",
              "reserved characters are encoded");
    CHECK_STR(path_of("-._~/x"), "-._~/x", "unreserved characters and / stay");
    CHECK_STR(path_of("dir/"), "dir/", "a trailing slash stays");
    CHECK_STR(path_of(""), "", "the empty key is the bucket's root");
}

static void queries(void)
{
    struct buf b = BUF_INIT(4096);
    const char *list[] = {"prefix", "dir/", "list-type", "2", "delimiter", "/"};
    s3_query(&b, list, 3);
    CHECK_STR(b.ptr, "delimiter=%2F&list-type=2&prefix=dir%2F",
              "sorted by name, values percent-encoded (libcurl signs the query as given)");
    buf_reset(&b);
    const char *tok[] = {"continuation-token", "1/a+b= c", "list-type", "2"};
    s3_query(&b, tok, 2);
    CHECK_STR(b.ptr, "continuation-token=1%2Fa%2Bb%3D%20c&list-type=2",
              "a continuation token's / + = and space are encoded");
    buf_reset(&b);
    const char *up[] = {"uploadId", "x~y", "partNumber", "10"};
    s3_query(&b, up, 2);
    CHECK_STR(b.ptr, "partNumber=10&uploadId=x~y", "partNumber sorts before uploadId");
    buf_release(&b);
}

static char *url_of(const char *endpoint, const char *region, const char *mode, const char *key,
                    const char *query)
{
    static char out[512];
    struct s3_creds cr = {.key_id = "AKID", .secret = "s"};
    struct s3_conf conf = {.endpoint = endpoint, .region = region, .addressing = mode};
    struct err e = {0};
    struct s3 *s = s3_open(&conf, &cr, "bucket", &e);
    if (!s) {
        snprintf(out, sizeof out, "error: %s", e.msg);
        return out;
    }
    struct buf b = BUF_INIT(4096);
    s3_object_url(s, key, query, &b);
    snprintf(out, sizeof out, "%s", b.ptr);
    buf_release(&b);
    s3_close(s);
    return out;
}

static void urls(void)
{
    CHECK_STR(url_of("http://127.0.0.1:9000/", NULL, NULL, "a b/\xc3\xa9", NULL),
              "http://127.0.0.1:9000/bucket/a%20b/%C3%A9",
              "an endpoint means path-style by default; its trailing slash goes");
    CHECK_STR(url_of(NULL, "eu-west-1", NULL, "k", "list-type=2"),
              "https://bucket.s3.eu-west-1.amazonaws.com/k?list-type=2",
              "AWS by default: virtual-hosted in the region");
    CHECK_STR(url_of(NULL, NULL, "path", NULL, "delete="),
              "https://s3.us-east-1.amazonaws.com/bucket/?delete=",
              "path-style on AWS on request; us-east-1 by default");
    CHECK_STR(url_of("https://minio.example:9000", NULL, "virtual", "k", NULL),
              "https://bucket.minio.example:9000/k", "virtual-hosted on an endpoint");
    CHECK(!strncmp(url_of("ftp://x", NULL, NULL, "k", NULL), "error: S3 endpoint ftp://x", 26),
          "an endpoint that is not http(s) is refused");
    CHECK(!strncmp(url_of(NULL, NULL, "vhost", "k", NULL), "error: S3 addressing vhost", 26),
          "an unknown addressing is refused");
}

static void s3_urls(void)
{
    struct s3_url u;
    struct err e = {0};
    CHECK(s3_url_parse("s3://my-bucket.1/site", &u, &e) == 0 && !strcmp(u.bucket, "my-bucket.1") &&
              !strcmp(u.prefix, "site/"),
          "s3://BUCKET/PREFIX: the prefix gains its slash");
    CHECK(s3_url_parse("s3://bucket", &u, &e) == 0 && !strcmp(u.prefix, ""), "no prefix: the root");
    CHECK(s3_url_parse("s3://bucket//a/b/", &u, &e) == 0 && !strcmp(u.prefix, "a/b/"),
          "leading slashes of the prefix go, its own trailing one stays single");
    CHECK(s3_url_parse("s3://Bad_Bucket/x", &u, &e) == -1 && e.code == ERR_INVALID &&
              strstr(e.msg, "bucket name"),
          "a bucket name S3 refuses is refused: %s", e.msg);
    CHECK(s3_url_parse("https://bucket/x", &u, &e) == -1 && strstr(e.msg, "want s3://"),
          "not s3://: %s", e.msg);
    CHECK(s3_url_parse("s3://bucket/a\r\nb", &u, &e) == -1 && strstr(e.msg, "control"),
          "a control character in the prefix is refused");
}

static void hashes(void)
{
    char h[65];
    s3_sha256_hex("", 0, h);
    CHECK_STR(h, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
              "the empty payload's hash (sent on every GET)");
    s3_sha256_hex("abc", 3, h);
    CHECK_STR(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
              "SHA-256 of abc");
    FILE *f = tmpfile();
    fputs("xxabcxx", f);
    fflush(f);
    CHECK(s3_sha256_file(fileno(f), 2, 3, h) == 0 &&
              !strcmp(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
          "a file's range hashes like the bytes (a multipart part)");
    fclose(f);
}

static void credentials(void)
{
    struct s3_creds c;
    struct err e = {0};
    unsetenv("AWS_PROFILE");
    setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "envsecret", 1);
    setenv("AWS_SESSION_TOKEN", "tok", 1);
    CHECK(s3_creds_load(&c, &e) == 0 && !strcmp(c.key_id, "AKIDENV") &&
              !strcmp(c.secret, "envsecret") && !strcmp(c.token, "tok") &&
              !strcmp(c.from, "the environment"),
          "the environment first");
    unsetenv("AWS_ACCESS_KEY_ID");
    unsetenv("AWS_SESSION_TOKEN");
    char path[] = "/tmp/polsnap-creds-XXXXXX";
    int fd = mkstemp(path);
    const char *text =
        "# comment\n[default]\naws_access_key_id = AKIDDEF\naws_secret_access_key=d\n"
        "\n[ci]\r\naws_access_key_id=AKIDCI \r\n ; note\naws_secret_access_key = "
        "s e c\r\naws_session_token = T\n[bad]\naws_access_key_id=x\x01y\n"
        "aws_secret_access_key=z\n";
    CHECK(write(fd, text, strlen(text)) == (ssize_t)strlen(text), "wrote a credentials file");
    close(fd);
    setenv("AWS_SHARED_CREDENTIALS_FILE", path, 1);
    CHECK(s3_creds_load(&c, &e) == 0 && !strcmp(c.key_id, "AKIDDEF") && !strcmp(c.secret, "d") &&
              !c.token[0],
          "else the file's [default] (the secret alone is no reason to stop at the environment)");
    setenv("AWS_PROFILE", "ci", 1);
    CHECK(s3_creds_load(&c, &e) == 0 && !strcmp(c.key_id, "AKIDCI") && !strcmp(c.secret, "s e c") &&
              !strcmp(c.token, "T"),
          "AWS_PROFILE picks the section; CRLF, blanks and comments are fine");
    setenv("AWS_PROFILE", "bad", 1);
    CHECK(s3_creds_load(&c, &e) == -1 && strstr(e.msg, "control character") &&
              !strstr(e.msg, "x\x01y") && !c.key_id[0],
          "a control character is refused, the value not shown: %s", e.msg);
    setenv("AWS_PROFILE", "nope", 1);
    CHECK(s3_creds_load(&c, &e) == -1 && strstr(e.msg, "no profile [nope]"), "%s", e.msg);
    unlink(path);
    unsetenv("AWS_PROFILE");
    CHECK(s3_creds_load(&c, &e) == -1 && strstr(e.msg, "cannot be read") &&
              strstr(e.msg, "AWS_ACCESS_KEY_ID"),
          "no credentials anywhere: %s", e.msg);
    unsetenv("AWS_SHARED_CREDENTIALS_FILE");
    unsetenv("AWS_SECRET_ACCESS_KEY");
}

static void headers(void)
{
    struct s3_headers h = upload_headers("data/v1/summary.json");
    CHECK(!strcmp(h.content_type, "application/json") &&
              !strcmp(h.cache_control, "public, max-age=31536000, immutable") &&
              !h.content_encoding,
          "a snapshot file is immutable JSON");
    h = upload_headers("index.html");
    CHECK(!strcmp(h.content_type, "text/html; charset=utf-8") &&
              !strcmp(h.cache_control, "public, max-age=300"),
          "a dashboard file is cached briefly");
    h = upload_headers("data/metrics.txt");
    CHECK(!strcmp(h.content_type, "text/plain; version=0.0.4"), "metrics are Prometheus text");
    h = upload_headers("data/shards/x.json.gz");
    CHECK(!strcmp(h.content_type, "application/json") && h.content_encoding &&
              !strcmp(h.content_encoding, "gzip"),
          "a precompressed file is typed by its inner name, gzip-encoded");
    h = upload_headers("js/blob");
    CHECK(!strcmp(h.content_type, "application/octet-stream"), "an unknown type is octets");
}

int main(void)
{
    key_paths();
    queries();
    urls();
    s3_urls();
    hashes();
    credentials();
    headers();
    return TAP_DONE();
}
