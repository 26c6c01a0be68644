// String instructions through inline asm: rep movs{b,w,l,q}, rep stos{b,q}, repe cmpsb,
// repne scasb, lodsb, with counts 0..N, overlapping and backward (std) copies.
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static unsigned char src[4096 + 64], dst[4096 + 64];
static unsigned long long h;
static void mix(unsigned long long v) { h = (h ^ v) * 0x100000001b3ULL; }

static unsigned sum(const unsigned char *p, size_t n) {
  unsigned s = 0;
  for (size_t i = 0; i < n; i++) s = s * 31 + p[i];
  return s;
}

static void fill(void) {
  for (int i = 0; i < (int)sizeof src; i++) src[i] = (unsigned char)(i * 7 + (i >> 5));
  memset(dst, 0xcc, sizeof dst);
}

static void rep_movsb(void *d, const void *s, size_t n) {
  __asm__ volatile("rep movsb" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
}
static void rep_movsw(void *d, const void *s, size_t n) {
  __asm__ volatile("rep movsw" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
}
static void rep_movsl(void *d, const void *s, size_t n) {
  __asm__ volatile("rep movsl" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
}
static void rep_movsq(void *d, const void *s, size_t n) {
  __asm__ volatile("rep movsq" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
}

int main(void) {
  static const size_t counts[] = {0, 1, 2, 3, 7, 8, 15, 16, 17, 31, 63, 64, 65, 127, 255, 256, 1000, 4095};
  const int nc = sizeof counts / sizeof counts[0];

  /* forward copies of every width, at several alignments; check registers after */
  for (int k = 0; k < nc; k++)
    for (int al = 0; al < 4; al++) {
      size_t n = counts[k];
      fill();
      void *d = dst + al, *s = src + (al * 3) % 8;
      size_t c = n;
      __asm__ volatile("rep movsb" : "+D"(d), "+S"(s), "+c"(c) : : "memory");
      long dd = (unsigned char *)d - dst, ds = (unsigned char *)s - src;
      unsigned a = sum(dst, n + 8);
      fill(); rep_movsw(dst + al, src + 1, n / 2); unsigned b = sum(dst, n + 8);
      fill(); rep_movsl(dst + al, src + 2, n / 4); unsigned cc = sum(dst, n + 8);
      fill(); rep_movsq(dst + al, src + 3, n / 8); unsigned e = sum(dst, n + 8);
      printf("movs n=%zu al=%d: rdi+%ld rsi+%ld rcx=%zu b=%08x w=%08x l=%08x q=%08x\n", n, al, dd, ds, c, a, b, cc, e);
      mix(a + b + cc + e + (unsigned long long)dd);
    }

  /* stos */
  for (int k = 0; k < nc; k++) {
    size_t n = counts[k];
    fill();
    void *d = dst + 3;
    size_t c = n;
    __asm__ volatile("rep stosb" : "+D"(d), "+c"(c) : "a"(0x5a) : "memory");
    unsigned a = sum(dst, n + 8);
    d = dst + 8;
    c = n / 8;
    __asm__ volatile("rep stosq" : "+D"(d), "+c"(c) : "a"(0x0123456789abcdefULL) : "memory");
    unsigned b = sum(dst, n + 16);
    printf("stos n=%zu: %08x %08x end=%ld\n", n, a, b, (long)((unsigned char *)d - dst));
    mix(a * 3 + b);
  }

  /* overlapping forward copy (byte-wise semantics replicate the pattern) */
  fill();
  rep_movsb(src + 1, src, 100);
  printf("overlap fwd: %08x first=%d,%d,%d last=%d\n", sum(src, 120), src[0], src[1], src[50], src[100]);
  mix(sum(src, 120));

  /* backward copies with DF=1 (memmove-style) */
  for (int k = 0; k < nc; k++) {
    size_t n = counts[k];
    if (n == 0 || n > 2000) continue;
    fill();
    void *d = src + 10 + n - 1, *s = src + n - 1;
    size_t c = n;
    __asm__ volatile("std\n\trep movsb\n\tcld" : "+D"(d), "+S"(s), "+c"(c) : : "memory");
    unsigned a = sum(src, n + 20);
    fill();
    d = dst + 8 * (n / 8 + 1) - 8;
    s = src + 8 * (n / 8 + 1) - 8;
    c = n / 8;
    __asm__ volatile("std\n\trep movsq\n\tcld" : "+D"(d), "+S"(s), "+c"(c) : : "memory");
    unsigned b = sum(dst, n + 16);
    printf("movs backward n=%zu: %08x %08x\n", n, a, b);
    mix(a + b);
  }

  /* repe cmpsb: find the first difference */
  for (int k = 0; k < nc; k++) {
    size_t n = counts[k];
    fill();
    memcpy(dst, src, sizeof src);
    if (n > 0) dst[n - 1] ^= 0x40;
    const void *p = src, *q = dst;
    size_t c = n + 1;
    unsigned long f;
    __asm__ volatile("cmp %%eax,%%eax\n\trepe cmpsb\n\tpushfq\n\tpopq %[f]"
                     : "+S"(p), "+D"(q), "+c"(c), [f] "=r"(f) : "a"(0) : "memory", "cc");
    printf("cmpsb n=%zu: stopped at %ld rcx=%zu zf=%lu cf=%lu\n", n, (long)((const unsigned char *)p - src), c,
           (f >> 6) & 1, f & 1);
    mix(c * 7 + (f & 0x41));
  }

  /* repne scasb: strlen-like and memchr-like */
  for (int k = 0; k < nc; k++) {
    size_t n = counts[k];
    memset(dst, 'x', sizeof dst);
    dst[n] = 0;
    const void *p = dst;
    size_t c = ~(size_t)0;
    __asm__ volatile("repne scasb" : "+D"(p), "+c"(c) : "a"(0) : "memory", "cc");
    size_t len = ~c - 1;
    printf("scasb len=%zu (expect %zu)\n", len, n);
    mix(len);
  }

  /* lodsb loop and a rep with rcx=0 that must not touch memory or flags */
  {
    const void *p = "Hello, string instructions!";
    unsigned acc = 0;
    for (int i = 0; i < 27; i++) {
      unsigned char ch;
      __asm__ volatile("lodsb" : "=a"(ch), "+S"(p) : : "memory");
      acc = acc * 33 + ch;
    }
    size_t c = 0;
    void *d = dst, *s = src;
    dst[0] = 0x11;
    unsigned long f;
    __asm__ volatile("stc\n\trep movsb\n\tpushfq\n\tpopq %[f]" : "+D"(d), "+S"(s), "+c"(c), [f] "=r"(f) : : "memory", "cc");
    printf("lodsb acc=%08x; rep with rcx=0: dst0=%02x cf=%lu moved=%ld\n", acc, dst[0], f & 1,
           (long)((unsigned char *)d - dst));
    mix(acc);
  }
  printf("string_ops hash %016llx\n", h);
  return 0;
}
