// Floating-point formatting and parsing: printf %f %e %g %a with many precisions and widths,
// special values (inf, nan, -0.0, subnormals, DBL_MAX), strtod/strtof/atof round trips,
// snprintf truncation, and float (single-precision) values promoted through varargs.
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static volatile double vals[] = {0.0, -0.0, 1.0, -1.0, 0.1, 0.5, 1.0 / 3.0, 2.0 / 3.0, 3.14159265358979323846,
                                 2.718281828459045, 1e-10, 1e10, 123456789.125, -987654.321, 1e300, 1e-300,
                                 5e-324, 2.2250738585072014e-308, DBL_MAX, DBL_MIN, DBL_EPSILON, 0.000123456,
                                 999999.5, 9.5, 10.5, 0.125, 1e21, 1e22, 4503599627370497.0};

int main(void) {
  volatile double inf = 1.0 / vals[0], nan_ = vals[0] / vals[0];
  for (unsigned i = 0; i < sizeof vals / sizeof vals[0]; i++) {
    double v = vals[i];
    printf("%.17g | %f | %.3f | %e | %.0e | %g | %.10g | %a | %.3a | %12.4f| %-14.3e| %+g\n", v, v, v, v, v, v, v,
           v, v, v, v, v);
  }
  printf("special: %f %f %e %g %a %F %E %G\n", inf, -inf, nan_ < 0 ? -nan_ : nan_, inf, -inf, inf, inf, inf);
  printf("nan: %f %5.1f\n", fabs(nan_), fabs(nan_));
  printf("rounding: %.0f %.0f %.0f %.0f %.1f %.2f %.2f\n", 0.5, 1.5, 2.5, -2.5, 0.05, 1.005, 2.675);
  printf("huge: %.0f\n", 1e300);
  printf("tiny: %.340f\n", 5e-324);
  printf("float args: %f %g %a %.9g\n", (double)1.1f, (double)3.4028235e38f, (double)1.1f, (double)0.1f);

  static const char *inputs[] = {"0", "-0", "1e-400", "1e400", "-1e400", "0x1.8p3", "  42.5xyz", "inf", "-Infinity",
                                 "nan", "3.14159265358979323846264338", "2.2250738585072011e-308",
                                 "4.9406564584124654e-324", "1.7976931348623157e308", "123456789012345678901234567890",
                                 ".5", "5.", "1e", "abc", "0x", "1_000", "+.1e+2"};
  for (unsigned i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
    char *end;
    double d = strtod(inputs[i], &end);
    float f = strtof(inputs[i], NULL);
    printf("strtod(\"%s\") = %.17g [%a] consumed=%ld float=%.9g\n", inputs[i], d, d, (long)(end - inputs[i]), (double)f);
  }
  /* round trip of many values through %.17g */
  unsigned long long x = 0x0123456789abcdefULL;
  int fails = 0;
  for (int i = 0; i < 2000; i++) {
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    double d;
    unsigned long long bits = (x >> 1) & 0x7fefffffffffffffULL; /* finite */
    memcpy(&d, &bits, 8);
    char buf[64];
    snprintf(buf, sizeof buf, "%.17g", d);
    if (strtod(buf, NULL) != d) fails++;
    if (i < 8) printf("rt %s\n", buf);
  }
  printf("round-trip failures: %d\n", fails);
  char small[8];
  int n = snprintf(small, sizeof small, "%f", 12345.6789);
  printf("snprintf truncated: '%s' wanted %d\n", small, n);
  printf("atof: %g %g\n", atof("6.02214076e23"), atof("-1.5e-5"));
  return 0;
}
