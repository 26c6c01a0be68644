// Register placement (jit/code-cache.ts registerPlacement): a loop that stays inside its region
// (promoted to registers in Wasm locals once it has looped enough) beside calls through a function
// pointer (regions entered and left), all registers live across both.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

__attribute__((noinline)) static uint64_t mix(uint64_t x) { return (x ^ (x >> 29)) * 0x9e3779b97f4a7c15ull; }
__attribute__((noinline)) static uint64_t step(uint64_t x) { return x * 6364136223846793005ull + 1442695040888963407ull; }
static uint64_t (*volatile fns[2])(uint64_t) = { mix, step };

__attribute__((noinline)) static uint64_t loop(uint32_t *a, int n, int rounds) {
  uint64_t h = 1469598103934665603ull, s = 0;
  for (int r = 0; r < rounds; r++)
    for (int i = 0; i < n; i++) {
      h = (h ^ a[i]) * 1099511628211ull;
      s += h >> (i & 31);
      a[i] = (uint32_t)(h >> 17) ^ (uint32_t)s;
    }
  return h ^ s;
}

int main(int argc, char **argv) {
  int n = 4096, rounds = argc > 1 ? atoi(argv[1]) : 400;
  uint32_t *a = malloc(n * sizeof *a);
  for (int i = 0; i < n; i++) a[i] = (uint32_t)i * 2654435761u;
  uint64_t x = loop(a, n, rounds);
  for (int i = 0; i < 300000; i++) x = fns[i & 1](x + (uint64_t)i);
  printf("%016llx %08x %08x\n", (unsigned long long)x, a[0], a[n - 1]);
  return (int)(x & 0x7f);
}
