/* fuzz_fleet.c - libFuzzer harness: any bytes as an edge's fleet export (fleet_read), which a
 * central reads from machines it does not control. The first byte picks the layer: 0 = the rest
 * is the JSON-lines text, gzip-compressed here (so the fuzzer works on the lines, not on CRCs);
 * anything else = the rest is the file as it arrives. Checks the contract beyond no crash: an
 * accepted export handed the sink exactly the reports and rows its header announces, each row
 * naming a report that came before it; a refused one says why. Built and run by tests/fuzz/run. */
#include "fleet_read.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <zlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct seen {
    uint32_t reports, rows;
};

static void on_report(void *ctx, uint32_t i, const struct row_report *rep)
{
    struct seen *s = ctx;
    if (i != s->reports++ || !rep) abort();
}

static void on_row(void *ctx, uint32_t report, const struct row_in *row)
{
    struct seen *s = ctx;
    if (report >= s->reports || !row) abort();
    s->rows++;
}

/* The input as a file: one path for the process, rewritten for each input. */
static const char *write_input(const uint8_t *data, size_t size)
{
    static char path[64];
    if (!path[0]) snprintf(path, sizeof path, "/tmp/fuzz_fleet.%d.gz", (int)getpid());
    FILE *f = fopen(path, "wb");
    if (!f) abort();
    if (size && data[0] == 0) {
        gzFile z = gzdopen(dup(fileno(f)), "wb1");
        if (!z) abort();
        if (size > 1 && gzwrite(z, data + 1, (unsigned)(size - 1)) != (int)(size - 1)) abort();
        gzclose(z);
    } else if (size > 1 && fwrite(data + 1, 1, size - 1, f) != size - 1) {
        abort();
    }
    fclose(f);
    return path;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = write_input(data, size);
    struct seen s = {0, 0};
    struct fleet_sink sink = {on_report, on_row, &s};
    struct fleet_header h = {.nreports = 7, .nrows = 7};
    struct err e = {0};
    if (fleet_read(path, &sink, &h, &e) != 0) {
        if (!e.msg[0] || h.nreports != 7 || h.nrows != 7) abort(); /* *h untouched on -1 */
        return 0;
    }
    if (s.reports != h.nreports || s.rows != h.nrows) abort();
    return 0;
}
