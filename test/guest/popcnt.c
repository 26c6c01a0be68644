// The popcnt instruction through inline asm (16/32/64-bit, register and memory sources), with the
// flags it defines (ZF for a zero source, the others cleared), compared with a portable count.
#include <stdint.h>
#include <stdio.h>

#define F_ALL 0x8d5UL

static int portable(uint64_t v) {
  int n = 0;
  while (v) { v &= v - 1; n++; }
  return n;
}

int main(void) {
  uint64_t x = 0x0123456789abcdefULL;
  unsigned long long total = 0;
  int bad = 0;
  for (int i = 0; i < 200; i++) {
    volatile uint64_t vv = (i < 4) ? (uint64_t[]){0, ~0ULL, 1, 0x8000000000000000ULL}[i] : x;
    uint64_t v = vv, r64;
    uint32_t r32;
    uint16_t r16;
    unsigned long f;
    /* set all arithmetic flags first so that "cleared" is observable */
    __asm__("lea -128(%%rsp),%%rsp\n\tpushq %[fin]\n\tpopfq\n\tpopcntq %[v],%[r]\n\tpushfq\n\tpopq %[f]\n\t"
            "lea 128(%%rsp),%%rsp"
            : [r] "=&r"(r64), [f] "=&r"(f) : [v] "r"(v), [fin] "r"(F_ALL | 2) : "cc", "memory");
    volatile uint32_t low = (uint32_t)v;
    __asm__("popcntl %[v],%[r]" : [r] "=r"(r32) : [v] "m"(low) : "cc");
    __asm__("popcntw %[v],%[r]" : [r] "=r"(r16) : [v] "r"((uint16_t)(v >> 16)) : "cc");
    int e64 = portable(v), e32 = portable((uint32_t)v), e16 = portable((uint16_t)(v >> 16));
    if ((int)r64 != e64 || (int)r32 != e32 || r16 != e16) bad++;
    if (i < 40 || i % 20 == 0)
      printf("popcnt %016llx: %llu %u %u flags=%03lx\n", (unsigned long long)v, (unsigned long long)r64, r32, r16,
             f & F_ALL);
    total = total * 131 + r64 * 7 + r32 * 3 + r16 + (f & F_ALL);
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    x ^= x >> (i % 29 + 1);
  }
  printf("mismatches vs portable: %d\ntotal %llx\n", bad, total);
  return bad != 0;
}
