// A signal frame that cannot be written: a SIGUSR1 raised with rsp pointing at unmapped memory
// turns into SIGSEGV, which a handler on the alternate stack catches; then a fault with a bad
// stack and no alternate stack kills the process (status 139), handler or not.
// EXIT: 139
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static sigjmp_buf jb;
static volatile int usr1_ran, segv_ran;
static void on_usr1(int sig) { (void)sig; usr1_ran++; }
static void on_segv(int sig) { segv_ran++; siglongjmp(jb, sig); }

int main(void) {
  long pid = getpid(), tid = syscall(SYS_gettid);
  stack_t ss = {.ss_sp = malloc(65536), .ss_size = 65536, .ss_flags = 0};
  sigaltstack(&ss, NULL);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_segv;
  sa.sa_flags = SA_ONSTACK;
  sigaction(SIGSEGV, &sa, NULL);
  signal(SIGUSR1, on_usr1);
  if (!sigsetjmp(jb, 1)) {
    /* tgkill(pid, tid, SIGUSR1) with rsp = 0x1000: the SIGUSR1 frame cannot be written */
    __asm__ volatile("mov %%rsp, %%r12\n\tmov $0x1000, %%rsp\n\tmov $234, %%eax\n\tmov %0, %%rdi\n\tmov %1, %%rsi\n\t"
                     "mov $10, %%edx\n\tsyscall\n\tmov %%r12, %%rsp"
                     : : "r"(pid), "r"(tid) : "rax", "rcx", "rdx", "rsi", "rdi", "r11", "r12", "memory");
    printf("not reached\n");
  }
  printf("bad frame for SIGUSR1: usr1 ran=%d segv ran=%d\n", usr1_ran, segv_ran);
  fflush(stdout);

  ss.ss_flags = SS_DISABLE;
  sigaltstack(&ss, NULL);
  if (!sigsetjmp(jb, 1)) {
    __asm__ volatile("mov $0x1000, %%rsp\n\tmovl $0, (%%rsp)" : : : "memory");
  }
  printf("not reached either: segv ran=%d\n", segv_ran);
  return 0;
}
