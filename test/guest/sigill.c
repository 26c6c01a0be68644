// __builtin_trap() compiles to ud2: the guest dies of SIGILL (status 132).
// EXIT: 132
#include <stdio.h>

static volatile int go = 1;

int main(void) {
  printf("trapping\n");
  fflush(stdout);
  if (go) __builtin_trap();
  printf("not reached\n");
  return 0;
}
