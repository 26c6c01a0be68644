// SSE4.2 crc32 (CRC-32C) through the builtins __builtin_ia32_crc32qi/hi/si/di and the _mm_crc32_*
// intrinsics, over many lengths and alignments, checked against a bitwise reference; inline asm
// forms the compiler does not generate (a high-byte register source, memory sources, a 64-bit
// destination with a byte source, garbage in the destination's upper half) with RFLAGS, which
// crc32 leaves alone; and the other SSE4.2 additions, pcmpgtq (_mm_cmpgt_epi64) and popcnt.
// Only the functions using them are compiled for SSE4.2 (target attribute).
#include <nmmintrin.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static uint32_t ref_crc(uint32_t c, const uint8_t *p, size_t n) {
  while (n--) {
    c ^= *p++;
    for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0x82f63b78u & -(c & 1));
  }
  return c;
}

#define T __attribute__((target("sse4.2"), noinline))

/* Byte at a time, word, dword, qword steps (with byte heads and tails). */
T static uint32_t crc_q(uint32_t c, const uint8_t *p, size_t n) {
  uint64_t c64 = c;
  while (n >= 8) { uint64_t v; memcpy(&v, p, 8); c64 = __builtin_ia32_crc32di(c64, v); p += 8; n -= 8; }
  c = (uint32_t)c64;
  while (n--) c = __builtin_ia32_crc32qi(c, *p++);
  return c;
}
T static uint32_t crc_l(uint32_t c, const uint8_t *p, size_t n) {
  while (n >= 4) { uint32_t v; memcpy(&v, p, 4); c = __builtin_ia32_crc32si(c, v); p += 4; n -= 4; }
  while (n--) c = _mm_crc32_u8(c, *p++);
  return c;
}
T static uint32_t crc_w(uint32_t c, const uint8_t *p, size_t n) {
  while (n >= 2) { uint16_t v; memcpy(&v, p, 2); c = __builtin_ia32_crc32hi(c, v); p += 2; n -= 2; }
  if (n) c = _mm_crc32_u8(c, *p);
  return c;
}
T static uint32_t crc_b(uint32_t c, const uint8_t *p, size_t n) {
  while (n--) c = __builtin_ia32_crc32qi(c, *p++);
  return c;
}
T static uint64_t crc_u64(uint64_t c, uint64_t v) { return _mm_crc32_u64(c, v); }

#define FLAGS_IN 0x8d5UL /* CF PF AF ZF SF OF all set: crc32 must keep them */

/* Inline asm forms. Each returns the result and stores RFLAGS after the instruction. */
T static uint64_t asm_high(uint32_t c, uint32_t v, unsigned long *fl) {
  uint64_t r = c;
  __asm__("lea -128(%%rsp), %%rsp\n\tpushq %[fin]\n\tpopfq\n\t"
          "crc32b %%ah, %k[r]\n\tpushfq\n\tpopq %[fl]\n\tlea 128(%%rsp), %%rsp"
          : [r] "+r"(r), [fl] "=&r"(*fl) : "a"(v), [fin] "r"(FLAGS_IN | 2) : "cc", "memory");
  return r;
}
T static uint64_t asm_mem(int which, uint64_t c, const void *m, unsigned long *fl) {
  uint64_t r = c;
  switch (which) {
    case 0: __asm__("crc32b %[m], %k[r]" : [r] "+r"(r) : [m] "m"(*(const uint8_t *)m)); break;
    case 1: __asm__("crc32w %[m], %k[r]" : [r] "+r"(r) : [m] "m"(*(const uint16_t *)m)); break;
    case 2: __asm__("crc32l %[m], %k[r]" : [r] "+r"(r) : [m] "m"(*(const uint32_t *)m)); break;
    case 3: __asm__("crc32q %[m], %q[r]" : [r] "+r"(r) : [m] "m"(*(const uint64_t *)m)); break;
    case 4: __asm__("crc32b %[m], %q[r]" : [r] "+r"(r) : [m] "m"(*(const uint8_t *)m)); break;
    case 5: __asm__("crc32b %b[v], %q[r]" : [r] "+r"(r) : [v] "r"(*(const uint8_t *)m)); break;
    default: __asm__("crc32w %w[v], %k[r]" : [r] "+r"(r) : [v] "r"(*(const uint16_t *)m)); break;
  }
  unsigned long f;
  __asm__("lea -128(%%rsp), %%rsp\n\tpushq %[fin]\n\tpopfq\n\tcrc32l %k[v], %k[r]\n\tpushfq\n\tpopq %[f]\n\t"
          "lea 128(%%rsp), %%rsp"
          : [r] "+r"(r), [f] "=&r"(f) : [v] "r"((uint32_t)c), [fin] "r"(2UL) : "cc", "memory");
  *fl = f;
  return r;
}

