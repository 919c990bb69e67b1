/* main.c - polsnap-snapshot: reads every --source into one rowset and publishes a snapshot.
 * Arguments in, module calls, exit status out: 0 only when a snapshot was published. */
#include "edges.h"
#include "err.h"
#include "idx.h"
#include "metrics.h"
#include "notify.h"
#include "options.h"
#include "publish.h"
#include "rows.h"
#include "site.h"
#include "spill.h"
#include "source.h"
#include "upload.h"
#include "util.h"

#include <stddef.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

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
    "  polsnap:LOCATION       an edge polsnap's fleet export, merged under its cluster name:\n"
    "                         https://HOST[:PORT] (its API), s3://BUCKET/PREFIX (what it\n"
    "                         published) or its data directory\n"
    "\n"
    "Options (environment twin in brackets):\n";

struct args {
    struct option_list sources, publish, metrics_filters;
    const char *data, *site, *www, *targets, *cluster, *fleet, *metrics_mode, *metrics_labels;
    const char *s3_endpoint, *s3_region, *s3_addressing, *s3_ca;
    long keep, cron_period, s3_part_mib, memory_mb;
    struct source_opts opts;
    struct fleet_opts fleet_opts;
};

#define AT(field) offsetof(struct args, field)

/* The options: --help, the parser and the README's table follow these rows (a test checks the
 * last two). Adding an option is one row here plus the field it fills. */
