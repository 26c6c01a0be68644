/* A ring-3 child under a syscall policy: allowed calls are passed through to Linux, denied ones
 * get -EPERM, one is emulated by the supervisor, and a forbidden one kills the child (the handler
 * returns to the supervisor with usm_ret_from_user). Then without a handler: usm_jump_to_user
 * returns USM_UEXIT_SYSCALL for each call and the supervisor resumes the child itself. */
#include <errno.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "usmtest.h"

#define KILLED 77

/* (its own line in the output: the text is checked against ring3_syscalls.out) */
static USM_USER_DATA char child_msg[] = "ok: the ring-3 child's write reached stdout\n";
static USM_USER_DATA char child_path[] = "/etc/passwd";
static USM_USER_DATA long results[8];
static USM_USER_DATA char child_stack[16384] __attribute__((aligned(16)));

static USM_USER_TEXT long u_syscall3(long nr, long a1, long a2, long a3) {
  long ret;
  __asm__ volatile("syscall" : "=a"(ret) : "a"(nr), "D"(a1), "S"(a2), "d"(a3) : "rcx", "r11", "memory");
  return ret;
}

static USM_USER_TEXT void child(void *arg) {
  (void)arg;
  results[0] = u_syscall3(SYS_getpid, 0, 0, 0);
  results[1] = u_syscall3(SYS_write, 1, (long)child_msg, sizeof child_msg - 1);
  results[2] = u_syscall3(SYS_open, (long)child_path, 0, 0);
  results[3] = u_syscall3(SYS_getuid, 0, 0, 0);
  results[4] = u_syscall3(SYS_kill, 0, SIGKILL, 0);
  results[5] = 1; /* never reached */
  for (;;) u_syscall3(SYS_exit, 0, 0, 0);
}

static int n_allowed, n_denied, n_emulated;
static long killed_nr = -1;
static uint64_t seen_cs, seen_ss;

static void policy(struct usm_tf *tf) {
  seen_cs = tf->cs;
  seen_ss = tf->ss;
  switch (tf->rax) {
    case SYS_getpid:
    case SYS_write:
      n_allowed++;
      usm_passthrough_syscall(tf);
      break;
    case SYS_open:
    case SYS_openat:
      n_denied++;
      tf->rax = (uint64_t)-EPERM;
      break;
    case SYS_getuid:
      n_emulated++;
      tf->rax = 4242;
      break;
    default:
      killed_nr = (long)tf->rax;
      usm_ret_from_user(KILLED);
  }
}

static USM_USER_TEXT void child2(void *arg) {
  (void)arg;
  long v = u_syscall3(SYS_getppid, 0, 0, 0);
  v = u_syscall3(500, v, 0, 0); /* a made-up number: the supervisor sees v */
  for (;;) u_syscall3(SYS_exit_group, v, 0, 0);
}

int main(void) {
  usmtest_enter(0);
  CHECK(usm_map_user_sections(usm_root) == 0, "user sections mapped with the user bit");
  usm_register_syscall_handler(policy);
  struct usm_tf tf;
  usm_init_user_tf(&tf, child, 0, child_stack + sizeof child_stack);
  fflush(stdout);
  int r = usm_jump_to_user(&tf);
  CHECK(r == KILLED, "the child was killed by the policy (returned %d)", r);
  CHECK(killed_nr == SYS_kill, "the fatal call was kill (%ld)", killed_nr);
  CHECK(seen_cs == USM_USER_CS && seen_ss == USM_USER_DS, "syscall frame: cs=%#lx ss=%#lx", (unsigned long)seen_cs,
        (unsigned long)seen_ss);
  CHECK(results[0] == getpid(), "getpid allowed (passed through)");
  CHECK(results[1] == (long)sizeof child_msg - 1, "write allowed (%ld)", results[1]);
  CHECK(results[2] == -EPERM, "open denied with -EPERM (%ld)", results[2]);
  CHECK(results[3] == 4242, "getuid emulated by the supervisor (%ld)", results[3]);
  CHECK(results[4] == 0 && results[5] == 0, "nothing ran after the fatal call");
  CHECK(n_allowed == 2 && n_denied == 1 && n_emulated == 1, "policy counts %d/%d/%d", n_allowed, n_denied, n_emulated);
  CHECK(tf.rax == SYS_kill && (tf.cs & 3) == 3, "tf holds the child's state at the fatal call");

  /* no handler: each syscall comes back to the supervisor */
  usm_register_syscall_handler(0);
  usm_init_user_tf(&tf, child2, 0, child_stack + sizeof child_stack);
  r = usm_jump_to_user(&tf);
  CHECK(r == USM_UEXIT_SYSCALL && tf.rax == SYS_getppid, "first call returns USM_UEXIT_SYSCALL (getppid)");
  uint64_t after = tf.rip;
  tf.rax = 1234;
  r = usm_jump_to_user(&tf);
  CHECK(r == USM_UEXIT_SYSCALL && tf.rax == 500 && tf.rdi == 1234, "resumed with the result; next call 500(%lu)",
        (unsigned long)tf.rdi);
  CHECK(tf.rip == after && tf.rcx == tf.rip && (tf.r11 & 0x200), "rcx = rip after the syscall instruction, r11 = rflags");
  tf.rax = 99;
  r = usm_jump_to_user(&tf);
  CHECK(r == USM_UEXIT_SYSCALL && tf.rax == SYS_exit_group && tf.rdi == 99, "exit_group(99) seen, not performed");
  return usmtest_done();
}
