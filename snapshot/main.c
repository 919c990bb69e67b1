/* main.c - polsnap-snapshot: reads every --source into one rowset and publishes a snapshot.
 * Arguments in, module calls, exit status out: 0 only when a snapshot was published. */
#include "notify.h"
#include "publish.h"
#include "rows.h"
#include "site.h"
#include "source.h"

#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define MAX_SOURCES 32

static const char usage[] =
    "usage: polsnap-snapshot --source SRC [--source SRC...] --data DIR [options]\n"
    "\n"
    "Reads policy reports from every SRC and publishes them as a new immutable snapshot in\n"
    "DIR/snapshots/, then points DIR/current at it (atomically). Exit 0 only when a snapshot\n"
    "was published; on any failure the last good snapshot stays served and the exit is 1\n"
    "(2 for a usage error).\n"
    "\n"
    "Sources (repeatable; their rows are merged):\n"
    "  files:PATH             a report file or a directory of them (.json .yaml .yml, recursive)\n"
    "  kubernetes             the cluster this runs in (service account token and CA)\n"
    "  kubernetes:KUBECONFIG  the cluster of a kubeconfig file\n"
    "  stackrox:URL           StackRox Central's alerts (token from ROX_API_TOKEN)\n"
    "\n"
    "Options (environment twin in brackets):\n"
    "  --source SRC             [POLSNAP_SOURCES, whitespace-separated]\n"
    "  --data DIR               data directory [POLSNAP_DATA]\n"
    "  --keep N                 snapshots kept, newest first (default 3) [POLSNAP_KEEP]\n"
    "  --skip-invalid           skip and count report files that fail to load, instead of\n"
    "                           failing the snapshot [POLSNAP_SKIP_INVALID=1]\n"
    "  --context NAME           kubeconfig context (default: current-context) [POLSNAP_CONTEXT]\n"
    "  --timeout SECONDS        per HTTP request of a source (default 30) [POLSNAP_TIMEOUT]\n"
    "  --stackrox-token-file F  file holding the StackRox API token [POLSNAP_STACKROX_TOKEN_FILE]\n"
    "  --stackrox-ca FILE       PEM CA bundle to trust for Central [POLSNAP_STACKROX_CA]\n"
    "  --stackrox-insecure      skip TLS verification for Central (warns every run)\n"
    "                           [POLSNAP_STACKROX_INSECURE=1]\n"
    "  --stackrox-query Q       narrow the alerts, e.g. Cluster:edge-1 [POLSNAP_STACKROX_QUERY]\n"
    "  --cron-period SECONDS    how often cron runs this; the dashboard warns when the\n"
    "                           snapshot is older than twice that [POLSNAP_CRON_PERIOD]\n"
    "  --site DIR               also write DIR: dashboard + snapshot files for a plain static\n"
    "                           host [POLSNAP_SITE]\n"
    "  --www DIR                the dashboard to copy with --site (default: the nearest www/\n"
    "                           above the binary, e.g. www/ beside bin/)\n"
    "                           [POLSNAP_WWW]\n"
    "  --targets FILE           notification targets (YAML or JSON, see the README): each is\n"
    "                           sent what is new in the snapshot [POLSNAP_TARGETS]\n"
    "  --help                   this text\n";

struct args {
    const char *sources[MAX_SOURCES];
    int nsources;
    const char *data, *site, *www, *targets;
    unsigned keep;
    long cron_period;
    struct source_opts opts;
};

