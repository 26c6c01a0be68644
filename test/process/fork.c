/* Processes as a C program sees them: fork with distinct exit codes, a pipe from an exec'd child,
 * a child killed by SIGTERM (and one by a fault), copy-on-write after fork, waitid, SIGCHLD,
 * vfork + exec, process groups. Every line printed is compared with a native run. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t chld;
static void on_chld(int s) { (void)s; chld++; }

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  /* A pipe from an exec'd child. */
  int fds[2];
  if (pipe(fds)) return 1;
  pid_t c = fork();
  if (c == 0) {
    close(fds[0]);
    dup2(fds[1], 1);
    execl("/bin/echo", "echo", "hello from an exec'd child", (char *)0);
    _exit(99);
  }
  close(fds[1]);
  char buf[200];
  int n, got = 0;
  while ((n = read(fds[0], buf + got, sizeof buf - 1 - got)) > 0) got += n;
  buf[got] = 0;
  int st;
  pid_t w = waitpid(c, &st, 0);
  printf("pipe: %d bytes: %s", got, buf);
  printf("waitpid: same pid %d, exited %d, code %d\n", w == c, WIFEXITED(st), WEXITSTATUS(st));

  /* Distinct exit codes, reaped in any order. */
  pid_t kids[4];
  for (int i = 0; i < 4; i++) if ((kids[i] = fork()) == 0) _exit(10 + i);
  int sum = 0, found = 0;
  for (int i = 0; i < 4; i++) {
    pid_t k = wait(&st);
    for (int j = 0; j < 4; j++) if (kids[j] == k && WEXITSTATUS(st) == 10 + j) found++;
    sum += WEXITSTATUS(st);
  }
  printf("exit codes: sum %d, each matched its pid: %d\n", sum, found);
  printf("no more children: %d\n", wait(&st) == -1);

  /* Killed by SIGTERM while it waits; killed by its own fault. */
  pid_t s = fork();
  if (s == 0) for (;;) pause();
  kill(s, SIGTERM);
  waitpid(s, &st, 0);
  printf("SIGTERM: signaled %d, signal %d\n", WIFSIGNALED(st), WTERMSIG(st));
  pid_t f = fork();
  if (f == 0) { volatile int *p = (int *)8; *p = 1; _exit(0); }
  waitpid(f, &st, 0);
  printf("fault: signaled %d, signal %d\n", WIFSIGNALED(st), WTERMSIG(st));

  /* Copy on write: the child's writes stay its own. */
  static int global = 1;
  char *heap = malloc(64);
  strcpy(heap, "parent");
  pid_t cw = fork();
  if (cw == 0) {
    global = 2;
    strcpy(heap, "child");
    _exit(global * 10 + (int)strlen(heap));
  }
  waitpid(cw, &st, 0);
  printf("cow: parent sees %d %s, child saw %d\n", global, heap, WEXITSTATUS(st));

  /* SIGCHLD with a handler, and waitid. */
  signal(SIGCHLD, on_chld);
  pid_t q = fork();
  if (q == 0) _exit(7);
  siginfo_t si;
  memset(&si, 0, sizeof si);
  while (waitid(P_PID, q, &si, WEXITED) == -1) {}
  printf("waitid: code %d status %d pid ok %d sigchld %d\n", si.si_code, si.si_status, si.si_pid == q, chld > 0);

  /* vfork + exec, and WNOHANG. */
  pid_t v = vfork();
  if (v == 0) { execl("/bin/true", "true", (char *)0); _exit(98); }
  waitpid(v, &st, 0);
  printf("vfork: exited %d code %d\n", WIFEXITED(st), WEXITSTATUS(st));
  printf("WNOHANG with no child: %d\n", waitpid(-1, &st, WNOHANG));

  /* Process groups. */
  pid_t g = fork();
  if (g == 0) { setpgid(0, 0); _exit(getpgrp() == getpid() ? 0 : 1); }
  waitpid(g, &st, 0);
  printf("setpgid in child: %d; parent pgrp unchanged: %d; ppid of child ok\n", WEXITSTATUS(st), getpgrp() == getpgid(0));
  return 3;
}
