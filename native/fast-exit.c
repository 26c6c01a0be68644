/*
 * usmjit's quick process exit (src/fast-exit.ts). Loading this library ends the process at once
 * with the status in USMJIT_FAST_EXIT_STATUS.
 *
 * Why: Node's own exit joins V8's worker threads, and these may be in the middle of an optimising
 * (TurboFan) compile of a hot Wasm region that nobody will run any more. Measured here: 100-270 ms
 * at the end of a busybox sh run that lasted 0.4 s. Everything usmjit must do before exiting
 * (guest output, the translation cache, the JS code cache) is written synchronously by then.
 */
#include <stdlib.h>
#include <unistd.h>

__attribute__((constructor)) static void usmjit_fast_exit(void) {
  const char *status = getenv("USMJIT_FAST_EXIT_STATUS");
  if (status) _exit(atoi(status));
}
