/* idxw.c - the index writer: sorts strings and rows, builds dictionaries and postings, writes
 * one file in the format of common/idx.h.
 *
 * Invariants it establishes (idx_check verifies them on the reading side):
 *   1. string ids are ranks in byte order, so id order is string order and 0 is null;
 *   2. rows are namespaced first, then cluster, each in the default order of spec sections 3
 *      and 10;
 *   3. each dictionary lists every distinct non-null value once, in folded order, and its
 *      postings are ascending row indexes; every row is in exactly one posting list per field
 *      whose value is not null;
 *   4. each sort key's permutation lists every row once, stably sorted by that key;
 *   5. the labels dictionary lists every distinct (key, value) pair of the reports once, by
 *      key then value, with the reports holding it ascending; each report's labels and rows
 *      are ascending, and every row is one report's. */
#include "idxw.h"

#include "err.h"

#include "rows_int.h"
#include "sort_orders.h"
#include "spill.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Row slot (rows_int.h) of each index field; keep in sync with enum idx_field. */
static const int slot_of_field[IDX_NFIELDS] = {
    [IDX_F_NAMESPACE] = R_NS,      [IDX_F_KIND] = R_KIND,     [IDX_F_NAME] = R_NAME,
    [IDX_F_POLICY] = R_POLICY,     [IDX_F_RULE] = R_RULE,     [IDX_F_CATEGORY] = R_CATEGORY,
    [IDX_F_SEVERITY] = R_SEVERITY, [IDX_F_STATUS] = R_STATUS, [IDX_F_SOURCE] = R_SOURCE,
    [IDX_F_MESSAGE] = R_MESSAGE,   [IDX_F_REPORT] = -1,       [IDX_F_CHANGE] = -1,
    [IDX_F_CLUSTER] = R_CLUSTER,   [IDX_F_ID] = R_ID,         [IDX_F_PROPERTIES] = R_PROPERTIES,
    [IDX_F_RES_API] = R_RES_API,   [IDX_F_RES_NS] = R_RES_NS, [IDX_F_RES_UID] = R_RES_UID,
};

static int cmp_str_ids(const void *a, const void *b, void *strs)
{
    const char *const *s = strs;
    return strcmp(s[*(const uint32_t *)a], s[*(const uint32_t *)b]);
}

/* Default order: cluster name, namespace, name, kind, policy, rule, message, id; ids are
 * byte-order ranks and null is 0, so "nulls first" comes for free. Cluster-scoped rows after
 * namespaced ones. */
static int cmp_rows(const void *a, const void *b, void *rows)
{
    static const int keys[] = {IDX_F_CLUSTER, IDX_F_NAMESPACE, IDX_F_NAME,    IDX_F_KIND,
                               IDX_F_POLICY,  IDX_F_RULE,      IDX_F_MESSAGE, IDX_F_ID};
    const struct idx_row *r = rows, *x = &r[*(const uint32_t *)a], *y = &r[*(const uint32_t *)b];
    if (x->cluster != y->cluster) return x->cluster < y->cluster ? -1 : 1;
    for (size_t k = 0; k < ARRAY_LEN(keys); k++) {
        uint32_t u = x->str[keys[k]], v = y->str[keys[k]];
        if (u != v) return u < v ? -1 : 1;
    }
    return 0;
}

/* Folded order, ties by id (byte order): the order idx_dict_range searches in. */
static int cmp_folded(const void *a, const void *b, void *strs)
{
    const char *const *s = strs;
    uint32_t u = *(const uint32_t *)a, v = *(const uint32_t *)b;
    int c = ascii_casecmp(s[u], s[v]);
    return c ? c : (u < v ? -1 : u > v);
}

static int enum_index(const char *s, const char *const *names, int n)
{
    for (int i = 0; i < n; i++)
        if (names[i] && s && strcmp(s, names[i]) == 0) return i;
    return 0;
}

struct out {
    FILE *f;
    uint64_t pos;
};

/* In slices, each followed by spill_check: p may be a spilled area, whose pages are brought
 * in by the copy. */
static void put(struct out *o, const void *p, size_t n)
{
    for (size_t off = 0, slice; off < n; off += slice) {
        slice = n - off < ((size_t)1 << 20) ? n - off : ((size_t)1 << 20);
        if (fwrite((const char *)p + off, 1, slice, o->f) != slice) return; /* ferror: at the end */
        spill_check();
    }
    o->pos += n;
}

