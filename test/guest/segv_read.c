// A load from an unmapped high address inside a loop: the guest dies of SIGSEGV (status 139).
// EXIT: 139
#include <stdio.h>
#include <stdint.h>

static volatile uintptr_t base = 0x7ff0000000ULL; /* far from anything mapped by a static binary */

int main(void) {
  long sum = 0;
  int data[64];
  for (int i = 0; i < 64; i++) data[i] = i * i;
  for (int i = 0; i < 64; i++) sum += data[i];
  printf("sum=%ld\n", sum);
  fflush(stdout);
  const volatile long *q = (const volatile long *)base;
  for (int i = 0; i < 4; i++) sum += q[i * 512];
  printf("not reached %ld\n", sum);
  return 0;
}
