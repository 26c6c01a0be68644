/*
 * core.c - init and enter, the descriptor tables, the trap dispatcher, handlers, ring 3, and what
 * happens in Linux mode after USM mode ends.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

struct usm_layout usm_layout;
usm_pte_t *usm_root;
usm_pte_t *usm__cur_root;
int usm__active;
int usm__init_flags;
uint64_t usm__brk_cur;
int usm__timer_vector = -1;
uint64_t usm__fault_addr;

struct usm__pcpu usm_pcpu;
volatile uint8_t usm_in_user;
volatile uint8_t usm__tramp_busy;
volatile uint8_t usm_trap_fpu_full;

static int usm_fd = -1;
static int initialized;
static struct usm_config cfg;
static usm_end_fn end_handler;

static usm_pgflt_fn pgflt_handler;
static usm_syscall_fn syscall_handler;
static usm_intr_fn intr_handlers[256];

/* ---- descriptor tables ---------------------------------------------------------------------- */

struct usm__tss {
  uint32_t reserved0;
  uint64_t rsp[3];
  uint64_t reserved1;
  uint64_t ist[7];
  uint64_t reserved2;
  uint16_t reserved3;
  uint16_t iomap_base;
} __attribute__((packed));

struct gate {
  uint16_t off0;
  uint16_t sel;
  uint8_t ist;
  uint8_t type;
  uint16_t off1;
  uint32_t off2;
  uint32_t reserved;
} __attribute__((packed));

struct dtr {
  uint16_t limit;
  uint64_t base;
} __attribute__((packed));

static uint64_t gdt[16] __attribute__((aligned(16)));
struct usm__tss usm__tss __attribute__((aligned(16)));
static struct gate idt[256] __attribute__((aligned(16)));
static uint8_t ist1_stack[16384] __attribute__((aligned(16)));
static uint8_t ist2_stack[16384] __attribute__((aligned(16)));
static uint8_t kstack0[65536] __attribute__((aligned(16)));

#define SFMASK_BITS 0x47700ull /* TF DF IF IOPL NT AC, as Linux */

static void build_tables(void) {
  /* Linux's layout: 0x08 kernel32 CS, 0x10 kernel CS, 0x18 kernel DS, 0x23 user32 CS,
   * 0x2b user DS, 0x33 user CS, 0x40 TSS (16 bytes). */
  gdt[0] = 0;
  gdt[1] = 0x00cf9b000000ffffull;
  gdt[2] = 0x00af9b000000ffffull;
  gdt[3] = 0x00cf93000000ffffull;
  gdt[4] = 0x00cffb000000ffffull;
  gdt[5] = 0x00cff3000000ffffull;
  gdt[6] = 0x00affb000000ffffull;
  gdt[7] = 0;
  uint64_t tss = (uint64_t)&usm__tss;
  uint64_t limit = sizeof(struct usm__tss) - 1;
  gdt[8] = (limit & 0xffff) | ((tss & 0xffffff) << 16) | (0x89ull << 40) | (((limit >> 16) & 0xf) << 48) |
           (((tss >> 24) & 0xff) << 56);
  gdt[9] = tss >> 32;

  memset(&usm__tss, 0, sizeof usm__tss);
  usm__tss.rsp[0] = (uint64_t)(kstack0 + sizeof kstack0);
  usm__tss.ist[0] = (uint64_t)(ist1_stack + sizeof ist1_stack);
  usm__tss.ist[1] = (uint64_t)(ist2_stack + sizeof ist2_stack);
  usm__tss.iomap_base = sizeof(struct usm__tss);
  usm_pcpu.kstack = usm__tss.rsp[0];

  for (int v = 0; v < 256; v++) {
    uint64_t off = (uint64_t)(usm__stubs + 16 * v);
    struct gate *g = &idt[v];
    g->off0 = off & 0xffff;
    g->sel = USM_KERNEL_CS;
    g->ist = v == USM_VEC_DF ? 2 : 1;
    /* interrupt gates; int3/into callable from ring 3 like Linux */
    g->type = (v == USM_VEC_BP || v == USM_VEC_OF) ? 0xee : 0x8e;
    g->off1 = (off >> 16) & 0xffff;
    g->off2 = off >> 32;
    g->reserved = 0;
  }
}