static const struct option_row options[] = {
    {.flag = "source",
     .short_name = 's',
     .metavar = "SRC",
     .env = "POLSNAP_SOURCES",
     .type = OPTION_LIST,
     .unit = "sources",
     .offset = AT(sources),
     .help = "a source, as above (repeatable)"},
    {.flag = "data",
     .short_name = 'd',
     .metavar = "DIR",
     .env = "POLSNAP_DATA",
     .type = OPTION_STRING,
     .missing = "no --data directory given",
     .offset = AT(data),
     .help = "data directory"},
    {.flag = "cluster",
     .metavar = "NAME",
     .env = "POLSNAP_CLUSTER",
     .type = OPTION_STRING,
     .offset = AT(cluster),
     .help = "the cluster this snapshot describes (a DNS label): every row\ncarries it"},
    {.flag = "keep",
     .metavar = "N",
     .env = "POLSNAP_KEEP",
     .type = OPTION_NUMBER,
     .min = 1,
     .max = 1000,
     .def = "3",
     .offset = AT(keep),
     .help = "snapshots kept, newest first"},
    {.flag = "memory",
     .metavar = "MB",
     .env = "POLSNAP_MEMORY",
     .type = OPTION_NUMBER,
     .min = 0,
     .max = 1 << 20,
     .unit = "MB",
     .def = "64",
     .offset = AT(memory_mb),
     .help = "memory budget: rows, strings and sort scratch past it live in\nfiles of the "
             "snapshot's temporary directory; 0: no budget, all in\nmemory (fastest)"},
    {.flag = "skip-invalid",
     .env = "POLSNAP_SKIP_INVALID",
     .type = OPTION_FLAG,
     .offset = AT(opts.skip_invalid),
     .help = "skip and count report files that fail to load, instead of\nfailing the snapshot"},
    {.flag = "context",
     .metavar = "NAME",
     .env = "POLSNAP_CONTEXT",
     .type = OPTION_STRING,
     .offset = AT(opts.kube_context),
     .help = "kubeconfig context (default: current-context)"},
    {.flag = "timeout",
     .metavar = "SECONDS",
     .env = "POLSNAP_TIMEOUT",
     .type = OPTION_NUMBER,
     .min = 1,
     .max = 3600,
     .unit = "seconds",
     .def = "30",
     .offset = AT(opts.timeout_seconds),
     .help = "per HTTP request of a source or an upload"},
    {.flag = "stackrox-token-file",
     .metavar = "F",
     .env = "POLSNAP_STACKROX_TOKEN_FILE",
     .type = OPTION_STRING,
     .offset = AT(opts.stackrox_token_file),
     .help = "file holding the StackRox API token"},
    {.flag = "stackrox-ca",
     .metavar = "FILE",
     .env = "POLSNAP_STACKROX_CA",
     .type = OPTION_STRING,
     .offset = AT(opts.stackrox_ca),
     .help = "PEM CA bundle to trust for Central"},
    {.flag = "stackrox-insecure",
     .env = "POLSNAP_STACKROX_INSECURE",
     .type = OPTION_FLAG,
     .offset = AT(opts.stackrox_insecure),
     .help = "skip TLS verification for Central (warns every run)"},
    {.flag = "stackrox-query",
     .metavar = "Q",
     .env = "POLSNAP_STACKROX_QUERY",
     .type = OPTION_STRING,
     .offset = AT(opts.stackrox_query),
     .help = "narrow the alerts, e.g. Cluster:edge-1"},
    {.flag = "cron-period",
     .metavar = "SECONDS",
     .env = "POLSNAP_CRON_PERIOD",
     .type = OPTION_NUMBER,
     .min = 0,
     .max = 86400 * 7,
     .unit = "seconds",
     .offset = AT(cron_period),
     .help = "how often cron runs this; the dashboard warns when the\nsnapshot is older than twice "
             "that"},
    {.flag = "fleet",
     .metavar = "FILE",
     .env = "POLSNAP_FLEET",
     .type = OPTION_STRING,
     .offset = AT(fleet),
     .help = "edges to merge (YAML or JSON: name, location, credentials, ca);\nlike polsnap: "
             "sources"},
    {.flag = "polsnap-token-file",
     .metavar = "F",
     .env = "POLSNAP_POLSNAP_TOKEN_FILE",
     .type = OPTION_STRING,
     .offset = AT(fleet_opts.token_file),
     .help = "bearer token for https edges (a Reader token)"},
    {.flag = "polsnap-ca",
     .metavar = "FILE",
     .env = "POLSNAP_POLSNAP_CA",
     .type = OPTION_STRING,
     .offset = AT(fleet_opts.ca),
     .help = "PEM CA bundle to trust for https edges"},
    {.flag = "fleet-max-stale",
     .metavar = "SECS",
     .env = "POLSNAP_FLEET_MAX_STALE",
     .type = OPTION_NUMBER,
     .min = 0,
     .max = 86400L * 365,
     .unit = "seconds",
     .def = "86400",
     .offset = AT(fleet_opts.max_stale),
     .help = "an edge that cannot be read keeps its last rows (stale) this\nlong after its "
             "last good pull, then is gone"},
    {.flag = "fleet-parallel",
     .metavar = "N",
     .env = "POLSNAP_FLEET_PARALLEL",
     .type = OPTION_NUMBER,
     .min = 1,
     .max = 64,
     .def = "8",
     .offset = AT(fleet_opts.parallel),
     .help = "edges pulled at a time"},
    {.flag = "metrics-mode",
     .metavar = "MODE",
     .env = "POLSNAP_METRICS_MODE",
     .type = OPTION_STRING,
     .def = "detailed",
     .offset = AT(metrics_mode),
     .help = "/metrics result lines: detailed (one per result), simple\n(counts by namespace, "
             "policy, status, severity, category,\nsource) or custom (counts by --metrics-labels)"},
    {.flag = "metrics-labels",
     .metavar = "L,L",
     .env = "POLSNAP_METRICS_LABELS",
     .type = OPTION_STRING,
     .offset = AT(metrics_labels),
     .help = "custom mode's labels: category, kind, message, name,\nnamespace, policy, report, "
             "rule, severity, source, status"},
    {.flag = "metrics-filter",
     .metavar = "F",
     .env = "POLSNAP_METRICS_FILTER",
     .type = OPTION_LIST,
     .unit = "metrics filters",
     .offset = AT(metrics_filters),
     .help = "FIELD=GLOB,GLOB keeps, FIELD!=GLOB,GLOB drops result lines;\nFIELD: kinds, "
             "namespaces, policies, severities, sources,\nstatus (repeatable)"},
    {.flag = "site",
     .metavar = "DIR",
     .env = "POLSNAP_SITE",
     .type = OPTION_STRING,
     .offset = AT(site),
     .help = "also write DIR: dashboard + snapshot files for a plain static\nhost"},
    {.flag = "www",
     .metavar = "DIR",
     .env = "POLSNAP_WWW",
     .type = OPTION_STRING,
     .offset = AT(www),
     .help = "the dashboard to copy with --site (default: the nearest www/\nabove the binary, e.g. "
             "www/ beside bin/)"},
    {.flag = "publish",
     .metavar = "S3URL",
     .env = "POLSNAP_PUBLISH",
     .type = OPTION_LIST,
     .unit = "destinations",
     .offset = AT(publish),
     .help = "after each snapshot, upload the static site to s3://BUCKET/PREFIX\n(repeatable; "
             "credentials as AWS tools read them, see the README)"},
    {.flag = "s3-endpoint",
     .metavar = "URL",
     .env = "POLSNAP_S3_ENDPOINT",
     .type = OPTION_STRING,
     .offset = AT(s3_endpoint),
     .help = "an S3-compatible service (MinIO, Ceph RGW...); default AWS for\nthe region"},
    {.flag = "s3-region",
     .metavar = "REGION",
     .env = "POLSNAP_S3_REGION",
     .type = OPTION_STRING,
     .def = "us-east-1",
     .offset = AT(s3_region),
     .help = "the region requests are signed for"},
    {.flag = "s3-addressing",
     .metavar = "MODE",
     .env = "POLSNAP_S3_ADDRESSING",
     .type = OPTION_STRING,
     .offset = AT(s3_addressing),
     .help = "path (ENDPOINT/BUCKET/KEY) or virtual (BUCKET.HOST/KEY); default\npath with "
             "--s3-endpoint, virtual for AWS"},
    {.flag = "s3-ca",
     .metavar = "FILE",
     .env = "POLSNAP_S3_CA",
     .type = OPTION_STRING,
     .offset = AT(s3_ca),
     .help = "PEM CA bundle to trust for the S3 endpoint"},
    {.flag = "s3-part-size",
     .metavar = "MIB",
     .env = "POLSNAP_S3_PART_SIZE",
     .type = OPTION_NUMBER,
     .min = 5,
     .max = 5120,
     .unit = "MiB",
     .def = "16",
     .offset = AT(s3_part_mib),
     .help = "objects larger than this go up as multipart uploads in parts of it"},
    {.flag = "targets",
     .metavar = "FILE",
     .env = "POLSNAP_TARGETS",
     .type = OPTION_STRING,
     .offset = AT(targets),
     .help = "notification targets (YAML or JSON, see the README): each is\nsent what is new in "
             "the snapshot"},
};

