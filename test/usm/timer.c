/* The x2APIC timer: periodic interrupts reach the handler (libusm sends the EOI), stop when the
 * timer is stopped; a one-shot interrupt wakes `sti; hlt`; the current count runs down; an
 * interrupt is held while IF=0. */
#include "usmtest.h"

#define VEC 0x40

static volatile int ticks, gp_faults;

static void on_timer(struct usm_tf *tf) {
  (void)tf;
  ticks++;
}

static void on_gp(struct usm_tf *tf) {
  /* an MSR or hlt the virtual CPU rejects: skip it (wrmsr/rdmsr 2 bytes, hlt 1) */
  gp_faults++;
  unsigned char *p = (unsigned char *)tf->rip;
  tf->rip += p[0] == 0xf4 ? 1 : 2;
}

static int wait_ticks(int n, uint64_t max_ns) {
  uint64_t t0 = usm_rdtsc(), lim = max_ns * usm_tsc_hz() / 1000000000ull;
  while (ticks < n && usm_rdtsc() - t0 < lim) __asm__ volatile("pause");
  return ticks >= n;
}

int main(void) {
  usmtest_enter(0);
  usm_register_intr_handler(VEC, on_timer);
  usm_register_intr_handler(USM_VEC_GP, on_gp);
  CHECK(usm_read_cr0() && (__builtin_ia32_readeflags_u64() & 0x200), "interrupts enabled after usm_enter");

  usm_timer_start(VEC, 200000, 1); /* every 200 us */
  CHECK(gp_faults == 0, "timer MSRs accepted");
  int ok = wait_ticks(5, 3000000000ull);
  usm_timer_stop();
  CHECK(ok, "periodic timer: at least 5 interrupts");
  int after_stop = ticks;
  uint64_t t0 = usm_rdtsc();
  while (usm_rdtsc() - t0 < 20000000ull * usm_tsc_hz() / 1000000000ull) __asm__ volatile("pause");
  CHECK(ticks == after_stop, "no interrupts after usm_timer_stop");

  ticks = 0;
  usm_cli(); /* no interrupt before the hlt, however long getting there takes */
  /* One-shot, 50 ms: long enough that the count read right after the start cannot have run out
     even when that read is translated first on a loaded machine (the TSC is real time). */
  usm_timer_start(VEC, 50000000, 0);
  uint32_t c1 = usm_timer_current();
  usm_sti_hlt();
  CHECK(ticks == 1 && gp_faults == 0, "hlt woken by the one-shot interrupt");
  CHECK(c1 > 0 && c1 <= 50000000 && usm_timer_current() == 0, "the current count ran down to 0");

  /* with interrupts disabled the interrupt waits */
  ticks = 0;
  usm_cli();
  usm_timer_start(VEC, 1000, 0);
  t0 = usm_rdtsc();
  while (usm_rdtsc() - t0 < 5000000ull * usm_tsc_hz() / 1000000000ull) __asm__ volatile("pause");
  int masked = ticks;
  usm_sti();
  __asm__ volatile("nop");
  CHECK(masked == 0 && wait_ticks(1, 1000000000ull), "held while IF=0, delivered after sti");
  return usmtest_done();
}
