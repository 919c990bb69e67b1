/* changes.c - finding keys and the comparison with the previous snapshot (changes.h). */
#include "changes.h"

#include "buf.h"
#include "err.h"
#include "spill.h"
#include "util.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int changes_failing_status(const char *status)
{
    return status &&
           (!strcmp(status, "fail") || !strcmp(status, "warn") || !strcmp(status, "error"));
}

/* The fields of a finding key; a blank one is NULL. */
struct key_fields {
    int cluster; /* the scope */
    const char *cluster_name, *ns, *kind, *name, *report, *source, *policy, *rule;
};

/* Appends a field to the key text: a blank one as 0x1e, which no string holds, else the
 * string and 0x1f. */
static void key_add(struct buf *b, const char *s)
{
    if (!s) {
        buf_putc(b, 0x1e);
        return;
    }
    buf_puts(b, s);
    buf_putc(b, 0x1f);
}

/* fnv1a over the fields, then a 64-bit finaliser (murmur3's) so that the low bits, which
 * pick the table slot, depend on every byte. Never 0: 0 marks an empty slot. */
static uint64_t key_hash(const struct key_fields *k, struct buf *b)
{
    buf_reset(b);
    buf_putc(b, k->cluster ? 'c' : 'n');
    key_add(b, k->cluster_name);
    key_add(b, k->ns);
    if (k->kind || k->name) {
        key_add(b, k->kind);
        key_add(b, k->name);
    } else {
        key_add(b, NULL);
        key_add(b, k->report);
    }
    key_add(b, k->source);
    key_add(b, k->policy);
    key_add(b, k->rule);
    uint64_t h = fnv1a(b->ptr, b->len);
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h ? h : 1;
}

struct entry {
    uint64_t key;
    int64_t first_seen; /* from the previous snapshot's failing rows */
    uint32_t prev_row;  /* one failing row of the key there */
    uint8_t prev_failing, now_failing;
};

struct table {
    struct entry *e; /* in area (spill.h): a million keys' table is 48 MB */
    size_t mask;
    struct spill_area area;
};

static size_t slot(struct table *t, uint64_t key)
{
    size_t i = (size_t)key & t->mask;
    while (t->e[i].key && t->e[i].key != key)
        i = (i + 1) & t->mask;
    if (!t->e[i].key) {
        t->e[i].key = key;
        t->e[i].first_seen = IDX_NO_TIME;
    }
    return i;
}

static void table_init(struct table *t, size_t n)
{
    size_t cap = 64;
    while (cap < 2 * n)
        cap *= 2;
    t->e = spill_array(&t->area, cap, sizeof *t->e); /* zero-filled */
    t->mask = cap - 1;
}

/* The key of row r of an index. */
static uint64_t index_key(const struct idx *ix, uint32_t r, struct buf *b)
{
    const struct idx_row *row = &ix->rows[r];
    const uint32_t *s = row->str;
    struct key_fields k = {row->cluster,
                           idx_str(ix, s[IDX_F_CLUSTER]),
                           idx_str(ix, s[IDX_F_NAMESPACE]),
                           idx_str(ix, s[IDX_F_KIND]),
                           idx_str(ix, s[IDX_F_NAME]),
                           idx_str(ix, ix->reports[row->report].name),
                           idx_str(ix, s[IDX_F_SOURCE]),
                           idx_str(ix, s[IDX_F_POLICY]),
                           idx_str(ix, s[IDX_F_RULE])};
    return key_hash(&k, b);
}

static void add_previous(struct table *t, const struct idx *prev, struct buf *b)
{
    for (uint32_t r = 0; r < prev->h->nrows; r++) {
        struct entry *e = &t->e[slot(t, index_key(prev, r, b))];
        const struct idx_row *row = &prev->rows[r];
        int failing =
            row->status == IDX_FAIL || row->status == IDX_WARN || row->status == IDX_ERROR;
        if (failing && !e->prev_failing) {
            e->prev_failing = 1;
            e->prev_row = r;
            e->first_seen = row->first_seen;
        }
        spill_check();
    }
}

/* Opens data_dir's current index into *prev, or says (on stderr) why there is none. */
static int open_previous(const char *data_dir, struct idx *prev)
{
    char path[PATH_MAX];
    struct err e = {0};
    struct stat st;
    snprintf(path, sizeof path, "%s/current", data_dir);
    if (lstat(path, &st) != 0 && errno == ENOENT) {
        fprintf(stderr,
                "polsnap-snapshot: changes: the first snapshot of %s: nothing to "
                "compare with, so nothing is marked new\n",
                data_dir);
        return -1;
    }
    snprintf(path, sizeof path, "%s/current/%s", data_dir, IDX_FILE);
    if (idx_open(prev, path, &e) != 0) {
        fprintf(stderr,
                "polsnap-snapshot: changes: the previous snapshot cannot be read (%s): "
                "nothing is marked new\n",
                e.msg);
        return -1;
    }
    return 0;
}

void changes_mark(struct rowset *rs, const char *data_dir, int64_t now,
                  changes_resolved_fn on_resolved, void *ctx, struct changes *out)
{
    memset(out, 0, sizeof *out);
    struct idx prev = {0};
    int have_prev = open_previous(data_dir, &prev) == 0;
    uint32_t n = rowset_rows(rs);
    struct table t;
    struct buf key = BUF_INIT(1 << 20); /* one key's text at a time */
    table_init(&t, (size_t)n + (have_prev ? prev.h->nrows : 0));
    if (have_prev) {
        snprintf(out->previous, sizeof out->previous, "%s", prev.h->snapshot_id);
        add_previous(&t, &prev, &key);
    }
    struct spill_area slots;
    size_t *of_row = spill_array(&slots, n, sizeof *of_row); /* each row's slot */
    for (uint32_t i = 0; i < n; i++) {
        struct row_view v;
        struct report_view rep;
        rowset_get(rs, i, &v);
        rowset_get_report(rs, v.report, &rep);
        struct key_fields k = {rep.cluster_scoped, v.cluster, v.namespace, v.kind, v.name,
                               rep.name,           v.source,  v.policy,    v.rule};
        of_row[i] = slot(&t, key_hash(&k, &key));
        if (changes_failing_status(v.status)) t.e[of_row[i]].now_failing = 1;
        spill_check();
    }
    for (uint32_t i = 0; i < n; i++) {
        const struct entry *e = &t.e[of_row[i]];
        int is_new = have_prev && e->now_failing && !e->prev_failing;
        int64_t since = !e->now_failing                                   ? ROWSET_NO_TIME
                        : e->prev_failing && e->first_seen != IDX_NO_TIME ? e->first_seen
                                                                          : now;
        rowset_set_change(rs, i, is_new, since);
        out->new_rows += (uint32_t)is_new;
        spill_check();
    }
    spill_area_release(&slots);
    for (size_t i = 0; have_prev && i <= t.mask; i++) {
        const struct entry *e = &t.e[i];
        if (!e->key) continue;
        out->new_keys += e->now_failing && !e->prev_failing;
        if (e->prev_failing && !e->now_failing) {
            out->resolved++;
            if (on_resolved) on_resolved(&prev, e->prev_row, ctx);
        }
        spill_check();
    }
    spill_area_release(&t.area);
    buf_release(&key);
    if (have_prev)
        fprintf(stderr, "polsnap-snapshot: changes since %s: %u new, %u resolved\n", out->previous,
                out->new_keys, out->resolved);
    idx_close(&prev);
}
