// Runs of push and pop (function prologues and epilogues), which usmjit probes once for the run
// when it stays within one page (jit/isa/move.ts stackRun): deep recursion through fresh stack
// pages, a run that crosses a page boundary, and a run that faults halfway (the signal context
// must show rsp and the stack as the CPU leaves them: after the pushes that completed).
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>

static __attribute__((noinline)) uint64_t deep(uint64_t n, uint64_t a, uint64_t b, uint64_t c, uint64_t d) {
  if (n == 0) return a ^ b ^ c ^ d;
  uint64_t x = deep(n - 1, b + n, c * 3 + 1, d ^ (n << 7), a + 11);
  // Values live across the call: gcc keeps them in callee-saved registers (pushed and popped).
  return x + a * 7 + (b ^ c) + (d >> 3) + n;
}

static sigjmp_buf jb;
static volatile uint64_t fault_rsp, fault_addr;
static void on_segv(int sig, siginfo_t *si, void *uc) {
  (void)sig;
  fault_rsp = (uint64_t)((ucontext_t *)uc)->uc_mcontext.gregs[REG_RSP];
  fault_addr = (uint64_t)si->si_addr;
  siglongjmp(jb, 1);
}

int main(void) {
  printf("deep: %llx\n", (unsigned long long)deep(20000, 1, 2, 3, 4));

  char *m = mmap(0, 3 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED) return 1;
  // A run of six pushes from 16 bytes above a page boundary: it crosses into the page below.
  uint64_t top = (uint64_t)m + 2 * 4096 + 16, out[6], after;
  __asm__ volatile("mov %%rsp, %%r11\n\t"
                   "mov %[top], %%rsp\n\t"
                   "mov $0x11, %%rax\n\tmov $0x22, %%rcx\n\tmov $0x33, %%rdx\n\t"
                   "mov $0x44, %%rsi\n\tmov $0x55, %%rdi\n\tmov $0x66, %%r8\n\t"
                   "push %%rax\n\tpush %%rcx\n\tpush %%rdx\n\tpush %%rsi\n\tpush %%rdi\n\tpush %%r8\n\t"
                   "pop %%r9\n\tpop %%r10\n\tpop %%rax\n\tpop %%rcx\n\tpop %%rdx\n\tpop %%rsi\n\t"
                   "mov %%r9, 0(%[out])\n\tmov %%r10, 8(%[out])\n\tmov %%rax, 16(%[out])\n\t"
                   "mov %%rcx, 24(%[out])\n\tmov %%rdx, 32(%[out])\n\tmov %%rsi, 40(%[out])\n\t"
                   "mov %%rsp, %[after]\n\t"
                   "mov %%r11, %%rsp"
                   : [after] "=&r"(after)
                   : [top] "r"(top), [out] "b"(out)
                   : "rax", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "memory");
  printf("crossing run: rsp back %d, popped %llx %llx %llx %llx %llx %llx\n", after == top,
         (unsigned long long)out[0], (unsigned long long)out[1], (unsigned long long)out[2],
         (unsigned long long)out[3], (unsigned long long)out[4], (unsigned long long)out[5]);

  // A run that faults halfway: the page below is made inaccessible; two pushes fit above it.
  mprotect(m + 4096, 4096, PROT_NONE);
  static char alt[65536];
  stack_t ss = { .ss_sp = alt, .ss_size = sizeof alt };
  sigaltstack(&ss, 0);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_segv;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
  sigaction(SIGSEGV, &sa, 0);
  uint64_t start = (uint64_t)m + 2 * 4096 + 16;
  if (!sigsetjmp(jb, 1)) {
    __asm__ volatile("mov %%rsp, %%r11\n\tmov %0, %%rsp\n\t"
                     "mov $1, %%rax\n\tmov $2, %%rcx\n\tmov $3, %%rdx\n\t"
                     "push %%rax\n\tpush %%rcx\n\tpush %%rdx\n\tpush %%rax\n\tpush %%rcx\n\tpush %%rdx\n\t"
                     "mov %%r11, %%rsp" : : "r"(start) : "rax", "rcx", "rdx", "r11", "memory");
    printf("no fault\n");
  } else {
    printf("fault: rsp %+lld from the start, address %+lld, slots %llu %llu\n",
           (long long)(fault_rsp - start), (long long)(fault_addr - start),
           (unsigned long long)*(uint64_t *)(start - 8), (unsigned long long)*(uint64_t *)(start - 16));
  }

  // leave whose load faults (rbp points into the inaccessible page): rsp and rbp as they were.
  static volatile uint64_t rsp_before; // (stored by the asm itself: it does not complete)
  uint64_t bad = (uint64_t)m + 4096 + 64;
  if (!sigsetjmp(jb, 1)) {
    __asm__ volatile("mov %%rsp, %%r11\n\tmov %%rbp, %%r10\n\tmov %1, %%rbp\n\tmov %%rsp, (%0)\n\t"
                     "leave\n\tmov %%r10, %%rbp\n\tmov %%r11, %%rsp"
                     : : "r"(&rsp_before), "r"(bad) : "r10", "r11", "memory");
    printf("leave: no fault\n");
  } else {
    printf("leave fault: rsp unchanged %d, address %+lld from rbp\n", fault_rsp == rsp_before,
           (long long)(fault_addr - bad));
  }
  return 0;
}
