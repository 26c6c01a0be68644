// A SIB byte whose index field is 100 without REX.X names no index register (the SDM's "none";
// disassemblers print it as riz): [rsi + riz] is [rsi], whatever rax holds. Assemblers emit the
// short form, so only hand-made or unusual code has these; Capstone reports the index as riz, which
// usmjit's decoder took for rax until the fast decoder's comparison with Capstone showed it.
#include <stdio.h>

int main(void) {
  static const unsigned int table[4] = {0x11111111, 0x22222222, 0x33333333, 0x44444444};
  unsigned int a, b, c;
  const unsigned int *p = &table[1];
  // mov eax, [rsi + riz]; with rax = 4 an index of rax would read table[2]
  __asm__ volatile("mov $4, %%eax\n\t.byte 0x8b, 0x04, 0x26" : "=a"(a) : "S"(p) : "memory");
  // mov eax, [rsi + riz*4 + 4]: the scale of a missing index is ignored too
  __asm__ volatile("mov $1, %%eax\n\t.byte 0x8b, 0x44, 0xa6, 0x04" : "=a"(b) : "S"(p) : "memory");
  // lea rax, [rsi + riz*8]: no memory access, the same address rule
  unsigned long q;
  __asm__ volatile("mov $2, %%eax\n\t.byte 0x48, 0x8d, 0x04, 0xe6" : "=a"(q) : "S"(p));
  c = *(const unsigned int *)q;
  printf("%08x %08x %08x\n", a, b, c);
  return 0;
}
