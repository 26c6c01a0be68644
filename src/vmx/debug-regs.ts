/**
 * Debug registers in USM mode (SDM vol. 3, 17.2): DR0-DR3 addresses, DR7 enables, types and
 * lengths, DR6 status. How usmjit makes them precise:
 *
 * - instruction breakpoints are compiled in: translations (which are flushed whenever DR0-3/DR7
 *   change) carry a check before each instruction at a breakpoint address; RFLAGS.RF set by an
 *   iretq suppresses it once, as on hardware;
 * - data breakpoints: pages holding a watched range get no TLB entries, so every access to them
 *   takes the slow path, which checks the ranges; translations made while watchpoints are set
 *   leave the region after each memory access, so the #DB trap is taken right after the access
 *   (dispatcher: Usm.pendingDb);
 * - single step (RFLAGS.TF): code runs from one-instruction translations (layout.ts step modes)
 *   and the dispatcher raises the #DB trap after each.
 */

import type { Watch } from '../paging/watch.js';

export const DR6_BS = 1n << 14n;

/** The enabled breakpoints of DR7 (L or G bit), decoded. */
export function decodeDr7(dr: bigint[]): { exec: Map<number, number>; watches: Watch[] } {
  const dr7 = dr[7];
  const exec = new Map<number, number>();
  const watches: Watch[] = [];
  for (let n = 0; n < 4; n++) {
    if (((dr7 >> BigInt(2 * n)) & 3n) === 0n) continue;
    const rw = Number((dr7 >> BigInt(16 + 4 * n)) & 3n);
    const lenCode = Number((dr7 >> BigInt(18 + 4 * n)) & 3n);
    const len = [1n, 2n, 8n, 4n][lenCode];
    if (rw === 0) {
      if (dr[n] < 1n << 53n) exec.set(Number(dr[n]), n);
    } else if (rw === 1 || rw === 3) {
      const start = dr[n] & ~(len - 1n); // ranges are aligned to their length
      watches.push({ index: n, start, end: start + len, type: rw });
    }
  }
  return { exec, watches };
}

