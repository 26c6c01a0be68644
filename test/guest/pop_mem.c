// pop to memory: rsp moves only once the store is done, so a store to a page the TLB does not hold
// yet (Linux mode leaves the region and runs the instruction again) or that faults finds rsp as it
// was; an rsp-based destination is addressed with the incremented rsp (SDM). The differential
// tester's sequence stream found the first (seed 52, case 562: rsp popped twice).
#include <stdio.h>
#include <sys/mman.h>

int main(void) {
  char *p = mmap(0, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return 1;
  for (int k = 0; k < 8; k++) {
    unsigned long *dst = (unsigned long *)(p + k * 65536 + 8); // a page not touched before
    unsigned long before, after;
    __asm__ volatile("sub $128, %%rsp\n\t"
                     "mov %%rsp, %0\n\t"
                     "pushq %3\n\t"
                     "popq (%2)\n\t"
                     "mov %%rsp, %1\n\t"
                     "add $128, %%rsp"
                     : "=&r"(before), "=&r"(after) : "r"(dst), "r"(0x1234500000000ul + k) : "memory");
    printf("%d: %lx rsp moved %ld\n", k, *dst, (long)(after - before));
  }
  unsigned long popped, slot;
  __asm__ volatile("sub $128, %%rsp\n\t"
                   "movq $0, (%%rsp)\n\t"
                   "pushq $7\n\t"
                   "pushq $42\n\t"
                   "popq 8(%%rsp)\n\t" // 42 to the slot above the 7: where rsp pointed at first
                   "popq %0\n\t"
                   "mov (%%rsp), %1\n\t"
                   "add $128, %%rsp"
                   : "=&r"(popped), "=&r"(slot) : : "memory");
  printf("rsp-based destination: popped %lu, slot %lu\n", popped, slot);
  return 0;
}
