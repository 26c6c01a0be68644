/* PCIDs: with CR4.PCIDE, each address space keeps its own cached translations; a CR3 write with
 * bit 63 (no-flush) keeps the new PCID's entries, one without it flushes them.
 *
 * The sequence runs three times and the last run is checked: usmjit drops the whole TLB when it
 * translates new code in USM mode, so only code that has run before sees cached translations. */
#include "usmtest.h"

#define V ((volatile char *)0xffff8e0000000000ull)

static uint64_t a, b, c;
static usm_pte_t *other, *e, *e2;
static char r[5];

__attribute__((noinline)) static void sequence(void) {
  *e = (*e & ~USM_PTE_ADDR) | a;
  *e2 = (*e2 & ~USM_PTE_ADDR) | b;
  usm_load_cr3(usm_root, 0, 0);
  r[0] = V[0];                   /* PCID 0 caches V -> A */
  usm_load_cr3(other, 1, 0);
  r[1] = V[0];                   /* PCID 1 caches V -> B */
  *e = (*e & ~USM_PTE_ADDR) | c; /* both mappings change to C, no invalidation */
  *e2 = (*e2 & ~USM_PTE_ADDR) | c;
  usm_load_cr3(usm_root, 0, 1);  /* back to PCID 0, no flush */
  r[2] = V[0];
  usm_load_cr3(other, 1, 1);     /* PCID 1, no flush */
  r[3] = V[0];
  usm_load_cr3(usm_root, 0, 0);  /* PCID 0 with flush */
  r[4] = V[0];
}

int main(void) {
  usmtest_enter(0);
  a = usm_page_alloc();
  b = usm_page_alloc();
  c = usm_page_alloc();
  *(char *)a = 'A';
  *(char *)b = 'B';
  *(char *)c = 'C';
  usm_vm_map_phys(usm_root, (void *)V, 4096, a, USM_PERM_RW);
  other = usm_vm_clone(usm_root);
  CHECK(other != 0, "cloned the address space");
  usm_vm_map_phys(other, (void *)V, 4096, b, USM_PERM_RW);
  usm_vm_lookup(usm_root, (void *)V, 0, &e);
  usm_vm_lookup(other, (void *)V, 0, &e2);
  CHECK(usm_enable_pcid() == 0 && (usm_read_cr4() & USM_CR4_PCIDE), "CR4.PCIDE on");
  usm_load_cr3(other, 1, 0);
  CHECK((usm_read_cr3() & 0xfff) == 1, "CR3 holds PCID 1");
  for (int i = 0; i < 3; i++) sequence();
  CHECK(r[0] == 'A' && r[1] == 'B', "each address space reads its own page (%c, %c)", r[0], r[1]);
  CHECK(r[2] == 'A', "back to PCID 0 with no-flush: the old translation survives (%c)", r[2]);
  CHECK(r[3] == 'B', "to PCID 1 with no-flush: its old translation survives too (%c)", r[3]);
  CHECK(r[4] == 'C', "PCID 0 with flush: the new mapping (%c)", r[4]);
  usm_vm_free(other);
  CHECK((usm_read_cr3() & ~0xfffull) == (uint64_t)usm_root, "back on usm_root");
  return usmtest_done();
}
