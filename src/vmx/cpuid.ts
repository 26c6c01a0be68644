/**
 * What the virtual CPU reports through CPUID. It advertises only what the translator implements,
 * so glibc's ifunc selection picks code paths we can run: the x86-64 baseline (FPU TSC CX8 CMOV
 * MMX FXSR SSE SSE2, SYSCALL NX LM LAHF) plus SSE3, SSSE3, SSE4.1, SSE4.2 and POPCNT. Cache
 * geometry is reported through Intel's leaf 4 so
 * that glibc sizes its memcpy thresholds the way it does on real hardware.
 */
const VENDOR = 'GenuineIntel';
const BRAND = 'usmjit virtual x86-64 CPU';

function str4(s: string, at: number): number {
  let v = 0;
  for (let k = 3; k >= 0; k--) v = (v << 8) | (s.charCodeAt(at + k) || 0);
  return v >>> 0;
}

/** Leaf 1 EDX: FPU (0), TSC (4), CX8 (8), CMOV (15), MMX (23: isa/mmx.ts), FXSR (24), SSE (25), SSE2 (26). */
const EDX1 = (1 << 0) | (1 << 4) | (1 << 8) | (1 << 15) | (1 << 23) | (1 << 24) | (1 << 25) | (1 << 26);
/**
 * Leaf 1 ECX: SSE3 (bit 0), SSSE3 (9), SSE4.1 (19): implemented in isa/sse3.ts, ssse3.ts, sse41.ts;
 * SSE4.2 (20): isa/sse42.ts (glibc then runs its pcmpistri strcspn/strspn/strpbrk/strcasecmp);
 * POPCNT (23): isa/bits.ts.
 */
const ECX1 = (1 << 0) | (1 << 9) | (1 << 19) | (1 << 20) | (1 << 23);

/** Intel leaf 4 descriptors: [type, level, ways, line, sets, shared-by]. */
const CACHES: [number, number, number, number, number, number][] = [
  [1, 1, 8, 64, 64, 1], // L1d 32 KiB
  [2, 1, 8, 64, 64, 1], // L1i 32 KiB
  [3, 2, 16, 64, 1024, 1], // L2 1 MiB
  [3, 3, 16, 64, 32768, 2], // L3 32 MiB
];

export function cpuid(leaf: number, sub: number): [number, number, number, number] {
  switch (leaf) {
    case 0: return [0xd, str4(VENDOR, 0), str4(VENDOR, 8), str4(VENDOR, 4)];
    case 1: return [0x000506e3, (8 << 8) | (1 << 16), ECX1, EDX1 >>> 0];
    case 2: return [0x00feff01, 0, 0, 0];
    case 4: {
      const c = CACHES[sub];
      if (!c) return [0, 0, 0, 0];
      const [type, level, ways, line, sets, shared] = c;
      const eax = type | (level << 5) | (1 << 8) | ((shared - 1) << 14);
      return [eax >>> 0, ((ways - 1) << 22) | (line - 1), sets - 1, 0];
    }
    case 0x8000_0000: return [0x8000_0008, 0, 0, 0];
    case 0x8000_0001: return [0, 0, 1 /* LAHF */, (1 << 11) | (1 << 20) | (1 << 29)];
    case 0x8000_0002: case 0x8000_0003: case 0x8000_0004: {
      const at = (leaf - 0x8000_0002) * 16;
      return [str4(BRAND, at), str4(BRAND, at + 4), str4(BRAND, at + 8), str4(BRAND, at + 12)];
    }
    case 0x8000_0006: return [0, 0, (1024 << 16) | (6 << 12) | 64, 0];
    case 0x8000_0008: return [0x3030, 0, 0, 0];
    default: return [0, 0, 0, 0];
  }
}

/** AT_HWCAP for x86-64 is CPUID.1:EDX. */
export const HWCAP = EDX1 >>> 0;
