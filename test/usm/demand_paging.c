/* Demand paging: a page-fault handler maps a fresh pool page at the faulting address (a virtual
 * range in the kernel half that nothing maps); the faulting write is then retried and succeeds.
 * Also: the pool's reference counts as pages are mapped, aliased and unmapped. */
#include "usmtest.h"

#define REGION ((char *)0xffff880000000000ull)
#define NPAGES 64

static volatile int faults;
static volatile uint64_t last_err;

static void on_pgflt(uintptr_t addr, uint64_t err, struct usm_tf *tf) {
  if (addr < (uintptr_t)REGION || addr >= (uintptr_t)REGION + NPAGES * 4096ull) usm_unhandled_trap(tf);
  faults++;
  last_err = err;
  int r = usm_vm_map_pages(usm_root, (void *)(addr & ~0xfffull), 4096, USM_PERM_RW);
  if (r) usm_unhandled_trap(tf);
}

int main(void) {
  usmtest_enter(0);
  usm_register_pgflt_handler(on_pgflt);
  size_t free0 = usm_page_free_count();

  for (int i = 0; i < NPAGES; i++) REGION[i * 4096 + (i % 4096)] = (char)(i + 1);
  CHECK(faults == NPAGES, "%d faults for %d first touches", faults, NPAGES);
  CHECK(last_err == (USM_PF_W), "error code of a write to a missing page: %#lx", (unsigned long)last_err);
  long sum = 0;
  for (int i = 0; i < NPAGES; i++) sum += REGION[i * 4096 + (i % 4096)];
  CHECK(sum == NPAGES * (NPAGES + 1) / 2 && faults == NPAGES, "data reads back, no more faults (sum %ld)", sum);
  int zero = 1;
  for (int i = 0; i < 4096; i++)
    if (i != 0 && REGION[i]) zero = 0;
  CHECK(zero, "fresh pages are zero-filled");

  /* reads of a missing page fault too (error code 0) */
  faults = 0;
  usm_vm_unmap(usm_root, REGION, 4096);
  volatile char c = REGION[5];
  (void)c;
  CHECK(faults == 1 && last_err == 0, "a read of an unmapped page faults with error code %#lx", (unsigned long)last_err);

  /* reference counts: alias a pool page at a second address */
  usm_pte_t *pte;
  usm_vm_lookup(usm_root, REGION + 4096, 0, &pte);
  uint64_t pa = *pte & USM_PTE_ADDR;
  CHECK(usm_page_is_pool(pa) && usm_page_refcount(pa) == 1, "a demand page is a pool page with refcount 1");
  char *alias = REGION + 0x100000000ull;
  usm_vm_map_phys(usm_root, alias, 4096, pa, USM_PERM_RW | USM_PERM_REF);
  CHECK(usm_page_refcount(pa) == 2, "aliasing with USM_PERM_REF takes a reference");
  alias[1] = 99;
  CHECK(REGION[4096 + 1] == 99, "a write through the alias is seen at the original address");
  usm_vm_unmap(usm_root, REGION + 4096, 4096);
  usm_invlpg(REGION + 4096);
  CHECK(usm_page_refcount(pa) == 1, "unmapping the original puts one reference");
  usm_vm_unmap(usm_root, alias, 4096);
  CHECK(usm_page_refcount(pa) == 0, "unmapping the alias frees the page");
  usm_vm_unmap(usm_root, REGION, NPAGES * 4096ull);
  CHECK(usm_page_free_count() + 8 >= free0, "pages return to the pool");

  uint64_t a = usm_page_alloc();
  usm_page_get(a);
  usm_page_put(a);
  CHECK(usm_page_refcount(a) == 1, "get/put pair keeps the count");
  usm_page_put(a);
  CHECK(usm_page_refcount(a) == 0, "the last put frees");
  return usmtest_done();
}
