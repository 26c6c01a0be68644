// What a handler learns about a fault: siginfo (si_signo, si_code, si_addr) and the interrupted
// context (uc_mcontext: rip, rsp, general registers, eflags with the arithmetic flags, err,
// trapno, cr2, oldmask; uc_sigmask, fpregs) for page faults of every kind, #GP, #UD, #DE, int3,
// and for signals sent with raise/kill/sigqueue. Addresses differ between runs (ASLR), so only
// relations are printed (si_addr == p, rip == the label of the faulting instruction).
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

static sigjmp_buf jb;
static struct {
  int signo, code;
  uintptr_t addr;
  greg_t g[NGREG];
  int sp_mod16, frame_mod16, si_minus_uc, fp_ok, link_null, mask_usr2, cur_segv_blocked, cur_self_blocked;
  int ss_flags;
  uintptr_t uc;
} got;

static void handler(int sig, siginfo_t *si, void *ucv) {
  ucontext_t *uc = ucv;
  uintptr_t sp;
  __asm__ volatile("mov %%rsp, %0" : "=r"(sp));
  got.signo = si->si_signo;
  got.code = si->si_code;
  got.addr = (uintptr_t)si->si_addr;
  memcpy(got.g, uc->uc_mcontext.gregs, sizeof got.g);
  got.sp_mod16 = (int)(sp % 16);
  got.frame_mod16 = (int)(((uintptr_t)uc - 8) % 16);
  got.si_minus_uc = (int)((uintptr_t)si - (uintptr_t)uc);
  got.fp_ok = uc->uc_mcontext.fpregs != NULL && (uintptr_t)uc->uc_mcontext.fpregs % 64 == 0 &&
              (uintptr_t)uc->uc_mcontext.fpregs > (uintptr_t)si;
  got.link_null = uc->uc_link == NULL;
  got.mask_usr2 = sigismember(&uc->uc_sigmask, SIGUSR2);
  got.ss_flags = uc->uc_stack.ss_flags;
  got.uc = (uintptr_t)uc;
  sigset_t cur;
  sigprocmask(SIG_BLOCK, NULL, &cur);
  got.cur_segv_blocked = sigismember(&cur, SIGSEGV);
  got.cur_self_blocked = sigismember(&cur, sig);
  siglongjmp(jb, 1);
}

static void report(const char *what, uintptr_t rip, uintptr_t addr) {
  printf("%-14s signo=%d code=%d addr_ok=%d rip_ok=%d err=%#llx trapno=%lld cr2_ok=%d efl_rf=%d\n", what, got.signo,
         got.code, got.addr == addr, (uintptr_t)got.g[REG_RIP] == rip, (long long)got.g[REG_ERR],
         (long long)got.g[REG_TRAPNO], (uintptr_t)got.g[REG_CR2] == addr, (got.g[REG_EFL] & 0x10000) != 0);
}

#define FAULT_AT(label_var, insn, ...)                                                                    \
  __asm__ volatile("lea 1f(%%rip), %%rax\n\tmov %%rax, %0\n1:\t" insn "\n" : "=m"(label_var) : __VA_ARGS__ \
                   : "rax", "memory")

