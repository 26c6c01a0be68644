/* Run by test/usm/host-signal.test.ts: enters USM mode, says "ready" and waits for a signal sent
 * from outside the process (the test's kill). SIGUSR1 has a handler (vector 200 + 10); with
 * argument "nohandler" none is registered, so the signal's Linux default action ends the process. */
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>

#include "usm/usm.h"

static volatile int got;
static volatile unsigned long vec;

static void on_usr1(struct usm_tf *tf) {
  got++;
  vec = tf->vector;
}

int main(int argc, char **argv) {
  int handler = !(argc > 1 && strcmp(argv[1], "nohandler") == 0);
  if (usm_init(0) || usm_enter()) return 2;
  if (handler) usm_register_signal_handler(SIGUSR1, on_usr1);
  usm_printf("ready\n");
  /* Up to ~20 s of guest time (rdtsc counts nanoseconds). */
  unsigned long t0 = __builtin_ia32_rdtsc();
  while (!got && __builtin_ia32_rdtsc() - t0 < 20000000000ul) __asm__ volatile("pause");
  usm_printf(got ? "got vector %lu\n" : "no signal\n", vec);
  return got ? 0 : 1;
}
