/* rows.c - the rowset: interned strings, flat row and report arrays, the format-independent
 * row rules of spec section 1 (see rows.h). */
#include "rows.h"
#include "rows_int.h"

#include "buf.h"
#include "idx.h"
#include "util.h"

#include <openssl/evp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Bounds of the areas: rowset_add_row refuses a row past IDX_MAX_ROWS (idxw then fails,
 * naming it); a string past STRS_MAX or a table past TABLE_MAX aborts (grow_cap_u32) before an
 * area would. */
#define ROWS_MAX ((size_t)IDX_MAX_ROWS)
#define STRS_MAX ((size_t)UINT32_MAX)
#define TABLE_MAX (1u << 31)
#define ARENA_MAX ((size_t)16 << 30)

static char *arena_copy(struct rowset *rs, const char *s, size_t n)
{
    spill_area_need(&rs->arena, rs->arena_used + n + 1);
    char *p = (char *)rs->arena.p + rs->arena_used;
    memcpy(p, s, n);
    p[n] = '\0';
    rs->arena_used += n + 1;
    return p;
}

static void table_grow(struct rowset *rs)
{
    uint32_t size = grow_cap_u32(rs->tablesize, 1024, TABLE_MAX);
    struct spill_area area = {.max = (size_t)TABLE_MAX * sizeof *rs->table};
    spill_area_need(&area, sizeof *rs->table * size);
    uint32_t *t = (uint32_t *)area.p;
    memset(t, 0, sizeof *t * size);
    for (uint32_t id = 1; id < rs->nstrs; id++) {
        uint64_t h = fnv1a(rs->strs[id], strlen(rs->strs[id]));
        uint32_t i = (uint32_t)h & (size - 1);
        while (t[i])
            i = (i + 1) & (size - 1);
        t[i] = id;
        spill_check();
    }
    spill_area_release(&rs->table_area);
    rs->table_area = area;
    rs->table = t;
    rs->tablesize = size;
}

/* Room for capstrs string ids in strs and used_as_id (new slots are zero). */
static void strs_need(struct rowset *rs)
{
    spill_area_need(&rs->strs_area, sizeof *rs->strs * rs->capstrs);
    spill_area_need(&rs->used_area, rs->capstrs);
    rs->strs = (const char **)rs->strs_area.p;
    rs->used_as_id = rs->used_area.p;
}

/* The id of s[0..n), interned on first sight; 0 for a blank (NULL or empty) string. Bytes that
 * are not UTF-8 become U+FFFD (counted in rs->repaired; the callers warn): whatever a source
 * hands over, every string of the rowset, so of every answer, is valid UTF-8. */
static uint32_t intern_n(struct rowset *rs, const char *s, size_t n)
{
    if (!s || !n) return 0;
    if (utf8_prefix(s, n) != n) {
        struct buf fixed = BUF_INIT(SIZE_MAX / 2);
        buf_put_utf8_repaired(&fixed, s, n);
        rs->repaired++;
        uint32_t id = intern_n(rs, fixed.ptr, fixed.len);
        buf_release(&fixed);
        return id;
    }
    if ((uint64_t)rs->nstrs * 2 >= rs->tablesize) table_grow(rs);
    uint32_t i = (uint32_t)fnv1a(s, n) & (rs->tablesize - 1);
    for (; rs->table[i]; i = (i + 1) & (rs->tablesize - 1)) {
        const char *t = rs->strs[rs->table[i]];
        if (strncmp(t, s, n) == 0 && t[n] == '\0') return rs->table[i];
    }
    if (rs->nstrs == rs->capstrs) {
        rs->capstrs = grow_cap_u32(rs->capstrs, 1024, (uint32_t)STRS_MAX);
        strs_need(rs);
    }
    uint32_t id = rs->nstrs++;
    rs->strs[id] = arena_copy(rs, s, n);
    rs->table[i] = id;
    return id;
}