/* A section starts 8-byte aligned; its span is what was put between begin and end. */
static void begin_section(struct out *o, struct idx_header *h, int sec)
{
    static const char zero[8];
    put(o, zero, (size_t)((8 - o->pos % 8) % 8));
    h->sec[sec].off = o->pos;
}

static void end_section(const struct out *o, struct idx_header *h, int sec)
{
    h->sec[sec].count = o->pos - h->sec[sec].off;
}

/* Everything the file is made of, built phase by phase before it is written. The arrays that
 * grow with the rows are spill areas (spill.h). */
struct tables {
    uint32_t nstr, nrows, nrows_ns, nclusters;
    const char **strs;    /* by index id: byte order, strs[0] = "" */
    uint32_t *rank;       /* rank[rowset id] = index id */
    struct idx_row *rows; /* in default order (invariant 2) */
    struct spill_area strs_area, sorted_area, rank_area, rows_area, dict_area, report_rows_area;
    struct idx_report *reports;
    struct idx_source *sources;
    struct idx_target *targets;   /* sorted by name */
    struct idx_upload *uploads;   /* sorted by destination */
    struct idx_cluster *clusters; /* sorted by name */
    struct idx_dict_entry *dict;  /* every field's entries, field after field */
    size_t ndict;
    struct idx_span dictspan[IDX_NDICT];
    struct idx_label *labels; /* the labels dictionary (invariant 5) */
    uint32_t nlabels, npairs; /* distinct pairs; pairs over all reports */
    uint32_t nuploads;
    uint32_t *label_reports, *report_labels, *report_rows;
};

static void tables_release(struct tables *t)
{
    spill_area_release(&t->strs_area), spill_area_release(&t->sorted_area);
    spill_area_release(&t->rank_area), spill_area_release(&t->rows_area);
    spill_area_release(&t->dict_area), spill_area_release(&t->report_rows_area);
    free(t->reports), free(t->sources), free(t->targets), free(t->uploads), free(t->clusters);
    free(t->labels), free(t->label_reports), free(t->report_labels);
}

/* 1. The strings by byte order (invariant 1): strs[index id], rank[rowset id] = index id.
 * The rowset's strings lie in order of first sight, so a piece of ids to sort touches one
 * stretch of them (spill_sort); then they are copied in index order, so that what walks them
 * by index id later (folded order, the STRDATA section) reads one stretch too. */
static void sort_strings(const struct rowset *rs, struct tables *t)
{
    uint32_t nstr = rs->nstrs;
    struct spill_area order_area;
    uint32_t *order = spill_array(&order_area, nstr, sizeof *order);
    uint32_t *rank = spill_array(&t->rank_area, nstr, sizeof *rank);
    const char **strs = spill_array(&t->strs_area, nstr, sizeof *strs);
    strs[0] = "";
    for (uint32_t i = 1; i < nstr; i++)
        strs[i] = rs->strs[i];
    for (uint32_t i = 0; i < nstr - 1; i++)
        order[i] = i + 1;
    spill_sort(order, nstr - 1, spill_piece(rs->arena_used / nstr + 1 + sizeof *order), cmp_str_ids,
               strs);
    rank[0] = 0;
    for (uint32_t i = 0; i < nstr - 1; i++)
        rank[order[i]] = i + 1;
    char *sorted = spill_array(&t->sorted_area, rs->arena_used + 1, 1);
    for (uint32_t i = 0; i < nstr - 1; i++) {
        size_t n = strlen(rs->strs[order[i]]) + 1;
        memcpy(sorted, rs->strs[order[i]], n);
        strs[i + 1] = sorted;
        sorted += n;
        spill_check();
    }
    spill_area_release(&order_area);
    t->strs = strs;
    t->rank = rank;
}

/* The format's bounds: 32-bit postings offsets (and the permutation's mark bit), 32-bit
 * string offsets. */
static int check_limits(uint64_t nrows, const char *const *strs, uint32_t nstr, struct err *e)
{
    uint64_t datalen = 1;
    for (uint32_t i = 1; i < nstr; i++) {
        datalen += strlen(strs[i]) + 1;
        spill_check();
    }
    if (nrows > IDX_MAX_ROWS) {
        err_set(e, ERR_INVALID, "%llu rows: the index holds at most %u", (unsigned long long)nrows,
                IDX_MAX_ROWS);
        return -1;
    }
    if (datalen > UINT32_MAX) {
        err_set(e, ERR_INVALID, "strings take %llu bytes, past the index's 4 GiB limit",
                (unsigned long long)datalen);
        return -1;
    }
    return 0;
}

