/* idx.c - opens, checks and searches a mapped snapshot index (format in idx.h). */
#include "idx.h"

#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* The one table of status, severity and field names (the API, the query parser and the row
 * loader all use these). Keep in sync with the enums in idx.h. */
const char *const idx_status_names[IDX_NSTATUS] = {"pass", "fail", "warn", "error", "skip"};
const char *const idx_severity_names[IDX_NSEVERITY] = {NULL,     "info", "low",
                                                       "medium", "high", "critical"};
const char *const idx_cluster_state_names[IDX_NCLUSTER_STATES] = {"up", "stale", "gone"};
const char *const idx_field_names[IDX_NFIELDS] = {
    "namespace",
    "kind",
    "name",
    "policy",
    "rule",
    "category",
    "severity",
    "status",
    "source",
    "message",
    "report",
    "change",
    "cluster",
    "id",
    "properties",
    "resource.apiVersion",
    "resource.namespace",
    "resource.uid",
};

#define FAIL(...) return err_set(e, ERR_INVALID, __VA_ARGS__)

void (*idx_check_tick)(void);

/* Every 64th item a check reads: a tick (see idx.h). */
static inline void tick(uint64_t i)
{
    if (idx_check_tick && (i & 63) == 0) idx_check_tick();
}

/* Section s holds whole elements of elsize bytes, aligned for them, inside the file. */
static int section_ok(const struct idx_header *h, size_t size, int s, size_t elsize)
{
    const struct idx_span *sp = &h->sec[s];
    return sp->off >= h->header_size && sp->off <= size && sp->count <= size - sp->off &&
           sp->off % 8 == 0 && sp->count % elsize == 0;
}

/* Invariants 1 and 2: the header, and every section inside the file. */
static int check_header(const struct idx_header *h, size_t size, struct err *e)
{
    if (size < sizeof *h) FAIL("index is %lu bytes, shorter than its header", (unsigned long)size);
    if (memcmp(h->magic, IDX_MAGIC, 8) != 0) FAIL("not a polsnap index (bad magic)");
    if (h->version != IDX_VERSION || h->header_size != IDX_HEADER_SIZE)
        FAIL("index format version %u, this program reads version %u", h->version, IDX_VERSION);
    if (h->file_size != size)
        FAIL("index is truncated or padded (header says %llu bytes, file "
             "has %lu)",
             (unsigned long long)h->file_size, (unsigned long)size);
    static const size_t elsize[IDX_NSEC] = {
        [IDX_SEC_STROFF] = sizeof(uint32_t),
        [IDX_SEC_STRDATA] = 1,
        [IDX_SEC_ROWS] = sizeof(struct idx_row),
        [IDX_SEC_REPORTS] = sizeof(struct idx_report),
        [IDX_SEC_SOURCES] = sizeof(struct idx_source),
        [IDX_SEC_DICT] = sizeof(struct idx_dict_entry),
        [IDX_SEC_POSTINGS] = sizeof(uint32_t),
        [IDX_SEC_SORT] = sizeof(uint32_t),
        [IDX_SEC_TARGETS] = sizeof(struct idx_target),
        [IDX_SEC_LABELS] = sizeof(struct idx_label),
        [IDX_SEC_LABEL_REPORTS] = sizeof(uint32_t),
        [IDX_SEC_REPORT_LABELS] = sizeof(uint32_t),
        [IDX_SEC_REPORT_ROWS] = sizeof(uint32_t),
        [IDX_SEC_UPLOADS] = sizeof(struct idx_upload),
        [IDX_SEC_CLUSTERS] = sizeof(struct idx_cluster),
    };
    for (int s = 0; s < IDX_NSEC; s++)
        if (!section_ok(h, size, s, elsize[s])) FAIL("section %d lies outside the file", s);
    if (h->snapshot_id[sizeof h->snapshot_id - 1] != '\0' ||
        h->previous_id[sizeof h->previous_id - 1] != '\0')
        FAIL("snapshot id not terminated");
    return 0;
}

