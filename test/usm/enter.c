/* Entering USM mode: CPL0 in the caller, descriptor tables loaded, printf/malloc/mmap through the
 * LSTAR entry (glibc's own syscall instructions), vmcall, exit status through USM_RET_EXIT. */
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "usmtest.h"

int main(void) {
  CHECK(usm_cpl() == 3, "Linux mode: CPL3 before usm_enter");
  fflush(stdout);
  usmtest_enter(0);
  CHECK(usm_cpl() == 0, "running at CPL0 after usm_enter");
  CHECK(usm_in_usm_mode(), "usm_in_usm_mode");
  CHECK((usm_read_cr0() & 0x80000001) == 0x80000001, "CR0.PG and PE set");
  CHECK((usm_read_cr3() & ~0xfffull) == (uint64_t)usm_root, "CR3 = usm_root");
  long pid1 = usm_vmcall0(SYS_getpid);
  long pid2 = getpid(); /* glibc: syscall instruction -> LSTAR -> vmcall */
  CHECK(pid1 > 0 && pid1 == pid2, "vmcall getpid == glibc getpid");
  CHECK(usm_syscall(SYS_getpid) == pid1, "usm_syscall getpid");

  /* malloc: small (brk) and large (mmap) */
  char *small = malloc(100000);
  char *big = malloc(8 << 20);
  CHECK(small && big, "malloc in USM mode");
  memset(small, 0x5a, 100000);
  memset(big, 0xa5, 8 << 20);
  long sum = 0;
  for (int i = 0; i < (8 << 20); i += 4096) sum += (unsigned char)big[i];
  CHECK(sum == 0xa5L * 2048 && small[99999] == 0x5a, "malloc'd memory usable");
  free(big);
  free(small);

  /* mmap / munmap / mprotect through glibc */
  char *m = mmap(0, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  CHECK(m != MAP_FAILED, "mmap in USM mode");
  m[0] = 1;
  m[(1 << 20) - 1] = 2;
  usm_pte_t *pte = 0;
  int lvl = usm_vm_lookup(usm_root, m + 4096, 0, &pte);
  CHECK(lvl == 0 && pte && (*pte & USM_PTE_P) && (*pte & USM_PTE_W) && (*pte & USM_PTE_NX) && !(*pte & USM_PTE_U) &&
            (*pte & USM_PTE_ADDR) == (uint64_t)(m + 4096),
        "mmap'd range mapped 1:1, RW, NX, supervisor-only");
  CHECK(mprotect(m, 4096, PROT_READ) == 0, "mprotect");
  usm_vm_lookup(usm_root, m, 0, &pte);
  CHECK(pte && (*pte & USM_PTE_P) && !(*pte & USM_PTE_W), "mprotect made the PTE read-only");
  CHECK(munmap(m, 1 << 20) == 0, "munmap");
  lvl = usm_vm_lookup(usm_root, m + 4096, 0, &pte);
  CHECK(lvl < 0 || !pte || *pte == 0, "munmap removed the mapping");

  char *p = usm_mmap(0, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  CHECK(p != MAP_FAILED, "usm_mmap");
  p[8191] = 7;
  CHECK(p[8191] == 7, "usm_mmap'd memory usable");
  fflush(stdout);
  /* (the line itself is checked against enter.out: printf's formatting) */
  int n = usm_printf("ok: usm_printf: %d %s\n", 42, "works");
  CHECK(n == 25, "usm_printf returned the 25 bytes of its line");
  fflush(stdout);
  return usmtest_done();
}
