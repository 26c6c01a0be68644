// Floating-point environment: fesetround's four rounding modes acting on SSE arithmetic
// (divsd/mulsd/cvtsd2ss), rint/nearbyint/lrint, and the MXCSR exception flags seen through
// fetestexcept (divide-by-zero, inexact, invalid, overflow, underflow).
// CFLAGS: -frounding-math
#include <fenv.h>
#include <math.h>
#include <stdio.h>

int main(void) {
  volatile double z = 0.0;
  static const int modes[] = {FE_TONEAREST, FE_UPWARD, FE_DOWNWARD, FE_TOWARDZERO};
  static const char *names[] = {"nearest", "upward", "downward", "towardzero"};
  for (int k = 0; k < 4; k++) {
    fesetround(modes[k]);
    volatile double a = 1.0, b = 3.0, c = -2.5, d = 0.1, big = 1e308;
    double q = a / b, nq = -a / b, s = d * 3.0, sum = d + 0.2, sq = sqrt(b);
    float fq = (float)a / (float)b, fd = (float)(a / b);
    printf("%-10s ok=%d 1/3=%a -1/3=%a 0.1*3=%a 0.1+0.2=%a sqrt3=%a\n", names[k], fegetround() == modes[k], q, nq, s, sum, sq);
    printf("%-10s (float)1/3=%a (float)(1/3)=%a big*10=%g rint(-2.5)=%g rint(2.5)=%g nearbyint(0.5)=%g lrint(3.5)=%ld\n",
           names[k], (double)fq, (double)fd, big * 10, rint(c), rint(-c), nearbyint(a / 2), lrint(3.5 + z));
  }
  fesetround(FE_TONEAREST);
  volatile double one = 1.0, r;
  feclearexcept(FE_ALL_EXCEPT);
  printf("clear: %d\n", fetestexcept(FE_ALL_EXCEPT) != 0);
  r = one / z;
  printf("1/0: divbyzero=%d invalid=%d\n", fetestexcept(FE_DIVBYZERO) != 0, fetestexcept(FE_INVALID) != 0);
  feclearexcept(FE_ALL_EXCEPT);
  r = one / 3.0;
  printf("1/3: inexact=%d\n", fetestexcept(FE_INEXACT) != 0);
  feclearexcept(FE_ALL_EXCEPT);
  r = one * 4.0;
  printf("1*4: inexact=%d\n", fetestexcept(FE_INEXACT) != 0);
  feclearexcept(FE_ALL_EXCEPT);
  r = sqrt(-one);
  printf("sqrt(-1): invalid=%d nan=%d\n", fetestexcept(FE_INVALID) != 0, r != r);
  feclearexcept(FE_ALL_EXCEPT);
  r = 1e308 * (one * 10);
  printf("overflow=%d ", fetestexcept(FE_OVERFLOW) != 0);
  feclearexcept(FE_ALL_EXCEPT);
  r = 1e-308 * (one / 1e10);
  printf("underflow=%d\n", fetestexcept(FE_UNDERFLOW) != 0);
  /* saved and restored environments */
  fenv_t env;
  fesetround(FE_UPWARD);
  fegetenv(&env);
  fesetround(FE_DOWNWARD);
  fesetenv(&env);
  printf("restored upward: %d\n", fegetround() == FE_UPWARD);
  fesetround(FE_TONEAREST);
  return 0;
}
