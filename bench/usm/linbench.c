/*
 * linbench: the plain-Linux side of the USM micro-benchmarks (issue 4). usmbench measures the same
 * primitives in USM mode (with libusm); bench/usm/run.ts (`npm run bench:usm`) runs usmbench under
 * usmjit, linbench under usmjit and linbench natively, and compares them.
 *
 *   gcc -O2 -static -o linbench linbench.c        (or: make -C bench/usm linbench)
 *   linbench [-t name[,name...]]... [scale]
 *
 * scale (default 1) multiplies every iteration count; -t runs only the named tests (repeatable).
 *
 * Output, one line per test:
 *   name: cycles=<n> ns=<x>        n = rdtsc cycles per operation (integer), x = CLOCK_MONOTONIC
 *                                  nanoseconds per operation (1 decimal)
 *   name: unsupported (<reason>)   the test cannot run here (the reason names the call and errno)
 * and correctness lines beginning with "# <name>: ": deterministic (fixed seeds and iteration
 * counts, never a timing), so that a native run and a run under usmjit with the same scale print
 * the same ones. Under usmjit rdtsc ticks at 1 GHz (it reads the host's monotonic clock), so there
 * cycles= equals ns=.
 *
 * The tests (an "operation" is what one line's numbers are per):
 *   syscall       syscall(SYS_gettid): one system call round trip.
 *                 (usmbench: vmcall getpid.)
 *   libc_syscall  getppid() through libc's wrapper (PLT, errno check): what a program pays per
 *                 system call. (usmbench: the same call at CPL0, where Debian's libc reaches Linux
 *                 through libusm's LSTAR trampoline and glibc-patch/'s libc with vmcall.)
 *   kernel_fault  a write to a page of freshly mmap'd anonymous memory: the kernel's demand-zero
 *                 fault. Memory is mapped and unmapped in batches outside the timed part.
 *   user_fault    a user-level page fault resolved by a user handler, one page: mprotect(page,
 *                 PROT_NONE); write to it; SIGSEGV (SA_SIGINFO) handler mprotects it RW and
 *                 returns through rt_sigreturn, which restarts the write. Per iteration, the
 *                 re-protecting mprotect included. (usmbench: clear P in the PTE + invlpg, #PF,
 *                 handler sets P, iret.)
 *   appel1        Appel & Li PROT1+TRAP+UNPROT: a 256-page region is written page after page; every
 *                 write hits a read-only page; the handler unprotects the faulting page and protects
 *                 the page 128 pages away (mprotect RW, mprotect R), so the region always has 128
 *                 protected pages and the next writes fault again. Per fault.
 *   appel2        Appel & Li PROTN+TRAP+UNPROT: one mprotect makes 100 pages read-only, then each
 *                 page is written in turn and the handler unprotects it (mprotect RW). Per page,
 *                 the protecting mprotect amortised over the 100 pages.
 *   trap          the trap alone: a write to a page that stays read-only; the handler does no
 *                 memory-management work, it only moves the saved rip past the faulting store (to
 *                 a label after it) and returns: #PF + signal frame + handler + rt_sigreturn.
 *   dirty_scan    the garbage collector's use case: find exactly the pages written in a 16 MiB
 *                 region since the last scan. Linux version: mprotect (portable: it works without
 *                 CONFIG_MEM_SOFT_DIRTY, without /proc, and under usmjit; the soft-dirty bit of
 *                 /proc/self/pagemap after writing "4" to /proc/self/clear_refs would be the
 *                 other choice). One operation = one collection cycle: mprotect the whole region
 *                 read-only ("clear the dirty bits"), write 256 pseudo-randomly chosen distinct
 *                 pages (the mutator), the SIGSEGV handler records each page in a bitmap and
 *                 unprotects it; the bitmap is then the dirty set. Each cycle's set is checked
 *                 (outside the timed part) against the pages written: any difference is an error
 *                 (exit 1). (usmbench: clear the D bits of the region's PTEs + flush, write, scan
 *                 the PTEs for D.)
 *   watchpoint    a data watchpoint hit: perf_event_open(PERF_TYPE_BREAKPOINT, HW_BREAKPOINT_W) on
 *                 a variable, with O_ASYNC + F_SETSIG(SIGIO) + F_SETOWN_EX (this thread): per hit,
 *                 the write, the debug trap, the perf overflow, the SIGIO delivery, the handler and
 *                 rt_sigreturn (the loop waits for the handler before the next write).
 *   timer         a timer interrupt round trip: the time a running loop loses to one timer signal.
 *                 A POSIX timer (timer_create CLOCK_MONOTONIC, SIGEV_SIGNAL SIGALRM, 100 us period)
 *                 interrupts a loop that reads rdtsc back to back; the gap between two consecutive
 *                 reads that spans a handler run is interrupt + timer expiry + signal delivery +
 *                 handler + rt_sigreturn + the loop's own iteration. The cost reported is the median
 *                 of those gaps minus the median of the ordinary gaps just before them. (This is
 *                 "(loop time with N timer signals - loop time without) / N", measured per signal;
 *                 the median keeps preemption by other processes out.)
 *   interpose     system call interposition: a seccomp filter (PR_SET_NO_NEW_PRIVS +
 *                 seccomp(SECCOMP_SET_MODE_FILTER)) answers SECCOMP_RET_TRAP for getppid; the SIGSYS
 *                 handler emulates it (rax = 4242) and returns. Per emulated call. It runs last:
 *                 a seccomp filter cannot be removed and would tax every later system call.
 *                 (usmbench: a CPL3 child's syscall handled by the supervisor; on Linux the other
 *                 way is ptrace, which needs a second process.)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/hw_breakpoint.h>
#include <linux/perf_event.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>
#include <x86intrin.h>

#include "benchtime.h"

/* ---- reports ---------------------------------------------------------------------------- */

