/*
 * usm_abi.h - the guest ABI of usmjit's User-level Supervisor Mode (USM).
 *
 * A process running under usmjit opens /dev/usm and issues USM_ENTER with a register file and a
 * root page table. From then on it runs at CPL0 of a virtual x86-64 CPU with paging through its own
 * page tables; the ioctl returns (in Linux mode, at the instruction after the system call) only
 * when USM mode ends, with the reason in cfg.ret and the status in cfg.status.
 *
 * Guest-physical addresses are the process's own Linux-mode virtual addresses: a page mapped 1:1
 * by the supervisor is the memory the process already had. See docs/usm-abi.md.
 */
#ifndef USM_ABI_H
#define USM_ABI_H

#include <stdint.h>
#include <sys/ioctl.h>

#define USM_DEVICE "/dev/usm"
#define USM_ABI_VERSION 1

/* Register indices of usm_config.regs: x86 encoding order. */
enum usm_reg {
  USM_RAX, USM_RCX, USM_RDX, USM_RBX, USM_RSP, USM_RBP, USM_RSI, USM_RDI,
  USM_R8, USM_R9, USM_R10, USM_R11, USM_R12, USM_R13, USM_R14, USM_R15,
};

struct usm_config {
  uint64_t regs[16];  /* in: general registers (enum usm_reg) */
  uint64_t rip;       /* in: where CPL0 execution starts */
  uint64_t rflags;    /* in: bit 1 is forced on; IF is honoured (timer interrupts) */
  uint64_t cr3;       /* in: root page table (guest-physical), PCID in bits 0-11 if CR4.PCIDE */
  int64_t ret;        /* out: why USM mode ended (USM_RET_*) */
  int64_t status;     /* out: exit status (USM_RET_EXIT) or the exception vector (triple fault) */
  uint64_t fault_addr;/* out: the faulting guest-physical/virtual address, when there is one */
  uint64_t fault_rip; /* out: rip when USM mode ended abnormally */
} __attribute__((packed));

/* usm_config.ret */
#define USM_RET_EXIT        1 /* exit/exit_group through vmcall: status = exit code */
#define USM_RET_TRIPLE      2 /* an exception while delivering a double fault */
#define USM_RET_PHYS        3 /* access to a guest-physical address the process has not mapped */
#define USM_RET_UNHANDLED   4 /* something usmjit cannot continue from (fault_rip says where) */

struct usm_layout {
  uint64_t phys_base;     /* lowest guest-physical address (0) */
  uint64_t phys_limit;    /* one past the highest guest-physical address (the 47-bit user space) */
  uint64_t tsc_hz;        /* frequency of rdtsc in USM mode (and Linux mode) */
  uint32_t signal_vector_base; /* a host signal N arrives as interrupt vector base + N */
  uint32_t version;       /* USM_ABI_VERSION */
} __attribute__((packed));

/* The mm log: how the process's memory changed by system calls made with vmcall. A libc that
 * makes its own vmcalls at CPL0 (glibc-patch/) maps, unmaps and reprotects memory behind the
 * supervisor's back; usmjit appends one event per changed range so the supervisor can bring its
 * page tables in step (libusm applies the log at its next page fault and before it reads or
 * changes its page tables). usmjit writes the event, then advances head; the supervisor consumes
 * from tail. When the log is full usmjit drops the event and sets overflow (the supervisor then
 * rescans /proc/self/maps). */
#define USM_MM_LOG_LEN 64 /* events; a power of two */
struct usm_mm_event {
  uint64_t begin;     /* page-aligned */
  uint64_t end;       /* page-aligned, exclusive */
  uint64_t prot;      /* PROT_* the range now has in Linux mode; 0: unmapped or PROT_NONE */
} __attribute__((packed));
struct usm_mm_log {
  uint32_t head;      /* written by usmjit: events ever appended */
  uint32_t tail;      /* written by the supervisor: events consumed */
  uint32_t overflow;  /* set by usmjit when an event did not fit; cleared by the supervisor */
  uint32_t reserved;
  struct usm_mm_event ev[USM_MM_LOG_LEN]; /* event n is ev[n % USM_MM_LOG_LEN] */
} __attribute__((packed));

#define USM_IOC_MAGIC 0xE9
#define USM_ENTER      _IOWR(USM_IOC_MAGIC, 1, struct usm_config)
#define USM_GET_LAYOUT _IOR(USM_IOC_MAGIC, 2, struct usm_layout)
/* arg: the address of a struct usm_mm_log (8-byte aligned, writable), or 0 to stop logging.
 * Only system calls made with vmcall are logged. */
#define USM_SET_MM_LOG _IO(USM_IOC_MAGIC, 3)

/* Segment selectors at entry and in the descriptor tables libusm builds (Linux's GDT layout). */
#define USM_KERNEL_CS 0x10
#define USM_KERNEL_DS 0x18
#define USM_USER_DS   0x2b
#define USM_USER_CS   0x33
#define USM_TSS_SEL   0x40

/* MSRs the virtual CPU implements. */
#define USM_MSR_EFER          0xc0000080
#define USM_MSR_STAR          0xc0000081
#define USM_MSR_LSTAR         0xc0000082
#define USM_MSR_CSTAR         0xc0000083
#define USM_MSR_SFMASK        0xc0000084
#define USM_MSR_FS_BASE       0xc0000100
#define USM_MSR_GS_BASE       0xc0000101
#define USM_MSR_KERNEL_GS_BASE 0xc0000102
#define USM_MSR_TSC_AUX       0xc0000103
#define USM_MSR_TSC           0x00000010
#define USM_MSR_X2APIC_EOI    0x0000080b
#define USM_MSR_X2APIC_LVT_TIMER 0x00000832
#define USM_MSR_X2APIC_TMICT  0x00000838 /* initial count */
#define USM_MSR_X2APIC_TMCCT  0x00000839 /* current count (read only) */
#define USM_MSR_X2APIC_TDCR   0x0000083e /* divide configuration */

/* The vmcall convention: rax = Linux system call number, arguments in rdi rsi rdx r10 r8 r9, result
 * in rax (-errno on failure); all other registers preserved. Pointer arguments are guest-physical. */

#endif
