// CFLAGS: -O3
// Integer loops that gcc -O3 vectorises with SSE2 (baseline x86-64): element-wise add/sub/mul,
// logic, shifts, min/max, abs, compares and selects, widening/narrowing conversions, and
// reductions, on 8/16/32/64-bit elements at odd lengths (vector body + scalar tail).
#include <stdint.h>
#include <stdio.h>

#define N 1003
static uint8_t a8[N], b8[N], r8[N];
static int8_t s8[N];
static uint16_t a16[N], b16[N], r16[N];
static int16_t s16[N], t16[N];
static uint32_t a32[N], b32[N], r32[N];
static int32_t s32[N], t32[N];
static uint64_t a64[N], b64[N], r64[N];
static int64_t s64[N];

static unsigned long long h;
static void mix(unsigned long long v) { h = (h ^ v) * 0x100000001b3ULL; }

#define HASH_ARR(arr)                                          \
  do {                                                         \
    unsigned long long _s = 0;                                 \
    for (int _i = 0; _i < N; _i++) _s = _s * 131 + (uint64_t)(arr)[_i]; \
    mix(_s);                                                   \
    printf("%s %-4s %016llx\n", __func__, #arr, _s);            \
  } while (0)

static void init(unsigned seed) {
  uint32_t x = seed;
  for (int i = 0; i < N; i++) {
    x = x * 1664525u + 1013904223u;
    a8[i] = (uint8_t)(x >> 24); b8[i] = (uint8_t)(x >> 16); s8[i] = (int8_t)(x >> 8);
    a16[i] = (uint16_t)(x >> 13); b16[i] = (uint16_t)x; s16[i] = (int16_t)(x >> 5); t16[i] = (int16_t)(x >> 15);
    a32[i] = x; b32[i] = x * 2654435761u; s32[i] = (int32_t)(x ^ (x >> 3)); t32[i] = (int32_t)(x * 7u) >> 3;
    a64[i] = (uint64_t)x << 29 ^ x; b64[i] = (uint64_t)x * 0x9e3779b97f4a7c15ULL; s64[i] = (int64_t)b64[i] >> 7;
  }
}

static __attribute__((noinline)) void k8(void) {
  for (int i = 0; i < N; i++) r8[i] = a8[i] + b8[i];
  HASH_ARR(r8);
  for (int i = 0; i < N; i++) r8[i] = a8[i] > b8[i] ? a8[i] : b8[i]; /* pmaxub */
  HASH_ARR(r8);
  for (int i = 0; i < N; i++) r8[i] = (uint8_t)((a8[i] + b8[i] + 1) >> 1); /* pavgb */
  HASH_ARR(r8);
  for (int i = 0; i < N; i++) r8[i] = a8[i] == b8[i] ? 0xff : (a8[i] ^ (b8[i] & 0x0f));
  HASH_ARR(r8);
  for (int i = 0; i < N; i++) r8[i] = (uint8_t)(s8[i] < 0 ? -s8[i] : s8[i]);
  HASH_ARR(r8);
  for (int i = 0; i < N; i++) { int v = a8[i] + b8[i]; r8[i] = v > 255 ? 255 : (uint8_t)v; } /* paddusb */
  HASH_ARR(r8);
  for (int i = 0; i < N; i++) { int v = a8[i] - b8[i]; r8[i] = v < 0 ? 0 : (uint8_t)v; } /* psubusb */
  HASH_ARR(r8);
  for (int i = 0; i < N; i++) r8[i] = (uint8_t)(a8[i] << 3) | (uint8_t)(b8[i] >> 5);
  HASH_ARR(r8);
  unsigned sum = 0;
  for (int i = 0; i < N; i++) sum += a8[i];
  int ssum = 0;
  for (int i = 0; i < N; i++) ssum += s8[i];
  unsigned sad = 0;
  for (int i = 0; i < N; i++) sad += (unsigned)(a8[i] > b8[i] ? a8[i] - b8[i] : b8[i] - a8[i]);
  printf("u8 sum=%u s8 sum=%d sad=%u\n", sum, ssum, sad);
  mix(sum + (unsigned)ssum + sad);
}

static __attribute__((noinline)) void k16(void) {
  for (int i = 0; i < N; i++) r16[i] = (uint16_t)(a16[i] * b16[i]); /* pmullw */
  HASH_ARR(r16);
  for (int i = 0; i < N; i++) r16[i] = (uint16_t)(((uint32_t)a16[i] * b16[i]) >> 16); /* pmulhuw */
  HASH_ARR(r16);
  for (int i = 0; i < N; i++) r16[i] = (uint16_t)(((int32_t)s16[i] * t16[i]) >> 16); /* pmulhw */
  HASH_ARR(r16);
  for (int i = 0; i < N; i++) r16[i] = (uint16_t)(s16[i] < t16[i] ? s16[i] : t16[i]); /* pminsw */
  HASH_ARR(r16);
  for (int i = 0; i < N; i++) r16[i] = (uint16_t)(s16[i] >> 3) ^ (uint16_t)(a16[i] >> 7);
  HASH_ARR(r16);
  for (int i = 0; i < N; i++) { int v = s16[i] + t16[i]; r16[i] = (uint16_t)(v > 32767 ? 32767 : v < -32768 ? -32768 : v); }
  HASH_ARR(r16);
  for (int i = 0; i < N; i++) r16[i] = (uint16_t)(a8[i] + s8[i]); /* widening */
  HASH_ARR(r16);
  int dot = 0;
  for (int i = 0; i < N; i++) dot += s16[i] * t16[i]; /* pmaddwd */
  unsigned usum = 0;
  for (int i = 0; i < N; i++) usum += a16[i];
  printf("s16 dot=%d u16 sum=%u\n", dot, usum);
  mix((unsigned)dot + usum);
}

static __attribute__((noinline)) void k32(void) {
  for (int i = 0; i < N; i++) r32[i] = a32[i] * b32[i]; /* pmuludq + shuffles */
  HASH_ARR(r32);
  for (int i = 0; i < N; i++) r32[i] = (a32[i] >> 7) + (b32[i] << 9) - (a32[i] & b32[i]);
  HASH_ARR(r32);
  for (int i = 0; i < N; i++) r32[i] = (uint32_t)(s32[i] >> 11) | (uint32_t)(t32[i] > s32[i]);
  HASH_ARR(r32);
  for (int i = 0; i < N; i++) r32[i] = a32[i] > b32[i] ? a32[i] : b32[i]; /* unsigned max without pmaxud */
  HASH_ARR(r32);
  for (int i = 0; i < N; i++) r32[i] = (uint32_t)(s32[i] < 0 ? -s32[i] : s32[i]);
  HASH_ARR(r32);
  for (int i = 0; i < N; i++) r32[i] = (uint32_t)(int32_t)s16[i] + a16[i];
  HASH_ARR(r32);
  for (int i = 0; i < N; i++) r32[i] = (uint32_t)(int32_t)(float)(s32[i] >> 8); /* cvtdq2ps / cvttps2dq */
  HASH_ARR(r32);
  for (int i = 0; i < N; i++) r16[i] = (uint16_t)a32[i]; /* narrowing */
  HASH_ARR(r16);
  uint32_t x = 0, o = 0;
  int64_t ssum = 0;
  for (int i = 0; i < N; i++) { x ^= a32[i]; o |= b32[i] & 0x01010101u; ssum += s32[i]; }
  printf("xor=%08x or=%08x ssum=%lld\n", x, o, (long long)ssum);
  mix(x + o + (uint64_t)ssum);
}

static __attribute__((noinline)) void k64(void) {
  for (int i = 0; i < N; i++) r64[i] = a64[i] + b64[i];
  HASH_ARR(r64);
  for (int i = 0; i < N; i++) r64[i] = a64[i] * b64[i];
  HASH_ARR(r64);
  for (int i = 0; i < N; i++) r64[i] = (a64[i] << 13) ^ (b64[i] >> 17) ^ (uint64_t)(s64[i] >> 5);
  HASH_ARR(r64);
  for (int i = 0; i < N; i++) r64[i] = (uint64_t)a32[i] * b32[i]; /* pmuludq */
  HASH_ARR(r64);
  for (int i = 0; i < N; i++) r64[i] = (uint64_t)(int64_t)s32[i];
  HASH_ARR(r64);
  for (int i = 0; i < N; i++) r64[i] = a64[i] == b64[i] ? 1 : a64[i] & ~b64[i];
  HASH_ARR(r64);
  uint64_t sum = 0;
  for (int i = 0; i < N; i++) sum += a64[i] ^ b64[i];
  printf("u64 sum=%016llx\n", (unsigned long long)sum);
  mix(sum);
}

int main(void) {
  for (unsigned seed = 1; seed <= 3; seed++) {
    init(seed * 7919);
    k8();
    k16();
    k32();
    k64();
  }
  printf("sse2_int hash %016llx\n", h);
  return 0;
}
