// INT64_MIN / -1 overflows the quotient: idiv raises #DE, the guest dies of SIGFPE (status 136).
// EXIT: 136
#include <stdint.h>
#include <stdio.h>

static volatile int64_t n = INT64_MIN;
static volatile int64_t d = -1;

int main(void) {
  /* A few divisions that are fine first. */
  printf("%lld %lld\n", (long long)(n / 2), (long long)(n % 7));
  printf("overflowing\n");
  fflush(stdout);
  int64_t q;
  int64_t lo = n, dv = d;
  __asm__ volatile("cqo\n\tidivq %[d]" : "=a"(q) : "a"(lo), [d] "r"(dv) : "rdx", "cc");
  printf("not reached %lld\n", (long long)q);
  return 0;
}
