// N write faults on a read-only page, each fixed by a SIGSEGV handler that mprotects the page
// writable and returns (rt_sigreturn restarts the store); the loop protects the page again. One
// iteration = fault + handler (mprotect) + rt_sigreturn + mprotect: the round trip measured for
// signal delivery (argv[1] = N, default 1000). Prints the count and the time per iteration on
// stderr (not compared).
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static char *page;
static long pagesz;
static volatile long faults;

static void on_segv(int sig, siginfo_t *si, void *uc) {
  (void)sig, (void)uc;
  if ((char *)si->si_addr < page || (char *)si->si_addr >= page + pagesz) _exit(2);
  faults++;
  mprotect(page, pagesz, PROT_READ | PROT_WRITE);
}

int main(int argc, char **argv) {
  long n = argc > 1 ? atol(argv[1]) : 1000;
  pagesz = sysconf(_SC_PAGESIZE);
  page = mmap(NULL, pagesz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_segv;
  sa.sa_flags = SA_SIGINFO;
  sigaction(SIGSEGV, &sa, NULL);
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (long i = 0; i < n; i++) {
    mprotect(page, pagesz, PROT_READ);
    ((volatile char *)page)[i & 63] = (char)i;
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  double us = ((t1.tv_sec - t0.tv_sec) * 1e9 + (t1.tv_nsec - t0.tv_nsec)) / 1e3;
  printf("iterations=%ld faults=%ld\n", n, faults);
  fprintf(stderr, "per iteration: %.3f us\n", n ? us / n : 0.0);
  return faults == n ? 0 : 1;
}
