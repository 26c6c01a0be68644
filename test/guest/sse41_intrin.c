// CFLAGS: -O3 -msse4.1 -fno-math-errno
// SSE3, SSSE3 and SSE4.1 through intrinsics, with edge cases: horizontal float adds with NaN, inf
// and -0.0; pshufb with bit 7 set in the control bytes; saturating horizontal adds, pmaddubsw and
// pmulhrsw at the limits (-32768 * -32768); psign with zero and negative selectors; palignr with
// counts 0..32; blends, blendv on xmm0's sign bits; ptest's ZF/CF; all twelve pmovsx/pmovzx; the
// new min/max, pmulld, pmuldq, pcmpeqq, packusdw, phminposuw (ties); pextr/pinsr/extractps/
// insertps; round{ps,pd,ss,sd} in all four modes and with MXCSR.RC (_MM_FROUND_CUR_DIRECTION,
// .5 ties, NaN, inf, -0.0, huge values); dpps/dppd masks (see show_dp_nans); mpsadbw offsets;
// movntdqa.
// Then loops gcc -O3 -msse4.1 auto-vectorises (pmulld, pminsd/pmaxud, pmovzx/pmovsx widening,
// pcmpeqq, blendv selects, pabsd, roundps for floorf/ceilf/truncf/rintf).
#include <smmintrin.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static unsigned long long h;
static void show(const char *name, __m128i v) {
  uint64_t q[2];
  memcpy(q, &v, 16);
  printf("%-44s %016llx%016llx\n", name, (unsigned long long)q[1], (unsigned long long)q[0]);
  h = (h ^ q[0]) * 0x100000001b3ULL;
  h = (h ^ q[1]) * 0x100000001b3ULL;
}
/* Like show(), for a dpps result in which several NaNs meet in the sum: a NaN lane prints as `nan`
 * and enters the hash as the default NaN 7fc00000, whichever NaN it is; a non-NaN lane prints its
 * bits. Intel's dpps/dppd (measured on a family 6 Xeon) pick among several NaN operands of the
 * sum in an order that differs from the SDM's pseudo-code (p0+p1)+(p2+p3), and differently per
 * destination lane: _mm_dp_ps(f1, f2, 0xff) below gives 7fc00000 7fc00000 ffc00000 ffc00000 there,
 * and ffc00000 in all four lanes on AMD and in usmjit, which follows the SDM. Which NaN is
 * microarchitectural and not modelled, so only that the lane is NaN is compared. The other dot
 * products, where at most one NaN reaches each sum and the result is the same in any order, are
 * still printed bit for bit with show(). */
static void show_dp_nans(const char *name, __m128 v) {
  uint32_t l[4];
  uint64_t q[2];
  char text[40], *p = text;
  memcpy(l, &v, 16);
  for (int i = 3; i >= 0; i--) {
    if ((l[i] & 0x7fffffffu) > 0x7f800000u) {
      l[i] = 0x7fc00000u;
      p += sprintf(p, "%8s", "nan");
    } else {
      p += sprintf(p, "%08x", l[i]);
    }
  }
  memcpy(q, l, 16);
  printf("%-44s %s\n", name, text);
  h = (h ^ q[0]) * 0x100000001b3ULL;
  h = (h ^ q[1]) * 0x100000001b3ULL;
}
#define SHOWI(e) show(#e, (e))
#define SHOWPS(e) show(#e, _mm_castps_si128(e))
#define SHOWPD(e) show(#e, _mm_castpd_si128(e))

/* Keeps a value in a register across the asm (orders it against ldmxcsr). */
#define PIN(v) __asm__ volatile("" : "+x"(v))

