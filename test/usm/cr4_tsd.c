/* CR4.TSD (SDM vol. 2, RDTSC/RDTSCP): with TSD set, rdtsc and rdtscp at CPL > 0 raise #GP(0) (a
 * fault: rip = the instruction); at CPL0, or with TSD clear, they run. Each line is the SDM's
 * rule checked against what the supervisor saw. */
#include "usmtest.h"

__asm__(".pushsection usm_user_text,\"ax\",@progbits\n"
        ".p2align 4\n"
        "u_rdtsc: rdtsc\n u_rdtsc_end: ud2\n"
        "u_rdtscp: rdtscp\n u_rdtscp_end: ud2\n"
        ".popsection\n");
extern char u_rdtsc[], u_rdtsc_end[], u_rdtscp[], u_rdtscp_end[];

static USM_USER_DATA char stack[8192] __attribute__((aligned(16)));

/* Runs stub at CPL3; with TSD it must #GP(0) at the stub, without it run to the ud2 after it. */
static void at_cpl3(const char *name, char *stub, char *end, int tsd) {
  struct usm_tf tf;
  usm_init_user_tf(&tf, (void (*)(void *))stub, 0, stack + sizeof stack);
  int r = usm_jump_to_user(&tf);
  int vec = r - USM_UEXIT_TRAP;
  if (tsd)
    CHECK(vec == USM_VEC_GP && tf.err == 0 && tf.rip == (uint64_t)stub,
          "CR4.TSD=1: %s at CPL3 -> #GP(0) at the instruction (vector %d err %lu)", name, vec, (unsigned long)tf.err);
  else
    CHECK(vec == USM_VEC_UD && tf.rip == (uint64_t)end && (tf.rdx >> 32) == 0,
          "CR4.TSD=0: %s at CPL3 runs (next: the ud2 after it, vector %d)", name, vec);
}

static volatile int cpl0_faults;
static void on_gp(struct usm_tf *tf) { cpl0_faults++; tf->rip += 2; }

int main(void) {
  usmtest_enter(0);
  usm_map_user_sections(usm_root);
  const uint64_t TSD = 1ull << 2;
  CHECK(!(usm_read_cr4() & TSD), "CR4.TSD clear at entry");
  at_cpl3("rdtsc", u_rdtsc, u_rdtsc_end, 0);
  at_cpl3("rdtscp", u_rdtscp, u_rdtscp_end, 0);

  usm_write_cr4(usm_read_cr4() | TSD);
  CHECK(usm_read_cr4() & TSD, "CR4.TSD reads back set");
  at_cpl3("rdtsc", u_rdtsc, u_rdtsc_end, 1);
  at_cpl3("rdtscp", u_rdtscp, u_rdtscp_end, 1);
  /* CPL0 is not affected by TSD */
  usm_register_intr_handler(USM_VEC_GP, on_gp);
  uint64_t t0 = usm_rdtsc();
  unsigned lo, hi, aux;
  __asm__ volatile("rdtscp" : "=a"(lo), "=d"(hi), "=c"(aux));
  uint64_t t1 = ((uint64_t)hi << 32) | lo;
  usm_register_intr_handler(USM_VEC_GP, 0);
  CHECK(cpl0_faults == 0 && t1 >= t0, "CR4.TSD=1: rdtsc and rdtscp at CPL0 run, time goes on");

  usm_write_cr4(usm_read_cr4() & ~TSD);
  at_cpl3("rdtsc", u_rdtsc, u_rdtsc_end, 0);
  return usmtest_done();
}
