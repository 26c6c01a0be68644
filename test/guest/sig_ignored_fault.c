// A fault signal that is ignored cannot be ignored: an integer division by zero with SIGFPE set to
// SIG_IGN still kills the process (status 136), as Linux forces the default action.
// EXIT: 136
#include <signal.h>
#include <stdio.h>

int main(void) {
  signal(SIGFPE, SIG_IGN);
  raise(SIGFPE); /* a sent SIGFPE is ignored */
  printf("raise(SIGFPE) ignored\n");
  fflush(stdout);
  volatile int z = 0;
  volatile int x = 10 / z;
  printf("not reached %d\n", x);
  return 0;
}
