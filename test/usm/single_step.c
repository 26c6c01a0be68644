/* RFLAGS.TF single step: after popf sets TF, a #DB trap (DR6.BS) follows each instruction, with rip
 * at the next one; the handler counts and clears TF in the frame after N steps. The traps must
 * land exactly on the instructions of a known straight-line sequence. */
#include "usmtest.h"

static volatile int steps;
static volatile int stop_after;
static volatile uint64_t rips[16];
static volatile uint64_t dr6_bs;

static void on_db(struct usm_tf *tf) {
  uint64_t dr6 = usm_read_dr6();
  usm_write_dr6(0);
  if (dr6 & (1 << 14)) dr6_bs++;
  if (steps < 16) rips[steps] = tf->rip;
  if (++steps == stop_after) tf->rflags &= ~0x100ull;
}

extern char seq_start[], seq_1[], seq_2[], seq_3[], seq_4[], seq_end[];

static void run(int n) {
  steps = 0;
  stop_after = n;
  __asm__ volatile(
      "pushfq\n orq $0x100, (%%rsp)\n popfq\n"
      ".globl seq_start\nseq_start: nop\n"
      ".globl seq_1\nseq_1: add $1, %%rax\n"
      ".globl seq_2\nseq_2: add $2, %%rax\n"
      ".globl seq_3\nseq_3: add $3, %%rax\n"
      ".globl seq_4\nseq_4: nop\n"
      ".globl seq_end\nseq_end: nop\n"
      ::: "rax", "memory", "cc");
}

int main(void) {
  usmtest_enter(0);
  usm_register_intr_handler(USM_VEC_DB, on_db);
  run(4);
  CHECK(steps == 4, "4 steps, then TF cleared by the handler: %d traps", steps);
  CHECK(rips[0] == (uint64_t)seq_1 && rips[1] == (uint64_t)seq_2 && rips[2] == (uint64_t)seq_3 && rips[3] == (uint64_t)seq_4,
        "each trap reports the next instruction (the first after the one following popf)");
  CHECK(dr6_bs == 4, "DR6.BS set on every step");
  dr6_bs = 0;
  run(1);
  CHECK(steps == 1 && rips[0] == (uint64_t)seq_1, "a single step");
  run(5);
  CHECK(steps == 5 && rips[4] == (uint64_t)seq_end, "5 steps end at the last nop");
  return usmtest_done();
}