static void load_tables(void) {
  struct dtr gdtr = {sizeof gdt - 1, (uint64_t)gdt};
  struct dtr idtr = {sizeof idt - 1, (uint64_t)idt};
  __asm__ volatile("lgdt %0" : : "m"(gdtr) : "memory");
  __asm__ volatile("lidt %0" : : "m"(idtr) : "memory");
  /* ltr marks the descriptor busy: make it available first (for a second load) */
  gdt[8] = (gdt[8] & ~(0xfull << 40)) | (0x9ull << 40);
  __asm__ volatile("ltr %w0" : : "r"((uint16_t)USM_TSS_SEL) : "memory");
  usm_wrmsr(USM_MSR_STAR, ((uint64_t)(USM_USER_CS - 16) << 48) | ((uint64_t)USM_KERNEL_CS << 32));
  usm_wrmsr(USM_MSR_LSTAR, (uint64_t)usm__syscall_entry);
  usm_wrmsr(USM_MSR_CSTAR, (uint64_t)usm__syscall_entry);
  usm_wrmsr(USM_MSR_SFMASK, SFMASK_BITS);
  usm_wrmsr(USM_MSR_KERNEL_GS_BASE, (uint64_t)&usm_pcpu);
}

/* ---- init and enter ------------------------------------------------------------------------- */

#define POOL_BYTES (64ull << 20)

int usm_init(int flags) {
  if (initialized) return 0;
  long fd = usm__raw_syscall6(SYS_open, (long)USM_DEVICE, O_RDWR | O_CLOEXEC, 0, 0, 0, 0);
  if (fd < 0) return (int)fd;
  long r = usm__raw_syscall6(SYS_ioctl, fd, (long)USM_GET_LAYOUT, (long)&usm_layout, 0, 0, 0);
  if (r < 0) {
    usm__raw_syscall6(SYS_close, fd, 0, 0, 0, 0, 0);
    return (int)r;
  }
  if (!usm_layout.tsc_hz) usm_layout.tsc_hz = 1000000000ull;
  usm_fd = (int)fd;
  usm__init_flags = flags;
  /* memory-map changes made by vmcalls libusm does not see (a libc from glibc-patch/) */
  r = usm__raw_syscall6(SYS_ioctl, fd, (long)USM_SET_MM_LOG, (long)&usm__mm_log, 0, 0, 0);
  if (r < 0) return (int)r;
  usm__brk_cur = (uint64_t)usm__raw_syscall6(SYS_brk, 0, 0, 0, 0, 0, 0);
  int e = usm__page_init(POOL_BYTES);
  if (e) return e;
  usm_root = (usm_pte_t *)usm_page_alloc();
  if (!usm_root) return -ENOMEM;
  build_tables();
  e = usm__map_procmaps();
  if (e) return e;
  initialized = 1;
  return 0;
}

int usm_enter(void) {
  if (!initialized) return -EINVAL;
  if (usm__active) return 0;
  /* whatever was mapped since usm_init (malloc, stdio buffers) */
  int e = usm__map_procmaps();
  if (e) return e;
  memset(&cfg, 0, sizeof cfg);
  cfg.rflags = 0x2;
  cfg.cr3 = (uint64_t)usm_root;
  long r = usm__enter_asm(&cfg, usm_fd, USM_ENTER);
  if (r != 0) return (int)r;
  /* CPL0, paging on usm_root, no descriptor tables yet: nothing may fault or syscall here. */
  usm__active = 1;
  usm__cur_root = usm_root;
  usm__lstar_kcalls = 0;
  load_tables();
  usm_sti();
  return 0;
}

int usm_init_and_enter(int flags) {
  int r = usm_init(flags);
  return r ? r : usm_enter();
}

