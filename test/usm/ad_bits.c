/* Accessed and dirty bits: the MMU sets A on every level it walks and D on the leaf when
 * writing; usm_vm_walk sees them and can clear them; after invalidation the next access sets
 * them again. */
#include "usmtest.h"

#define VA ((char *)0xffff890000000000ull)
#define NPAGES 8

static int walk_seen, walk_a, walk_d;

static int clear_ad(void *arg, usm_pte_t *pte, void *va, int level) {
  (void)arg;
  (void)va;
  walk_seen += level == 0;
  walk_a += (*pte & USM_PTE_A) != 0;
  walk_d += (*pte & USM_PTE_D) != 0;
  *pte &= ~(USM_PTE_A | USM_PTE_D);
  return 0;
}

static usm_pte_t pte_of(volatile char *p) {
  usm_pte_t *e = 0;
  usm_vm_lookup(usm_root, (const void *)p, 0, &e);
  return e ? *e : 0;
}

int main(void) {
  usmtest_enter(0);
  CHECK(usm_vm_map_pages(usm_root, VA, NPAGES * 4096, USM_PERM_RW) == 0, "mapped %d fresh pages", NPAGES);
  volatile char *p = VA;
  usm_pte_t e = pte_of(p);
  CHECK(!(e & USM_PTE_A) && !(e & USM_PTE_D), "new PTE: A=0 D=0");
  (void)p[0];
  e = pte_of(p);
  CHECK((e & USM_PTE_A) && !(e & USM_PTE_D), "after a read: A=1 D=0");
  p[1] = 1;
  e = pte_of(p);
  CHECK((e & USM_PTE_A) && (e & USM_PTE_D), "after a write: A=1 D=1");
  /* the upper levels: A set on the PML4E, PDPTE and PDE walked */
  usm_pte_t l4 = usm_root[((uint64_t)VA >> 39) & 511];
  usm_pte_t *pdpt = (usm_pte_t *)(l4 & USM_PTE_ADDR);
  usm_pte_t l3 = pdpt[((uint64_t)VA >> 30) & 511];
  usm_pte_t *pd = (usm_pte_t *)(l3 & USM_PTE_ADDR);
  usm_pte_t l2 = pd[((uint64_t)VA >> 21) & 511];
  CHECK((l4 & USM_PTE_A) && (l3 & USM_PTE_A) && (l2 & USM_PTE_A), "A set on the PML4E, PDPTE and PDE");
  CHECK(!(pte_of(p + 4096) & USM_PTE_A), "an untouched neighbour stays A=0");

  /* write pages 2 and 5, read page 3 */
  p[2 * 4096] = 2;
  p[5 * 4096] = 5;
  (void)p[3 * 4096];
  walk_seen = walk_a = walk_d = 0;
  usm_vm_walk(usm_root, VA, VA + NPAGES * 4096, clear_ad, 0);
  CHECK(walk_seen == NPAGES && walk_a == 4 && walk_d == 3, "walk saw %d pages: %d accessed, %d dirty", walk_seen,
        walk_a, walk_d);
  e = pte_of(p);
  CHECK(!(e & (USM_PTE_A | USM_PTE_D)), "the walk cleared A and D");
  for (int i = 0; i < NPAGES; i++) usm_invlpg(VA + i * 4096);
  (void)p[0];
  e = pte_of(p);
  CHECK((e & USM_PTE_A) && !(e & USM_PTE_D), "after invlpg, a read sets A only");
  p[0] = 3;
  e = pte_of(p);
  CHECK((e & USM_PTE_D), "and a write sets D again");
  walk_seen = walk_a = walk_d = 0;
  usm_vm_walk(usm_root, VA, VA + NPAGES * 4096, clear_ad, 0);
  CHECK(walk_a == 1 && walk_d == 1, "second walk: %d accessed, %d dirty", walk_a, walk_d);
  return usmtest_done();
}
