// The persistent translation cache's test program (test/jit/translation-store.test.ts): built
// twice with a different VARIANT, the two binaries have the same layout and differ only in the
// bytes of mix(): a stored translation of one must never run for the other.
#include <stdio.h>
#include <stdint.h>

#ifndef VARIANT
#define VARIANT 1
#endif

__attribute__((noinline)) static uint64_t mix(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL + VARIANT;
  x ^= x >> 29;
  return x;
}

int main(int argc, char **argv) {
  uint64_t h = 0;
  for (int i = 0; i < 100000; i++) h = mix(h + i);
  // Something x87 and SSE for the JS-implemented ops a stored region must rebuild.
  volatile long double ld = 1.0L / 3.0L;
  volatile double d = (double)(h % 1000) / 7.0;
  printf("variant %d argc %d h=%016llx ld=%.18Lf d=%.6f\n", VARIANT, argc, (unsigned long long)h, ld, d);
  return (int)(h & 7);
}
