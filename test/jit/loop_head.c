// A loop of two blocks whose head is in the middle of a block: the loop is entered by the instruction just
// before its head (`xor %eax,%eax`), and its last block jumps back to the head. busybox sh's string-table
// lookup has this shape. `run` calls `scan` and then branches, so that a batch translating breadth-first
// from `run` (jit/code-cache.ts discover) has found the loop's blocks but not yet its head when it reaches
// its block count: the head must still come into the batch (SPLIT_BLOCKS), or the loop crosses regions at
// every iteration.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

long run(const char *s, long flags);
__asm__(
    ".text\n"
    "scan:\n"
    "  xor %edx, %edx\n"
    "  test $1, %esi\n  jz 1f\n  inc %edx\n1:\n"
    "  test $2, %esi\n  jz 1f\n  inc %edx\n1:\n"
    "  test $4, %esi\n  jz 1f\n  inc %edx\n1:\n"
    "  xor %eax, %eax\n"
    "2:\n  movzbl (%rdi,%rax), %ecx\n  test %ecx, %ecx\n  je 3f\n"
    "  inc %rax\n  jmp 2b\n"
    "3:\n  add %rdx, %rax\n  ret\n"
    ".globl run\n"
    "run:\n  push %rbx\n  mov %rsi, %rbx\n  call scan\n"
    "  test $1, %ebx\n  jz 1f\n  inc %rax\n1:\n"
    "  test $2, %ebx\n  jz 1f\n  inc %rax\n1:\n"
    "  test $4, %ebx\n  jz 1f\n  inc %rax\n1:\n"
    "  test $8, %ebx\n  jz 1f\n  inc %rax\n1:\n"
    "  test $16, %ebx\n  jz 1f\n  inc %rax\n1:\n"
    "  test $32, %ebx\n  jz 1f\n  inc %rax\n1:\n"
    "  test $64, %ebx\n  jz 1f\n  inc %rax\n1:\n"
    "  test $128, %ebx\n  jz 1f\n  inc %rax\n1:\n"
    "  pop %rbx\n  ret\n");

/* Called through a pointer the compiler cannot see through: translation starts at `run`. */
long (*volatile entry)(const char *, long) = run;

int main(void) {
  size_t n = 1000000;
  char *s = malloc(n + 1);
  memset(s, 'a', n);
  s[n] = 0;
  long total = 0;
  for (long k = 0; k < 4; k++) total += entry(s, 0x5a5 + k);
  printf("%ld\n", total);
  return 0;
}