T static void gtq(const int64_t *a, const int64_t *b, int64_t *out) {
  __m128i x = _mm_loadu_si128((const __m128i *)a), y = _mm_loadu_si128((const __m128i *)b);
  _mm_storeu_si128((__m128i *)out, _mm_cmpgt_epi64(x, y));
}
__attribute__((target("popcnt"), noinline)) static int pop64(uint64_t v) { return __builtin_popcountll(v); }
__attribute__((target("popcnt"), noinline)) static int pop32(uint32_t v) { return __builtin_popcount(v); }

static uint64_t rs = 0x0123456789abcdefULL;
static uint64_t rnd(void) {
  rs ^= rs << 13;
  rs ^= rs >> 7;
  rs ^= rs << 17;
  return rs;
}

int main(void) {
  static uint8_t buf[8192 + 64];
  for (size_t i = 0; i < sizeof buf; i++) buf[i] = (uint8_t)rnd();
  int bad = 0;

  /* Known vectors: CRC-32C("123456789") = 0xe3069283; 32 zero bytes = 0x8a9136aa. */
  static const uint8_t zeros[32];
  printf("check 123456789: %08x\n", ~crc_b(~0u, (const uint8_t *)"123456789", 9));
  printf("check 32 zeros:  %08x\n", ~crc_q(~0u, zeros, 32));

  static const size_t lens[] = {0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 63, 64, 100, 255, 1000, 4096, 8192};
  for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++) {
    uint32_t all = 0;
    for (int al = 0; al < 8; al++) {
      size_t n = lens[li];
      uint32_t init = al & 1 ? ~0u : (uint32_t)rnd();
      uint32_t r = ref_crc(init, buf + al, n);
      uint32_t q = crc_q(init, buf + al, n), l = crc_l(init, buf + al, n);
      uint32_t w = crc_w(init, buf + al, n), b = crc_b(init, buf + al, n);
      if (q != r || l != r || w != r || b != r) {
        bad++;
        printf("MISMATCH len %zu align %d: ref %08x q %08x l %08x w %08x b %08x\n", n, al, r, q, l, w, b);
      }
      all = all * 31 + r;
    }
    printf("len %4zu: %08x\n", lens[li], all);
  }

  /* 64-bit forms: the upper half of the incoming crc is ignored, the result zero-extended. */
  static const uint64_t edge[] = {0, 1, ~0ULL, 0x8000000000000000ULL, 0xffffffffULL, 0x100000000ULL, 0xdeadbeefcafebabeULL};
  for (size_t i = 0; i < 7; i++)
    for (size_t j = 0; j < 7; j++) {
      uint64_t c = edge[i], v = edge[j];
      uint64_t r = crc_u64(c, v);
      uint8_t vb[8];
      memcpy(vb, &v, 8);
      if (r != ref_crc((uint32_t)c, vb, 8)) bad++;
      printf("crc32q %016llx %016llx = %016llx\n", (unsigned long long)c, (unsigned long long)v, (unsigned long long)r);
    }

  /* Inline asm forms. */
  for (int k = 0; k < 40; k++) {
    uint64_t c = rnd();
    uint32_t v = (uint32_t)rnd();
    unsigned long fl, fl2;
    uint64_t r = asm_high((uint32_t)c, v, &fl);
    uint8_t ah = (uint8_t)(v >> 8);
    if (r != ref_crc((uint32_t)c, &ah, 1)) bad++;
    printf("crc32b ah: %016llx flags %03lx", (unsigned long long)r, fl & 0x8d5);
    for (int which = 0; which < 7; which++) {
      const uint8_t *m = buf + 100 + k * 3 + which;
      r = asm_mem(which, c, m, &fl2);
      printf(" %016llx/%03lx", (unsigned long long)r, fl2 & 0x8d5);
    }
    printf("\n");
  }

  /* pcmpgtq: signed 64-bit compares around the sign and equality boundaries. */
  static const int64_t q[] = {0, 1, -1, INT64_MAX, INT64_MIN, INT64_MIN + 1, INT64_MAX - 1, 0x100000000LL, -0x100000000LL, 0xffffffffLL};
  for (size_t i = 0; i < 10; i++)
    for (size_t j = 0; j < 10; j += 2) {
      int64_t a[2] = {q[i], q[(i + j) % 10]}, b[2] = {q[j], q[(j + 1) % 10]}, out[2];
      gtq(a, b, out);
      if (out[0] != (a[0] > b[0] ? -1 : 0) || out[1] != (a[1] > b[1] ? -1 : 0)) bad++;
      printf("pcmpgtq %d %d\n", (int)out[0], (int)out[1]);
    }

  /* popcnt */
  unsigned long long ps = 0;
  for (int k = 0; k < 1000; k++) {
    uint64_t v = rnd() & rnd();
    ps = ps * 131 + (unsigned)pop64(v) * 7 + (unsigned)pop32((uint32_t)(v >> 13));
  }
  printf("popcnt sum %llx, %d %d %d\n", ps, pop64(0), pop64(~0ULL), pop32(0x80000001u));

  printf("%s\n", bad ? "FAILED" : "ok");
  return bad != 0;
}
