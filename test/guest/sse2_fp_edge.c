// SSE2 floating-point corners beyond the everyday ones: packed float->int conversions of
// out-of-range values and NaN (cvtps2dq, cvttps2dq, cvtpd2dq, cvttpd2dq give 0x80000000, the
// "integer indefinite"), and the MXCSR rounding field controlling cvtps2dq/cvtpd2dq/cvtsd2si and
// arithmetic.
#include <emmintrin.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static void show(const char *name, __m128i v) {
  uint64_t q[2];
  memcpy(q, &v, 16);
  printf("%-34s %016llx%016llx\n", name, (unsigned long long)q[1], (unsigned long long)q[0]);
}
#define SHOWI(e) show(#e, (e))
#define SHOWPS(e) show(#e, _mm_castps_si128(e))
#define SHOWPD(e) show(#e, _mm_castpd_si128(e))

int main(void) {
  volatile float fz = 0.0f;
  float qnan = fz / fz, inf = 1.0f / fz;
  volatile float b1 = 3e9f, b2 = 2147483648.0f, b3 = 2147483520.0f;
  __m128 big = _mm_set_ps(b1, -b1, b2, -b2);
  __m128 odd = _mm_set_ps(qnan, inf, -inf, b3);
  SHOWI(_mm_cvtps_epi32(big)); SHOWI(_mm_cvttps_epi32(big));
  SHOWI(_mm_cvtps_epi32(odd)); SHOWI(_mm_cvttps_epi32(odd));
  volatile double dz = 0.0;
  volatile double d1 = 3e10, d2 = -2147483648.5, d3 = -2147483649.0;
  __m128d dbig = _mm_set_pd(d1, d2), dodd = _mm_set_pd(dz / dz, d3);
  SHOWI(_mm_cvtpd_epi32(dbig)); SHOWI(_mm_cvttpd_epi32(dbig));
  SHOWI(_mm_cvtpd_epi32(dodd)); SHOWI(_mm_cvttpd_epi32(dodd));

  unsigned csr = _mm_getcsr();
  static const unsigned modes[] = {0x0000, 0x2000, 0x4000, 0x6000};
  static const char *names[] = {"nearest", "down", "up", "zero"};
  for (int m = 0; m < 4; m++) {
    _mm_setcsr((csr & ~0x6000u) | modes[m]);
    printf("rounding %s (mxcsr %04x)\n", names[m], _mm_getcsr() & 0xffc0);
    volatile float h = 2.5f, g = 1.5f;
    volatile double hd = 0.5, td = 2.5, sd = -2.7;
    __m128 r = _mm_set_ps(-h, -g, g, h);
    SHOWI(_mm_cvtps_epi32(r));
    SHOWI(_mm_cvtpd_epi32(_mm_set_pd(-hd, hd)));
    printf("  cvtsd2si(2.5)=%d cvtss2si(-2.5)=%d cvttsd2si(-2.7)=%d\n", _mm_cvtsd_si32(_mm_set_sd(td)),
           _mm_cvtss_si32(_mm_set_ss(-h)), _mm_cvttsd_si32(_mm_set_sd(sd)));
    volatile float one = 1.0f, three = 3.0f;
    volatile double d1 = 1.0, d3 = 3.0;
    SHOWPS(_mm_div_ps(_mm_set1_ps(one), _mm_set_ps(three, -three, 7.0f, -7.0f)));
    SHOWPD(_mm_div_pd(_mm_set1_pd(d1), _mm_set_pd(d3, -d3)));
    SHOWPS(_mm_cvtpd_ps(_mm_set_pd(d1 / d3, -d1 / d3)));
    SHOWPD(_mm_sqrt_pd(_mm_set_pd(2.0, 3.0)));
  }
  _mm_setcsr(csr);
  return 0;
}
