/*
 * debug.c - debug-register watchpoints, the x2APIC timer, time stamps.
 */
#include "internal.h"

#include <errno.h>

static void write_dr(int idx, uint64_t v) {
  switch (idx) {
    case 0: __asm__ volatile("mov %0, %%dr0" : : "r"(v)); break;
    case 1: __asm__ volatile("mov %0, %%dr1" : : "r"(v)); break;
    case 2: __asm__ volatile("mov %0, %%dr2" : : "r"(v)); break;
    case 3: __asm__ volatile("mov %0, %%dr3" : : "r"(v)); break;
  }
}

uint64_t usm_read_dr6(void) {
  uint64_t v;
  __asm__ volatile("mov %%dr6, %0" : "=r"(v));
  return v;
}

void usm_write_dr6(uint64_t v) { __asm__ volatile("mov %0, %%dr6" : : "r"(v)); }

uint64_t usm_read_dr7(void) {
  uint64_t v;
  __asm__ volatile("mov %%dr7, %0" : "=r"(v));
  return v;
}

static void write_dr7(uint64_t v) { __asm__ volatile("mov %0, %%dr7" : : "r"(v)); }

int usm_set_watchpoint(int idx, const void *addr, int len, int type) {
  if (idx < 0 || idx > 3) return -EINVAL;
  uint64_t lenbits;
  switch (len) {
    case 1: lenbits = 0; break;
    case 2: lenbits = 1; break;
    case 4: lenbits = 3; break;
    case 8: lenbits = 2; break;
    default: return -EINVAL;
  }
  if ((uint64_t)addr & (uint64_t)(len - 1)) return -EINVAL;
  uint64_t rw;
  switch (type) {
    case USM_WATCH_EXEC: rw = 0; lenbits = 0; break;
    case USM_WATCH_WRITE: rw = 1; break;
    case USM_WATCH_RW: rw = 3; break;
    default: return -EINVAL;
  }
  write_dr(idx, (uint64_t)addr);
  uint64_t dr7 = usm_read_dr7();
  dr7 &= ~((3ull << (2 * idx)) | (0xfull << (16 + 4 * idx)));
  dr7 |= (1ull << (2 * idx)) | (rw << (16 + 4 * idx)) | (lenbits << (18 + 4 * idx));
  write_dr7(dr7 | 0x400);
  return 0;
}

void usm_clear_watchpoint(int idx) {
  if (idx < 0 || idx > 3) return;
  uint64_t dr7 = usm_read_dr7();
  dr7 &= ~((3ull << (2 * idx)) | (0xfull << (16 + 4 * idx)));
  write_dr7(dr7 | 0x400);
  write_dr(idx, 0);
}

uint64_t usm_tsc_hz(void) { return usm_layout.tsc_hz ? usm_layout.tsc_hz : 1000000000ull; }

uint64_t usm_ticks_to_ns(uint64_t ticks) {
  return (uint64_t)((unsigned __int128)ticks * 1000000000ull / usm_tsc_hz());
}

#define LVT_MASKED (1u << 16)
#define LVT_PERIODIC (1u << 17)

void usm_timer_start(int vector, uint32_t count, int periodic) {
  usm__timer_vector = vector;
  usm_wrmsr(USM_MSR_X2APIC_TDCR, 0xb); /* divide by 1 */
  usm_wrmsr(USM_MSR_X2APIC_LVT_TIMER, (uint32_t)vector | (periodic ? LVT_PERIODIC : 0));
  usm_wrmsr(USM_MSR_X2APIC_TMICT, count);
}

void usm_timer_stop(void) {
  usm_wrmsr(USM_MSR_X2APIC_TMICT, 0);
  usm_wrmsr(USM_MSR_X2APIC_LVT_TIMER, LVT_MASKED | (usm__timer_vector > 0 ? (uint32_t)usm__timer_vector : 0));
}

uint32_t usm_timer_current(void) { return (uint32_t)usm_rdmsr(USM_MSR_X2APIC_TMCCT); }

void usm_apic_eoi(void) { usm_wrmsr(USM_MSR_X2APIC_EOI, 0); }
