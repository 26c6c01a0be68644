// A signal handler changes the saved MXCSR (rounding up, flags cleared); after rt_sigreturn the
// program's SSE arithmetic must round that way and set the flags it raises.
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <ucontext.h>

static void on_usr1(int sig, siginfo_t *si, void *ctx) {
  (void)sig; (void)si;
  ucontext_t *uc = ctx;
  uc->uc_mcontext.fpregs->mxcsr = (uc->uc_mcontext.fpregs->mxcsr & ~0x603fu) | 0x4000u; /* RC=up */
}

int main(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_usr1;
  sa.sa_flags = SA_SIGINFO;
  sigaction(SIGUSR1, &sa, 0);
  volatile double a = 1.0, b = 3.0;
  volatile float fa = 1.0f, fb = 3.0f;
  printf("before: %a %a\n", a / b, (double)(fa / fb));
  raise(SIGUSR1);
  unsigned m;
  __asm__ volatile("stmxcsr %0" : "=m"(m));
  printf("mxcsr after sigreturn: %#x\n", m);
  double q = a / b;
  float fq = fa / fb;
  __asm__ volatile("stmxcsr %0" : "=m"(m));
  printf("after: %a %a flags=%#x\n", q, (double)fq, m & 0x3f);
  return 0;
}
