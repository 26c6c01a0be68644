/*
 * usm.h - libusm: the supervisor library for usmjit's User-level Supervisor Mode.
 *
 * A program links libusm/libusm.a, calls usm_init() and usm_enter(), and from then on runs at CPL0
 * of a virtual x86-64 CPU: its own page tables (the whole existing address space mapped 1:1), an IDT
 * whose exceptions and interrupts reach C handlers, ring-3 children, and Linux system calls by
 * `vmcall`. Unmodified glibc keeps working at CPL0: its `syscall` instructions reach libusm's LSTAR
 * entry, which forwards them with `vmcall` (and keeps the page tables in step with mmap, munmap,
 * mprotect, mremap and brk).
 *
 * Conventions
 * - Physical addresses are guest-physical = the process's Linux-mode virtual addresses; the
 *   supervisor's own address space maps them 1:1, so a page table or pool page is reachable at its
 *   physical address. Extra (non-identity) mappings should use addresses nothing else will be given:
 *   the kernel half (0xffff800000000000 and up) is good for data aliases; usmjit runs code only from
 *   the lower half.
 * - Supervisor-only by default: every range found in /proc/self/maps (and every later mmap or brk
 *   made in USM mode) is mapped without the user bit. Ranges a ring-3 child may touch are given
 *   USM_PERM_U with usm_vm_mprotect() / usm_vm_map_*(), or map everything user-accessible with
 *   usm_init(USM_INIT_MAP_USER). Functions declared USM_USER_TEXT and variables declared
 *   USM_USER_DATA are made user-accessible by usm_map_user_sections().
 * - Single virtual CPU, no locking. Handlers run with interrupts disabled (interrupt gates).
 */
#ifndef USM_H
#define USM_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "usm_abi.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------------------------
 * Trap frame: what an exception, an interrupt or a ring-3 syscall saved. The entry stubs push it;
 * handlers may change it (the stub restores every field with iretq). */
struct usm_tf {
  uint64_t rdi, rsi, rdx, rcx, r8, r9, r10, r11;
  uint64_t rbx, rbp, r12, r13, r14, r15;
  uint64_t rax;
  uint64_t vector; /* 0-255, or USM_VEC_SYSCALL for a ring-3 `syscall` */
  uint64_t err;    /* the error code (0 when the vector has none) */
  uint64_t rip, cs, rflags, rsp, ss;
};

#define USM_VEC_SYSCALL 256 /* usm_tf.vector of a ring-3 syscall (rip is after the instruction) */

/* What the entry stubs save of the interrupted code's vector state around the C handlers: by
 * default XMM0-15 and MXCSR (handlers are C code and may use SSE; this is the fast choice, since
 * x87 instructions and fxsave run in TypeScript under usmjit); set to 1 to save the complete
 * x87/SSE state with fxsave64/fxrstor64 (needed if handlers and the interrupted code both use
 * the x87, e.g. long double). */
extern volatile uint8_t usm_trap_fpu_full;

/* Exception vectors. */
#define USM_VEC_DE 0
#define USM_VEC_DB 1
#define USM_VEC_NMI 2
#define USM_VEC_BP 3
#define USM_VEC_OF 4
#define USM_VEC_BR 5
#define USM_VEC_UD 6
#define USM_VEC_NM 7
#define USM_VEC_DF 8
#define USM_VEC_TS 10
#define USM_VEC_NP 11
#define USM_VEC_SS 12
#define USM_VEC_GP 13
#define USM_VEC_PF 14
#define USM_VEC_MF 16
#define USM_VEC_AC 17
#define USM_VEC_MC 18
#define USM_VEC_XM 19

/* #PF error code bits */
#define USM_PF_P    0x01
#define USM_PF_W    0x02
#define USM_PF_U    0x04
#define USM_PF_RSVD 0x08
#define USM_PF_I    0x10

/* ---------------------------------------------------------------------------------------------
 * Init and enter */

#define USM_INIT_MAP_USER 0x1 /* map the existing address space (and later mmaps) with the user bit */

/* Opens /dev/usm, reads the layout, makes the page pool, the page tables, the GDT, TSS and IDT.
 * Returns 0, or -errno (-ENOENT: not running under usmjit). Linux mode only. */
int usm_init(int flags);
/* Maps everything /proc/self/maps lists (again: whatever was added since usm_init) and enters USM
 * mode: returns 0 at CPL0 with the descriptor tables, syscall MSRs and interrupts set up, or -errno
 * (still in Linux mode). When USM mode ends the process exits: with the guest's status after an
 * exit/exit_group, otherwise through the end handler or with a diagnostic and USM_EXIT_ABNORMAL+ret. */