static uint32_t intern(struct rowset *rs, const char *s)
{
    return s ? intern_n(rs, s, strlen(s)) : 0;
}

struct rowset *rowset_new(void)
{
    struct rowset *rs = xcalloc(1, sizeof *rs);
    rs->strs_area.max = STRS_MAX * sizeof *rs->strs;
    rs->used_area.max = STRS_MAX;
    rs->arena.max = ARENA_MAX;
    rs->rows_area.max = ROWS_MAX * sizeof *rs->rows;
    rs->capstrs = 1024;
    strs_need(rs);
    rs->nstrs = 1; /* id 0: blank */
    table_grow(rs);
    rs->change_str[0] = intern(rs, "unchanged");
    rs->change_str[1] = intern(rs, "new");
    return rs;
}

void rowset_free(struct rowset *rs)
{
    if (!rs) return;
    spill_area_release(&rs->arena);
    spill_area_release(&rs->strs_area);
    spill_area_release(&rs->table_area);
    spill_area_release(&rs->used_area);
    spill_area_release(&rs->rows_area);
    free(rs->reports);
    free(rs->labels);
    free(rs->sources);
    free(rs->targets);
    free(rs->uploads);
    free(rs->clusters);
    free(rs);
}

void rowset_warn(struct rowset *rs, const char *origin, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "polsnap-snapshot: warning: %s: ", origin ? origin : "-");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    rs->warnings++;
}

/* The 40-hex SHA-1 of parts[0..n) joined by 0x1f, a NULL part as "". */
static void sha1_hex(const char *const *parts, size_t n, char out[41])
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    if (!ctx || !EVP_DigestInit_ex(ctx, EVP_sha1(), NULL)) abort();
    for (size_t i = 0; i < n; i++) {
        if (i) EVP_DigestUpdate(ctx, "\x1f", 1);
        if (parts[i]) EVP_DigestUpdate(ctx, parts[i], strlen(parts[i]));
    }
    if (!EVP_DigestFinal_ex(ctx, md, &mdlen) || mdlen != 20) abort();
    EVP_MD_CTX_free(ctx);
    static const char hex[] = "0123456789abcdef";
    for (unsigned i = 0; i < 20; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[40] = '\0';
}

uint32_t rowset_add_report(struct rowset *rs, const struct row_report *report)
{
    if (rs->nreports == rs->capreports) {
        rs->capreports = grow_cap_u32(rs->capreports, 64, UINT32_MAX);
        rs->reports = xreallocarray(rs->reports, rs->capreports, sizeof *rs->reports);
    }
    struct report *r = &rs->reports[rs->nreports];
    uint32_t repaired = rs->repaired;
    r->kind = intern(rs, report->kind);
    r->name = intern(rs, report->name);
    r->ns = intern(rs, report->namespace);
    r->origin = intern(rs, report->origin);
    r->cluster = report->cluster ? intern(rs, report->cluster) : rs->cluster;
    r->source = intern(rs, report->source);
    r->cluster_scoped = report->cluster_scoped ? 1 : 0;
    /* a report of a cluster (spec 10) hashes its name too: ids stay unique in a merged
     * snapshot, where every edge may have a report of the same kind, namespace and name */
    const char *parts[] = {rs->strs[r->kind], rs->strs[r->ns], rs->strs[r->name],
                           rs->strs[r->cluster]};
    char id[41];
    sha1_hex(parts, r->cluster ? 4 : 3, id);
    r->id = intern(rs, id);
    r->label_off = rs->nlabels;
    r->nlabels = report->nlabels;
    if ((uint64_t)rs->nlabels + report->nlabels > rs->caplabels) {
        while ((uint64_t)rs->nlabels + report->nlabels > rs->caplabels)
            rs->caplabels = grow_cap_u32(rs->caplabels, 64, UINT32_MAX);
        rs->labels = xreallocarray(rs->labels, rs->caplabels, 2 * sizeof *rs->labels);
    }
    for (uint32_t i = 0; i < report->nlabels; i++, rs->nlabels++) {
        rs->labels[2 * rs->nlabels] = intern(rs, report->labels[i].key);
        rs->labels[2 * rs->nlabels + 1] = intern(rs, report->labels[i].value);
    }
    if (rs->repaired != repaired)
        rowset_warn(rs, rs->strs[r->origin],
                    "report %s is not valid UTF-8: bytes replaced with U+FFFD",
                    rs->strs[r->name] ? rs->strs[r->name] : "-");
    return rs->nreports++;
}

