/* fuzz_qs.c - libFuzzer harness: any bytes as a query string, through query_parse alone (the
 * percent-decoder, the parameter table, the query= language and its regexes), fast enough
 * for millions of runs; fuzz_query renders the parsed ones. Checks beyond no crash: a refusal
 * has a message and a 400 or 414 code. Built and run by tests/fuzz/run. */
#include "query.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *qs = malloc(size + 1);
    memcpy(qs, data, size);
    qs[size] = '\0';
    struct query q;
    struct err e = {0};
    if (query_parse(qs, &q, &e) == 0)
        query_release(&q);
    else if (!e.msg[0] || (e.code != ERR_INVALID && e.code != ERR_TOO_LONG))
        abort();
    free(qs);
    return 0;
}
