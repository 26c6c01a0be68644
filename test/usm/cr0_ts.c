/* CR0.TS (SDM vol. 3, 2.5 and 13.4; vol. 2, each instruction's exceptions): with TS set, x87,
 * SSE, fxsave/fxrstor, ldmxcsr/stmxcsr and (CR0.MP is set) wait raise #NM, a fault without error
 * code (rip = the instruction, which runs again after the handler); instructions that use no
 * x87/SSE state (crc32, movnti, integer code) do not. clts clears TS. The #NM handler runs while
 * TS is set: libusm's entry stubs must not touch the vector registers then (the handler is built
 * without them too, and clears TS first, as a lazy FPU switch would). */
#include "usmtest.h"

#define GPR_ONLY __attribute__((target("general-regs-only")))
#define TS 8ull

/* Each test instruction at a label t_X_i, returning (ret) after it. rdi: a 16-byte aligned buffer. */
__asm__(".text\n"
        "t_addps: t_addps_i: addps %xmm1, %xmm0\n ret\n"
        "t_movq: t_movq_i: movq %rdi, %xmm2\n movq %xmm2, %rax\n ret\n"
        "t_fld1: t_fld1_i: fld1\n fstp %st(0)\n ret\n"
        "t_fxsave: t_fxsave_i: fxsave64 (%rdi)\n ret\n"
        "t_stmxcsr: t_stmxcsr_i: stmxcsr (%rdi)\n ret\n"
        "t_ldmxcsr: t_ldmxcsr_i: ldmxcsr mxcsr_default(%rip)\n ret\n"
        "t_wait: t_wait_i: wait\n ret\n"
        "t_crc32: mov $1, %eax\n t_crc32_i: crc32q %rdi, %rax\n ret\n"
        "t_movnti: t_movnti_i: movnti %rax, (%rdi)\n ret\n"
        ".pushsection .rodata\n mxcsr_default: .long 0x1f80\n .popsection\n"
        ".pushsection usm_user_text,\"ax\",@progbits\n"
        "u_paddd: paddd %xmm1, %xmm1\n ud2\n"
        ".popsection\n");
#define INSNS(X) X(addps) X(movq) X(fld1) X(fxsave) X(stmxcsr) X(ldmxcsr) X(wait)
#define DECL(n) extern char t_##n##_i[]; uint64_t t_##n(void *);
INSNS(DECL) DECL(crc32) DECL(movnti)
extern char u_paddd[];

static volatile uint64_t got_vec, got_rip, got_err, got_cr0;
static volatile int faults;

/* #NM: record, clear TS (the lazy switch would load this context's state here), re-execute. */
GPR_ONLY static void on_nm(struct usm_tf *tf) {
  faults++;
  got_vec = tf->vector, got_rip = tf->rip, got_err = tf->err, got_cr0 = usm_read_cr0();
  __asm__ volatile("clts");
}

static uint8_t buf[512] __attribute__((aligned(16)));

/* With TS set, insn faults once with #NM at it and then completes; TS is clear afterwards. */
static void expect_nm(const char *name, uint64_t (*fn)(void *), char *insn) {
  faults = 0, got_vec = got_rip = got_err = ~0ull;
  usm_write_cr0(usm_read_cr0() | TS);
  fn(buf);
  CHECK(faults == 1 && got_vec == USM_VEC_NM && got_err == 0 && got_rip == (uint64_t)insn && (got_cr0 & TS),
        "CR0.TS=1: %-8s -> #NM (no error code) at the instruction, handler entered with TS set", name);
  CHECK(!(usm_read_cr0() & TS), "         %-8s ran after clts in the handler, TS now clear", name);
}

static void expect_none(const char *name, uint64_t (*fn)(void *)) {
  faults = 0;
  usm_write_cr0(usm_read_cr0() | TS);
  fn(buf);
  int still = (usm_read_cr0() & TS) != 0;
  __asm__ volatile("clts");
  CHECK(faults == 0 && still, "CR0.TS=1: %-8s (no x87/SSE state) runs without #NM", name);
}

static USM_USER_DATA char stack[8192] __attribute__((aligned(16)));

int main(void) {
  usmtest_enter(0);
  usm_map_user_sections(usm_root);
  uint64_t cr0 = usm_read_cr0();
  CHECK((cr0 & 2) && !(cr0 & TS) && !(cr0 & 4), "CR0 at entry: MP set, TS and EM clear");
  usm_register_intr_handler(USM_VEC_NM, on_nm);

  /* TS clear: nothing faults, and the value makes it through xmm2 */
  faults = 0;
  CHECK(t_movq((void *)0x1234) == 0x1234 && faults == 0, "CR0.TS=0: movq to and from xmm runs");
#define NM(n) expect_nm(#n, t_##n, t_##n##_i);
  INSNS(NM)
  /* The instruction is re-executed once TS is clear: the result is there. */
  faults = 0;
  usm_write_cr0(usm_read_cr0() | TS);
  uint64_t v = t_movq((void *)0x5678);
  CHECK(v == 0x5678 && faults == 1, "CR0.TS=1: movq faulted once, then ran with its operand (%#lx)", (unsigned long)v);
  expect_none("crc32", t_crc32);
  expect_none("movnti", t_movnti);
  /* The same code again with TS set, after running with TS clear: faults again */
  expect_nm("addps", t_addps, t_addps_i);

  /* CPL3 with TS set: #NM reaches the supervisor (no handler: usm_jump_to_user returns it) */
  usm_register_intr_handler(USM_VEC_NM, 0);
  struct usm_tf tf;
  usm_init_user_tf(&tf, (void (*)(void *))u_paddd, 0, stack + sizeof stack);
  usm_write_cr0(usm_read_cr0() | TS); /* from here to clts: no vector registers (glibc's memset...) */
  int r = usm_jump_to_user(&tf);
  int ts = (usm_read_cr0() & TS) != 0;
  __asm__ volatile("clts");
  CHECK(r == USM_UEXIT_TRAP + USM_VEC_NM && tf.err == 0 && tf.rip == (uint64_t)u_paddd && ts,
        "CR0.TS=1: paddd at CPL3 -> #NM at the instruction, TS still set (vector %d)", r - USM_UEXIT_TRAP);
  r = usm_jump_to_user(&tf);
  CHECK(r == USM_UEXIT_TRAP + USM_VEC_UD && tf.rip == (uint64_t)u_paddd + 4,
        "CR0.TS=0: the child continues, paddd runs (next: the ud2, vector %d)", r - USM_UEXIT_TRAP);
  return usmtest_done();
}
