/* test_util.c - the helpers several modules share (util.h, buf.h): FNV-1a, UTF-8, DNS labels,
 * tree removal, percent-encoding and the bounded file reader. */
#include "buf.h"
#include "util.h"
#include "tap.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static void test_fnv1a(void)
{
    /* the offset basis, then one FNV-1a step by hand: (basis ^ 'a') * the 64-bit prime */
    CHECK(fnv1a("", 0) == 1469598103934665603ull, "the empty string hashes to the basis");
    CHECK(fnv1a("a", 1) == (1469598103934665603ull ^ 'a') * 1099511628211ull, "one byte");
    CHECK(fnv1a("ab", 2) ==
              ((1469598103934665603ull ^ 'a') * 1099511628211ull ^ 'b') * 1099511628211ull,
          "two bytes, in order");
    CHECK(fnv1a("ab\0c", 4) != fnv1a("ab", 2), "bytes after a NUL count");
}

static void test_utf8(void)
{
    const unsigned char *u = (const unsigned char *)"\xc3\xa9";
    CHECK(utf8_seq((const unsigned char *)"a", 1) == 1, "ASCII is one byte");
    CHECK(utf8_seq(u, 2) == 2 && utf8_seq(u, 1) == 0, "é is two bytes, cut it is none");
    CHECK(utf8_seq((const unsigned char *)"\xe2\x82\xac", 3) == 3, "€ is three");
    CHECK(utf8_seq((const unsigned char *)"\xf0\x9f\x98\x80", 4) == 4, "an emoji is four");
    CHECK(utf8_seq((const unsigned char *)"\xc0\xaf", 2) == 0, "an overlong form is refused");
    CHECK(utf8_seq((const unsigned char *)"\xed\xa0\x80", 3) == 0, "a surrogate is refused");
    CHECK(utf8_seq((const unsigned char *)"\xf4\x90\x80\x80", 4) == 0, "past U+10FFFF is refused");
    CHECK(utf8_seq((const unsigned char *)"\x80", 1) == 0, "a lone continuation byte");
    CHECK(utf8_seq(u, 0) == 0, "nothing is no sequence");
    CHECK(utf8_prefix("ab\xc3\xa9z", 5) == 5, "a valid string is its own prefix");
    CHECK(utf8_prefix("ab\xff"
                      "cd",
                      5) == 2,
          "the prefix stops at the first bad byte");
    CHECK(utf8_prefix("ab\xe2\x82", 4) == 2, "and before a sequence cut short");
}

static void test_dns_label(void)
{
    CHECK(dns_label("kube-system", 11), "kube-system is a label");
    CHECK(dns_label("a", 1) && dns_label("0", 1), "one character is enough");
    CHECK(!dns_label("", 0), "the empty name is not");
    CHECK(!dns_label("-a", 2) && !dns_label("a-", 2), "a dash at either end is not");
    CHECK(!dns_label("A", 1) && !dns_label("a.b", 3) && !dns_label("..", 2),
          "upper case, dots and .. are not");
    char long64[65];
    memset(long64, 'a', 64);
    long64[64] = '\0';
    CHECK(dns_label(long64, 63) && !dns_label(long64, 64), "63 characters at most");
    CHECK(dns_label("ab,cd", 2), "only the n bytes count");
}

static void test_urlencoded(void)
{
    struct buf b = BUF_INIT(1024);
    buf_put_urlencoded(&b, "Cluster:edge-1+Namespace:a b/é~._");
    CHECK_STR(b.ptr, "Cluster%3Aedge-1%2BNamespace%3Aa%20b%2F%C3%A9~._",
              "everything but the unreserved characters is percent-encoded");
    buf_release(&b);
}

static void test_html(void)
{
    struct buf b = BUF_INIT(1024);
    buf_put_escaped(&b, "<a href=\"x\">it's & \xe2\x80\xae\x01\t\n</a>");
    CHECK_STR(b.ptr,
              "&lt;a href=&quot;x&quot;&gt;it&#39;s &amp; \xe2\x80\xae\xef\xbf\xbd\t\n&lt;/a&gt;",
              "markup and quotes as references, a control character as U+FFFD, UTF-8 kept");
    buf_put_escaped(&b, NULL);
    CHECK(b.len == strlen(b.ptr), "NULL appends nothing");
    buf_release(&b);
}