static void unsupported(const char *name, const char *call, int err) {
  printf("%s: unsupported (%s: %s)\n", name, call, strerror(err));
  fflush(stdout);
}

/* ---- settings ---------------------------------------------------------------------------- */

static long pgsz;

static void die(const char *what) {
  fprintf(stderr, "linbench: %s: %s\n", what, strerror(errno));
  exit(1);
}

static char *map_pages(long pages, int prot) {
  void *p = mmap(NULL, pages * pgsz, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) die("mmap");
  return p;
}

static void protect(void *p, long pages, int prot) {
  if (mprotect(p, pages * pgsz, prot) != 0) die("mprotect");
}

static void touch_all(char *p, long pages) {
  for (long i = 0; i < pages; i++) ((volatile char *)p)[i * pgsz] = 1;
}

/* ---- the SIGSEGV handler shared by the fault tests ----------------------------------------- */

enum { M_NONE, M_USER, M_APPEL1, M_APPEL2, M_TRAP, M_DIRTY };

static volatile int seg_mode;
static char *seg_base;          /* the region the test faults in */
static long seg_pages;
static volatile long seg_expect; /* the page the next fault must be on (-1: any in the region) */
static volatile long seg_faults, seg_wrong;
static uint64_t *dirty_found;    /* dirty_scan: the bitmap the handler fills */
static volatile long dirty_count;

/* The store the trap test faults on, and the label after it (the handler resumes there). */
__asm__(".text\n"
        ".globl lb_trap_store\n"
        ".type lb_trap_store, @function\n"
        "lb_trap_store:\n"
        ".globl lb_trap_insn\n"
        "lb_trap_insn:\n"
        "\tmovb $1, (%rdi)\n"
        ".globl lb_trap_resume\n"
        "lb_trap_resume:\n"
        "\tret\n"
        ".size lb_trap_store, .-lb_trap_store\n");
extern void lb_trap_store(volatile char *p);
extern const char lb_trap_insn[], lb_trap_resume[];

static void on_segv(int sig, siginfo_t *si, void *ctx) {
  ucontext_t *uc = ctx;
  char *a = si->si_addr;
  (void)sig;
  if (seg_mode == M_NONE || a < seg_base || a >= seg_base + seg_pages * pgsz) {
    /* Not ours: the default action on return (the fault repeats). */
    signal(SIGSEGV, SIG_DFL);
    return;
  }
  long pg = (a - seg_base) / pgsz;
  char *page = seg_base + pg * pgsz;
  if (seg_expect >= 0 && pg != seg_expect) seg_wrong++;
  seg_faults++;
  switch (seg_mode) {
    case M_USER:
    case M_APPEL2:
      mprotect(page, pgsz, PROT_READ | PROT_WRITE);
      break;
    case M_APPEL1:
      mprotect(page, pgsz, PROT_READ | PROT_WRITE);
      mprotect(seg_base + ((pg + seg_pages / 2) % seg_pages) * pgsz, pgsz, PROT_READ);
      break;
    case M_TRAP:
      if (uc->uc_mcontext.gregs[REG_RIP] == (greg_t)lb_trap_insn) uc->uc_mcontext.gregs[REG_RIP] = (greg_t)lb_trap_resume;
      else signal(SIGSEGV, SIG_DFL);
      break;
    case M_DIRTY:
      if (!(dirty_found[pg / 64] & (1ull << (pg % 64)))) dirty_count++;
      dirty_found[pg / 64] |= 1ull << (pg % 64);
      mprotect(page, pgsz, PROT_READ | PROT_WRITE);
      break;
  }
}

