// Sieve of Eratosthenes (byte array and bit array versions) up to 2,000,000, with prime counts at
// powers of ten, twin primes, the largest gap, and a segmented sieve check.
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LIMIT 2000000

int main(void) {
  unsigned char *is = malloc(LIMIT + 1);
  memset(is, 1, LIMIT + 1);
  is[0] = is[1] = 0;
  for (long i = 2; i * i <= LIMIT; i++)
    if (is[i])
      for (long j = i * i; j <= LIMIT; j += i) is[j] = 0;
  long count = 0, twins = 0, gap = 0, gap_at = 0, last = 0;
  unsigned long long sum = 0;
  for (long i = 2; i <= LIMIT; i++) {
    if (!is[i]) continue;
    count++;
    sum += (unsigned long long)i;
    if (last && i - last == 2) twins++;
    if (last && i - last > gap) { gap = i - last; gap_at = last; }
    last = i;
    if (count == 1 || count == 10 || count == 100 || count == 1000 || count == 10000 || count == 100000)
      printf("prime #%ld = %ld\n", count, i);
  }
  for (long p = 10; p <= LIMIT; p *= 10) {
    long c = 0;
    for (long i = 2; i <= p; i++) c += is[i];
    printf("pi(%ld) = %ld\n", p, c);
  }
  printf("primes <= %d: %ld, sum %llu, twin pairs %ld, largest gap %ld after %ld, last %ld\n", LIMIT, count, sum, twins,
         gap, gap_at, last);

  /* odd-only bit sieve */
  uint64_t *bits = calloc(LIMIT / 128 + 1, sizeof(uint64_t)); /* bit k => number 2k+1 is composite */
  for (long i = 3; i * i <= LIMIT; i += 2)
    if (!(bits[i >> 7] >> ((i >> 1) & 63) & 1))
      for (long j = i * i; j <= LIMIT; j += 2 * i) bits[j >> 7] |= 1ULL << ((j >> 1) & 63);
  long bc = 1;
  for (long i = 3; i <= LIMIT; i += 2) bc += !(bits[i >> 7] >> ((i >> 1) & 63) & 1);
  printf("bit sieve count %ld (%s)\n", bc, bc == count ? "agrees" : "DISAGREES");

  /* segmented sieve of [10^9, 10^9 + 100000) using the small primes */
  long lo = 1000000000L, len = 100000;
  unsigned char *seg = malloc(len);
  memset(seg, 1, len);
  for (long p = 2; p * p < lo + len; p++) {
    if (!is[p]) continue;
    long start = (lo + p - 1) / p * p;
    for (long j = start; j < lo + len; j += p) seg[j - lo] = 0;
  }
  long sc = 0, first = 0;
  for (long i = 0; i < len; i++)
    if (seg[i]) { if (!sc) first = lo + i; sc++; }
  printf("primes in [1e9, 1e9+1e5): %ld, first %ld\n", sc, first);
  free(seg);
  free(bits);
  free(is);
  return 0;
}
