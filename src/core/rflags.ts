/**
 * RFLAGS bits (SDM vol. 1, 3.4.3): the one definition, as numbers (`F`, for emitted code and
 * 32-bit masks) and as BigInts (`RF`, for the 64-bit register image in the CPU block).
 */
export const F = {
  CF: 0x1, PF: 0x4, AF: 0x10, ZF: 0x40, SF: 0x80, TF: 0x100, IF: 0x200, DF: 0x400, OF: 0x800,
  IOPL: 0x3000, NT: 0x4000, RF: 0x1_0000, VM: 0x2_0000, AC: 0x4_0000, ID: 0x20_0000,
} as const;

export const RF = {
  CF: 1n, PF: 4n, AF: 0x10n, ZF: 0x40n, SF: 0x80n, TF: 0x100n, IF: 0x200n, DF: 0x400n, OF: 0x800n,
  IOPL: 0x3000n, NT: 0x4000n, RF: 0x1_0000n, VM: 0x2_0000n, AC: 0x4_0000n, ID: 0x20_0000n,
} as const;

/** The arithmetic flags (the ones the lazy-flag record computes). */
export const ARITH_FLAGS = F.CF | F.PF | F.AF | F.ZF | F.SF | F.OF;
/** Bits software can hold in RFLAGS in 64-bit mode (others read as 0; bit 1 reads as 1). */
export const RFLAGS_VALID = 0x3f7fd5n;
