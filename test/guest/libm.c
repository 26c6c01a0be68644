// libm: sqrt, cbrt, hypot, sin, cos, tan, asin, acos, atan, atan2, exp, exp2, expm1, log, log2,
// log10, log1p, pow, sinh, cosh, tanh, floor, ceil, round, trunc, rint, nearbyint, fmod, remainder,
// modf, frexp, ldexp, fma, fmin/fmax, copysign, lround. (Rounding modes and exception flags are
// in fenv.c.)
// glibc may pick FMA/AVX2 variants of transcendental functions by CPUID, which can differ in the
// last bit, so those are printed with 12 significant digits; exact operations are printed in %a.
#include <math.h>
#include <stdio.h>

static volatile double xs[] = {0.0, 0.25, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 10.0, 100.5, 1e-5, 1234.5678, -0.75, -2.5,
                               -3.5, 7.389, 0.69314718, 1e10, -1e-3};

int main(void) {
  for (unsigned i = 0; i < sizeof xs / sizeof xs[0]; i++) {
    double x = xs[i], ax = fabs(x);
    printf("x=%g\n", x);
    printf("  exact: sqrt=%a floor=%a ceil=%a round=%a trunc=%a rint=%a nearbyint=%a\n", sqrt(ax), floor(x), ceil(x),
           round(x), trunc(x), rint(x), nearbyint(x));
    printf("  exact: fmod7=%a rem3=%a fma=%a fmin=%a fmax=%a copysign=%a ldexp=%a lround=%ld\n", fmod(x, 0.7),
           remainder(x, 3.0), fma(x, 3.1, -0.2), fmin(x, 1.0), fmax(x, 1.0), copysign(2.0, x), ldexp(x, 7), lround(x));
    double ip, fp = modf(x, &ip);
    int e;
    double m = frexp(x, &e);
    printf("  exact: modf=%a,%a frexp=%a,%d sqrtf=%a\n", ip, fp, m, e, (double)sqrtf((float)ax));
    printf("  sin=%.12g cos=%.12g tan=%.12g atan=%.12g atan2=%.12g\n", sin(x), cos(x), tan(x), atan(x), atan2(x, -1.5));
    printf("  exp=%.12g exp2=%.12g expm1=%.12g sinh=%.12g cosh=%.12g tanh=%.12g\n", exp(x / 4), exp2(x / 8),
           expm1(x / 16), sinh(x / 8), cosh(x / 8), tanh(x));
    if (x > 0)
      printf("  log=%.12g log2=%.12g log10=%.12g log1p=%.12g cbrt=%.12g pow=%.12g,%.12g\n", log(x), log2(x), log10(x),
             log1p(x), cbrt(x), pow(x, 0.37), pow(1.0001, x));
    if (ax <= 1) printf("  asin=%.12g acos=%.12g\n", asin(x), acos(x));
    printf("  hypot=%.12g powint=%.12g sinf=%.6g expf=%.6g\n", hypot(x, 3.0), pow(x, 3.0), (double)sinf((float)x),
           (double)expf((float)x / 8));
  }
  /* special cases */
  volatile double z = 0.0;
  printf("sqrt(-1)=%f log(0)=%f exp(1000)=%f pow(0,0)=%f atan2(0,-0)=%f\n", fabs(sqrt(-1.0 + z)), log(z),
         exp(1000 + z), pow(z, z), atan2(z, -z));
  return 0;
}
