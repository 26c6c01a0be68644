/**
 * The instruction IR: what the decoder hands the translator. Plain data, no behaviour.
 * Capstone's detail (operands, prefixes) is normalised into these shapes once, at decode time.
 */

/** Register files the translator knows. `gpr` numbers are x86 encoding order (0 = rax .. 15 = r15). */
export type RegFile = 'gpr' | 'gprh' /* ah ch dh bh: bits 8..15 of gpr n */ | 'xmm' | 'ymm' | 'mm' /* MMX: the significands of the x87 registers */ | 'st' | 'seg' | 'rip' | 'cr' | 'dr' | 'other';

export interface RegOperand {
  kind: 'reg';
  file: RegFile;
  n: number;
  /** Operand size in bytes. */
  size: number;
  name: string;
}

/** An XMM register operand (what isa/sse.ts isX narrows to). */
export type XmmOperand = RegOperand & { file: 'xmm' };

export interface ImmOperand {
  kind: 'imm';
  /** The immediate as Capstone gives it (already sign-extended to the operand size where x86 does). */
  value: bigint;
  size: number;
}

export interface MemOperand {
  kind: 'mem';
  size: number;
  /** 'fs' | 'gs' if a segment override applies (others are flat in 64-bit mode). */
  seg: 'fs' | 'gs' | null;
  /** gpr number or -1. rip-relative addressing is resolved into `disp` (absolute) at decode time. */
  base: number;
  index: number;
  scale: number;
  disp: bigint;
  /** 32-bit address size (0x67 prefix): the effective address is truncated to 32 bits. */
  addr32: boolean;
}

export type Operand = RegOperand | ImmOperand | MemOperand;

export interface Insn {
  /** Guest address of the first byte. */
  addr: number;
  len: number;
  /**
   * Capstone's instruction id (cs_insn.id, X86_INS_* of Capstone 5.0's x86.h; names in
   * x86-ids.ts): the key of the instruction table (jit/isa/table.ts). Capstone gives the SSE
   * compare pseudo-ops (cmpltps, ...) ids that do not name them; the decoder sets those to
   * cmpps/cmppd/cmpss/cmpsd (see capstone.ts).
   */
  id: number;
  /** The mnemonic without prefix words ('rep movsb' -> 'movsb'): diagnostics and the USM handlers. */
  op: string;
  /** Opcode bytes as Capstone reports them (up to 4, escape bytes included, 0-padded): [0x0f, 0x10, 0, 0]. */
  opcode: readonly number[];
  /** The ModRM byte (0 if the instruction has none). */
  modrm: number;
  ops: Operand[];
  /** 0xf3 (rep/repe), 0xf2 (repne) or 0. */
  rep: number;
  lock: boolean;
  /** Operand-size override (0x66) present. */
  opsize: boolean;
  /** REX.W set. */
  rexW: boolean;
  bytes: Uint8Array;
  /** Disassembly text, for diagnostics (the decoder makes it when it is read). */
  text: string;
}

/** A straight-line run of instructions ending at a control transfer (or a size limit). */
export interface Block {
  start: number;
  /** Address after the last instruction. */
  end: number;
  insns: Insn[];
  /**
   * Set when decoding stopped at bytes that are not a valid instruction (or not fetchable):
   * the translated block raises #UD (or #PF) at `fault.addr` after running the insns before it.
   */
  fault?: { addr: number; vector: 'UD' | 'PF'; pfAddr?: number };
  /** Guest page numbers the block's bytes came from (for self-modifying code invalidation). */
  pages: number[];
  /**
   * Set (and `insns` emptied) once the block is compiled and its IR released: its code bytes and
   * instruction count, all a compiled block needs until it is decoded again for a recompile.
   */
  released?: { code: Uint8Array; insnCount: number };
}