/* 2a. The rows in the index's encoding, in rowset order; *nrows_ns counts namespaced ones. */
static struct idx_row *index_rows(const struct rowset *rs, const uint32_t *rank, uint32_t *nrows_ns,
                                  struct spill_area *area)
{
    struct idx_row *rows = spill_array(area, rs->nrows, sizeof *rows);
    *nrows_ns = 0;
    for (uint32_t r = 0; r < rs->nrows; r++) {
        const struct row *in = &rs->rows[r];
        struct idx_row *o = &rows[r];
        for (int f = 0; f < IDX_NFIELDS; f++)
            o->str[f] = slot_of_field[f] >= 0 ? rank[in->s[slot_of_field[f]]] : 0;
        o->str[IDX_F_REPORT] = rank[rs->reports[in->report].name];
        o->str[IDX_F_CHANGE] = rank[rs->change_str[in->is_new]];
        o->timestamp = in->has_timestamp ? in->timestamp : IDX_NO_TIME;
        o->first_seen = in->first_seen; /* ROWSET_NO_TIME is IDX_NO_TIME */
        o->report = in->report;
        o->status = (uint8_t)enum_index(rs->strs[in->s[R_STATUS]], idx_status_names, IDX_NSTATUS);
        o->severity = (uint8_t)enum_index(in->s[R_SEVERITY] ? rs->strs[in->s[R_SEVERITY]] : NULL,
                                          idx_severity_names, IDX_NSEVERITY);
        o->scored = in->scored;
        o->cluster = (uint8_t)rs->reports[in->report].cluster_scoped;
        *nrows_ns += !o->cluster;
        spill_check();
    }
    return rows;
}

/* 2b. Sorts rows into the default order (invariant 2), in pieces of neighbouring rows
 * (spill_sort). The permutation is applied in place, cycle by cycle (perm entries are marked
 * done with the top bit): a second array of rows would double the writer's largest array. */
static void sort_rows(struct idx_row *rows, uint32_t nrows)
{
    struct spill_area perm_area;
    uint32_t *perm = spill_array(&perm_area, nrows, sizeof *perm);
    for (uint32_t r = 0; r < nrows; r++)
        perm[r] = r;
    spill_sort(perm, nrows, spill_piece(sizeof *rows + sizeof *perm), cmp_rows, rows);
    for (uint32_t start = 0; start < nrows; start++) {
        if (perm[start] & 0x80000000u) continue;
        struct idx_row first = rows[start];
        uint32_t at = start;
        for (;;) {
            uint32_t from = perm[at];
            perm[at] |= 0x80000000u;
            if (from == start) {
                rows[at] = first;
                break;
            }
            rows[at] = rows[from];
            at = from;
            spill_check();
        }
    }
    spill_area_release(&perm_area);
}

/* 3. The reports, with their counts recomputed from the rows, and the sources. */
static struct idx_report *index_reports(const struct rowset *rs, const uint32_t *rank,
                                        const struct idx_row *rows, uint32_t nrows)
{
    struct idx_report *reports = xcalloc(rs->nreports ? rs->nreports : 1, sizeof *reports);
    for (uint32_t i = 0; i < rs->nreports; i++) {
        const struct report *in = &rs->reports[i];
        reports[i].kind = rank[in->kind];
        reports[i].name = rank[in->name];
        reports[i].namespace = rank[in->ns];
        reports[i].cluster = (uint32_t)in->cluster_scoped;
        reports[i].cluster_name = rank[in->cluster];
        reports[i].id = rank[in->id];
        reports[i].source = rank[in->source];
        reports[i].label_off = in->label_off;
        reports[i].label_n = in->nlabels;
    }
    for (uint32_t r = 0; r < nrows; r++) {
        reports[rows[r].report].count[rows[r].status]++;
        spill_check();
    }
    return reports;
}