/* Invariant 3: every string terminated at its end, and in byte order from string 1 on. */
static int check_strings(const struct idx *ix, struct err *e)
{
    const struct idx_header *h = ix->h;
    uint64_t datalen = h->sec[IDX_SEC_STRDATA].count;
    if (h->nstrings < 1 || (uint64_t)h->nstrings + 1 != h->sec[IDX_SEC_STROFF].count / 4)
        FAIL("string offset table has the wrong length");
    if (ix->stroff[0] != 0 || ix->stroff[h->nstrings] != datalen)
        FAIL("string table does not cover its data");
    for (uint32_t i = 0; i < h->nstrings; i++) {
        tick(i);
        if (ix->stroff[i + 1] <= ix->stroff[i]) FAIL("string %u has no terminator", i);
        if (ix->stroff[i + 1] > datalen) FAIL("string %u ends past the string data", i);
        if (ix->strdata[ix->stroff[i + 1] - 1] != '\0') FAIL("string %u is not terminated", i);
    }
    /* ids compare as their strings only when ranks are in order (distinct, ascending) */
    for (uint32_t i = 1; i + 1 < h->nstrings; i++) {
        tick(i);
        if (strcmp(idx_str(ix, i), idx_str(ix, i + 1)) >= 0)
            FAIL("strings %u and %u are not in byte order", i, i + 1);
    }
    return 0;
}

/* Invariant 8: the cluster table. */
static int check_clusters(const struct idx *ix, struct err *e)
{
    const struct idx_header *h = ix->h;
    if ((uint64_t)h->nclusters * sizeof(struct idx_cluster) != h->sec[IDX_SEC_CLUSTERS].count)
        FAIL("cluster count does not match its section");
    for (uint32_t i = 0; i < h->nclusters; i++) {
        const struct idx_cluster *c = &ix->clusters[i];
        if (!c->name || c->name >= h->nstrings || c->snapshot >= h->nstrings ||
            c->error >= h->nstrings || c->state >= IDX_NCLUSTER_STATES || c->own > 1 ||
            (i && c->name <= ix->clusters[i - 1].name))
            FAIL("cluster %u: value out of range or out of order", i);
    }
    return 0;
}

/* Invariant 4: rows, reports and sources refer only to what exists. */
static int check_records(const struct idx *ix, struct err *e)
{
    const struct idx_header *h = ix->h;
    if (h->nrows_ns > h->nrows ||
        (uint64_t)h->nrows * sizeof(struct idx_row) != h->sec[IDX_SEC_ROWS].count)
        FAIL("row counts do not match the row section");
    if ((uint64_t)h->nreports * sizeof(struct idx_report) != h->sec[IDX_SEC_REPORTS].count ||
        (uint64_t)h->nsources * sizeof(struct idx_source) != h->sec[IDX_SEC_SOURCES].count)
        FAIL("report or source counts do not match their sections");
    for (uint32_t r = 0; r < h->nrows; r++) {
        const struct idx_row *row = &ix->rows[r];
        tick(r);
        for (int f = 0; f < IDX_NFIELDS; f++)
            if (row->str[f] >= h->nstrings) FAIL("row %u field %d: bad string id", r, f);
        const char *change = idx_str(ix, row->str[IDX_F_CHANGE]);
        if (!change ||
            (strcmp(change, IDX_CHANGE_NEW) != 0 && strcmp(change, IDX_CHANGE_UNCHANGED) != 0))
            FAIL("row %u: bad change value", r);
        if (row->report >= h->nreports || row->status >= IDX_NSTATUS ||
            row->severity >= IDX_NSEVERITY || row->scored > 2 || row->cluster != (r >= h->nrows_ns))
            FAIL("row %u: value out of range", r);
    }
    for (uint32_t r = 0; r < h->nreports; r++) {
        const struct idx_report *rep = &ix->reports[r];
        if (rep->kind >= h->nstrings || rep->name >= h->nstrings || rep->namespace >= h->nstrings ||
            rep->id >= h->nstrings || rep->source >= h->nstrings ||
            rep->cluster_name >= h->nstrings)
            FAIL("report %u: bad string id", r);
    }
    for (uint32_t s = 0; s < h->nsources; s++)
        if (!ix->sources[s].name || ix->sources[s].name >= h->nstrings || ix->sources[s].up > 1)
            FAIL("source %u: value out of range", s);
    if ((uint64_t)h->ntargets * sizeof(struct idx_target) != h->sec[IDX_SEC_TARGETS].count)
        FAIL("target count does not match its section");
    for (uint32_t t = 0; t < h->ntargets; t++) {
        const struct idx_target *tg = &ix->targets[t];
        if (!tg->name || tg->name >= h->nstrings || !tg->min_priority ||
            tg->min_priority >= h->nstrings || tg->sources >= h->nstrings ||
            tg->skip_existing > 1 || tg->up > 1)
            FAIL("target %u: value out of range", t);
    }
    for (uint32_t u = 0; u < ix->nuploads; u++)
        if (!ix->uploads[u].dest || ix->uploads[u].dest >= h->nstrings || ix->uploads[u].up > 1)
            FAIL("upload %u: value out of range", u);
    return check_clusters(ix, e);
}

