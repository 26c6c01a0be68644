// mul/imul (one-, two- and three-operand forms) and div/idiv at 8/16/32/64 bits with edge values,
// CF/OF after multiplies, and gcc's division-by-constant sequences on volatile inputs.
#include <stdint.h>
#include <stdio.h>

#define F_CF 0x001UL
#define F_OF 0x800UL

static unsigned long long h;
static void mix(unsigned long long v) { h = (h ^ v) * 0x100000001b3ULL; }

static const uint64_t edges[] = {
  0, 1, 2, 3, 7, 10, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff, 0x10000, 0x12345, 0x7fffffff,
  0x80000000, 0xffffffff, 0x100000000ULL, 0x123456789ULL, 0x7fffffffffffffffULL, 0x8000000000000000ULL,
  0xfffffffffffffffeULL, 0xffffffffffffffffULL, 0xfffffffffffff000ULL, 0xdeadbeefcafebabeULL,
};
#define NE ((int)(sizeof edges / sizeof edges[0]))
static volatile uint64_t vedges[NE];

/* ---- one-operand mul / imul: result in (e/r)dx:(e/r)ax, CF=OF=upper half significant ---- */
static void mul8(uint8_t a, uint8_t b, int sgn) {
  uint16_t ax = a;
  unsigned long f;
  if (sgn)
    __asm__ volatile("imulb %[b]\n\tpushfq\n\tpopq %[f]" : "+a"(ax), [f] "=r"(f) : [b] "q"(b) : "cc");
  else
    __asm__ volatile("mulb %[b]\n\tpushfq\n\tpopq %[f]" : "+a"(ax), [f] "=r"(f) : [b] "q"(b) : "cc");
  printf("%s8 %x*%x = %04x cf/of=%lx\n", sgn ? "imul" : "mul", a, b, ax, f & (F_CF | F_OF));
  mix(ax + (f & (F_CF | F_OF)));
}
#define MULN(bits, T, suf)                                                                         \
  static void mul##bits(T a, T b, int sgn) {                                                        \
    T lo = a, hi;                                                                                   \
    unsigned long f;                                                                                \
    if (sgn)                                                                                        \
      __asm__ volatile("imul" suf " %[b]\n\tpushfq\n\tpopq %[f]"                                    \
                       : "+a"(lo), "=d"(hi), [f] "=r"(f) : [b] "r"(b) : "cc");                      \
    else                                                                                            \
      __asm__ volatile("mul" suf " %[b]\n\tpushfq\n\tpopq %[f]"                                     \
                       : "+a"(lo), "=d"(hi), [f] "=r"(f) : [b] "r"(b) : "cc");                      \
    printf("%s%d %llx*%llx = %llx:%llx cf/of=%lx\n", sgn ? "imul" : "mul", bits,                    \
           (unsigned long long)a, (unsigned long long)b, (unsigned long long)hi,                    \
           (unsigned long long)lo, f & (F_CF | F_OF));                                              \
    mix(lo + hi * 3 + (f & (F_CF | F_OF)));                                                         \
  }
MULN(16, uint16_t, "w")
MULN(32, uint32_t, "l")
MULN(64, uint64_t, "q")

/* ---- two- and three-operand imul ---- */
#define IMUL23(bits, T, suf)                                                                       \
  static void imul2_##bits(T a, T b) {                                                              \
    T r = a, r3;                                                                                    \
    unsigned long f, f3;                                                                            \
    __asm__ volatile("imul" suf " %[b],%[r]\n\tpushfq\n\tpopq %[f]"                                 \
                     : [r] "+r"(r), [f] "=r"(f) : [b] "r"(b) : "cc");                               \
    __asm__ volatile("imul" suf " $-100,%[a],%[r]\n\tpushfq\n\tpopq %[f]"                           \
                     : [r] "=r"(r3), [f] "=r"(f3) : [a] "r"(a) : "cc");                             \
    printf("imul%d %llx*%llx = %llx cf/of=%lx; *-100 = %llx cf/of=%lx\n", bits,                     \
           (unsigned long long)a, (unsigned long long)b, (unsigned long long)r, f & (F_CF | F_OF),  \
           (unsigned long long)r3, f3 & (F_CF | F_OF));                                             \
    mix(r + (f & 0x801) + r3 * 5 + (f3 & 0x801));                                                   \
  }