static void install(int sig, void (*fn)(int, siginfo_t *, void *)) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = fn;
  sa.sa_flags = SA_SIGINFO;
  sigemptyset(&sa.sa_mask);
  if (sigaction(sig, &sa, NULL) != 0) die("sigaction");
}

static void seg_begin(int mode, char *base, long pages) {
  seg_base = base;
  seg_pages = pages;
  seg_expect = -1;
  seg_faults = seg_wrong = 0;
  seg_mode = mode;
}

static void seg_end(void) {
  seg_mode = M_NONE;
}

/* ---- syscall ----------------------------------------------------------------------------- */

static void t_syscall(void) {
  long n = iters(300000);
  long tid = 0;
  for (long i = 0; i < warmup(n); i++) tid = syscall(SYS_gettid);
  stamp_t s0 = stamp();
  for (long i = 0; i < n; i++) tid = syscall(SYS_gettid);
  stamp_t s1 = stamp();
  acc_t a = {0, 0};
  acc_add(&a, s0, s1);
  report("syscall", a, n);
  printf("# syscall: gettid == getpid: %s\n", tid == getpid() ? "yes" : "no");
}

/* ---- libc_syscall -------------------------------------------------------------------------- */

static void t_libc_syscall(void) {
  long n = iters(300000);
  long ppid = 0;
  for (long i = 0; i < warmup(n); i++) ppid = getppid();
  stamp_t s0 = stamp();
  for (long i = 0; i < n; i++) ppid = getppid();
  stamp_t s1 = stamp();
  acc_t a = {0, 0};
  acc_add(&a, s0, s1);
  report("libc_syscall", a, n);
  printf("# libc_syscall: getppid() agrees with the raw system call: %s\n", ppid == syscall(SYS_getppid) ? "yes" : "no");
}

/* ---- kernel_fault -------------------------------------------------------------------------- */

static void t_kernel_fault(void) {
  const long batch = 1024; /* 4 MiB at a time */
  long n = iters(16384);
  long batches = (n + batch - 1) / batch;
  long zero = 0, done = 0;
  acc_t a = {0, 0};
  for (long b = -1; b < batches; b++) { /* batch -1: warm-up */
    long cnt = b < 0 ? warmup(batch) : (n - done < batch ? n - done : batch);
    volatile char *p = (volatile char *)map_pages(cnt, PROT_READ | PROT_WRITE);
    stamp_t s0 = stamp();
    for (long i = 0; i < cnt; i++) p[i * pgsz + 8] = 1;
    stamp_t s1 = stamp();
    if (b >= 0) {
      acc_add(&a, s0, s1);
      done += cnt;
      for (long i = 0; i < cnt; i++) zero += p[i * pgsz] == 0 && p[i * pgsz + pgsz - 1] == 0 && p[i * pgsz + 8] == 1;
    }
    munmap((void *)p, cnt * pgsz);
  }
  report("kernel_fault", a, done);
  printf("# kernel_fault: pages=%ld fresh zero-filled pages=%ld\n", done, zero);
}

/* ---- user_fault ---------------------------------------------------------------------------- */

