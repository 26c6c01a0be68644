// x87 through long double: strtold and printf (%Lf %La %Le %Lg) of many values, the four
// arithmetic operations on a table of operands (bit patterns printed), conversions to and from
// double, float and the integer types (fldcw/fistp, fild), comparisons (fcomi/fucomi), classes
// (fxam), and some long running sums. Every result is exact x87 arithmetic: printed in full.
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void bits(const char *tag, long double x) {
  unsigned char b[16] = {0};
  memcpy(b, &x, 10);
  uint64_t m;
  uint16_t se;
  memcpy(&m, b, 8);
  memcpy(&se, b + 8, 2);
  printf("%s=%04x:%016llx", tag, se, (unsigned long long)m);
}

static const char *inputs[] = {
    "0", "-0", "1", "-1", "0.1", "-0.3", "2.5", "-2.5", "3.5", "1e10", "123456789.987654321",
    "3.14159265358979323846264338327950288", "2.71828182845904523536028747135266250",
    "6.02214076e23", "1.602176634e-19", "1e-300", "1e300", "1e-4000", "1e4000",
    "3.36210314311209350626e-4932", "1.18973149535723176502e+4932", "1e-4950", "3.6451995318824746025e-4951",
    "0x1.fffffffffffffffep+16383", "0x1p-16445", "0x1p-16446", "0x1.8p-16445", "1e4933", "-1e4933",
    "inf", "-inf", "nan", "-nan", "0x1.23456789abcdef01p+0", "0.000000000000000000001",
    "18446744073709551615", "9223372036854775807", "-9223372036854775808", "4294967295.5", "65535.49",
    "0.49999999999999999997", "0.5", "1.5", "-0.5", "1e19", "1e18", "1.0000000000000000001",
};

static long double parse(const char *s) { return strtold(s, NULL); }

static void print_value(long double x) {
  bits("bits", x);
  printf(" %%La=%La %%Le=%.20Le %%Lg=%Lg", x, x, x);
  if (fabsl(x) < 1e30L || isnan(x) || isinf(x)) printf(" %%Lf=%.25Lf", x);
  printf("\n");
}

static void conversions(long double x) {
  double d = (double)x;
  float f = (float)x;
  printf("  double=%a float=%a", d, (double)f);
  if (!isnan(x) && fabsl(x) < 9.2e18L) printf(" ll=%lld", (long long)x);
  if (!isnan(x) && x > -1.0L && x < 1.8e19L) printf(" ull=%llu", (unsigned long long)x);
  if (!isnan(x) && fabsl(x) < 2.1e9L) printf(" int=%d short=%d", (int)x, (short)(int)x);
  printf(" llrintl=%lld lrint=%ld", isnan(x) || fabsl(x) > 9e18L ? 0LL : llrintl(x), isnan(x) || fabsl(x) > 9e18L ? 0L : lrintl(x));
  printf("\n");
}

static void classify(long double x) {
  const char *c = "?";
  switch (fpclassify(x)) {
    case FP_NAN: c = "nan"; break;
    case FP_INFINITE: c = "inf"; break;
    case FP_ZERO: c = "zero"; break;
    case FP_SUBNORMAL: c = "subnormal"; break;
    case FP_NORMAL: c = "normal"; break;
  }
  printf("  class=%s signbit=%d isnan=%d isinf=%d isfinite=%d\n", c, signbit(x) != 0, isnan(x) != 0, isinf(x) != 0,
         isfinite(x) != 0);
}

static volatile long double ops[] = {0.0L, -0.0L, 1.0L, -1.0L, 3.0L, 0.1L, -7.25L, 1e-10L, 1e300L, 1e4000L, -1e-4940L,
                                     LDBL_MAX, LDBL_MIN, LDBL_TRUE_MIN, 1.0L / 3.0L, 2.0L / 3.0L, 0x1.fffffffffffffffep0L};

int main(void) {
  int n = (int)(sizeof inputs / sizeof inputs[0]);
  for (int i = 0; i < n; i++) {
    long double x = parse(inputs[i]);
    printf("[%s] ", inputs[i]);
    print_value(x);
    conversions(x);
    classify(x);
  }

  // Arithmetic on every pair of operands.
  volatile long double inf = INFINITY, nan = NAN;
  int m = (int)(sizeof ops / sizeof ops[0]);
  for (int i = 0; i < m; i++) {
    for (int j = 0; j < m; j++) {
      long double a = ops[i], b = ops[j];
      printf("%d,%d ", i, j);
      bits("add", a + b);
      bits(" sub", a - b);
      bits(" mul", a * b);
      bits(" div", a / b);
      printf(" lt=%d le=%d eq=%d gt=%d un=%d\n", a < b, a <= b, a == b, a > b, isunordered(a, b) != 0);
    }
  }
  printf("inf-inf ");
  bits("r", inf - inf);
  printf(" 0*inf ");
  bits("r", 0.0L * inf);
  printf(" nan+1 ");
  bits("r", nan + 1.0L);
  printf("\n");

  // Integers to long double and back.
  static volatile long long ints[] = {0, 1, -1, 42, -32768, 65535, 2147483647LL, -2147483648LL, 9007199254740993LL,
                                      9223372036854775807LL, (-9223372036854775807LL - 1), 123456789012345678LL};
  for (unsigned i = 0; i < sizeof ints / sizeof ints[0]; i++) {
    long double x = (long double)ints[i];
    long double y = (long double)(unsigned long long)ints[i];
    printf("int %lld -> ", ints[i]);
    bits("s", x);
    bits(" u", y);
    printf(" back=%lld %.1Lf\n", (long long)x, x * 0.5L);
  }

  // Long running sums: harmonic series, alternating series, and a product.
  long double h = 0.0L, alt = 0.0L, prod = 1.0L;
  for (int k = 1; k <= 30000; k++) {
    h += 1.0L / k;
    alt += (k & 1 ? 1.0L : -1.0L) / (2 * k - 1);
    if (k <= 1700) prod *= (long double)k;
  }
  printf("harmonic=%La alt=%La 1700!=%Le\n", h, alt * 4.0L, prod);
  bits("harmonic", h);
  bits(" alt", alt);
  bits(" prod", prod);
  printf("\n");

  // Kahan-compensated sum of 0.1 in long double vs double.
  long double s = 0.0L, c = 0.0L;
  double sd = 0.0;
  for (int k = 0; k < 20000; k++) {
    long double y = 0.1L - c;
    long double t = s + y;
    c = (t - s) - y;
    s = t;
    sd += 0.1;
  }
  printf("kahan=%.25Lf double=%.17g\n", s, sd);

  // Decimal round trips.
  char buf[128];
  for (int i = 0; i < m; i++) {
    snprintf(buf, sizeof buf, "%.21Lg", ops[i]);
    long double back = strtold(buf, NULL);
    printf("rt %s same=%d\n", buf, memcmp(&back, (const void *)&ops[i], 10) == 0);
  }
  return 0;
}
