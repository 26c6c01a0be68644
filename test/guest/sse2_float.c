// CFLAGS: -O3 -fno-math-errno
// Float and double loops vectorised with SSE2 (addps/mulps/divps/sqrtps/minps/maxps, the pd forms,
// cvtps2pd/cvtpd2ps, cvtdq2pd, cmpps + blends), plus scalar sequential reductions (not
// reassociated without -ffast-math), printed as exact hex bit patterns.
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define N 1001
static float fa[N], fb[N], fr[N];
static double da[N], db[N], dr[N];
static int32_t ia[N];

static unsigned long long h;
static void mix(unsigned long long v) { h = (h ^ v) * 0x100000001b3ULL; }
static void hf(const char *name, const float *p) {
  unsigned long long s = 0;
  for (int i = 0; i < N; i++) { uint32_t u; memcpy(&u, &p[i], 4); s = s * 131 + u; }
  printf("%-10s %016llx  [0]=%a [%d]=%a\n", name, s, (double)p[0], N - 1, (double)p[N - 1]);
  mix(s);
}
static void hd(const char *name, const double *p) {
  unsigned long long s = 0;
  for (int i = 0; i < N; i++) { uint64_t u; memcpy(&u, &p[i], 8); s = s * 131 + u; }
  printf("%-10s %016llx  [0]=%a [%d]=%a\n", name, s, p[0], N - 1, p[N - 1]);
  mix(s);
}

int main(void) {
  uint32_t x = 12345;
  for (int i = 0; i < N; i++) {
    x = x * 1664525u + 1013904223u;
    fa[i] = (float)((int32_t)x >> 8) / 65536.0f;
    fb[i] = (float)(x >> 9) / 1024.0f + 0.5f;
    da[i] = (double)(int32_t)x / 3.0;
    db[i] = (double)(x >> 3) / 7.0 + 1.0;
    ia[i] = (int32_t)(x ^ (x >> 13));
  }
  for (int i = 0; i < N; i++) fr[i] = fa[i] + fb[i] * 1.5f;
  hf("f add/mul", fr);
  for (int i = 0; i < N; i++) fr[i] = fa[i] / fb[i];
  hf("f div", fr);
  for (int i = 0; i < N; i++) fr[i] = sqrtf(fb[i]);
  hf("f sqrt", fr);
  for (int i = 0; i < N; i++) fr[i] = fa[i] < fb[i] ? fa[i] : fb[i];
  hf("f min", fr);
  for (int i = 0; i < N; i++) fr[i] = fa[i] > 0.0f ? fa[i] : -fa[i] * 0.25f;
  hf("f select", fr);
  for (int i = 0; i < N; i++) fr[i] = (float)ia[i];
  hf("f cvt", fr);
  for (int i = 0; i < N; i++) ia[i] = (int32_t)(fa[i] * 1000.0f);
  { unsigned long long s = 0; for (int i = 0; i < N; i++) s = s * 31 + (uint32_t)ia[i]; printf("i cvtt     %016llx\n", s); mix(s); }
  for (int i = 0; i < N; i++) dr[i] = da[i] * db[i] - da[i];
  hd("d mul/sub", dr);
  for (int i = 0; i < N; i++) dr[i] = da[i] / db[i];
  hd("d div", dr);
  for (int i = 0; i < N; i++) dr[i] = sqrt(db[i]);
  hd("d sqrt", dr);
  for (int i = 0; i < N; i++) dr[i] = da[i] > db[i] ? da[i] : db[i];
  hd("d max", dr);
  for (int i = 0; i < N; i++) dr[i] = (double)fa[i] * 3.0;
  hd("d from f", dr);
  for (int i = 0; i < N; i++) fr[i] = (float)(da[i] / 1024.0);
  hf("f from d", fr);
  for (int i = 0; i < N; i++) dr[i] = (double)ia[i] + 0.5;
  hd("d from i", dr);
  for (int i = 0; i < N; i++) dr[i] = fabs(da[i]) + copysign(1.0, db[i] - 100.0);
  hd("d abs/cs", dr);
  /* sequential reductions: order matters and must be kept */
  float fs = 0;
  double ds = 0, dp = 1;
  for (int i = 0; i < N; i++) { fs += fa[i]; ds += da[i] * 1e-6; dp *= 1.0 + db[i] * 1e-9; }
  printf("fsum=%a dsum=%a dprod=%a\n", (double)fs, ds, dp);
  /* a small saxpy with a stencil */
  for (int it = 0; it < 5; it++)
    for (int i = 1; i < N - 1; i++) fr[i] = 0.25f * fr[i - 1] + 0.5f * fa[i] + 0.25f * fb[i + 1];
  hf("stencil", fr);
  printf("sse2_float hash %016llx\n", h);
  return 0;
}
