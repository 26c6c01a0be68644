import type { MemOperand, Operand, RegOperand } from './ir.js';
import { X86_INSN_NAMES } from './x86-ids.js';

/**
 * A decoder for the most common x86-64 instructions (mov, lea, the ALU group, push/pop,
 * jcc/jmp/call/ret, shifts, movzx/movsx, setcc/cmovcc, ..., with fs/gs overrides; the SSE2 moves
 * and integer forms of glibc's string functions), written out here so that they do not
 * cost a call into Capstone's Wasm and a walk over its detail structures: a cold run decodes ten to
 * fifty thousand instructions, while V8 still runs Capstone's functions in Liftoff and usmjit's in
 * its interpreter (decode was ~30% of translation). Everything else, and every encoding with a
 * legacy prefix other than an fs or gs override, an SSE form's mandatory 0x66/0xf3 or a long nop's
 * 0x66 and cs (0x67, rep, lock, ds/es/ss, 16-bit operations), goes to Capstone.
 *
 * Capstone is the reference: the result must be exactly the IR that `Decoder.read` builds from
 * Capstone's detail for the same bytes (operand order, sizes, register names, the immediates'
 * signedness, which Capstone varies by instruction). test/decoder/fast-decode.test.ts decodes the
 * text of real binaries both ways and compares every field.
 */

/** The fields of an Insn the decoder fills (the bytes and the text are the caller's). */
export interface FastInsn {
  len: number;
  id: number;
  op: string;
  opcode: number[];
  modrm: number;
  ops: Operand[];
  /** A 0x66 prefix (here always an SSE instruction's mandatory one). */
  opsize: boolean;
  rexW: boolean;
}

const ID = new Map<string, number>();
X86_INSN_NAMES.forEach((n, k) => { if (!ID.has(n)) ID.set(n, k); });
function id(name: string): number {
  const v = ID.get(name);
  if (v === undefined) throw new Error(`fast-decode: no Capstone id for ${name}`);
  return v;
}

const CC = ['o', 'no', 'b', 'ae', 'e', 'ne', 'be', 'a', 's', 'ns', 'p', 'np', 'l', 'ge', 'le', 'g'];
const ALU = ['add', 'or', 'adc', 'sbb', 'and', 'sub', 'xor', 'cmp'];
const SHIFT = ['rol', 'ror', 'rcl', 'rcr', 'shl', 'shr', '', 'sar']; // /6 (sal) goes to Capstone
const GROUP3 = ['test', '', 'not', 'neg', 'mul', 'imul', 'div', 'idiv']; // /1 (test alias) too
/** (name, Capstone id) of each table entry, resolved once. */
const named = (names: string[]) => names.map((n) => (n ? { n, id: id(n) } : undefined));
const JCC = named(CC.map((c) => `j${c}`));
const SETCC = named(CC.map((c) => `set${c}`));
const CMOVCC = named(CC.map((c) => `cmov${c}`));
const PMOVMSKB = { n: 'pmovmskb', id: id('pmovmskb') };
const ALU_N = named(ALU);
const SHIFT_N = named(SHIFT);
const GROUP3_N = named(GROUP3);
const I = Object.fromEntries(['mov', 'movabs', 'lea', 'push', 'pop', 'test', 'xchg', 'imul', 'movsxd', 'movzx', 'movsx',
  'call', 'jmp', 'ret', 'leave', 'nop', 'cdqe', 'cwde', 'cdq', 'cqo', 'inc', 'dec', 'bt', 'bsf', 'bsr', 'syscall']
  .map((n) => [n, { n, id: id(n) }])) as Record<string, { n: string; id: number }>;

