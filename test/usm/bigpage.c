/* Large pages: a 2 MiB mapping (PS in the PDE) and a 1 GiB mapping (PS in the PDPTE) of
 * process memory at kernel-half addresses; the data is the same seen through the 1:1 map;
 * lookup and walk report the level; mprotect of one 4 KiB piece splits the 2 MiB page. */
#include <sys/mman.h>

#include "usmtest.h"

#define BIG_VA ((char *)0xffff8a0000000000ull)
#define HUGE_VA ((char *)0xffff8c0000000000ull)
#define HUGE_PA 0x7e0000000000ull /* 1 GiB-aligned; only one page of it is process memory */

static int levels[3];
static int count_levels(void *arg, usm_pte_t *pte, void *va, int level) {
  (void)arg;
  (void)pte;
  (void)va;
  levels[level]++;
  return 0;
}

static volatile uint64_t pf_err, pf_addr;
static void on_pgflt(uintptr_t addr, uint64_t err, struct usm_tf *tf) {
  (void)tf;
  pf_err = err;
  pf_addr = addr;
  usm_vm_mprotect(usm_root, (void *)(addr & ~0xfffull), 4096, USM_PERM_RW);
}

int main(void) {
  usmtest_enter(0);
  /* 2 MiB of process memory, 2 MiB-aligned */
  char *raw = mmap(0, 4 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  char *phys = (char *)(((uint64_t)raw + (2 << 20) - 1) & ~((2ull << 20) - 1));
  CHECK(usm_vm_map_phys(usm_root, BIG_VA, 2 << 20, (uint64_t)phys, USM_PERM_RW | USM_PERM_BIG) == 0, "2 MiB page mapped");
  usm_pte_t *e = 0;
  int lvl = usm_vm_lookup(usm_root, BIG_VA + 0x12345, 0, &e);
  CHECK(lvl == USM_LEVEL_2M && e && (*e & USM_PTE_PS) && (*e & USM_PTE_ADDR_BIG) == (uint64_t)phys,
        "lookup finds a PS entry at level %d", lvl);
  ((volatile char *)BIG_VA)[0x123456] = 'x';
  ((volatile char *)BIG_VA)[0x1ff000] = 'y';
  CHECK(phys[0x123456] == 'x' && phys[0x1ff000] == 'y', "writes through the 2 MiB page land in the process memory");
  phys[0x100] = 'z';
  CHECK(((volatile char *)BIG_VA)[0x100] == 'z', "and reads see it");
  CHECK((*e & USM_PTE_A) && (*e & USM_PTE_D), "A and D set on the 2 MiB entry");
  usm_vm_walk(usm_root, BIG_VA, BIG_VA + (2 << 20), count_levels, 0);
  CHECK(levels[1] == 1 && levels[0] == 0, "the walk sees one level-1 leaf");

  /* split: one 4 KiB piece read-only */
  usm_vm_mprotect(usm_root, BIG_VA + 0x5000, 4096, USM_PERM_R);
  lvl = usm_vm_lookup(usm_root, BIG_VA + 0x5000, 0, &e);
  CHECK(lvl == 0 && e && !(*e & USM_PTE_W) && (*e & USM_PTE_ADDR) == (uint64_t)phys + 0x5000, "mprotect split it into 4 KiB pages");
  ((volatile char *)BIG_VA)[0x6000] = 1;
  CHECK(pf_err == 0, "the neighbouring 4 KiB page is still writable");
  usm_register_pgflt_handler(on_pgflt);
  ((volatile char *)BIG_VA)[0x5008] = 2;
  CHECK(pf_err == (USM_PF_P | USM_PF_W) && pf_addr == (uint64_t)BIG_VA + 0x5008 && phys[0x5008] == 2,
        "the read-only piece faults (err=%#lx)", (unsigned long)pf_err);
  usm_register_pgflt_handler(0);

  /* 1 GiB page: one page of process memory inside the 1 GiB physical range */
  char *piece = mmap((void *)(HUGE_PA + 0x3456000), 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  CHECK(piece == (char *)(HUGE_PA + 0x3456000), "a page of process memory at %#llx", HUGE_PA + 0x3456000);
  piece[0x10] = 'G';
  CHECK(usm_vm_map_phys(usm_root, HUGE_VA, 1ull << 30, HUGE_PA, USM_PERM_RW | USM_PERM_HUGE) == 0, "1 GiB page mapped");
  lvl = usm_vm_lookup(usm_root, HUGE_VA + 0x3456010, 0, &e);
  CHECK(lvl == USM_LEVEL_1G && e && (*e & USM_PTE_PS), "lookup finds a PS entry at level %d", lvl);
  CHECK(((volatile char *)HUGE_VA)[0x3456010] == 'G', "a read through the 1 GiB page sees the process memory");
  ((volatile char *)HUGE_VA)[0x3456011] = 'H';
  CHECK(piece[0x11] == 'H', "a write through it lands there");
  return usmtest_done();
}