IMUL23(16, uint16_t, "w")
IMUL23(32, uint32_t, "l")
IMUL23(64, uint64_t, "q")

/* ---- div / idiv (callers avoid #DE) ---- */
static void div8(uint16_t ax, uint8_t d, int sgn) {
  uint16_t r = ax;
  if (sgn)
    __asm__ volatile("idivb %[d]" : "+a"(r) : [d] "q"(d) : "cc");
  else
    __asm__ volatile("divb %[d]" : "+a"(r) : [d] "q"(d) : "cc");
  printf("%s8 %x/%x = q%02x r%02x\n", sgn ? "idiv" : "div", ax, d, r & 0xff, r >> 8);
  mix(r);
}
#define DIVN(bits, T, suf)                                                                         \
  static void div##bits(T hi, T lo, T d, int sgn) {                                                 \
    T q = lo, r = hi;                                                                               \
    if (sgn)                                                                                        \
      __asm__ volatile("idiv" suf " %[d]" : "+a"(q), "+d"(r) : [d] "r"(d) : "cc");                  \
    else                                                                                            \
      __asm__ volatile("div" suf " %[d]" : "+a"(q), "+d"(r) : [d] "r"(d) : "cc");                   \
    printf("%s%d %llx:%llx/%llx = q%llx r%llx\n", sgn ? "idiv" : "div", bits,                      \
           (unsigned long long)hi, (unsigned long long)lo, (unsigned long long)d,                   \
           (unsigned long long)q, (unsigned long long)r);                                           \
    mix(q * 7 + r);                                                                                 \
  }
DIVN(16, uint16_t, "w")
DIVN(32, uint32_t, "l")
DIVN(64, uint64_t, "q")

/* Would the division fault? Computed with 128-bit arithmetic. */
static int udiv_ok(unsigned __int128 n, unsigned __int128 d, int bits) {
  if (d == 0) return 0;
  unsigned __int128 q = n / d;
  return bits == 128 ? 1 : (q >> bits) == 0;
}
static int sdiv_ok(__int128 n, __int128 d, int bits) {
  if (d == 0) return 0;
  if (d == -1 && n == -((__int128)1 << 126) * 2) return 0;
  __int128 q = n / d;
  __int128 lim = (__int128)1 << (bits - 1);
  return q >= -lim && q < lim;
}

static void c_level(void) {
  /* gcc turns these into multiply-high / shift sequences */
  static volatile int32_t s32[] = {0, 1, -1, 7, -7, 100, -100, 2147483647, -2147483647 - 1, 123456789, -987654321};
  static volatile int64_t s64[] = {0, 1, -1, 1000000007LL, -1000000007LL, INT64_MAX, INT64_MIN, 0x123456789abcdefLL};
  for (unsigned i = 0; i < sizeof s32 / sizeof s32[0]; i++) {
    int32_t x = s32[i];
    uint32_t u = (uint32_t)x;
    printf("c32 %d: /3=%d %%3=%d /7=%d %%7=%d /-5=%d /16=%d %%16=%d u/10=%u u%%10=%u u/1000=%u\n", x, x / 3, x % 3,
           x / 7, x % 7, x / -5, x / 16, x % 16, u / 10, u % 10, u / 1000);
    mix((uint32_t)(x / 3 + x % 7 + x / 16) + u / 10);
  }
  for (unsigned i = 0; i < sizeof s64 / sizeof s64[0]; i++) {
    int64_t x = s64[i];
    uint64_t u = (uint64_t)x;
    printf("c64 %lld: /3=%lld %%3=%lld /10=%lld %%1000000007=%lld u/10=%llu u%%7=%llu\n", (long long)x,
           (long long)(x / 3), (long long)(x % 3), (long long)(x / 10), (long long)(x % 1000000007LL),
           (unsigned long long)(u / 10), (unsigned long long)(u % 7));
    mix((uint64_t)(x / 3) + u / 10 + u % 7);
  }
  /* variable divisors through the C operators */
  for (int i = 0; i < NE; i++)
    for (int j = 0; j < NE; j += 3) {
      uint64_t a = vedges[i], b = vedges[j];
      if (b == 0) continue;
      int64_t sa = (int64_t)a, sb = (int64_t)b;
      uint32_t a32 = (uint32_t)a, b32 = (uint32_t)b;
      mix(a / b + a % b);
      if (!(sa == INT64_MIN && sb == -1)) mix((uint64_t)(sa / sb) ^ (uint64_t)(sa % sb));
      if (b32) mix(a32 / b32 + a32 % b32);
      /* widening multiplies the way gcc writes them */
      mix((uint64_t)((unsigned __int128)a * b >> 64));
      mix((uint64_t)((__int128)sa * sb >> 64));
      mix((uint64_t)a32 * b32);
      mix((uint64_t)((int64_t)(int32_t)a32 * (int32_t)b32));
    }
}

