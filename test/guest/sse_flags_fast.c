// MXCSR exception flags raised by SSE arithmetic before the program ever sets a rounding mode
// (usmjit's inline "fast" translations; issue 13): a division then fetestexcept(FE_ALL_EXCEPT)
// with no fesetround/feclearexcept before it, then each flag alone (stmxcsr shows DE too),
// scalar and packed, float32 and float64, conversions, exact results that must raise nothing,
// and flags after feclearexcept/_mm_setcsr writes of MXCSR that only clear flags.
#include <emmintrin.h>
#include <fenv.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static unsigned flags(void) { return _mm_getcsr() & 0x3f; }

static double dbits(uint64_t u) { double d; memcpy(&d, &u, 8); return d; }

int main(void) {
  volatile double one = 1.0, three = 3.0, zero = 0.0, big = 1e308, tiny = 1e-308, m1 = -1.0;
  volatile float fone = 1.0f, fthree = 3.0f, fbig = 3e38f, ftiny = 1e-38f;
  volatile double r;
  volatile float fr;
  volatile long l;

  // The case: the very first flags the program looks at.
  r = one / three;
  printf("first division: fetestexcept=%#x mxcsr flags=%#x\n", fetestexcept(FE_ALL_EXCEPT), flags());
  r = one / zero;
  printf("then 1/0: %#x\n", fetestexcept(FE_ALL_EXCEPT));
  r = big * 10.0;
  printf("then overflow: %#x\n", fetestexcept(FE_ALL_EXCEPT));
  r = tiny / 1e10;
  printf("then underflow: %#x\n", fetestexcept(FE_ALL_EXCEPT));
  r = zero / zero;
  printf("then 0/0: %#x\n", fetestexcept(FE_ALL_EXCEPT));
  r = dbits(1) + 1.0; // a denormal operand: DE, which fenv does not report
  printf("then denormal operand: mxcsr flags=%#x\n", flags());

  // Each flag alone, after clearing all six (an ldmxcsr that keeps the default control).
  struct { const char *name; int which; } cases[] = {
    {"exact 1.5*2 (none)", 0}, {"1/3 (PE)", 1}, {"1/0 (ZE)", 2}, {"0/0 (IE)", 3}, {"sqrt(-1) (IE)", 4},
    {"1e308*10 (OE PE)", 5}, {"1e-308/1e10 (UE PE)", 6}, {"1e-308*0.5 exact? (UE?)", 7},
    {"denormal+1 (DE PE)", 8}, {"3e38f*10 (OE PE)", 9}, {"1e-38f/1e10f (UE PE)", 10},
    {"1f/3f (PE)", 11}, {"(float)0.1 (PE)", 12}, {"(int)1e10 (IE)", 13}, {"(int)2.5 (PE)", 14},
    {"(long)-1.0 exact (none)", 15}, {"(double)(1<<62)+1 (PE)", 16}, {"nan < 1 (IE)", 17},
    {"nan == 1 (none)", 18}, {"inf - inf (IE)", 19}, {"packed 1/3, 1/0 (ZE PE)", 20},
    {"packed f32 mul overflow (OE PE)", 21}, {"min(nan, 1) (IE)", 22}, {"x*0 (none)", 23},
    {"x-x (none)", 24}, {"1e300*1e-300 (PE?)", 25},
  };
  for (unsigned k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    _mm_setcsr(_mm_getcsr() & ~0x3fu);
    volatile double qnan = NAN;
    switch (cases[k].which) {
      case 0: r = 1.5 * (one + one); break;
      case 1: r = one / three; break;
      case 2: r = one / zero; break;
      case 3: r = zero / zero; break;
      case 4: r = sqrt(m1); break;
      case 5: r = big * 10.0; break;
      case 6: r = tiny / 1e10; break;
      case 7: r = tiny * 0.5; break;
      case 8: r = dbits(3) + one; break;
      case 9: fr = fbig * 10.0f; break;
      case 10: fr = ftiny / 1e10f; break;
      case 11: fr = fone / fthree; break;
      case 12: fr = (float)(one / 10.0); break;
      case 13: l = (int)(big / 1e298); break;
      case 14: l = (int)(three - 0.5); break;
      case 15: l = (long)m1; break;
      case 16: { volatile long x = (1L << 62) + 1; r = (double)x; break; }
      case 17: l = qnan < one; break;
      case 18: l = qnan == one; break;
      case 19: r = (big * 10.0) - (big * 10.0); break;
      case 20: { __m128d v = _mm_div_pd(_mm_set_pd(one, one), _mm_set_pd(three, zero)); r = _mm_cvtsd_f64(v); break; }
      case 21: { __m128 v = _mm_mul_ps(_mm_set1_ps(fbig), _mm_set_ps(1.0f, 1.0f, 1.0f, fthree)); fr = _mm_cvtss_f32(v); break; }
      case 22: { __m128d v = _mm_min_sd(_mm_set_sd(qnan), _mm_set_sd(one)); r = _mm_cvtsd_f64(v); break; }
      case 23: r = three * zero; break;
      case 24: r = three - three; break;
      case 25: r = 1e300 * (tiny * 1e8); break;
    }
    printf("%-32s flags=%#04x\n", cases[k].name, flags());
  }

  // A long run of exact arithmetic must leave PE clear; one inexact operation sets it.
  feclearexcept(FE_ALL_EXCEPT);
  volatile double acc = 0;
  for (int i = 0; i < 100000; i++) acc = acc + (double)i * 2.0 - 1.0;
  printf("exact loop: acc=%.1f flags=%#x\n", acc, flags());
  acc = acc / three;
  printf("then one division: flags=%#x\n", flags());
  (void)r; (void)fr; (void)l;
  return 0;
}
