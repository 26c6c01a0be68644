// SHA-256 (FIPS 180-4) over the standard test vectors, a 1 MB 'a' string (streamed in odd-sized
// pieces), and a generated buffer; plus a SHA-256-based HMAC.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct { uint32_t h[8]; uint64_t len; uint8_t buf[64]; size_t n; } sha256_ctx;

static const uint32_t K[64] = {
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98, 0x12835b01,
  0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc,
  0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147,
  0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08,
  0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208,
  0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void block(sha256_ctx *c, const uint8_t *p) {
  uint32_t w[64];
  for (int i = 0; i < 16; i++) w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
  for (int i = 16; i < 64; i++) {
    uint32_t s0 = ROR(w[i - 15], 7) ^ ROR(w[i - 15], 18) ^ (w[i - 15] >> 3);
    uint32_t s1 = ROR(w[i - 2], 17) ^ ROR(w[i - 2], 19) ^ (w[i - 2] >> 10);
    w[i] = w[i - 16] + s0 + w[i - 7] + s1;
  }
  uint32_t a = c->h[0], b = c->h[1], cc = c->h[2], d = c->h[3], e = c->h[4], f = c->h[5], g = c->h[6], h = c->h[7];
  for (int i = 0; i < 64; i++) {
    uint32_t t1 = h + (ROR(e, 6) ^ ROR(e, 11) ^ ROR(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i];
    uint32_t t2 = (ROR(a, 2) ^ ROR(a, 13) ^ ROR(a, 22)) + ((a & b) ^ (a & cc) ^ (b & cc));
    h = g; g = f; f = e; e = d + t1; d = cc; cc = b; b = a; a = t1 + t2;
  }
  c->h[0] += a; c->h[1] += b; c->h[2] += cc; c->h[3] += d; c->h[4] += e; c->h[5] += f; c->h[6] += g; c->h[7] += h;
}
static void init(sha256_ctx *c) {
  static const uint32_t iv[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
  memcpy(c->h, iv, sizeof iv);
  c->len = 0;
  c->n = 0;
}
static void update(sha256_ctx *c, const void *data, size_t n) {
  const uint8_t *p = data;
  c->len += n;
  while (n) {
    if (c->n == 0 && n >= 64) { block(c, p); p += 64; n -= 64; continue; }
    size_t k = 64 - c->n < n ? 64 - c->n : n;
    memcpy(c->buf + c->n, p, k);
    c->n += k; p += k; n -= k;
    if (c->n == 64) { block(c, c->buf); c->n = 0; }
  }
}
static void final(sha256_ctx *c, uint8_t out[32]) {
  uint64_t bits = c->len * 8;
  uint8_t pad = 0x80;
  update(c, &pad, 1);
  uint8_t z = 0;
  while (c->n != 56) update(c, &z, 1);
  uint8_t L[8];
  for (int i = 0; i < 8; i++) L[i] = (uint8_t)(bits >> (56 - 8 * i));
  update(c, L, 8);
  for (int i = 0; i < 8; i++) { out[4 * i] = (uint8_t)(c->h[i] >> 24); out[4 * i + 1] = (uint8_t)(c->h[i] >> 16); out[4 * i + 2] = (uint8_t)(c->h[i] >> 8); out[4 * i + 3] = (uint8_t)c->h[i]; }
}
static void hex(const uint8_t *d, char *s) { for (int i = 0; i < 32; i++) sprintf(s + 2 * i, "%02x", d[i]); }
static void sha(const void *p, size_t n, char *s) { sha256_ctx c; uint8_t d[32]; init(&c); update(&c, p, n); final(&c, d); hex(d, s); }

int main(void) {
  char s[65];
  const char *vec[] = {"", "abc", "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
                       "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu"};
  for (int i = 0; i < 4; i++) { sha(vec[i], strlen(vec[i]), s); printf("sha256(\"%.20s%s\") = %s\n", vec[i], strlen(vec[i]) > 20 ? "..." : "", s); }
  /* one million 'a', fed in pieces of varying size */
  static char a[1000];
  memset(a, 'a', sizeof a);
  sha256_ctx c;
  init(&c);
  size_t left = 1000000, k = 1;
  while (left) { size_t n = k % 997 + 1; if (n > left) n = left; update(&c, a, n); left -= n; k = k * 7 + 3; }
  uint8_t d[32];
  final(&c, d);
  hex(d, s);
  printf("sha256(1M x 'a') = %s\n", s);
  /* generated buffer, every length 0..200 */
  uint8_t buf[256];
  for (int i = 0; i < 256; i++) buf[i] = (uint8_t)(i * 151 + 7);
  uint8_t acc[32] = {0};
  for (int n = 0; n <= 200; n++) {
    sha256_ctx t; init(&t); update(&t, buf, (size_t)n); final(&t, d);
    for (int i = 0; i < 32; i++) acc[i] ^= d[i];
  }
  hex(acc, s);
  printf("xor of sha256(buf[0..n]) for n<=200 = %s\n", s);
  /* HMAC-SHA256 (RFC 4231 test case 2) */
  const char *key = "Jefe", *msg = "what do ya want for nothing?";
  uint8_t k0[64] = {0}, ipad[64], opad[64], inner[32];
  memcpy(k0, key, strlen(key));
  for (int i = 0; i < 64; i++) { ipad[i] = k0[i] ^ 0x36; opad[i] = k0[i] ^ 0x5c; }
  init(&c); update(&c, ipad, 64); update(&c, msg, strlen(msg)); final(&c, inner);
  init(&c); update(&c, opad, 64); update(&c, inner, 32); final(&c, d);
  hex(d, s);
  printf("hmac = %s\n", s);
  return 0;
}