static int die_usage(const char *msg)
{
    fprintf(stderr, "polsnap-snapshot: %s\n(see polsnap-snapshot --help)\n", msg);
    return 2;
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

/* Every --source names a known kind, every --publish an S3 URL, and --cluster is a DNS
 * label: checked before anything is locked or read. */
static int check_sources(const struct args *a, struct err *e)
{
    if (a->sources.n == 0 && !(a->fleet && *a->fleet))
        return err_set(e, ERR_INVALID, "no --source given (nor --fleet)");
    if (a->cluster && *a->cluster && !dns_label(a->cluster, strlen(a->cluster)))
        return err_set(e, ERR_INVALID,
                       "--cluster %s: want a DNS label (at most 63 of a-z, 0-9 and '-', "
                       "starting and ending with a letter or digit)",
                       a->cluster);
    for (int i = 0; i < a->publish.n; i++) {
        struct s3_url u;
        if (s3_url_parse(a->publish.v[i], &u, e) != 0) return err_prefix(e, "--publish ");
    }
    for (int i = 0; i < a->sources.n; i++) {
        const char *arg;
        if (!find_kind(a->sources.v[i], &arg))
            return err_set(e, ERR_INVALID,
                           "unknown source %s: use files:PATH, kubernetes[:KUBECONFIG], "
                           "stackrox:URL or polsnap:LOCATION",
                           a->sources.v[i]);
    }
    return 0;
}

/* The S3 settings of --publish and of s3:// edges (--s3-*). */
static struct s3_conf s3_conf_of(const struct args *a)
{
    struct s3_conf c = {a->s3_endpoint,
                        a->s3_region,
                        a->s3_addressing,
                        a->s3_ca,
                        a->opts.timeout_seconds * 1000L,
                        (unsigned long long)a->s3_part_mib << 20,
                        0};
    return c;
}

/* Reads every source into rs, in order, then the edges; the first failure of a source ends it
 * ("SRC: message"); an edge fails the run only when the data directory cannot be written. */
static int collect_sources(const struct args *a, const struct fleet *edges, struct rowset *rs,
                           struct err *e)
{
    for (int i = 0; i < a->sources.n; i++) {
        const char *arg;
        const struct source_kind *k = find_kind(a->sources.v[i], &arg);
        if (!k->collect) continue;
        fprintf(stderr, "polsnap-snapshot: reading %s\n", a->sources.v[i]);
        uint32_t before = rowset_rows(rs);
        if (k->collect(arg, &a->opts, rs, e) != 0) return err_prefix(e, "%s: ", a->sources.v[i]);
        fprintf(stderr, "polsnap-snapshot: %s: %u rows\n", a->sources.v[i],
                rowset_rows(rs) - before);
    }
    if (!edges->n) return 0;
    struct fleet_opts fo = a->fleet_opts;
    fo.data_dir = a->data;
    fo.timeout_seconds = a->opts.timeout_seconds;
    struct s3_conf s3 = s3_conf_of(a);
    fo.s3 = &s3;
    return edges_collect(edges, &fo, rs, e);
}

static void www_dir(const struct args *a, char www[PATH_MAX])
{
    if (a->www)
        snprintf(www, PATH_MAX, "%s", a->www);
    else
        default_www(www);
}

static int write_site(const struct args *a, const char *snapdir, struct err *e)
{
    char www[PATH_MAX];
    www_dir(a, www);
    if (site_write(snapdir, www, a->site, e) != 0)
        return err_prefix(e, "the snapshot was published, but the static site was not written: ");
    fprintf(stderr, "polsnap-snapshot: static site written to %s\n", a->site);
    return 0;
}

/* Keeps how the attempt on dest went, for the next snapshot (upload.h). */
static void record(const struct args *a, const char *dest, int ok)
{
    struct err e = {0};
    if (upload_record(a->data, dest, ok, (int64_t)time(NULL), &e) != 0)
        fprintf(stderr, "polsnap-snapshot: warning: the upload state was not saved: %s\n", e.msg);
}

/* Uploads the site to every --publish destination; a failure of one does not stop the others.
 * Returns 0, or -1 when any failed (each failure printed). */
static int publish_all(const struct args *a, const char *snapdir)
{
    struct s3_creds cr;
    struct err e = {0};
    if (s3_creds_load(&cr, &e) != 0) {
        fprintf(stderr,
                "polsnap-snapshot: no upload: %s; the snapshot is published here and "
                "the buckets still hold the previous upload\n",
                e.msg);
        for (int i = 0; i < a->publish.n; i++)
            record(a, a->publish.v[i], 0);
        return -1;
    }
    char www[PATH_MAX];
    www_dir(a, www);
    struct s3_conf conf = s3_conf_of(a);
    struct upload_opts o = {&conf, &cr, www, (unsigned)a->keep};
    int rc = 0;
    for (int i = 0; i < a->publish.n; i++) {
        struct upload_report r;
        const char *dest = a->publish.v[i];
        int ok = upload_site(dest, snapdir, &o, &r, &e) == 0;
        record(a, dest, ok);
        if (!ok) {
            fprintf(stderr,
                    "polsnap-snapshot: upload to %s failed: %s\nthe snapshot is "
                    "published here; readers of %s still see the previous upload, and "
                    "the next run uploads this one\n",
                    dest, e.msg, dest);
            rc = -1;
            continue;
        }
        fprintf(stderr,
                "polsnap-snapshot: uploaded to %s: %u objects sent, %u copied in the "
                "bucket, %u unchanged, %u deleted; %lu requests, %.1f MB\n",
                dest, r.put, r.copied, r.unchanged, r.deleted, r.sent.requests,
                (double)r.sent.bytes / 1e6);
    }
    memset(&cr, 0, sizeof cr);
    return rc;
}

static const char not_published[] =
    "polsnap-snapshot: no snapshot published; the last good one stays served\n";

/* A spilled array could not grow (spill.h): nothing is published, nothing is left behind. */
static void spill_failed(const char *tmp)
{
    rm_rf(tmp);
    fputs(not_published, stderr);
    fflush(stdout);
    _exit(1);
}

/* Sources, snapshot, notifications, site: 0, or -1 with *e set and the message printed. */
static int run(const struct args *a, const struct fleet *edges, const struct targets *targets,
               struct err *e)
{
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int lock_fd = -1;
    if (publish_lock(a->data, &lock_fd, e) != 0) {
        fprintf(stderr, "polsnap-snapshot: %s\n", e->msg);
        return -1;
    }
    char tmp[PATH_MAX]; /* the snapshot's temporary directory: spilled arrays, then its files */
    if (publish_begin(a->data, (unsigned)a->keep, tmp, e) != 0 ||
        (a->memory_mb && spill_init(tmp, (size_t)a->memory_mb << 20, spill_failed, e))) {
        fprintf(stderr, "polsnap-snapshot: %s\n%s", e->msg, not_published);
        rm_rf(tmp);
        close(lock_fd);
        return -1;
    }
    struct rowset *rs = rowset_new();
    if (a->cluster && *a->cluster) {
        struct row_cluster self = {a->cluster,     NULL,           NULL, IDX_CLUSTER_UP,
                                   ROWSET_NO_TIME, ROWSET_NO_TIME, 1};
        rowset_set_cluster(rs, a->cluster);
        rowset_add_cluster(rs, &self);
    }
    struct notify nt;
    notify_init(&nt, targets, a->data);
    struct publish_opts po = {
        a->data,        tmp, (unsigned)a->keep, (uint32_t)a->cron_period, notify_on_resolved,
        notify_enqueue, &nt};
    char snapdir[PATH_MAX];
    uint32_t rows = 0, reports = 0, warnings = 0;
    int rc = collect_sources(a, edges, rs, e);
    if (rc == 0) {
        rows = rowset_rows(rs), reports = rowset_reports(rs), warnings = rowset_warnings(rs);
        notify_describe(&nt, rs);
        upload_describe(a->data, a->publish.v, a->publish.n, rs);
        rc = publish_snapshot(&rs, &po, snapdir, e);
    } else {
        rm_rf(tmp);
    }
    spill_done();
    if (rc != 0) fprintf(stderr, "polsnap-snapshot: %s\n%s", e->msg, not_published);
    if (rc == 0) notify_send(&nt);
    if (rc == 0 && a->site && (rc = write_site(a, snapdir, e)) != 0)
        fprintf(stderr, "polsnap-snapshot: %s\n", e->msg);
    if (rc == 0) {
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        printf("polsnap-snapshot: published %s: %u rows from %u reports, %u warnings, %.2f s, "
               "peak RSS %.1f MB\n",
               strrchr(snapdir, '/') + 1, rows, reports, warnings, seconds_since(&t0),
               (double)ru.ru_maxrss / 1024.0);
        fflush(stdout);
    }
    int uploaded = rc == 0 && a->publish.n ? publish_all(a, snapdir) : 0;
    notify_release(&nt);
    rowset_free(rs);
    close(lock_fd);
    if (rc == 0 && uploaded != 0) return err_set(e, ERR_UPSTREAM, "an upload failed");
    return rc;
}

int main(int argc, char **argv)
{
    struct args a = {0};
    char *env_sources = NULL;
    struct err e = {0};
    int rc =
        options_parse(options, (int)ARRAY_LEN(options), usage, argc, argv, &a, &env_sources, &e);
    struct targets targets = {0};
    struct fleet edges = {0};
    struct metrics_config metrics = {0};
    if (rc == 0 && check_sources(&a, &e) != 0) rc = -1;
    for (int i = 0; rc == 0 && i < a.sources.n; i++)
        if (strncmp(a.sources.v[i], "polsnap:", 8) == 0 &&
            edges_add(&edges, a.sources.v[i] + 8, &e) != 0)
            rc = -1;
    if (rc == 0 && a.fleet && *a.fleet && edges_load(&edges, a.fleet, &e) != 0) rc = -1;
    if (rc == 0 && metrics_config_parse(&metrics, a.metrics_mode, a.metrics_labels,
                                        a.metrics_filters.v, a.metrics_filters.n, &e) != 0)
        rc = -1;
    metrics_configure(&metrics);
    if (rc == 0 && a.targets && *a.targets && targets_load(a.targets, &targets, &e) != 0) rc = -1;
    if (rc == 0)
        rc = run(&a, &edges, &targets, &e) == 0 ? 0 : 1;
    else
        rc = rc > 0 ? 0 : die_usage(e.msg);
    targets_release(&targets);
    edges_release(&edges);
    metrics_configure(NULL);
    metrics_config_release(&metrics);
    free(env_sources);
    return rc;
}
