/* api_lists.c - the list and count endpoints: distinct values, resources, status counts,
 * rule status counts and the dashboard's summary, all from one selection bitmap. */
#include "api_common.h"

#include "status_bits.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

/* Distinct values of field over the selection, in byte order: string ids are byte-order
 * ranks, so a bitmap over string ids, read in order, is the sorted answer. */
int api_distinct(const struct api_ctx *c, struct err *e)
{
    (void)e;
    int field = c->ep->field;
    struct bitmap sel, seen;
    api_select(c, &sel);
    bitmap_init(&seen, c->ix->h->nstrings);
    for (size_t r = bitmap_next(&sel, 0); r < sel.nbits; r = bitmap_next(&sel, r + 1))
        bitmap_set(&seen, c->ix->rows[r].str[field]);
    buf_putc(c->out, '[');
    int first = 1;
    for (size_t s = bitmap_next(&seen, 1); s < seen.nbits; s = bitmap_next(&seen, s + 1)) {
        if (!first) buf_putc(c->out, ',');
        first = 0;
        buf_json_str(c->out, idx_str(c->ix, (uint32_t)s));
    }
    buf_putc(c->out, ']');
    bitmap_release(&seen);
    bitmap_release(&sel);
    return 200;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Sorts n keys and drops repeats; returns the new count. */
static size_t sort_unique(uint64_t *keys, size_t n)
{
    qsort(keys, n, sizeof *keys, cmp_u64);
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (!m || keys[m - 1] != keys[i]) keys[m++] = keys[i];
    return m;
}

int api_resources(const struct api_ctx *c, struct err *e)
{
    (void)e;
    struct bitmap sel;
    api_select(c, &sel);
    size_t n = 0;
    uint64_t *keys = xmalloc(sizeof *keys * (bitmap_count(&sel) + 1));
    for (size_t r = bitmap_next(&sel, 0); r < sel.nbits; r = bitmap_next(&sel, r + 1)) {
        const struct idx_row *row = &c->ix->rows[r];
        if (row->str[IDX_F_KIND] || row->str[IDX_F_NAME])
            keys[n++] = (uint64_t)row->str[IDX_F_KIND] << 32 | row->str[IDX_F_NAME];
    }
    n = sort_unique(keys, n);
    buf_putc(c->out, '[');
    for (size_t i = 0; i < n; i++) {
        buf_puts(c->out, i ? ",{\"kind\":" : "{\"kind\":");
        buf_json_str_or_null(c->out, idx_str(c->ix, (uint32_t)(keys[i] >> 32)));
        buf_puts(c->out, ",\"name\":");
        buf_json_str_or_null(c->out, idx_str(c->ix, (uint32_t)keys[i]));
        buf_putc(c->out, '}');
    }
    buf_putc(c->out, ']');
    free(keys);
    bitmap_release(&sel);
    return 200;
}

/* Counts per status of the selected rows by a 64-bit key, in an open-addressing table, so a
 * request's memory grows with the distinct keys it meets, never with the rows it selects
 * (about 64 bytes per key at the table's fullest). */
struct tally {
    uint64_t key;
    uint32_t count[IDX_NSTATUS];
    uint32_t used;
};
struct tallies {
    struct tally *t;
    size_t n, cap; /* cap: 0 or a power of two, at most half full */
};

static struct tally *tally_slot(struct tally *t, size_t cap, uint64_t key)
{
    size_t i = (size_t)fnv1a((const char *)&key, sizeof key) & (cap - 1);
    while (t[i].used && t[i].key != key)
        i = (i + 1) & (cap - 1);
    return &t[i];
}

static void tally_add(struct tallies *ts, uint64_t key, unsigned status)
{
    if (2 * (ts->n + 1) > ts->cap) {
        size_t cap = ts->cap ? 2 * ts->cap : 64;
        struct tally *t = xcalloc(cap, sizeof *t);
        for (size_t i = 0; i < ts->cap; i++)
            if (ts->t[i].used) *tally_slot(t, cap, ts->t[i].key) = ts->t[i];
        free(ts->t);
        ts->t = t;
        ts->cap = cap;
    }
    struct tally *slot = tally_slot(ts->t, ts->cap, key);
    if (!slot->used) {
        slot->used = 1;
        slot->key = key;
        ts->n++;
    }
    slot->count[status]++;
}

static int cmp_tally(const void *a, const void *b)
{
    return cmp_u64(&((const struct tally *)a)->key, &((const struct tally *)b)->key);
}

/* Moves the tallies to the front of the table, sorted by key; returns their number. */
static size_t tally_sort(struct tallies *ts)
{
    size_t m = 0;
    for (size_t i = 0; i < ts->cap; i++)
        if (ts->t[i].used) ts->t[m++] = ts->t[i];
    if (m) qsort(ts->t, m, sizeof *ts->t, cmp_tally);
    return m;
}

/* Which statuses the answer lists: the requested ones (in the spec's order) or all five. */
static void wanted_statuses(const struct query *q, int want[IDX_NSTATUS])
{
    const struct query_values *v = &q->filter[IDX_F_STATUS];
    for (int s = 0; s < IDX_NSTATUS; s++) {
        want[s] = v->n == 0;
        for (size_t i = 0; i < v->n; i++)
            if (ascii_casecmp(v->v[i], idx_status_names[s]) == 0) want[s] = 1;
    }
}

/* A run of one namespace's rows. Rows are in the default order: namespace first, so a
 * namespace's rows are one run, or in a snapshot with clusters cluster first, so they are one
 * run per cluster. */
struct ns_range {
    uint32_t lo, hi, ns;
};

static int cmp_range(const void *a, const void *b)
{
    const struct ns_range *x = a, *y = b;
    if (x->ns != y->ns) return x->ns < y->ns ? -1 : 1;
    return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* The namespaces' runs from the namespace dictionary, sorted by namespace (string id order, the
 * order of the rows) and then by row; *n of them. Memory in proportion to the runs, not the
 * rows; only with clusters are the postings walked (to find where each run ends). */
static struct ns_range *namespace_ranges(const struct idx *ix, size_t *n)
{
    const struct idx_dict_entry *e;
    size_t m = idx_dict_all(ix, IDX_F_NAMESPACE, &e), k = 0, cap = m ? m : 1;
    struct ns_range *r = xmalloc(sizeof *r * cap);
    int clusters = idx_has_clusters(ix);
    for (size_t i = 0; i < m; i++) {
        const uint32_t *p = idx_postings(ix, &e[i]);
        if (!e[i].post_n || p[0] >= ix->h->nrows_ns) continue;
        for (uint32_t j = 0, end; j < e[i].post_n; j = end) {
            end = clusters ? j + 1 : e[i].post_n;
            while (end < e[i].post_n && p[end] == p[end - 1] + 1)
                end++;
            if (k == cap) r = xreallocarray(r, cap *= 2, sizeof *r);
            r[k++] = (struct ns_range){p[j], p[end - 1] + 1, e[i].str};
        }
    }
    qsort(r, k, sizeof *r, cmp_range);
    *n = k;
    return r;
}

/* Counts from words: the selection ANDed with each status's rows (status_bits.h), per
 * namespace run; no row is read. Null-namespace rows are in no run: left out. */
int api_status_counts(const struct api_ctx *c, struct err *e)
{
    (void)e; /* an answer past out's cap is api.c's finish() */
    struct bitmap sel;
    api_select(c, &sel);
    const struct bitmap *bits = status_bits(c->ix);
    int want[IDX_NSTATUS];
    wanted_statuses(c->q, want);
    size_t nranges = 0;
    struct ns_range *ranges =
        c->ep->scope == API_CLUSTER ? NULL : namespace_ranges(c->ix, &nranges);
    struct buf *b = c->out;
    buf_putc(b, '[');
    for (int s = 0, first = 1; s < IDX_NSTATUS; s++) {
        if (!want[s]) continue;
        buf_printf(b, "%s{\"status\":\"%s\",", first ? "" : ",", idx_status_names[s]);
        first = 0;
        if (c->ep->scope == API_CLUSTER) {
            buf_printf(b, "\"count\":%lu}",
                       (unsigned long)bitmap_and_count(&sel, &bits[s], 0, sel.nbits));
            continue;
        }
        buf_puts(b, "\"items\":[");
        for (size_t i = 0, j, items = 0; i < nranges; i = j) {
            size_t n = 0;
            for (j = i; j < nranges && ranges[j].ns == ranges[i].ns; j++)
                n += bitmap_and_count(&sel, &bits[s], ranges[j].lo, ranges[j].hi);
            if (!n) continue;
            buf_puts(b, items++ ? ",{\"namespace\":" : "{\"namespace\":");
            buf_json_str(b, idx_str(c->ix, ranges[i].ns));
            buf_printf(b, ",\"count\":%lu}", (unsigned long)n);
        }
        buf_puts(b, "]}");
    }
    buf_putc(b, ']');
    free(ranges);
    bitmap_release(&sel);
    return 200;
}

int api_rule_status_count(const struct api_ctx *c, struct err *e)
{
    if (!c->q->filter[IDX_F_POLICY].n)
        return err_set(e, ERR_INVALID, "missing required parameter \"policy\"");
    if (!c->q->filter[IDX_F_RULE].n)
        return err_set(e, ERR_INVALID, "missing required parameter \"rule\"");
    struct bitmap sel;
    api_select(c, &sel);
    const struct bitmap *bits = status_bits(c->ix);
    for (int s = 0; s < IDX_NSTATUS; s++)
        buf_printf(c->out, "%s{\"status\":\"%s\",\"count\":%lu}", s ? "," : "[",
                   idx_status_names[s],
                   (unsigned long)bitmap_and_count(&sel, &bits[s], 0, sel.nbits));
    buf_putc(c->out, ']');
    bitmap_release(&sel);
    return 200;
}

/* Appends {"<key>":name,"pass":n,... of one tally, the object left open; the name is the
 * string whose id is the tally key's low 32 bits. */
static void put_tally_open(struct buf *b, const struct idx *ix, const char *key,
                           const struct tally *t)
{
    buf_printf(b, "{\"%s\":", key);
    buf_json_str_or_null(b, idx_str(ix, (uint32_t)t->key));
    for (int s = 0; s < IDX_NSTATUS; s++)
        buf_printf(b, ",\"%s\":%u", idx_status_names[s], t->count[s]);
}

/* The objects of tallies [0, n), comma-separated. */
static void put_tallies(struct buf *b, const struct idx *ix, const char *key, const struct tally *t,
                        size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (i) buf_putc(b, ',');
        put_tally_open(b, ix, key, &t[i]);
        buf_putc(b, '}');
    }
}

