/* A dynamically linked program (libc.so.6 and libm.so.6 through ld.so): libm over a range of
 * inputs, printf/scanf formatting, a temporary file through stdio, qsort, stderr, an exit status. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

int main(int argc, char **argv) {
  static const double xs[] = { -3.5, -1.0, -0.25, 0.0, 1e-300, 0.5, 1.0, 2.0, 3.14159, 10.0, 123.456, 1e10 };
  double acc = 0;
  for (unsigned i = 0; i < sizeof xs / sizeof *xs; i++) {
    double x = xs[i];
    printf("%-10g sin=%.17g cos=%.17g exp=%.17g atan=%.17g cbrt=%.17g\n", x, sin(x), cos(x), exp(x), atan(x), cbrt(x));
    printf("%-10g log=%.17g pow=%.17g hypot=%.17g erf=%.17g lgamma=%.17g\n", x, log(fabs(x) + 1), pow(fabs(x), 0.37), hypot(x, 3), erf(x), lgamma(fabs(x) + 0.5));
    printf("%-10g tanh=%a expm1=%a log1p=%a fmod=%a round=%g\n", x, tanh(x), expm1(x / 8), log1p(fabs(x)), fmod(x, 0.7), round(x));
    acc += sqrt(fabs(x)) + floor(x) - ceil(x / 3);
  }
  int e;
  double m = frexp(acc, &e);
  printf("acc=%.17g frexp=%.17g,%d ldexp=%g nextafter=%a\n", acc, m, e, ldexp(m, e), nextafter(1.0, 2.0));

  char buf[256];
  snprintf(buf, sizeof buf, "[%8.3f|%-6d|%+.2e|%x|%5s|%c]", M_PI, 42, -6.02e23, 0xbeef, "ab", 'z');
  puts(buf);
  double d; int n; char w[16];
  if (sscanf("2.5e3 17 word", "%lf %d %15s", &d, &n, w) == 3) printf("scanned %g %d %s\n", d, n, w);

  FILE *f = tmpfile();
  if (!f) { perror("tmpfile"); return 1; }
  for (int i = 0; i < 100; i++) fprintf(f, "line %d %.3f\n", i, sqrt(i));
  rewind(f);
  double vals[100]; int k = 0;
  while (k < 100 && fgets(buf, sizeof buf, f)) { int id; double v; if (sscanf(buf, "line %d %lf", &id, &v) == 2) vals[k++] = -v; }
  fclose(f);
  qsort(vals, k, sizeof *vals, cmp);
  printf("read %d lines, min %.3f max %.3f, strtod %g\n", k, vals[0], vals[k - 1], strtod("0x1.8p3", 0));
  fprintf(stderr, "to stderr: argc=%d argv0 ends with %s\n", argc, strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0]);
  return 3;
}
