// abort() with a SIGABRT handler that returns: the handler runs, then abort() restores the default
// action and raises again, so the process still dies of SIGABRT (status 134).
// EXIT: 134
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static void h(int sig) {
  static const char msg[] = "SIGABRT handler ran\n";
  (void)sig;
  write(1, msg, sizeof msg - 1);
}

int main(void) {
  signal(SIGABRT, h);
  printf("calling abort\n");
  fflush(stdout);
  abort();
}
