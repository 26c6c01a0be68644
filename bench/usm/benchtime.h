/* benchtime.h - what usmbench and linbench share: the timing stamps, per-operation reports in the
 * `name: cycles=<n> ns=<x>` form bench/usm/run.ts parses, and the iteration scale. */
#ifndef BENCHTIME_H
#define BENCHTIME_H

#include <stdint.h>
#include <stdio.h>
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

#endif
