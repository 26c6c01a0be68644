// Handlers that change the interrupted context through uc_mcontext and return: rt_sigreturn must
// restore exactly what the handler left there. Skipping a faulting instruction (REG_RIP += its
// length) while supplying its result (REG_RAX), fixing a divisor register and re-executing,
// setting arithmetic flags in REG_EFL, redirecting REG_RIP to another place, and flags that a
// jcc needs surviving a fault between the cmp and the jcc. int3 resumes after itself.
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <ucontext.h>

static volatile int segv, ill, fpe, trap;
/* When set, the SIGILL handler resumes there instead of after the ud2. */
volatile uintptr_t redirect_to;

static void on_segv(int sig, siginfo_t *si, void *ucv) {
  ucontext_t *uc = ucv;
  (void)sig;
  segv++;
  /* every faulting load in this file is `mov (%reg), %eax` (2 bytes) or `movl (%reg), %eax` */
  uc->uc_mcontext.gregs[REG_RAX] = 1000 + (intptr_t)si->si_addr;
  uc->uc_mcontext.gregs[REG_RIP] += 2;
}

static void on_ill(int sig, siginfo_t *si, void *ucv) {
  ucontext_t *uc = ucv;
  (void)sig, (void)si;
  ill++;
  if (redirect_to) {
    uc->uc_mcontext.gregs[REG_RIP] = (greg_t)redirect_to;
    redirect_to = 0;
    return;
  }
  uc->uc_mcontext.gregs[REG_RIP] += 2; /* ud2 */
  uc->uc_mcontext.gregs[REG_EFL] |= 1;  /* CF */
  uc->uc_mcontext.gregs[REG_EFL] &= ~0x40L; /* ZF */
}

static void on_fpe(int sig, siginfo_t *si, void *ucv) {
  ucontext_t *uc = ucv;
  (void)sig, (void)si;
  fpe++;
  uc->uc_mcontext.gregs[REG_RCX] = 3; /* the divisor: the divl runs again and succeeds */
}

static void on_trap(int sig) {
  (void)sig;
  trap++;
}

int main(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_flags = SA_SIGINFO;
  sa.sa_sigaction = on_segv;
  sigaction(SIGSEGV, &sa, NULL);
  sa.sa_sigaction = on_ill;
  sigaction(SIGILL, &sa, NULL);
  sa.sa_sigaction = on_fpe;
  sigaction(SIGFPE, &sa, NULL);
  signal(SIGTRAP, on_trap);

  /* skip a faulting load, its result supplied by the handler */
  long v;
  __asm__ volatile("mov $1, %%eax\n\tmov (%1), %%eax\n\tadd $5, %%eax" : "=a"(v) : "r"((long *)64) : "memory");
  printf("skip load: segv=%d eax=%ld\n", segv, v);

  /* in a loop, with other registers live across the fault */
  long total = 0;
  for (long i = 0; i < 50; i++) {
    long r;
    __asm__ volatile("movl (%1), %%eax" : "=a"(r) : "r"(i * 8) : "memory");
    total += r + i;
  }
  printf("loop: segv=%d total=%ld\n", segv, total);

  /* flags of a cmp live across a faulting load: the jcc after it must see them */
  int lt = -1, ge = -1;
  for (int x = 3; x <= 7; x += 4) {
    unsigned char below;
    __asm__ volatile("cmp $5, %2\n\tmovl (%3), %%eax\n\tsetl %0" : "=r"(below), "=&a"(v) : "r"(x), "r"((long *)128)
                     : "cc", "memory");
    if (x == 3) lt = below;
    else ge = below;
  }
  printf("flags across fault: 3<5=%d 7<5=%d segv=%d\n", lt, ge, segv);

  /* ud2 skipped; the handler sets CF and clears ZF in the saved flags */
  unsigned char cf, zf;
  __asm__ volatile("xor %%eax, %%eax\n\tud2\n\tsetc %0\n\tsetz %1" : "=r"(cf), "=r"(zf) : : "rax", "cc");
  printf("ud2: ill=%d cf=%d zf=%d\n", ill, cf, zf);

  /* division by zero: the handler fixes the divisor register and the divl runs again */
  unsigned q;
  __asm__ volatile("xor %%edx, %%edx\n\tmov $100, %%eax\n\txor %%ecx, %%ecx\n\tdivl %%ecx" : "=a"(q) : : "rcx", "rdx");
  printf("div: fpe=%d q=%u\n", fpe, q);

  /* int3 is a trap: execution continues after it */
  int y = 1;
  __asm__ volatile("int3\n\taddl $10, %0" : "+r"(y));
  __asm__ volatile("int3\n\taddl $10, %0" : "+r"(y));
  printf("int3: trap=%d y=%d\n", trap, y);

  /* the handler sends execution elsewhere: the instructions between are not run */
  int c;
  __asm__ volatile("lea 1f(%%rip), %%rax\n\tmov %%rax, redirect_to(%%rip)\n\tmov $5, %0\n\tud2\n\t"
                   "mov $99, %0\n1:\taddl $1, %0" : "=r"(c) : : "rax", "cc", "memory");
  printf("redirect: ill=%d c=%d\n", ill, c);
  return 0;
}
