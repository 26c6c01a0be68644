// Table-driven CRC-32 (IEEE) over a 16 MiB generated buffer, 16 passes with a varying seed byte.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static uint32_t tab[256];

int main(void) {
  for (uint32_t i = 0; i < 256; i++) {
    uint32_t c = i;
    for (int k = 0; k < 8; k++) c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
    tab[i] = c;
  }
  size_t n = 16u << 20;
  uint8_t *buf = malloc(n);
  uint32_t x = 1;
  for (size_t i = 0; i < n; i++) { x = x * 1103515245u + 12345u; buf[i] = (uint8_t)(x >> 23); }
  uint32_t acc = 0;
  for (int pass = 0; pass < 16; pass++) {
    buf[pass] ^= (uint8_t)pass;
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) c = tab[(c ^ buf[i]) & 0xff] ^ (c >> 8);
    acc = acc * 31 + ~c;
    printf("pass %2d crc %08x\n", pass, ~c);
  }
  printf("acc %08x\n", acc);
  free(buf);
  return 0;
}
