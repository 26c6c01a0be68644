/**
 * Conversions from raw 64-bit register values to what a system call's C prototype says its
 * argument is. Linux truncates `int` arguments to 32 bits, so these do too.
 */

/** `int` (fds, flags declared int, signal numbers). */
export const int = (x: bigint): number => Number(BigInt.asIntN(32, x));

/** `unsigned int`. */
export const uint = (x: bigint): number => Number(BigInt.asUintN(32, x));

/** `long` / `off_t` / `ssize_t`, kept exact. */
export const long = (x: bigint): bigint => BigInt.asIntN(64, x);

/** `unsigned long` / `size_t`, kept exact. */
export const ulong = (x: bigint): bigint => BigInt.asUintN(64, x);

/**
 * A guest pointer as a JS number. Values at or above 2^47 are not user addresses; they stay
 * large (exactly representable or not), so any access through them faults and becomes -EFAULT.
 */
export const ptr = (x: bigint): number => Number(BigInt.asUintN(64, x));

/** `size_t` as a number, saturated so that arithmetic stays exact; callers clamp it further. */
export const size = (x: bigint): number => {
  const u = BigInt.asUintN(64, x);
  return u > MAX_SAFE ? Number.MAX_SAFE_INTEGER : Number(u);
};
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** Largest count one read/write moves, as Linux's MAX_RW_COUNT (INT_MAX rounded down to a page). */
export const MAX_RW_COUNT = 0x7fff_f000;
