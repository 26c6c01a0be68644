/* `syscall` at CPL0 goes to LSTAR with rcx = the next rip and r11 = rflags (architectural), even
 * when the code before it just wrote rcx and r11; SFMASK clears IF. glibc's own syscalls at CPL0
 * then work through libusm's LSTAR entry (write, getpid, mmap). */
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "usmtest.h"

static volatile uint64_t seen_rcx, seen_r11, seen_rflags;

/* A bare LSTAR entry: record rcx, r11 and the flags, return to rcx with r11's flags. */
extern void bare_entry(void);
extern char after_syscall[];
__asm__(".text\n"
        "bare_entry:\n"
        "  movq %rcx, seen_rcx(%rip)\n"
        "  movq %r11, seen_r11(%rip)\n"
        "  pushfq\n"
        "  popq seen_rflags(%rip)\n"
        "  pushq %r11\n"
        "  popfq\n"
        "  jmp *%rcx\n");

int main(void) {
  usmtest_enter(0);
  uint64_t lstar = usm_rdmsr(USM_MSR_LSTAR);
  usm_wrmsr(USM_MSR_LSTAR, (uint64_t)bare_entry);
  uint64_t flags_before;
  __asm__ volatile("movq $0x1234, %%rcx\n"
                   "movq $0x5678, %%r11\n"
                   "pushfq\n"
                   "popq %0\n"
                   "syscall\n"
                   ".globl after_syscall\n"
                   "after_syscall:\n"
                   : "=r"(flags_before)
                   :
                   : "rcx", "r11", "memory", "cc");
  usm_wrmsr(USM_MSR_LSTAR, lstar);
  CHECK(seen_rcx == (uint64_t)after_syscall, "rcx = the address after syscall (%s)",
        seen_rcx == 0x1234 ? "got the stale 0x1234" : seen_rcx == (uint64_t)after_syscall ? "yes" : "other");
  CHECK((seen_r11 & ~0x10000ull) == (flags_before & ~0x10000ull), "r11 = rflags before the syscall (%s)",
        seen_r11 == 0x5678 ? "got the stale 0x5678" : "checked");
  CHECK((flags_before & 0x200) && !(seen_rflags & 0x200), "IF set before, cleared by SFMASK in the entry");
  CHECK(__builtin_ia32_readeflags_u64() & 0x200, "IF back on after returning");

  /* glibc through libusm's entry */
  fflush(stdout);
  static const char msg[] = "ok: write(2) from glibc at CPL0 reached stdout\n"; /* checked against the .out */
  CHECK(write(1, msg, sizeof msg - 1) == sizeof msg - 1, "glibc write");
  CHECK(getpid() == usm_vmcall0(SYS_getpid), "glibc getpid");
  char *m = mmap(0, 65536, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  CHECK(m != MAP_FAILED, "glibc mmap");
  m[65535] = 1;
  CHECK(munmap(m, 65536) == 0, "glibc munmap");
  return usmtest_done();
}
