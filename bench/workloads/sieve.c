// Sieve of Eratosthenes over bytes up to 100 million, then counts and sums the primes.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void) {
  const long n = 100000000;
  unsigned char *is = malloc((size_t)n + 1);
  memset(is, 1, (size_t)n + 1);
  is[0] = is[1] = 0;
  for (long i = 2; i * i <= n; i++)
    if (is[i])
      for (long j = i * i; j <= n; j += i) is[j] = 0;
  long count = 0;
  uint64_t sum = 0;
  for (long i = 0; i <= n; i++)
    if (is[i]) { count++; sum += (uint64_t)i; }
  printf("primes <= %ld: %ld sum %llu\n", n, count, (unsigned long long)sum);
  free(is);
  return 0;
}