static void t_user_fault(void) {
  long n = iters(30000);
  char *page = map_pages(1, PROT_READ | PROT_WRITE);
  touch_all(page, 1);
  seg_begin(M_USER, page, 1);
  for (long i = 0; i < warmup(n); i++) {
    protect(page, 1, PROT_NONE);
    ((volatile long *)page)[i & 63] = i;
  }
  seg_begin(M_USER, page, 1);
  seg_expect = 0;
  stamp_t s0 = stamp();
  for (long i = 0; i < n; i++) {
    mprotect(page, pgsz, PROT_NONE);
    ((volatile long *)page)[i & 63] = i;
  }
  stamp_t s1 = stamp();
  seg_end();
  acc_t a = {0, 0};
  acc_add(&a, s0, s1);
  report("user_fault", a, n);
  printf("# user_fault: faults=%ld of %ld, on another page=%ld\n", seg_faults, n, seg_wrong);
  munmap(page, pgsz);
}

/* ---- appel1 ------------------------------------------------------------------------------ */

static void t_appel1(void) {
  const long P = 256;
  long n = iters(30000);
  char *r = map_pages(P, PROT_READ | PROT_WRITE);
  touch_all(r, P);
  protect(r, P, PROT_READ);
  seg_begin(M_APPEL1, r, P);
  long i = 0, w = warmup(n);
  for (; i < w; i++) {
    seg_expect = i % P;
    ((volatile long *)(r + (i % P) * pgsz))[i & 63] = i;
  }
  seg_faults = seg_wrong = 0;
  stamp_t s0 = stamp();
  for (; i < w + n; i++) {
    seg_expect = i % P;
    ((volatile long *)(r + (i % P) * pgsz))[i & 63] = i;
  }
  stamp_t s1 = stamp();
  seg_end();
  acc_t a = {0, 0};
  acc_add(&a, s0, s1);
  report("appel1", a, n);
  printf("# appel1: faults=%ld of %ld, on an unexpected page=%ld\n", seg_faults, n, seg_wrong);
  munmap(r, P * pgsz);
}

/* ---- appel2 ------------------------------------------------------------------------------ */

static void t_appel2(void) {
  const long N = 100;
  long rounds = iters(300);
  char *r = map_pages(N, PROT_READ | PROT_WRITE);
  touch_all(r, N);
  seg_begin(M_APPEL2, r, N);
  acc_t a = {0, 0};
  long faults = 0, wrong = 0;
  for (long k = -warmup(rounds); k < rounds; k++) {
    seg_faults = seg_wrong = 0;
    stamp_t s0 = stamp();
    mprotect(r, N * pgsz, PROT_READ);
    for (long p = 0; p < N; p++) {
      seg_expect = p;
      ((volatile long *)(r + p * pgsz))[k & 63] = k;
    }
    stamp_t s1 = stamp();
    if (k >= 0) {
      acc_add(&a, s0, s1);
      faults += seg_faults;
      wrong += seg_wrong;
    }
  }
  seg_end();
  report("appel2", a, rounds * N);
  printf("# appel2: rounds=%ld pages=%ld faults=%ld of %ld, on an unexpected page=%ld\n", rounds, N, faults, rounds * N, wrong);
  munmap(r, N * pgsz);
}

/* ---- trap -------------------------------------------------------------------------------- */

static void t_trap(void) {
  long n = iters(50000);
  char *page = map_pages(1, PROT_READ | PROT_WRITE);
  touch_all(page, 1);
  protect(page, 1, PROT_READ);
  seg_begin(M_TRAP, page, 1);
  for (long i = 0; i < warmup(n); i++) lb_trap_store(page + (i & 63));
  seg_begin(M_TRAP, page, 1);
  seg_expect = 0;
  stamp_t s0 = stamp();
  for (long i = 0; i < n; i++) lb_trap_store(page + (i & 63));
  stamp_t s1 = stamp();
  seg_end();
  acc_t a = {0, 0};
  acc_add(&a, s0, s1);
  report("trap", a, n);
  printf("# trap: faults=%ld of %ld, stores that went through=%d\n", seg_faults, n, page[0] != 1 || page[63] != 0);
  munmap(page, pgsz);
}

/* ---- dirty_scan -------------------------------------------------------------------------- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rng(void) { /* xorshift64* */
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return rng_state * 0x2545f4914f6cdd1dull;
}

