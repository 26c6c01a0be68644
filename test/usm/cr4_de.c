/* CR4.DE (SDM vol. 3, 17.2.2): with DE clear, DR4 and DR5 are aliases of DR6 and DR7; with DE
 * set, any mov to or from DR4/DR5 raises #UD (a fault: rip = the instruction). DR6/DR7 work
 * either way. */
#include "usmtest.h"

/* CPL0 accessors; the *_i label is the mov, *_e the ret after it. */
__asm__(".text\n"
        "t_rddr4: xor %eax, %eax\n t_rddr4_i: mov %dr4, %rax\n t_rddr4_e: ret\n"
        "t_rddr5: xor %eax, %eax\n t_rddr5_i: mov %dr5, %rax\n t_rddr5_e: ret\n"
        "t_wrdr4: t_wrdr4_i: mov %rdi, %dr4\n t_wrdr4_e: ret\n"
        "t_wrdr5: t_wrdr5_i: mov %rdi, %dr5\n t_wrdr5_e: ret\n");
extern char t_rddr4_i[], t_rddr4_e[], t_rddr5_i[], t_rddr5_e[], t_wrdr4_i[], t_wrdr4_e[], t_wrdr5_i[], t_wrdr5_e[];
uint64_t t_rddr4(void), t_rddr5(void);
void t_wrdr4(uint64_t), t_wrdr5(uint64_t);

static volatile uint64_t got_vec, got_rip, got_err, resume;
static volatile int faults;
static void on_trap(struct usm_tf *tf) {
  faults++;
  got_vec = tf->vector, got_rip = tf->rip, got_err = tf->err;
  tf->rip = resume;
}

static uint64_t rd(int n) { uint64_t v; if (n == 6) __asm__ volatile("mov %%dr6, %0" : "=r"(v)); else __asm__ volatile("mov %%dr7, %0" : "=r"(v)); return v; }

/* One access with CR4.DE set: #UD at the mov. */
static void expect_ud(const char *what, char *insn, char *after, void (*run)(void)) {
  faults = 0, got_vec = got_rip = ~0ull, resume = (uint64_t)after;
  run();
  CHECK(faults == 1 && got_vec == USM_VEC_UD && got_rip == (uint64_t)insn,
        "CR4.DE=1: %s -> #UD at the instruction (faults %d, vector %ld)", what, faults, (long)got_vec);
}
static void r4(void) { t_rddr4(); }
static void r5(void) { t_rddr5(); }
static void w4(void) { t_wrdr4(0); }
static void w5(void) { t_wrdr5(0x400); }

int main(void) {
  usmtest_enter(0);
  const uint64_t DE = 1ull << 3;
  usm_register_intr_handler(USM_VEC_UD, on_trap);
  CHECK(!(usm_read_cr4() & DE), "CR4.DE clear at entry");

  /* DE clear: aliases. DR6's bit 0 (B0) is writable; DR7 keeps its reserved bit 10. */
  t_wrdr4(1);
  CHECK((rd(6) & 1) && t_rddr4() == rd(6), "CR4.DE=0: mov to DR4 writes DR6, DR4 reads DR6 (%#lx)", (unsigned long)rd(6));
  __asm__ volatile("mov %0, %%dr6" : : "r"(0ull));
  CHECK(!(t_rddr4() & 1), "CR4.DE=0: DR6 cleared, DR4 reads it cleared");
  t_wrdr5(0x400);
  CHECK(t_rddr5() == rd(7) && rd(7) == 0x400, "CR4.DE=0: DR5 reads DR7 (%#lx)", (unsigned long)t_rddr5());
  CHECK(faults == 0, "CR4.DE=0: no #UD");

  usm_write_cr4(usm_read_cr4() | DE);
  CHECK(usm_read_cr4() & DE, "CR4.DE reads back set");
  expect_ud("mov from DR4", t_rddr4_i, t_rddr4_e, r4);
  expect_ud("mov from DR5", t_rddr5_i, t_rddr5_e, r5);
  expect_ud("mov to DR4", t_wrdr4_i, t_wrdr4_e, w4);
  expect_ud("mov to DR5", t_wrdr5_i, t_wrdr5_e, w5);
  faults = 0;
  uint64_t d6 = rd(6), d7 = rd(7);
  CHECK(faults == 0 && (d6 & 0xffff0ff0) == 0xffff0ff0 && d7 == 0x400, "CR4.DE=1: DR6 and DR7 still accessible");

  usm_write_cr4(usm_read_cr4() & ~DE);
  CHECK(t_rddr5() == rd(7), "CR4.DE=0 again: DR5 is DR7 again");
  return usmtest_done();
}
