/*
 * usmbench: the USM-mode side of the USM micro-benchmarks (issue 4), the counterpart of
 * linbench.c. It links libusm, enters USM mode and measures the same primitives done with
 * supervisor hardware: page tables, the IDT, ring 3, debug registers, the x2APIC timer.
 *
 *   make -C bench/usm usmbench        (builds libusm first)
 *   usmbench [-t name[,name...]]... [scale]
 *
 * Same command line and output as linbench: `name: cycles=<n> ns=<x>` per test (n = rdtsc ticks
 * per operation, x = CLOCK_MONOTONIC ns per operation), `name: unsupported (<reason>)`, and
 * deterministic correctness lines `# name: ...`, worded like linbench's where the check is the
 * same (dirty_scan's, with the same seed and counts, is identical). Iteration counts and region
 * sizes are linbench's.
 *
 * The tests (an "operation" is what one line's numbers are per):
 *   syscall       vmcall getpid: one Linux system call from CPL0.
 *   libc_syscall  getppid() through libc at CPL0. Debian's libc executes `syscall`, which enters
 *                 libusm's LSTAR trampoline (ksys.c: forwarded with vmcall, return by popfq +
 *                 jmp); a libc built from glibc-patch/ executes vmcall itself. `# libc_path:` says
 *                 which path the calls took (libusm counts the trampoline's entries). Run the
 *                 dynamically linked build with the patched libc preloaded to see the second:
 *                 usmjit -E LD_PRELOAD=$(glibc-patch/build.sh) bench/usm/usmbench-dyn
 *   kernel_fault  first touch of fresh anonymous memory, the supervisor being the kernel: a write
 *                 to an unmapped page of a fresh virtual range raises #PF; the handler takes a
 *                 zeroed page from libusm's pool (usm_page_alloc), maps it (usm_vm_lookup with
 *                 create + PTE) and returns with iretq. Batches of 1024 pages, unmapped (pages back
 *                 to the pool) outside the timed part.
 *   user_fault    clear P in the page's PTE + invlpg, write to it: #PF, the handler sets P, iretq.
 *                 Per iteration, the re-protection included.
 *   appel1        PROT1+TRAP+UNPROT on 256 read-only pages written in turn: the handler sets W on
 *                 the faulting PTE and clears W (and A) on the PTE 128 pages away, with invlpg
 *                 only if that page was accessed (A set). Per fault.
 *   appel2        PROTN+TRAP+UNPROT: clear W in 100 PTEs and flush the TLB once (CR3 reload), then
 *                 write each page; the handler sets W. Per page, protection amortised.
 *   trap          the trap alone: a write to a page that stays read-only; the handler only moves
 *                 rip past the store: #PF delivery + dispatcher + handler + iretq.
 *   interpose     a ring-3 child calls getppid in a loop; each syscall enters the supervisor
 *                 (LSTAR entry, swapgs, trap frame), whose handler emulates it (rax = 4242) and
 *                 returns with iretq. Per call.
 *   dirty_scan    16 MiB region, 40 cycles of: clear the D bits of the region's PTEs
 *                 (usm_vm_walk) + flush the TLB, write 256 pseudo-random pages (linbench's
 *                 sequence), find the dirty pages by walking the PTEs. Per cycle; each cycle's set
 *                 is checked against the pages written (outside the timed part).
 *   watchpoint    DR0 write watchpoint on a variable: per write, #DB + handler + iretq.
 *   timer         x2APIC periodic timer (100 us) interrupting an rdtsc loop: median gap spanning
 *                 an interrupt minus the median ordinary gap (linbench's method): interrupt
 *                 delivery + handler + EOI + iretq.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "usm/usm.h"

#include "benchtime.h"

/* ---- reports ---------------------------------------------------------------------------- */

static void unsupported(const char *name, const char *why) {
  printf("%s: unsupported (%s)\n", name, why);
  fflush(stdout);
}

/* ---- settings ---------------------------------------------------------------------------- */

