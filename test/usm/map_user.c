/* usm_init(USM_INIT_MAP_USER): the whole address space is user-accessible, so a ring-3 child can
 * run ordinary glibc code (printf, malloc) whose system calls the supervisor passes through to
 * Linux; memory the child's calls map (brk, mmap) is user-accessible too. The page pool (page
 * tables) stays supervisor-only. */
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "usmtest.h"

#define SYS_DONE 1000

static int passed_through, nr_seen[512];

static void on_syscall(struct usm_tf *tf) {
  if (tf->rax == SYS_DONE) usm_ret_from_user((int)tf->rdi);
  if (tf->rax < 512) nr_seen[tf->rax]++;
  passed_through++;
  usm_passthrough_syscall(tf);
}

static volatile uint64_t probe_addr;

static void child(void *arg) {
  (void)arg;
  CHECK(getpid() > 0 && usm_cpl() == 3, "ring-3 child: at CPL3, glibc's getpid works");
  char *big = malloc(1 << 20); /* mmap */
  char *small = malloc(200000); /* brk */
  long sum = 0;
  if (big && small) {
    memset(big, 1, 1 << 20);
    memset(small, 2, 200000);
    for (int i = 0; i < (1 << 20); i += 4096) sum += big[i];
    sum += small[199999];
  }
  CHECK(sum == 256 + 2, "ring-3 child: malloc'd memory (mmap and brk) usable");
  fflush(stdout);
  free(big);
  long r;
  __asm__ volatile("syscall" : "=a"(r) : "a"((long)SYS_DONE), "D"(7L) : "rcx", "r11", "memory");
  for (;;) {
  }
}

static void touch_pool(void *arg) {
  (void)*(volatile char *)arg;
  for (;;) {
  }
}

int main(void) {
  usmtest_enter(USM_INIT_MAP_USER);
  usm_pte_t *e;
  usm_vm_lookup(usm_root, (void *)main, 0, &e);
  CHECK(e && (*e & USM_PTE_U), "program text is user-accessible");
  usm_vm_lookup(usm_root, usm_root, 0, &e);
  CHECK(e && !(*e & USM_PTE_U), "the page pool is not");
  usm_register_syscall_handler(on_syscall);
  fflush(stdout);
  char *stack = malloc(65536);
  struct usm_tf tf;
  usm_init_user_tf(&tf, child, 0, stack + 65536);
  int r = usm_jump_to_user(&tf);
  CHECK(r == 7, "the child finished (%d)", r);
  CHECK(passed_through >= 3 && nr_seen[SYS_write] >= 1 && nr_seen[SYS_getpid] == 1 && nr_seen[SYS_mmap] >= 1,
        "its syscalls were passed through (write, getpid, mmap)");

  usm_register_syscall_handler(0);
  usm_init_user_tf(&tf, touch_pool, usm_root, stack + 65536);
  r = usm_jump_to_user(&tf);
  CHECK(r == USM_UEXIT_TRAP + USM_VEC_PF && tf.err == (USM_PF_P | USM_PF_U),
        "a ring-3 read of a page table faults (err=%#lx)", (unsigned long)tf.err);
  return usmtest_done();
}
