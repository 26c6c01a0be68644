// System information calls, printing only what is stable: whether uname/time/clock_gettime/
// gettimeofday/nanosleep/getpid/getrlimit/sysinfo succeed, that clocks move forward and agree
// with each other, and uname's sysname/machine.
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

int main(void) {
  struct utsname u;
  int ur = uname(&u);
  printf("uname rc=%d sysname=%s machine=%s release_nonempty=%d\n", ur, u.sysname, u.machine, u.release[0] != 0);
  time_t t = time(NULL);
  printf("time() plausible (after 2020): %d\n", t > 1577836800);
  struct timespec ts1, ts2, rt;
  int c1 = clock_gettime(CLOCK_MONOTONIC, &ts1);
  int c3 = clock_gettime(CLOCK_REALTIME, &rt);
  struct timeval tv;
  int g = gettimeofday(&tv, NULL);
  long diff = (long)tv.tv_sec - (long)rt.tv_sec;
  printf("clock_gettime mono=%d real=%d gettimeofday=%d real_vs_tod_close=%d real_vs_time_close=%d\n", c1, c3, g,
         diff >= -1 && diff <= 1, (long)rt.tv_sec - (long)t <= 2 && (long)rt.tv_sec >= (long)t);
  struct timespec req = {0, 2000000}, rem;
  int ns = nanosleep(&req, &rem);
  int c2 = clock_gettime(CLOCK_MONOTONIC, &ts2);
  long long el = (long long)(ts2.tv_sec - ts1.tv_sec) * 1000000000LL + (ts2.tv_nsec - ts1.tv_nsec);
  printf("nanosleep rc=%d mono rc=%d elapsed>=2ms: %d monotonic: %d\n", ns, c2, el >= 2000000, el > 0);
  struct timespec res;
  int gr = clock_getres(CLOCK_MONOTONIC, &res);
  printf("clock_getres mono rc=%d positive=%d\n", gr, res.tv_sec > 0 || res.tv_nsec > 0);
  int c4 = clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &res);
  printf("process cputime rc=%d\n", c4);
  printf("getpid>0: %d getppid>0: %d pid!=ppid: %d\n", getpid() > 0, getppid() > 0, getpid() != getppid());
  printf("uid==euid: %d gid==egid: %d\n", getuid() == geteuid(), getgid() == getegid());
  struct rlimit rl;
  int rr = getrlimit(RLIMIT_NOFILE, &rl);
  printf("getrlimit(NOFILE) rc=%d cur>=64: %d cur<=max: %d\n", rr, rl.rlim_cur >= 64, rl.rlim_cur <= rl.rlim_max);
  struct rusage ru;
  printf("getrusage rc=%d\n", getrusage(RUSAGE_SELF, &ru));
  char host[256];
  printf("gethostname rc=%d\n", gethostname(host, sizeof host));
  struct tm tmv;
  time_t fixed = 1700000000;
  gmtime_r(&fixed, &tmv);
  char fmt[64];
  strftime(fmt, sizeof fmt, "%Y-%m-%d %H:%M:%S %a %j", &tmv);
  printf("gmtime(1700000000) = %s\n", fmt);
  printf("mktime/timegm roundtrip: %d\n", timegm(&tmv) == fixed);
  return 0;
}