#define PGSZ 4096l

static void die(const char *what, long err) {
  fprintf(stderr, "usmbench: %s: %s\n", what, strerror((int)(err < 0 ? -err : err)));
  exit(1);
}

static char *map_pages(long pages) {
  void *p = mmap(NULL, pages * PGSZ, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) die("mmap", errno);
  return p;
}

static void touch_all(char *p, long pages) {
  for (long i = 0; i < pages; i++) ((volatile char *)p)[i * PGSZ] = 1;
}

static usm_pte_t *pte_of(const void *va) {
  usm_pte_t *e = 0;
  if (usm_vm_lookup(usm_root, va, 0, &e) != 0 || !e) die("usm_vm_lookup", ENOENT);
  return e;
}

/* ---- the page-fault handler shared by the fault tests -------------------------------------- */

enum { M_NONE, M_KERNEL, M_USER, M_APPEL1, M_APPEL2, M_TRAP, M_DIRTY };

static volatile int pf_mode;
static char *pf_base;
static long pf_pages;
static usm_pte_t *pf_ptes[256]; /* appel1/appel2/user_fault: the PTEs of the region's pages */
static volatile long pf_expect, pf_faults, pf_wrong;

__asm__(".text\n"
        ".globl ub_trap_store\n"
        ".type ub_trap_store, @function\n"
        "ub_trap_store:\n"
        ".globl ub_trap_insn\n"
        "ub_trap_insn:\n"
        "\tmovb $1, (%rdi)\n"
        ".globl ub_trap_resume\n"
        "ub_trap_resume:\n"
        "\tret\n"
        ".size ub_trap_store, .-ub_trap_store\n");
extern void ub_trap_store(volatile char *p);
extern const char ub_trap_insn[], ub_trap_resume[];

static void on_pgflt(uintptr_t addr, uint64_t err, struct usm_tf *tf) {
  char *a = (char *)addr;
  (void)err;
  if (pf_mode == M_NONE || a < pf_base || a >= pf_base + pf_pages * PGSZ) usm_unhandled_trap(tf);
  long pg = (a - pf_base) / PGSZ;
  if (pf_expect >= 0 && pg != pf_expect) pf_wrong++;
  pf_faults++;
  switch (pf_mode) {
    case M_KERNEL: {
      uint64_t pa = usm_page_alloc();
      usm_pte_t *e = 0;
      if (!pa || usm_vm_lookup(usm_root, (void *)(addr & ~0xfffull), 1, &e) != 0) usm_unhandled_trap(tf);
      *e = pa | USM_PTE_P | USM_PTE_W | USM_PTE_NX | USM_PTE_POOL;
      break;
    }
    case M_USER:
      *pf_ptes[pg] |= USM_PTE_P;
      break;
    case M_APPEL1: {
      *pf_ptes[pg] |= USM_PTE_W;
      long far = (pg + pf_pages / 2) % pf_pages;
      usm_pte_t old = *pf_ptes[far];
      *pf_ptes[far] = old & ~(USM_PTE_W | USM_PTE_A);
      if (old & USM_PTE_A) usm_invlpg(pf_base + far * PGSZ);
      break;
    }
    case M_APPEL2:
      *pf_ptes[pg] |= USM_PTE_W;
      break;
    case M_TRAP:
      if (tf->rip == (uint64_t)ub_trap_insn) tf->rip = (uint64_t)ub_trap_resume;
      else usm_unhandled_trap(tf);
      break;
    default:
      usm_unhandled_trap(tf);
  }
}

static void pf_begin(int mode, char *base, long pages) {
  pf_base = base;
  pf_pages = pages;
  pf_expect = -1;
  pf_faults = pf_wrong = 0;
  pf_mode = mode;
}

static void pf_end(void) {
  pf_mode = M_NONE;
}

/* ---- syscall ----------------------------------------------------------------------------- */

