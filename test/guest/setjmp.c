// setjmp/longjmp: simple, nested, from deep recursion, with volatile locals surviving, and
// sigsetjmp/siglongjmp with a saved signal mask.
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>

static jmp_buf env, env2;
static sigjmp_buf senv;
static int depth_reached;

static __attribute__((noinline)) void recurse(int n, int target) {
  volatile char pad[64];
  pad[0] = (char)n;
  if (n == target) {
    depth_reached = n + (pad[0] - (char)n);
    longjmp(env, n);
  }
  recurse(n + 1, target);
  pad[1] = 0; /* keep it from becoming a tail call */
}

static __attribute__((noinline)) void inner(int v) {
  if (setjmp(env2) == 0) {
    printf("inner: first pass %d\n", v);
    longjmp(env2, v + 100);
  } else {
    printf("inner: came back\n");
  }
  longjmp(env, v);
}

int main(void) {
  volatile int counter = 0;
  int r = setjmp(env);
  counter++;
  printf("setjmp returned %d, counter=%d\n", r, counter);
  if (counter < 4) longjmp(env, counter * 10);

  for (int t = 1; t <= 3000; t *= 7) {
    int v = setjmp(env);
    if (v == 0) recurse(0, t);
    else printf("longjmp out of depth %d (value %d)\n", depth_reached, v);
  }

  if ((r = setjmp(env)) == 0) inner(5);
  printf("after inner: %d\n", r);

  /* longjmp(env, 0) makes setjmp return 1 */
  volatile int once = 0;
  r = setjmp(env);
  if (!once) { once = 1; longjmp(env, 0); }
  printf("longjmp with 0 gives %d\n", r);

  /* sigsetjmp with mask save: block SIGUSR1 after the save, jump back, mask is restored */
  sigset_t set, cur;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR1);
  if (sigsetjmp(senv, 1) == 0) {
    sigprocmask(SIG_BLOCK, &set, NULL);
    sigprocmask(SIG_SETMASK, NULL, &cur);
    printf("blocked before jump: %d\n", sigismember(&cur, SIGUSR1));
    siglongjmp(senv, 1);
  }
  sigprocmask(SIG_SETMASK, NULL, &cur);
  printf("blocked after siglongjmp: %d\n", sigismember(&cur, SIGUSR1));
  return 0;
}
