import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The library native/worker-priority.c builds (`npm run build`), beside dist/fast-exit.so. */
export const WORKER_PRIORITY_LIBRARY = fileURLToPath(new URL('../worker-priority.so', import.meta.url));

/**
 * Has V8's compile threads yield the CPU to the main thread, which runs the guest (see
 * native/worker-priority.c). Loading the library does it; Node then refuses it as an addon, which
 * is expected. Without the library (a build that skipped it) usmjit is only slower.
 */
export function lowerWorkerPriority(): void {
  if (!existsSync(WORKER_PRIORITY_LIBRARY)) return;
  try {
    process.dlopen({ exports: {} }, WORKER_PRIORITY_LIBRARY);
  } catch {
    // "Module did not self-register": the constructor has run.
  }
}