static void t_dirty_scan(void) {
  const long REGION = 16l << 20, K = 256;
  long P = REGION / pgsz, words = (P + 63) / 64;
  long rounds = iters(40), w = warmup(rounds), total = w + rounds;
  char *r = map_pages(P, PROT_READ | PROT_WRITE);
  touch_all(r, P);
  /* Every cycle's written pages, chosen up front (distinct within a cycle), and their bitmap. */
  int32_t *pages = malloc(sizeof *pages * total * K);
  uint64_t *expect = calloc(total * words, sizeof *expect);
  uint64_t found[words];
  if (!pages || !expect) die("malloc");
  for (long c = 0; c < total; c++) {
    uint64_t *e = expect + c * words;
    for (long k = 0; k < K;) {
      long pg = (long)(rng() % (uint64_t)P);
      if (e[pg / 64] & (1ull << (pg % 64))) continue;
      e[pg / 64] |= 1ull << (pg % 64);
      pages[c * K + k++] = (int32_t)pg;
    }
  }
  dirty_found = found;
  seg_begin(M_DIRTY, r, P);
  acc_t a = {0, 0};
  long exact = 0;
  uint64_t sum = 0;
  for (long c = 0; c < total; c++) {
    const int32_t *pc = pages + c * K;
    stamp_t s0 = stamp();
    /* Clear the dirty set: the whole region read-only, the bitmap empty. */
    mprotect(r, P * pgsz, PROT_READ);
    memset(found, 0, sizeof found);
    dirty_count = 0;
    /* The mutator. */
    for (long k = 0; k < K; k++) ((volatile long *)(r + (long)pc[k] * pgsz))[c & 63] = c;
    stamp_t s1 = stamp();
    /* The dirty set is `found`: exactly the written pages? */
    if (memcmp(found, expect + c * words, sizeof found) != 0 || dirty_count != K) {
      long extra = 0, missing = 0;
      for (long i = 0; i < words; i++) {
        extra += __builtin_popcountll(found[i] & ~expect[c * words + i]);
        missing += __builtin_popcountll(~found[i] & expect[c * words + i]);
      }
      printf("# dirty_scan: ERROR in cycle %ld: %ld pages found that were not written, %ld written pages not found\n", c, extra, missing);
      fflush(stdout);
      exit(1);
    }
    if (c >= w) {
      acc_add(&a, s0, s1);
      exact++;
      for (long k = 0; k < K; k++) sum += (uint64_t)pc[k] * (uint64_t)(c + 1);
    }
  }
  seg_end();
  report("dirty_scan", a, rounds);
  printf("# dirty_scan: region=%ld MiB (%ld pages), %ld cycles of %ld written pages: found exactly the written pages in %ld of %ld cycles (page index checksum %llu)\n",
         REGION >> 20, P, rounds, K, exact, rounds, (unsigned long long)sum);
  free(pages);
  free(expect);
  munmap(r, P * pgsz);
}

/* ---- watchpoint -------------------------------------------------------------------------- */

static volatile long watched;
static volatile long wp_hits;
static volatile long wp_bad;
static int wp_fd = -1;

static void on_sigio(int sig, siginfo_t *si, void *ctx) {
  (void)sig, (void)ctx;
  if (si->si_fd != wp_fd) wp_bad++;
  wp_hits++;
}

/*
 * Waits for the handler to count a hit past `before`; false if it does not come within a second
 * (on some virtual machines perf accepts the breakpoint but it never fires).
 */
static int wait_hit(long before) {
  uint64_t start = stamp().ns;
  for (long spin = 1; wp_hits == before; spin++)
    if ((spin & 0xffff) == 0 && stamp().ns - start > 1000000000ull) return 0;
  return 1;
}

