// Leaving a SIGSEGV handler with longjmp (not siglongjmp) leaves SIGSEGV blocked; a fault while it
// is blocked cannot be handled, and Linux kills the process (status 139) instead of looping.
// EXIT: 139
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

static jmp_buf jb;
static volatile int handled;

static void h(int sig) {
  handled++;
  longjmp(jb, sig);
}

int main(void) {
  signal(SIGSEGV, h);
  if (!setjmp(jb)) *(volatile int *)0 = 1;
  sigset_t cur;
  sigprocmask(SIG_BLOCK, NULL, &cur);
  printf("handled=%d segv still blocked=%d\n", handled, sigismember(&cur, SIGSEGV));
  fflush(stdout);
  if (!setjmp(jb)) *(volatile int *)0 = 2;
  printf("not reached: handled=%d\n", handled);
  return 0;
}