static void t_syscall(void) {
  long n = iters(300000);
  long pid = 0;
  for (long i = 0; i < warmup(n); i++) pid = usm_vmcall0(SYS_getpid);
  stamp_t s0 = stamp();
  for (long i = 0; i < n; i++) pid = usm_vmcall0(SYS_getpid);
  stamp_t s1 = stamp();
  acc_t a = {0, 0};
  acc_add(&a, s0, s1);
  report("syscall", a, n);
  printf("# syscall: gettid == getpid: %s\n", usm_vmcall0(SYS_gettid) == pid ? "yes" : "no");
}

/* ---- libc_syscall ------------------------------------------------------------------------ */

static void t_libc_syscall(void) {
  long n = iters(300000);
  long ppid = 0;
  for (long i = 0; i < warmup(n); i++) ppid = getppid();
  unsigned long k0 = usm_lstar_kcalls();
  stamp_t s0 = stamp();
  for (long i = 0; i < n; i++) ppid = getppid();
  stamp_t s1 = stamp();
  unsigned long k1 = usm_lstar_kcalls();
  acc_t a = {0, 0};
  acc_add(&a, s0, s1);
  report("libc_syscall", a, n);
  printf("# libc_syscall: getppid() agrees with the raw system call: %s\n", ppid == usm_vmcall0(SYS_getppid) ? "yes" : "no");
  if (k1 - k0 == 0)
    printf("# libc_path: vmcall inline (no LSTAR trampoline entries in %ld calls)\n", n);
  else
    printf("# libc_path: LSTAR trampoline (%lu entries in %ld calls)\n", k1 - k0, n);
}

/* ---- kernel_fault ------------------------------------------------------------------------ */

#define KF_VA ((char *)0xffff900000000000ull)

static void t_kernel_fault(void) {
  const long batch = 1024;
  long n = iters(16384);
  long batches = (n + batch - 1) / batch;
  long zero = 0, done = 0;
  acc_t a = {0, 0};
  for (long b = -1; b < batches; b++) { /* batch -1: warm-up */
    long cnt = b < 0 ? warmup(batch) : (n - done < batch ? n - done : batch);
    char *base = KF_VA + (b + 1) * batch * PGSZ * 2; /* a fresh virtual range each time */
    volatile char *p = (volatile char *)base;
    pf_begin(M_KERNEL, base, cnt);
    stamp_t s0 = stamp();
    for (long i = 0; i < cnt; i++) p[i * PGSZ + 8] = 1;
    stamp_t s1 = stamp();
    pf_end();
    if (b >= 0) {
      acc_add(&a, s0, s1);
      done += cnt;
      for (long i = 0; i < cnt; i++) zero += p[i * PGSZ] == 0 && p[i * PGSZ + PGSZ - 1] == 0 && p[i * PGSZ + 8] == 1;
    }
    usm_vm_unmap(usm_root, base, cnt * PGSZ);
    usm_flush_tlb();
  }
  report("kernel_fault", a, done);
  printf("# kernel_fault: pages=%ld fresh zero-filled pages=%ld\n", done, zero);
}

/* ---- user_fault -------------------------------------------------------------------------- */

static void t_user_fault(void) {
  long n = iters(30000);
  char *page = map_pages(1);
  touch_all(page, 1);
  usm_pte_t *e = pte_of(page);
  pf_ptes[0] = e;
  pf_begin(M_USER, page, 1);
  for (long i = 0; i < warmup(n); i++) {
    *e &= ~USM_PTE_P;
    usm_invlpg(page);
    ((volatile long *)page)[i & 63] = i;
  }
  pf_begin(M_USER, page, 1);
  pf_expect = 0;
  stamp_t s0 = stamp();
  for (long i = 0; i < n; i++) {
    *e &= ~USM_PTE_P;
    usm_invlpg(page);
    ((volatile long *)page)[i & 63] = i;
  }
  stamp_t s1 = stamp();
  pf_end();
  acc_t a = {0, 0};
  acc_add(&a, s0, s1);
  report("user_fault", a, n);
  printf("# user_fault: faults=%ld of %ld, on another page=%ld\n", pf_faults, n, pf_wrong);
  munmap(page, PGSZ);
}

