// libc string functions over many sizes and alignments: memcpy, memmove (both directions),
// memset, memcmp, memchr, memrchr, strlen, strnlen, strcmp, strncmp, strchr, strrchr, strcpy,
// strcat, strstr, strspn, strcspn. glibc picks SSE2/AVX/EVEX variants by CPUID, so this exercises
// whatever vector code the emulator's CPUID leads it to.
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N 8192
static unsigned char a[N + 128], b[N + 128];
static unsigned long long h;
static void mix(unsigned long long v) { h = (h ^ v) * 0x100000001b3ULL; }
static unsigned sum(const unsigned char *p, size_t n) {
  unsigned s = 0;
  for (size_t i = 0; i < n; i++) s = s * 31 + p[i];
  return s;
}
static void pattern(unsigned char *p, size_t n, unsigned seed) {
  for (size_t i = 0; i < n; i++) {
    seed = seed * 1103515245u + 12345u;
    p[i] = (unsigned char)((seed >> 16) % 26 + 'a');
  }
}
static int sgn(int x) { return (x > 0) - (x < 0); }

int main(void) {
  static const size_t sizes[] = {0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 47, 63, 64, 65, 95, 127, 128,
                                 129, 255, 256, 257, 511, 1000, 1024, 2047, 4096, 4100, 8000};
  const int ns = sizeof sizes / sizeof sizes[0];
  for (int k = 0; k < ns; k++) {
    size_t n = sizes[k];
    unsigned line = 0;
    for (int sa = 0; sa < 8; sa += 3)
      for (int da = 0; da < 8; da += 5) {
        pattern(a, sizeof a, (unsigned)(n + sa));
        memset(b, '#', sizeof b);
        memcpy(b + da, a + sa, n);
        unsigned s1 = sum(b, n + 16);
        memmove(a + sa + 5, a + sa, n); /* forward overlap */
        unsigned s2 = sum(a, n + 16);
        memmove(a + sa, a + sa + 9, n); /* backward overlap */
        unsigned s3 = sum(a, n + 16);
        memset(b + da, sa * 17 + da, n);
        unsigned s4 = sum(b, n + 16);
        line = line * 7 + s1 + s2 * 3 + s3 * 5 + s4 * 11;
      }
    /* comparisons */
    pattern(a, n + 1, 99);
    memcpy(b, a, n + 1);
    int c0 = sgn(memcmp(a, b, n));
    int c1 = 0, c2 = 0;
    if (n) {
      b[n / 2] = (unsigned char)(b[n / 2] + 1);
      c1 = sgn(memcmp(a, b, n));
      c2 = sgn(memcmp(b, a, n));
    }
    /* strings */
    pattern(a, n, 7);
    a[n] = 0;
    size_t l = strlen((char *)a), l2 = strnlen((char *)a, n / 2);
    memcpy(b, a, n + 1);
    int s0 = sgn(strcmp((char *)a, (char *)b));
    if (n) b[n - 1] = 'z' + 1;
    int s1 = sgn(strcmp((char *)a, (char *)b)), s2 = sgn(strncmp((char *)a, (char *)b, n ? n - 1 : 0));
    const char *ch = strchr((char *)a, 'q'), *rch = strrchr((char *)a, 'q');
    const unsigned char *mc = memchr(a, 'k', n), *mr = memrchr(a, 'k', n);
    long pc = ch ? ch - (char *)a : -1, prc = rch ? rch - (char *)a : -1;
    long pm = mc ? mc - a : -1, pmr = mr ? mr - a : -1;
    size_t sp = strspn((char *)a, "abcdefghijklm"), csp = strcspn((char *)a, "xyz");
    printf("n=%zu copy=%08x cmp=%d,%d,%d len=%zu,%zu strcmp=%d,%d,%d chr=%ld,%ld memchr=%ld,%ld spn=%zu,%zu\n", n,
           line, c0, c1, c2, l, l2, s0, s1, s2, pc, prc, pm, pmr, sp, csp);
    mix(line + l + l2 + (unsigned long long)(pc + prc * 3 + pm * 5 + pmr * 7) + sp + csp);
  }
  /* strcpy / strcat / strstr / strdup */
  char buf[512];
  strcpy(buf, "The quick brown fox");
  strcat(buf, " jumps over");
  strncat(buf, " the lazy dog!!!!!", 14);
  char *dup = strdup(buf);
  printf("%s | %zu | %s | %s\n", buf, strlen(buf), strstr(dup, "fox"), strstr(dup, "cat") ? "cat" : "(no cat)");
  char *tok, *save = NULL;
  int nt = 0;
  for (tok = strtok_r(dup, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) printf("[%s]", tok), nt++;
  printf(" %d tokens\n", nt);
  free(dup);
  printf("memfuncs hash %016llx\n", h);
  return 0;
}
