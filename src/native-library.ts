import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * usmjit's host-side C libraries (native/*.c, built by `npm run build` into dist/): each does its
 * work in a constructor, so loading it is all there is to it.
 */

/** Path of dist/<name>.so: one level above this module (dist/src) and above the bundle
 * (dist/src/usmjit.cjs, which defines import.meta.url as its own URL). */
export const nativeLibrary = (name: string): string => fileURLToPath(new URL(`../${name}.so`, import.meta.url));

/**
 * Loads the library (its constructor runs); Node then refuses it as an addon ("Module did not
 * self-register"), which is expected. False when it is not there (a build that skipped it): usmjit
 * is then only slower.
 */
export function runNativeLibrary(path: string): boolean {
  if (!existsSync(path)) return false;
  try {
    process.dlopen({ exports: {} }, path);
  } catch {
    // Refused as an addon after the constructor ran, or not loadable at all: nothing to do.
  }
  return true;
}
