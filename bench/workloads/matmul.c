// Integer matrix multiply, 1280x1280 int32 (i-k-j order), with a checksum of the product.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define N 1280

int main(void) {
  int32_t *a = malloc(sizeof(int32_t) * N * N), *b = malloc(sizeof(int32_t) * N * N), *c = calloc(N * N, sizeof(int32_t));
  uint32_t s = 1;
  for (int i = 0; i < N * N; i++) {
    s = s * 1664525u + 1013904223u;
    a[i] = (int32_t)(s >> 20) - 2048;
    s = s * 1664525u + 1013904223u;
    b[i] = (int32_t)(s >> 20) - 2048;
  }
  for (int i = 0; i < N; i++)
    for (int k = 0; k < N; k++) {
      int32_t aik = a[i * N + k];
      for (int j = 0; j < N; j++) c[i * N + j] += aik * b[k * N + j];
    }
  uint64_t h = 0;
  for (int i = 0; i < N * N; i++) h = h * 31 + (uint32_t)c[i];
  printf("matmul %dx%d checksum %016llx c[0]=%d c[last]=%d\n", N, N, (unsigned long long)h, c[0], c[N * N - 1]);
  return 0;
}