/* Lower-cases s into out (at most outsize-1 bytes); returns out, or NULL for a blank s. */
static const char *lower(const char *s, char *out, size_t outsize)
{
    if (!s || !*s) return NULL;
    size_t i = 0;
    for (; s[i] && i + 1 < outsize; i++)
        out[i] = (char)ascii_fold((unsigned char)s[i]);
    out[i] = '\0';
    return out;
}

static const char *const severities[] = {"critical", "high", "medium", "low", "info"};

static const char *find_word(const char *w, const char *const *words, size_t n)
{
    for (size_t i = 0; w && i < n; i++)
        if (strcmp(w, words[i]) == 0) return words[i];
    return NULL;
}

static const char *blank_to_null(const char *s)
{
    return (s && *s) ? s : NULL;
}

/* The 40-hex SHA-1 of the row's identifying fields joined by 0x1f (rows.h says which). */
static void row_hash(const struct report *rep, const struct rowset *rs, const struct row_in *in,
                     const char *status, const char *severity, char out[41])
{
    const char *parts[] = {
        rs->strs[rep->kind],
        rs->strs[rep->ns],
        rs->strs[rep->name],
        in->res_api_version,
        in->res_namespace,
        in->res_kind,
        in->res_name,
        in->res_uid,
        in->result_id,
        in->policy,
        in->rule,
        status,
        severity,
        in->category,
        in->source,
        in->message,
        in->properties,
    };
    sha1_hex(parts, ARRAY_LEN(parts), out);
}

enum rowset_add_result rowset_add_row(struct rowset *rs, uint32_t report, const struct row_in *in)
{
    const struct report *rep = &rs->reports[report];
    char statusbuf[16], sevbuf[16];
    const char *status =
        find_word(lower(in->status, statusbuf, sizeof statusbuf), idx_status_names, IDX_NSTATUS);
    if (!status) {
        rowset_warn(rs, rs->strs[rep->origin],
                    "result of policy %s rule %s has status \"%s\" "
                    "(not pass, fail, warn, error or skip): skipped",
                    in->policy ? in->policy : "-", in->rule ? in->rule : "-",
                    in->status ? in->status : "");
        return ROWSET_BAD_STATUS;
    }
    const char *severity = find_word(lower(in->severity, sevbuf, sizeof sevbuf), severities, 5);

    /* Canonical blanks first: the hash must not tell "" from absent. */
    struct row_in c = *in;
    const char **fields[] = {&c.res_api_version, &c.res_kind,  &c.res_name,
                             &c.res_namespace,   &c.res_uid,   &c.message,
                             &c.category,        &c.policy,    &c.rule,
                             &c.source,          &c.result_id, &c.properties};
    for (size_t i = 0; i < ARRAY_LEN(fields); i++)
        *fields[i] = blank_to_null(*fields[i]);

    char hashed[41];
    const char *id = c.result_id;
    if (!id || c.resource_count > 1) {
        row_hash(rep, rs, &c, status, severity, hashed);
        id = hashed;
    }
    uint32_t repaired = rs->repaired, idref = intern(rs, id);
    if (rs->used_as_id[idref]) {
        rowset_warn(rs, rs->strs[rep->origin],
                    "duplicate result id %s (policy %s, rule %s): "
                    "dropped, the first one stays",
                    rs->strs[idref], c.policy ? c.policy : "-", c.rule ? c.rule : "-");
        return ROWSET_DUPLICATE;
    }
    rs->used_as_id[idref] = 1;