/* ---- appel1 ------------------------------------------------------------------------------ */

static void t_appel1(void) {
  const long P = 256;
  long n = iters(30000);
  char *r = map_pages(P);
  touch_all(r, P);
  for (long i = 0; i < P; i++) {
    pf_ptes[i] = pte_of(r + i * PGSZ);
    *pf_ptes[i] &= ~USM_PTE_W;
  }
  usm_flush_tlb();
  pf_begin(M_APPEL1, r, P);
  long i = 0, w = warmup(n);
  for (; i < w; i++) {
    pf_expect = i % P;
    ((volatile long *)(r + (i % P) * PGSZ))[i & 63] = i;
  }
  pf_faults = pf_wrong = 0;
  stamp_t s0 = stamp();
  for (; i < w + n; i++) {
    pf_expect = i % P;
    ((volatile long *)(r + (i % P) * PGSZ))[i & 63] = i;
  }
  stamp_t s1 = stamp();
  pf_end();
  acc_t a = {0, 0};
  acc_add(&a, s0, s1);
  report("appel1", a, n);
  printf("# appel1: faults=%ld of %ld, on an unexpected page=%ld\n", pf_faults, n, pf_wrong);
  munmap(r, P * PGSZ);
}

/* ---- appel2 ------------------------------------------------------------------------------ */

static void t_appel2(void) {
  const long N = 100;
  long rounds = iters(300);
  char *r = map_pages(N);
  touch_all(r, N);
  for (long i = 0; i < N; i++) pf_ptes[i] = pte_of(r + i * PGSZ);
  pf_begin(M_APPEL2, r, N);
  acc_t a = {0, 0};
  long faults = 0, wrong = 0;
  for (long k = -warmup(rounds); k < rounds; k++) {
    pf_faults = pf_wrong = 0;
    stamp_t s0 = stamp();
    for (long p = 0; p < N; p++) *pf_ptes[p] &= ~USM_PTE_W;
    usm_flush_tlb();
    for (long p = 0; p < N; p++) {
      pf_expect = p;
      ((volatile long *)(r + p * PGSZ))[k & 63] = k;
    }
    stamp_t s1 = stamp();
    if (k >= 0) {
      acc_add(&a, s0, s1);
      faults += pf_faults;
      wrong += pf_wrong;
    }
  }
  pf_end();
  report("appel2", a, rounds * N);
  printf("# appel2: rounds=%ld pages=%ld faults=%ld of %ld, on an unexpected page=%ld\n", rounds, N, faults, rounds * N, wrong);
  munmap(r, N * PGSZ);
}

/* ---- trap -------------------------------------------------------------------------------- */

static void t_trap(void) {
  long n = iters(50000);
  char *page = map_pages(1);
  touch_all(page, 1);
  *pte_of(page) &= ~USM_PTE_W;
  usm_invlpg(page);
  pf_begin(M_TRAP, page, 1);
  for (long i = 0; i < warmup(n); i++) ub_trap_store(page + (i & 63));
  pf_begin(M_TRAP, page, 1);
  pf_expect = 0;
  stamp_t s0 = stamp();
  for (long i = 0; i < n; i++) ub_trap_store(page + (i & 63));
  stamp_t s1 = stamp();
  pf_end();
  acc_t a = {0, 0};
  acc_add(&a, s0, s1);
  report("trap", a, n);
  printf("# trap: faults=%ld of %ld, stores that went through=%d\n", pf_faults, n, page[0] != 1 || page[63] != 0);
  munmap(page, PGSZ);
}

/* ---- interpose --------------------------------------------------------------------------- */

#define EMULATED_PPID 4242
#define SYS_CHILD_DONE 1000

static USM_USER_DATA char child_stack[16384] __attribute__((aligned(16)));
static USM_USER_DATA volatile long child_wrong;

