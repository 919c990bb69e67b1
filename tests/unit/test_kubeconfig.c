/* test_kubeconfig.c - kubeconfig and in-cluster parsing: every supported field, every refusal. */
#include "kubeconfig.h"
#include "tap.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[] = "/tmp/polsnap-kubeconfig-XXXXXX";
static char path[256];

static void write_file(const char *name, const char *text)
{
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f) {
        perror(path);
        exit(2);
    }
    fputs(text, f);
    fclose(f);
}

/* A kubeconfig with one cluster, one user and two contexts; the test varies the user, the
 * cluster extras and the current context. */
static int load(const char *cluster_extra, const char *user, const char *context,
                struct kube_target *t, struct err *e)
{
    char text[4096];
    snprintf(text, sizeof text,
             "apiVersion: v1\nkind: Config\ncurrent-context: main\n"
             "clusters:\n- name: c1\n  cluster:\n    server: https://10.0.0.1:6443/\n%s"
             "- name: c2\n  cluster:\n    server: https://10.0.0.2:6443\n"
             "contexts:\n- name: main\n  context: {cluster: c1, user: u1, namespace: x}\n"
             "- name: second\n  context:\n    cluster: c2\n    user: u1\n"
             "users:\n- name: u1\n  user:\n%s",
             cluster_extra, user);
    write_file("config", text);
    return kubeconfig_load(path, context, t, e);
}

static void test_token_and_ca_file(void)
{
    struct kube_target t;
    struct err e = {0};
    const char *err = e.msg;
    int rc =
        load("    certificate-authority: certs/ca.crt\n", "    token: abc.def\n", NULL, &t, &e);
    CHECK(rc == 0, "token kubeconfig loads (%s)", err);
    CHECK_STR(t.server, "https://10.0.0.1:6443", "server without its trailing slash");
    CHECK_STR(t.token, "abc.def", "token");
    char want[300];
    snprintf(want, sizeof want, "%s/certs/ca.crt", dir);
    CHECK_STR(t.ca_file, want, "relative CA path resolves against the kubeconfig's directory");
    CHECK(t.ca_pem == NULL && t.cert_file == NULL && t.insecure == 0, "nothing else set");
    CHECK(strstr(t.where, "context \"main\"") != NULL, "where names the context: %s", t.where);

    struct http_conf conf = {0};
    conf.timeout_ms = 1234;
    kube_target_http_conf(&t, &conf);
    CHECK(conf.ca_file == t.ca_file && conf.bearer_token == t.token && conf.timeout_ms == 1234,
          "http_conf borrows the trust and token and keeps the rest");
    kube_target_release(&t);
    CHECK(t.server == NULL && t.token == NULL, "release zeroes the target");
    kube_target_release(NULL);
}

static void test_inline_data(void)
{
    struct kube_target t;
    struct err e = {0};
    const char *err = e.msg;
    /* base64 of "-----BEGIN CERTIFICATE-----\nCA\n", of "CERT\n" and of "KEY\n", wrapped. */
    int rc = load("    certificate-authority-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0t\n"
                  "      CkNBCg==\n"
                  "    certificate-authority: ignored.crt\n",
                  "    client-certificate-data: Q0VSVAo=\n    client-key-data: S0VZCg==\n", NULL,
                  &t, &e);
    CHECK(rc == 0, "inline data loads (%s)", err);
    CHECK_STR(t.ca_pem, "-----BEGIN CERTIFICATE-----\nCA\n", "CA data decoded (folded lines)");
    CHECK(t.ca_file == NULL, "-data wins over the file");
    CHECK_STR(t.cert_pem, "CERT\n", "client certificate data");
    CHECK_STR(t.key_pem, "KEY\n", "client key data");
    CHECK(t.token == NULL, "no token");
    struct http_conf conf = {0};
    kube_target_http_conf(&t, &conf);
    CHECK(conf.ca_pem_len == strlen(t.ca_pem) && conf.key_pem_len == 4, "PEM lengths");
    kube_target_release(&t);
}

