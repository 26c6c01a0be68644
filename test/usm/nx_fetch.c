/* An instruction fetch from a no-execute page raises #PF with the I/D bit: at CPL3 (P|U|I) and at
 * CPL0 (P|I), with CR2 = the target; the same page executes once NX is cleared. */
#include <sys/mman.h>

#include "usmtest.h"

static USM_USER_DATA char stack[8192] __attribute__((aligned(16)));
static volatile uint64_t k_err, k_addr;
static volatile int k_faults;

static void on_pgflt(uintptr_t addr, uint64_t err, struct usm_tf *tf) {
  if ((tf->cs & 3) == 3) usm_unhandled_trap(tf);
  k_faults++;
  k_err = err;
  k_addr = addr;
  /* the fetch faulted at the call's target: return to the caller with rax = -1 */
  tf->rip = *(uint64_t *)tf->rsp;
  tf->rsp += 8;
  tf->rax = (uint64_t)-1;
}

int main(void) {
  usmtest_enter(0);
  /* a page holding "mov $42, %eax; ret" */
  unsigned char *code = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  static const unsigned char fn[] = {0xb8, 42, 0, 0, 0, 0xc3};
  memcpy(code, fn, sizeof fn);
  long (*call)(void) = (long (*)(void))code;

  /* CPL3: user page, NX */
  usm_vm_mprotect(usm_root, code, 4096, USM_PERM_RW | USM_PERM_U);
  usm_map_user_sections(usm_root);
  struct usm_tf tf;
  usm_init_user_tf(&tf, (void (*)(void *))code, 0, stack + sizeof stack);
  int r = usm_jump_to_user(&tf);
  CHECK(r == USM_UEXIT_TRAP + USM_VEC_PF && tf.err == (USM_PF_P | USM_PF_U | USM_PF_I) &&
            usm_last_fault_addr() == (uint64_t)code && tf.rip == (uint64_t)code,
        "CPL3 fetch from an NX page: #PF err=%#lx", (unsigned long)tf.err);

  /* CPL0: same page, NX */
  usm_register_pgflt_handler(on_pgflt);
  long v = call();
  CHECK(v == -1 && k_faults == 1 && k_err == (USM_PF_P | USM_PF_I) && k_addr == (uint64_t)code,
        "CPL0 fetch from an NX page: #PF err=%#lx", (unsigned long)k_err);

  /* executable now */
  usm_vm_mprotect(usm_root, code, 4096, USM_PERM_RX | USM_PERM_U);
  v = call();
  CHECK(v == 42 && k_faults == 1, "after clearing NX the page executes (%ld)", v);
  return usmtest_done();
}
