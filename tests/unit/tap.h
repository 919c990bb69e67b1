/* tap.h - the unit tests' whole framework: TAP lines ("ok 3 - name", "not ok 4 - name") that
 * tests/run counts. A test file defines main() calling its checks; the exit status is 1 when
 * any check failed. */
#ifndef POLSNAP_TAP_H
#define POLSNAP_TAP_H

#include <stdio.h>
#include <string.h>

static int tap_n, tap_failed;

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        int ok_ = (cond) ? 1 : 0;                                                                  \
        printf("%sok %d - ", ok_ ? "" : "not ", ++tap_n);                                          \
        printf(__VA_ARGS__);                                                                       \
        printf("\n");                                                                              \
        if (!ok_) {                                                                                \
            tap_failed++;                                                                          \
            printf("#   %s:%d: %s\n", __FILE__, __LINE__, #cond);                                  \
        }                                                                                          \
    } while (0)

#define CHECK_STR(got, want, ...)                                                                  \
    do {                                                                                           \
        const char *g_ = (got), *w_ = (want);                                                      \
        int same_ = (g_ == NULL && w_ == NULL) || (g_ && w_ && strcmp(g_, w_) == 0);               \
        CHECK(same_, __VA_ARGS__);                                                                 \
        if (!same_)                                                                                \
            printf("#   got:  %s\n#   want: %s\n", g_ ? g_ : "(null)", w_ ? w_ : "(null)");        \
    } while (0)

#define TAP_DONE() (printf("1..%d\n", tap_n), tap_failed ? 1 : 0)

#endif