static void round_modes(const char *what, __m128 x, __m128d y) {
  static const char *rc[] = {"nearest", "down", "up", "zero"};
  unsigned saved = _mm_getcsr();
  for (int m = 0; m < 4; m++) {
    __m128 xs = x;
    __m128d ys = y;
    _mm_setcsr((saved & ~0x6000u) | ((unsigned)m << 13));
    PIN(xs); PIN(ys);
    __m128 r1 = _mm_round_ps(xs, _MM_FROUND_CUR_DIRECTION);
    __m128d r2 = _mm_round_pd(ys, _MM_FROUND_CUR_DIRECTION);
    __m128 r3 = _mm_round_ss(xs, xs, _MM_FROUND_CUR_DIRECTION | _MM_FROUND_NO_EXC);
    __m128d r4 = _mm_round_sd(ys, ys, _MM_FROUND_CUR_DIRECTION);
    PIN(r1); PIN(r2); PIN(r3); PIN(r4);
    _mm_setcsr(saved);
    printf("%s mxcsr.rc=%s\n", what, rc[m]);
    SHOWPS(r1); SHOWPD(r2); SHOWPS(r3); SHOWPD(r4);
  }
}

#define N 203
static int32_t ia[N], ib[N], ic[N];
static uint32_t ua[N], ub[N];
static int8_t sa[N], sb[N];
static uint16_t wa[N], wb[N];
static uint8_t bytes[N];
static int16_t shorts[N];
static int64_t la[N], lb[N];
static float fa[N], fr[N];

__attribute__((noinline)) static void loops(void) {
  for (int i = 0; i < N; i++) ic[i] = ia[i] * ib[i];
  for (int i = 0; i < N; i++) ic[i] += ia[i] < ib[i] ? ia[i] : ib[i];
  for (int i = 0; i < N; i++) ua[i] = ua[i] > ub[i] ? ua[i] : ub[i];
  for (int i = 0; i < N; i++) sa[i] = sa[i] < sb[i] ? sa[i] : sb[i];
  for (int i = 0; i < N; i++) wa[i] = wa[i] > wb[i] ? wa[i] : wb[i];
  int64_t sum = 0;
  for (int i = 0; i < N; i++) sum += bytes[i] * (int32_t)shorts[i];
  uint32_t usum = 0;
  for (int i = 0; i < N; i++) usum += bytes[i];
  int64_t lsum = 0;
  for (int i = 0; i < N; i++) lsum += ia[i];
  int eq = 0;
  for (int i = 0; i < N; i++) eq += la[i] == lb[i];
  for (int i = 0; i < N; i++) ib[i] = ia[i] > 0 ? ib[i] : ic[i];
  for (int i = 0; i < N; i++) ia[i] = ia[i] < 0 ? -ia[i] : ia[i];
  for (int i = 0; i < N; i++) fr[i] = floorf(fa[i]) + ceilf(fa[i]) * 2.0f + truncf(fa[i]) * 4.0f + rintf(fa[i]) * 8.0f;
  uint64_t x = 0;
  for (int i = 0; i < N; i++) x = (x ^ (uint32_t)ia[i] ^ ((uint64_t)(uint32_t)ib[i] << 32) ^ (uint32_t)ic[i] ^ ua[i]) * 0x100000001b3ULL;
  for (int i = 0; i < N; i++) x = (x ^ (uint8_t)sa[i] ^ ((uint64_t)wa[i] << 8)) * 0x100000001b3ULL;
  for (int i = 0; i < N; i++) { uint32_t b; memcpy(&b, &fr[i], 4); x = (x ^ b) * 0x100000001b3ULL; }
  printf("loops: sum=%lld usum=%u lsum=%lld eq=%d hash=%016llx\n", (long long)sum, usum, (long long)lsum, eq, (unsigned long long)x);
}

