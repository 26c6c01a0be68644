/**
 * Data watchpoints as the MMU sees them (USM debug registers, decoded by vmx/debug-regs.ts):
 * watched pages get no TLB entries, so each access reaches the slow path, which checks them.
 */

export interface Watch {
  index: number;
  start: bigint;
  end: bigint; // exclusive
  /** 1 = write, 3 = read or write (2, I/O, is not supported). */
  type: number;
}

/** DR6 bits for the watches that an access of [addr, addr+len) hits. */
export function watchHits(watches: Watch[], addr: bigint, len: number, write: boolean): bigint {
  let bits = 0n;
  for (const w of watches) {
    if (!write && w.type === 1) continue;
    if (addr < w.end && w.start < addr + BigInt(len)) bits |= 1n << BigInt(w.index);
  }
  return bits;
}

/** Whether a watch covers any byte of the 4 KiB page at `page`. */
export function pageWatched(watches: Watch[], page: bigint): boolean {
  return watches.some((w) => w.start < page + 4096n && page < w.end);
}
