/*
 * A plain dynamically linked program (no USM): libc_work.h plus the system-call sites glibc-patch/
 * rewrote that a single-threaded run would not reach: threads (clone3/clone, futex waits and
 * wakes through a contended mutex and a condition variable, pthread_join), fork and waitpid,
 * posix_spawn (clone/vfork-style), getcontext/makecontext/swapcontext/setcontext (rt_sigprocmask),
 * syscall(), a signal handler (rt_sigaction, kill, rt_sigreturn). Run natively with Debian's libc,
 * natively with the patched one preloaded and under usmjit with it: stdout must be the same;
 * stderr names the libc.so.6 in use.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <ucontext.h>

#include "libc_work.h"

extern char **environ;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static long counter, ready;

static void *worker(void *arg) {
  long id = (long)arg;
  for (int i = 0; i < 20000; i++) {
    pthread_mutex_lock(&mu);
    counter += id;
    pthread_mutex_unlock(&mu);
  }
  pthread_mutex_lock(&mu);
  ready++;
  pthread_cond_broadcast(&cv);
  pthread_mutex_unlock(&mu);
  return (void *)(id * 10);
}

static void threads(void) {
  pthread_t t[4];
  for (long i = 0; i < 4; i++) pthread_create(&t[i], NULL, worker, (void *)(i + 1));
  pthread_mutex_lock(&mu);
  while (ready < 4) pthread_cond_wait(&cv, &mu);
  pthread_mutex_unlock(&mu);
  long rets = 0;
  for (int i = 0; i < 4; i++) {
    void *r;
    pthread_join(t[i], &r);
    rets += (long)r;
  }
  printf("threads: counter %ld, returns %ld\n", counter, rets);
}

static void processes(void) {
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    printf("fork: child runs\n");
    fflush(stdout);
    _exit(7);
  }
  int st = 0;
  waitpid(pid, &st, 0);
  printf("fork: child exit status %d\n", WEXITSTATUS(st));
  fflush(stdout);
  char *argv[] = {"true", NULL};
  pid_t sp;
  int e = posix_spawn(&sp, "/bin/true", NULL, NULL, argv, environ);
  waitpid(sp, &st, 0);
  printf("posix_spawn: %d, exit status %d\n", e, WEXITSTATUS(st));
}

static ucontext_t main_ctx, co_ctx;
static char co_stack[65536];
static int co_steps;

static void coroutine(void) {
  for (int i = 0; i < 3; i++) {
    co_steps++;
    swapcontext(&co_ctx, &main_ctx);
  }
}

static void contexts(void) {
  getcontext(&co_ctx);
  co_ctx.uc_stack.ss_sp = co_stack;
  co_ctx.uc_stack.ss_size = sizeof co_stack;
  co_ctx.uc_link = &main_ctx;
  makecontext(&co_ctx, coroutine, 0);
  int rounds = 0;
  while (co_steps < 3) {
    swapcontext(&main_ctx, &co_ctx);
    rounds++;
  }
  printf("contexts: %d steps in %d rounds\n", co_steps, rounds);
}

static volatile sig_atomic_t got;
static void on_usr1(int sig) { got = sig; }

static void signals_and_raw(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_usr1;
  sigaction(SIGUSR1, &sa, NULL);
  kill(getpid(), SIGUSR1);
  printf("signal: handler saw %d\n", (int)got);
  long same = syscall(SYS_getpid) == getpid();
  long bad = syscall(100000);
  int err = errno;
  printf("syscall(): getpid agrees %s, bad number %ld errno %d\n", same ? "yes" : "no", bad, err);
}

int main(void) {
  libc_work();
  threads();
  processes();
  contexts();
  signals_and_raw();
  Dl_info info;
  void *sym = dlsym(RTLD_DEFAULT, "getppid");
  fprintf(stderr, "libc: %s\n", sym && dladdr(sym, &info) && info.dli_fname ? info.dli_fname : "?");
  return 0;
}