const R64 = ['rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi'];
const R32 = ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi'];
const R16 = ['ax', 'cx', 'dx', 'bx', 'sp', 'bp', 'si', 'di'];
const R8 = ['al', 'cl', 'dl', 'bl', 'spl', 'bpl', 'sil', 'dil'];
const R8H = ['ah', 'ch', 'dh', 'bh'];
/** Register names as Capstone spells them, by size and number. */
const NAMES: Record<number, string[]> = {
  8: [...R64, ...[8, 9, 10, 11, 12, 13, 14, 15].map((n) => `r${n}`)],
  4: [...R32, ...[8, 9, 10, 11, 12, 13, 14, 15].map((n) => `r${n}d`)],
  2: [...R16, ...[8, 9, 10, 11, 12, 13, 14, 15].map((n) => `r${n}w`)],
  1: [...R8, ...[8, 9, 10, 11, 12, 13, 14, 15].map((n) => `r${n}b`)],
};

/** A general register operand; `rex`: a REX prefix is present (spl..dil rather than ah..bh). */
function gpr(n: number, size: number, rex: boolean): RegOperand {
  if (size === 1 && !rex && n >= 4 && n < 8) return { kind: 'reg', file: 'gprh', n: n - 4, size: 1, name: R8H[n - 4] };
  return { kind: 'reg', file: 'gpr', n, size, name: NAMES[size][n] };
}

const imm = (value: bigint, size: number): Operand => ({ kind: 'imm', value, size });
const XMM_NAMES = Array.from({ length: 16 }, (_, n) => `xmm${n}`);
const xmm = (n: number): RegOperand => ({ kind: 'reg', file: 'xmm', n, size: 16, name: XMM_NAMES[n] });

/**
 * SSE2 forms glibc's string and memory functions are made of (memset, strlen, memchr, strcmp...):
 * by mandatory prefix and second opcode byte, the instruction and whether the XMM register is the
 * destination (G, E) or the source (E, G: the stores).
 */
const SSE: Record<number, Record<number, [string, 'GE' | 'EG' | 'GEI']>> = {
  0: { 0x10: ['movups', 'GE'], 0x11: ['movups', 'EG'], 0x28: ['movaps', 'GE'], 0x29: ['movaps', 'EG'] },
  0xf3: { 0x6f: ['movdqu', 'GE'], 0x7f: ['movdqu', 'EG'] },
  0x66: {
    0x6f: ['movdqa', 'GE'], 0x7f: ['movdqa', 'EG'], 0xef: ['pxor', 'GE'], 0xeb: ['por', 'GE'], 0xdb: ['pand', 'GE'],
    0xdf: ['pandn', 'GE'], 0x74: ['pcmpeqb', 'GE'], 0x75: ['pcmpeqw', 'GE'], 0x76: ['pcmpeqd', 'GE'],
    0x64: ['pcmpgtb', 'GE'], 0x65: ['pcmpgtw', 'GE'], 0x66: ['pcmpgtd', 'GE'], 0xfc: ['paddb', 'GE'], 0xfd: ['paddw', 'GE'],
    0xfe: ['paddd', 'GE'], 0xd4: ['paddq', 'GE'], 0xf8: ['psubb', 'GE'], 0xf9: ['psubw', 'GE'], 0xfa: ['psubd', 'GE'],
    0xfb: ['psubq', 'GE'], 0xda: ['pminub', 'GE'], 0xde: ['pmaxub', 'GE'], 0x60: ['punpcklbw', 'GE'], 0x61: ['punpcklwd', 'GE'],
    0x62: ['punpckldq', 'GE'], 0x6c: ['punpcklqdq', 'GE'], 0x70: ['pshufd', 'GEI'],
  },
};
const SSE_N: Record<number, Record<number, { n: string; id: number; form: 'GE' | 'EG' | 'GEI' }>> = {};
for (const [pfx, ops] of Object.entries(SSE)) {
  SSE_N[+pfx] = {};
  for (const [b2, [n, form]] of Object.entries(ops)) SSE_N[+pfx][+b2] = { n, id: id(n), form };
}
const s8 = (b: number) => (b << 24) >> 24;

/**
 * The decoder's state for one instruction. One instance serves every call (decoding is not
 * reentrant): per-call closures made the interpreter, which runs this while a run is young, no
 * faster than Capstone.
 */