static void put_file(const char *path, const char *content, size_t n)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd >= 0) {
        if (write(fd, content, n) != (ssize_t)n) perror("write");
        close(fd);
    }
}

static void test_read_file(const char *dir)
{
    char path[256];
    snprintf(path, sizeof path, "%s/f", dir);
    put_file(path, "0123456789", 10);
    struct buf b = BUF_INIT(10);
    CHECK(buf_read_file(&b, path) == 0 && b.len == 10 && strcmp(b.ptr, "0123456789") == 0,
          "a file exactly at the bound is read whole");
    buf_release(&b);
    struct buf small = BUF_INIT(9);
    errno = 0;
    CHECK(buf_read_file(&small, path) == -1 && errno == EFBIG && small.len == 0,
          "one byte past the bound is EFBIG, refused before reading");
    buf_release(&small);
    struct buf prefixed = BUF_INIT(12);
    buf_puts(&prefixed, "ab");
    CHECK(buf_read_file(&prefixed, path) == 0 && strcmp(prefixed.ptr, "ab0123456789") == 0,
          "the content is appended");
    buf_release(&prefixed);
    snprintf(path, sizeof path, "%s/empty", dir);
    put_file(path, "", 0);
    CHECK(buf_read_file(&b, path) == 0 && b.len == 0 && b.ptr && !*b.ptr,
          "an empty file reads as an empty, NUL-terminated buffer");
    buf_release(&b);
    errno = 0;
    snprintf(path, sizeof path, "%s/none", dir);
    CHECK(buf_read_file(&b, path) == -1 && errno == ENOENT, "a missing file: errno from open");
    int p[2];
    if (pipe(p) == 0) {
        if (write(p[1], "0123456789abc", 13) != 13) perror("write");
        close(p[1]);
        struct buf pb = BUF_INIT(10);
        errno = 0;
        CHECK(buf_read_fd(&pb, p[0]) == -1 && errno == EFBIG && pb.len == 10,
              "a pipe past the bound: EFBIG after the first max bytes");
        buf_release(&pb);
        close(p[0]);
    }
    if (pipe(p) == 0) {
        if (write(p[1], "xyz", 3) != 3) perror("write");
        close(p[1]);
        struct buf pb = BUF_INIT(3);
        CHECK(buf_read_fd(&pb, p[0]) == 0 && strcmp(pb.ptr, "xyz") == 0,
              "a pipe exactly at the bound is read whole");
        buf_release(&pb);
        close(p[0]);
    }
}

static void test_rm_rf(const char *dir)
{
    char sub[256], file[300], link[300];
    snprintf(sub, sizeof sub, "%s/tree/a/b", dir);
    snprintf(file, sizeof file, "%s/tree/a/b/f", dir);
    snprintf(link, sizeof link, "%s/tree/a/outside", dir);
    char keep[256];
    snprintf(keep, sizeof keep, "%s/keep", dir);
    put_file(keep, "k", 1);
    snprintf(file, sizeof file, "%s/tree", dir);
    mkdir(file, 0700);
    snprintf(file, sizeof file, "%s/tree/a", dir);
    mkdir(file, 0700);
    mkdir(sub, 0700);
    snprintf(file, sizeof file, "%s/tree/a/b/f", dir);
    put_file(file, "x", 1);
    if (symlink(keep, link) != 0) perror("symlink");
    snprintf(file, sizeof file, "%s/tree", dir);
    rm_rf(file);
    CHECK(access(file, F_OK) != 0, "rm_rf removes the whole tree");
    CHECK(access(keep, F_OK) == 0, "but not what a symlink in it points at");
    rm_rf(file); /* gone already: quietly nothing */
}

int main(void)
{
    char dir[] = "/tmp/polsnap-test-util-XXXXXX";
    if (!mkdtemp(dir)) return 1;
    test_fnv1a();
    test_utf8();
    test_dns_label();
    test_urlencoded();
    test_html();
    test_read_file(dir);
    test_rm_rf(dir);
    rm_rf(dir);
    return TAP_DONE();
}
