// SSE4.2 string instructions, two ways.
//  1. glibc's string functions, whose ifunc selection depends on CPUID (with SSE4.2 advertised,
//     strcspn/strspn/strpbrk/strcasecmp/strncasecmp run glibc's pcmpistri code): many lengths,
//     alignments and character sets, and strings ending right before a PROT_NONE page (the
//     functions must not touch it). Results are reduced to offsets and signs, which every glibc
//     variant agrees on, and hashed.
//  2. The intrinsics (_mm_cmpistri/_mm_cmpistrm/_mm_cmpestri/_mm_cmpestrm and the flag readers
//     _mm_cmpistra/c/o/s/z, _mm_cmpestra/c/o/s/z) for every imm8 0..127 over string-like operands
//     with terminators at all positions and explicit lengths including negative and > 16 ones;
//     and pcmpestri/pcmpestrm with REX.W (64-bit lengths) through inline asm, with RFLAGS.
// Only the functions using the intrinsics are compiled for SSE4.2 (target attribute), so that the
// rest of the program stays baseline x86-64.
#define _GNU_SOURCE
#include <nmmintrin.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <unistd.h>

static uint64_t h;
static void mix(uint64_t v) { h = (h ^ v) * 0x100000001b3ULL; }

static uint64_t rs = 0x9e3779b97f4a7c15ULL;
static uint32_t rnd(void) {
  rs ^= rs << 13;
  rs ^= rs >> 7;
  rs ^= rs << 17;
  return (uint32_t)(rs >> 16);
}

static int sgn(int v) { return (v > 0) - (v < 0); }
static long off(const char *p, const char *base) { return p ? (long)(p - base) : -1; }

/* Characters of a random string: a small alphabet, mixed case, some high-bit bytes. */
static const char ALPHA[] = "abcABC xyzXYZ-_.019\x7f\x80\xe9\xff";
static void fill(char *p, size_t n, int alpha) {
  for (size_t i = 0; i < n; i++) p[i] = ALPHA[rnd() % (unsigned)alpha];
  p[n] = 0;
}

/* ---- 1. glibc string functions ------------------------------------------------------------- */

static const char *SETS[] = {"", "a", "ab", "abc", " -", "xyzXYZ", "\x80\xff", "abcABC xyzXYZ-_.019",
                             "0123456789abcdef", "0123456789abcdefg", "-_.,;:!?()[]{}<>/\\|@#$%^&*+=~`'\"",
                             "aA", "\xe9"};
#define NSETS (int)(sizeof SETS / sizeof SETS[0])

/* Every function on the string at s (length n), with other operands from the same alphabet. */
static void run_all(const char *s, size_t n, char *other) {
  for (int k = 0; k < NSETS; k++) {
    mix(strcspn(s, SETS[k]));
    mix(strspn(s, SETS[k]));
    mix(off(strpbrk(s, SETS[k]), s));
  }
  mix(strlen(s));
  mix(strnlen(s, n / 2 + 1));
  static const unsigned char CH[] = {0, '0', '9', 'A', 'a', 'z', '-', 0x7f, 0x80, 0xff};
  for (size_t k = 0; k < sizeof CH; k++) {
    int c = CH[k];
    mix(off(strchr(s, c), s));
    mix(off(strrchr(s, c), s));
    mix(off(memchr(s, c, n), s));
    mix(off(strchrnul(s, c), s));
  }
  /* Needles: pieces of s (found), and variants with one character changed (mostly not found). */
  for (int t = 0; t < 6 && n; t++) {
    size_t a = rnd() % n, l = 1 + rnd() % (n - a < 40 ? n - a : 40);
    memcpy(other, s + a, l);
    other[l] = 0;
    mix(off(strstr(s, other), s));
    mix(off(strcasestr(s, other), s));
    other[rnd() % l] ^= 0x20;
    mix(off(strstr(s, other), s));
    mix(off(strcasestr(s, other), s));
  }
  mix(off(strstr(s, ""), s));
  /* Comparisons against a copy, a case-flipped copy, and copies differing at one position. */
  memcpy(other, s, n + 1);
  mix(sgn(strcmp(s, other)) + 8);
  mix(sgn(strcasecmp(s, other)) + 8);
  for (size_t i = 0; i < n; i++)
    if ((other[i] | 0x20) >= 'a' && (other[i] | 0x20) <= 'z' && rnd() % 2) other[i] ^= 0x20;
  mix(sgn(strcmp(s, other)) + 8);
  mix(sgn(strcasecmp(s, other)) + 8);
  mix(sgn(strncasecmp(s, other, n / 2)) + 8);
  if (n) {
    size_t i = rnd() % n;
    char keep = other[i];
    other[i] = (char)(rnd() % 256);
    mix(sgn(strcmp(s, other)) + 8);
    mix(sgn(strncmp(s, other, i)) + 8);
    mix(sgn(strncmp(s, other, i + 1)) + 8);
    mix(sgn(strcasecmp(s, other)) + 8);
    mix(sgn(strncasecmp(s, other, i)) + 8);
    mix(sgn(strncasecmp(s, other, i + 1 + rnd() % 20)) + 8);
    other[i] = keep;
    other[n - 1 - rnd() % n] = 0; /* a shorter string */
    mix(sgn(strcmp(s, other)) + 8);
    mix(sgn(strcasecmp(s, other)) + 8);
    mix(sgn(strcasecmp(other, s)) + 8);
    mix(sgn(strncasecmp(other, s, n)) + 8);
  }
}

