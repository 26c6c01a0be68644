/* The TLB caches translations: after a PTE is changed without invalidation a read (or write)
 * still reaches the old page; invlpg or invpcid makes the new mapping visible.
 *
 * The sequence runs three times and the last run is checked: usmjit drops the whole TLB when it
 * translates new code in USM mode, so only code that has run before sees cached translations. */
#include "usmtest.h"

#define V ((volatile char *)0xffff8d0000000000ull)

static uint64_t a, b, c;
static usm_pte_t *e;
static char r[8];

__attribute__((noinline)) static void sequence(void) {
  ((char *)b)[1] = ((char *)c)[1] = ((char *)b)[2] = 0;
  *e = a | USM_PTE_P | USM_PTE_W | USM_PTE_NX;
  usm_invlpg((void *)V);
  r[0] = V[0];
  *e = (*e & ~USM_PTE_ADDR) | b; /* no invlpg */
  r[1] = V[0];
  usm_invlpg((void *)V);
  r[2] = V[0];
  /* a write through a cached writable translation (D already set) goes to the old page */
  V[2] = 'd';
  *e = (*e & ~USM_PTE_ADDR) | c;
  V[1] = 'w';
  usm_invlpg((void *)V);
  r[3] = ((char *)b)[1];
  r[4] = ((char *)c)[1] ? 'c' : '-';
  /* cleared PTE, not invalidated: still readable */
  (void)V[0];
  *e = 0;
  r[5] = V[0];
  /* invpcid type 0: one address of PCID 0 */
  *e = a | USM_PTE_P | USM_PTE_W | USM_PTE_NX;
  usm_invlpg((void *)V);
  (void)V[0];
  *e = (*e & ~USM_PTE_ADDR) | b;
  usm_invpcid(0, 0, (void *)V);
  r[6] = V[0];
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
  usm_vm_lookup(usm_root, (void *)V, 0, &e);
  for (int i = 0; i < 3; i++) sequence();
  CHECK(r[0] == 'A', "first read: %c", r[0]);
  CHECK(r[1] == 'A', "after changing the PTE without invlpg: %c (stale translation)", r[1]);
  CHECK(r[2] == 'B', "after invlpg: %c", r[2]);
  CHECK(r[3] == 'w' && r[4] == '-', "a write before invlpg (D already set and cached) went to the old page");
  CHECK(r[5] == 'C', "a cleared PTE without invlpg still reads through the old translation (%c)", r[5]);
  CHECK(r[6] == 'B', "invpcid type 0 invalidates the address (%c)", r[6]);
  return usmtest_done();
}
