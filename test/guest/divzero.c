// Integer division by zero: the guest must die of SIGFPE (exit status 136) after flushing its line.
// EXIT: 136
#include <stdio.h>

static volatile int zero = 0;
static volatile int num = 1234;

int main(void) {
  printf("dividing %d by %d\n", num, zero);
  fflush(stdout);
  int q = num / zero;
  printf("not reached %d\n", q);
  return 0;
}