int usm_in_usm_mode(void) { return usm__active; }

void usm_set_end_handler(usm_end_fn fn) { end_handler = fn; }

static const char *ret_name(int64_t ret) {
  switch (ret) {
    case USM_RET_EXIT: return "exit";
    case USM_RET_TRIPLE: return "triple fault";
    case USM_RET_PHYS: return "access to unmapped guest-physical memory";
    case USM_RET_UNHANDLED: return "unhandled";
    default: return "unknown reason";
  }
}

/* Linux mode, on the private stack of entry.S: USM mode has ended. */
void usm__after_usm(struct usm_config *c) {
  usm__active = 0;
  if (c->ret == USM_RET_EXIT) {
    /* the guest's exit()/_exit() has run (stdio already flushed): only the status is left */
    usm__raw_syscall6(SYS_exit_group, c->status, 0, 0, 0, 0, 0);
  }
  if (end_handler) end_handler(c);
  fflush(stdout);
  char buf[256];
  int n = snprintf(buf, sizeof buf, "usm: USM mode ended: %s (ret=%ld status=%ld fault_rip=%#lx fault_addr=%#lx)\n",
                   ret_name(c->ret), (long)c->ret, (long)c->status, (unsigned long)c->fault_rip,
                   (unsigned long)c->fault_addr);
  if (n > 0) usm__raw_syscall6(SYS_write, 2, (long)buf, n < (int)sizeof buf ? n : (int)sizeof buf - 1, 0, 0, 0);
  int code = USM_EXIT_ABNORMAL + (c->ret >= 0 && c->ret < 32 ? (int)c->ret : 31);
  usm__raw_syscall6(SYS_exit_group, code, 0, 0, 0, 0, 0);
  for (;;) {
  }
}

/* ---- the dispatcher ------------------------------------------------------------------------- */

static const char *const vec_names[32] = {
    "#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "#CSO", "#TS", "#NP", "#SS", "#GP", "#PF", "#15",
    "#MF", "#AC", "#MC", "#XM", "#VE", "#CP", "#22", "#23", "#24", "#25", "#26", "#27", "#HV", "#VC", "#SX", "#31"};

static int vec_signal(uint64_t v) {
  switch (v) {
    case USM_VEC_DE: case USM_VEC_MF: case USM_VEC_XM: return 8;  /* SIGFPE */
    case USM_VEC_DB: case USM_VEC_BP: return 5;                   /* SIGTRAP */
    case USM_VEC_UD: return 4;                                    /* SIGILL */
    case USM_VEC_AC: return 7;                                    /* SIGBUS */
    default: return 11;                                           /* SIGSEGV */
  }
}

__attribute__((noreturn)) static void fatal(struct usm_tf *tf) {
  uint64_t v = tf->vector;
  usm_dprintf(2, "usm: unhandled %s (vector %lu) at CPL%lu: rip=%#lx err=%#lx cr2=%#lx rsp=%#lx\n",
              v < 32 ? vec_names[v] : "interrupt", (unsigned long)v, (unsigned long)(tf->cs & 3),
              (unsigned long)tf->rip, (unsigned long)tf->err, (unsigned long)usm__fault_addr,
              (unsigned long)tf->rsp);
  usm_vmcall1(SYS_exit_group, 128 + vec_signal(v));
  for (;;) {
  }
}

void usm__tramp_fatal(void) {
  static const char msg[] = "usm: exception while switching to the interrupted stack (stack overflow?)\n";
  usm_vmcall3(SYS_write, 2, (long)msg, sizeof msg - 1);
  usm_vmcall1(SYS_exit_group, 139);
  for (;;) {
  }
}

void usm_unhandled_trap(struct usm_tf *tf) {
  if (tf->vector == USM_VEC_SYSCALL) usm_ret_from_user(USM_UEXIT_SYSCALL);
  if ((tf->cs & 3) == 3) usm_ret_from_user(USM_UEXIT_TRAP + (int)tf->vector);
  fatal(tf);
}

