/* A triple fault ends USM mode: with an empty IDT, ud2 raises #UD, which cannot be delivered
 * (#DF), which cannot be delivered either. The ioctl returns in Linux mode with cfg.ret ==
 * USM_RET_TRIPLE, and libusm's end handler runs (here: reports and exits 0). Output printed in
 * USM mode but not yet flushed comes out first (exit() flushes it). */
#include "usmtest.h"

extern char triple_ud2[];

static void on_end(const struct usm_config *cfg) {
  printf("USM mode ended: ret=%ld (%s)\n", (long)cfg->ret, cfg->ret == USM_RET_TRIPLE ? "USM_RET_TRIPLE" : "other");
  printf("status (vector) = %ld\n", (long)cfg->status);
  printf("fault_rip %s the ud2\n", cfg->fault_rip == (uint64_t)triple_ud2 ? "is" : "IS NOT");
  printf("back in Linux mode: cpl=%d\n", usm_cpl());
  exit(cfg->ret == USM_RET_TRIPLE && cfg->fault_rip == (uint64_t)triple_ud2 && usm_cpl() == 3 ? 0 : 1);
}

int main(void) {
  usm_set_end_handler(on_end);
  usmtest_enter(0);
  printf("in USM mode at CPL%d\n", usm_cpl());
  struct {
    uint16_t limit;
    uint64_t base;
  } __attribute__((packed)) empty = {0, 0};
  __asm__ volatile("lidt %0\n"
                   ".globl triple_ud2\n"
                   "triple_ud2: ud2\n"
                   :
                   : "m"(empty));
  printf("not reached\n");
  return 1;
}
