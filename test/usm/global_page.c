/* Global pages: a translation with G survives a CR3 reload (a non-global one does not) and is
 * gone after toggling CR4.PGE. The PTE is changed without invlpg in between, so which physical
 * page a read reaches shows whether the old translation was still cached.
 *
 * The sequence runs three times and the last run is checked: usmjit drops the whole TLB when it
 * translates new code in USM mode, so only code that has run before sees cached translations. */
#include "usmtest.h"

#define VG ((volatile char *)0xffff8b0000000000ull)
#define VN ((volatile char *)0xffff8b0000200000ull)

static uint64_t a, b;
static usm_pte_t *g, *n;
static char r[6];

__attribute__((noinline)) static void sequence(void) {
  *g = (*g & ~USM_PTE_ADDR) | a;
  *n = (*n & ~USM_PTE_ADDR) | a;
  usm_flush_tlb_global();
  r[0] = VG[0];                       /* both cached now */
  r[1] = VN[0];
  *g = (*g & ~USM_PTE_ADDR) | b;      /* remap both to B, no invlpg */
  *n = (*n & ~USM_PTE_ADDR) | b;
  usm_write_cr3(usm_read_cr3());      /* flushes non-global entries only */
  r[2] = VG[0];
  r[3] = VN[0];
  usm_flush_tlb_global();             /* CR4.PGE off and on: everything */
  r[4] = VG[0];
  r[5] = VN[0];
}

int main(void) {
  usmtest_enter(0);
  a = usm_page_alloc();
  b = usm_page_alloc();
  *(char *)a = 'A';
  *(char *)b = 'B';
  usm_vm_map_phys(usm_root, (void *)VG, 4096, a, USM_PERM_RW | USM_PERM_G);
  usm_vm_map_phys(usm_root, (void *)VN, 4096, a, USM_PERM_RW);
  usm_vm_lookup(usm_root, (void *)VG, 0, &g);
  usm_vm_lookup(usm_root, (void *)VN, 0, &n);
  CHECK((*g & USM_PTE_G) && !(*n & USM_PTE_G), "one global and one non-global mapping of page A");
  CHECK(usm_read_cr4() & USM_CR4_PGE, "CR4.PGE is on");
  for (int i = 0; i < 3; i++) sequence();
  CHECK(r[0] == 'A' && r[1] == 'A', "before: both read A");
  CHECK(r[2] == 'A', "after a CR3 reload the global translation still reads %c (old page)", r[2]);
  CHECK(r[3] == 'B', "after a CR3 reload the non-global one reads %c (new page)", r[3]);
  CHECK(r[4] == 'B' && r[5] == 'B', "after toggling CR4.PGE the global one reads %c too", r[4]);
  return usmtest_done();
}