int usm_enter(void);
/* Both: usm_init(flags) then usm_enter(). */
int usm_init_and_enter(int flags);

/* Exit status of the process when USM mode ends abnormally and no end handler exits first. */
#define USM_EXIT_ABNORMAL 160 /* + cfg.ret: 162 triple fault, 163 physical, 164 unhandled */

/* Runs in Linux mode (on a private stack) after USM mode ended for any reason but an exit; may use
 * stdio and should exit (exit() flushes stdio buffers written in USM mode). */
typedef void (*usm_end_fn)(const struct usm_config *cfg);
void usm_set_end_handler(usm_end_fn fn);

int usm_in_usm_mode(void);                 /* 1 after usm_enter() succeeded */
static inline int usm_cpl(void) {
  uint16_t cs;
  __asm__ volatile("mov %%cs, %0" : "=r"(cs));
  return cs & 3;
}
extern struct usm_layout usm_layout;      /* filled by usm_init */

/* ---------------------------------------------------------------------------------------------
 * System calls */

/* Raw vmcall (CPL0 only): the Linux convention, -errno on failure. */
static inline long usm_vmcall6(long nr, long a1, long a2, long a3, long a4, long a5, long a6) {
  register long r10 __asm__("r10") = a4;
  register long r8 __asm__("r8") = a5;
  register long r9 __asm__("r9") = a6;
  long ret;
  __asm__ volatile("vmcall"
                   : "=a"(ret)
                   : "a"(nr), "D"(a1), "S"(a2), "d"(a3), "r"(r10), "r"(r8), "r"(r9)
                   : "memory");
  return ret;
}
static inline long usm_vmcall0(long nr) { return usm_vmcall6(nr, 0, 0, 0, 0, 0, 0); }
static inline long usm_vmcall1(long nr, long a1) { return usm_vmcall6(nr, a1, 0, 0, 0, 0, 0); }
static inline long usm_vmcall3(long nr, long a1, long a2, long a3) { return usm_vmcall6(nr, a1, a2, a3, 0, 0, 0); }

/* A Linux system call from any mode: vmcall at CPL0, `syscall` at CPL3 (Linux mode, or a ring-3
 * child, where it reaches the supervisor). Returns -errno on failure (no errno). */
