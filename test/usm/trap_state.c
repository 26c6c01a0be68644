/* Traps preserve the interrupted code's state: all general registers and XMM0-15 (the handler
 * clobbers them), at CPL0 (int3 and #PF) and for a ring-3 child resumed after a syscall with
 * usm_jump_to_user_fpu. The red zone below the interrupted rsp survives too. */
#include <sys/syscall.h>

#include "usmtest.h"

static void clobber(struct usm_tf *tf) {
  (void)tf;
  __asm__ volatile("pcmpeqd %%xmm0, %%xmm0\n movdqa %%xmm0, %%xmm1\n movdqa %%xmm0, %%xmm7\n movdqa %%xmm0, %%xmm8\n"
                   "movdqa %%xmm0, %%xmm15\n xorl %%eax, %%eax\n xorl %%ecx, %%ecx\n xorl %%edx, %%edx\n"
                   "xorl %%esi, %%esi\n xorl %%edi, %%edi\n xorl %%r8d, %%r8d\n xorl %%r9d, %%r9d\n xorl %%r10d, %%r10d\n"
                   "xorl %%r11d, %%r11d\n"
                   ::: "xmm0", "xmm1", "xmm7", "xmm8", "xmm15", "rax", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11");
}

static void clobber_pf(uintptr_t addr, uint64_t err, struct usm_tf *tf) {
  (void)err;
  clobber(tf);
  usm_vm_map_pages(usm_root, (void *)(addr & ~0xfffull), 4096, USM_PERM_RW);
}

/* Fills xmm0-15 and the general registers with patterns, runs `insn`, checks them all. */
#define STATE_TEST(insn, ok)                                                                        \
  do {                                                                                              \
    uint64_t out[16 * 2 + 14];                                                                      \
    __asm__ volatile(                                                                               \
        "movq %%rsp, %%rax\n movq $0x5a5a5a5a5a5a5a5a, %%rbx\n movq %%rbx, -16(%%rax)\n"             \
        "movq %%rbx, -120(%%rax)\n"                                                                 \
        "movq $1, %%rax\n movq %%rax, %%xmm0\n movq $2, %%rax\n movq %%rax, %%xmm1\n"               \
        "movq $3, %%rax\n movq %%rax, %%xmm7\n movq $4, %%rax\n movq %%rax, %%xmm8\n"               \
        "movq $5, %%rax\n movq %%rax, %%xmm15\n"                                                    \
        "movq $0x11, %%rax\n movq $0x22, %%rcx\n movq $0x33, %%rdx\n movq $0x44, %%rsi\n"           \
        "movq $0x88, %%r8\n movq $0x99, %%r9\n movq $0xaa, %%r10\n movq $0xbb, %%r11\n"            \
        "pushq %%rdi\n movq $0x77, %%rdi\n" insn "\n"                                               \
        "movq %%rdi, %%rbx\n popq %%rdi\n"                                                          \
        "movq %%rax, 0(%%rdi)\n movq %%rcx, 8(%%rdi)\n movq %%rdx, 16(%%rdi)\n movq %%rsi, 24(%%rdi)\n" \
        "movq %%rbx, 32(%%rdi)\n movq %%r8, 40(%%rdi)\n movq %%r9, 48(%%rdi)\n movq %%r10, 56(%%rdi)\n" \
        "movq %%r11, 64(%%rdi)\n movq %%xmm0, %%rax\n movq %%rax, 72(%%rdi)\n"                     \
        "movq %%xmm1, %%rax\n movq %%rax, 80(%%rdi)\n movq %%xmm7, %%rax\n movq %%rax, 88(%%rdi)\n" \
        "movq %%xmm8, %%rax\n movq %%rax, 96(%%rdi)\n movq %%xmm15, %%rax\n movq %%rax, 104(%%rdi)\n" \
        "movq -16(%%rsp), %%rax\n movq %%rax, 112(%%rdi)\n movq -120(%%rsp), %%rax\n movq %%rax, 120(%%rdi)\n" \
        :                                                                                           \
        : "D"(out)                                                                                  \
        : "rax", "rbx", "rcx", "rdx", "rsi", "r8", "r9", "r10", "r11", "xmm0", "xmm1", "xmm7", "xmm8", \
          "xmm15", "memory");                                                                       \
    static const uint64_t want[16] = {0x11, 0x22, 0x33, 0x44, 0x77, 0x88, 0x99, 0xaa, 0xbb, 1, 2, 3, 4, 5, \
                                      0x5a5a5a5a5a5a5a5aull, 0x5a5a5a5a5a5a5a5aull};               \
    ok = 1;                                                                                         \
    for (int k = 0; k < 16; k++)                                                                    \
      if (out[k] != want[k]) {                                                                      \
        if (ok) printf("  slot %d: %#lx, want %#lx\n", k, (unsigned long)out[k], (unsigned long)want[k]); \
        ok = 0;                                                                                     \
      }                                                                                             \
  } while (0)

static USM_USER_DATA char stack[8192] __attribute__((aligned(16)));
static USM_USER_DATA volatile uint64_t child_out[3];

static USM_USER_TEXT void child(void *arg) {
  (void)arg;
  uint64_t a, b, c;
  __asm__ volatile("movq $0x1234, %%rax\n movq %%rax, %%xmm3\n movq $0x5678, %%rax\n movq %%rax, %%xmm9\n"
                   "movq $39, %%rax\n syscall\n movq %%xmm3, %0\n movq %%xmm9, %1\n"
                   "movq $39, %%rax\n syscall\n movq %%xmm3, %2\n"
                   : "=r"(a), "=r"(b), "=r"(c)
                   :
                   : "rax", "rcx", "r11", "xmm3", "xmm9", "memory");
  child_out[0] = a;
  child_out[1] = b;
  child_out[2] = c;
  for (;;) __asm__ volatile("movq $231, %%rax\n syscall" ::: "rax", "rcx", "r11");
}

int main(void) {
  usmtest_enter(0);
  int ok;
  usm_register_intr_handler(USM_VEC_BP, clobber);
  STATE_TEST("int3", ok);
  CHECK(ok, "int3 at CPL0: registers, XMM and the red zone preserved");
  usm_register_pgflt_handler(clobber_pf);
  char *fresh = (char *)0xffff8f8000000000ull;
  __asm__ volatile("" ::"r"(fresh));
  STATE_TEST("movq $0xffff8f8000000000, %%rbx\n movb $1, (%%rbx)", ok);
  CHECK(ok && fresh[0] == 1, "#PF at CPL0: registers, XMM and the red zone preserved");
  usm_trap_fpu_full = 1;
  STATE_TEST("int3", ok);
  CHECK(ok, "the same with usm_trap_fpu_full");
  usm_trap_fpu_full = 0;

  usm_map_user_sections(usm_root);
  struct usm_fpu fpu;
  usm_fpu_save(&fpu);
  struct usm_tf tf;
  usm_init_user_tf(&tf, child, 0, stack + sizeof stack);
  int syscalls = 0;
  for (;;) {
    int r = usm_jump_to_user_fpu(&tf, &fpu);
    if (r != USM_UEXIT_SYSCALL || tf.rax != SYS_getpid) break;
    syscalls++;
    /* the supervisor uses the vector registers in between */
    __asm__ volatile("pcmpeqd %%xmm3, %%xmm3\n pcmpeqd %%xmm9, %%xmm9" ::: "xmm3", "xmm9");
    CHECK(tf.rax == SYS_getpid, "child syscall %d: getpid", syscalls);
    tf.rax = 1;
  }
  CHECK(syscalls == 2 && tf.rax == 231, "the child made 2 getpid calls, then exit_group");
  CHECK(child_out[0] == 0x1234 && child_out[1] == 0x5678 && child_out[2] == 0x1234,
        "the child's XMM registers survived its syscalls (usm_jump_to_user_fpu)");
  return usmtest_done();
}
