/*
 * harness.h: what the C test programs share to run their tests (engine_test.c,
 * p256_verify_test.c, x25519_test.c): CHECK, which fails the running test and jumps to its
 * `done:` label, and run_tests(), which runs a table of tests (those whose name contains
 * `only`, when given), prints "ok NAME" or "not ok NAME" for each, and counts them in
 * passed and failed; the program prints its "PREFIX: N passed, N failed" line from those.
 * A program includes it once.
 */
#ifndef MBEDTLS_STREAM_TEST_HARNESS_H
#define MBEDTLS_STREAM_TEST_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

static int passed, failed;
static bool current_failed;

#define CHECK(condition)                                                          \
    do {                                                                          \
        if (!(condition)) {                                                       \
            printf("    %s:%d: check failed: %s\n", __FILE__, __LINE__, #condition); \
            current_failed = true;                                                \
            goto done;                                                            \
        }                                                                         \
    } while (0)

typedef struct test {
    const char *name;
    void (*run)(void);
} test;

static inline void run_tests(const test *tests, size_t count, const char *only)
{
    for (size_t i = 0; i < count; i++) {
        if (only != NULL && strstr(tests[i].name, only) == NULL)
            continue;
        current_failed = false;
        tests[i].run();
        printf("%s %s\n", current_failed ? "not ok" : "ok", tests[i].name);
        if (current_failed)
            failed++;
        else
            passed++;
        fflush(stdout);
    }
}

#endif /* MBEDTLS_STREAM_TEST_HARNESS_H */
