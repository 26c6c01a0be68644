// SSE/SSE2 instructions one by one through intrinsics, with edge cases: saturating and averaging
// arithmetic, multiplies (pmulhw, pmuludq, pmaddwd), psadbw, packs/unpacks, shuffles, byte shifts,
// shifts by immediate and by xmm count (including counts >= element width), movemask, compares
// with NaN, min/max operand order with NaN and -0.0, comisd/ucomisd flags, conversions with
// out-of-range scalar values (the "integer indefinite" 0x80000000), movd/movq. Packed conversions
// of out-of-range values and MXCSR rounding are in sse2_fp_edge.c.
#include <emmintrin.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static unsigned long long h;
static void show(const char *name, __m128i v) {
  uint64_t q[2];
  memcpy(q, &v, 16);
  printf("%-14s %016llx%016llx\n", name, (unsigned long long)q[1], (unsigned long long)q[0]);
  h = (h ^ q[0]) * 0x100000001b3ULL;
  h = (h ^ q[1]) * 0x100000001b3ULL;
}
#define SHOWI(e) show(#e, (e))
#define SHOWPS(e) show(#e, _mm_castps_si128(e))
#define SHOWPD(e) show(#e, _mm_castpd_si128(e))

int main(void) {
  volatile int32_t seed = 0x1234567;
  __m128i a = _mm_set_epi32(0x7fff8000, (int)0x80017ffe, (int)0xff00ff7f, 0x0180fe01 ^ seed);
  __m128i b = _mm_set_epi32((int)0x80808080, 0x7f7f7f7f, 0x00ff1234, (int)0xfedcba98);
  __m128i c = _mm_set_epi16(-32768, 32767, -1, 1, 300, -300, 12345, -12345);

  SHOWI(_mm_add_epi8(a, b)); SHOWI(_mm_add_epi16(a, b)); SHOWI(_mm_add_epi32(a, b)); SHOWI(_mm_add_epi64(a, b));
  SHOWI(_mm_sub_epi8(a, b)); SHOWI(_mm_sub_epi16(a, b)); SHOWI(_mm_sub_epi32(a, b)); SHOWI(_mm_sub_epi64(a, b));
  SHOWI(_mm_adds_epi8(a, b)); SHOWI(_mm_adds_epi16(a, b)); SHOWI(_mm_adds_epu8(a, b)); SHOWI(_mm_adds_epu16(a, b));
  SHOWI(_mm_subs_epi8(a, b)); SHOWI(_mm_subs_epi16(a, b)); SHOWI(_mm_subs_epu8(a, b)); SHOWI(_mm_subs_epu16(a, b));
  SHOWI(_mm_avg_epu8(a, b)); SHOWI(_mm_avg_epu16(a, b));
  SHOWI(_mm_mullo_epi16(a, c)); SHOWI(_mm_mulhi_epi16(a, c)); SHOWI(_mm_mulhi_epu16(a, c));
  SHOWI(_mm_mul_epu32(a, b)); SHOWI(_mm_madd_epi16(a, c)); SHOWI(_mm_sad_epu8(a, b));
  SHOWI(_mm_min_epu8(a, b)); SHOWI(_mm_max_epu8(a, b)); SHOWI(_mm_min_epi16(a, c)); SHOWI(_mm_max_epi16(a, c));
  SHOWI(_mm_cmpeq_epi8(a, b)); SHOWI(_mm_cmpgt_epi8(a, b)); SHOWI(_mm_cmplt_epi8(a, b));
  SHOWI(_mm_cmpeq_epi16(a, a)); SHOWI(_mm_cmpgt_epi16(a, c)); SHOWI(_mm_cmpeq_epi32(a, b)); SHOWI(_mm_cmpgt_epi32(a, b));
  SHOWI(_mm_and_si128(a, b)); SHOWI(_mm_andnot_si128(a, b)); SHOWI(_mm_or_si128(a, b)); SHOWI(_mm_xor_si128(a, b));
  SHOWI(_mm_packs_epi16(a, c)); SHOWI(_mm_packus_epi16(a, c)); SHOWI(_mm_packs_epi32(a, b));
  SHOWI(_mm_unpacklo_epi8(a, b)); SHOWI(_mm_unpackhi_epi8(a, b)); SHOWI(_mm_unpacklo_epi16(a, b));
  SHOWI(_mm_unpackhi_epi16(a, b)); SHOWI(_mm_unpacklo_epi32(a, b)); SHOWI(_mm_unpackhi_epi32(a, b));
  SHOWI(_mm_unpacklo_epi64(a, b)); SHOWI(_mm_unpackhi_epi64(a, b));
  SHOWI(_mm_shuffle_epi32(a, 0x1b)); SHOWI(_mm_shuffle_epi32(a, 0xe4)); SHOWI(_mm_shuffle_epi32(b, 0x55));
  SHOWI(_mm_shufflelo_epi16(a, 0x1b)); SHOWI(_mm_shufflehi_epi16(a, 0xb1));
  SHOWI(_mm_slli_si128(a, 1)); SHOWI(_mm_slli_si128(a, 7)); SHOWI(_mm_slli_si128(a, 15));
  SHOWI(_mm_srli_si128(a, 1)); SHOWI(_mm_srli_si128(a, 9)); SHOWI(_mm_srli_si128(a, 15));
  SHOWI(_mm_slli_epi16(a, 3)); SHOWI(_mm_slli_epi32(a, 31)); SHOWI(_mm_slli_epi64(a, 33));
  SHOWI(_mm_srli_epi16(a, 15)); SHOWI(_mm_srli_epi32(a, 7)); SHOWI(_mm_srli_epi64(a, 63));
  SHOWI(_mm_srai_epi16(a, 4)); SHOWI(_mm_srai_epi32(a, 31));
  volatile int cnts[] = {0, 1, 7, 15, 16, 31, 32, 63, 64, 200};
  for (int i = 0; i < 10; i++) {
    __m128i n = _mm_cvtsi32_si128(cnts[i]);
    printf("count %d:\n", cnts[i]);
    SHOWI(_mm_sll_epi16(a, n)); SHOWI(_mm_sll_epi32(a, n)); SHOWI(_mm_sll_epi64(a, n));
    SHOWI(_mm_srl_epi16(a, n)); SHOWI(_mm_srl_epi32(a, n)); SHOWI(_mm_srl_epi64(a, n));
    SHOWI(_mm_sra_epi16(a, n)); SHOWI(_mm_sra_epi32(a, n));
  }
  printf("movemask_epi8 %04x %04x\n", _mm_movemask_epi8(a), _mm_movemask_epi8(b));
  printf("extract/insert %d ", _mm_extract_epi16(a, 3));
  SHOWI(_mm_insert_epi16(a, 0xbeef, 5));
  printf("cvtsi128 %d %lld\n", _mm_cvtsi128_si32(b), (long long)_mm_cvtsi128_si64(b));
  SHOWI(_mm_cvtsi64_si128(0x1122334455667788LL)); SHOWI(_mm_move_epi64(b));

  /* floating point */
  volatile float fz = 0.0f;
  float qnan = fz / fz, inf = 1.0f / fz;
  __m128 fa = _mm_set_ps(-0.0f, 1.5f, qnan, -3.25f);
  __m128 fb = _mm_set_ps(0.0f, qnan, 2.0f, inf);
  __m128 fc = _mm_set_ps(3e9f, -2.5f, 2.5f, 1e-40f);
  SHOWPS(_mm_add_ps(fa, fb)); SHOWPS(_mm_sub_ps(fa, fc)); SHOWPS(_mm_mul_ps(fa, fc)); SHOWPS(_mm_div_ps(fc, fa));
  SHOWPS(_mm_sqrt_ps(fc)); SHOWPS(_mm_min_ps(fa, fb)); SHOWPS(_mm_max_ps(fa, fb)); SHOWPS(_mm_min_ps(fb, fa));
  SHOWPS(_mm_max_ps(fb, fa)); SHOWPS(_mm_add_ss(fa, fc)); SHOWPS(_mm_min_ss(fc, fa)); SHOWPS(_mm_sqrt_ss(fc));
  SHOWPS(_mm_cmpeq_ps(fa, fb)); SHOWPS(_mm_cmplt_ps(fa, fb)); SHOWPS(_mm_cmple_ps(fa, fb)); SHOWPS(_mm_cmpunord_ps(fa, fb));
  SHOWPS(_mm_cmpneq_ps(fa, fb)); SHOWPS(_mm_cmpnlt_ps(fa, fb)); SHOWPS(_mm_cmpord_ps(fa, fb)); SHOWPS(_mm_cmpgt_ss(fa, fb));
  SHOWPS(_mm_and_ps(fa, fc)); SHOWPS(_mm_andnot_ps(fa, fc)); SHOWPS(_mm_or_ps(fa, fc)); SHOWPS(_mm_xor_ps(fa, fc));
  SHOWPS(_mm_shuffle_ps(fa, fc, 0x4e)); SHOWPS(_mm_unpacklo_ps(fa, fc)); SHOWPS(_mm_unpackhi_ps(fa, fc));
  SHOWPS(_mm_movehl_ps(fa, fc)); SHOWPS(_mm_movelh_ps(fa, fc)); SHOWPS(_mm_move_ss(fa, fc));
  printf("movmskps %x %x %x\n", _mm_movemask_ps(fa), _mm_movemask_ps(fb), _mm_movemask_ps(fc));
  __m128 fin = _mm_set_ps(-2.5f, 1.5f, 0.5f, -7.75f);
  SHOWI(_mm_cvtps_epi32(fin)); SHOWI(_mm_cvttps_epi32(fin));
  SHOWPS(_mm_cvtepi32_ps(a));

  volatile double dz = 0.0;
  double dnan = dz / dz, dinf = 1.0 / dz;
  __m128d da = _mm_set_pd(-2.5, dnan), db = _mm_set_pd(1e300, 7.0), dc = _mm_set_pd(-0.0, 2.5e-310);
  SHOWPD(_mm_add_pd(da, db)); SHOWPD(_mm_mul_pd(db, db)); SHOWPD(_mm_div_pd(db, dc)); SHOWPD(_mm_sqrt_pd(db));
  SHOWPD(_mm_min_pd(da, db)); SHOWPD(_mm_max_pd(db, da)); SHOWPD(_mm_min_pd(dc, _mm_setzero_pd()));
  SHOWPD(_mm_max_pd(_mm_setzero_pd(), dc)); SHOWPD(_mm_cmplt_pd(da, db)); SHOWPD(_mm_cmpunord_pd(da, db));
  SHOWPD(_mm_cmpnle_pd(da, db)); SHOWPD(_mm_shuffle_pd(da, db, 1)); SHOWPD(_mm_unpackhi_pd(da, db));
  SHOWPD(_mm_add_sd(db, dc)); SHOWPD(_mm_sub_sd(dc, db)); SHOWPD(_mm_mul_sd(da, db)); SHOWPD(_mm_div_sd(db, da));
  SHOWPD(_mm_sqrt_sd(da, db)); SHOWPD(_mm_andnot_pd(dc, db));
  printf("movmskpd %x %x\n", _mm_movemask_pd(da), _mm_movemask_pd(dc));
  SHOWPS(_mm_cvtpd_ps(db)); SHOWPD(_mm_cvtps_pd(fc)); SHOWI(_mm_cvtpd_epi32(_mm_set_pd(-1.5, 2.5)));
  SHOWI(_mm_cvttpd_epi32(_mm_set_pd(-1.5, 3.99))); SHOWPD(_mm_cvtepi32_pd(a));
  SHOWPD(_mm_cvtsi32_sd(da, -7)); SHOWPD(_mm_cvtss_sd(da, fc)); SHOWPS(_mm_cvtsd_ss(fa, db));
  volatile double conv[] = {0.5, 1.5, 2.5, -0.5, -1.5, 2147483647.0, 2147483648.0, -2147483649.0, 1e20, -1e20, dnan, dinf};
  for (int i = 0; i < 12; i++) {
    __m128d v = _mm_set_sd(conv[i]);
    printf("cvt %g: sd2si=%d tsd2si=%d sd2si64=%lld tsd2si64=%lld ss2si=%d\n", conv[i], _mm_cvtsd_si32(v),
           _mm_cvttsd_si32(v), (long long)_mm_cvtsd_si64(v), (long long)_mm_cvttsd_si64(v),
           _mm_cvtss_si32(_mm_set_ss((float)conv[i])));
  }
  /* comisd / ucomisd flags through the C intrinsics (each maps to a flag test) */
  volatile double cmpv[] = {1.0, 2.0, 1.0, dnan, -0.0, 0.0};
  for (int i = 0; i < 6; i++)
    for (int j = 0; j < 6; j++) {
      __m128d x = _mm_set_sd(cmpv[i]), y = _mm_set_sd(cmpv[j]);
      printf("%d", _mm_comieq_sd(x, y) | _mm_comilt_sd(x, y) << 1 | _mm_comile_sd(x, y) << 2 |
                       _mm_comigt_sd(x, y) << 3 | _mm_comige_sd(x, y) << 4 | _mm_comineq_sd(x, y) << 5 |
                       _mm_ucomieq_sd(x, y) << 6 | _mm_ucomilt_sd(x, y) << 7);
      printf(j == 5 ? "\n" : " ");
    }
  printf("sse2_intrin hash %016llx\n", h);
  return 0;
}
