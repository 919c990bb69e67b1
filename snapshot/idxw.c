/* idxw.c - the index writer: sorts strings and rows, builds dictionaries and postings, writes
 * one file in the format of common/idx.h.
 *
 * Invariants it establishes (idx_check verifies them on the reading side):
 *   1. string ids are ranks in byte order, so id order is string order and 0 is null;
 *   2. rows are namespaced first, then cluster, each in the default order of spec section 3;
 *   3. each dictionary lists every distinct non-null value once, in folded order, and its
 *      postings are ascending row indexes; every row is in exactly one posting list per field
 *      whose value is not null;
 *   4. each sort key's permutation lists every row once, stably sorted by that key. */
#include "idxw.h"

#include "rows_int.h"
#include "util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Row slot (rows_int.h) of each index field; keep in sync with enum idx_field. */
static const int slot_of_field[IDX_NFIELDS] = {
    [IDX_F_NAMESPACE] = R_NS,
    [IDX_F_KIND] = R_KIND,
    [IDX_F_NAME] = R_NAME,
    [IDX_F_POLICY] = R_POLICY,
    [IDX_F_RULE] = R_RULE,
    [IDX_F_CATEGORY] = R_CATEGORY,
    [IDX_F_SEVERITY] = R_SEVERITY,
    [IDX_F_STATUS] = R_STATUS,
    [IDX_F_SOURCE] = R_SOURCE,
    [IDX_F_MESSAGE] = R_MESSAGE,
    [IDX_F_REPORT] = -1,
    [IDX_F_CHANGE] = -1,
    [IDX_F_ID] = R_ID,
    [IDX_F_PROPERTIES] = R_PROPERTIES,
    [IDX_F_RES_API] = R_RES_API,
    [IDX_F_RES_NS] = R_RES_NS,
    [IDX_F_RES_UID] = R_RES_UID,
};

/* qsort has no context argument in C11: the comparators read these while one write runs. */
static const char *const *sort_strs;
static const struct idx_row *sort_rows;

static int cmp_str_ids(const void *a, const void *b)
{
    return strcmp(sort_strs[*(const uint32_t *)a], sort_strs[*(const uint32_t *)b]);
}

/* Default order: namespace, name, kind, policy, rule, message, id; ids are byte-order ranks
 * and null is 0, so "nulls first" comes for free. Cluster rows after namespaced ones. */
static int cmp_rows(const void *a, const void *b)
{
    static const int keys[] = {IDX_F_NAMESPACE, IDX_F_NAME,    IDX_F_KIND, IDX_F_POLICY,
                               IDX_F_RULE,      IDX_F_MESSAGE, IDX_F_ID};
    const struct idx_row *x = &sort_rows[*(const uint32_t *)a],
                         *y = &sort_rows[*(const uint32_t *)b];
    if (x->cluster != y->cluster) return x->cluster < y->cluster ? -1 : 1;
    for (size_t k = 0; k < ARRAY_LEN(keys); k++) {
        uint32_t u = x->str[keys[k]], v = y->str[keys[k]];
        if (u != v) return u < v ? -1 : 1;
    }
    return 0;
}

/* Targets by name: string ids are byte-order ranks. */
static int cmp_target_names(const void *a, const void *b)
{
    uint32_t u = ((const struct idx_target *)a)->name, v = ((const struct idx_target *)b)->name;
    return u < v ? -1 : u > v;
}

