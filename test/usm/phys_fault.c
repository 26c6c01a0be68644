/* An access through the supervisor's page tables to a guest-physical page the process has not
 * mapped (like an EPT violation) ends USM mode with cfg.ret == USM_RET_PHYS and the address. */
#include <sys/mman.h>

#include "usmtest.h"

#define VA ((volatile char *)0xffff8f0000000000ull)
static uint64_t pa;

static void on_end(const struct usm_config *cfg) {
  printf("USM mode ended: ret=%ld (%s)\n", (long)cfg->ret, cfg->ret == USM_RET_PHYS ? "USM_RET_PHYS" : "other");
  printf("fault_addr %s the unmapped physical address\n", cfg->fault_addr == pa + 0x123 ? "is" : "IS NOT");
  exit(cfg->ret == USM_RET_PHYS && cfg->fault_addr == pa + 0x123 ? 0 : 1);
}

int main(void) {
  usm_set_end_handler(on_end);
  usmtest_enter(0);
  /* a physical page that was mapped once and is no longer */
  char *m = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  pa = (uint64_t)m;
  munmap(m, 4096);
  usm_vm_map_phys(usm_root, (void *)VA, 4096, pa, USM_PERM_RW);
  printf("mapped a virtual page to an unmapped physical page\n");
  (void)VA[0x123];
  printf("not reached\n");
  return 1;
}
