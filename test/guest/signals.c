// Signal delivery to handlers: raise() with sigaction handlers (SA_SIGINFO data, handler runs on
// the same stack, registers survive), a SIGSEGV handler that recovers with siglongjmp, blocked
// signals staying pending until unblocked, SIG_IGN, kill() to self, and sigaltstack.
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t got_usr1, got_usr2, info_signo, info_code_user;
static sigjmp_buf recover;
static volatile int on_alt;
static char *alt_base;

static void h_usr1(int sig) { got_usr1 += sig; }
static void h_info(int sig, siginfo_t *si, void *uc) {
  (void)uc;
  got_usr2++;
  info_signo = si->si_signo;
  info_code_user = si->si_code == SI_TKILL || si->si_code == SI_USER;
  char local;
  on_alt = alt_base && &local >= alt_base && &local < alt_base + 65536;
}
static void h_segv(int sig) { siglongjmp(recover, sig); }

int main(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = h_usr1;
  sigaction(SIGUSR1, &sa, NULL);
  volatile double keep = 1.25;
  long keepi = 77;
  raise(SIGUSR1);
  printf("after raise: got_usr1=%d locals kept=%d\n", got_usr1, keep == 1.25 && keepi == 77);

  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = h_info;
  sa.sa_flags = SA_SIGINFO;
  sigaction(SIGUSR2, &sa, NULL);
  kill(getpid(), SIGUSR2);
  printf("kill self: got_usr2=%d signo=%d user_code=%d\n", got_usr2, info_signo, info_code_user);

  /* blocked signals stay pending */
  sigset_t set, pend;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR1);
  sigprocmask(SIG_BLOCK, &set, NULL);
  raise(SIGUSR1);
  sigpending(&pend);
  printf("while blocked: got_usr1=%d pending=%d\n", got_usr1, sigismember(&pend, SIGUSR1));
  sigprocmask(SIG_UNBLOCK, &set, NULL);
  printf("after unblock: got_usr1=%d\n", got_usr1);

  /* ignored signal */
  signal(SIGUSR1, SIG_IGN);
  raise(SIGUSR1);
  printf("ignored: still alive, got_usr1=%d\n", got_usr1);

  /* SIGSEGV handler + siglongjmp */
  signal(SIGSEGV, h_segv);
  int r = sigsetjmp(recover, 1);
  if (r == 0) {
    volatile int *bad = (int *)16;
    *bad = 1;
    printf("not reached\n");
  } else {
    printf("recovered from signal %d\n", r);
  }
  /* and again, to show the handler is still installed and the mask was restored */
  r = sigsetjmp(recover, 1);
  if (r == 0) {
    volatile int *bad = (int *)32;
    printf("read %d\n", *bad);
  } else {
    printf("recovered again from signal %d\n", r);
  }

  /* alternate signal stack */
  stack_t ss;
  alt_base = malloc(65536);
  ss.ss_sp = alt_base;
  ss.ss_size = 65536;
  ss.ss_flags = 0;
  int ar = sigaltstack(&ss, NULL);
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = h_info;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
  sigaction(SIGUSR2, &sa, NULL);
  raise(SIGUSR2);
  printf("sigaltstack rc=%d handler ran on alt stack=%d got_usr2=%d\n", ar, on_alt, got_usr2);
  return 0;
}
