/* Prints CPUID for the leaves usmjit answers, then a time-stamp-counter probe: rdtsc, a 50 ms
 * sleep, rdtscp, rdtsc (test/jit/cpuid-tsc.test.ts). */
#include <stdint.h>
#include <stdio.h>
#include <time.h>

static void cpuid(uint32_t leaf, uint32_t sub) {
  uint32_t a, b, c, d;
  __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(leaf), "c"(sub));
  printf("cpuid %x %x: %x %x %x %x\n", leaf, sub, a, b, c, d);
}

int main(int argc, char **argv) {
  static const uint32_t leaves[] = {0, 1, 2, 7, 0x80000000, 0x80000001, 0x80000002, 0x80000003, 0x80000004, 0x80000006, 0x80000008};
  for (unsigned k = 0; k < sizeof leaves / sizeof leaves[0]; k++) cpuid(leaves[k], 0);
  for (uint32_t s = 0; s < 5; s++) cpuid(4, s);
  if (argc > 1) { /* the rdtscp probe (not on a host without RDTSCP) */
    uint32_t lo, hi, aux;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    uint64_t t0 = (uint64_t)hi << 32 | lo;
    struct timespec ts = {0, 50 * 1000 * 1000};
    nanosleep(&ts, 0);
    __asm__ volatile("rdtscp" : "=a"(lo), "=d"(hi), "=c"(aux));
    uint64_t t1 = (uint64_t)hi << 32 | lo;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    uint64_t t2 = (uint64_t)hi << 32 | lo;
    printf("tsc %llu %llu aux %u\n", (unsigned long long)(t1 - t0), (unsigned long long)(t2 - t1), aux);
  }
  (void)argv;
  return 0;
}