/* A host signal nobody handles: Linux's default action (ignore, or end the process as if killed
 * by it: status 128 + signo). */
static int default_signal(struct usm_tf *tf) {
  uint32_t base = usm_layout.signal_vector_base ? usm_layout.signal_vector_base : 200;
  if (tf->vector < base || tf->vector > base + 64) return 0;
  int sig = (int)(tf->vector - base);
  switch (sig) {
    case 17: /* SIGCHLD */
    case 18: /* SIGCONT */
    case 23: /* SIGURG */
    case 28: /* SIGWINCH */
      return 1;
  }
  usm_dprintf(2, "usm: killed by host signal %d (vector %lu, no handler) at rip=%#lx\n", sig, (unsigned long)tf->vector,
              (unsigned long)tf->rip);
  usm_vmcall1(SYS_exit_group, 128 + sig);
  for (;;) {
  }
}

void usm__dispatch(struct usm_tf *tf) {
  uint64_t v = tf->vector;
  if (v == USM_VEC_SYSCALL) {
    if (syscall_handler) syscall_handler(tf);
    else usm_ret_from_user(USM_UEXIT_SYSCALL);
    return;
  }
  if (v == USM_VEC_PF) {
    uint64_t addr = usm_read_cr2();
    /* memory a vmcall mapped (libc's malloc, mmap, brk) gets its mapping now: retry */
    if (usm__mm_sync()) return;
    usm__fault_addr = addr;
    if (pgflt_handler) {
      pgflt_handler(addr, tf->err, tf);
      return;
    }
  } else if (v < 256 && intr_handlers[v]) {
    /* EOI first: the handler may leave through usm_ret_from_user (IF stays 0 until iretq) */
    if ((int)v == usm__timer_vector) usm_apic_eoi();
    intr_handlers[v](tf);
    return;
  }
  if ((int)v == usm__timer_vector) {
    usm_apic_eoi();
    return;
  }
  if (v >= 32 && default_signal(tf)) return;
  usm_unhandled_trap(tf);
}

uint64_t usm_last_fault_addr(void) { return usm__fault_addr; }

void usm_register_pgflt_handler(usm_pgflt_fn fn) { pgflt_handler = fn; }
void usm_register_syscall_handler(usm_syscall_fn fn) { syscall_handler = fn; }
void usm_register_intr_handler(int vector, usm_intr_fn fn) {
  if (vector >= 0 && vector < 256) intr_handlers[vector] = fn;
}
void usm_register_signal_handler(int signo, usm_intr_fn fn) {
  uint32_t base = usm_layout.signal_vector_base ? usm_layout.signal_vector_base : 200;
  usm_register_intr_handler((int)base + signo, fn);
}

/* ---- ring 3 --------------------------------------------------------------------------------- */

void usm_init_user_tf(struct usm_tf *tf, void (*fn)(void *), void *arg, void *stack_top) {
  memset(tf, 0, sizeof *tf);
  uint64_t sp = ((uint64_t)stack_top & ~15ull) - 8;
  *(uint64_t *)sp = 0; /* returning from fn faults at rip 0 */
  tf->rip = (uint64_t)fn;
  tf->rdi = (uint64_t)arg;
  tf->rsp = sp;
  tf->cs = USM_USER_CS;
  tf->ss = USM_USER_DS;
  tf->rflags = 0x202;
}

int usm_jump_to_user(struct usm_tf *tf) { return usm__jump_to_user(tf, 0); }

int usm_jump_to_user_fpu(struct usm_tf *tf, struct usm_fpu *fpu) { return usm__jump_to_user(tf, fpu); }

void usm_fpu_save(struct usm_fpu *fpu) { __asm__ volatile("fxsave64 %0" : "=m"(*fpu)); }

void usm_passthrough_syscall(struct usm_tf *tf) {
  tf->rax = (uint64_t)usm__syscall_mm((long)tf->rax, (long)tf->rdi, (long)tf->rsi, (long)tf->rdx, (long)tf->r10,
                                      (long)tf->r8, (long)tf->r9, 1);
}
