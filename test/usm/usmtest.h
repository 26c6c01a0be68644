/* usmtest.h - helpers shared by the USM guest tests (test/usm/NAME.c, run by test/usm/usm.test.ts). */
#ifndef USMTEST_H
#define USMTEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "usm/usm.h"

static int usmtest_failures;

/* A check: prints "ok: what" or "FAIL: what (detail)"; failures make the exit status 1. */
#define CHECK(cond, ...)                          \
  do {                                            \
    if (cond) {                                   \
      printf("ok: ");                             \
    } else {                                      \
      printf("FAIL (line %d): ", __LINE__);       \
      usmtest_failures++;                         \
    }                                             \
    printf(__VA_ARGS__);                          \
    printf("\n");                                 \
  } while (0)

/* Enters USM mode or exits with status 2 saying why. */
static inline void usmtest_enter(int flags) {
  int r = usm_init(flags);
  if (r == 0) r = usm_enter();
  if (r != 0) {
    printf("cannot enter USM mode: %s\n", strerror(-r));
    exit(2);
  }
}

static inline int usmtest_done(void) {
  printf(usmtest_failures ? "FAILED\n" : "PASSED\n");
  fflush(stdout);
  return usmtest_failures ? 1 : 0;
}

#endif
