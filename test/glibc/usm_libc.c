/*
 * Enters USM mode (when it can: natively there is no /dev/usm) and then does ordinary libc work
 * at CPL0 (libc_work.h). stdout is the same either way, which is what the test compares with a
 * native run; stderr says where the program ran and how libc's system calls reached Linux: the
 * number of `syscall` instructions libusm's LSTAR trampoline forwarded (0 with a libc from
 * glibc-patch/, which makes them with vmcall) and which libc.so.6 the program uses.
 */
#define _GNU_SOURCE
#include <dlfcn.h>

#include "usm/usm.h"

#include "libc_work.h"

int main(void) {
  int r = usm_init(0);
  if (r == 0) r = usm_enter();
  libc_work();
  Dl_info info;
  /* dlsym: in a non-PIE program `printf` names the executable's PLT entry */
  void *sym = dlsym(RTLD_DEFAULT, "getppid");
  const char *libc = sym && dladdr(sym, &info) && info.dli_fname ? info.dli_fname : "?";
  if (r == 0)
    fprintf(stderr, "usm: CPL%d, LSTAR trampoline entries: %lu, libc: %s\n", usm_cpl(), usm_lstar_kcalls(), libc);
  else
    fprintf(stderr, "usm: not entered (%s), libc: %s\n", strerror(-r), libc);
  return 0;
}