static int die_usage(const char *fmt, const char *arg)
{
    fprintf(stderr, "polsnap-snapshot: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n(see polsnap-snapshot --help)\n");
    return 2;
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

static int add_source(struct args *a, const char *src)
{
    if (a->nsources == MAX_SOURCES) return die_usage("at most %s sources", "32");
    a->sources[a->nsources++] = src;
    return 0;
}

static int truthy(const char *v)
{
    return v && *v && strcmp(v, "0") != 0 && strcmp(v, "false") != 0;
}

/* Environment first, the command line overrides it. Returns 0 or the exit status. */
static int parse_args(int argc, char **argv, struct args *a, char **env_sources)
{
    memset(a, 0, sizeof *a);
    a->keep = 3;
    a->opts.timeout_seconds = 30;
    const char *v;
    long n;
    a->data = getenv("POLSNAP_DATA");
    a->site = getenv("POLSNAP_SITE");
    a->www = getenv("POLSNAP_WWW");
    a->targets = getenv("POLSNAP_TARGETS");
    a->opts.skip_invalid = truthy(getenv("POLSNAP_SKIP_INVALID"));
    a->opts.kube_context = getenv("POLSNAP_CONTEXT");
    a->opts.stackrox_token_file = getenv("POLSNAP_STACKROX_TOKEN_FILE");
    a->opts.stackrox_ca = getenv("POLSNAP_STACKROX_CA");
    a->opts.stackrox_insecure = truthy(getenv("POLSNAP_STACKROX_INSECURE"));
    a->opts.stackrox_query = getenv("POLSNAP_STACKROX_QUERY");
    if ((v = getenv("POLSNAP_KEEP"))) {
        if (parse_number(v, 1, 1000, &n)) return die_usage("POLSNAP_KEEP=%s: want 1 to 1000", v);
        a->keep = (unsigned)n;
    }
    if ((v = getenv("POLSNAP_TIMEOUT"))) {
        if (parse_number(v, 1, 3600, &n)) return die_usage("POLSNAP_TIMEOUT=%s: want 1 to 3600", v);
        a->opts.timeout_seconds = n;
    }
    if ((v = getenv("POLSNAP_CRON_PERIOD"))) {
        if (parse_number(v, 0, 86400 * 7, &n))
            return die_usage("POLSNAP_CRON_PERIOD=%s: want 0 to 604800 seconds", v);
        a->cron_period = n;
    }

    enum {
        O_KEEP = 256,
        O_SKIP,
        O_CONTEXT,
        O_TIMEOUT,
        O_TOKEN,
        O_CA,
        O_INSECURE,
        O_QUERY,
        O_CRON,
        O_SITE,
        O_WWW,
        O_TARGETS
    };
    static const struct option longopts[] = {
        {"source", required_argument, NULL, 's'},
        {"data", required_argument, NULL, 'd'},
        {"keep", required_argument, NULL, O_KEEP},
        {"skip-invalid", no_argument, NULL, O_SKIP},
        {"context", required_argument, NULL, O_CONTEXT},
        {"timeout", required_argument, NULL, O_TIMEOUT},
        {"stackrox-token-file", required_argument, NULL, O_TOKEN},
        {"stackrox-ca", required_argument, NULL, O_CA},
        {"stackrox-insecure", no_argument, NULL, O_INSECURE},
        {"stackrox-query", required_argument, NULL, O_QUERY},
        {"cron-period", required_argument, NULL, O_CRON},
        {"site", required_argument, NULL, O_SITE},
        {"www", required_argument, NULL, O_WWW},
        {"targets", required_argument, NULL, O_TARGETS},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c, rc;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "s:d:h", longopts, NULL)) != -1) {
        switch (c) {
        case 's':
            if ((rc = add_source(a, optarg))) return rc;
            break;
        case 'd':
            a->data = optarg;
            break;
        case O_KEEP:
            if (parse_number(optarg, 1, 1000, &n))
                return die_usage("--keep %s: want 1 to 1000", optarg);
            a->keep = (unsigned)n;
            break;
        case O_SKIP:
            a->opts.skip_invalid = 1;
            break;
        case O_CONTEXT:
            a->opts.kube_context = optarg;
            break;
        case O_TIMEOUT:
            if (parse_number(optarg, 1, 3600, &n))
                return die_usage("--timeout %s: want 1 to 3600 seconds", optarg);
            a->opts.timeout_seconds = n;
            break;
        case O_TOKEN:
            a->opts.stackrox_token_file = optarg;
            break;
        case O_CA:
            a->opts.stackrox_ca = optarg;
            break;
        case O_INSECURE:
            a->opts.stackrox_insecure = 1;
            break;
        case O_QUERY:
            a->opts.stackrox_query = optarg;
            break;
        case O_CRON:
            if (parse_number(optarg, 0, 86400 * 7, &n))
                return die_usage("--cron-period %s: want 0 to 604800 seconds", optarg);
            a->cron_period = n;
            break;
        case O_SITE:
            a->site = optarg;
            break;
        case O_WWW:
            a->www = optarg;
            break;
        case O_TARGETS:
            a->targets = optarg;
            break;
        case 'h':
            fputs(usage, stdout);
            return -1;
        default:
            return die_usage("unknown or incomplete option %s", argv[optind - 1]);
        }
    }
    if (optind < argc) return die_usage("unexpected argument %s", argv[optind]);
    if (a->nsources == 0 && (v = getenv("POLSNAP_SOURCES"))) {
        *env_sources = strdup(v);
        for (char *save = NULL, *t = strtok_r(*env_sources, " \t\n", &save); t;
             t = strtok_r(NULL, " \t\n", &save))
            if ((rc = add_source(a, t))) return rc;
    }
    if (a->nsources == 0) return die_usage("%s", "no --source given");
    if (!a->data || !*a->data) return die_usage("%s", "no --data directory given");
    return 0;
}

static const struct source_kind *find_kind(const char *src, const char **arg)
{
    const char *colon = strchr(src, ':');
    size_t n = colon ? (size_t)(colon - src) : strlen(src);
    for (const struct source_kind *k = source_kinds; k->prefix; k++) {
        if (strlen(k->prefix) == n && strncmp(src, k->prefix, n) == 0) {
            *arg = colon ? colon + 1 : NULL;
            return k;
        }
    }
    return NULL;
}