    if (rs->nrows == IDX_MAX_ROWS) { /* the index could not hold it: publishing will fail */
        if (!rs->refused++)
            rowset_warn(rs, rs->strs[rep->origin], "more than %u rows: the index holds no more",
                        IDX_MAX_ROWS);
        return ROWSET_FULL;
    }
    spill_area_need(&rs->rows_area, sizeof *rs->rows * ((size_t)rs->nrows + 1));
    rs->rows = (struct row *)rs->rows_area.p;
    spill_check();
    struct row *r = &rs->rows[rs->nrows++];
    memset(r, 0, sizeof *r);
    r->s[R_ID] = idref;
    r->s[R_NS] = rep->cluster_scoped ? 0 : (rep->ns ? rep->ns : intern(rs, c.res_namespace));
    r->s[R_KIND] = intern(rs, c.res_kind);
    r->s[R_NAME] = intern(rs, c.res_name);
    r->s[R_MESSAGE] = intern(rs, c.message);
    r->s[R_CATEGORY] = intern(rs, c.category);
    r->s[R_POLICY] = intern(rs, c.policy);
    r->s[R_RULE] = intern(rs, c.rule);
    r->s[R_STATUS] = intern(rs, status);
    r->s[R_SEVERITY] = intern(rs, severity);
    r->s[R_SOURCE] = intern(rs, c.source);
    r->s[R_PROPERTIES] = intern(rs, c.properties);
    r->s[R_RES_API] = intern(rs, c.res_api_version);
    r->s[R_RES_NS] = intern(rs, c.res_namespace);
    r->s[R_RES_UID] = intern(rs, c.res_uid);
    r->s[R_CLUSTER] = rep->cluster;
    r->report = report;
    r->timestamp = c.has_timestamp ? c.timestamp : 0;
    r->has_timestamp = c.has_timestamp ? 1 : 0;
    r->scored = (uint8_t)(c.scored < 0 ? 0 : c.scored ? 2 : 1);
    r->first_seen = ROWSET_NO_TIME;
    if (rs->repaired != repaired)
        rowset_warn(rs, rs->strs[rep->origin],
                    "result of policy %s rule %s is not valid UTF-8: bytes replaced with U+FFFD",
                    rs->strs[r->s[R_POLICY]] ? rs->strs[r->s[R_POLICY]] : "-",
                    rs->strs[r->s[R_RULE]] ? rs->strs[r->s[R_RULE]] : "-");
    return ROWSET_ADDED;
}

void rowset_set_change(struct rowset *rs, uint32_t i, int is_new, int64_t first_seen)
{
    rs->rows[i].is_new = is_new ? 1 : 0;
    rs->rows[i].first_seen = first_seen;
}

void rowset_add_target(struct rowset *rs, const struct row_target *t)
{
    if (rs->ntargets == rs->captargets) {
        rs->captargets = grow_cap_u32(rs->captargets, 8, UINT32_MAX);
        rs->targets = xreallocarray(rs->targets, rs->captargets, sizeof *rs->targets);
    }
    struct target *o = &rs->targets[rs->ntargets++];
    o->name = intern(rs, t->name);
    o->min_priority = intern(rs, t->min_priority);
    o->sources = intern(rs, t->sources);
    o->skip_existing = t->skip_existing ? 1 : 0;
    o->up = t->up ? 1 : 0;
    o->sent = t->sent;
    o->failed = t->failed;
}

void rowset_add_upload(struct rowset *rs, const char *dest, int up, int64_t last_success)
{
    if (rs->nuploads == rs->capuploads) {
        rs->capuploads = rs->capuploads ? rs->capuploads * 2 : 4;
        rs->uploads = xreallocarray(rs->uploads, rs->capuploads, sizeof *rs->uploads);
    }
    rs->uploads[rs->nuploads++] = (struct upload){intern(rs, dest), up ? 1 : 0, last_success};
}

