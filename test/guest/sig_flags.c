// sigaction flags and masks: SA_RESETHAND (one-shot), SA_NODEFER (re-entrant), sa_mask (a signal
// raised in the handler waits until it returns), the signal itself blocked during its handler,
// blocked signals pending until unblocked (then delivered lowest first, each frame nested),
// sigsuspend, sigwaitinfo / sigtimedwait, sigpending, a SIGPIPE handler, and signals raised by a
// handler (nested handlers run first).
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static char log_buf[4096];
static volatile int log_len;
static void note(const char *s) {
  size_t n = strlen(s);
  if (log_len + n > sizeof log_buf) return;
  memcpy(log_buf + log_len, s, n);
  log_len += (int)n;
}
static void flush_log(const char *what) {
  printf("%s: %.*s\n", what, log_len, log_buf);
  log_len = 0;
}

static volatile int depth, max_depth, calls;

static void h_simple(int sig) {
  char b[16];
  snprintf(b, sizeof b, "[%d]", sig);
  note(b);
}

static void h_reenter(int sig) {
  depth++;
  if (depth > max_depth) max_depth = depth;
  note("<");
  if (++calls < 4) raise(sig);
  note(">");
  depth--;
}

static void h_raise_other(int sig) {
  note("(usr1");
  raise(SIGUSR2); /* in sa_mask: waits until this handler returns */
  note(" after-raise");
  raise(SIGTERM); /* not masked: its handler runs now, nested */
  note(" usr1)");
  (void)sig;
}

static void h_mask_report(int sig) {
  sigset_t cur;
  sigprocmask(SIG_BLOCK, NULL, &cur);
  char b[64];
  snprintf(b, sizeof b, "{%d:self=%d,usr2=%d,int=%d}", sig, sigismember(&cur, sig), sigismember(&cur, SIGUSR2),
           sigismember(&cur, SIGINT));
  note(b);
}

static void install(int sig, void (*h)(int), int flags, const int *mask) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = h;
  sa.sa_flags = flags;
  sigemptyset(&sa.sa_mask);
  for (; mask && *mask; mask++) sigaddset(&sa.sa_mask, *mask);
  sigaction(sig, &sa, NULL);
}

int main(void) {
  /* SA_RESETHAND: the second raise gets SIG_DFL; for SIGURG that means ignore */
  install(SIGURG, h_simple, SA_RESETHAND, NULL);
  raise(SIGURG);
  raise(SIGURG);
  struct sigaction now;
  sigaction(SIGURG, NULL, &now);
  flush_log("resethand");
  printf("  handler now SIG_DFL=%d\n", now.sa_handler == SIG_DFL);

  /* without SA_NODEFER the handler's own signal is blocked: no re-entry until it returns */
  depth = max_depth = calls = 0;
  install(SIGUSR1, h_reenter, 0, NULL);
  raise(SIGUSR1);
  flush_log("defer");
  printf("  max depth=%d\n", max_depth);
  depth = max_depth = calls = 0;
  install(SIGUSR1, h_reenter, SA_NODEFER, NULL);
  raise(SIGUSR1);
  flush_log("nodefer");
  printf("  max depth=%d\n", max_depth);

  /* sa_mask and nesting */
  int m[] = {SIGUSR2, 0};
  install(SIGUSR1, h_raise_other, 0, m);
  install(SIGUSR2, h_simple, 0, NULL);
  install(SIGTERM, h_simple, 0, NULL);
  raise(SIGUSR1);
  flush_log("sa_mask");

  /* masks seen inside handlers */
  int m2[] = {SIGINT, 0};
  install(SIGHUP, h_mask_report, 0, m2);
  install(SIGQUIT, h_mask_report, SA_NODEFER, NULL);
  raise(SIGHUP);
  raise(SIGQUIT);
  flush_log("handler masks");

  /* several blocked signals, delivered when unblocked: lowest first, each in its own frame */
  sigset_t all, old, pend;
  sigemptyset(&all);
  int many[] = {SIGUSR2, SIGHUP, SIGALRM, SIGTERM, SIGCHLD, SIGWINCH};
  install(SIGALRM, h_simple, 0, NULL);
  install(SIGCHLD, h_simple, 0, NULL);
  install(SIGWINCH, h_simple, 0, NULL);
  install(SIGHUP, h_simple, 0, NULL);
  for (int i = 0; i < 6; i++) sigaddset(&all, many[i]);
  sigprocmask(SIG_BLOCK, &all, &old);
  for (int i = 0; i < 6; i++) raise(many[i]);
  raise(SIGUSR2); /* standard signals do not queue */
  sigpending(&pend);
  int npend = 0;
  for (int s = 1; s < 32; s++) npend += sigismember(&pend, s);
  flush_log("while blocked");
  printf("  pending=%d\n", npend);
  sigprocmask(SIG_SETMASK, &old, NULL);
  flush_log("after unblock");

  /* sigsuspend: waits with a temporary mask, returns EINTR after the handler */
  sigset_t usr2;
  sigemptyset(&usr2);
  sigaddset(&usr2, SIGUSR2);
  sigprocmask(SIG_BLOCK, &usr2, &old);
  raise(SIGUSR2);
  flush_log("before sigsuspend");
  int r = sigsuspend(&old);
  int e = errno;
  sigset_t after;
  sigprocmask(SIG_BLOCK, NULL, &after);
  flush_log("sigsuspend");
  printf("  r=%d EINTR=%d usr2 blocked again=%d\n", r, e == EINTR, sigismember(&after, SIGUSR2));

  /* sigwaitinfo takes a blocked pending signal without running its handler */
  raise(SIGUSR2);
  siginfo_t si;
  r = sigwaitinfo(&usr2, &si);
  flush_log("sigwaitinfo");
  printf("  r=%d si_signo=%d si_code=%d\n", r, si.si_signo, si.si_code);
  struct timespec ts = {0, 20 * 1000 * 1000};
  r = sigtimedwait(&usr2, &si, &ts);
  printf("sigtimedwait: r=%d EAGAIN=%d\n", r, errno == EAGAIN);
  sigprocmask(SIG_SETMASK, &old, NULL);

  /* SIGPIPE with a handler: write fails with EPIPE after the handler ran */
  install(SIGPIPE, h_simple, 0, NULL);
  int fds[2];
  if (pipe(fds) != 0) return 1;
  close(fds[0]);
  ssize_t w = write(fds[1], "x", 1);
  e = errno;
  flush_log("sigpipe");
  printf("  write=%zd EPIPE=%d\n", w, e == EPIPE);

  /* SIG_IGN discards a pending signal */
  sigprocmask(SIG_BLOCK, &usr2, &old);
  raise(SIGUSR2);
  signal(SIGUSR2, SIG_IGN);
  sigpending(&pend);
  printf("ignored while pending: still pending=%d\n", sigismember(&pend, SIGUSR2));
  sigprocmask(SIG_SETMASK, &old, NULL);
  return 0;
}
