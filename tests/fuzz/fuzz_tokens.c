/* fuzz_tokens.c - libFuzzer harness: any bytes as a tokens file (auth_tokens_parse). Checks
 * the contract beyond no crash: a parsed file has only well-formed tokens (a name, a known
 * role, namespaces present when limited); a refused one says which line. Built and run by
 * tests/fuzz/run. */
#include "auth.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct auth_tokens t;
    struct err e = {0};
    if (auth_tokens_parse((const char *)data, size, &t, &e) != 0) {
        if (!e.msg[0] || t.n) abort();
        return 0;
    }
    for (size_t i = 0; i < t.n; i++) {
        const struct auth_token *k = &t.v[i];
        if (!k->name || !k->name[0] || strlen(k->name) > AUTH_NAME_MAX) abort();
        if (k->role != API_ADMIN && k->role != API_READER && k->role != API_METRICS) abort();
        if (k->namespaces && !k->nnamespaces) abort();
    }
    auth_tokens_release(&t);
    return 0;
}