class Cursor {
  code: Uint8Array = new Uint8Array(0);
  end = 0;
  off = 0;
  p = 0;
  addr = 0;
  hasRex = false;
  W = false;
  R = 0;
  X = 0;
  B = 0;
  modrm = 0;
  mod = 0;
  reg = 0;
  rm = 0;
  mem: MemOperand | undefined = undefined;
  /** A segment override prefix (fs, gs) read before the instruction. */
  seg: 'fs' | 'gs' | null = null;
  /** An SSE instruction's mandatory prefix (0x66 or 0xf3), or 0. */
  pfx = 0;
  /** A cs override (only a long nop's is taken). */
  cs = false;
  ripRel = false;
  memDisp = 0;
  opcode: number[] = [];

  /** Reads the ModRM byte and what it addresses; false if the bytes end first or Capstone should decide. */
  readModrm(): boolean {
    const code = this.code, end = this.end;
    let p = this.p;
    if (p >= end) return false;
    const modrm = code[p++];
    const mod = modrm >> 6;
    this.modrm = modrm; this.mod = mod; this.reg = ((modrm >> 3) & 7) | this.R;
    let rm = modrm & 7;
    if (mod === 3) { this.rm = rm | this.B; this.p = p; return true; }
    let base = -1, index = -1, scale = 1, disp = 0;
    if (rm === 4) {
      if (p >= end) return false;
      const sib = code[p++];
      const ix = ((sib >> 3) & 7) | this.X;
      if (ix !== 4) { index = ix; scale = 1 << (sib >> 6); } else if (sib >> 6) return false; // a scaled riz: Capstone's business
      const bs = sib & 7;
      if (bs === 5 && mod === 0) {
        if (p + 4 > end) return false;
        disp = code[p] | (code[p + 1] << 8) | (code[p + 2] << 16) | (code[p + 3] << 24); p += 4;
      } else base = bs | this.B;
    } else if (rm === 5 && mod === 0) {
      if (p + 4 > end) return false;
      disp = code[p] | (code[p + 1] << 8) | (code[p + 2] << 16) | (code[p + 3] << 24); p += 4;
      this.ripRel = true;
    } else base = rm | this.B;
    if (mod === 1) { if (p >= end) return false; disp = s8(code[p++]); }
    else if (mod === 2) {
      if (p + 4 > end) return false;
      disp = code[p] | (code[p + 1] << 8) | (code[p + 2] << 16) | (code[p + 3] << 24); p += 4;
    }
    this.rm = rm;
    this.memDisp = disp;
    this.mem = { kind: 'mem', size: 0, seg: this.seg, base, index, scale, disp: 0n, addr32: false };
    this.p = p;
    return true;
  }

  /** The r/m operand of `size` bytes. */
  rmOp(size: number): Operand {
    if (this.mod === 3) return gpr(this.rm, size, this.hasRex);
    const m = this.mem!;
    m.size = size;
    return m;
  }

  /** The register operand of ModRM.reg. */
  regOp(size: number): RegOperand {
    return gpr(this.reg, size, this.hasRex);
  }

  /** ModRM.reg as an XMM register. */
  xmmReg(): RegOperand {
    return xmm(this.reg);
  }

  /** The r/m operand as an XMM register or a 16-byte memory operand. */
  xmmRm(): Operand {
    return this.mod === 3 ? xmm(this.rm) : this.rmOp(16);
  }

  /** An unsigned byte, or -1 past the end. */
  rd8(): number {
    return this.p < this.end ? this.code[this.p++] : -1;
  }

  /** Whether 4 more bytes are there (then rd32 reads them). */
  has32(): boolean {
    return this.p + 4 <= this.end;
  }

  rd32(): number {
    const code = this.code, p = this.p;
    this.p = p + 4;
    return code[p] | (code[p + 1] << 8) | (code[p + 2] << 16) | (code[p + 3] << 24);
  }

  /** A branch target `rel` bytes after the instruction (read it all first). */
  target(rel: number): Operand {
    return imm(BigInt(this.addr + (this.p - this.off) + rel), 8);
  }

