/* A triple fault ends USM mode: with an empty IDT (limit 0), ud2 raises #UD (vector 6), whose
 * delivery faults (#GP: the gate is beyond the limit), which becomes a double fault (#DF, SDM
 * 6.15 table 6-5: contributory during delivery), whose delivery faults again: a triple fault. The
 * ioctl returns in Linux mode with cfg.ret == USM_RET_TRIPLE, the vector that started the chain
 * and its rip (docs/usm-abi.md), and libusm's end handler runs. Output printed in USM mode but not
 * yet flushed comes out first (exit() flushes it). */
#include "usmtest.h"

extern char triple_ud2[];

static void on_end(const struct usm_config *cfg) {
  CHECK(cfg->ret == USM_RET_TRIPLE, "USM mode ended with USM_RET_TRIPLE (ret=%ld)", (long)cfg->ret);
  CHECK(cfg->status == 6, "the chain started with #UD, vector 6 (status=%ld)", (long)cfg->status);
  CHECK(cfg->fault_rip == (uint64_t)triple_ud2, "fault_rip is the ud2");
  CHECK(usm_cpl() == 3, "back in Linux mode (CPL3)");
  exit(usmtest_done());
}

int main(void) {
  usm_set_end_handler(on_end);
  usmtest_enter(0);
  CHECK(usm_cpl() == 0, "in USM mode at CPL0");
  struct {
    uint16_t limit;
    uint64_t base;
  } __attribute__((packed)) empty = {0, 0};
  __asm__ volatile("lidt %0\n"
                   ".globl triple_ud2\n"
                   "triple_ud2: ud2\n"
                   :
                   : "m"(empty));
  CHECK(0, "ud2 with an empty IDT returned");
  return usmtest_done();
}
