// 128-bit integer arithmetic: multiplication (mul/imul with 64x64->128), division and modulus
// (libgcc __udivti3/__divti3/__umodti3/__modti3), shifts by 0..127, comparisons, and decimal printing.
#include <stdint.h>
#include <stdio.h>

typedef unsigned __int128 u128;
typedef __int128 s128;

static void put_u128(u128 v, char *out) {
  char tmp[48];
  int n = 0;
  do { tmp[n++] = (char)('0' + (int)(v % 10)); v /= 10; } while (v);
  for (int i = 0; i < n; i++) out[i] = tmp[n - 1 - i];
  out[n] = 0;
}
static void put_s128(s128 v, char *out) {
  if (v < 0) { *out++ = '-'; put_u128(-(u128)v, out); }
  else put_u128((u128)v, out);
}
static void hex(u128 v, char *out) { sprintf(out, "%016llx%016llx", (unsigned long long)(v >> 64), (unsigned long long)v); }

static volatile uint64_t seeds[] = {0, 1, 3, 10, 0xffffffffULL, 0x123456789abcdef0ULL, 0x7fffffffffffffffULL,
                                    0x8000000000000000ULL, 0xffffffffffffffffULL, 1000000007ULL, 0xdeadbeefULL};
#define NS ((int)(sizeof seeds / sizeof seeds[0]))

int main(void) {
  unsigned long long h = 0;
  char s1[64], s2[64], s3[64], s4[64];
  for (int i = 0; i < NS; i++)
    for (int j = 0; j < NS; j++) {
      u128 a = ((u128)seeds[i] << 64) | seeds[(i + j) % NS];
      u128 b = (u128)seeds[j] * (seeds[(i * 3 + 1) % NS] | 1);
      u128 p = a * b;
      hex(p, s1);
      if (b) {
        u128 q = a / b, r = a % b;
        put_u128(q, s2);
        put_u128(r, s3);
        if (q * b + r != a) printf("identity broken!\n");
      } else {
        s2[0] = s3[0] = '-'; s2[1] = s3[1] = 0;
      }
      s128 sa = (s128)a, sb = (s128)(b | 1) * ((j & 1) ? -1 : 1);
      s128 sq = sa / sb, sr = sa % sb;
      put_s128(sq, s4);
      printf("%d,%d: prod=%s udiv=%s umod=%s sdiv=%s smod_low=%lld cmp=%d%d%d\n", i, j, s1, s2, s3, s4, (long long)sr,
             a < b, sa < sb, a == b);
      h = h * 1000003 + (uint64_t)p + (uint64_t)(p >> 64) + (uint64_t)sq + (uint64_t)sr;
    }
  /* widening 64x64 multiplies */
  for (int i = 0; i < NS; i++)
    for (int j = 0; j < NS; j++) {
      u128 up = (u128)seeds[i] * seeds[j];
      s128 sp = (s128)(int64_t)seeds[i] * (int64_t)seeds[j];
      hex(up, s1);
      put_s128(sp, s2);
      printf("w %d,%d: %s %s\n", i, j, s1, s2);
    }
  /* shifts */
  u128 x = ((u128)0x0123456789abcdefULL << 64) | 0xfedcba9876543210ULL;
  for (volatile int c = 0; c < 128; c += 3) {
    u128 l = x << c, r = x >> c;
    s128 ar = (s128)x >> c, nr = (s128)~x >> c;
    hex(l, s1); hex(r, s2); hex((u128)ar, s3); hex((u128)nr, s4);
    printf("sh %3d %s %s %s %s\n", c, s1, s2, s3, s4);
    h = h * 31 + (uint64_t)l + (uint64_t)(r >> 64) + (uint64_t)nr;
  }
  /* factorial 30! and 2^127-1 in decimal */
  u128 f = 1;
  for (int k = 2; k <= 30; k++) f *= k;
  put_u128(f, s1);
  put_u128(((u128)1 << 127) - 1, s2);
  put_s128((s128)((u128)1 << 127), s3);
  printf("30! = %s\n2^127-1 = %s\nmin = %s\n", s1, s2, s3);
  printf("int128 hash %016llx\n", h);
  return 0;
}
