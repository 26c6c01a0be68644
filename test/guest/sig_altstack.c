// sigaltstack with SA_ONSTACK: the handler's frame is on the alternate stack, uc_stack describes
// it, sigaltstack reports SS_ONSTACK inside (and refuses changes: EPERM), a nested signal lands
// deeper on the same stack, a handler without SA_ONSTACK stays on the normal stack, SS_AUTODISARM
// disarms the stack while its handler runs, and a stack overflow caught on the alternate stack.
#define _GNU_SOURCE
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>

#ifndef SS_AUTODISARM
#define SS_AUTODISARM (1U << 31)
#endif
#define ALT_SIZE (256 * 1024)

static char *alt;
static volatile uintptr_t where[4];
static volatile int nest, uc_ok, cur_flags, change_errno, cur_disabled_in, ss_flags_saved;

static int on_alt(uintptr_t p) { return p >= (uintptr_t)alt && p < (uintptr_t)alt + ALT_SIZE; }

static void h(int sig, siginfo_t *si, void *ucv) {
  ucontext_t *uc = ucv;
  char local;
  (void)si;
  int level = nest++;
  where[level] = (uintptr_t)&local;
  if (level == 0) {
    uc_ok = uc->uc_stack.ss_sp == alt && uc->uc_stack.ss_size == ALT_SIZE;
    ss_flags_saved = uc->uc_stack.ss_flags;
    stack_t cur, n;
    sigaltstack(NULL, &cur);
    cur_flags = cur.ss_flags;
    memset(&n, 0, sizeof n);
    n.ss_flags = SS_DISABLE;
    change_errno = sigaltstack(&n, NULL) == 0 ? 0 : errno;
    if (sig == SIGUSR1) raise(SIGUSR2); /* nested, also SA_ONSTACK */
  }
  nest--;
}

static sigjmp_buf jb;
static volatile uintptr_t overflow_sp;
static void on_overflow(int sig) {
  char local;
  overflow_sp = (uintptr_t)&local;
  siglongjmp(jb, sig);
}

static int recurse(int n) {
  volatile char pad[1024];
  pad[0] = (char)n;
  return recurse(n + 1) + pad[0];
}

int main(void) {
  alt = malloc(ALT_SIZE);
  stack_t ss = {.ss_sp = alt, .ss_size = ALT_SIZE, .ss_flags = 0};
  printf("sigaltstack: %d\n", sigaltstack(&ss, NULL));
  stack_t cur;
  sigaltstack(NULL, &cur);
  printf("outside: flags=%d sp_ok=%d size_ok=%d\n", cur.ss_flags, cur.ss_sp == alt, cur.ss_size == ALT_SIZE);

  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = h;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
  sigaction(SIGUSR1, &sa, NULL);
  sigaction(SIGUSR2, &sa, NULL);
  raise(SIGUSR1);
  printf("onstack: on alt=%d nested on alt=%d nested deeper=%d uc_stack ok=%d ss_flags=%d inside flags=%d "
         "change errno EPERM=%d\n",
         on_alt(where[0]), on_alt(where[1]), where[1] < where[0], uc_ok, ss_flags_saved, cur_flags,
         change_errno == EPERM);

  sa.sa_flags = SA_SIGINFO;
  sigaction(SIGHUP, &sa, NULL);
  raise(SIGHUP);
  printf("no SA_ONSTACK: on alt=%d\n", on_alt(where[0]));

  /* SS_AUTODISARM: disarmed while the handler runs, back afterwards (rt_sigreturn restores it) */
  ss.ss_flags = SS_AUTODISARM;
  int r = sigaltstack(&ss, NULL);
  raise(SIGUSR1);
  sigaltstack(NULL, &cur);
  printf("autodisarm: rc=%d on alt=%d nested on alt=%d saved flags autodisarm=%d inside flags=%#x change errno=%d "
         "after: flags=%#x sp_ok=%d\n",
         r, on_alt(where[0]), on_alt(where[1]), (ss_flags_saved & SS_AUTODISARM) != 0, (unsigned)cur_flags,
         change_errno, (unsigned)cur.ss_flags, cur.ss_sp == alt);

  /* a stack overflow: SIGSEGV on the normal stack could not run, on the alternate one it can */
  struct sigaction so;
  memset(&so, 0, sizeof so);
  so.sa_handler = on_overflow;
  so.sa_flags = SA_ONSTACK;
  sigaction(SIGSEGV, &so, NULL);
  ss.ss_flags = 0;
  sigaltstack(&ss, NULL);
  if (!sigsetjmp(jb, 1)) {
    recurse(0);
    printf("overflow: not reached\n");
  } else {
    printf("overflow: caught on alt stack=%d\n", on_alt(overflow_sp));
  }
  ss.ss_flags = SS_DISABLE;
  printf("disable: %d\n", sigaltstack(&ss, NULL));
  sigaltstack(NULL, &cur);
  printf("disabled: flags=%d\n", cur.ss_flags);
  return 0;
}