  out(n: { n: string; id: number }, ops: Operand[]): FastInsn {
    const m = this.mem;
    // rip-relative: from the end of the instruction, known once every immediate is read.
    if (m) m.disp = this.ripRel ? BigInt(this.addr + (this.p - this.off) + this.memDisp) : BigInt(this.memDisp);
    return { len: this.p - this.off, id: n.id, op: n.n, opcode: this.opcode, modrm: this.modrm, ops, opsize: this.pfx === 0x66, rexW: this.W };
  }
}

const c = new Cursor();
/** The opcode arrays the IR holds (read-only there), one per opcode: [b, 0, 0, 0] and [0x0f, b, 0, 0]. */
const OPC1 = Array.from({ length: 256 }, (_, b) => Object.freeze([b, 0, 0, 0]) as number[]);
const OPC2 = Array.from({ length: 256 }, (_, b) => Object.freeze([0x0f, b, 0, 0]) as number[]);

/** Capstone's value for an immediate of an instruction of operand size `size`. */
function immOf(v: number, size: number, signed32: boolean): bigint {
  return size === 8 || (size === 4 && signed32) ? BigInt(v) : BigInt(size === 4 ? v >>> 0 : size === 1 ? v & 0xff : v & 0xffff);
}

/**
 * Decodes the instruction at `code[off]` (guest address `addr`) if it is one of the forms above,
 * else returns undefined (the caller asks Capstone).
 */
export function fastDecode(code: Uint8Array, off: number, addr: number): FastInsn | undefined {
  let p = off;
  let b = code[p];
  // An fs or gs override (thread-local data, the stack protector's canary) on a memory operand.
  c.seg = null;
  if (b === 0x64 || b === 0x65) {
    c.seg = b === 0x64 ? 'fs' : 'gs';
    if (++p >= code.length) return undefined;
    b = code[p];
  }
  // An SSE instruction's mandatory prefix (decodeFrom takes it only before 0F and a known form),
  // or the 0x66 (repeated) and cs prefixes of the long nops compilers pad with.
  c.pfx = 0;
  c.cs = false;
  for (;;) {
    if (b === 0x66 && c.pfx !== 0xf3) c.pfx = 0x66;
    else if (b === 0xf3 && c.pfx === 0 && !c.cs) c.pfx = 0xf3;
    else if (b === 0x2e && !c.cs && !c.seg && c.pfx !== 0xf3) c.cs = true;
    else break;
    if (++p >= code.length) return undefined;
    b = code[p];
  }
  if (p === off) return decodeFrom(code, off, off, addr);
  const r = decodeFrom(code, off, p, addr);
  return r && (!c.seg || c.mem) && (!c.cs || r.op === 'nop') ? r : undefined; // a segment override without a memory operand: Capstone's business
}