/* Appends ,"failSeverity":{"critical":n,...,"none":n} of one namespace from the (namespace,
 * severity) tallies of failing rows (key ns << 3 | severity, counted under IDX_FAIL), walking
 * *at forward: both tallies ascend by namespace. */
static void put_fail_severity(struct buf *b, uint32_t ns, const struct tally *sev, size_t nsev,
                              size_t *at)
{
    uint32_t count[IDX_NSEVERITY] = {0};
    for (; *at < nsev && (uint32_t)(sev[*at].key >> 3) <= ns; (*at)++)
        if ((uint32_t)(sev[*at].key >> 3) == ns) count[sev[*at].key & 7] = sev[*at].count[IDX_FAIL];
    buf_puts(b, ",\"failSeverity\":{");
    for (int v = IDX_NSEVERITY - 1; v >= 0; v--)
        buf_printf(b, "\"%s\":%u%s", v ? idx_severity_names[v] : "none", count[v], v ? "," : "");
    buf_putc(b, '}');
}

/* The namespaces of the summary: put_tallies' objects with each one's failSeverity. */
static void put_namespaces(struct buf *b, const struct idx *ix, const struct tally *t, size_t n,
                           const struct tally *sev, size_t nsev)
{
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        if (i) buf_putc(b, ',');
        put_tally_open(b, ix, "namespace", &t[i]);
        put_fail_severity(b, (uint32_t)t[i].key, sev, nsev, &at);
        buf_putc(b, '}');
    }
}

