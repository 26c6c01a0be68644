// The same loop as fault_loop.c without the fault: two mprotect calls and a store per iteration
// (to subtract the system-call cost from the fault round trip).
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
  long n = argc > 1 ? atol(argv[1]) : 1000;
  long pagesz = sysconf(_SC_PAGESIZE);
  char *page = mmap(NULL, pagesz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (long i = 0; i < n; i++) {
    mprotect(page, pagesz, PROT_READ);
    mprotect(page, pagesz, PROT_READ | PROT_WRITE);
    ((volatile char *)page)[i & 63] = (char)i;
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double us = ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) / 1e3;
  printf("iterations=%ld\n", n);
  fprintf(stderr, "per iteration: %.3f us\n", n ? us / n : 0.0);
  return 0;
}
