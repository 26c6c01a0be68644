/* Read-modify-write instructions on a read-only page: the write faults (#PF with W), the handler
 * makes the page writable, and the instruction runs again from the start. It must find registers
 * and flags as they were: xchg swaps once, xadd adds once, adc takes the carry the program set
 * (before the fix, the instruction had changed them before its store faulted). */
#include "usmtest.h"

#define PAGE ((uint64_t *)0xffff890000000000ull)

static volatile int faults;
static volatile uint64_t last_err;

static void on_pgflt(uintptr_t addr, uint64_t err, struct usm_tf *tf) {
  if (addr < (uintptr_t)PAGE || addr >= (uintptr_t)PAGE + 4096) usm_unhandled_trap(tf);
  faults++;
  last_err = err;
  usm_vm_mprotect(usm_root, (void *)(addr & ~0xfffull), 4096, USM_PERM_RW);
}

static void readonly(void) {
  usm_vm_mprotect(usm_root, PAGE, 4096, USM_PERM_R);
  usm_invlpg(PAGE);
}

int main(void) {
  usmtest_enter(0);
  usm_register_pgflt_handler(on_pgflt);
  usm_vm_map_pages(usm_root, PAGE, 4096, USM_PERM_RW);
  PAGE[0] = 100;
  PAGE[1] = 7;
  PAGE[2] = 40;

  readonly();
  uint64_t r = 5;
  __asm__ volatile("xchg %0, (%1)" : "+r"(r) : "r"(PAGE) : "memory");
  CHECK(faults == 1 && (last_err & USM_PF_W) && r == 100 && PAGE[0] == 5, "xchg on a read-only page: one write fault, swapped once");

  readonly();
  uint64_t add = 3;
  __asm__ volatile("lock xaddq %0, 8(%1)" : "+r"(add) : "r"(PAGE) : "memory");
  CHECK(faults == 2 && add == 7 && PAGE[1] == 10, "xadd: the old value once, the sum once");

  readonly();
  __asm__ volatile("stc\n\tadcq %1, 16(%0)" : : "r"(PAGE), "r"(1ul) : "memory", "cc");
  CHECK(faults == 3 && PAGE[2] == 42, "adc: the program's carry, not the one of a first run");

  readonly();
  unsigned char zf;
  uint64_t expect = 5, repl = 9;
  __asm__ volatile("lock cmpxchgq %3, (%2)\n\tsete %1" : "+a"(expect), "=q"(zf) : "r"(PAGE), "r"(repl) : "memory", "cc");
  CHECK(faults == 4 && zf && PAGE[0] == 9, "cmpxchg: compares with the value before the fault");
  return usmtest_done();
}
