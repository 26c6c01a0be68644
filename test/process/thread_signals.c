/* Signals and threads: pthread_kill reaches the named thread; a process-directed signal goes to
 * the thread that does not block it; a thread blocked in read() on a pipe is interrupted (EINTR)
 * by a signal sent to it; sigwait in one thread takes a signal the others block. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static volatile pid_t handled_by;
static pid_t tid(void) { return (pid_t)syscall(SYS_gettid); }
static void on_sig(int s) { (void)s; handled_by = tid(); }

static volatile pid_t b_tid, c_tid;
static volatile int go;
static int pipefd[2];
static volatile int read_result, read_errno;

static void *thread_b(void *a) { (void)a; b_tid = tid(); while (!go) sched_yield(); return 0; }

static void *thread_c(void *a) {
  (void)a;
  sigset_t s; sigemptyset(&s); sigaddset(&s, SIGUSR2);
  pthread_sigmask(SIG_UNBLOCK, &s, 0);
  c_tid = tid();
  while (!go) sched_yield();
  return 0;
}

static void *reader(void *a) {
  (void)a;
  char buf[4];
  read_result = (int)read(pipefd[0], buf, sizeof buf);
  read_errno = errno;
  return 0;
}

int main(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_sig;
  sigaction(SIGUSR1, &sa, 0);
  sigaction(SIGUSR2, &sa, 0);
  sigaction(SIGURG, &sa, 0);
  /* Everyone blocks SIGUSR2 except thread C (which unblocks it). */
  sigset_t s; sigemptyset(&s); sigaddset(&s, SIGUSR2);
  pthread_sigmask(SIG_BLOCK, &s, 0);
  pthread_t b, c;
  pthread_create(&b, 0, thread_b, 0);
  pthread_create(&c, 0, thread_c, 0);
  while (!b_tid || !c_tid) sched_yield();

  pthread_kill(b, SIGUSR1);
  while (!handled_by) sched_yield();
  printf("pthread_kill: handled by the named thread: %d\n", handled_by == b_tid);

  handled_by = 0;
  kill(getpid(), SIGUSR2);
  while (!handled_by) sched_yield();
  printf("kill: handled by the one thread not blocking it: %d\n", handled_by == c_tid);
  go = 1;
  pthread_join(b, 0);
  pthread_join(c, 0);

  /* A thread blocked reading an empty pipe, interrupted by a signal without SA_RESTART. */
  pipe(pipefd);
  pthread_t r;
  pthread_create(&r, 0, reader, 0);
  usleep(100000);
  pthread_kill(r, SIGURG);
  pthread_join(r, 0);
  printf("read interrupted: result %d, EINTR %d\n", read_result, read_errno == EINTR);

  /* sigwait takes a pending blocked signal. */
  sigset_t w; sigemptyset(&w); sigaddset(&w, SIGUSR2);
  pthread_sigmask(SIG_BLOCK, &w, 0);
  raise(SIGUSR2);
  int got = 0;
  sigwait(&w, &got);
  printf("sigwait got %s\n", got == SIGUSR2 ? "SIGUSR2" : "something else");
  return 0;
}