static void test_client_cert_files_and_context(void)
{
    struct kube_target t;
    struct err e = {0};
    const char *err = e.msg;
    int rc =
        load("    insecure-skip-tls-verify: true\n",
             "    client-certificate: /abs/user.crt\n    client-key: user.key\n", "second", &t, &e);
    CHECK(rc == 0, "client certificate files load (%s)", err);
    CHECK_STR(t.server, "https://10.0.0.2:6443", "--context picks the other cluster");
    CHECK_STR(t.cert_file, "/abs/user.crt", "absolute path kept");
    CHECK(t.key_file && strncmp(t.key_file, dir, strlen(dir)) == 0, "relative key resolved");
    CHECK(t.insecure == 0, "insecure belongs to the other cluster");
    kube_target_release(&t);

    rc = load("    insecure-skip-tls-verify: true\n", "    token: x\n", NULL, &t, &e);
    CHECK(rc == 0 && t.insecure == 1, "insecure-skip-tls-verify: true");
    kube_target_release(&t);
}

static void test_token_file(void)
{
    struct kube_target t;
    struct err e = {0};
    const char *err = e.msg;
    write_file("tok", "s3cret-token\r\n");
    int rc = load("", "    tokenFile: tok\n", NULL, &t, &e);
    CHECK(rc == 0, "tokenFile loads (%s)", err);
    CHECK_STR(t.token, "s3cret-token", "token read from the file, newline trimmed");
    kube_target_release(&t);

    write_file("tok", "\n");
    rc = load("", "    tokenFile: tok\n", NULL, &t, &e);
    CHECK(rc == -1 && strstr(err, "empty"), "an empty token file is an error: %s", err);
    rc = load("", "    tokenFile: missing-token\n", NULL, &t, &e);
    CHECK(rc == -1 && strstr(err, "missing-token"), "a missing token file is named: %s", err);
}

/* Each case: cluster extra, user, context, a fragment the error must contain. */
static void test_refusals(void)
{
    static const struct {
        const char *cluster, *user, *context, *want;
    } cases[] = {
        {"", "    exec:\n      command: aws\n", NULL, "'exec', which polsnap does not support"},
        {"", "    auth-provider:\n      name: gcp\n", NULL, "'auth-provider'"},
        {"", "    username: admin\n    password: x\n", NULL, "'username'"},
        {"", "    token: x\n    as: someone\n", NULL, "'as'"},
        {"    proxy-url: http://proxy:3128\n", "    token: x\n", NULL, "'proxy-url'"},
        {"    tls-server-name: api\n", "    token: x\n", NULL, "'tls-server-name'"},
        {"", "    client-certificate: a.crt\n", NULL, "without its key"},
        {"", "    client-key-data: S0VZCg==\n", NULL, "without its key"},
        {"", "    {}\n", NULL, "no credentials"},
        {"", "    token: ~\n", NULL, "no credentials"},
        {"", "    token: x\n", "nope",
         "no context named \"nope\" (contexts: \"main\", \"second\")"},
        {"    certificate-authority-data: '!!notbase64'\n", "    token: x\n", NULL,
         "certificate-authority-data is not valid base64"},
        {"    insecure-skip-tls-verify: maybe\n", "    token: x\n", NULL,
         "insecure-skip-tls-verify must be true or false"},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        struct kube_target t;
        struct err e = {0};
        const char *err = e.msg;
        int rc = load(cases[i].cluster, cases[i].user, cases[i].context, &t, &e);
        CHECK(rc == -1 && strstr(err, cases[i].want) && t.server == NULL, "refused %zu: %s", i,
              err);
    }
}

