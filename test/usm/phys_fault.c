/* An access through the supervisor's page tables to a guest-physical page the process has not
 * mapped (like an EPT violation) ends USM mode with cfg.ret == USM_RET_PHYS and the address
 * (docs/usm-abi.md: guest-physical addresses are the process's Linux-mode addresses). */
#include <sys/mman.h>

#include "usmtest.h"

#define VA ((volatile char *)0xffff8f0000000000ull)
static uint64_t pa;

static void on_end(const struct usm_config *cfg) {
  CHECK(cfg->ret == USM_RET_PHYS, "USM mode ended with USM_RET_PHYS (ret=%ld)", (long)cfg->ret);
  CHECK(cfg->fault_addr == pa + 0x123, "fault_addr is the unmapped physical address of the access");
  CHECK(usm_cpl() == 3, "back in Linux mode (CPL3)");
  exit(usmtest_done());
}

int main(void) {
  usm_set_end_handler(on_end);
  usmtest_enter(0);
  /* a physical page that was mapped once and is no longer */
  char *m = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  CHECK(m != MAP_FAILED, "mmap a page");
  pa = (uint64_t)m;
  CHECK(munmap(m, 4096) == 0, "munmap it");
  CHECK(usm_vm_map_phys(usm_root, (void *)VA, 4096, pa, USM_PERM_RW) == 0, "map a virtual page to that unmapped physical page");
  fflush(stdout);
  (void)VA[0x123];
  CHECK(0, "the access to an unmapped physical page returned");
  return usmtest_done();
}
