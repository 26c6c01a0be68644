// Timers that send signals: alarm, setitimer/getitimer, POSIX timers (timer_create, settime,
// gettime, getoverrun, delete), and how they interrupt pause, sigsuspend, nanosleep and
// sigtimedwait, and a loop that never makes a system call. Prints only what does not depend on
// timing.
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static volatile int alarms, vtalarms;
static volatile int last_code, last_value, max_overrun, max_getoverrun;
static timer_t cur_timer;
static volatile int have_timer;

static void on_alarm(int sig, siginfo_t *si, void *uc) {
  (void)sig, (void)uc;
  alarms++;
  last_code = si->si_code;
  last_value = si->si_value.sival_int;
  if (si->si_code == SI_TIMER && si->si_overrun > max_overrun) max_overrun = si->si_overrun;
  if (have_timer) {
    int o = timer_getoverrun(cur_timer); // the overrun of the signal being handled
    if (o > max_getoverrun) max_getoverrun = o;
  }
}

#define SHOW(what, call)                                       \
  do {                                                         \
    errno = 0;                                                 \
    int r_ = (call);                                           \
    printf("%s = %d %s\n", what, r_, r_ < 0 ? strerror(errno) : ""); \
  } while (0)

static void on_vtalarm(int sig) {
  (void)sig;
  vtalarms++;
}

static void install(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_alarm;
  sa.sa_flags = SA_SIGINFO;
  sigaction(SIGALRM, &sa, NULL);
}

