// qsort of 4 million pseudo-random ints with a comparison callback. Prints a checksum of the result.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static int cmp(const void *a, const void *b) {
  int x = *(const int *)a, y = *(const int *)b;
  return (x > y) - (x < y);
}

int main(void) {
  enum { N = 4000000 };
  int *v = malloc(sizeof(int) * N);
  uint32_t s = 2463534242u;
  for (int i = 0; i < N; i++) { s ^= s << 13; s ^= s >> 17; s ^= s << 5; v[i] = (int)s; }
  qsort(v, N, sizeof(int), cmp);
  uint64_t h = 0;
  int sorted = 1;
  for (int i = 0; i < N; i++) { h = h * 1000003 + (uint32_t)v[i]; if (i && v[i - 1] > v[i]) sorted = 0; }
  printf("sorted=%d min=%d max=%d hash=%016llx\n", sorted, v[0], v[N - 1], (unsigned long long)h);
  free(v);
  return !sorted;
}
