/* Debug registers: a data write watchpoint (DR0) raises #DB after each write to the watched
 * variable and not on reads; a read/write watchpoint catches reads too; an instruction
 * breakpoint (DR1) raises #DB before the instruction (the handler sets RF to go on). DR6 says
 * which one hit. */
#include "usmtest.h"

static volatile long watched;
static volatile long other;
static volatile int hits, gp_faults;
static volatile uint64_t last_dr6, last_rip;

static void on_db(struct usm_tf *tf) {
  hits++;
  last_dr6 = usm_read_dr6();
  last_rip = tf->rip;
  usm_write_dr6(0);
  tf->rflags |= 0x10000; /* RF: do not re-trigger an instruction breakpoint on return */
}

static void on_gp(struct usm_tf *tf) {
  /* a mov to/from a debug register the CPU rejects: skip it (3 bytes: 0f 23/21 modrm) */
  gp_faults++;
  tf->rip += 3;
}

__attribute__((noinline)) static long target(long x) { return x * 3 + 1; }

int main(void) {
  usmtest_enter(0);
  usm_register_intr_handler(USM_VEC_DB, on_db);
  usm_register_intr_handler(USM_VEC_GP, on_gp);
  CHECK(usm_set_watchpoint(0, (const void *)&watched, 8, USM_WATCH_WRITE) == 0 && gp_faults == 0, "DR0/DR7 written");
  CHECK((usm_read_dr7() & 0xf0003) == 0x90001, "DR7: L0, RW0=01 (write), LEN0=10 (8 bytes): %#lx",
        (unsigned long)usm_read_dr7());
  watched = 1;
  watched = 2;
  long v = watched;
  other = 5;
  watched = v + 1;
  CHECK(hits == 3, "3 writes -> %d #DB (reads and other variables do not hit)", hits);
  CHECK((last_dr6 & 0xf) == 0x1, "DR6.B0 set (and only B0 of B0-B3)");
  CHECK(watched == 3, "the writes happened (data watchpoints trap after the access)");

  hits = 0;
  usm_set_watchpoint(0, (const void *)&watched, 8, USM_WATCH_RW);
  v = watched;
  CHECK(hits == 1, "read/write watchpoint: a read hits (%d)", hits);
  usm_clear_watchpoint(0);
  hits = 0;
  watched = 9;
  CHECK(hits == 0, "cleared: no more hits");

  usm_set_watchpoint(1, (const void *)target, 1, USM_WATCH_EXEC);
  long r = target(4) + target(5);
  CHECK(hits == 2 && r == 13 + 16, "instruction breakpoint: %d hits, the function still runs", hits);
  CHECK(last_rip == (uint64_t)target && (last_dr6 & 0xf) == 0x2, "#DB before the instruction, DR6.B1");
  usm_clear_watchpoint(1);
  CHECK(gp_faults == 0, "no #GP from the debug registers");
  return usmtest_done();
}