/* The dashboard's overview in one answer: status x severity, per namespace (with its failing
 * results by severity), cluster, per policy with its rules, per result source. */
int api_summary(const struct api_ctx *c, struct err *e)
{
    (void)e;
    const struct idx *ix = c->ix;
    struct bitmap sel;
    api_select(c, &sel);
    uint32_t sevcount[IDX_NSTATUS][IDX_NSEVERITY] = {{0}}, cluster[IDX_NSTATUS] = {0};
    struct tallies ns = {0}, pol = {0}, rule = {0}, src = {0}, nssev = {0};
    for (size_t r = bitmap_next(&sel, 0); r < sel.nbits; r = bitmap_next(&sel, r + 1)) {
        const struct idx_row *row = &ix->rows[r];
        sevcount[row->status][row->severity]++;
        if (row->cluster) cluster[row->status]++;
        if (!row->cluster && row->str[IDX_F_NAMESPACE]) {
            tally_add(&ns, row->str[IDX_F_NAMESPACE], row->status);
            if (row->status == IDX_FAIL)
                tally_add(&nssev, (uint64_t)row->str[IDX_F_NAMESPACE] << 3 | row->severity,
                          IDX_FAIL);
        }
        if (row->str[IDX_F_SOURCE]) tally_add(&src, row->str[IDX_F_SOURCE], row->status);
        /* policy key: (policy id, scope bit); rule key: (policy id, rule id) */
        tally_add(&pol, (uint64_t)row->str[IDX_F_POLICY] << 1 | row->cluster, row->status);
        tally_add(&rule, (uint64_t)row->str[IDX_F_POLICY] << 32 | row->str[IDX_F_RULE],
                  row->status);
    }
    struct buf *b = c->out;
    buf_puts(b, "{\"statusSeverity\":{");
    for (int s = 0; s < IDX_NSTATUS; s++) {
        buf_printf(b, "%s\"%s\":{", s ? "," : "", idx_status_names[s]);
        for (int v = IDX_NSEVERITY - 1; v >= 0; v--)
            buf_printf(b, "\"%s\":%u%s", v ? idx_severity_names[v] : "none", sevcount[s][v],
                       v ? "," : "");
        buf_putc(b, '}');
    }
    buf_puts(b, "},\"namespaces\":[");
    size_t kns = tally_sort(&ns), ksev = tally_sort(&nssev);
    put_namespaces(b, ix, ns.t, kns, nssev.t, ksev);
    buf_puts(b, "],\"cluster\":");
    api_put_counts(b, cluster);

    buf_puts(b, ",\"policies\":[");
    size_t kp = tally_sort(&pol), kr = tally_sort(&rule), ri = 0;
    const struct tally *t = pol.t, *tr = rule.t;
    for (size_t i = 0, firstpolicy = 1; i < kp; firstpolicy = 0) {
        uint32_t p = (uint32_t)(t[i].key >> 1);
        uint32_t total[IDX_NSTATUS] = {0};
        int scopes = 0;
        for (; i < kp && (uint32_t)(t[i].key >> 1) == p; i++) {
            scopes |= 1 << (t[i].key & 1);
            for (int s = 0; s < IDX_NSTATUS; s++)
                total[s] += t[i].count[s];
        }
        buf_puts(b, firstpolicy ? "{\"policy\":" : ",{\"policy\":");
        buf_json_str_or_null(b, idx_str(ix, p));
        buf_printf(b, ",\"scope\":\"%s\"",
                   scopes == 3   ? "both"
                   : scopes == 2 ? "cluster"
                                 : "namespaced");
        for (int s = 0; s < IDX_NSTATUS; s++)
            buf_printf(b, ",\"%s\":%u", idx_status_names[s], total[s]);
        buf_puts(b, ",\"rules\":[");
        size_t first_rule = ri;
        while (ri < kr && (uint32_t)(tr[ri].key >> 32) == p)
            ri++;
        put_tallies(b, ix, "rule", tr + first_rule, ri - first_rule);
        buf_puts(b, "]}");
    }
    buf_puts(b, "],\"sources\":[");
    put_tallies(b, ix, "source", src.t, tally_sort(&src));
    buf_puts(b, "]}");
    free(ns.t), free(pol.t), free(rule.t), free(src.t), free(nssev.t);
    bitmap_release(&sel);
    return 200;
}