/* 3b. Each report's rows, ascending (invariant 5): a counting sort of the rows by report. */
static uint32_t *report_rows(struct idx_report *reports, uint32_t nreports,
                             const struct idx_row *rows, uint32_t nrows, struct spill_area *area)
{
    uint32_t *out = spill_array(area, nrows, sizeof *out), off = 0;
    for (uint32_t i = 0; i < nreports; i++) {
        reports[i].row_off = off;
        off += idx_report_nrows(&reports[i]);
    }
    uint32_t *fill = xcalloc(nreports ? nreports : 1, sizeof *fill);
    for (uint32_t r = 0; r < nrows; r++) {
        out[reports[rows[r].report].row_off + fill[rows[r].report]++] = r;
        spill_check();
    }
    free(fill);
    return out;
}

struct label_ref {
    uint32_t key, value, report, pair; /* index ids; pair: its place in the rowset's pairs */
};

static int cmp_label_refs(const void *a, const void *b)
{
    const struct label_ref *x = a, *y = b;
    if (x->key != y->key) return x->key < y->key ? -1 : 1;
    if (x->value != y->value) return x->value < y->value ? -1 : 1;
    return x->report < y->report ? -1 : x->report > y->report;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* 3c. The labels dictionary (invariant 5): the reports' (key, value) pairs sorted, one entry
 * per distinct pair with its reports; each report's labels as entry indexes, ascending. A
 * report's pairs keep their place in the rowset (report.label_off). */
static void build_labels(const struct rowset *rs, const uint32_t *rank, struct tables *t)
{
    uint32_t n = rs->nlabels, m = 0;
    struct label_ref *refs = xmalloc(sizeof *refs * (n ? n : 1));
    for (uint32_t i = 0; i < rs->nreports; i++)
        for (uint32_t j = 0; j < rs->reports[i].nlabels; j++) {
            uint32_t p = rs->reports[i].label_off + j;
            refs[p] =
                (struct label_ref){rank[rs->labels[2 * p]], rank[rs->labels[2 * p + 1]], i, p};
        }
    qsort(refs, n, sizeof *refs, cmp_label_refs);
    t->labels = xmalloc(sizeof *t->labels * (n ? n : 1));
    t->label_reports = xmalloc(sizeof *t->label_reports * (n ? n : 1));
    t->report_labels = xmalloc(sizeof *t->report_labels * (n ? n : 1));
    for (uint32_t k = 0; k < n; k++) {
        if (!m || t->labels[m - 1].key != refs[k].key || t->labels[m - 1].value != refs[k].value)
            t->labels[m++] = (struct idx_label){refs[k].key, refs[k].value, k, 0};
        t->labels[m - 1].rep_n++;
        t->label_reports[k] = refs[k].report;
        t->report_labels[refs[k].pair] = m - 1;
    }
    for (uint32_t i = 0; i < rs->nreports; i++)
        qsort(t->report_labels + rs->reports[i].label_off, rs->reports[i].nlabels,
              sizeof *t->report_labels, cmp_u32);
    t->nlabels = m;
    t->npairs = n;
    free(refs);
}

static struct idx_source *index_sources(const struct rowset *rs, const uint32_t *rank)
{
    struct idx_source *sources = xcalloc(rs->nsources ? rs->nsources : 1, sizeof *sources);
    for (uint32_t i = 0; i < rs->nsources; i++) {
        sources[i].name = rank[rs->sources[i].name];
        sources[i].up = (uint32_t)rs->sources[i].up;
    }
    return sources;
}

/* Targets by name: string ids are byte-order ranks. */
static int cmp_target_names(const void *a, const void *b)
{
    uint32_t u = ((const struct idx_target *)a)->name, v = ((const struct idx_target *)b)->name;
    return u < v ? -1 : u > v;
}

static struct idx_target *index_targets(const struct rowset *rs, const uint32_t *rank)
{
    struct idx_target *targets = xcalloc(rs->ntargets ? rs->ntargets : 1, sizeof *targets);
    for (uint32_t i = 0; i < rs->ntargets; i++) {
        const struct target *t = &rs->targets[i];
        targets[i] = (struct idx_target){rank[t->name],    rank[t->min_priority],
                                         rank[t->sources], (uint32_t)t->skip_existing,
                                         (uint32_t)t->up,  0,
                                         t->sent,          t->failed};
    }
    qsort(targets, rs->ntargets, sizeof *targets, cmp_target_names);
    return targets;
}

static int cmp_upload_dests(const void *a, const void *b)
{
    uint32_t u = ((const struct idx_upload *)a)->dest, v = ((const struct idx_upload *)b)->dest;
    return u < v ? -1 : u > v;
}

static struct idx_upload *index_uploads(const struct rowset *rs, const uint32_t *rank)
{
    struct idx_upload *up = xcalloc(rs->nuploads ? rs->nuploads : 1, sizeof *up);
    for (uint32_t i = 0; i < rs->nuploads; i++) {
        const struct upload *u = &rs->uploads[i];
        up[i] =
            (struct idx_upload){rank[u->dest], (uint32_t)u->up,
                                u->last_success == ROWSET_NO_TIME ? IDX_NO_TIME : u->last_success};
    }
    qsort(up, rs->nuploads, sizeof *up, cmp_upload_dests);
    return up;
}

static int cmp_cluster_names(const void *a, const void *b)
{
    uint32_t u = ((const struct idx_cluster *)a)->name, v = ((const struct idx_cluster *)b)->name;
    return u < v ? -1 : u > v;
}

/* The clusters by name (a name given twice keeps its first entry), each with its rows and
 * failing rows counted. */
static struct idx_cluster *index_clusters(const struct rowset *rs, const uint32_t *rank,
                                          const struct idx_row *rows, uint32_t nrows,
                                          uint32_t *n_out)
{
    struct idx_cluster *c = xcalloc(rs->nclusters ? rs->nclusters : 1, sizeof *c);
    uint32_t n = 0;
    for (uint32_t i = 0; i < rs->nclusters; i++) {
        const struct cluster *in = &rs->clusters[i];
        int seen = 0;
        for (uint32_t j = 0; j < n && !seen; j++)
            seen = c[j].name == rank[in->name];
        if (seen || !in->name) continue;
        c[n++] = (struct idx_cluster){rank[in->name],
                                      rank[in->snapshot],
                                      rank[in->error],
                                      (uint32_t)in->state,
                                      (uint32_t)in->own,
                                      0,
                                      in->time,
                                      in->last_pull,
                                      0,
                                      0};
    }
    qsort(c, n, sizeof *c, cmp_cluster_names);
    for (uint32_t r = 0; r < nrows && n; r++) {
        struct idx_cluster key = {.name = rows[r].str[IDX_F_CLUSTER]};
        struct idx_cluster *hit = bsearch(&key, c, n, sizeof *c, cmp_cluster_names);
        if (!hit) continue;
        hit->rows++;
        hit->fail += rows[r].status == IDX_FAIL;
    }
    *n_out = n;
    return c;
}

/* 4. The dictionaries (invariant 3): per field, the distinct strings in folded order with
 * their postings' place and count. The postings themselves are written field by field
 * (put_postings), so only one field's worth is ever in memory. */
static struct idx_dict_entry *build_dicts(const struct idx_row *rows, uint32_t nrows,
                                          const char **strs, uint32_t nstr,
                                          struct idx_span span[IDX_NDICT], size_t *ndict_out,
                                          struct spill_area *dict_area)
{
    struct spill_area count_area, distinct_area;
    uint32_t *count = spill_array(&count_area, nstr, sizeof *count);
    uint32_t *distinct = spill_array(&distinct_area, nstr, sizeof *distinct);
    size_t avg = (nstr > 1 ? strs[nstr - 1] - strs[1] : 0) / nstr + 1; /* strs are in one run */
    dict_area->max = sizeof(struct idx_dict_entry) * IDX_NDICT * ((size_t)nstr + 1);
    struct idx_dict_entry *dict = NULL;
    size_t ndict = 0;
    uint64_t npost = 0;
    for (int f = 0; f < IDX_NDICT; f++) {
        memset(count, 0, sizeof *count * nstr);
        for (uint32_t r = 0; r < nrows; r++) {
            count[rows[r].str[f]]++;
            spill_check();
        }
        uint32_t nd = 0;
        for (uint32_t s = 1; s < nstr; s++)
            if (count[s]) distinct[nd++] = s;
        spill_sort(distinct, nd, spill_piece(avg + sizeof *distinct), cmp_folded, strs);
        spill_area_need(dict_area, sizeof *dict * (ndict + nd + 1));
        dict = (struct idx_dict_entry *)dict_area->p;
        span[f].off = ndict;
        span[f].count = nd;
        for (uint32_t i = 0; i < nd; i++) {
            struct idx_dict_entry *e = &dict[ndict + i];
            e->str = distinct[i];
            e->post_off = (uint32_t)npost;
            e->post_n = count[distinct[i]];
            npost += count[distinct[i]];
        }
        ndict += nd;
    }
    spill_area_release(&distinct_area);
    spill_area_release(&count_area);
    *ndict_out = ndict;
    return dict;
}

static void put_strings(struct out *o, struct idx_header *h, const struct tables *t)
{
    begin_section(o, h, IDX_SEC_STROFF);
    uint32_t off = 0;
    for (uint32_t i = 0; i <= t->nstr; i++) {
        put(o, &off, 4);
        if (i < t->nstr) off += (uint32_t)strlen(t->strs[i]) + 1;
    }
    end_section(o, h, IDX_SEC_STROFF);
    begin_section(o, h, IDX_SEC_STRDATA);
    put(o, "", 1);   /* string 0 */
    if (t->nstr > 1) /* strings 1.. lie one after the other (sort_strings) */
        put(o, t->strs[1],
            (size_t)(t->strs[t->nstr - 1] - t->strs[1]) + strlen(t->strs[t->nstr - 1]) + 1);
    end_section(o, h, IDX_SEC_STRDATA);
}

/* Each field's postings, in entry order: rows are visited in order, so every list comes out
 * ascending. One field's worth of memory at a time. */
static void put_postings(struct out *o, struct idx_header *h, const struct tables *t)
{
    struct spill_area areas[3];
    uint32_t *postings = spill_array(&areas[0], t->nrows, sizeof *postings);
    uint32_t *cursor = spill_array(&areas[1], t->ndict, sizeof *cursor);
    uint32_t *entry_of = spill_array(&areas[2], t->nstr, sizeof *entry_of);
    begin_section(o, h, IDX_SEC_POSTINGS);
    for (int f = 0; f < IDX_NDICT; f++) {
        const struct idx_dict_entry *first = t->dict + t->dictspan[f].off;
        if (!t->dictspan[f].count) continue;
        uint32_t base = first->post_off, filled = 0;
        for (uint64_t i = 0; i < t->dictspan[f].count; i++) {
            entry_of[first[i].str] = (uint32_t)i;
            cursor[i] = first[i].post_off - base;
            filled += first[i].post_n;
        }
        for (uint32_t r = 0; r < t->nrows; r++) {
            uint32_t s = t->rows[r].str[f];
            if (s) postings[cursor[entry_of[s]]++] = r;
            spill_check();
        }
        put(o, postings, sizeof *postings * filled);
    }
    end_section(o, h, IDX_SEC_POSTINGS);
    for (size_t i = 0; i < ARRAY_LEN(areas); i++)
        spill_area_release(&areas[i]);
}

/* Invariant 4: one stable permutation of every row per sort key. */
static void put_sort_orders(struct out *o, struct idx_header *h, const struct tables *t)
{
    struct spill_area ids_area;
    uint32_t *ids = spill_array(&ids_area, t->nrows, sizeof *ids);
    begin_section(o, h, IDX_SEC_SORT);
    for (int k = 0; k < IDX_NSORT; k++) {
        for (uint32_t r = 0; r < t->nrows; r++)
            ids[r] = r;
        sort_orders_by(t->rows, k, ids, t->nrows);
        put(o, ids, sizeof *ids * t->nrows);
    }
    end_section(o, h, IDX_SEC_SORT);
    spill_area_release(&ids_area);
}

static void put_array(struct out *o, struct idx_header *h, int sec, const void *p, size_t n)
{
    begin_section(o, h, sec);
    put(o, p, n);
    end_section(o, h, sec);
}

static void fill_header(struct idx_header *h, const struct rowset *rs, const struct idxw_meta *meta,
                        const struct tables *t)
{
    memset(h, 0, sizeof *h);
    memcpy(h->magic, IDX_MAGIC, 8);
    h->version = IDX_VERSION;
    h->header_size = IDX_HEADER_SIZE;
    h->created = meta->created;
    h->cron_period = meta->cron_period;
    h->nrows = t->nrows;
    h->nrows_ns = t->nrows_ns;
    h->nstrings = t->nstr;
    h->nreports = rs->nreports;
    h->nsources = rs->nsources;
    h->flags = rs->no_crds ? IDX_FLAG_NO_CRDS : 0;
    h->warnings = rs->warnings;
    snprintf(h->snapshot_id, sizeof h->snapshot_id, "%s", meta->snapshot_id);
    snprintf(h->previous_id, sizeof h->previous_id, "%s",
             meta->previous_id ? meta->previous_id : "");
    h->changes_new = meta->changes_new;
    h->changes_resolved = meta->changes_resolved;
    h->ntargets = rs->ntargets;
    h->nclusters = t->nclusters;
    h->nlabels = t->nlabels;
    memcpy(h->dict, t->dictspan, sizeof t->dictspan);
}

/* 5. The file: the header (rewritten last, once the sections' offsets are known), then the
 * sections in the order of idx.h. */
static int write_file(const char *path, struct idx_header *h, const struct tables *t,
                      uint32_t nreports, uint32_t nsources, struct err *e)
{
    struct out o = {fopen(path, "wb"), 0};
    if (!o.f) {
        err_set(e, ERR_IO, "%s: %s", path, strerror(errno));
        return -1;
    }
    setvbuf(o.f, NULL, _IOFBF, 1 << 20);
    put(&o, h, sizeof *h);
    put_strings(&o, h, t);
    put_array(&o, h, IDX_SEC_ROWS, t->rows, sizeof *t->rows * t->nrows);
    put_array(&o, h, IDX_SEC_REPORTS, t->reports, sizeof *t->reports * nreports);
    put_array(&o, h, IDX_SEC_SOURCES, t->sources, sizeof *t->sources * nsources);
    put_array(&o, h, IDX_SEC_DICT, t->dict, sizeof *t->dict * t->ndict);
    put_postings(&o, h, t);
    put_sort_orders(&o, h, t);
    put_array(&o, h, IDX_SEC_TARGETS, t->targets, sizeof *t->targets * h->ntargets);
    put_array(&o, h, IDX_SEC_LABELS, t->labels, sizeof *t->labels * t->nlabels);
    put_array(&o, h, IDX_SEC_LABEL_REPORTS, t->label_reports, sizeof(uint32_t) * t->npairs);
    put_array(&o, h, IDX_SEC_REPORT_LABELS, t->report_labels, sizeof(uint32_t) * t->npairs);
    put_array(&o, h, IDX_SEC_REPORT_ROWS, t->report_rows, sizeof(uint32_t) * t->nrows);
    put_array(&o, h, IDX_SEC_UPLOADS, t->uploads, sizeof *t->uploads * t->nuploads);
    put_array(&o, h, IDX_SEC_CLUSTERS, t->clusters, sizeof *t->clusters * h->nclusters);
    h->file_size = o.pos;
    int rc = 0;
    if (fseek(o.f, 0, SEEK_SET) != 0 || fwrite(h, sizeof *h, 1, o.f) != 1 || fflush(o.f) != 0 ||
        ferror(o.f) || fsync(fileno(o.f)) != 0) {
        err_set(e, ERR_IO, "%s: write failed: %s", path, strerror(errno));
        rc = -1;
    }
    if (fclose(o.f) != 0 && rc == 0) {
        err_set(e, ERR_IO, "%s: close failed: %s", path, strerror(errno));
        rc = -1;
    }
    return rc;
}

int idxw_write(struct rowset *rs, const char *path, const struct idxw_meta *meta, struct err *e)
{
    struct tables t = {.nstr = rs->nstrs, .nrows = rs->nrows};
    sort_strings(rs, &t);
    int rc = check_limits((uint64_t)t.nrows + rs->refused, t.strs, t.nstr, e);
    if (rc == 0) {
        t.rows = index_rows(rs, t.rank, &t.nrows_ns, &t.rows_area);
        if (meta->free_rows) rowset_free_rows(rs);
        sort_rows(t.rows, t.nrows);
        t.reports = index_reports(rs, t.rank, t.rows, t.nrows);
        t.report_rows = report_rows(t.reports, rs->nreports, t.rows, t.nrows, &t.report_rows_area);
        build_labels(rs, t.rank, &t);
        t.sources = index_sources(rs, t.rank);
        t.targets = index_targets(rs, t.rank);
        t.uploads = index_uploads(rs, t.rank);
        t.nuploads = rs->nuploads;
        t.clusters = index_clusters(rs, t.rank, t.rows, t.nrows, &t.nclusters);
        t.dict = build_dicts(t.rows, t.nrows, t.strs, t.nstr, t.dictspan, &t.ndict, &t.dict_area);
        struct idx_header h;
        fill_header(&h, rs, meta, &t);
        rc = write_file(path, &h, &t, rs->nreports, rs->nsources, e);
    }
    tables_release(&t);
    return rc;
}
