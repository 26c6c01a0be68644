// Leaving handlers with siglongjmp: out of SIGSEGV, SIGFPE (integer and x87), SIGILL and SIGTRAP
// handlers, repeatedly (the mask saved by sigsetjmp comes back each time), and out of a SIGSEGV
// raised inside another signal's handler (nested frames abandoned at once).
#define _GNU_SOURCE
#include <fenv.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static sigjmp_buf jb;
static volatile int last_code, depth;

static void jump(int sig, siginfo_t *si, void *uc) {
  (void)uc;
  last_code = si->si_code;
  siglongjmp(jb, sig);
}

static void usr1_faults(int sig) {
  (void)sig;
  depth++;
  *(volatile int *)0 = 1; /* SIGSEGV inside the SIGUSR1 handler */
}

static int blocked(int sig) {
  sigset_t cur;
  sigprocmask(SIG_BLOCK, NULL, &cur);
  return sigismember(&cur, sig);
}

int main(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = jump;
  sa.sa_flags = SA_SIGINFO;
  int sigs[] = {SIGSEGV, SIGFPE, SIGILL, SIGTRAP};
  for (int i = 0; i < 4; i++) sigaction(sigs[i], &sa, NULL);

  int counts[32] = {0};
  for (int round = 0; round < 200; round++) {
    int r = sigsetjmp(jb, 1);
    if (r) {
      counts[r]++;
      continue;
    }
    switch (round % 5) {
      case 0: *(volatile int *)(long)(round * 8) = round; break;
      case 1: { volatile int z = 0; volatile int x = round / z; (void)x; break; }
      case 2: __asm__ volatile("ud2"); break;
      case 3: __asm__ volatile("int3"); break;
      case 4: { volatile long *p = (long *)0xdead0000; (void)*p; break; }
    }
    printf("round %d: not reached\n", round);
  }
  printf("segv=%d fpe=%d ill=%d trap=%d segv blocked after=%d\n", counts[SIGSEGV], counts[SIGFPE], counts[SIGILL],
         counts[SIGTRAP], blocked(SIGSEGV));

  /* x87: an unmasked divide-by-zero raises #MF at the next x87 instruction */
  feclearexcept(FE_ALL_EXCEPT);
  int r = sigsetjmp(jb, 1);
  if (!r) {
    feenableexcept(FE_DIVBYZERO);
    volatile long double a = 1.0L, b = 0.0L;
    volatile long double c = a / b;
    (void)c;
    printf("x87: not reached\n");
  } else {
    fedisableexcept(FE_ALL_EXCEPT);
    printf("x87: signal %d code=%d (FPE_FLTDIV=%d)\n", r, last_code, FPE_FLTDIV);
  }
  __asm__ volatile("fninit");

  /* a fault in a SIGUSR1 handler: both frames are abandoned, the masks come back */
  signal(SIGUSR1, usr1_faults);
  for (int i = 0; i < 3; i++) {
    r = sigsetjmp(jb, 1);
    if (!r) raise(SIGUSR1);
    printf("nested %d: r=%d depth=%d usr1 blocked=%d segv blocked=%d\n", i, r, depth, blocked(SIGUSR1), blocked(SIGSEGV));
  }
  return 0;
}
