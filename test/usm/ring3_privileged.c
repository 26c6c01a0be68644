/* Each privileged instruction executed at CPL3 raises #GP(0), delivered to the supervisor (here:
 * no handler, so usm_jump_to_user returns USM_UEXIT_TRAP + 13 with the child's frame); vmcall at
 * CPL3 raises #UD; int3 (a DPL3 gate) is #BP after the instruction. */
#include "usmtest.h"

/* One stub per instruction, each followed by ud2 (never reached). */
__asm__(".pushsection usm_user_text,\"ax\",@progbits\n"
        ".p2align 4\n"
        "u_cli: cli\n ud2\n"
        "u_sti: sti\n ud2\n"
        "u_hlt: hlt\n ud2\n"
        "u_rdcr0: mov %cr0, %rax\n ud2\n"
        "u_rdcr3: mov %cr3, %rax\n ud2\n"
        "u_wrcr3: mov %rax, %cr3\n ud2\n"
        "u_wrcr4: mov %rax, %cr4\n ud2\n"
        "u_rdmsr: rdmsr\n ud2\n"
        "u_wrmsr: wrmsr\n ud2\n"
        "u_lgdt: lgdt (%rsp)\n ud2\n"
        "u_lidt: lidt (%rsp)\n ud2\n"
        "u_ltr: ltr %ax\n ud2\n"
        "u_invlpg: invlpg (%rsp)\n ud2\n"
        "u_invpcid: invpcid (%rsp), %rax\n ud2\n"
        "u_swapgs: swapgs\n ud2\n"
        "u_rddr7: mov %dr7, %rax\n ud2\n"
        "u_wrdr0: mov %rax, %dr0\n ud2\n"
        "u_wbinvd: wbinvd\n ud2\n"
        "u_invd: invd\n ud2\n"
        "u_clts: clts\n ud2\n"
        "u_sysretq: sysretq\n ud2\n"
        "u_rdpmc: rdpmc\n ud2\n"
        "u_vmcall: vmcall\n ud2\n"
        "u_int3: int3\n ud2\n"
        ".popsection\n");

#define STUBS(X)                                                                                                  \
  X(cli) X(sti) X(hlt) X(rdcr0) X(rdcr3) X(wrcr3) X(wrcr4) X(rdmsr) X(wrmsr) X(lgdt) X(lidt) X(ltr) X(invlpg) \
  X(invpcid) X(swapgs) X(rddr7) X(wrdr0) X(wbinvd) X(invd) X(clts) X(sysretq) X(rdpmc)
#define DECL(n) extern char u_##n[];
STUBS(DECL)
extern char u_vmcall[], u_int3[];

static USM_USER_DATA char stack[8192] __attribute__((aligned(16)));

static int run(const char *name, char *stub, int want_vec, int want_after) {
  struct usm_tf tf;
  usm_init_user_tf(&tf, (void (*)(void *))stub, 0, stack + sizeof stack);
  tf.rax = 0;
  tf.rcx = 0xc0000082; /* rdmsr/wrmsr: a real MSR (LSTAR) */
  int r = usm_jump_to_user(&tf);
  int vec = r - USM_UEXIT_TRAP;
  /* faults report the instruction; int3 is a trap: rip after it */
  uint64_t want_rip = (uint64_t)stub + (want_after ? 1 : 0);
  int ok = r >= USM_UEXIT_TRAP && vec == want_vec && tf.err == 0 && tf.rip == want_rip && (tf.cs & 3) == 3;
  CHECK(ok, "%-8s at CPL3 -> vector %d err %lu at %s", name, vec, (unsigned long)tf.err,
        tf.rip == want_rip ? "the expected rip" : "a WRONG rip");
  return ok;
}

int main(void) {
  usmtest_enter(0);
  usm_map_user_sections(usm_root);
  int n = 0;
#define RUN(x) n += run(#x, u_##x, USM_VEC_GP, 0);
  STUBS(RUN)
  n += run("vmcall", u_vmcall, USM_VEC_UD, 0);
  n += run("int3", u_int3, USM_VEC_BP, 1);
  CHECK(n == 24, "%d of 24 instructions trapped as expected", n);
  /* the supervisor is unaffected: still CPL0 with its own CR3 and MSRs */
  CHECK(usm_cpl() == 0 && (usm_read_cr3() & ~0xfffull) == (uint64_t)usm_root, "supervisor state intact");
  return usmtest_done();
}
