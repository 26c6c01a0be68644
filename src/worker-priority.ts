import { nativeLibrary, runNativeLibrary } from './native-library.js';

/** The library native/worker-priority.c builds. */
export const WORKER_PRIORITY_LIBRARY = nativeLibrary('worker-priority');

/** Has V8's compile threads yield the CPU to the main thread, which runs the guest (see
 * native/worker-priority.c). */
export function lowerWorkerPriority(): void {
  runNativeLibrary(WORKER_PRIORITY_LIBRARY);
}