int main(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = handler;
  sa.sa_flags = SA_SIGINFO;
  int sigs[] = {SIGSEGV, SIGILL, SIGFPE, SIGTRAP, SIGUSR1, SIGUSR2, SIGBUS};
  for (unsigned i = 0; i < sizeof sigs / sizeof *sigs; i++) sigaction(sigs[i], &sa, NULL);
  long pg = sysconf(_SC_PAGESIZE);
  char *p = mmap(NULL, 4 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  p[0] = 1;
  volatile uintptr_t rip = 0;

  if (!sigsetjmp(jb, 1)) FAULT_AT(rip, "movl $1, (%1)", "r"((char *)16));
  report("null write", rip, 16);
  if (!sigsetjmp(jb, 1)) FAULT_AT(rip, "movl (%1), %%eax", "r"((char *)24));
  report("null read", rip, 24);

  mprotect(p, pg, PROT_READ);
  if (!sigsetjmp(jb, 1)) FAULT_AT(rip, "movb $1, 5(%1)", "r"(p));
  report("ro write", rip, (uintptr_t)p + 5);
  mprotect(p + pg, pg, PROT_READ); /* never touched: not present */
  if (!sigsetjmp(jb, 1)) FAULT_AT(rip, "movq $1, 8(%1)", "r"(p + pg));
  report("ro new write", rip, (uintptr_t)p + pg + 8);
  mprotect(p, pg, PROT_NONE);
  if (!sigsetjmp(jb, 1)) FAULT_AT(rip, "movzbl 3(%1), %%eax", "r"(p));
  report("none read", rip, (uintptr_t)p + 3);
  if (!sigsetjmp(jb, 1)) FAULT_AT(rip, "movw $1, 2(%1)", "r"(p));
  report("none write", rip, (uintptr_t)p + 2);
  munmap(p + 3 * pg, pg);
  if (!sigsetjmp(jb, 1)) FAULT_AT(rip, "movl (%1), %%eax", "r"(p + 3 * pg + 100));
  report("unmapped read", rip, (uintptr_t)p + 3 * pg + 100);

  /* instruction fetches */
  mprotect(p, pg, PROT_READ | PROT_WRITE);
  p[0] = (char)0xc3;
  if (!sigsetjmp(jb, 1)) ((void (*)(void))p)();
  report("exec nx", (uintptr_t)p, (uintptr_t)p);
  if (!sigsetjmp(jb, 1)) ((void (*)(void))(p + 3 * pg))();
  report("exec unmapped", (uintptr_t)p + 3 * pg, (uintptr_t)p + 3 * pg);

  /* kernel and non-canonical addresses */
  if (!sigsetjmp(jb, 1)) FAULT_AT(rip, "movl (%1), %%eax", "r"((char *)0xffff888000001000ull));
  report("kernel read", rip, 0xffff888000001000ull);
  if (!sigsetjmp(jb, 1)) FAULT_AT(rip, "movl (%1), %%eax", "r"((char *)0x0000900000000000ull));
  report("noncanonical", rip, 0);

  /* other exceptions */
  if (!sigsetjmp(jb, 1)) FAULT_AT(rip, "ud2", "r"(0));
  report("ud2", rip, rip);
  if (!sigsetjmp(jb, 1))
    __asm__ volatile("xor %%edx, %%edx\n\tmov $7, %%eax\n\tlea 1f(%%rip), %%rcx\n\tmov %%rcx, %0\n1:\tdivl %1"
                     : "=m"(rip) : "r"(0) : "rax", "rcx", "rdx", "memory");
  report("div zero", rip, rip);
  if (!sigsetjmp(jb, 1))
    __asm__ volatile("mov %1, %%eax\n\tcltd\n\tmov $-1, %%esi\n\tlea 1f(%%rip), %%rcx\n\tmov %%rcx, %0\n1:\tidivl %%esi"
                     : "=m"(rip) : "r"(INT32_MIN) : "rax", "rcx", "rdx", "rsi", "memory");
  report("idiv overflow", rip, rip);
  if (!sigsetjmp(jb, 1)) FAULT_AT(rip, "int3", "r"(0));
  report("int3", rip + 1, 0);
  if (!sigsetjmp(jb, 1)) FAULT_AT(rip, ".byte 0xcd, 0x03", "r"(0)); /* int $3 (gas would emit int3) */
  report("int $3", rip + 2, 0);
  if (!sigsetjmp(jb, 1)) FAULT_AT(rip, "hlt", "r"(0));
  report("hlt", rip, 0);
  if (!sigsetjmp(jb, 1)) FAULT_AT(rip, "int $0x40", "r"(0));
  report("int $0x40", rip, 0);

  /* registers, flags and the frame itself */
  if (!sigsetjmp(jb, 1))
    __asm__ volatile("mov $0x1111, %%rbx\n\tmov $0x1212, %%r12\n\tmov $0x1313, %%r13\n\tmov $0x1414, %%r14\n\t"
                     "mov $0x1515, %%r15\n\tmov $0x0808, %%r8\n\tmov $0x0909, %%r9\n\tmov $0x1010, %%r10\n\t"
                     "mov $0x1111, %%r11\n\tmov $0xc0c0, %%rcx\n\tmov $0xd0d0, %%rdx\n\tmov $0x5151, %%rsi\n\t"
                     "xor %%eax, %%eax\n\tcmp $1, %%eax\n\tmov %%rsp, %0\n\tmovl $0, (%%rax)\n"
                     : "=m"(rip) : : "rax", "rbx", "rcx", "rdx", "rsi", "r8", "r9", "r10", "r11", "r12", "r13",
                       "r14", "r15", "memory");
  printf("regs: rbx=%llx r8=%llx r9=%llx r10=%llx r11=%llx r12=%llx r13=%llx r14=%llx r15=%llx rcx=%llx rdx=%llx "
         "rsi=%llx rax=%llx rsp_ok=%d arith=%#llx if=%d df=%d\n",
         (long long)got.g[REG_RBX], (long long)got.g[REG_R8], (long long)got.g[REG_R9], (long long)got.g[REG_R10],
         (long long)got.g[REG_R11], (long long)got.g[REG_R12], (long long)got.g[REG_R13], (long long)got.g[REG_R14],
         (long long)got.g[REG_R15], (long long)got.g[REG_RCX], (long long)got.g[REG_RDX], (long long)got.g[REG_RSI],
         (long long)got.g[REG_RAX], (uintptr_t)got.g[REG_RSP] == rip, (long long)(got.g[REG_EFL] & 0x8d5),
         (got.g[REG_EFL] & 0x200) != 0, (got.g[REG_EFL] & 0x400) != 0);
  printf("frame: uc below red zone=%d frame%%16=%d si-uc=%d fpregs ok=%d uc_link NULL=%d csgsfs=%#llx\n",
         got.uc + 8 <= (uintptr_t)got.g[REG_RSP] - 128, got.frame_mod16, got.si_minus_uc, got.fp_ok, got.link_null,
         (long long)got.g[REG_CSGSFS]);

  /* DF set when the fault happens: saved in eflags, clear in the handler */
  if (!sigsetjmp(jb, 1)) __asm__ volatile("std\n\tmovl $0, (%0)\n\tcld" : : "r"(0) : "memory");
  __asm__ volatile("cld");
  printf("df: saved=%d\n", (got.g[REG_EFL] & 0x400) != 0);

  /* masks: the interrupted mask in uc_sigmask/oldmask, the signal blocked in the handler */
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR2);
  sigprocmask(SIG_BLOCK, &set, NULL);
  if (!sigsetjmp(jb, 1)) *(volatile int *)8 = 0;
  printf("masks: uc_sigmask has USR2=%d oldmask=%#llx segv blocked in handler=%d\n", got.mask_usr2,
         (long long)got.g[REG_OLDMASK], got.cur_segv_blocked);
  sigprocmask(SIG_UNBLOCK, &set, NULL);

  /* sent signals: sender in siginfo, the last fault's err/trapno/cr2 still in the context */
  if (!sigsetjmp(jb, 1)) raise(SIGUSR1);
  printf("raise: signo=%d code=%d pid_ok=%d trapno=%lld err=%#llx cr2_ok=%d rf=%d self blocked=%d ss_flags=%d\n",
         got.signo, got.code, got.addr == ((uintptr_t)getuid() << 32 | (unsigned)getpid()), (long long)got.g[REG_TRAPNO],
         (long long)got.g[REG_ERR], got.g[REG_CR2] == 8, (got.g[REG_EFL] & 0x10000) != 0, got.cur_self_blocked,
         got.ss_flags);
  if (!sigsetjmp(jb, 1)) kill(getpid(), SIGUSR2);
  printf("kill: signo=%d code=%d pid_ok=%d\n", got.signo, got.code,
         got.addr == ((uintptr_t)getuid() << 32 | (unsigned)getpid()));
  union sigval v = {.sival_int = 4242};
  if (!sigsetjmp(jb, 1)) sigqueue(getpid(), SIGUSR1, v);
  printf("sigqueue: signo=%d code=%d\n", got.signo, got.code);
  return 0;
}
