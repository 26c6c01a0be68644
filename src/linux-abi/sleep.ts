/**
 * Synchronous sleeping for nanosleep, futex timeouts, poll timeouts and EAGAIN retry loops.
 * The emulator runs the guest on one JS thread, so a sleeping guest blocks that thread, exactly
 * as a sleeping Linux thread blocks itself.
 */
const cell = new Int32Array(new SharedArrayBuffer(4));

/** Sleeps for `ns` nanoseconds (Atomics.wait takes milliseconds, fractional allowed). */
export function sleepNs(ns: bigint): void {
  if (ns <= 0n) return;
  // Atomics.wait wakes early only if notified, which nothing does; loop anyway to be exact.
  const end = process.hrtime.bigint() + ns;
  for (;;) {
    const left = end - process.hrtime.bigint();
    if (left <= 0n) return;
    Atomics.wait(cell, 0, 0, Number(left) / 1e6);
  }
}

export function sleepMs(ms: number): void {
  sleepNs(BigInt(Math.round(ms * 1e6)));
}