static void test_malformed(void)
{
    struct kube_target t;
    struct err e = {0};
    const char *err = e.msg;
    static const struct {
        const char *text, *want;
    } cases[] = {
        {"clusters: [\n", "invalid YAML at line"},
        {"- a\n- b\n", "expected a YAML mapping"},
        {"", "expected a YAML mapping"},
        {"apiVersion: v1\n", "no current-context"},
        {"current-context: a\ncontexts:\n- name: a\n  context: {cluster: c}\n", "needs both"},
        {"current-context: a\ncontexts:\n- name: a\n  context: {cluster: c, user: u}\n",
         "no cluster named \"c\" (clusters: none)"},
        {"current-context: a\ncontexts:\n- name: a\n  context: {cluster: c, user: u}\n"
         "clusters:\n- name: c\n  cluster: {server: ftp://x}\n",
         "needs a server https://"},
        {"current-context: a\ncontexts:\n- name: a\n  context: {cluster: c, user: u}\n"
         "clusters:\n- name: c\n  cluster: {server: 'https://x'}\nusers:\n- name: u\n",
         "user \"u\" has no user section"},
    };
    for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
        write_file("bad", cases[i].text);
        int rc = kubeconfig_load(path, NULL, &t, &e);
        CHECK(rc == -1 && strstr(err, cases[i].want), "malformed %zu: %s", i, err);
    }
    CHECK(kubeconfig_load("/nonexistent/kubeconfig", NULL, &t, &e) == -1 &&
              strstr(err, "cannot read /nonexistent/kubeconfig"),
          "missing file: %s", err);
}

static void test_in_cluster(void)
{
    struct kube_target t;
    struct err e = {0};
    const char *err = e.msg;
    char sa[300];
    snprintf(sa, sizeof sa, "%s/sa", dir);
    mkdir(sa, 0700);
    setenv("POLSNAP_SERVICEACCOUNT_DIR", sa, 1);

    unsetenv("KUBERNETES_SERVICE_HOST");
    CHECK(kubeconfig_in_cluster(&t, &e) == -1 && strstr(err, "not running inside a pod"),
          "outside a pod: %s", err);
    setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1);
    setenv("KUBERNETES_SERVICE_PORT", "443x", 1);
    CHECK(kubeconfig_in_cluster(&t, &e) == -1 && strstr(err, "port number"), "bad port: %s", err);
    setenv("KUBERNETES_SERVICE_PORT", "443", 1);
    CHECK(kubeconfig_in_cluster(&t, &e) == -1 && strstr(err, "sa/token"), "no token: %s", err);

    write_file("sa/token", "eyJhbGciOi.first\n");
    CHECK(kubeconfig_in_cluster(&t, &e) == -1 && strstr(err, "sa/ca.crt"), "no CA: %s", err);
    write_file("sa/ca.crt", "-----BEGIN CERTIFICATE-----\n");
    int rc = kubeconfig_in_cluster(&t, &e);
    CHECK(rc == 0, "in-cluster loads (%s)", err);
    CHECK_STR(t.server, "https://10.96.0.1:443", "server from the environment");
    CHECK_STR(t.token, "eyJhbGciOi.first", "token from the service account");
    CHECK(t.ca_file && strstr(t.ca_file, "/sa/ca.crt"), "CA file of the service account");
    kube_target_release(&t);

    /* Bound tokens rotate: the next call reads the new one. */
    write_file("sa/token", "eyJhbGciOi.second");
    setenv("KUBERNETES_SERVICE_HOST", "fd00::1", 1);
    rc = kubeconfig_in_cluster(&t, &e);
    CHECK(rc == 0, "in-cluster again (%s)", err);
    CHECK_STR(t.token, "eyJhbGciOi.second", "the rotated token is read");
    CHECK_STR(t.server, "https://[fd00::1]:443", "an IPv6 host is bracketed");
    kube_target_release(&t);
}

int main(void)
{
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 2;
    }
    test_token_and_ca_file();
    test_inline_data();
    test_client_cert_files_and_context();
    test_token_file();
    test_refusals();
    test_malformed();
    test_in_cluster();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) printf("# could not remove %s\n", dir);
    return TAP_DONE();
}
