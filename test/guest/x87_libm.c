// libm's long double functions, which glibc implements with x87 instructions: sqrtl (fsqrt),
// fmodl (fprem), remainderl/remquol (fprem1), frexpl/ldexpl/scalbnl/logbl (fxtract, fscale),
// rintl/nearbyintl/floorl/ceill/truncl/roundl (frndint), lrintl/llrintl (fistp), modfl, and the
// transcendental ones (fsin fcos fptan fpatan fyl2x fyl2xp1 f2xm1). Exact operations are printed
// in full (%La); transcendental results, which the hardware computes within an ulp but not
// necessarily correctly rounded, with 15 significant digits.
#include <float.h>
#include <math.h>
#include <stdio.h>

static volatile long double xs[] = {0.0L, -0.0L, 0.25L, 0.5L, 1.0L, 1.5L, 2.0L, 2.5L, 3.0L, 10.0L, 100.5L, 1e-5L,
                                    1234.5678L, -0.75L, -2.5L, -3.5L, 7.389L, 0.69314718L, 1e10L, -1e-3L, 1e300L,
                                    -1e-300L, 1e4000L, 3e-4940L, 123456789.123456789L, 0x1.fffffffffffffffep+62L};

static volatile long double ys[] = {0.7L, -3.0L, 1e-3L, 2.5L, 1e20L, 0x1p-16400L, 3.0L};

int main(void) {
  int n = (int)(sizeof xs / sizeof xs[0]);
  for (int i = 0; i < n; i++) {
    long double x = xs[i], ax = fabsl(x);
    printf("x=%La (%.18Lg)\n", x, x);
    printf("  sqrt=%La floor=%La ceil=%La round=%La trunc=%La rint=%La nearbyint=%La\n", sqrtl(ax), floorl(x),
           ceill(x), roundl(x), truncl(x), rintl(x), nearbyintl(x));
    for (unsigned j = 0; j < sizeof ys / sizeof ys[0]; j++) {
      int q = 0;
      long double r = remquol(x, ys[j], &q);
      printf("  y=%La fmod=%La remainder=%La remquo=%La,%d\n", ys[j], fmodl(x, ys[j]), remainderl(x, ys[j]), r, q & 7);
    }
    long double ip, fp = modfl(x, &ip);
    int e;
    long double m = frexpl(x, &e);
    printf("  modf=%La,%La frexp=%La,%d ldexp=%La,%La scalbn=%La logb=%La ilogb=%d\n", ip, fp, m, e, ldexpl(x, 100),
           ldexpl(x, -16000), scalbnl(x, -5), x != 0 ? logbl(x) : 0.0L, x != 0 ? ilogbl(x) : 0);
    if (ax < 9e18L) printf("  lrint=%ld llrint=%lld lround=%ld\n", lrintl(x), llrintl(x), lroundl(x));
    if (ax < 1e6L) {
      printf("  sin=%.15Lg cos=%.15Lg tan=%.15Lg atan=%.15Lg atan2=%.15Lg\n", sinl(x), cosl(x), tanl(x), atanl(x),
             atan2l(x, -1.5L));
      printf("  exp=%.15Lg exp2=%.15Lg expm1=%.15Lg sinh=%.15Lg cosh=%.15Lg tanh=%.15Lg\n", expl(x / 4), exp2l(x / 8),
             expm1l(x / 16), sinhl(x / 8), coshl(x / 8), tanhl(x));
      if (ax <= 1) printf("  asin=%.15Lg acos=%.15Lg atanh=%.15Lg\n", asinl(x), acosl(x), ax < 1 ? atanhl(x) : 0.0L);
    }
    if (x > 0)
      printf("  log=%.15Lg log2=%.15Lg log10=%.15Lg log1p=%.15Lg cbrt=%.15Lg pow=%.15Lg,%.15Lg hypot=%.15Lg\n", logl(x),
             log2l(x), log10l(x), log1pl(x), cbrtl(x), powl(x, 0.37L), powl(1.0001L, x < 1e6L ? x : 1.0L),
             hypotl(x, 3.0L));
  }
  // Exact powers and logs.
  for (int k = -20; k <= 20; k += 5) printf("pow2 %d=%La log2=%La exp2=%La\n", k, powl(2.0L, k), log2l(ldexpl(1.0L, k)), exp2l((long double)k));
  // Square roots of perfect squares and of their neighbours.
  for (long double v = 1.0L; v < 1e18L; v *= 7.0L) {
    long double sq = v * v;
    printf("sqrt %La: %La %La %La\n", sq, sqrtl(sq), sqrtl(nextafterl(sq, 0.0L)), sqrtl(nextafterl(sq, INFINITY)));
  }
  // A remainder chain: big / small needs many partial fprem steps.
  long double big = 0x1.23456789abcdefp+12000L;
  printf("fmod big=%La remainder big=%La\n", fmodl(big, 3.0L), remainderl(big, 0x1.921fb54442d18469p+1L));
  return 0;
}
