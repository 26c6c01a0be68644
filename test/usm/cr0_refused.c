/* CR0 bits usmjit does not implement are refused, not ignored (docs/usm-abi.md): CR0.AM and
 * CR0.EM are clear at entry and CR0.MP set, and a mov to CR0 that sets AM or EM or clears MP
 * raises #GP(0) like a write of a reserved bit (a fault: rip = the mov), leaving CR0 unchanged.
 * With CR0.AM clear the SDM (vol. 3, 6.15 #AC) has no alignment check: RFLAGS.AC at CPL3 and a
 * misaligned access do not raise #AC. */
#include "usmtest.h"

__asm__(".text\n"
        "t_wrcr0: t_wrcr0_i: mov %rdi, %cr0\n t_wrcr0_e: ret\n"
        ".pushsection usm_user_text,\"ax\",@progbits\n"
        /* set AC, load from rsp+1 (misaligned), ud2 */
        "u_misaligned: pushfq\n orq $0x40000, (%rsp)\n popfq\n movq 1(%rsp), %rax\n u_misaligned_e: ud2\n"
        ".popsection\n");
extern char t_wrcr0_i[], t_wrcr0_e[], u_misaligned[], u_misaligned_e[];
void t_wrcr0(uint64_t);

static volatile uint64_t got_vec, got_rip, got_err;
static volatile int faults;
static void on_gp(struct usm_tf *tf) {
  faults++;
  got_vec = tf->vector, got_rip = tf->rip, got_err = tf->err;
  tf->rip = (uint64_t)t_wrcr0_e;
}

static void refused(const char *what, uint64_t v) {
  uint64_t before = usm_read_cr0();
  faults = 0, got_vec = ~0ull;
  t_wrcr0(v);
  CHECK(faults == 1 && got_vec == USM_VEC_GP && got_err == 0 && got_rip == (uint64_t)t_wrcr0_i && usm_read_cr0() == before,
        "mov to CR0 %s -> #GP(0) at the mov, CR0 unchanged", what);
}

static USM_USER_DATA char stack[8192] __attribute__((aligned(16)));

int main(void) {
  usmtest_enter(0);
  usm_map_user_sections(usm_root);
  const uint64_t MP = 2, EM = 4, AM = 1ull << 18;
  uint64_t cr0 = usm_read_cr0();
  CHECK(!(cr0 & AM) && !(cr0 & EM) && (cr0 & MP), "CR0 at entry: AM and EM clear, MP set");
  usm_register_intr_handler(USM_VEC_GP, on_gp);
  refused("setting AM", cr0 | AM);
  refused("setting EM", cr0 | EM);
  refused("clearing MP", cr0 & ~MP);
  faults = 0;
  t_wrcr0(cr0);
  CHECK(faults == 0 && usm_read_cr0() == cr0, "mov to CR0 of its own value is accepted");
  usm_register_intr_handler(USM_VEC_GP, 0);

  struct usm_tf tf;
  usm_init_user_tf(&tf, (void (*)(void *))u_misaligned, 0, stack + sizeof stack);
  int r = usm_jump_to_user(&tf);
  CHECK(r == USM_UEXIT_TRAP + USM_VEC_UD && tf.rip == (uint64_t)u_misaligned_e && (tf.rflags & 0x40000),
        "CR0.AM=0: RFLAGS.AC set and a misaligned load at CPL3 -> no #AC (next: the ud2, vector %d)", r - USM_UEXIT_TRAP);
  return usmtest_done();
}
