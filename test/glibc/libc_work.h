/*
 * libc_work.h - ordinary libc use with a deterministic output: stdio, a 48 MiB malloc (mmap) grown
 * with realloc (mremap), many small ones (brk), a file written, read back, seeked and removed,
 * libm, clocks, qsort and the environment. usm_libc.c runs it at CPL0, plain.c in Linux mode.
 */
#ifndef LIBC_WORK_H
#define LIBC_WORK_H

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static uint64_t work_rng = 88172645463325252ull;
static uint64_t work_next(void) {
  work_rng ^= work_rng << 13;
  work_rng ^= work_rng >> 7;
  work_rng ^= work_rng << 17;
  return work_rng;
}

static int work_cmp(const void *a, const void *b) {
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return x < y ? -1 : x > y;
}

static void work_stdio(void) {
  printf("stdio: %d %5.2f %-6s| %x %lld %c\n", 42, 3.14159, "left", 0xbeef, -1234567890123LL, 'z');
  char buf[64];
  snprintf(buf, sizeof buf, "%08.3f|%+d|%e", 2.5, 7, 12345.678);
  puts(buf);
  fputs("fputs to stdout\n", stdout);
}

static void work_big_malloc(void) {
  size_t n = 48u << 20;
  unsigned char *p = malloc(n);
  if (!p) { printf("malloc 48 MiB: failed\n"); return; }
  for (size_t i = 0; i < n; i += 4096) p[i] = (unsigned char)(i >> 12);
  memset(p + 1000, 0x5a, 1 << 20);
  uint64_t sum = 0;
  for (size_t i = 0; i < n; i += 512) sum += p[i];
  printf("malloc 48 MiB: sum %llu\n", (unsigned long long)sum);
  /* grows in place or moves: mremap */
  unsigned char *q = realloc(p, 64u << 20);
  if (!q) { printf("realloc 64 MiB: failed\n"); free(p); return; }
  q[(64u << 20) - 1] = 7;
  sum = 0;
  for (size_t i = 0; i < n; i += 4096) sum += q[i];
  printf("realloc 64 MiB: sum %llu last %d\n", (unsigned long long)sum, q[(64u << 20) - 1]);
  free(q);
}

static void work_small_mallocs(void) {
  enum { N = 20000 };
  static char *ptrs[N];
  uint64_t sum = 0;
  for (int i = 0; i < N; i++) {
    size_t sz = 16 + work_next() % 1000;
    ptrs[i] = malloc(sz);
    memset(ptrs[i], i & 0xff, sz);
    sum += (unsigned char)ptrs[i][sz - 1];
  }
  for (int i = 0; i < N; i += 2) free(ptrs[i]);
  for (int i = 0; i < N; i += 2) ptrs[i] = calloc(1, 200);
  for (int i = 0; i < N; i++) free(ptrs[i]);
  printf("small mallocs: %d, sum %llu\n", N, (unsigned long long)sum);
}

static void work_files(void) {
  char path[] = "/tmp/usmjit-libc-XXXXXX";
  int fd = mkstemp(path);
  if (fd < 0) { printf("mkstemp: %s\n", strerror(errno)); return; }
  FILE *f = fdopen(fd, "w+");
  for (int i = 0; i < 1000; i++) fprintf(f, "line %04d %s\n", i, i % 3 ? "abc" : "xyz");
  fflush(f);
  struct stat st;
  fstat(fd, &st);
  printf("file: %lld bytes\n", (long long)st.st_size);
  fseek(f, 5000, SEEK_SET);
  char line[64];
  if (fgets(line, sizeof line, f)) printf("file at 5000: %s", line);
  rewind(f);
  long lines = 0, xyz = 0;
  while (fgets(line, sizeof line, f)) lines++, xyz += strstr(line, "xyz") != NULL;
  printf("file: %ld lines, %ld with xyz\n", lines, xyz);
  fclose(f);
  int u = unlink(path);
  int gone = stat(path, &st) != 0 && errno == ENOENT;
  printf("unlink: %d, then stat: %s\n", u, gone ? "no such file" : "still there");
}

static void work_libm(void) {
  volatile double x = 0.7;
  printf("libm: %.12g %.12g %.12g %.12g %.12g %.12g\n", sin(x), exp(x), log(x + 1), pow(x, 3.5), sqrt(2.0), atan2(x, 0.3));
  printf("libm: %.9g %.9g\n", (double)cbrtf(27.5f), lgamma(4.5));
}

static void work_clocks(void) {
  struct timespec a, b, r;
  clock_gettime(CLOCK_MONOTONIC, &a);
  volatile long spin = 0;
  for (long i = 0; i < 100000; i++) spin += i;
  clock_gettime(CLOCK_MONOTONIC, &b);
  int mono = b.tv_sec > a.tv_sec || (b.tv_sec == a.tv_sec && b.tv_nsec >= a.tv_nsec);
  struct timeval tv;
  gettimeofday(&tv, NULL);
  time_t t = time(NULL);
  clock_getres(CLOCK_MONOTONIC, &r);
  printf("clocks: monotonic %s, realtime after 2020 %s, time() agrees with gettimeofday %s, resolution <= 1ms %s\n",
         mono ? "yes" : "no", tv.tv_sec > 1577836800 ? "yes" : "no", t - tv.tv_sec <= 1 && tv.tv_sec - t <= 1 ? "yes" : "no",
         r.tv_sec == 0 && r.tv_nsec <= 1000000 ? "yes" : "no");
  struct timespec nap = {0, 1000000};
  printf("nanosleep 1 ms: %d\n", nanosleep(&nap, NULL));
}

static void work_qsort(void) {
  enum { N = 100000 };
  uint32_t *v = malloc(N * sizeof *v);
  for (int i = 0; i < N; i++) v[i] = (uint32_t)work_next();
  qsort(v, N, sizeof *v, work_cmp);
  int sorted = 1;
  uint64_t h = 0;
  for (int i = 0; i < N; i++) {
    if (i && v[i - 1] > v[i]) sorted = 0;
    h = h * 31 + v[i];
  }
  printf("qsort: %d values sorted %s, hash %llu\n", N, sorted ? "yes" : "no", (unsigned long long)h);
  free(v);
}

static void work_env(void) {
  const char *v = getenv("USMJIT_LIBC_TEST");
  printf("env: USMJIT_LIBC_TEST=%s\n", v ? v : "(unset)");
  setenv("USMJIT_LIBC_NEW", "set at run time", 1);
  printf("env: USMJIT_LIBC_NEW=%s\n", getenv("USMJIT_LIBC_NEW"));
  unsetenv("USMJIT_LIBC_NEW");
  printf("env: after unsetenv %s\n", getenv("USMJIT_LIBC_NEW") ? "still set" : "gone");
}

static void libc_work(void) {
  work_stdio();
  work_big_malloc();
  work_small_mallocs();
  work_files();
  work_libm();
  work_clocks();
  work_qsort();
  work_env();
  fflush(stdout);
}

#endif