int main(void) {
  install();
  setvbuf(stdout, NULL, _IONBF, 0);

  // alarm: the seconds left of the previous one; pause until it comes.
  printf("alarm(5) = %u\n", alarm(5));
  printf("alarm(0) = %u (the previous one had 5 s left)\n", alarm(0));
  struct itimerval it = {{0, 0}, {0, 200000}}; // 200 ms: it must not expire before pause() starts
  setitimer(ITIMER_REAL, &it, NULL);
  int r = pause();
  printf("pause = %d errno=%s, alarms=%d, si_code=%s\n", r, strerror(errno), alarms,
         last_code == SI_KERNEL ? "SI_KERNEL" : "other");

  // getitimer: a periodic timer reports its interval and at most that much left.
  struct itimerval per = {{0, 5000}, {0, 5000}}, cur, old;
  setitimer(ITIMER_REAL, &per, NULL);
  getitimer(ITIMER_REAL, &cur);
  printf("getitimer: interval=%ld.%06ld, value in (0, 5 ms]: %s\n", (long)cur.it_interval.tv_sec,
         (long)cur.it_interval.tv_usec, cur.it_value.tv_sec == 0 && cur.it_value.tv_usec > 0 && cur.it_value.tv_usec <= 5000 ? "yes" : "no");
  // sigsuspend until 5 periodic ticks.
  sigset_t none, alrm, oldmask;
  sigemptyset(&none);
  sigemptyset(&alrm);
  sigaddset(&alrm, SIGALRM);
  sigprocmask(SIG_BLOCK, &alrm, &oldmask);
  alarms = 0;
  while (alarms < 5) sigsuspend(&none);
  struct itimerval off = {{0, 0}, {0, 0}};
  setitimer(ITIMER_REAL, &off, &old);
  sigprocmask(SIG_SETMASK, &oldmask, NULL);
  printf("sigsuspend: ticks=%d, old interval=%ld us\n", alarms, (long)old.it_interval.tv_usec);
  getitimer(ITIMER_REAL, &cur);
  printf("disarmed: value=%ld.%06ld\n", (long)cur.it_value.tv_sec, (long)cur.it_value.tv_usec);
  SHOW("setitimer(bad usec)", setitimer(ITIMER_REAL, &(struct itimerval){{0, 0}, {0, 1000000}}, NULL));
  SHOW("getitimer(7)", getitimer(7, &cur));

  // nanosleep interrupted by a timer: EINTR with time left. (200 ms: the timer must not expire
  // before nanosleep starts, even when usmjit translates the code on the way on a loaded machine.)
  alarms = 0;
  it = (struct itimerval){{0, 0}, {0, 200000}};
  setitimer(ITIMER_REAL, &it, NULL);
  struct timespec req = {5, 0}, rem = {0, 0};
  r = nanosleep(&req, &rem);
  printf("nanosleep(5 s) = %d errno=%s, alarms=%d, rem in (4 s, 5 s): %s\n", r, strerror(errno), alarms,
         rem.tv_sec == 4 ? "yes" : "no");

  // A POSIX timer with a value; a loop without system calls receives its signals.
  timer_t t;
  struct sigevent sev;
  memset(&sev, 0, sizeof sev);
  sev.sigev_notify = SIGEV_SIGNAL;
  sev.sigev_signo = SIGALRM;
  sev.sigev_value.sival_int = 0x1234;
  SHOW("timer_create", timer_create(CLOCK_MONOTONIC, &sev, &t));
  cur_timer = t;
  have_timer = 1;
  struct itimerspec its = {{0, 2000000}, {0, 2000000}}, got;
  timer_settime(t, 0, &its, NULL);
  timer_gettime(t, &got);
  printf("timer_gettime: interval=%ld ns, value in (0, 2 ms]: %s\n", got.it_interval.tv_nsec,
         got.it_value.tv_sec == 0 && got.it_value.tv_nsec > 0 && got.it_value.tv_nsec <= 2000000 ? "yes" : "no");
  alarms = 0;
  volatile unsigned long spin = 0;
  while (alarms < 3) spin++;
  printf("busy loop: ticks=%d si_code=%s si_value=0x%x\n", alarms >= 3 ? 3 : alarms, last_code == SI_TIMER ? "SI_TIMER" : "other", last_value);

  // Blocked while it expires many times: one signal, with the missed expiries as overruns.
  sigprocmask(SIG_BLOCK, &alrm, NULL);
  alarms = 0;
  struct timespec pause20 = {0, 30000000};
  nanosleep(&pause20, NULL);
  sigprocmask(SIG_UNBLOCK, &alrm, NULL);
  have_timer = 0;
  printf("after 30 ms blocked: signals >= 1: %s, si_overrun >= 5: %s, timer_getoverrun in the handler >= 5: %s\n",
         alarms >= 1 ? "yes" : "no", max_overrun >= 5 ? "yes" : "no", max_getoverrun >= 5 ? "yes" : "no");
  SHOW("timer_delete", timer_delete(t));
  SHOW("timer_delete again", timer_delete(t));

  // SIGEV_NONE: nothing is sent, the time still runs down. Absolute times.
  sev.sigev_notify = SIGEV_NONE;
  timer_create(CLOCK_REALTIME, &sev, &t);
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  its = (struct itimerspec){{0, 0}, {now.tv_sec + 10, now.tv_nsec}};
  timer_settime(t, TIMER_ABSTIME, &its, NULL);
  timer_gettime(t, &got);
  printf("SIGEV_NONE absolute +10 s: value in (9 s, 10 s]: %s\n", got.it_value.tv_sec == 9 || (got.it_value.tv_sec == 10 && got.it_value.tv_nsec == 0) ? "yes" : "no");
  timer_delete(t);

  // sigtimedwait takes a blocked timer signal.
  sigprocmask(SIG_BLOCK, &alrm, NULL);
  sev.sigev_notify = SIGEV_SIGNAL;
  sev.sigev_value.sival_int = 77;
  timer_create(CLOCK_MONOTONIC, &sev, &t);
  its = (struct itimerspec){{0, 0}, {0, 10000000}};
  timer_settime(t, 0, &its, NULL);
  siginfo_t si;
  struct timespec wait = {5, 0};
  r = sigtimedwait(&alrm, &si, &wait);
  printf("sigtimedwait = %s si_code=%s si_value=%d\n", r == SIGALRM ? "SIGALRM" : "other", si.si_code == SI_TIMER ? "SI_TIMER" : "other", si.si_value.sival_int);
  timer_delete(t);
  sigprocmask(SIG_UNBLOCK, &alrm, NULL);

  // Errors.
  SHOW("timer_create(bad clock)", timer_create(12345, &sev, &t));
  SHOW("timer_create(CLOCK_MONOTONIC_RAW)", timer_create(CLOCK_MONOTONIC_RAW, &sev, &t));
  sev.sigev_signo = 100;
  SHOW("timer_create(bad signal)", timer_create(CLOCK_MONOTONIC, &sev, &t));
  sev.sigev_signo = SIGALRM;
  sev.sigev_notify = 99;
  SHOW("timer_create(bad notify)", timer_create(CLOCK_MONOTONIC, &sev, &t));
  SHOW("timer_settime(bad id)", timer_settime((timer_t)(long)999, 0, &its, NULL));
  its = (struct itimerspec){{0, 0}, {0, 1000000000}};
  sev.sigev_notify = SIGEV_NONE;
  timer_create(CLOCK_MONOTONIC, &sev, &t);
  SHOW("timer_settime(bad nsec)", timer_settime(t, 0, &its, NULL));
  timer_delete(t);

  // ITIMER_VIRTUAL runs on CPU time.
  signal(SIGVTALRM, on_vtalarm);
  it = (struct itimerval){{0, 0}, {0, 10000}};
  setitimer(ITIMER_VIRTUAL, &it, NULL);
  while (!vtalarms) spin++;
  printf("ITIMER_VIRTUAL: SIGVTALRM=%d\n", vtalarms);
  return 0;
}