/* Folded order, ties by id (byte order): the order idx_dict_range searches in. */
static int cmp_folded(const void *a, const void *b)
{
    uint32_t u = *(const uint32_t *)a, v = *(const uint32_t *)b;
    int c = ascii_casecmp(sort_strs[u], sort_strs[v]);
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

static void put(struct out *o, const void *p, size_t n)
{
    if (n && fwrite(p, 1, n, o->f) != n) return; /* ferror is checked once at the end */
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

int idxw_write(struct rowset *rs, const char *path, const struct idxw_meta *meta,
               char err[IDX_ERR_MAX])
{
    uint32_t nstr = rs->nstrs, nrows = rs->nrows;

    /* 1. strings by byte order; rank[old id] = new id */
    uint32_t *order = xmalloc(sizeof *order * nstr), *rank = xmalloc(sizeof *rank * nstr);
    const char **strs = xmalloc(sizeof *strs * nstr);
    strs[0] = "";
    for (uint32_t i = 1; i < nstr; i++)
        strs[i] = rs->strs[i];
    for (uint32_t i = 0; i < nstr - 1; i++)
        order[i] = i + 1;
    sort_strs = strs;
    qsort(order, nstr - 1, sizeof *order, cmp_str_ids);
    rank[0] = 0;
    for (uint32_t i = 0; i < nstr - 1; i++)
        rank[order[i]] = i + 1;
    for (uint32_t i = 0; i < nstr - 1; i++)
        strs[i + 1] = rs->strs[order[i]];
    uint64_t datalen = 1;
    for (uint32_t i = 1; i < nstr; i++)
        datalen += strlen(strs[i]) + 1;
    /* the in-place permutation marks entries with bit 31; postings offsets are 32-bit */
    if ((uint64_t)nrows * IDX_NDICT >= UINT32_MAX) {
        snprintf(err, IDX_ERR_MAX, "%u rows: the index holds at most %u", nrows,
                 UINT32_MAX / IDX_NDICT - 1);
        free(order), free(rank), free(strs);
        return -1;
    }
    if (datalen > UINT32_MAX) {
        snprintf(err, IDX_ERR_MAX, "strings take %llu bytes, past the index's 4 GiB limit",
                 (unsigned long long)datalen);
        free(order), free(rank), free(strs);
        return -1;
    }

    /* 2. rows in default order */
    struct idx_row *rows = xcalloc(nrows ? nrows : 1, sizeof *rows);
    uint32_t nrows_ns = 0;
    for (uint32_t r = 0; r < nrows; r++) {
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
        nrows_ns += !o->cluster;
    }
    if (meta->free_rows) rowset_free_rows(rs);
    uint32_t *perm = xmalloc(sizeof *perm * (nrows ? nrows : 1));
    for (uint32_t r = 0; r < nrows; r++)
        perm[r] = r;
    sort_rows = rows;
    qsort(perm, nrows, sizeof *perm, cmp_rows);
    /* Apply the permutation in place, cycle by cycle (perm entries are marked done with the
     * top bit): a second array of rows would double the writer's largest allocation. */
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
        }
    }
    free(perm);
    struct idx_row *sorted = rows;

    /* 3. reports with recomputed counts */
    struct idx_report *reports = xcalloc(rs->nreports ? rs->nreports : 1, sizeof *reports);
    for (uint32_t i = 0; i < rs->nreports; i++) {
        reports[i].kind = rank[rs->reports[i].kind];
        reports[i].name = rank[rs->reports[i].name];
        reports[i].namespace = rank[rs->reports[i].ns];
        reports[i].cluster = (uint32_t)rs->reports[i].cluster_scoped;
    }
    for (uint32_t r = 0; r < nrows; r++)
        reports[sorted[r].report].count[sorted[r].status]++;
    struct idx_source *sources = xcalloc(rs->nsources ? rs->nsources : 1, sizeof *sources);
    for (uint32_t i = 0; i < rs->nsources; i++) {
        sources[i].name = rank[rs->sources[i].name];
        sources[i].up = (uint32_t)rs->sources[i].up;
    }
    struct idx_target *targets = xcalloc(rs->ntargets ? rs->ntargets : 1, sizeof *targets);
    for (uint32_t i = 0; i < rs->ntargets; i++) {
        const struct target *t = &rs->targets[i];
        targets[i] = (struct idx_target){rank[t->name],    rank[t->min_priority],
                                         rank[t->sources], (uint32_t)t->skip_existing,
                                         (uint32_t)t->up,  0,
                                         t->sent,          t->failed};
    }
    qsort(targets, rs->ntargets, sizeof *targets, cmp_target_names);

    /* 4. dictionaries: per field, count rows per string and order the distinct strings folded.
     *    The postings themselves are placed field by field while the file is written (5), so
     *    only one field's worth is ever in memory. */
    uint32_t *count = xmalloc(sizeof *count * nstr), *entry_of = xmalloc(sizeof *entry_of * nstr);
    struct idx_dict_entry *dict = NULL;
    size_t ndict = 0, capdict = 0;
    uint64_t npost = 0;
    struct idx_span dictspan[IDX_NDICT];
    uint32_t *distinct = xmalloc(sizeof *distinct * nstr);
    for (int f = 0; f < IDX_NDICT; f++) {
        memset(count, 0, sizeof *count * nstr);
        for (uint32_t r = 0; r < nrows; r++)
            count[sorted[r].str[f]]++;
        uint32_t nd = 0;
        for (uint32_t s = 1; s < nstr; s++)
            if (count[s]) distinct[nd++] = s;
        qsort(distinct, nd, sizeof *distinct, cmp_folded);
        if (ndict + nd > capdict) {
            capdict = (ndict + nd) * 2;
            dict = xreallocarray(dict, capdict, sizeof *dict);
        }
        dictspan[f].off = ndict;
        dictspan[f].count = nd;
        for (uint32_t i = 0; i < nd; i++) {
            struct idx_dict_entry *e = &dict[ndict + i];
            e->str = distinct[i];
            e->post_off = (uint32_t)npost;
            e->post_n = count[distinct[i]];
            npost += count[distinct[i]];
        }
        ndict += nd;
    }
    free(distinct);
    free(count);

    /* 5. the file */
    struct idx_header h;
    memset(&h, 0, sizeof h);
    memcpy(h.magic, IDX_MAGIC, 8);
    h.version = IDX_VERSION;
    h.header_size = IDX_HEADER_SIZE;
    h.created = meta->created;
    h.cron_period = meta->cron_period;
    h.nrows = nrows;
    h.nrows_ns = nrows_ns;
    h.nstrings = nstr;
    h.nreports = rs->nreports;
    h.nsources = rs->nsources;
    h.flags = rs->no_crds ? IDX_FLAG_NO_CRDS : 0;
    h.warnings = rs->warnings;
    snprintf(h.snapshot_id, sizeof h.snapshot_id, "%s", meta->snapshot_id);
    snprintf(h.previous_id, sizeof h.previous_id, "%s", meta->previous_id ? meta->previous_id : "");
    h.changes_new = meta->changes_new;
    h.changes_resolved = meta->changes_resolved;
    h.ntargets = rs->ntargets;
    memcpy(h.dict, dictspan, sizeof dictspan);

    int rc = -1;
    struct out o = {fopen(path, "wb"), 0};
    if (!o.f) {
        snprintf(err, IDX_ERR_MAX, "%s: %s", path, strerror(errno));
        goto out;
    }
    setvbuf(o.f, NULL, _IOFBF, 1 << 20);
    put(&o, &h, sizeof h); /* rewritten below, once the offsets are known */
    begin_section(&o, &h, IDX_SEC_STROFF);
    uint32_t off = 0;
    for (uint32_t i = 0; i <= nstr; i++) {
        put(&o, &off, 4);
        if (i < nstr) off += (uint32_t)strlen(strs[i]) + 1;
    }
    end_section(&o, &h, IDX_SEC_STROFF);
    begin_section(&o, &h, IDX_SEC_STRDATA);
    for (uint32_t i = 0; i < nstr; i++)
        put(&o, strs[i], strlen(strs[i]) + 1);
    end_section(&o, &h, IDX_SEC_STRDATA);
    begin_section(&o, &h, IDX_SEC_ROWS);
    put(&o, sorted, sizeof *sorted * nrows);
    end_section(&o, &h, IDX_SEC_ROWS);
    begin_section(&o, &h, IDX_SEC_REPORTS);
    put(&o, reports, sizeof *reports * rs->nreports);
    end_section(&o, &h, IDX_SEC_REPORTS);
    begin_section(&o, &h, IDX_SEC_SOURCES);
    put(&o, sources, sizeof *sources * rs->nsources);
    end_section(&o, &h, IDX_SEC_SOURCES);
    begin_section(&o, &h, IDX_SEC_DICT);
    put(&o, dict, sizeof *dict * ndict);
    end_section(&o, &h, IDX_SEC_DICT);
    begin_section(&o, &h, IDX_SEC_POSTINGS);
    /* Each field's postings, in entry order: rows are visited in order, so every list comes
     * out ascending. One field's worth of memory at a time. */
    uint32_t *postings = xmalloc(sizeof *postings * (nrows ? nrows : 1));
    uint32_t *cursor = xmalloc(sizeof *cursor * (ndict ? ndict : 1));
    for (int f = 0; f < IDX_NDICT; f++) {
        const struct idx_dict_entry *first = dict + dictspan[f].off;
        if (!dictspan[f].count) continue;
        uint32_t base = first->post_off, filled = 0;
        for (uint64_t i = 0; i < dictspan[f].count; i++) {
            entry_of[first[i].str] = (uint32_t)i;
            cursor[i] = first[i].post_off - base;
            filled += first[i].post_n;
        }
        for (uint32_t r = 0; r < nrows; r++) {
            uint32_t s = sorted[r].str[f];
            if (s) postings[cursor[entry_of[s]]++] = r;
        }
        put(&o, postings, sizeof *postings * filled);
    }
    free(cursor);
    free(postings);
    end_section(&o, &h, IDX_SEC_POSTINGS);
    begin_section(&o, &h, IDX_SEC_SORT);
    uint32_t *ids = xmalloc(sizeof *ids * (nrows ? nrows : 1));
    for (int k = 0; k < IDX_NSORT; k++) {
        for (uint32_t r = 0; r < nrows; r++)
            ids[r] = r;
        idx_sort_by(sorted, k, ids, nrows);
        put(&o, ids, sizeof *ids * nrows);
    }
    free(ids);
    end_section(&o, &h, IDX_SEC_SORT);
    begin_section(&o, &h, IDX_SEC_TARGETS);
    put(&o, targets, sizeof *targets * rs->ntargets);
    end_section(&o, &h, IDX_SEC_TARGETS);
    h.file_size = o.pos;
    if (fseek(o.f, 0, SEEK_SET) != 0 || fwrite(&h, sizeof h, 1, o.f) != 1 || fflush(o.f) != 0 ||
        ferror(o.f) || fsync(fileno(o.f)) != 0) {
        snprintf(err, IDX_ERR_MAX, "%s: write failed: %s", path, strerror(errno));
        goto out;
    }
    rc = 0;
out:
    if (o.f && fclose(o.f) != 0 && rc == 0) {
        snprintf(err, IDX_ERR_MAX, "%s: close failed: %s", path, strerror(errno));
        rc = -1;
    }
    free(order), free(rank), free(strs), free(sorted), free(reports), free(sources), free(targets);
    free(dict), free(entry_of);
    return rc;
}
