/* benchtime.h - what usmbench and linbench share: the timing stamps, per-operation reports in the
 * `name: cycles=<n> ns=<x>` form bench/usm/run.ts parses, and the iteration scale. */
#ifndef BENCHTIME_H
#define BENCHTIME_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct {
  uint64_t tsc, ns;
} stamp_t;

typedef struct {
  uint64_t cycles, ns;
} acc_t;

static inline stamp_t stamp(void) {
  struct timespec ts;
  stamp_t s;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  s.tsc = __builtin_ia32_rdtsc();
  s.ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
  return s;
}

static inline void acc_add(acc_t *a, stamp_t s0, stamp_t s1) {
  a->cycles += s1.tsc - s0.tsc;
  a->ns += s1.ns - s0.ns;
}

static inline void report(const char *name, acc_t a, long ops) {
  if (ops < 1) ops = 1;
  printf("%s: cycles=%llu ns=%.1f\n", name, (unsigned long long)((a.cycles + ops / 2) / ops), (double)a.ns / ops);
  fflush(stdout);
}

/* The iteration scale (the command line's [scale]). */
static double scale = 1.0;

/* An iteration count: base * scale, at least 1. */
static inline long iters(long base) {
  double n = base * scale;
  return n < 1 ? 1 : (long)n;
}

/* The warm-up before a timed run (lets usmjit translate the loop; faults the code in natively). */
static inline long warmup(long n) {
  return n / 10 + 1;
}

/* A benchmark of the table each program runs: name and function. */
struct bench_test {
  const char *name;
  void (*run)(void);
};

static void bench_usage(const char *prog, const struct bench_test *tests, size_t n, const char *msg) {
  if (msg) fprintf(stderr, "%s: %s\n", prog, msg);
  fprintf(stderr, "usage: %s [-t name[,name...]]... [scale]\ntests:", prog);
  for (size_t i = 0; i < n; i++) fprintf(stderr, " %s", tests[i].name);
  fprintf(stderr, "\n");
  exit(2);
}

/* `[-t name[,name...]]... [scale]`: marks selected[k] for each named test (none named: all run,
 * *any stays 0) and sets the scale. */
static void bench_args(const char *prog, int argc, char **argv, const struct bench_test *tests, size_t n,
                       int *selected, int *any) {
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "-t") == 0) {
      if (++i >= argc) bench_usage(prog, tests, n, "-t needs a test name");
      char *list = strdup(argv[i]);
      for (char *tok = strtok(list, ","); tok; tok = strtok(NULL, ",")) {
        size_t k = 0;
        while (k < n && strcmp(tests[k].name, tok) != 0) k++;
        if (k == n) {
          fprintf(stderr, "%s: no test named '%s'\n", prog, tok);
          bench_usage(prog, tests, n, NULL);
        }
        selected[k] = *any = 1;
      }
      free(list);
    } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
      bench_usage(prog, tests, n, NULL);
    } else {
      char *end;
      scale = strtod(argv[i], &end);
      if (*end || !(scale > 0)) bench_usage(prog, tests, n, "the scale must be a positive number");
    }
  }
}

#endif
