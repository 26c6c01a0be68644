// Calling-convention corners: variadic functions mixing ints and doubles (al = number of vector
// registers), more than six integer / eight float arguments (stack passing), structs returned in
// rax:rdx, in xmm0:xmm1, and through memory, alloca, and vsnprintf with a va_list copy.
#include <alloca.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static __attribute__((noinline)) double vsum(int n, ...) {
  va_list ap;
  va_start(ap, n);
  double s = 0;
  for (int i = 0; i < n; i++) {
    if (i % 3 == 2) s += va_arg(ap, double);
    else if (i % 3 == 1) s += (double)va_arg(ap, long);
    else s += va_arg(ap, int);
  }
  va_end(ap);
  return s;
}

static __attribute__((noinline)) long many(long a, long b, long c, long d, long e, long f, long g, long h, long i, long j) {
  return a + 2 * b + 3 * c + 4 * d + 5 * e + 6 * f + 7 * g + 8 * h + 9 * i + 10 * j;
}
static __attribute__((noinline)) double manyd(double a, double b, double c, double d, double e, double f, double g,
                                               double h, double i, double j, int k, float l) {
  return a - b + c - d + e - f + g - h + i - j + k * l;
}

struct two { long a, b; };
struct twod { double x, y; };
struct mixed { long a; double b; };
struct big { long v[6]; char tag[9]; };
static __attribute__((noinline)) struct two mk_two(long x) { return (struct two){x * 2, x * 3}; }
static __attribute__((noinline)) struct twod mk_twod(double x) { return (struct twod){x / 2, x * 4}; }
static __attribute__((noinline)) struct mixed mk_mixed(long x) { return (struct mixed){x + 1, (double)x / 8}; }
static __attribute__((noinline)) struct big mk_big(int seed) {
  struct big b;
  for (int i = 0; i < 6; i++) b.v[i] = seed * (i + 1);
  snprintf(b.tag, sizeof b.tag, "tag%05d", seed);
  return b;
}
static __attribute__((noinline)) long take_big(struct big b, struct two t, struct twod d) {
  long s = t.a + t.b + (long)(d.x + d.y);
  for (int i = 0; i < 6; i++) s += b.v[i];
  return s + (long)strlen(b.tag);
}

static __attribute__((noinline)) int fmt(char *out, size_t n, const char *f, ...) {
  va_list ap, ap2;
  va_start(ap, f);
  va_copy(ap2, ap);
  int r1 = vsnprintf(NULL, 0, f, ap);
  int r2 = vsnprintf(out, n, f, ap2);
  va_end(ap2);
  va_end(ap);
  return r1 * 1000 + r2;
}

static __attribute__((noinline)) long use_alloca(int n) {
  volatile char *p = alloca((size_t)n);
  for (int i = 0; i < n; i++) p[i] = (char)i;
  long s = 0;
  for (int i = 0; i < n; i++) s += p[i];
  return s;
}

int main(void) {
  printf("vsum = %.3f\n", vsum(9, 1, 2L, 3.5, 4, 5L, 6.25, 7, 8L, 9.125));
  printf("vsum many = %.3f\n", vsum(15, 1, 2L, 0.5, 1, 2L, 0.5, 1, 2L, 0.5, 1, 2L, 0.5, 1, 2L, 0.5));
  printf("many = %ld\n", many(1, 2, 3, 4, 5, 6, 7, 8, 9, 10));
  printf("manyd = %.4f\n", manyd(1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 7.5, 8.5, 9.5, 10.5, 3, 0.25f));
  struct two t = mk_two(21);
  struct twod d = mk_twod(3.0);
  struct mixed m = mk_mixed(80);
  struct big b = mk_big(7);
  printf("two %ld %ld twod %.2f %.2f mixed %ld %.3f big %ld..%ld %s\n", t.a, t.b, d.x, d.y, m.a, m.b, b.v[0], b.v[5], b.tag);
  printf("take_big = %ld\n", take_big(b, t, d));
  char buf[32];
  int r = fmt(buf, sizeof buf, "%s-%d-%.2f-%c-%lu", "varargs", -17, 2.0 / 3.0, 'Z', 123456789UL);
  printf("fmt r=%d '%s'\n", r, buf);
  long s = 0;
  for (int n = 1; n < 5000; n *= 3) s += use_alloca(n);
  printf("alloca sum = %ld\n", s);
  return 0;
}