/* Invariant 6: one dictionary's entries in folded order (ties by id, so no value twice), the
 * order idx_dict_range's binary search relies on, and each posting list strictly ascending. */
static int check_dict_order(const struct idx *ix, int f, struct err *e)
{
    const struct idx_span *d = &ix->h->dict[f];
    for (uint64_t k = d->off; k < d->off + d->count; k++) {
        const struct idx_dict_entry *de = &ix->dict[k];
        tick(k);
        if (k > d->off) {
            const struct idx_dict_entry *prev = de - 1;
            int c = ascii_casecmp(idx_str(ix, prev->str), idx_str(ix, de->str));
            if (c > 0 || (c == 0 && prev->str >= de->str))
                FAIL("dictionary %d entry %llu is not in folded order", f, (unsigned long long)k);
        }
        const uint32_t *p = idx_postings(ix, de);
        for (uint32_t j = 1; j < de->post_n; j++) {
            tick(j);
            if (p[j] <= p[j - 1])
                FAIL("dictionary %d entry %llu: postings not ascending", f, (unsigned long long)k);
        }
    }
    return 0;
}

/* Invariants 5 and 6: dictionary and posting spans inside their sections, postings naming
 * rows, then the orders. */
static int check_dicts(const struct idx *ix, struct err *e)
{
    const struct idx_header *h = ix->h;
    uint64_t ndict = h->sec[IDX_SEC_DICT].count / sizeof(struct idx_dict_entry);
    uint64_t npost = h->sec[IDX_SEC_POSTINGS].count / 4;
    for (int f = 0; f < IDX_NDICT; f++) {
        const struct idx_span *d = &h->dict[f];
        if (d->off > ndict || d->count > ndict - d->off) FAIL("dictionary %d out of bounds", f);
        for (uint64_t k = d->off; k < d->off + d->count; k++) {
            const struct idx_dict_entry *de = &ix->dict[k];
            if (de->str == 0 || de->str >= h->nstrings || de->post_off > npost ||
                de->post_n > npost - de->post_off)
                FAIL("dictionary %d entry %llu out of bounds", f, (unsigned long long)k);
        }
    }
    for (uint64_t p = 0; p < npost; p++) {
        tick(p);
        if (ix->postings[p] >= h->nrows) FAIL("posting %llu names no row", (unsigned long long)p);
    }
    for (int f = 0; f < IDX_NDICT; f++)
        if (check_dict_order(ix, f, e)) return -1;
    return 0;
}

/* Invariant 7: each sort order is a permutation of the rows. */
static int check_sorts(const struct idx *ix, struct err *e)
{
    const struct idx_header *h = ix->h;
    if (h->sec[IDX_SEC_SORT].count != (uint64_t)IDX_NSORT * h->nrows * sizeof(uint32_t))
        FAIL("sort section has the wrong length");
    unsigned char *seen = calloc(h->nrows ? h->nrows : 1, 1);
    if (!seen) return err_set(e, ERR_IO, "out of memory checking the sort orders");
    for (int k = 0; k < IDX_NSORT; k++) {
        const uint32_t *perm = ix->sort + (size_t)k * h->nrows;
        for (uint32_t i = 0; i < h->nrows; i++) {
            tick(i);
            if (perm[i] >= h->nrows || seen[perm[i]] == k + 1) {
                free(seen);
                FAIL("sort order %d is not a permutation of the rows", k);
            }
            seen[perm[i]] = (unsigned char)(k + 1);
        }
    }
    free(seen);
    return 0;
}