static double seconds_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* The dashboard: the nearest www/index.html above this binary's directory (bin/ of an
 * install or a checkout, build-san/bin/ of a sanitizer build); "www" when there is none. */
static void default_www(char out[PATH_MAX])
{
    char dir[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", dir, sizeof dir - 1);
    snprintf(out, PATH_MAX, "www");
    if (n <= 0) return;
    dir[n] = '\0';
    for (int up = 0; up < 4 && strcmp(dir, "/") != 0; up++) {
        char parent[PATH_MAX]; /* dirname writes into dir and may return static storage */
        snprintf(parent, sizeof parent, "%s", dirname(dir));
        memcpy(dir, parent, sizeof dir);
        char probe[PATH_MAX + 32];
        snprintf(probe, sizeof probe, "%s/www/index.html", dir);
        if (access(probe, R_OK) == 0) {
            snprintf(out, PATH_MAX, "%s/www", dir);
            return;
        }
    }
}

int main(int argc, char **argv)
{
    struct args a;
    char *env_sources = NULL;
    int rc = parse_args(argc, argv, &a, &env_sources);
    if (rc) {
        free(env_sources);
        return rc < 0 ? 0 : rc;
    }
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);

    char err[PUBLISH_ERR_MAX + SOURCE_ERR_MAX]; /* big enough for either */
    int lock_fd = -1;
    struct rowset *rs = NULL;
    struct targets targets = {0};
    struct notify nt;
    notify_init(&nt, &targets, a.data);
    rc = 1;
    struct err terr = {0};
    if (a.targets && *a.targets && targets_load(a.targets, &targets, &terr) != 0) {
        rc = die_usage("%s", terr.msg);
        goto out;
    }
    for (int i = 0; i < a.nsources; i++) {
        const char *arg;
        if (!find_kind(a.sources[i], &arg)) {
            rc = die_usage("unknown source %s: use files:PATH, kubernetes[:KUBECONFIG] or "
                           "stackrox:URL",
                           a.sources[i]);
            goto out;
        }
    }
    if (publish_lock(a.data, &lock_fd, err) != 0) {
        fprintf(stderr, "polsnap-snapshot: %s\n", err);
        goto out;
    }
    rs = rowset_new();
    for (int i = 0; i < a.nsources; i++) {
        const char *arg;
        const struct source_kind *k = find_kind(a.sources[i], &arg);
        fprintf(stderr, "polsnap-snapshot: reading %s\n", a.sources[i]);
        uint32_t before = rowset_rows(rs);
        err[0] = '\0';
        if (k->collect(arg, &a.opts, rs, err) != 0) {
            fprintf(stderr,
                    "polsnap-snapshot: %s: %s\npolsnap-snapshot: no snapshot published; "
                    "the last good one stays served\n",
                    a.sources[i], err);
            goto out;
        }
        fprintf(stderr, "polsnap-snapshot: %s: %u rows\n", a.sources[i], rowset_rows(rs) - before);
    }
    notify_describe(&nt, rs);
    struct publish_opts po = {.data_dir = a.data,
                              .keep = a.keep,
                              .cron_period = (uint32_t)a.cron_period,
                              .on_resolved = notify_on_resolved,
                              .before_swap = notify_enqueue,
                              .ctx = &nt};
    char snapdir[PATH_MAX];
    uint32_t rows = rowset_rows(rs), reports = rowset_reports(rs), warnings = rowset_warnings(rs);
    if (publish_snapshot(&rs, &po, snapdir, err) != 0) {
        fprintf(stderr,
                "polsnap-snapshot: %s\npolsnap-snapshot: no snapshot published; the "
                "last good one stays served\n",
                err);
        goto out;
    }
    if (a.site) {
        char www[PATH_MAX], serr[SITE_ERR_MAX];
        if (a.www)
            snprintf(www, sizeof www, "%s", a.www);
        else
            default_www(www);
        if (site_write(snapdir, www, a.site, serr) != 0) {
            fprintf(stderr,
                    "polsnap-snapshot: the snapshot was published, but the static site "
                    "was not written: %s\n",
                    serr);
            goto out;
        }
        fprintf(stderr, "polsnap-snapshot: static site written to %s\n", a.site);
    }
    notify_send(&nt);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("polsnap-snapshot: published %s: %u rows from %u reports, %u warnings, %.2f s, "
           "peak RSS %.1f MB\n",
           strrchr(snapdir, '/') + 1, rows, reports, warnings, seconds_since(&t0),
           (double)ru.ru_maxrss / 1024.0);
    rc = 0;
out:
    notify_release(&nt);
    targets_release(&targets);
    rowset_free(rs);
    free(env_sources);
    if (lock_fd >= 0) close(lock_fd);
    return rc;
}
