// Bit manipulation: __builtin_ctz/clz/popcount/parity/ffs/bswap (generic code: no -mpopcnt),
// inline asm bsf/bsr (nonzero sources; ZF for zero), bt/bts/btr/btc on registers and memory
// (including bit offsets beyond the addressed word), bswap, and classic bit tricks.
#include <stdint.h>
#include <stdio.h>

static unsigned long long h;
static void mix(unsigned long long v) { h = (h ^ v) * 0x100000001b3ULL; }

static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static uint64_t next(void) {
  rng ^= rng << 13;
  rng ^= rng >> 7;
  rng ^= rng << 17;
  return rng;
}

#define F_CF 1UL
#define F_ZF 0x40UL

static void bsf_bsr(uint64_t v) {
  uint64_t f64, r64 = 0, f32, r32 = 0;
  unsigned long fl1, fl2;
  uint32_t v32 = (uint32_t)v;
  if (v) {
    __asm__("bsfq %[v],%[r]\n\tpushfq\n\tpopq %[f]" : [r] "=&r"(f64), [f] "=r"(fl1) : [v] "r"(v) : "cc");
    __asm__("bsrq %[v],%[r]\n\tpushfq\n\tpopq %[f]" : [r] "=&r"(r64), [f] "=r"(fl2) : [v] "r"(v) : "cc");
    printf("bsf64 %llx = %llu zf=%lu, bsr64 = %llu zf=%lu\n", (unsigned long long)v, (unsigned long long)f64,
           (fl1 & F_ZF) >> 6, (unsigned long long)r64, (fl2 & F_ZF) >> 6);
    mix(f64 * 64 + r64);
  } else {
    /* zero source: ZF=1, destination unchanged on every CPU we know; only ZF is checked */
    uint64_t d = 77;
    __asm__("bsfq %[v],%[r]\n\tpushfq\n\tpopq %[f]" : [r] "+r"(d), [f] "=r"(fl1) : [v] "r"(v) : "cc");
    printf("bsf64 0 zf=%lu\n", (fl1 & F_ZF) >> 6);
  }
  if (v32) {
    uint32_t a, b;
    __asm__("bsfl %[v],%[r]" : [r] "=r"(a) : [v] "r"(v32) : "cc");
    __asm__("bsrl %[v],%[r]" : [r] "=r"(b) : [v] "r"(v32) : "cc");
    f32 = a;
    r32 = b;
    mix(f32 * 32 + r32);
    uint16_t v16 = (uint16_t)v32, c = 0, d = 0;
    if (v16) {
      __asm__("bsfw %[v],%[r]" : [r] "=r"(c) : [v] "r"(v16) : "cc");
      __asm__("bsrw %[v],%[r]" : [r] "=r"(d) : [v] "r"(v16) : "cc");
    }
    printf("bsf32 %x = %u bsr32 = %u; bsf16 %x = %u bsr16 = %u\n", v32, a, b, v16, c, d);
    mix(c * 16 + d);
  }
}

static void bt_ops(uint64_t v, unsigned bit) {
  uint64_t a = v, b = v, c = v;
  unsigned long f0, f1, f2, f3;
  uint64_t idx = bit;
  __asm__("btq %[i],%[v]\n\tpushfq\n\tpopq %[f]" : [f] "=r"(f0) : [v] "r"(v), [i] "r"(idx) : "cc");
  __asm__("btsq %[i],%[v]\n\tpushfq\n\tpopq %[f]" : [v] "+r"(a), [f] "=r"(f1) : [i] "r"(idx) : "cc");
  __asm__("btrq %[i],%[v]\n\tpushfq\n\tpopq %[f]" : [v] "+r"(b), [f] "=r"(f2) : [i] "r"(idx) : "cc");
  __asm__("btcq %[i],%[v]\n\tpushfq\n\tpopq %[f]" : [v] "+r"(c), [f] "=r"(f3) : [i] "r"(idx) : "cc");
  uint32_t w = (uint32_t)v;
  unsigned long f4;
  __asm__("btsl $13,%[v]\n\tpushfq\n\tpopq %[f]" : [v] "+r"(w), [f] "=r"(f4) : : "cc");
  printf("bt %llx,%u: cf=%lu bts=%llx/%lu btr=%llx/%lu btc=%llx/%lu btsl13=%x/%lu\n", (unsigned long long)v, bit,
         f0 & F_CF, (unsigned long long)a, f1 & F_CF, (unsigned long long)b, f2 & F_CF, (unsigned long long)c,
         f3 & F_CF, w, f4 & F_CF);
  mix(a ^ b ^ c ^ w ^ (f0 & 1) ^ ((f1 & 1) << 1) ^ ((f2 & 1) << 2) ^ ((f3 & 1) << 3));
}

