// seccomp filters: ERRNO, TRAP (a SIGSYS handler emulates the call), TRACE without a tracer,
// checks on arguments, several filters (the most restrictive result wins), the checks a filter
// must pass, SECCOMP_GET_ACTION_AVAIL, prctl's view, and at the end KILL_PROCESS (status 159).
// EXIT: 159
#define _GNU_SOURCE
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#define LOAD_NR BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr))
#define IF_NR(nr, ret) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 1), BPF_STMT(BPF_RET | BPF_K, (ret))
#define ALLOW BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)

static int install(struct sock_filter *f, unsigned short n) {
  struct sock_fprog prog = {n, f};
  return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog);
}

static volatile int traps;
static volatile long trap_nr, trap_rax, trap_errno, trap_arch, trap_code, trap_addr_ok;

static void on_sigsys(int sig, siginfo_t *si, void *ctx) {
  ucontext_t *uc = ctx;
  (void)sig;
  traps++;
  trap_code = si->si_code;
  trap_nr = si->si_syscall;
  trap_arch = si->si_arch;
  trap_errno = si->si_errno;
  trap_rax = uc->uc_mcontext.gregs[REG_RAX];
  trap_addr_ok = (greg_t)si->si_call_addr == uc->uc_mcontext.gregs[REG_RIP];
  uc->uc_mcontext.gregs[REG_RAX] = 1000 + si->si_syscall; // the emulated result
}

#define SHOW(what, call)                                                 \
  do {                                                                   \
    errno = 0;                                                           \
    long r_ = (call);                                                    \
    printf("%s = %ld%s%s\n", what, r_, r_ < 0 ? " " : "", r_ < 0 ? strerror(errno) : ""); \
  } while (0)

int main(void) {
  setvbuf(stdout, NULL, _IONBF, 0);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_sigsys;
  sa.sa_flags = SA_SIGINFO;
  sigaction(SIGSYS, &sa, NULL);

  SHOW("PR_GET_SECCOMP before", prctl(PR_GET_SECCOMP, 0, 0, 0, 0));
  SHOW("PR_SET_NO_NEW_PRIVS(2)", prctl(PR_SET_NO_NEW_PRIVS, 2, 0, 0, 0));
  SHOW("PR_SET_NO_NEW_PRIVS", prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0));
  SHOW("PR_GET_NO_NEW_PRIVS", prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));

  unsigned act = SECCOMP_RET_TRAP;
  SHOW("GET_ACTION_AVAIL(TRAP)", syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &act));
  act = 0x12340000;
  SHOW("GET_ACTION_AVAIL(0x12340000)", syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &act));
  SHOW("seccomp(op 99)", syscall(SYS_seccomp, 99, 0, NULL));

  // Filters the kernel refuses.
  struct sock_filter jump_out[] = {BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 5, 0), ALLOW};
  SHOW("filter with a jump outside", install(jump_out, 2));
  struct sock_filter no_ret[] = {LOAD_NR};
  SHOW("filter without a return", install(no_ret, 1));
  struct sock_filter bad_load[] = {BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 2), ALLOW};
  SHOW("filter with a misaligned load", install(bad_load, 2));
  struct sock_filter far_load[] = {BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 64), ALLOW};
  SHOW("filter loading past seccomp_data", install(far_load, 2));
  struct sock_filter div0[] = {BPF_STMT(BPF_ALU | BPF_DIV | BPF_K, 0), ALLOW};
  SHOW("filter dividing by 0", install(div0, 2));
  struct sock_filter bad_op[] = {BPF_STMT(BPF_LD | BPF_B | BPF_IND, 0), ALLOW};
  SHOW("filter with a packet load", install(bad_op, 2));
  SHOW("empty filter", install(bad_op, 0));

  // 1: getuid fails with EPERM, getppid traps, getpgrp goes to a tracer there is none of.
  struct sock_filter f1[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
      LOAD_NR,
      IF_NR(SYS_getuid, SECCOMP_RET_ERRNO | EPERM),
      IF_NR(SYS_getppid, SECCOMP_RET_TRAP | 7),
      IF_NR(SYS_getpgrp, SECCOMP_RET_TRACE),
      ALLOW,
  };
  SHOW("install filter 1", install(f1, sizeof f1 / sizeof f1[0]));
  SHOW("PR_GET_SECCOMP", prctl(PR_GET_SECCOMP, 0, 0, 0, 0));
  SHOW("getuid", syscall(SYS_getuid));
  SHOW("getppid", syscall(SYS_getppid));
  printf("SIGSYS: traps=%d si_code=%ld si_syscall=%ld si_arch=0x%lx si_errno=%ld rax in the frame=%ld call_addr==rip: %ld\n",
         traps, trap_code, trap_nr, trap_arch, trap_errno, trap_rax, trap_addr_ok);
  SHOW("getpgrp", syscall(SYS_getpgrp));
  SHOW("getgid", syscall(SYS_getgid) >= 0 ? 0 : -1);

  // 2: on arguments (kill with signal 0 fails with EACCES, other signals are allowed), and an
  // ALU/scratch-memory round trip: ERRNO(nr * 2 + 1) for getegid.
  struct sock_filter f2[] = {
      LOAD_NR,
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_kill, 0, 3),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[1])),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EACCES),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getegid, 0, 6),
      BPF_STMT(BPF_ST, 3),
      BPF_STMT(BPF_LDX | BPF_MEM, 3),
      BPF_STMT(BPF_ALU | BPF_ADD | BPF_X, 0),
      BPF_STMT(BPF_ALU | BPF_OR | BPF_K, 1),
      BPF_STMT(BPF_ALU | BPF_OR | BPF_K, SECCOMP_RET_ERRNO),
      BPF_STMT(BPF_RET | BPF_A, 0),
      // getuid: this filter says ALLOW, filter 1 says ERRNO: ERRNO wins.
      ALLOW,
  };
  SHOW("install filter 2", install(f2, sizeof f2 / sizeof f2[0]));
  SHOW("kill(self, 0)", kill(getpid(), 0));
  SHOW("kill(self, SIGWINCH)", kill(getpid(), SIGWINCH));
  SHOW("getegid", syscall(SYS_getegid));
  SHOW("getuid", syscall(SYS_getuid));
  SHOW("getppid", syscall(SYS_getppid));

  // 3: the most restrictive wins: ERRNO here against TRAP in filter 1 -> TRAP.
  struct sock_filter f3[] = {LOAD_NR, IF_NR(SYS_getppid, SECCOMP_RET_ERRNO | 5), IF_NR(SYS_getsid, SECCOMP_RET_KILL_PROCESS), ALLOW};
  SHOW("install filter 3", install(f3, sizeof f3 / sizeof f3[0]));
  traps = 0;
  SHOW("getppid", syscall(SYS_getppid));
  printf("traps=%d\n", traps);
  SHOW("PR_SET_SECCOMP strict after filters", prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT, 0, 0, 0));
  printf("getsid kills the process now\n");
  syscall(SYS_getsid, 0);
  printf("not reached\n");
  return 0;
}