/** Decodes the instruction at `code[off]` whose prefixes before `start` are already read. */
function decodeFrom(code: Uint8Array, off: number, start: number, addr: number): FastInsn | undefined {
  const end = code.length;
  let p = start;
  let rex = 0;
  let b = code[p];
  if (b >= 0x40 && b <= 0x4f) { rex = b; p++; if (p >= end) return undefined; b = code[p]; }
  p++;
  c.code = code; c.end = end; c.off = off; c.p = p; c.addr = addr;
  const hasRex = rex !== 0;
  const W = (rex & 8) !== 0;
  c.hasRex = hasRex; c.W = W; c.R = (rex & 4) << 1; c.X = (rex & 2) << 2; c.B = (rex & 1) << 3;
  const osz = W ? 8 : 4;
  const B = c.B;
  c.modrm = 0; c.mod = 0; c.mem = undefined; c.ripRel = false; c.memDisp = 0;
  c.opcode = OPC1[b];
  const pfx = c.pfx;
  if (b === 0x90 && pfx === 0x66 && !hasRex) return c.out(I.nop, []);
  if (pfx && b !== 0x0f) return undefined; // 16-bit operations, rep string instructions: Capstone

  if (b === 0x0f) {
    if (c.p >= end) return undefined;
    const b2 = code[c.p++];
    c.opcode = OPC2[b2];
    if (b2 === 0x1f && pfx !== 0xf3) {
      // The long nops (nop r/m: only /0 with memory, 16-bit after 0x66).
      if (!c.readModrm() || (c.reg & 7) !== 0 || W || c.mod === 3) return undefined;
      return c.out(I.nop, [c.rmOp(pfx === 0x66 ? 2 : 4)]);
    }
    const sse = SSE_N[pfx][b2];
    if (sse) {
      if (!c.readModrm()) return undefined;
      if (sse.form === 'EG') return c.out(sse, [c.xmmRm(), c.xmmReg()]);
      if (sse.form === 'GE') return c.out(sse, [c.xmmReg(), c.xmmRm()]);
      const v = c.rd8(); if (v < 0) return undefined;
      return c.out(sse, [c.xmmReg(), c.xmmRm(), imm(BigInt(v), 1)]);
    }
    if (pfx === 0x66 && b2 === 0xd7) {
      // pmovmskb r32, xmm (Capstone names the 32-bit register with REX.W too)
      if (!c.readModrm() || c.mod !== 3) return undefined;
      return c.out(PMOVMSKB, [gpr(c.reg, 4, hasRex), xmm(c.rm)]);
    }
    if (pfx) return undefined;
    if (b2 >= 0x80 && b2 <= 0x8f) {
      if (hasRex || !c.has32()) return undefined; // with REX Capstone sizes the target 4 bytes
      const rel = c.rd32();
      return c.out(JCC[b2 & 15]!, [c.target(rel)]);
    }
    if (b2 === 0x05) return c.out(I.syscall, []);
    if (!c.readModrm()) return undefined;
    if (b2 >= 0x90 && b2 <= 0x9f) return c.out(SETCC[b2 & 15]!, [c.rmOp(1)]);
    if (b2 >= 0x40 && b2 <= 0x4f) return c.out(CMOVCC[b2 & 15]!, [c.regOp(osz), c.rmOp(osz)]);
    switch (b2) {
      case 0xaf: return c.out(I.imul, [c.regOp(osz), c.rmOp(osz)]);
      case 0xa3: return c.out(I.bt, [c.rmOp(osz), c.regOp(osz)]);
      case 0xbc: return c.out(I.bsf, [c.regOp(osz), c.rmOp(osz)]);
      case 0xbd: return c.out(I.bsr, [c.regOp(osz), c.rmOp(osz)]);
      case 0xb6: return c.out(I.movzx, [c.regOp(osz), c.rmOp(1)]);
      case 0xb7: return c.out(I.movzx, [c.regOp(osz), c.rmOp(2)]);
      case 0xbe: return c.out(I.movsx, [c.regOp(osz), c.rmOp(1)]);
      case 0xbf: return c.out(I.movsx, [c.regOp(osz), c.rmOp(2)]);
    }
    return undefined;
  }

  // The ALU group's six forms each: Eb,Gb Ev,Gv Gb,Eb Gv,Ev AL,Ib eAX,Iz.
  if (b < 0x40 && (b & 7) < 6) {
    const n = ALU_N[b >> 3]!;
    switch (b & 7) {
      case 0: if (!c.readModrm()) return undefined; return c.out(n, [c.rmOp(1), c.regOp(1)]);
      case 1: if (!c.readModrm()) return undefined; return c.out(n, [c.rmOp(osz), c.regOp(osz)]);
      case 2: if (!c.readModrm()) return undefined; return c.out(n, [c.regOp(1), c.rmOp(1)]);
      case 3: if (!c.readModrm()) return undefined; return c.out(n, [c.regOp(osz), c.rmOp(osz)]);
      case 4: { const v = c.rd8(); if (v < 0) return undefined; return c.out(n, [gpr(0, 1, hasRex), imm(BigInt(v), 1)]); }
      default: { if (!c.has32()) return undefined; const v = c.rd32(); return c.out(n, [gpr(0, osz, hasRex), imm(immOf(v, osz, false), osz)]); }
    }
  }
  if (b >= 0x50 && b <= 0x57) return c.out(I.push, [gpr((b & 7) | B, 8, hasRex)]);
  if (b >= 0x58 && b <= 0x5f) return c.out(I.pop, [gpr((b & 7) | B, 8, hasRex)]);
  if (b >= 0x70 && b <= 0x7f) {
    if (hasRex) return undefined;
    const v = c.rd8(); if (v < 0) return undefined;
    return c.out(JCC[b & 15]!, [c.target(s8(v))]);
  }
  if (b >= 0xb0 && b <= 0xb7) {
    const v = c.rd8(); if (v < 0) return undefined;
    return c.out(I.mov, [gpr((b & 7) | B, 1, hasRex), imm(BigInt(v), 1)]);
  }
  if (b >= 0xb8 && b <= 0xbf) {
    if (W) {
      if (c.p + 8 > end) return undefined;
      const lo = c.rd32(), hi = c.rd32();
      return c.out(I.movabs, [gpr((b & 7) | B, 8, hasRex), imm(BigInt.asIntN(64, (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0)), 8)]);
    }
    if (!c.has32()) return undefined;
    const v = c.rd32();
    return c.out(I.mov, [gpr((b & 7) | B, 4, hasRex), imm(BigInt(v >>> 0), 4)]);
  }
  switch (b) {
    case 0x63: if (!W || !c.readModrm()) return undefined; return c.out(I.movsxd, [c.regOp(8), c.rmOp(4)]);
    case 0x68: { if (!c.has32()) return undefined; const v = c.rd32(); return c.out(I.push, [imm(BigInt(v), 8)]); }
    case 0x6a: { const v = c.rd8(); if (v < 0) return undefined; return c.out(I.push, [imm(BigInt(s8(v)), 8)]); }
    case 0x69: {
      if (!c.readModrm() || !c.has32()) return undefined;
      const v = c.rd32();
      return c.out(I.imul, [c.regOp(osz), c.rmOp(osz), imm(immOf(v, osz, false), osz)]);
    }
    case 0x6b: {
      if (!c.readModrm()) return undefined;
      const v = c.rd8(); if (v < 0) return undefined;
      return c.out(I.imul, [c.regOp(osz), c.rmOp(osz), imm(immOf(s8(v), osz, true), osz)]);
    }
    case 0x80: case 0x81: case 0x83: {
      if (!c.readModrm()) return undefined;
      const n = ALU_N[c.reg & 7]!;
      if (b === 0x80) { const v = c.rd8(); if (v < 0) return undefined; return c.out(n, [c.rmOp(1), imm(BigInt(v), 1)]); }
      if (b === 0x81) { if (!c.has32()) return undefined; const v = c.rd32(); return c.out(n, [c.rmOp(osz), imm(immOf(v, osz, false), osz)]); }
      const v = c.rd8(); if (v < 0) return undefined;
      const logical = n.n === 'and' || n.n === 'or' || n.n === 'xor'; // Capstone shows those unsigned
      return c.out(n, [c.rmOp(osz), imm(immOf(s8(v), osz, !logical), osz)]);
    }
    case 0x84: if (!c.readModrm()) return undefined; return c.out(I.test, [c.rmOp(1), c.regOp(1)]);
    case 0x85: if (!c.readModrm()) return undefined; return c.out(I.test, [c.rmOp(osz), c.regOp(osz)]);
    case 0x86: if (!c.readModrm()) return undefined; return c.out(I.xchg, [c.rmOp(1), c.regOp(1)]);
    case 0x87: if (!c.readModrm()) return undefined; return c.out(I.xchg, [c.rmOp(osz), c.regOp(osz)]);
    case 0x88: if (!c.readModrm()) return undefined; return c.out(I.mov, [c.rmOp(1), c.regOp(1)]);
    case 0x89: if (!c.readModrm()) return undefined; return c.out(I.mov, [c.rmOp(osz), c.regOp(osz)]);
    case 0x8a: if (!c.readModrm()) return undefined; return c.out(I.mov, [c.regOp(1), c.rmOp(1)]);
    case 0x8b: if (!c.readModrm()) return undefined; return c.out(I.mov, [c.regOp(osz), c.rmOp(osz)]);
    case 0x8d: if (!c.readModrm() || c.mod === 3) return undefined; return c.out(I.lea, [c.regOp(osz), c.rmOp(osz)]);
    case 0x90: if (hasRex) return undefined; return c.out(I.nop, []);
    case 0x98: return c.out(W ? I.cdqe : I.cwde, []);
    case 0x99: return c.out(W ? I.cqo : I.cdq, []);
    case 0xa8: { const v = c.rd8(); if (v < 0) return undefined; return c.out(I.test, [gpr(0, 1, hasRex), imm(BigInt(v), 1)]); }
    case 0xa9: { if (!c.has32()) return undefined; const v = c.rd32(); return c.out(I.test, [gpr(0, osz, hasRex), imm(immOf(v, osz, false), osz)]); }
    case 0xc0: case 0xc1: case 0xd0: case 0xd1: case 0xd2: case 0xd3: {
      if (!c.readModrm()) return undefined;
      const n = SHIFT_N[c.reg & 7];
      if (!n) return undefined;
      const size = b & 1 ? osz : 1;
      if (b <= 0xc1) { const v = c.rd8(); if (v < 0) return undefined; return c.out(n, [c.rmOp(size), imm(BigInt(v), 1)]); }
      if (b <= 0xd1) {
        if (c.mod !== 3 && (c.reg & 7) === 2) return undefined; // Capstone lists no count for rcl m, 1
        return c.out(n, [c.rmOp(size), imm(1n, size)]);
      }
      return c.out(n, [c.rmOp(size), gpr(1, 1, hasRex)]);
    }
    case 0xc2: {
      if (hasRex || c.p + 2 > end) return undefined; // with REX Capstone sizes the count 4 bytes
      const v = code[c.p] | (code[c.p + 1] << 8); c.p += 2;
      return c.out(I.ret, [imm(BigInt(v), 8)]);
    }
    case 0xc3: return c.out(I.ret, []);
    case 0xc6: case 0xc7: {
      if (!c.readModrm() || (c.reg & 7) !== 0) return undefined;
      if (b === 0xc6) { const v = c.rd8(); if (v < 0) return undefined; return c.out(I.mov, [c.rmOp(1), imm(BigInt(v), 1)]); }
      if (!c.has32()) return undefined;
      const v = c.rd32();
      return c.out(I.mov, [c.rmOp(osz), imm(immOf(v, osz, false), osz)]);
    }
    case 0xc9: return c.out(I.leave, []);
    case 0xe8: case 0xe9: {
      if (hasRex || !c.has32()) return undefined;
      const v = c.rd32();
      return c.out(b === 0xe8 ? I.call : I.jmp, [c.target(v)]);
    }
    case 0xeb: { if (hasRex) return undefined; const v = c.rd8(); if (v < 0) return undefined; return c.out(I.jmp, [c.target(s8(v))]); }
    case 0xf6: case 0xf7: {
      if (!c.readModrm()) return undefined;
      const n = GROUP3_N[c.reg & 7];
      if (!n) return undefined;
      const size = b === 0xf6 ? 1 : osz;
      if ((c.reg & 7) === 0) {
        if (b === 0xf6) { const v = c.rd8(); if (v < 0) return undefined; return c.out(n, [c.rmOp(1), imm(BigInt(v), 1)]); }
        if (!c.has32()) return undefined;
        const v = c.rd32();
        return c.out(n, [c.rmOp(size), imm(immOf(v, size, false), size)]);
      }
      return c.out(n, [c.rmOp(size)]);
    }
    case 0xfe: {
      if (!c.readModrm() || (c.reg & 7) > 1) return undefined;
      return c.out((c.reg & 7) === 0 ? I.inc : I.dec, [c.rmOp(1)]);
    }
    case 0xff: {
      if (!c.readModrm()) return undefined;
      switch (c.reg & 7) {
        case 0: return c.out(I.inc, [c.rmOp(osz)]);
        case 1: return c.out(I.dec, [c.rmOp(osz)]);
        case 2: return c.out(I.call, [c.rmOp(8)]);
        case 4: return c.out(I.jmp, [c.rmOp(8)]);
        case 6: return c.out(I.push, [c.rmOp(8)]);
      }
      return undefined;
    }
  }
  return undefined;
}