static USM_USER_TEXT void interpose_child(void *arg) {
  long n = (long)arg, wrong = 0, r;
  for (long i = 0; i < n; i++) {
    __asm__ volatile("syscall" : "=a"(r) : "a"((long)SYS_getppid) : "rcx", "r11", "memory");
    wrong += r != EMULATED_PPID;
  }
  child_wrong = wrong;
  for (;;) __asm__ volatile("syscall" : "=a"(r) : "a"((long)SYS_CHILD_DONE) : "rcx", "r11", "memory");
}

static volatile long ip_calls, ip_bad;

static void on_syscall(struct usm_tf *tf) {
  if (tf->rax == SYS_getppid) {
    tf->rax = EMULATED_PPID;
    ip_calls++;
    return;
  }
  if (tf->rax == SYS_CHILD_DONE) usm_ret_from_user(0);
  ip_bad++;
  tf->rax = (uint64_t)-ENOSYS;
}

static int run_child(long n) {
  struct usm_tf tf;
  usm_init_user_tf(&tf, interpose_child, (void *)n, child_stack + sizeof child_stack);
  return usm_jump_to_user(&tf);
}

static void t_interpose(void) {
  long n = iters(50000);
  usm_register_syscall_handler(on_syscall);
  int r = run_child(warmup(n));
  if (r != 0) {
    char why[96];
    snprintf(why, sizeof why, "the ring-3 child stopped with %#x", r);
    unsupported("interpose", why);
    usm_register_syscall_handler(0);
    return;
  }
  ip_calls = ip_bad = 0;
  stamp_t s0 = stamp();
  r = run_child(n);
  stamp_t s1 = stamp();
  usm_register_syscall_handler(0);
  acc_t a = {0, 0};
  acc_add(&a, s0, s1);
  report("interpose", a, n);
  printf("# interpose: getppid calls emulated by the supervisor=%ld of %ld, other results=%ld, other calls=%ld\n",
         ip_calls, n, (long)child_wrong, (long)ip_bad);
}

/* ---- dirty_scan -------------------------------------------------------------------------- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rng(void) { /* xorshift64*, linbench's */
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return rng_state * 0x2545f4914f6cdd1dull;
}

struct scan {
  char *base;
  uint64_t *found;
  long count;
};

static int clear_dirty(void *arg, usm_pte_t *pte, void *va, int level) {
  (void)arg, (void)va, (void)level;
  *pte &= ~USM_PTE_D;
  return 0;
}

static int find_dirty(void *arg, usm_pte_t *pte, void *va, int level) {
  struct scan *s = arg;
  (void)level;
  if (*pte & USM_PTE_D) {
    long pg = ((char *)va - s->base) / PGSZ;
    s->found[pg / 64] |= 1ull << (pg % 64);
    s->count++;
  }
  return 0;
}

