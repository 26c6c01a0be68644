// A store through a null pointer: the guest dies of SIGSEGV (status 139). Output flushed before.
// EXIT: 139
#include <stdio.h>

static int *volatile p = 0;

int main(void) {
  printf("about to write through %s\n", p ? "a pointer" : "NULL");
  fflush(stdout);
  *p = 42;
  printf("not reached\n");
  return 0;
}
