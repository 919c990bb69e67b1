/* test_http.c - the GET client against a scripted plain-HTTP server in a child process:
 * retries, Retry-After and its cap, size limit, truncation, refusals. (TLS is covered by
 * tests/integration/test_kube_source.py through fake_https.py.) */
#include "http.h"
#include "tap.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int port;
static pid_t child;

/* The child's script: what the n-th request to a path gets (the last answer repeats). */
static const char *answer(const char *path, int n)
{
    static const char big[] = "HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n";
    if (!strcmp(path, "/ok")) return "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
    if (!strcmp(path, "/busy-once"))
        return n == 0 ? "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\n"
                        "Content-Length: 4\r\n\r\nbusy"
                      : "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    if (!strcmp(path, "/busy-long"))
        return "HTTP/1.1 429 Too Many Requests\r\nRetry-After: 3600\r\nContent-Length: 4\r\n\r\n"
               "slow";
    if (!strcmp(path, "/forbidden")) return "HTTP/1.1 403 Forbidden\r\nContent-Length: 2\r\n\r\nno";
    if (!strcmp(path, "/truncated"))
        return "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly a part";
    if (!strcmp(path, "/big")) return big; /* the body follows, written by serve() */
    return "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n";
}

/* The client may hang up first (that is what some cases test): errors are expected. */
static void send_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w <= 0) return;
        p += w;
        n -= (size_t)w;
    }
}

static void serve(int ls)
{
    char paths[16][64];
    int hits[16] = {0}, npaths = 0;
    for (;;) {
        int fd = accept(ls, NULL, NULL);
        if (fd < 0) continue;
        char req[4096];
        ssize_t n = read(fd, req, sizeof req - 1);
        if (n <= 0) {
            close(fd);
            continue;
        }
        req[n] = '\0';
        char path[64] = "";
        sscanf(req, "GET %63s", path);
        int i = 0;
        while (i < npaths && strcmp(paths[i], path))
            i++;
        if (i == npaths && npaths < 16) snprintf(paths[npaths++], sizeof paths[0], "%s", path);
        const char *a = answer(path, hits[i]++);
        send_all(fd, a, strlen(a));
        if (!strcmp(path, "/big")) {
            char filler[5000];
            memset(filler, 'x', sizeof filler);
            send_all(fd, filler, sizeof filler);
        }
        close(fd); /* one request per connection keeps the script simple */
    }
}

static void start_server(void)
{
    int ls = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof sa;
    if (ls < 0 || bind(ls, (struct sockaddr *)&sa, sizeof sa) || listen(ls, 16) ||
        getsockname(ls, (struct sockaddr *)&sa, &len)) {
        perror("server socket");
        exit(2);
    }
    port = ntohs(sa.sin_port);
    child = fork();
    if (child == 0) {
        alarm(60); /* never outlive the test */
        serve(ls);
    }
    close(ls);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct http_client *client(int attempts, size_t max_body)
{
    struct http_conf conf = {0};
    conf.max_attempts = attempts;
    conf.first_backoff_ms = 10;
    conf.max_retry_after_s = 1;
    conf.timeout_ms = 5000;
    conf.max_body = max_body;
    conf.bearer_token = "t0ken";
    struct err e = {0};
    const char *err = e.msg;
    struct http_client *c = http_client_new(&conf, &e);
    if (!c) {
        printf("# http_client_new: %s\n", err);
        exit(2);
    }
    return c;
}

static int get(struct http_client *c, const char *path, struct http_response *r, struct err *e)
{
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, path);
    return http_get(c, url, r, e);
}

static void test_responses(void)
{
    struct http_client *c = client(3, 1000);
    struct http_response r;
    struct err e = {0};
    const char *err = e.msg;

    CHECK(get(c, "/ok", &r, &e) == 0 && r.status == 200 && r.attempts == 1, "200 (%s)", err);
    CHECK_STR(r.body.ptr, "hello", "body");
    http_response_release(&r);

    CHECK(get(c, "/forbidden", &r, &e) == 0 && r.status == 403 && r.attempts == 1,
          "a 403 is an answer, not retried");
    CHECK_STR(r.body.ptr, "no", "the error body is kept");
    http_response_release(&r);

    double t = now();
    CHECK(get(c, "/busy-once", &r, &e) == 0 && r.status == 200 && r.attempts == 2,
          "a 503 is retried (%s)", err);
    CHECK(now() - t >= 0.9, "Retry-After: 1 was honoured (%.2f s)", now() - t);
    http_response_release(&r);

    t = now();
    CHECK(get(c, "/busy-long", &r, &e) == 0 && r.status == 429 && r.attempts == 3,
          "a 429 that lasts is returned after the attempts ran out");
    CHECK(now() - t < 3.5, "Retry-After: 3600 was capped at 1 s (%.2f s)", now() - t);
    http_response_release(&r);

    CHECK(get(c, "/big", &r, &e) == -1 && strstr(err, "larger than the 1000-byte limit"),
          "oversized body: %s", err);
    http_response_release(&r);

    CHECK(get(c, "/truncated", &r, &e) == -1 && strstr(err, "cut off before its end") &&
              strstr(err, "after 3 attempts"),
          "truncated body, retried: %s", err);
    http_response_release(&r);
    http_client_free(c);
}

static void test_transport_errors(void)
{
    struct http_client *c = client(2, 0);
    struct http_response r;
    struct err e = {0};
    const char *err = e.msg;
    CHECK(http_get(c, "http://127.0.0.1:1/x", &r, &e) == -1 &&
              strstr(err, "GET http://127.0.0.1:1/x: cannot connect to the server after 2 "
                          "attempts"),
          "nothing listening: %s", err);
    http_response_release(&r);
    CHECK(http_get(c, "ftp://127.0.0.1/x", &r, &e) == -1 &&
              strstr(err, "only http:// and https://"),
          "other schemes refused: %s", err);
    http_response_release(&r);
    http_client_free(c);
    http_client_free(NULL);
}

static void test_refusals(void)
{
    struct err e = {0};
    const char *err = e.msg;
    struct http_conf conf = {0};
    conf.bearer_token = "abc\r\nX-Evil: 1";
    CHECK(http_client_new(&conf, &e) == NULL && strstr(err, "line break"),
          "a token with CR/LF is refused: %s", err);
    conf.bearer_token = NULL;
    conf.cert_file = "/x.crt";
    CHECK(http_client_new(&conf, &e) == NULL && strstr(err, "both the certificate and its key"),
          "a certificate without its key is refused: %s", err);
}

int main(void)
{
    start_server();
    test_responses();
    test_transport_errors();
    test_refusals();
    kill(child, SIGTERM);
    waitpid(child, NULL, 0);
    return TAP_DONE();
}
