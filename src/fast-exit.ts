import { existsSync } from 'node:fs';
import { nativeLibrary, runNativeLibrary } from './native-library.js';

/** The library native/fast-exit.c builds (`npm run build`). */
export const FAST_EXIT_LIBRARY = nativeLibrary('fast-exit');

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
      runNativeLibrary(FAST_EXIT_LIBRARY); // (not loadable: Node's exit goes on)
    });
  }
  process.exit(status);
}
