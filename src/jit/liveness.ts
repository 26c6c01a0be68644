import type { Block, Insn } from '../decoder/ir.js';

/**
 * Arithmetic-flag liveness within a block: whether some later instruction may read the flags an
 * instruction produces. Emitters whose flag results are expensive (rotates, bit tests and scans
 * compute them eagerly) skip the work when the flags are dead. At the end of a block the flags are
 * assumed live (the successor may read them); anything not listed is assumed to read them.
 */

/** Instructions that neither read nor write the arithmetic flags. */
const NEUTRAL = new Set([
  'mov', 'movabs', 'movzx', 'movsx', 'movsxd', 'lea', 'push', 'pop', 'xchg', 'bswap', 'nop', 'endbr64',
  'cbw', 'cwde', 'cdqe', 'cwd', 'cdq', 'cqo', 'not', 'prefetcht0', 'prefetchnta',
  'movaps', 'movups', 'movapd', 'movupd', 'movdqa', 'movdqu', 'movd', 'movq', 'movss', 'movsd',
  'pxor', 'por', 'pand', 'pandn', 'xorps', 'xorpd', 'andps', 'andpd', 'orps', 'orpd',
  'paddb', 'paddw', 'paddd', 'paddq', 'psubb', 'psubw', 'psubd', 'psubq', 'pcmpeqb', 'pcmpeqw', 'pcmpeqd',
  'pminub', 'pmaxub', 'pmovmskb', 'pshufd', 'punpcklbw', 'punpcklwd', 'punpckldq', 'punpcklqdq',
  'addsd', 'subsd', 'mulsd', 'divsd', 'addss', 'subss', 'mulss', 'divss', 'cvtsi2sd', 'cvttsd2si',
  'paddusb', 'psrld', 'pslld', 'psrlq', 'psllq', 'psrldq', 'pslldq', 'movhps', 'movlps',
]);

/** Instructions that write all six arithmetic flags without reading any. */
const KILL = new Set([
  'add', 'sub', 'and', 'or', 'xor', 'cmp', 'test', 'neg', 'imul', 'mul', 'xadd', 'cmpxchg',
  'ucomisd', 'comisd', 'ucomiss', 'comiss', 'popcnt',
]);

const SHIFTS = new Set(['shl', 'sal', 'shr', 'sar']);

function kills(i: Insn): boolean {
  if (KILL.has(i.op)) return true;
  // A shift by a non-zero immediate writes every flag (a zero count leaves them alone).
  if (SHIFTS.has(i.op)) {
    const c = i.ops[1];
    const m = i.ops[0].size === 8 ? 63 : 31;
    return !c || (c.kind === 'imm' && (Number(c.value & 0xffn) & m) !== 0);
  }
  return false;
}

/** For each instruction of the block: are the flags it leaves possibly read later? */
export function flagsLiveAfter(b: Block): boolean[] {
  const out = new Array<boolean>(b.insns.length);
  let live = true;
  for (let k = b.insns.length - 1; k >= 0; k--) {
    out[k] = live;
    const i = b.insns[k];
    if (kills(i)) live = false;
    else if (!NEUTRAL.has(i.op)) live = true;
  }
  return out;
}