/* ids[off, +n) lies inside a section of total entries, each < bound, strictly ascending. */
static int span_ok(const uint32_t *ids, uint64_t total, uint64_t off, uint64_t n, uint32_t bound)
{
    if (off > total || n > total - off) return 0;
    for (uint64_t i = off; i < off + n; i++)
        if (ids[i] >= bound || (i > off && ids[i] <= ids[i - 1])) return 0;
    return 1;
}

/* Invariant 8: the labels dictionary, the reports' labels and the reports' rows. */
static int check_labels(const struct idx *ix, struct err *e)
{
    const struct idx_header *h = ix->h;
    uint64_t nlr = h->sec[IDX_SEC_LABEL_REPORTS].count / 4;
    uint64_t nrl = h->sec[IDX_SEC_REPORT_LABELS].count / 4;
    if ((uint64_t)h->nlabels * sizeof(struct idx_label) != h->sec[IDX_SEC_LABELS].count ||
        h->sec[IDX_SEC_REPORT_ROWS].count / 4 != h->nrows)
        FAIL("label or report-row counts do not match their sections");
    for (uint32_t l = 0; l < h->nlabels; l++) {
        const struct idx_label *lb = &ix->labels[l], *prev = l ? &ix->labels[l - 1] : NULL;
        if (!lb->key || lb->key >= h->nstrings || lb->value >= h->nstrings ||
            (prev && (prev->key > lb->key || (prev->key == lb->key && prev->value >= lb->value))) ||
            !span_ok(ix->label_reports, nlr, lb->rep_off, lb->rep_n, h->nreports))
            FAIL("label %u out of order or out of bounds", l);
    }
    uint64_t covered = 0;
    for (uint32_t r = 0; r < h->nreports; r++) {
        const struct idx_report *rep = &ix->reports[r];
        uint64_t n = 0;
        for (int s = 0; s < IDX_NSTATUS; s++)
            n += rep->count[s];
        if (!span_ok(ix->report_labels, nrl, rep->label_off, rep->label_n, h->nlabels) ||
            !span_ok(ix->report_rows, h->nrows, rep->row_off, n, h->nrows))
            FAIL("report %u: labels or rows out of bounds", r);
        for (uint64_t i = rep->row_off; i < rep->row_off + n; i++)
            if (ix->rows[ix->report_rows[i]].report != r) FAIL("report %u: a row of another", r);
        covered += n;
    }
    if (covered != h->nrows) FAIL("the reports' rows are not all the rows");
    return 0;
}

int idx_check(struct idx *out, const void *base, size_t size, struct err *e)
{
    const struct idx_header *h = base;
    if (check_header(h, size, e)) return -1;
    const unsigned char *b = base;
    struct idx ix = {
        .base = b,
        .size = size,
        .h = h,
        .stroff = (const uint32_t *)(b + h->sec[IDX_SEC_STROFF].off),
        .strdata = (const char *)(b + h->sec[IDX_SEC_STRDATA].off),
        .rows = (const struct idx_row *)(b + h->sec[IDX_SEC_ROWS].off),
        .reports = (const struct idx_report *)(b + h->sec[IDX_SEC_REPORTS].off),
        .sources = (const struct idx_source *)(b + h->sec[IDX_SEC_SOURCES].off),
        .dict = (const struct idx_dict_entry *)(b + h->sec[IDX_SEC_DICT].off),
        .postings = (const uint32_t *)(b + h->sec[IDX_SEC_POSTINGS].off),
        .sort = (const uint32_t *)(b + h->sec[IDX_SEC_SORT].off),
        .targets = (const struct idx_target *)(b + h->sec[IDX_SEC_TARGETS].off),
        .labels = (const struct idx_label *)(b + h->sec[IDX_SEC_LABELS].off),
        .label_reports = (const uint32_t *)(b + h->sec[IDX_SEC_LABEL_REPORTS].off),
        .report_labels = (const uint32_t *)(b + h->sec[IDX_SEC_REPORT_LABELS].off),
        .report_rows = (const uint32_t *)(b + h->sec[IDX_SEC_REPORT_ROWS].off),
        .uploads = (const struct idx_upload *)(b + h->sec[IDX_SEC_UPLOADS].off),
        .nuploads = (uint32_t)(h->sec[IDX_SEC_UPLOADS].count / sizeof(struct idx_upload)),
        .clusters = (const struct idx_cluster *)(b + h->sec[IDX_SEC_CLUSTERS].off),
    };
    if (check_strings(&ix, e) || check_records(&ix, e) || check_dicts(&ix, e) ||
        check_sorts(&ix, e) || check_labels(&ix, e))
        return -1;
    *out = ix;
    return 0;
}