int main(void) {
  volatile int32_t seed = 0x1234567;
  __m128i a = _mm_set_epi32(0x7fff8000, (int)0x80017ffe, (int)0xff00ff7f, 0x0180fe01 ^ seed);
  __m128i b = _mm_set_epi32((int)0x80808080, 0x7f7f7f7f, 0x00ff1234, (int)0xfedcba98);
  __m128i c = _mm_set_epi16(-32768, 32767, -1, 1, 300, -300, 12345, -12345);
  __m128i d = _mm_set_epi16(-32768, -32768, 32767, -32768, 0, 2, -2, 16384);
  __m128i z = _mm_set_epi32(0, (int)0x80000000, -1, 0x7fffffff);

  /* SSE3 */
  volatile float fzero = 0.0f;
  float qnan = fzero / fzero, inf = 1.0f / fzero;
  __m128 f1 = _mm_set_ps(-0.0f, 1.5f, qnan, -3.25f);
  __m128 f2 = _mm_set_ps(0.0f, -qnan, 2.0f, inf);
  __m128 f3 = _mm_set_ps(3e38f, 3e38f, -inf, inf);
  __m128d d1 = _mm_set_pd(-0.0, (double)qnan);
  __m128d d2 = _mm_set_pd(1e308, 2.5);
  __m128d d3 = _mm_set_pd((double)inf, -(double)inf);
  SHOWPS(_mm_addsub_ps(f1, f2)); SHOWPS(_mm_addsub_ps(f3, f3)); SHOWPD(_mm_addsub_pd(d1, d2)); SHOWPD(_mm_addsub_pd(d3, d3));
  SHOWPS(_mm_hadd_ps(f1, f2)); SHOWPS(_mm_hadd_ps(f2, f3)); SHOWPS(_mm_hsub_ps(f1, f3)); SHOWPS(_mm_hsub_ps(f3, f2));
  SHOWPD(_mm_hadd_pd(d1, d2)); SHOWPD(_mm_hadd_pd(d3, d2)); SHOWPD(_mm_hsub_pd(d2, d3)); SHOWPD(_mm_hsub_pd(d3, d1));
  SHOWPD(_mm_movedup_pd(d2)); SHOWPS(_mm_movehdup_ps(f1)); SHOWPS(_mm_moveldup_ps(f1));
  static const double dd[2] = {1.25, -7.5};
  SHOWPD(_mm_loaddup_pd(&dd[1]));
  unsigned char buf[48];
  for (int i = 0; i < 48; i++) buf[i] = (unsigned char)(i * 37 + 11);
  for (int off = 0; off < 16; off += 5) SHOWI(_mm_lddqu_si128((const __m128i *)(buf + off)));

  /* SSSE3 */
  __m128i ctl = _mm_set_epi8((char)0x80, 0x0f, (char)0x8f, 0x10, 0x7f, 1, 2, 3, (char)0xff, 0, 14, (char)0x90, 5, 5, 5, 0x4c);
  SHOWI(_mm_shuffle_epi8(a, ctl)); SHOWI(_mm_shuffle_epi8(b, a)); SHOWI(_mm_shuffle_epi8(c, b));
  SHOWI(_mm_hadd_epi16(c, d)); SHOWI(_mm_hadd_epi32(a, b)); SHOWI(_mm_hadds_epi16(c, d)); SHOWI(_mm_hadds_epi16(d, d));
  SHOWI(_mm_hsub_epi16(c, d)); SHOWI(_mm_hsub_epi32(a, z)); SHOWI(_mm_hsubs_epi16(c, d)); SHOWI(_mm_hsubs_epi16(d, c));
  SHOWI(_mm_maddubs_epi16(a, b)); SHOWI(_mm_maddubs_epi16(b, a)); SHOWI(_mm_maddubs_epi16(_mm_set1_epi8((char)0xff), _mm_set1_epi8((char)0x80)));
  SHOWI(_mm_maddubs_epi16(_mm_set1_epi8((char)0xff), _mm_set1_epi8(0x7f)));
  SHOWI(_mm_mulhrs_epi16(c, d)); SHOWI(_mm_mulhrs_epi16(d, d)); SHOWI(_mm_mulhrs_epi16(c, c));
  SHOWI(_mm_sign_epi8(a, b)); SHOWI(_mm_sign_epi8(b, c)); SHOWI(_mm_sign_epi16(c, d)); SHOWI(_mm_sign_epi16(d, c));
  SHOWI(_mm_sign_epi32(a, z)); SHOWI(_mm_sign_epi32(z, b));
  SHOWI(_mm_abs_epi8(a)); SHOWI(_mm_abs_epi8(b)); SHOWI(_mm_abs_epi16(c)); SHOWI(_mm_abs_epi16(d)); SHOWI(_mm_abs_epi32(z));
  SHOWI(_mm_alignr_epi8(a, b, 0)); SHOWI(_mm_alignr_epi8(a, b, 1)); SHOWI(_mm_alignr_epi8(a, b, 7));
  SHOWI(_mm_alignr_epi8(a, b, 15)); SHOWI(_mm_alignr_epi8(a, b, 16)); SHOWI(_mm_alignr_epi8(a, b, 17));
  SHOWI(_mm_alignr_epi8(a, b, 31)); SHOWI(_mm_alignr_epi8(a, b, 32)); SHOWI(_mm_alignr_epi8(a, b, 200));

  /* SSE4.1: blends and ptest */
  SHOWI(_mm_blend_epi16(a, b, 0x00)); SHOWI(_mm_blend_epi16(a, b, 0xa5)); SHOWI(_mm_blend_epi16(a, b, 0xff));
  SHOWPS(_mm_blend_ps(f1, f2, 0x6)); SHOWPS(_mm_blend_ps(f1, f3, 0x9)); SHOWPD(_mm_blend_pd(d1, d2, 1)); SHOWPD(_mm_blend_pd(d1, d2, 2));
  SHOWI(_mm_blendv_epi8(a, b, c)); SHOWI(_mm_blendv_epi8(b, a, ctl));
  SHOWPS(_mm_blendv_ps(f1, f2, _mm_castsi128_ps(z))); SHOWPS(_mm_blendv_ps(f2, f3, f1));
  SHOWPD(_mm_blendv_pd(d1, d2, _mm_castsi128_pd(b))); SHOWPD(_mm_blendv_pd(d2, d3, d1));
  __m128i pairs[][2] = {{a, b}, {a, a}, {a, _mm_andnot_si128(a, b)}, {b, _mm_and_si128(a, b)}, {_mm_setzero_si128(), a}, {z, _mm_setzero_si128()}};
  for (int i = 0; i < 6; i++) {
    __m128i p = pairs[i][0], q = pairs[i][1];
    printf("ptest %d: testz=%d testc=%d testnzc=%d\n", i, _mm_testz_si128(p, q), _mm_testc_si128(p, q), _mm_testnzc_si128(p, q));
  }

  /* widening moves, register and memory */
  SHOWI(_mm_cvtepi8_epi16(b)); SHOWI(_mm_cvtepi8_epi32(b)); SHOWI(_mm_cvtepi8_epi64(b));
  SHOWI(_mm_cvtepi16_epi32(c)); SHOWI(_mm_cvtepi16_epi64(d)); SHOWI(_mm_cvtepi32_epi64(z));
  SHOWI(_mm_cvtepu8_epi16(b)); SHOWI(_mm_cvtepu8_epi32(b)); SHOWI(_mm_cvtepu8_epi64(b));
  SHOWI(_mm_cvtepu16_epi32(c)); SHOWI(_mm_cvtepu16_epi64(d)); SHOWI(_mm_cvtepu32_epi64(z));
  for (int off = 1; off < 40; off += 13) {
    int64_t q; int32_t w; int16_t s;
    memcpy(&q, buf + off, 8); memcpy(&w, buf + off, 4); memcpy(&s, buf + off, 2);
    SHOWI(_mm_cvtepi8_epi16(_mm_cvtsi64_si128(q))); SHOWI(_mm_cvtepu8_epi32(_mm_cvtsi32_si128(w)));
    SHOWI(_mm_cvtepi8_epi64(_mm_cvtsi32_si128(s))); SHOWI(_mm_cvtepu16_epi32(_mm_loadl_epi64((const __m128i *)(buf + off))));
  }

  /* integer ops */
  SHOWI(_mm_min_epi8(a, b)); SHOWI(_mm_max_epi8(a, b)); SHOWI(_mm_min_epu16(c, d)); SHOWI(_mm_max_epu16(c, d));
  SHOWI(_mm_min_epi32(a, z)); SHOWI(_mm_max_epi32(a, z)); SHOWI(_mm_min_epu32(a, z)); SHOWI(_mm_max_epu32(a, z));
  SHOWI(_mm_mullo_epi32(a, b)); SHOWI(_mm_mullo_epi32(z, z)); SHOWI(_mm_mul_epi32(a, b)); SHOWI(_mm_mul_epi32(z, z));
  SHOWI(_mm_cmpeq_epi64(a, b)); SHOWI(_mm_cmpeq_epi64(a, _mm_blend_epi16(a, b, 0xf0)));
  SHOWI(_mm_packus_epi32(a, z)); SHOWI(_mm_packus_epi32(b, _mm_set_epi32(65535, 65536, -65536, 32768)));
  SHOWI(_mm_minpos_epu16(c)); SHOWI(_mm_minpos_epu16(d)); SHOWI(_mm_minpos_epu16(_mm_set1_epi16(-1)));
  SHOWI(_mm_minpos_epu16(_mm_set_epi16(7, 3, 9, 3, 8, 4, 3, 5)));

  /* element moves */
  printf("extract: %d %d %d %d %d %lld %lld\n", _mm_extract_epi8(b, 0), _mm_extract_epi8(b, 15), _mm_extract_epi16(c, 7),
         _mm_extract_epi32(a, 2), _mm_extract_epi32(z, 1), (long long)_mm_extract_epi64(a, 1), (long long)_mm_extract_epi64(z, 0));
  printf("extract_ps: %08x %08x\n", _mm_extract_ps(f1, 1), _mm_extract_ps(f2, 3));
  static uint8_t sink[16];
  int e1 = _mm_extract_ps(f1, 2);
  uint16_t e2 = (uint16_t)_mm_extract_epi16(a, 6);
  memcpy(sink + 1, &e1, 4);
  sink[7] = (uint8_t)_mm_extract_epi8(a, 9);
  memcpy(sink + 9, &e2, 2);
  for (int i = 0; i < 16; i++) printf("%02x", sink[i]);
  printf("\n");
  SHOWI(_mm_insert_epi8(a, 0xab, 0)); SHOWI(_mm_insert_epi8(a, -2, 15)); SHOWI(_mm_insert_epi32(a, 0x12345678, 3));
  SHOWI(_mm_insert_epi64(a, 0x1122334455667788LL, 1)); SHOWI(_mm_insert_epi64(a, -1LL, 0));
  SHOWPS(_mm_insert_ps(f1, f2, 0x00)); SHOWPS(_mm_insert_ps(f1, f2, 0xd0)); SHOWPS(_mm_insert_ps(f1, f3, 0x4f));
  SHOWPS(_mm_insert_ps(f1, f3, 0xa5)); SHOWPS(_mm_insert_ps(f2, _mm_load_ss((const float *)(buf + 4)), 0x30));

  /* rounding */
  __m128 rf[] = {_mm_set_ps(0.5f, 1.5f, 2.5f, -0.5f), _mm_set_ps(-1.5f, -2.5f, 0.49999997f, -0.49999997f),
                 _mm_set_ps(qnan, -inf, inf, -0.0f), _mm_set_ps(8388607.5f, -8388607.5f, 1e30f, 1e-40f),
                 _mm_set_ps(3.7f, -3.7f, 100.25f, -100.75f)};
  __m128d rd[] = {_mm_set_pd(0.5, -0.5), _mm_set_pd(1.5, -2.5), _mm_set_pd(-(double)qnan, (double)inf),
                  _mm_set_pd(4503599627370495.5, -0.0), _mm_set_pd(1e-310, -1e300), _mm_set_pd(2.7, -2.2)};
  for (int i = 0; i < 5; i++) {
    SHOWPS(_mm_round_ps(rf[i], _MM_FROUND_TO_NEAREST_INT)); SHOWPS(_mm_round_ps(rf[i], _MM_FROUND_TO_NEG_INF));
    SHOWPS(_mm_round_ps(rf[i], _MM_FROUND_TO_POS_INF)); SHOWPS(_mm_round_ps(rf[i], _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC));
    SHOWPS(_mm_round_ss(f1, rf[i], _MM_FROUND_TO_NEG_INF)); SHOWPS(_mm_floor_ps(rf[i])); SHOWPS(_mm_ceil_ss(f2, rf[i]));
  }
  for (int i = 0; i < 6; i++) {
    SHOWPD(_mm_round_pd(rd[i], _MM_FROUND_TO_NEAREST_INT)); SHOWPD(_mm_round_pd(rd[i], _MM_FROUND_TO_NEG_INF));
    SHOWPD(_mm_round_pd(rd[i], _MM_FROUND_TO_POS_INF)); SHOWPD(_mm_round_pd(rd[i], _MM_FROUND_TO_ZERO));
    SHOWPD(_mm_round_sd(d1, rd[i], _MM_FROUND_TO_POS_INF)); SHOWPD(_mm_floor_pd(rd[i])); SHOWPD(_mm_ceil_sd(d2, rd[i]));
  }
  round_modes("ties", rf[0], rd[0]);
  round_modes("mixed", rf[1], rd[1]);
  round_modes("specials", rf[2], rd[3]);
  round_modes("fractions", rf[4], rd[5]);

  /* dot products and mpsadbw */
  __m128 v1 = _mm_set_ps(4.0f, -3.0f, 2.0f, 1.5f), v2 = _mm_set_ps(0.25f, 8.0f, -1.0f, 1e30f);
  SHOWPS(_mm_dp_ps(v1, v2, 0xff)); SHOWPS(_mm_dp_ps(v1, v2, 0x31)); SHOWPS(_mm_dp_ps(v1, v2, 0xc6)); SHOWPS(_mm_dp_ps(v1, v2, 0x0f));
  show_dp_nans("_mm_dp_ps(f1, f2, 0xff)", _mm_dp_ps(f1, f2, 0xff)); SHOWPS(_mm_dp_ps(f3, f3, 0xf1)); SHOWPS(_mm_dp_ps(f1, v2, 0xe8));
  SHOWPD(_mm_dp_pd(d2, d2, 0x33)); SHOWPD(_mm_dp_pd(d1, d2, 0x31)); SHOWPD(_mm_dp_pd(d2, d3, 0x23)); SHOWPD(_mm_dp_pd(d3, d3, 0x32));
  SHOWI(_mm_mpsadbw_epu8(a, b, 0)); SHOWI(_mm_mpsadbw_epu8(a, b, 1)); SHOWI(_mm_mpsadbw_epu8(a, b, 2));
  SHOWI(_mm_mpsadbw_epu8(a, b, 3)); SHOWI(_mm_mpsadbw_epu8(b, a, 4)); SHOWI(_mm_mpsadbw_epu8(b, a, 7));
  static __m128i nt[2];
  nt[0] = a; nt[1] = b;
  SHOWI(_mm_stream_load_si128(&nt[1]));

  /* auto-vectorised loops */
  for (int i = 0; i < N; i++) {
    uint32_t r = (uint32_t)(i * 2654435761u) ^ (uint32_t)seed;
    ia[i] = (int32_t)(r ^ (r >> 13)) >> (i % 7);
    ib[i] = (int32_t)(r * 31u) - 0x40000000;
    ua[i] = r * 7u; ub[i] = r ^ 0x80000000u;
    sa[i] = (int8_t)r; sb[i] = (int8_t)(r >> 8);
    wa[i] = (uint16_t)r; wb[i] = (uint16_t)(r >> 16);
    bytes[i] = (uint8_t)(r >> 3); shorts[i] = (int16_t)(r >> 5);
    la[i] = (int64_t)r << (i % 5); lb[i] = (i % 3) ? la[i] : la[i] + 1;
    fa[i] = (float)((int32_t)r % 20001) / 8.0f;
    if (i % 17 == 0) fa[i] = (float)(i / 17) - 0.5f;
  }
  loops();
  printf("hash %016llx\n", h);
  return 0;
}
