import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The library native/fast-exit.c builds (`npm run build`): dist/fast-exit.so, one level above this
 * module (dist/src/fast-exit.js) and above the bundle (dist/src/usmjit.cjs), which defines
 * import.meta.url as its own URL.
 */
export const FAST_EXIT_LIBRARY = fileURLToPath(new URL('../fast-exit.so', import.meta.url));

/**
 * Ends usmjit with `status` after the process's 'exit' listeners ran, without waiting for V8's
 * background compiles (see native/fast-exit.c). Falls back to Node's exit, which is only slower,
 * when the library is not there (a build that skipped it).
 */
export function exitNow(status: number): never {
  // Node's profilers (--cpu-prof, --heap-prof, --prof) write their files during its own exit.
  const profiling = process.execArgv.some((a) => /^--(cpu-prof|heap-prof|prof)\b/.test(a));
  if (!profiling && existsSync(FAST_EXIT_LIBRARY)) {
    // Registered last, so every other 'exit' listener has run when it does.
    process.once('exit', (code) => {
      process.env.USMJIT_FAST_EXIT_STATUS = String(code);
      try {
        process.dlopen({ exports: {} }, FAST_EXIT_LIBRARY);
      } catch {
        // Not loadable: Node's exit goes on.
      }
    });
  }
  process.exit(status);
}