/* bt with a register offset on memory addresses the bit string, not just one word. */
static void bt_mem(void) {
  uint32_t arr[8] = {0x11111111, 0x22222222, 0x44444444, 0x88888888, 0xf0f0f0f0, 0x0f0f0f0f, 0, 0xffffffff};
  unsigned ones = 0;
  for (long i = 0; i < 256; i++) {
    unsigned long f;
    __asm__("btl %k[i],%[m]\n\tpushfq\n\tpopq %[f]" : [f] "=r"(f) : [m] "m"(arr), [i] "r"(i) : "cc");
    ones += f & 1;
  }
  for (long i = 0; i < 256; i += 7) {
    __asm__("btcl %k[i],%[m]" : [m] "+m"(arr) : [i] "r"(i) : "cc");
  }
  __asm__("btsl $5,%[m]\n\tbtrl $31,%[m]" : [m] "+m"(arr[7]) : : "cc");
  printf("bt mem ones=%u after:", ones);
  for (int i = 0; i < 8; i++) printf(" %08x", arr[i]);
  printf("\n");
  for (int i = 0; i < 8; i++) mix(arr[i]);
}

int main(void) {
  static const uint64_t fixed[] = {0, 1, 2, 3, 0x80, 0x8000, 0x80000000ULL, 0x8000000000000000ULL,
                                   0xffffffffffffffffULL, 0x5555555555555555ULL, 0x00f0000000000000ULL,
                                   0x100000000ULL, 0xfffffffe00000000ULL, 0x0000000100010000ULL};
  volatile uint64_t vv;
  for (int i = 0; i < 14 + 120; i++) {
    vv = i < 14 ? fixed[i] : (next() >> (i % 61)) | (i % 5 == 0 ? 0 : 0);
    uint64_t v = vv;
    uint32_t v32 = (uint32_t)v;
    int ctz64 = v ? __builtin_ctzll(v) : -1, clz64 = v ? __builtin_clzll(v) : -1;
    int ctz32 = v32 ? __builtin_ctz(v32) : -1, clz32 = v32 ? __builtin_clz(v32) : -1;
    printf("v=%016llx ctz=%d clz=%d pop=%d par=%d ffs=%d | ctz32=%d clz32=%d pop32=%d par32=%d ffs32=%d\n",
           (unsigned long long)v, ctz64, clz64, __builtin_popcountll(v), __builtin_parityll(v), __builtin_ffsll((long long)v),
           ctz32, clz32, __builtin_popcount(v32), __builtin_parity(v32), __builtin_ffs((int)v32));
    printf("  bswap64=%016llx bswap32=%08x bswap16=%04x clrsb=%d\n", (unsigned long long)__builtin_bswap64(v),
           __builtin_bswap32(v32), __builtin_bswap16((uint16_t)v), __builtin_clrsbll((long long)v));
    /* classic tricks */
    uint64_t lowest = v & -v, clear_low = v & (v - 1), smear = v;
    smear |= smear >> 1; smear |= smear >> 2; smear |= smear >> 4;
    smear |= smear >> 8; smear |= smear >> 16; smear |= smear >> 32;
    uint64_t rev = v;
    rev = ((rev >> 1) & 0x5555555555555555ULL) | ((rev & 0x5555555555555555ULL) << 1);
    rev = ((rev >> 2) & 0x3333333333333333ULL) | ((rev & 0x3333333333333333ULL) << 2);
    rev = ((rev >> 4) & 0x0f0f0f0f0f0f0f0fULL) | ((rev & 0x0f0f0f0f0f0f0f0fULL) << 4);
    rev = __builtin_bswap64(rev);
    printf("  lowest=%llx clearlow=%llx smear=%llx rev=%016llx\n", (unsigned long long)lowest,
           (unsigned long long)clear_low, (unsigned long long)smear, (unsigned long long)rev);
    mix(v + ctz64 + clz64 * 3 + __builtin_popcountll(v) + lowest + smear + rev);
    bsf_bsr(v);
    bt_ops(v, (unsigned)(i * 11) % 64);
  }
  bt_mem();
  printf("bits hash %016llx\n", h);
  return 0;
}
