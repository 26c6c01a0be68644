/* Page faults from ring 3 reach the supervisor with the architectural error code and CR2:
 * a write to a read-only user page (P|W|U), a read/write of a supervisor-only page (P|U, P|W|U),
 * a read/write of a missing page (U, W|U); and a supervisor write to a read-only page with
 * CR0.WP set (P|W). */
#include <sys/mman.h>

#include "usmtest.h"

__asm__(".pushsection usm_user_text,\"ax\",@progbits\n"
        ".p2align 4\n"
        "u_read: movb (%rdi), %al\n ud2\n"
        "u_write: movb $1, (%rdi)\n ud2\n"
        ".popsection\n");
extern char u_read[], u_write[];

static USM_USER_DATA char stack[8192] __attribute__((aligned(16)));

static void child_access(const char *what, char *stub, char *addr, uint64_t want_err) {
  struct usm_tf tf;
  usm_init_user_tf(&tf, (void (*)(void *))stub, addr, stack + sizeof stack);
  int r = usm_jump_to_user(&tf);
  uint64_t cr2 = usm_last_fault_addr();
  CHECK(r == USM_UEXIT_TRAP + USM_VEC_PF && tf.err == want_err && cr2 == (uint64_t)addr && tf.rip == (uint64_t)stub,
        "%-34s -> %s err=%#lx (want %#lx), cr2 %s", what, r == USM_UEXIT_TRAP + USM_VEC_PF ? "#PF" : "NOT #PF",
        (unsigned long)tf.err, (unsigned long)want_err, cr2 == (uint64_t)addr ? "= address" : "WRONG");
}

static volatile uint64_t sup_err, sup_addr;

static void on_pgflt(uintptr_t addr, uint64_t err, struct usm_tf *tf) {
  if ((tf->cs & 3) == 3) usm_unhandled_trap(tf); /* ring-3 faults go back to usm_jump_to_user */
  sup_err = err;
  sup_addr = addr;
  /* make it writable and retry */
  usm_vm_mprotect(usm_root, (void *)(addr & ~0xfffull), 4096, USM_PERM_RW);
}

int main(void) {
  usmtest_enter(0);
  usm_map_user_sections(usm_root);
  char *m = mmap(0, 4 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  char *ro_user = m, *sup = m + 4096, *missing = m + 2 * 4096, *rw_user = m + 3 * 4096;
  usm_vm_mprotect(usm_root, ro_user, 4096, USM_PERM_R | USM_PERM_U);
  usm_vm_mprotect(usm_root, rw_user, 4096, USM_PERM_RW | USM_PERM_U);
  usm_vm_unmap(usm_root, missing, 4096);

  child_access("write to a read-only user page", u_write, ro_user + 8, USM_PF_P | USM_PF_W | USM_PF_U);
  child_access("read of a supervisor page", u_read, sup + 16, USM_PF_P | USM_PF_U);
  child_access("write to a supervisor page", u_write, sup + 24, USM_PF_P | USM_PF_W | USM_PF_U);
  child_access("read of a missing page", u_read, missing + 32, USM_PF_U);
  child_access("write to a missing page", u_write, missing + 40, USM_PF_W | USM_PF_U);

  /* the allowed accesses work */
  struct usm_tf tf;
  usm_init_user_tf(&tf, (void (*)(void *))u_read, ro_user, stack + sizeof stack);
  int r = usm_jump_to_user(&tf);
  CHECK(r == USM_UEXIT_TRAP + USM_VEC_UD, "a read of the read-only user page succeeds (then ud2)");
  usm_init_user_tf(&tf, (void (*)(void *))u_write, rw_user + 5, stack + sizeof stack);
  r = usm_jump_to_user(&tf);
  CHECK(r == USM_UEXIT_TRAP + USM_VEC_UD && rw_user[5] == 1, "a write to the writable user page succeeds");

  /* CPL0 write to a read-only page: CR0.WP is set, so it faults (P|W, no U) */
  usm_register_pgflt_handler(on_pgflt);
  *(volatile char *)&ro_user[100] = 7;
  CHECK(sup_err == (USM_PF_P | USM_PF_W) && sup_addr == (uint64_t)(ro_user + 100) && ro_user[100] == 7,
        "supervisor write to a read-only page: err=%#lx, retried after the handler", (unsigned long)sup_err);
  return usmtest_done();
}
