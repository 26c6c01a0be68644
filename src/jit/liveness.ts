import type { Block, Insn } from '../decoder/ir.js';

/**
 * Flag liveness at block entry: a block whose first flag-touching instruction overwrites all six
 * arithmetic flags does not need them from its predecessor, so a direct exit to it can skip
 * writing the lazy-flag record back. Anything not listed is assumed to read the flags (safe).
 */

/** Instructions that neither read nor write the arithmetic flags. */
const NEUTRAL = new Set([
  'mov', 'movabs', 'movzx', 'movsx', 'movsxd', 'lea', 'push', 'pop', 'xchg', 'bswap', 'nop', 'endbr64',
  'cbw', 'cwde', 'cdqe', 'cwd', 'cdq', 'cqo', 'leave', 'not', 'prefetcht0', 'prefetchnta',
  'movaps', 'movups', 'movapd', 'movupd', 'movdqa', 'movdqu', 'movd', 'movq', 'movss', 'movsd',
  'pxor', 'por', 'pand', 'pandn', 'xorps', 'xorpd', 'andps', 'andpd', 'orps', 'orpd',
  'paddb', 'paddw', 'paddd', 'paddq', 'psubb', 'psubw', 'psubd', 'psubq', 'pcmpeqb', 'pcmpeqw', 'pcmpeqd',
  'pminub', 'pmaxub', 'pmovmskb', 'pshufd', 'punpcklbw', 'punpcklwd', 'punpckldq', 'punpcklqdq',
  'addsd', 'subsd', 'mulsd', 'divsd', 'addss', 'subss', 'mulss', 'divss', 'cvtsi2sd', 'cvttsd2si',
]);

/** Instructions that write all six arithmetic flags without reading any. */
const KILL = new Set([
  'add', 'sub', 'and', 'or', 'xor', 'cmp', 'test', 'neg', 'imul', 'mul', 'xadd', 'cmpxchg',
  'ucomisd', 'comisd', 'ucomiss', 'comiss', 'popcnt',
]);

const SHIFTS = new Set(['shl', 'sal', 'shr', 'sar']);

function kills(i: Insn): boolean {
  if (KILL.has(i.op)) return true;
  // A shift by a non-zero immediate writes every flag (the count-0 case leaves them alone).
  if (SHIFTS.has(i.op)) {
    const c = i.ops[1];
    return !c || (c.kind === 'imm' && (Number(c.value) & 63) !== 0 && (Number(c.value) & (i.ops[0].size === 8 ? 63 : 31)) !== 0);
  }
  return false;
}

export function flagsDeadOnEntry(b: Block): boolean {
  for (const i of b.insns) {
    if (kills(i)) return true;
    if (!NEUTRAL.has(i.op)) return false;
  }
  return false;
}
