// The x87 control and status words through <fenv.h> and <fpu_control.h>: long double arithmetic,
// conversions and rintl/lrintl under the four rounding modes, precision control (24/53/64 bits),
// the exception flags long double operations raise (read back with fetestexcept, which reads the
// x87 status word with fnstsw), fegetenv/fesetenv (fnstenv/fldenv), feholdexcept.
// Only long double (x87) operations happen between clearing and testing the flags.
#include <fenv.h>
#include <fpu_control.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static volatile long double one = 1.0L, three = 3.0L, zero = 0.0L, tiny = 0x1p-16000L, huge = 0x1p+16000L;
static volatile long double vals[] = {2.5L, -2.5L, 3.5L, 0.5L, -0.5L, 1.25L, -1.75L, 1e10L + 0.5L, 0x1.fffffffffffffffep+0L,
                                      1.0L / 3.0L};

static void bits(const char *tag, long double x) {
  uint64_t m;
  uint16_t se;
  memcpy(&m, &x, 8);
  memcpy(&se, (char *)&x + 8, 2);
  printf(" %s=%04x:%016llx", tag, se, (unsigned long long)m);
}

static const char *flags_str(int f) {
  static char buf[64];
  snprintf(buf, sizeof buf, "%s%s%s%s%s", f & FE_INVALID ? "I" : "-", f & FE_DIVBYZERO ? "Z" : "-",
           f & FE_OVERFLOW ? "O" : "-", f & FE_UNDERFLOW ? "U" : "-", f & FE_INEXACT ? "P" : "-");
  return buf;
}

#define TRY(name, expr)                                         \
  do {                                                          \
    feclearexcept(FE_ALL_EXCEPT);                               \
    volatile long double r_ = (expr);                           \
    int f_ = fetestexcept(FE_ALL_EXCEPT);                       \
    printf("  %-10s %s", name, flags_str(f_));                  \
    bits("r", r_);                                              \
    printf("\n");                                               \
  } while (0)

int main(void) {
  static const int modes[] = {FE_TONEAREST, FE_DOWNWARD, FE_UPWARD, FE_TOWARDZERO};
  static const char *names[] = {"nearest", "down", "up", "zero"};
  for (int k = 0; k < 4; k++) {
    fesetround(modes[k]);
    printf("mode %s (fegetround ok=%d)\n", names[k], fegetround() == modes[k]);
    long double third = one / three;
    bits("1/3", third);
    bits("-1/3", -one / three);
    bits("sqrt2", sqrtl(2.0L * one));
    bits("sum", (one + tiny) + 0x1p-64L);
    printf("\n");
    printf("  double(1/3)=%a float(1/3)=%a double(-1/3)=%a\n", (double)third, (double)(float)third,
           (double)(-third));
    for (unsigned i = 0; i < sizeof vals / sizeof vals[0]; i++) {
      long double v = vals[i];
      printf("  v=%La rint=%La nearbyint=%La lrint=%ld llrint=%lld (long)=%ld\n", v, rintl(v), nearbyintl(v), lrintl(v),
             llrintl(v), (long)v);
    }
    TRY("1/0", one / zero);
    TRY("0/0", zero / zero);
    TRY("huge*huge", huge * huge);
    TRY("tiny*tiny", tiny * tiny);
    TRY("tiny/4", tiny * 0x1p-400L);
    TRY("1/3", one / three);
    TRY("1+1", one + one);
    TRY("sqrt(-1)", sqrtl(-one));
    TRY("inf-inf", (huge * huge) - (huge * huge));
    TRY("(double)", (long double)(double)(one / three));
  }
  fesetround(FE_TONEAREST);

  // Precision control: single, double and extended.
  static const struct { fpu_control_t pc; const char *name; } pcs[] = {
      {_FPU_SINGLE, "single"}, {_FPU_DOUBLE, "double"}, {_FPU_EXTENDED, "extended"}};
  fpu_control_t saved;
  _FPU_GETCW(saved);
  printf("default cw=%#x\n", (unsigned)saved);
  for (int k = 0; k < 3; k++) {
    fpu_control_t cw = (saved & ~_FPU_EXTENDED) | pcs[k].pc;
    _FPU_SETCW(cw);
    fpu_control_t back;
    _FPU_GETCW(back);
    printf("pc %s cw=%#x", pcs[k].name, (unsigned)back);
    bits("1/3", one / three);
    bits("1+2^-40", one + 0x1p-40L);
    bits("sqrt3", sqrtl(three));
    bits("3*1/3", three * (one / three));
    bits("tiny*0.5", tiny * 0.5L);
    printf("\n");
  }
  _FPU_SETCW(saved);

  // Environments: save, change, restore (fnstenv/fldenv). feraiseexcept, feupdateenv and
  // fesetexceptflag raise or set flags through SSE/MXCSR, so they are not used here.
  fenv_t env, held;
  feclearexcept(FE_ALL_EXCEPT);
  volatile long double r = one / three;
  fegetenv(&env);
  fesetround(FE_UPWARD);
  r = one / zero;
  printf("after change: round up=%d flags=%s\n", fegetround() == FE_UPWARD, flags_str(fetestexcept(FE_ALL_EXCEPT)));
  fesetenv(&env);
  printf("restored: nearest=%d flags=%s\n", fegetround() == FE_TONEAREST, flags_str(fetestexcept(FE_ALL_EXCEPT)));
  feholdexcept(&held);
  printf("held: flags=%s\n", flags_str(fetestexcept(FE_ALL_EXCEPT)));
  r = zero / zero;
  printf("held 0/0: flags=%s\n", flags_str(fetestexcept(FE_ALL_EXCEPT)));
  fexcept_t saved_flags;
  fegetexceptflag(&saved_flags, FE_ALL_EXCEPT);
  fesetenv(&held);
  printf("back: flags=%s", flags_str(fetestexcept(FE_ALL_EXCEPT)));
  printf(" saved=%s\n", flags_str(saved_flags & FE_ALL_EXCEPT));
  (void)r;
  return 0;
}