static void glibc_tests(void) {
  static char buf[4096 + 256] __attribute__((aligned(64)));
  static char other[4096 + 256];
  static const size_t lens[] = {0, 1, 2, 3, 7, 8, 15, 16, 17, 31, 32, 33, 47, 48, 63, 64, 65, 100, 127, 128, 255, 256, 1000, 4000};
  for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++) {
    h = 0xcbf29ce484222325ULL;
    /* Every alignment mod 16 (glibc's code paths depend on it) and a few more. */
    static const int aligns[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 17, 40, 63};
    for (size_t ai = 0; ai < sizeof aligns / sizeof aligns[0]; ai += (lens[li] > 200 ? 4 : 1)) {
      int al = aligns[ai];
      for (int alpha = 1; alpha <= (int)sizeof ALPHA - 1; alpha += 9) {
        fill(buf + al, lens[li], alpha);
        run_all(buf + al, lens[li], other + (al * 7) % 64);
      }
    }
    printf("glibc len %4zu: %016llx\n", lens[li], (unsigned long long)h);
  }

  /* Strings whose terminator is the last byte before a PROT_NONE page; sets there too. */
  long pg = sysconf(_SC_PAGESIZE);
  char *m = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED || mprotect(m + pg, pg, PROT_NONE)) { perror("mmap"); exit(1); }
  char *end = m + pg;
  for (size_t n = 0; n <= 80; n++) {
    h = 0xcbf29ce484222325ULL;
    for (int alpha = 1; alpha <= (int)sizeof ALPHA - 1; alpha += 7) {
      char *s = end - n - 1;
      fill(s, n, alpha);
      run_all(s, n, other);
      /* The set / needle / second string at the page end, the text elsewhere. */
      fill(buf, 100, alpha);
      for (int k = 0; k < NSETS; k++) {
        size_t l = strlen(SETS[k]);
        char *set = end - l - 1;
        memcpy(set, SETS[k], l + 1);
        mix(strcspn(buf, set));
        mix(strspn(buf, set));
        mix(off(strpbrk(buf, set), buf));
      }
      memcpy(buf, s, n + 1);
      mix(sgn(strcmp(buf, s)) + 8);
      mix(sgn(strcasecmp(buf, s)) + 8);
      mix(sgn(strncasecmp(s, buf, n + 5)) + 8);
      if (n) {
        buf[n / 2] ^= 0x20;
        mix(sgn(strcmp(buf, s)) + 8);
        mix(sgn(strcmp(s, buf)) + 8);
        mix(sgn(strcasecmp(buf, s)) + 8);
        mix(sgn(strncasecmp(s, buf, n)) + 8);
        mix(off(strstr(buf, s + n / 2), buf));
        mix(off(strstr(s, buf + n / 2), s));
      }
    }
    printf("page end n=%2zu: %016llx\n", n, (unsigned long long)h);
  }
  munmap(m, 2 * pg);
}

/* ---- 2. the intrinsics ------------------------------------------------------------------------ */

struct res { int idx, flags; uint64_t m0, m1; };