int idx_open(struct idx *ix, const char *path, struct err *e)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return err_set(e, ERR_IO, "%s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || st.st_size < (off_t)sizeof(struct idx_header)) {
        close(fd);
        FAIL("%s: too short to be an index", path);
    }
    void *base = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
    close(fd);
    if (base == MAP_FAILED) return err_set(e, ERR_IO, "%s: mmap: %s", path, strerror(errno));
    if (idx_check(ix, base, (size_t)st.st_size, e) != 0) {
        munmap(base, (size_t)st.st_size);
        return -1;
    }
    return 0;
}

void idx_close(struct idx *ix)
{
    if (ix->base) munmap((void *)ix->base, ix->size);
    memset(ix, 0, sizeof *ix);
}

/* Compares the folded first n bytes of s against key[0..n) (s shorter sorts first). For
 * prefix searches s is cut to n bytes, so every s starting with key compares equal. */
static int fold_cmp_n(const char *s, const char *key, size_t n, int prefix)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\0') return -1; /* s is shorter (key may even hold a NUL byte) */
        unsigned char c = ascii_fold((unsigned char)s[i]), d = ascii_fold((unsigned char)key[i]);
        if (c != d) return (int)c - (int)d;
    }
    return (prefix || s[n] == '\0') ? 0 : 1;
}

size_t idx_dict_range(const struct idx *ix, int field, const char *value, size_t n, int prefix,
                      const struct idx_dict_entry **first)
{
    const struct idx_dict_entry *d = ix->dict + ix->h->dict[field].off;
    size_t count = (size_t)ix->h->dict[field].count;
    size_t lo = 0, hi = count;
    while (lo < hi) { /* first entry >= value */
        size_t mid = lo + (hi - lo) / 2;
        if (fold_cmp_n(idx_str(ix, d[mid].str), value, n, prefix) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    size_t start = lo;
    hi = count;
    while (lo < hi) { /* first entry > value */
        size_t mid = lo + (hi - lo) / 2;
        if (fold_cmp_n(idx_str(ix, d[mid].str), value, n, prefix) <= 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *first = d + start;
    return lo - start;
}

size_t idx_dict_all(const struct idx *ix, int field, const struct idx_dict_entry **first)
{
    *first = ix->dict + ix->h->dict[field].off;
    return (size_t)ix->h->dict[field].count;
}

/* Labels are sorted by (key id, value id) and ids are byte-order ranks: compare the texts. */
static int label_cmp(const struct idx *ix, const struct idx_label *l, const char *key,
                     const char *value)
{
    int c = strcmp(idx_str(ix, l->key), key);
    if (c) return c;
    const char *v = idx_str(ix, l->value);
    return strcmp(v ? v : "", value);
}

const struct idx_label *idx_label_find(const struct idx *ix, const char *key, const char *value)
{
    size_t lo = 0, hi = ix->h->nlabels;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = label_cmp(ix, &ix->labels[mid], key, value);
        if (c == 0) return &ix->labels[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}
