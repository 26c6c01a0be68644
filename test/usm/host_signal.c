/* A host signal arrives in USM mode as interrupt vector usm_layout.signal_vector_base + signo. */
#include <signal.h>
#include <sys/syscall.h>

#include "usmtest.h"

static volatile int got;
static volatile uint64_t vec;

static void on_usr1(struct usm_tf *tf) {
  got++;
  vec = tf->vector;
}

int main(void) {
  usmtest_enter(0);
  CHECK(usm_layout.signal_vector_base == 200, "signal vectors start at %u", usm_layout.signal_vector_base);
  usm_register_signal_handler(SIGUSR1, on_usr1);
  long pid = usm_vmcall0(SYS_getpid);
  usm_vmcall3(SYS_kill, pid, SIGUSR1, 0);
  for (int i = 0; i < 1000000 && !got; i++) __asm__ volatile("pause");
  CHECK(got == 1 && vec == 200 + SIGUSR1, "SIGUSR1 arrived as vector %lu", (unsigned long)vec);
  return usmtest_done();
}