void rowset_set_cluster(struct rowset *rs, const char *name)
{
    rs->cluster = intern(rs, name);
}

void rowset_add_cluster(struct rowset *rs, const struct row_cluster *c)
{
    if (rs->nclusters == rs->capclusters) {
        rs->capclusters = rs->capclusters ? rs->capclusters * 2 : 8;
        rs->clusters = xreallocarray(rs->clusters, rs->capclusters, sizeof *rs->clusters);
    }
    rs->clusters[rs->nclusters++] = (struct cluster){intern(rs, c->name),  intern(rs, c->snapshot),
                                                     intern(rs, c->error), c->state,
                                                     c->own ? 1 : 0,       c->time,
                                                     c->last_pull};
}

void rowset_source_status(struct rowset *rs, const char *name, int up)
{
    if (rs->nsources == rs->capsources) {
        rs->capsources = grow_cap_u32(rs->capsources, 8, UINT32_MAX);
        rs->sources = xreallocarray(rs->sources, rs->capsources, sizeof *rs->sources);
    }
    rs->sources[rs->nsources].name = intern(rs, name);
    rs->sources[rs->nsources++].up = up ? 1 : 0;
}

void rowset_set_no_crds(struct rowset *rs)
{
    rs->no_crds = 1;
}

void rowset_get(const struct rowset *rs, uint32_t i, struct row_view *out)
{
    const struct row *r = &rs->rows[i];
    const char *const *s = rs->strs;
    out->id = s[r->s[R_ID]];
    out->namespace = s[r->s[R_NS]];
    out->kind = s[r->s[R_KIND]];
    out->name = s[r->s[R_NAME]];
    out->message = s[r->s[R_MESSAGE]];
    out->category = s[r->s[R_CATEGORY]];
    out->policy = s[r->s[R_POLICY]];
    out->rule = s[r->s[R_RULE]];
    out->status = s[r->s[R_STATUS]];
    out->severity = s[r->s[R_SEVERITY]];
    out->source = s[r->s[R_SOURCE]];
    out->properties = s[r->s[R_PROPERTIES]];
    out->res_api_version = s[r->s[R_RES_API]];
    out->res_namespace = s[r->s[R_RES_NS]];
    out->res_uid = s[r->s[R_RES_UID]];
    out->cluster = s[r->s[R_CLUSTER]];
    out->timestamp = r->timestamp;
    out->first_seen = r->first_seen;
    out->is_new = r->is_new;
    out->has_timestamp = r->has_timestamp;
    out->scored = r->scored == 0 ? -1 : r->scored - 1;
    out->report = r->report;
}

void rowset_get_report(const struct rowset *rs, uint32_t i, struct report_view *out)
{
    const struct report *r = &rs->reports[i];
    out->kind = rs->strs[r->kind];
    out->name = rs->strs[r->name];
    out->namespace = rs->strs[r->ns];
    out->id = rs->strs[r->id];
    out->source = rs->strs[r->source];
    out->cluster = rs->strs[r->cluster];
    out->cluster_scoped = r->cluster_scoped;
    out->nlabels = r->nlabels;
}

uint32_t rowset_sources(const struct rowset *rs)
{
    return rs->nsources;
}

const char *rowset_source(const struct rowset *rs, uint32_t i, int *up)
{
    *up = rs->sources[i].up;
    return rs->strs[rs->sources[i].name];
}

void rowset_free_rows(struct rowset *rs)
{
    spill_area_release(&rs->rows_area);
    rs->rows = NULL;
    rs->nrows = 0;
}

uint32_t rowset_rows(const struct rowset *rs)
{
    return rs->nrows;
}

uint32_t rowset_reports(const struct rowset *rs)
{
    return rs->nreports;
}

uint32_t rowset_warnings(const struct rowset *rs)
{
    return rs->warnings;
}