static void t_watchpoint(void) {
  long n = iters(30000);
  struct perf_event_attr pe;
  memset(&pe, 0, sizeof pe);
  pe.type = PERF_TYPE_BREAKPOINT;
  pe.size = sizeof pe;
  pe.bp_type = HW_BREAKPOINT_W;
  pe.bp_addr = (uintptr_t)&watched;
  pe.bp_len = HW_BREAKPOINT_LEN_8;
  pe.sample_period = 1;
  pe.wakeup_events = 1;
  pe.disabled = 1;
  pe.exclude_kernel = 1;
  pe.exclude_hv = 1;
  int fd = (int)syscall(SYS_perf_event_open, &pe, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
  if (fd < 0) {
    unsupported("watchpoint", "perf_event_open", errno);
    return;
  }
  wp_fd = fd;
  install(SIGIO, on_sigio);
  struct f_owner_ex owner = {F_OWNER_TID, (pid_t)syscall(SYS_gettid)};
  if (fcntl(fd, F_SETFL, O_ASYNC) != 0 || fcntl(fd, F_SETSIG, SIGIO) != 0 || fcntl(fd, F_SETOWN_EX, &owner) != 0) {
    unsupported("watchpoint", "fcntl", errno);
    close(fd);
    return;
  }
  if (ioctl(fd, PERF_EVENT_IOC_RESET, 0) != 0 || ioctl(fd, PERF_EVENT_IOC_ENABLE, 0) != 0) {
    unsupported("watchpoint", "ioctl(PERF_EVENT_IOC_ENABLE)", errno);
    close(fd);
    return;
  }
  /* One hit: the write, then wait for the handler (bounded: a signal that never comes). */
  long w = warmup(n), i = 0, lost = 0;
  for (; i < w && !lost; i++) {
    long before = wp_hits;
    watched = i;
    lost = !wait_hit(before);
  }
  i = 0;
  wp_hits = 0;
  acc_t a = {0, 0};
  stamp_t s0 = stamp(), s1 = s0;
  if (!lost) {
    for (; i < n && !lost; i++) {
      watched = i;
      lost = !wait_hit(i);
    }
    s1 = stamp();
  }
  ioctl(fd, PERF_EVENT_IOC_DISABLE, 0);
  close(fd);
  signal(SIGIO, SIG_DFL);
  if (lost) {
    printf("watchpoint: unsupported (perf_event_open: a breakpoint's signal never arrived)\n");
    return;
  }
  acc_add(&a, s0, s1);
  report("watchpoint", a, n);
  printf("# watchpoint: hits=%ld of %ld writes, signals from another fd=%ld\n", wp_hits, n, wp_bad);
}

/* ---- timer ------------------------------------------------------------------------------- */

#define TIMER_SIGVAL 0x5eed
static volatile long tm_ticks, tm_good;

static void on_alarm(int sig, siginfo_t *si, void *ctx) {
  (void)sig, (void)ctx;
  if (si->si_code == SI_TIMER && si->si_value.sival_int == TIMER_SIGVAL) tm_good++;
  tm_ticks++;
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

static uint64_t median(uint64_t *v, long n) {
  qsort(v, n, sizeof *v, cmp_u64);
  return n ? v[n / 2] : 0;
}

static void t_timer(void) {
  long want = iters(3000);
  const uint64_t max_ns = (uint64_t)(3e9 * (scale < 1 ? 1 : scale)); /* collect for at most this long */
  install(SIGALRM, on_alarm);
  timer_t tid;
  struct sigevent sev;
  memset(&sev, 0, sizeof sev);
  sev.sigev_notify = SIGEV_SIGNAL;
  sev.sigev_signo = SIGALRM;
  sev.sigev_value.sival_int = TIMER_SIGVAL;
  if (timer_create(CLOCK_MONOTONIC, &sev, &tid) != 0) {
    unsupported("timer", "timer_create", errno);
    signal(SIGALRM, SIG_DFL);
    return;
  }
  uint64_t *gap = malloc(sizeof *gap * want), *base = malloc(sizeof *base * want);
  if (!gap || !base) die("malloc");
  struct itimerspec its = {{0, 100000}, {0, 100000}};
  if (timer_settime(tid, 0, &its, NULL) != 0) {
    unsupported("timer", "timer_settime", errno);
    timer_delete(tid);
    signal(SIGALRM, SIG_DFL);
    return;
  }
  /*
   * A signal noticed at iteration j ran after the check of iteration j-1 and before the check of
   * iteration j: in the gap ending at j or, if it came between j's rdtsc and j's check, in the gap
   * ending at j+1. The sample is the larger of the two; the ordinary gap is the one before them.
   */
  long got = 0, skip = 3; /* the first few: warm-up */
  stamp_t s0 = stamp();
  uint64_t end_ns = s0.ns + max_ns, prev = __rdtsc(), last = 0, pend = 0, pend_base = 0;
  long seen = tm_ticks;
  int after = 0;
  for (unsigned long k = 1; got < want; k++) {
    uint64_t t = __rdtsc(), g = t - prev;
    prev = t;
    if (after) {
      after = 0;
      gap[got] = g > pend ? g : pend;
      base[got++] = pend_base;
      last = 0;
    } else if (tm_ticks != seen) {
      seen = tm_ticks;
      if (skip > 0) skip--;
      else if (last) {
        pend = g;
        pend_base = last;
        after = 1;
      }
      last = 0;
    } else {
      last = g;
    }
    if ((k & 0xffff) == 0 && !after) { /* the time limit (this gap is not a sample) */
      if (stamp().ns > end_ns) break;
      prev = __rdtsc();
      last = 0;
    }
  }
  stamp_t s1 = stamp();
  struct itimerspec off = {{0, 0}, {0, 0}};
  timer_settime(tid, 0, &off, NULL);
  timer_delete(tid);
  signal(SIGALRM, SIG_DFL);
  if (got < 10) {
    printf("timer: unsupported (only %ld timer signals arrived in %.1f s)\n", got, (s1.ns - s0.ns) / 1e9);
    fflush(stdout);
  } else {
    uint64_t g = median(gap, got), b = median(base, got);
    uint64_t cyc = g > b ? g - b : 0;
    double ns_per_cycle = (double)(s1.ns - s0.ns) / (double)(s1.tsc - s0.tsc);
    printf("timer: cycles=%llu ns=%.1f\n", (unsigned long long)cyc, cyc * ns_per_cycle);
    fflush(stdout);
  }
  printf("# timer: every handler run saw si_code=SI_TIMER and the timer's si_value: %s\n",
         tm_ticks > 0 && tm_good == tm_ticks ? "yes" : "no");
  free(gap);
  free(base);
}

/* ---- interpose --------------------------------------------------------------------------- */

#define EMULATED_PPID 4242
static volatile long ip_calls, ip_bad;

static void on_sigsys(int sig, siginfo_t *si, void *ctx) {
  ucontext_t *uc = ctx;
  (void)sig;
  if (si->si_code != 1 /* SYS_SECCOMP */ || si->si_syscall != SYS_getppid || si->si_arch != AUDIT_ARCH_X86_64) ip_bad++;
  uc->uc_mcontext.gregs[REG_RAX] = EMULATED_PPID;
  ip_calls++;
}

static void t_interpose(void) {
  long n = iters(50000);
  struct sock_filter filter[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getppid, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  struct sock_fprog prog = {(unsigned short)(sizeof filter / sizeof filter[0]), filter};
  install(SIGSYS, on_sigsys);
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    unsupported("interpose", "prctl(PR_SET_NO_NEW_PRIVS)", errno);
    return;
  }
  if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) {
    unsupported("interpose", "seccomp", errno);
    return;
  }
  long r = 0, wrong = 0;
  for (long i = 0; i < warmup(n); i++) r = syscall(SYS_getppid);
  ip_calls = ip_bad = 0;
  stamp_t s0 = stamp();
  for (long i = 0; i < n; i++) {
    r = syscall(SYS_getppid);
    wrong += r != EMULATED_PPID;
  }
  stamp_t s1 = stamp();
  acc_t a = {0, 0};
  acc_add(&a, s0, s1);
  report("interpose", a, n);
  printf("# interpose: getppid calls emulated by the SIGSYS handler=%ld of %ld, other results=%ld, bad siginfo=%ld\n",
         ip_calls, n, wrong, ip_bad);
}

/* ---- main -------------------------------------------------------------------------------- */

static const struct bench_test TESTS[] = {
    {"syscall", t_syscall},       {"libc_syscall", t_libc_syscall}, {"kernel_fault", t_kernel_fault},
    {"user_fault", t_user_fault}, {"appel1", t_appel1},             {"appel2", t_appel2},
    {"trap", t_trap},             {"dirty_scan", t_dirty_scan}, {"watchpoint", t_watchpoint},     {"timer", t_timer},
    {"interpose", t_interpose}, /* last: the seccomp filter stays */
};
#define NTESTS (sizeof TESTS / sizeof TESTS[0])

int main(int argc, char **argv) {
  int selected[NTESTS] = {0}, any = 0;
  bench_args("linbench", argc, argv, TESTS, NTESTS, selected, &any);

  pgsz = sysconf(_SC_PAGESIZE);
  install(SIGSEGV, on_segv);
  printf("# linbench: scale=%g page=%ld\n", scale, pgsz);
  fflush(stdout);
  for (size_t k = 0; k < NTESTS; k++) {
    if (any && !selected[k]) continue;
    TESTS[k].run();
    fflush(stdout);
  }
  return 0;
}
