// CRC-32 (IEEE, reflected) three ways: bitwise, byte table, and slicing-by-4; plus CRC-32C
// (Castagnoli) and Adler-32, over known test vectors and a generated 1 MiB buffer.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint32_t tab[4][256], tabc[256];

static void init(void) {
  for (uint32_t i = 0; i < 256; i++) {
    uint32_t c = i, d = i;
    for (int k = 0; k < 8; k++) {
      c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
      d = d & 1 ? 0x82f63b78u ^ (d >> 1) : d >> 1;
    }
    tab[0][i] = c;
    tabc[i] = d;
  }
  for (int i = 0; i < 256; i++)
    for (int t = 1; t < 4; t++) tab[t][i] = (tab[t - 1][i] >> 8) ^ tab[0][tab[t - 1][i] & 0xff];
}

static uint32_t crc_bitwise(const uint8_t *p, size_t n) {
  uint32_t c = 0xffffffffu;
  while (n--) {
    c ^= *p++;
    for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xedb88320u & -(c & 1));
  }
  return ~c;
}
static uint32_t crc_table(const uint8_t *p, size_t n) {
  uint32_t c = 0xffffffffu;
  while (n--) c = tab[0][(c ^ *p++) & 0xff] ^ (c >> 8);
  return ~c;
}
static uint32_t crc_slice4(const uint8_t *p, size_t n) {
  uint32_t c = 0xffffffffu;
  while (n >= 4) {
    uint32_t w;
    memcpy(&w, p, 4);
    c ^= w;
    c = tab[3][c & 0xff] ^ tab[2][(c >> 8) & 0xff] ^ tab[1][(c >> 16) & 0xff] ^ tab[0][c >> 24];
    p += 4;
    n -= 4;
  }
  while (n--) c = tab[0][(c ^ *p++) & 0xff] ^ (c >> 8);
  return ~c;
}
static uint32_t crc32c(const uint8_t *p, size_t n) {
  uint32_t c = 0xffffffffu;
  while (n--) c = tabc[(c ^ *p++) & 0xff] ^ (c >> 8);
  return ~c;
}
static uint32_t adler32(const uint8_t *p, size_t n) {
  uint32_t a = 1, b = 0;
  while (n--) { a = (a + *p++) % 65521; b = (b + a) % 65521; }
  return b << 16 | a;
}

int main(void) {
  init();
  const char *vec[] = {"", "a", "abc", "123456789", "message digest", "The quick brown fox jumps over the lazy dog"};
  for (int i = 0; i < 6; i++) {
    const uint8_t *p = (const uint8_t *)vec[i];
    size_t n = strlen(vec[i]);
    printf("%-45s crc32=%08x/%08x/%08x crc32c=%08x adler=%08x\n", vec[i], crc_bitwise(p, n), crc_table(p, n),
           crc_slice4(p, n), crc32c(p, n), adler32(p, n));
  }
  size_t n = 1 << 20;
  uint8_t *buf = malloc(n);
  uint32_t x = 1;
  for (size_t i = 0; i < n; i++) { x = x * 1103515245u + 12345u; buf[i] = (uint8_t)(x >> 23); }
  uint32_t a = crc_table(buf, n), b = crc_slice4(buf, n), c = crc_bitwise(buf, 65536);
  printf("1MiB: table=%08x slice4=%08x agree=%d first64k bitwise=%08x table=%08x crc32c=%08x adler=%08x\n", a, b,
         a == b, c, crc_table(buf, 65536), crc32c(buf, n), adler32(buf, n));
  /* unaligned starting points and lengths */
  uint32_t acc = 0;
  for (int off = 0; off < 8; off++)
    for (int len = 0; len < 300; len += 7) acc ^= crc_slice4(buf + off, (size_t)len) + (uint32_t)len;
  printf("unaligned acc=%08x\n", acc);
  free(buf);
  return 0;
}