int main(void) {
  for (int i = 0; i < NE; i++) vedges[i] = edges[i];
  for (int i = 0; i < NE; i++)
    for (int j = 0; j < NE; j++) {
      uint64_t a = vedges[i], b = vedges[j];
      if (i % 2 == 0 || j % 3 == 0) {
        mul8((uint8_t)a, (uint8_t)b, 0);
        mul8((uint8_t)a, (uint8_t)b, 1);
        mul16((uint16_t)a, (uint16_t)b, 0);
        mul16((uint16_t)a, (uint16_t)b, 1);
        imul2_16((uint16_t)a, (uint16_t)b);
      }
      mul32((uint32_t)a, (uint32_t)b, 0);
      mul32((uint32_t)a, (uint32_t)b, 1);
      mul64(a, b, 0);
      mul64(a, b, 1);
      imul2_32((uint32_t)a, (uint32_t)b);
      imul2_64(a, b);
    }
  for (int i = 0; i < NE; i++)
    for (int j = 0; j < NE; j++) {
      uint64_t n = vedges[i], d = vedges[j];
      /* 8: AX / r8 */
      if (udiv_ok((uint16_t)n, (uint8_t)d, 8)) div8((uint16_t)n, (uint8_t)d, 0);
      if (sdiv_ok((int16_t)n, (int8_t)d, 8)) div8((uint16_t)n, (uint8_t)d, 1);
      /* 16/32/64: use a small high half (n >> 1 of the low) or zero / sign extension */
      for (int hk = 0; hk < 3; hk++) {
        uint64_t hi = hk == 0 ? 0 : hk == 1 ? (n & 0x7) : ~0ULL;
        uint16_t h16 = (uint16_t)hi, l16 = (uint16_t)n, d16 = (uint16_t)d;
        if (udiv_ok((unsigned __int128)((uint32_t)h16 << 16 | l16), d16, 16)) div16(h16, l16, d16, 0);
        if (sdiv_ok((int32_t)((uint32_t)h16 << 16 | l16), (int16_t)d16, 16)) div16(h16, l16, d16, 1);
        uint32_t h32 = (uint32_t)hi, l32 = (uint32_t)n, d32 = (uint32_t)d;
        if (udiv_ok(((uint64_t)h32 << 32) | l32, d32, 32)) div32(h32, l32, d32, 0);
        if (sdiv_ok((int64_t)(((uint64_t)h32 << 32) | l32), (int32_t)d32, 32)) div32(h32, l32, d32, 1);
        unsigned __int128 n128 = ((unsigned __int128)hi << 64) | n;
        if (udiv_ok(n128, d, 64)) div64(hi, n, d, 0);
        if (sdiv_ok((__int128)n128, (int64_t)d, 64)) div64(hi, n, d, 1);
      }
    }
  c_level();
  printf("muldiv hash %016llx\n", h);
  return 0;
}