static void t_dirty_scan(void) {
  const long REGION = 16l << 20, K = 256;
  long P = REGION / PGSZ, words = (P + 63) / 64;
  long rounds = iters(40), w = warmup(rounds), total = w + rounds;
  char *r = map_pages(P);
  touch_all(r, P);
  int32_t *pages = malloc(sizeof *pages * total * K);
  uint64_t *expect = calloc(total * words, sizeof *expect);
  uint64_t found[words];
  if (!pages || !expect) die("malloc", ENOMEM);
  for (long c = 0; c < total; c++) {
    uint64_t *e = expect + c * words;
    for (long k = 0; k < K;) {
      long pg = (long)(rng() % (uint64_t)P);
      if (e[pg / 64] & (1ull << (pg % 64))) continue;
      e[pg / 64] |= 1ull << (pg % 64);
      pages[c * K + k++] = (int32_t)pg;
    }
  }
  struct scan s = {r, found, 0};
  acc_t a = {0, 0};
  long exact = 0;
  uint64_t sum = 0;
  for (long c = 0; c < total; c++) {
    const int32_t *pc = pages + c * K;
    stamp_t s0 = stamp();
    /* Clear the dirty set: the D bits of the region, then the TLB (cached entries carry D). */
    usm_vm_walk(usm_root, r, r + REGION, clear_dirty, 0);
    usm_flush_tlb();
    /* The mutator. */
    for (long k = 0; k < K; k++) ((volatile long *)(r + (long)pc[k] * PGSZ))[c & 63] = c;
    /* The scan. */
    memset(found, 0, sizeof found);
    s.count = 0;
    usm_vm_walk(usm_root, r, r + REGION, find_dirty, &s);
    stamp_t s1 = stamp();
    if (memcmp(found, expect + c * words, sizeof found) != 0 || s.count != K) {
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
  report("dirty_scan", a, rounds);
  printf("# dirty_scan: region=%ld MiB (%ld pages), %ld cycles of %ld written pages: found exactly the written pages in %ld of %ld cycles (page index checksum %llu)\n",
         REGION >> 20, P, rounds, K, exact, rounds, (unsigned long long)sum);
  free(pages);
  free(expect);
  munmap(r, P * PGSZ);
}

/* ---- watchpoint -------------------------------------------------------------------------- */

static volatile long watched;
static volatile long wp_hits, wp_bad, wp_gp;

static void on_db(struct usm_tf *tf) {
  (void)tf;
  if (!(usm_read_dr6() & 1)) wp_bad++;
  usm_write_dr6(0);
  wp_hits++;
}

static void on_gp_skip_dr(struct usm_tf *tf) {
  /* mov to/from a debug register rejected: skip it (0f 21/23 modrm) */
  const unsigned char *p = (const unsigned char *)tf->rip;
  if (p[0] == 0x0f && (p[1] == 0x21 || p[1] == 0x23)) {
    wp_gp++;
    tf->rip += 3;
    return;
  }
  usm_unhandled_trap(tf);
}

static void t_watchpoint(void) {
  long n = iters(30000);
  usm_register_intr_handler(USM_VEC_DB, on_db);
  usm_register_intr_handler(USM_VEC_GP, on_gp_skip_dr);
  wp_hits = wp_bad = wp_gp = 0;
  usm_set_watchpoint(0, (const void *)&watched, 8, USM_WATCH_WRITE);
  watched = -1;
  if (wp_gp || wp_hits != 1) {
    usm_clear_watchpoint(0);
    usm_register_intr_handler(USM_VEC_DB, 0);
    usm_register_intr_handler(USM_VEC_GP, 0);
    unsupported("watchpoint", wp_gp ? "mov to DR0/DR7 raised #GP" : "a write to the DR0-watched variable raised no #DB");
    return;
  }
  long w = warmup(n);
  for (long i = 0; i < w; i++) watched = i;
  wp_hits = wp_bad = 0;
  stamp_t s0 = stamp();
  for (long i = 0; i < n; i++) watched = i;
  stamp_t s1 = stamp();
  usm_clear_watchpoint(0);
  usm_register_intr_handler(USM_VEC_DB, 0);
  usm_register_intr_handler(USM_VEC_GP, 0);
  acc_t a = {0, 0};
  acc_add(&a, s0, s1);
  report("watchpoint", a, n);
  printf("# watchpoint: hits=%ld of %ld writes, #DB without DR6.B0=%ld\n", (long)wp_hits, n, (long)wp_bad);
}

/* ---- timer ------------------------------------------------------------------------------- */

#define TIMER_VEC 0x40
static volatile long tm_ticks, tm_good, tm_gp;

static void on_timer(struct usm_tf *tf) {
  if (tf->vector == TIMER_VEC) tm_good++;
  tm_ticks++;
}

static void on_gp_skip_msr(struct usm_tf *tf) {
  const unsigned char *p = (const unsigned char *)tf->rip;
  if (p[0] == 0x0f && (p[1] == 0x30 || p[1] == 0x32)) {
    tm_gp++;
    tf->rip += 2;
    return;
  }
  usm_unhandled_trap(tf);
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
  const uint64_t max_ns = (uint64_t)(3e9 * (scale < 1 ? 1 : scale));
  usm_register_intr_handler(TIMER_VEC, on_timer);
  usm_register_intr_handler(USM_VEC_GP, on_gp_skip_msr);
  tm_ticks = tm_good = tm_gp = 0;
  /* 100 us period: the timer counts at the TSC rate (divide by 1) */
  usm_timer_start(TIMER_VEC, (uint32_t)(usm_tsc_hz() / 10000), 1);
  if (tm_gp) {
    usm_register_intr_handler(USM_VEC_GP, 0);
    usm_register_intr_handler(TIMER_VEC, 0);
    unsupported("timer", "the x2APIC timer MSRs raised #GP");
    return;
  }
  uint64_t *gap = malloc(sizeof *gap * want), *base = malloc(sizeof *base * want);
  if (!gap || !base) die("malloc", ENOMEM);
  long got = 0, skip = 3;
  stamp_t s0 = stamp();
  uint64_t end_ns = s0.ns + max_ns, prev = usm_rdtsc(), last = 0, pend = 0, pend_base = 0;
  long seen = tm_ticks;
  int after = 0;
  for (unsigned long k = 1; got < want; k++) {
    uint64_t t = usm_rdtsc(), g = t - prev;
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
    if ((k & 0xffff) == 0 && !after) {
      if (stamp().ns > end_ns) break;
      prev = usm_rdtsc();
      last = 0;
    }
  }
  stamp_t s1 = stamp();
  usm_timer_stop();
  usm_register_intr_handler(USM_VEC_GP, 0);
  usm_register_intr_handler(TIMER_VEC, 0);
  if (got < 10) {
    printf("timer: unsupported (only %ld timer interrupts arrived in %.1f s)\n", got, (s1.ns - s0.ns) / 1e9);
    fflush(stdout);
  } else {
    uint64_t g = median(gap, got), b = median(base, got);
    uint64_t cyc = g > b ? g - b : 0;
    double ns_per_cycle = (double)(s1.ns - s0.ns) / (double)(s1.tsc - s0.tsc);
    printf("timer: cycles=%llu ns=%.1f\n", (unsigned long long)cyc, cyc * ns_per_cycle);
    fflush(stdout);
    printf("# timer: every handler run saw the timer's vector: %s\n", tm_ticks > 0 && tm_good == tm_ticks ? "yes" : "no");
  }
  free(gap);
  free(base);
}

/* ---- main -------------------------------------------------------------------------------- */

static const struct bench_test TESTS[] = {
    {"syscall", t_syscall},       {"libc_syscall", t_libc_syscall}, {"kernel_fault", t_kernel_fault},
    {"user_fault", t_user_fault}, {"appel1", t_appel1},             {"appel2", t_appel2},
    {"trap", t_trap},             {"interpose", t_interpose},       {"dirty_scan", t_dirty_scan},
    {"watchpoint", t_watchpoint}, {"timer", t_timer},
};
#define NTESTS (sizeof TESTS / sizeof TESTS[0])

int main(int argc, char **argv) {
  int selected[NTESTS] = {0}, any = 0;
  bench_args("usmbench", argc, argv, TESTS, NTESTS, selected, &any);

  printf("# usmbench: scale=%g page=%ld\n", scale, PGSZ);
  fflush(stdout);
  int r = usm_init(0);
  if (r == 0) r = usm_enter();
  if (r != 0) {
    char why[128];
    snprintf(why, sizeof why, "cannot enter USM mode: %s", strerror(-r));
    for (size_t k = 0; k < NTESTS; k++)
      if (!any || selected[k]) unsupported(TESTS[k].name, why);
    return 0;
  }
  usm_map_user_sections(usm_root);
  usm_register_pgflt_handler(on_pgflt);
  for (size_t k = 0; k < NTESTS; k++) {
    if (any && !selected[k]) continue;
    TESTS[k].run();
    fflush(stdout);
  }
  return 0;
}