#define R2(m, b) m(b) m(b + 1)
#define R4(m, b) R2(m, b) R2(m, b + 2)
#define R8(m, b) R4(m, b) R4(m, b + 4)
#define R16(m, b) R8(m, b) R8(m, b + 8)
#define R128(m) R16(m, 0) R16(m, 16) R16(m, 32) R16(m, 48) R16(m, 64) R16(m, 80) R16(m, 96) R16(m, 112)

__attribute__((target("sse4.2"), noinline)) static void istr(int imm, const void *pa, const void *pb, struct res *r) {
  __m128i a = _mm_loadu_si128(pa), b = _mm_loadu_si128(pb), m = _mm_setzero_si128();
  switch (imm) {
#define CI(i)                                                                                            \
  case i:                                                                                                \
    r->idx = _mm_cmpistri(a, b, i);                                                                      \
    m = _mm_cmpistrm(a, b, i);                                                                           \
    r->flags = _mm_cmpistra(a, b, i) | _mm_cmpistrc(a, b, i) << 1 | _mm_cmpistro(a, b, i) << 2 |         \
               _mm_cmpistrs(a, b, i) << 3 | _mm_cmpistrz(a, b, i) << 4;                                  \
    break;
    R128(CI)
  }
  _mm_storeu_si128((__m128i *)&r->m0, m);
}

__attribute__((target("sse4.2"), noinline)) static void estr(int imm, const void *pa, int la, const void *pb, int lb, struct res *r) {
  __m128i a = _mm_loadu_si128(pa), b = _mm_loadu_si128(pb), m = _mm_setzero_si128();
  switch (imm) {
#define CE(i)                                                                                            \
  case i:                                                                                                \
    r->idx = _mm_cmpestri(a, la, b, lb, i);                                                              \
    m = _mm_cmpestrm(a, la, b, lb, i);                                                                   \
    r->flags = _mm_cmpestra(a, la, b, lb, i) | _mm_cmpestrc(a, la, b, lb, i) << 1 |                      \
               _mm_cmpestro(a, la, b, lb, i) << 2 | _mm_cmpestrs(a, la, b, lb, i) << 3 |                 \
               _mm_cmpestrz(a, la, b, lb, i) << 4;                                                       \
    break;
    R128(CE)
  }
  _mm_storeu_si128((__m128i *)&r->m0, m);
}

/* pcmpestri / pcmpestrm with REX.W: 64-bit lengths in rax / rdx (a few imm8 values). */
#define ASMQ(i)                                                                                          \
  __asm__("lea -128(%%rsp), %%rsp\n\t" /* keep pushfq out of the red zone */                        \
          "pcmpestriq $" #i ", %[b], %[a]\n\tpushfq\n\tpopq %[f1]\n\t"                                  \
          "pcmpestrmq $" #i ", %[b], %[a]\n\tpushfq\n\tpopq %[f2]\n\t"                                  \
          "lea 128(%%rsp), %%rsp"                                                                      \
          : "=&c"(idx), "=&Yz"(m), [f1] "=&r"(f1), [f2] "=&r"(f2)                                      \
          : [a] "x"(a), [b] "x"(b), "a"(la), "d"(lb)                                                  \
          : "cc", "memory")
__attribute__((target("sse4.2"), noinline)) static void estrq(int which, const void *pa, long la, const void *pb, long lb, struct res *r) {
  __m128i a = _mm_loadu_si128(pa), b = _mm_loadu_si128(pb), m;
  unsigned long idx, f1, f2;
  switch (which) {
    case 0: ASMQ(0x00); break;
    case 1: ASMQ(0x0c); break;
    case 2: ASMQ(0x45); break;
    case 3: ASMQ(0x1a); break;
    case 4: ASMQ(0x34); break;
    default: ASMQ(0x7b); break;
  }
  r->idx = (int)idx;
  r->flags = (int)((f1 & 0x8d5) | (f2 & 0x8d5) << 12);
  _mm_storeu_si128((__m128i *)&r->m0, m);
}

static void mixres(const struct res *r) {
  mix((uint64_t)r->idx);
  mix((uint64_t)r->flags);
  mix(r->m0);
  mix(r->m1);
}

