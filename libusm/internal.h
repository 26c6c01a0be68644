/* internal.h - shared between libusm's files; not installed. */
#ifndef USM_INTERNAL_H
#define USM_INTERNAL_H

#include "usm/usm.h"

#include <stdint.h>

/* The per-CPU area (KERNEL_GS_BASE while the supervisor runs; offsets used by entry.S). */
struct usm__pcpu {
  uint64_t kstack;   /* 0: top of the stack for traps from ring 3 (also TSS.RSP0) */
  uint64_t user_rsp; /* 8: scratch for the syscall entry */
  uint64_t sup_rsp;  /* 16: the supervisor context saved by usm_jump_to_user */
  uint64_t cur_tf;   /* 24: the struct usm_tf the current usm_jump_to_user updates */
  uint64_t cur_fpu;  /* 32: its FPU area, or 0 */
};
extern struct usm__pcpu usm_pcpu;
extern volatile uint8_t usm_in_user;
extern volatile uint8_t usm__tramp_busy;
extern volatile uint8_t usm_trap_fpu_full;

/* What the LSTAR entry saved for a system call made at CPL0 (entry.S). */
struct usm__ksys {
  uint64_t rax, r11, rcx, r10, r9, r8, rdx, rsi, rdi;
};

/* entry.S */
long usm__enter_asm(struct usm_config *cfg, int fd, unsigned long request);
extern char usm__stubs[];
void usm__syscall_entry(void);
int usm__jump_to_user(struct usm_tf *tf, void *fpu);

/* core.c */
extern int usm__active;        /* in USM mode (CPL0 instructions are legal) */
extern int usm__init_flags;
extern usm_pte_t *usm__cur_root;
extern uint64_t usm__brk_cur;
extern int usm__timer_vector;
long usm__ksyscall(struct usm__ksys *r);
long usm__syscall_mm(long nr, long a1, long a2, long a3, long a4, long a5, long a6, int user);
void usm__dispatch(struct usm_tf *tf);
void usm__after_usm(struct usm_config *cfg) __attribute__((noreturn));
void usm__tramp_fatal(void) __attribute__((noreturn));
int usm__map_procmaps(void);
extern struct usm_mm_log usm__mm_log;
extern unsigned long usm__lstar_kcalls;
int usm__mm_sync(void);

/* page.c */
int usm__page_init(size_t initial_bytes);
int usm__page_chunk_overlaps(uint64_t begin, uint64_t end, uint64_t *ob, uint64_t *oe, int idx);

/* vm.c */
void usm__vm_flush_page(usm_pte_t *root, uint64_t va);
int usm__vm_set_flags(usm_pte_t *root, uint64_t va, uint64_t len, uint64_t set, uint64_t clear);

/* sys.c: raw system call (vmcall at CPL0, syscall otherwise), no page-table bookkeeping */
long usm__raw_syscall6(long nr, long a1, long a2, long a3, long a4, long a5, long a6);
/* zero a page with rep stosq, as a kernel's clear_page does (no SSE: this runs inside the
 * syscall entry, which must keep XMM intact); usmjit runs it as one memory.fill */
static inline void usm__zero_page(void *p) {
  void *d = p;
  unsigned long n = 512;
  __asm__ volatile("cld; rep stosq" : "+D"(d), "+c"(n) : "a"(0ul) : "memory", "cc");
}

#define USM__IS_ERR(x) ((unsigned long)(x) >= (unsigned long)-4095)
#define USM__PAGE_DOWN(x) ((uint64_t)(x) & ~0xfffull)
#define USM__PAGE_UP(x) (((uint64_t)(x) + 0xfffull) & ~0xfffull)

#endif