long usm_syscall(long nr, ...);
/* At CPL0 memory system calls keep the page tables in step: use these (or plain glibc). */
void *usm_mmap(void *addr, size_t len, int prot, int flags, int fd, long off); /* MAP_FAILED + errno */
int usm_munmap(void *addr, size_t len);
int usm_mprotect(void *addr, size_t len, int prot);
/* stdio-free output usable in any handler: formats into a buffer and writes it with one call. */
int usm_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int usm_vprintf(const char *fmt, va_list ap);
int usm_dprintf(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void usm_exit(int status) __attribute__((noreturn));

/* ---------------------------------------------------------------------------------------------
 * Physical pages: a pool (mmap'd, grown on demand) with reference counts. Addresses are physical
 * (= virtual in the supervisor's 1:1 map); pages come back zeroed. */
uint64_t usm_page_alloc(void);            /* 0 when out of memory; refcount 1 */
void usm_page_free(uint64_t pa);          /* refcount must be 0 or 1 */
void usm_page_get(uint64_t pa);           /* refcount + 1 */
void usm_page_put(uint64_t pa);           /* refcount - 1, freed at 0 */
int usm_page_is_pool(uint64_t pa);
int usm_page_refcount(uint64_t pa);
size_t usm_page_free_count(void);
size_t usm_page_total_count(void);

/* ---------------------------------------------------------------------------------------------
 * Page tables */

typedef uint64_t usm_pte_t;

#define USM_PAGE_SIZE 4096ull
#define USM_BIG_PAGE_SIZE (2ull << 20)
#define USM_HUGE_PAGE_SIZE (1ull << 30)

#define USM_PTE_P    (1ull << 0)
#define USM_PTE_W    (1ull << 1)
#define USM_PTE_U    (1ull << 2)
#define USM_PTE_PWT  (1ull << 3)
#define USM_PTE_PCD  (1ull << 4)
#define USM_PTE_A    (1ull << 5)
#define USM_PTE_D    (1ull << 6)
#define USM_PTE_PS   (1ull << 7)
#define USM_PTE_G    (1ull << 8)
#define USM_PTE_POOL (1ull << 9)  /* software: the leaf holds a reference on a pool page */
#define USM_PTE_COW  (1ull << 10) /* software: for the application (copy on write) */
#define USM_PTE_USR  (1ull << 11) /* software: for the application */
#define USM_PTE_NX   (1ull << 63)
#define USM_PTE_ADDR 0x000ffffffffff000ull
#define USM_PTE_ADDR_BIG 0x000fffffffe00000ull  /* 2 MiB leaf */
#define USM_PTE_ADDR_HUGE 0x000fffffc0000000ull /* 1 GiB leaf */
#define USM_PTE_FLAGS (~USM_PTE_ADDR)

/* Permissions of usm_vm_* calls. Without R the page is not present. */
#define USM_PERM_R     0x0001
#define USM_PERM_W     0x0002
#define USM_PERM_X     0x0004
#define USM_PERM_U     0x0008
#define USM_PERM_UC    0x0010 /* uncached (PCD) */
#define USM_PERM_G     0x0020 /* global */
#define USM_PERM_COW   0x0040 /* sets USM_PTE_COW */
#define USM_PERM_USR   0x0080 /* sets USM_PTE_USR */
#define USM_PERM_BIG   0x0100 /* 2 MiB pages (va, pa, len 2 MiB-aligned) */
#define USM_PERM_HUGE  0x0200 /* 1 GiB pages (va, pa, len 1 GiB-aligned) */
#define USM_PERM_REF   0x0400 /* usm_vm_map_phys: take a reference on pool pages (unmap puts it) */
#define USM_PERM_RW    (USM_PERM_R | USM_PERM_W)
#define USM_PERM_RX    (USM_PERM_R | USM_PERM_X)
#define USM_PERM_RWX   (USM_PERM_R | USM_PERM_W | USM_PERM_X)

/* Levels as passed to walk callbacks and returned by lookup: 0 = 4 KiB PTE, 1 = 2 MiB PDE,
 * 2 = 1 GiB PDPTE, 3 = PML4E. */
#define USM_LEVEL_4K 0
#define USM_LEVEL_2M 1
#define USM_LEVEL_1G 2

extern usm_pte_t *usm_root;               /* the supervisor's address space (its PML4) */

usm_pte_t usm_perm_to_pte(int perm);      /* leaf flags for perm (without PS) */
int usm_pte_to_perm(usm_pte_t pte);

/* Maps [va, va+len) to [pa, pa+len). Replaces existing entries (splitting large pages). */
int usm_vm_map_phys(usm_pte_t *root, void *va, size_t len, uint64_t pa, int perm);
/* Maps [va, va+len) to freshly allocated zeroed pool pages (owned by the mapping). */
int usm_vm_map_pages(usm_pte_t *root, void *va, size_t len, int perm);
/* Changes the permissions of the present pages in [va, va+len) (keeps A/D/software bits). */
int usm_vm_mprotect(usm_pte_t *root, void *va, size_t len, int perm);
/* Removes the mappings of [va, va+len), putting owned pool pages. */
void usm_vm_unmap(usm_pte_t *root, void *va, size_t len);
/* The leaf entry for va: returns the level of the leaf found (0-2) and stores its address in *out,
 * or -ENOENT (no table on the way; *out = NULL). With create, missing tables are allocated and the
 * 4 KiB PTE slot is returned (level 0), splitting a large page on the way. */
int usm_vm_lookup(usm_pte_t *root, const void *va, int create, usm_pte_t **out);
/* Calls fn for every present leaf in [start, end) (with USM_WALK_ALL also the empty 4 KiB slots of
 * existing tables). fn may change *pte (e.g. clear A/D); a nonzero return stops the walk and is
 * returned. */
typedef int (*usm_walk_fn)(void *arg, usm_pte_t *pte, void *va, int level);
#define USM_WALK_ALL 0x1
int usm_vm_walk(usm_pte_t *root, const void *start, const void *end, usm_walk_fn fn, void *arg);
int usm_vm_walk_flags(usm_pte_t *root, const void *start, const void *end, int flags, usm_walk_fn fn, void *arg);
/* A new address space with copies of all tables (leaves shared; owned pool pages get a reference). */
usm_pte_t *usm_vm_clone(usm_pte_t *root);
/* Frees the tables of an address space (not the current one) and puts its owned pool pages. */
void usm_vm_free(usm_pte_t *root);
/* Makes the functions of USM_USER_TEXT and the variables of USM_USER_DATA user-accessible. */
int usm_map_user_sections(usm_pte_t *root);

#define USM_USER_TEXT __attribute__((section("usm_user_text"), noinline, used, aligned(16)))
#define USM_USER_DATA __attribute__((section("usm_user_data"), used, aligned(64)))

/* ---------------------------------------------------------------------------------------------
 * Control registers and the TLB */

static inline uint64_t usm_read_cr0(void) { uint64_t v; __asm__ volatile("mov %%cr0, %0" : "=r"(v)); return v; }
static inline uint64_t usm_read_cr2(void) { uint64_t v; __asm__ volatile("mov %%cr2, %0" : "=r"(v)); return v; }
static inline uint64_t usm_read_cr3(void) { uint64_t v; __asm__ volatile("mov %%cr3, %0" : "=r"(v)); return v; }
static inline uint64_t usm_read_cr4(void) { uint64_t v; __asm__ volatile("mov %%cr4, %0" : "=r"(v)); return v; }
static inline void usm_write_cr0(uint64_t v) { __asm__ volatile("mov %0, %%cr0" : : "r"(v) : "memory"); }
static inline void usm_write_cr3(uint64_t v) { __asm__ volatile("mov %0, %%cr3" : : "r"(v) : "memory"); }
static inline void usm_write_cr4(uint64_t v) { __asm__ volatile("mov %0, %%cr4" : : "r"(v) : "memory"); }
static inline void usm_invlpg(const void *va) { __asm__ volatile("invlpg (%0)" : : "r"(va) : "memory"); }
static inline uint64_t usm_rdmsr(uint32_t msr) {
  uint32_t lo, hi;
  __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
  return ((uint64_t)hi << 32) | lo;
}
static inline void usm_wrmsr(uint32_t msr, uint64_t v) {
  __asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
}
static inline uint64_t usm_rdtsc(void) {
  uint32_t lo, hi;
  __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
  return ((uint64_t)hi << 32) | lo;
}
static inline void usm_cli(void) { __asm__ volatile("cli" ::: "memory"); }
static inline void usm_sti(void) { __asm__ volatile("sti" ::: "memory"); }
static inline void usm_hlt(void) { __asm__ volatile("hlt" ::: "memory"); }
/* Waits for an interrupt with no window between enabling interrupts and halting (sti's
 * interrupt shadow): arm the event with interrupts disabled, then call this. */
static inline void usm_sti_hlt(void) { __asm__ volatile("sti; hlt" ::: "memory"); }

#define USM_CR4_PGE   (1ull << 7)
#define USM_CR4_PCIDE (1ull << 17)
#define USM_CR3_NOFLUSH (1ull << 63)

void usm_flush_tlb_one(const void *va);   /* invlpg */
void usm_flush_tlb(void);                 /* CR3 reload: non-global entries of the current PCID */
void usm_flush_tlb_global(void);          /* CR4.PGE toggle: everything */
/* Switches to root with PCID pcid (0 without PCIDE); noflush keeps the PCID's cached entries. */
void usm_load_cr3(usm_pte_t *root, unsigned pcid, int noflush);
int usm_enable_pcid(void);                /* sets CR4.PCIDE (current CR3 must use PCID 0) */
/* invpcid: type 0 one address, 1 one PCID, 2 all incl. global, 3 all but global. */
void usm_invpcid(unsigned type, unsigned pcid, const void *va);
usm_pte_t *usm_current_root(void);

/* ---------------------------------------------------------------------------------------------
 * Handlers. A handler returns to resume the interrupted code with the (possibly changed) frame. */
typedef void (*usm_pgflt_fn)(uintptr_t addr, uint64_t err, struct usm_tf *tf);
typedef void (*usm_intr_fn)(struct usm_tf *tf);
typedef void (*usm_syscall_fn)(struct usm_tf *tf);
void usm_register_pgflt_handler(usm_pgflt_fn fn);
void usm_register_intr_handler(int vector, usm_intr_fn fn); /* 0-255; NULL removes */
void usm_register_syscall_handler(usm_syscall_fn fn);       /* ring-3 syscalls */
/* Host signal N arrives as vector usm_layout.signal_vector_base + N. */
void usm_register_signal_handler(int signo, usm_intr_fn fn);

/* ---------------------------------------------------------------------------------------------
 * Ring 3 */

/* A trap frame that starts fn(arg) at CPL3 on the given user stack (16-byte aligned top). */
void usm_init_user_tf(struct usm_tf *tf, void (*fn)(void *), void *arg, void *stack_top);
/* Runs tf at CPL3 until a handler calls usm_ret_from_user(code), or until an exception, interrupt
 * or syscall from ring 3 that has no handler: then returns USM_UEXIT_TRAP + vector or
 * USM_UEXIT_SYSCALL. In every case *tf is updated with the child's state at that point, so
 * usm_jump_to_user(tf) continues it (after a syscall: set tf->rax to the result first). */
int usm_jump_to_user(struct usm_tf *tf);
/* The same, keeping the child's x87/SSE state in *fpu across the supervisor's code (fill it once
 * with usm_fpu_save() before the first jump). Without it the child continues with whatever vector
 * registers the supervisor left. */
struct usm_fpu {
  uint8_t area[512];
} __attribute__((aligned(16)));
int usm_jump_to_user_fpu(struct usm_tf *tf, struct usm_fpu *fpu);
void usm_fpu_save(struct usm_fpu *fpu);
void usm_ret_from_user(int code) __attribute__((noreturn));
/* What the dispatcher does without a handler: from ring 3, usm_ret_from_user(USM_UEXIT_TRAP +
 * vector) (or USM_UEXIT_SYSCALL); from CPL0, a diagnostic on stderr and exit(128 + signal). */
void usm_unhandled_trap(struct usm_tf *tf) __attribute__((noreturn));
/* CR2 of the last #PF the dispatcher saw. */
uint64_t usm_last_fault_addr(void);
#define USM_UEXIT_TRAP    0x1000 /* + vector */
#define USM_UEXIT_SYSCALL 0x2000
/* Performs the syscall described by tf (rax, rdi, rsi, rdx, r10, r8, r9) with vmcall: tf->rax =
 * result. Pointer arguments must be identity-mapped (they are guest-physical). Memory the call
 * maps (mmap, brk, mprotect) is mapped 1:1 with the user bit. */
void usm_passthrough_syscall(struct usm_tf *tf);

/* System calls glibc made with the `syscall` instruction at CPL0 since usm_enter, each forwarded
 * through the LSTAR entry (a fault-like round trip). A libc built from glibc-patch/ makes them
 * with vmcall itself and leaves this at 0. */
unsigned long usm_lstar_kcalls(void);
/* Brings the page tables in step with what vmcalls did to the memory map (usmjit's mm log,
 * usm_abi.h). libusm does it at each page fault, at each of its usm_vm_* calls and before the
 * syscalls it forwards; returns 1 if the tables changed. */
int usm_mm_sync(void);

/* ---------------------------------------------------------------------------------------------
 * Debug registers */
#define USM_WATCH_EXEC  0 /* instruction breakpoint (len must be 1) */
#define USM_WATCH_WRITE 1
#define USM_WATCH_RW    3
/* Arms DRidx for [addr, addr+len) (len 1, 2, 4, 8, naturally aligned); hits raise #DB (vector 1,
 * after the access for data watchpoints): register a handler with usm_register_intr_handler. */
int usm_set_watchpoint(int idx, const void *addr, int len, int type);
void usm_clear_watchpoint(int idx);
uint64_t usm_read_dr6(void);
void usm_write_dr6(uint64_t v);
uint64_t usm_read_dr7(void);

/* ---------------------------------------------------------------------------------------------
 * Time: rdtsc ticks at usm_layout.tsc_hz; the x2APIC timer */
uint64_t usm_tsc_hz(void);
uint64_t usm_ticks_to_ns(uint64_t ticks);
/* Arms the x2APIC timer: interrupt `vector` after `count` timer ticks (divide by 1), repeating
 * if periodic. libusm sends the EOI after the handler of that vector returns. */
void usm_timer_start(int vector, uint32_t count, int periodic);
void usm_timer_stop(void);
uint32_t usm_timer_current(void);
void usm_apic_eoi(void);

/* ---------------------------------------------------------------------------------------------
 * /proc/self/maps */
struct usm_procmap_entry {
  uint64_t begin, end;
  int r, w, x, p;
  char name[96];
};
typedef void (*usm_procmap_fn)(const struct usm_procmap_entry *e, void *arg);
int usm_procmap_iterate(usm_procmap_fn fn, void *arg);

#ifdef __cplusplus
}
#endif
#endif