/* 16 bytes of string-like data: alphabet characters, a zero at `term` (if < 16), garbage after. */
static void strdata(unsigned char *v, int term, int words, int alpha) {
  static const unsigned short wchars[] = {0x0041, 0x0061, 0x4100, 0x00ff, 0xff00, 0x8000, 0x7fff, 0xffff, 0x0101};
  for (int k = 0; k < 16; k++) v[k] = (unsigned char)ALPHA[rnd() % (unsigned)alpha];
  if (words)
    for (int k = 0; k < 8; k++) {
      unsigned short w = wchars[rnd() % (alpha < 9 ? (unsigned)alpha : 9u)];
      v[2 * k] = (unsigned char)w;
      v[2 * k + 1] = (unsigned char)(w >> 8);
    }
  if (term < 16) {
    if (words) v[2 * (term / 2)] = v[2 * (term / 2) + 1] = 0;
    else v[term] = 0;
    for (int k = (term | 1) + 1; k < 16; k++)
      if (rnd() % 3 == 0) v[k] = (unsigned char)rnd();
  }
}

static void intrinsic_tests(void) {
  static const int lens[] = {0, 1, 2, 3, 5, 7, 8, 9, 15, 16, 17, 100, -1, -2, -7, -8, -9, -15, -16, -17, -100, 0x7fffffff, (int)0x80000000};
  unsigned char a[16], b[16];
  struct res r;
  for (int words = 0; words < 2; words++) {
    for (int ta = 0; ta <= 16; ta++) {
      for (int tb = 0; tb <= 16; tb += 1 + words) {
        int alpha = 2 + (ta * 3 + tb) % 14;
        strdata(a, ta, words, alpha);
        strdata(b, tb, words, alpha);
        if ((ta + tb) % 5 == 0 && tb > 2) memcpy(a, b + 1, 4); /* a needle taken from b */
        if ((ta + tb) % 7 == 0) { a[0] = '0'; a[1] = '9'; a[2] = 'a'; a[3] = 'z'; } /* ranges */
        uint64_t hi = 0, he = 0;
        for (int imm = words; imm < 128; imm += 2) {
          memset(&r, 0, sizeof r);
          istr(imm, a, b, &r);
          h = hi; mixres(&r); hi = h;
          int la = lens[rnd() % (sizeof lens / sizeof lens[0])], lb = lens[rnd() % (sizeof lens / sizeof lens[0])];
          memset(&r, 0, sizeof r);
          estr(imm, a, la, b, lb, &r);
          h = he; mix((uint64_t)la); mixres(&r); he = h;
        }
        printf("%s ta=%2d tb=%2d: implicit %016llx explicit %016llx\n", words ? "words" : "bytes", ta, tb,
               (unsigned long long)hi, (unsigned long long)he);
      }
    }
  }
  /* A few results in the clear, to make a mismatch easy to read. */
  strdata(a, 3, 0, 8);
  strdata(b, 11, 0, 8);
  for (int imm = 0; imm < 128; imm += 9) {
    istr(imm, a, b, &r);
    printf("istr imm=%02x idx=%2d flags=%02x mask=%016llx%016llx\n", imm, r.idx, r.flags, (unsigned long long)r.m1, (unsigned long long)r.m0);
    estr(imm, a, -5 + imm % 23, b, 20 - imm % 37, &r);
    printf("estr imm=%02x idx=%2d flags=%02x mask=%016llx%016llx\n", imm, r.idx, r.flags, (unsigned long long)r.m1, (unsigned long long)r.m0);
  }
  static const long qlens[] = {0, 3, 8, 16, 17, -3, -16, -17, 0x100000003L, -0x100000003L, 0x7fffffffffffffffL, (long)0x8000000000000000UL, 0xfffffffffL};
  h = 0xcbf29ce484222325ULL;
  for (int which = 0; which < 6; which++)
    for (size_t i = 0; i < sizeof qlens / sizeof qlens[0]; i++)
      for (size_t j = 0; j < sizeof qlens / sizeof qlens[0]; j++) {
        strdata(a, (int)(i + j) % 17, which == 2 || which == 5, 6);
        strdata(b, (int)(i * 3 + j) % 17, which == 2 || which == 5, 6);
        memset(&r, 0, sizeof r);
        estrq(which, a, qlens[i], b, qlens[j], &r);
        mixres(&r);
        if (i == j && which < 2)
          printf("estrq %d len=%lld: idx=%d flags=%06x\n", which, (long long)qlens[i], r.idx, r.flags);
      }
  printf("estrq hash %016llx\n", (unsigned long long)h);
}

int main(void) {
  glibc_tests();
  intrinsic_tests();
  return 0;
}
