// Makes a system call Linux does not have, to check the -ENOSYS path (used by test/cli.test.ts).
#include <stdio.h>
int main(void) {
  long r;
  __asm__ volatile("syscall" : "=a"(r) : "a"(999L) : "rcx", "r11", "memory");
  printf("syscall 999 = %ld\n", r);
  return 0;
}
