import type { Emitter, JsEnv } from '../emitter.js';
import { isFastMxcsr, refreshPE } from './sse-flags.js';
import type { Insn, MemOperand } from '../../decoder/ir.js';
import type { CpuState } from '../../core/cpu-state.js';
import type { EmitFn, Family } from './types.js';
import { define, x87Key, type InsnDef } from './table.js';
import { CPU } from '../../core/layout.js';
import { F as FL } from '../../core/rflags.js';
import * as F from '../softfloat/f80.js';
import type { Ctx, F80 } from '../softfloat/f80.js';
import * as T from '../softfloat/trans.js';

/**
 * The x87 FPU, executed in TypeScript (through Emitter.callJs) on the exact softfloat of
 * softfloat/f80.ts. Capstone's ids are ambiguous for x87 (`faddp st(i)` comes back as
 * X86_INS_FADD), so the instruction table looks opcodes D8..DF up in this file's sub-map by
 * opcode byte and ModRM (table.ts x87Key, OPS below), from Capstone's detail: one small operation
 * per encoding, with its facts (control, non-waiting, what it writes besides the FPU).
 *
 * State lives in the CPU block (core/layout.ts): fpr[8] (physical registers, 80-bit values in
 * 16-byte slots), fpTop, fpCw, fpSw (status word without TOP, ES and B, which are derived when
 * the status word is read), fpTag (abridged: bit i set = physical register i valid), fpIp, fpDp,
 * fpOp (last non-control instruction's address, memory operand address and opcode).
 *
 * Each instruction computes its effects first and commits them at the end, memory stores first:
 * a faulting store leaves the FPU untouched, as on the hardware.
 *
 * Exceptions: the masked responses are exact (see softfloat/f80.ts), including stack overflow
 * and underflow (IE + SF, C1 = 1 / 0, the indefinite QNaN). With IE, DE or ZE unmasked in the
 * control word the instruction behaves as the hardware does: destination, stack and memory are
 * left alone, the flag, ES and B are set, C1 = 0 (1 on stack overflow), compares still deliver
 * their condition codes (and fcomi its RFLAGS), fprem/fsin-like instructions clear C2; a load
 * (fld m32/m64) with only DE unmasked completes. The #MF itself is raised (Vector.MF) by the next
 * waiting x87 instruction, as on the hardware. Not done: the biased (2^±24576) results of an
 * unmasked OE or UE — the masked result is delivered instead (the flag and ES are still set).
 *
 * Where the vendors differ or the manuals are vague, this follows the machine the tests compare
 * against (an AMD EPYC): stores of an extended denormal (fst m32/m64, fist, fbstp) raise no DE;
 * fcomi/fucomi leave C1 unchanged; fprem's partial reduction reduces by 2^(D-N) with
 * N = 32 + (D mod 32); d9 d8+i (fstp1) with ST(0) empty just pops; fldcw keeps bits 0-5, 8-12 and
 * forces bit 6. Memory images written by fnstenv/fnsave hold 0 for the FCS and FDS selectors
 * (AMD writes CS), fxsave writes MXCSR_MASK 0xFFFF and always FIP/FDP/FOP (AMD writes them only
 * while an exception is pending), fxsave without REX.W uses the 32-bit FIP/FCS/FDP/FDS layout.
 * FOP and FDP are recorded at every non-control instruction, as on AMD and as usmjit's CPUID
 * allows (no FDP_EXCPTN_ONLY); Intel hosts record them only while an unmasked exception is
 * pending, so on those test/x87 checks them against the SDM's definition instead.
 * test/x87 compares everything else against the hardware.
 */

const IE = F.IE, DE = F.DE, ZE = F.ZE, SF = F.SF, C0 = F.C0, C1 = F.C1, C2 = F.C2, C3 = F.C3;
const EXC = 0x3f;
const CC = C0 | C1 | C2 | C3;
const EXIT_EXCEPTION = 2; // Exit.Exception (core/exits.ts)
// The state words are read and written in pairs (see Fpu).
if (CPU.fpCw !== CPU.fpTop + 4 || CPU.fpTag !== CPU.fpSw + 4) throw new Error('x87: CPU layout of the FPU words changed');
const VECTOR_GP = 13, VECTOR_MF = 16;

/**
 * What an x87 operation needs of its instruction, from Capstone's detail (opcode byte, ModRM,
 * memory operand): no second decoder.
 */
interface X87Insn {
  /** 0..7 for D8..DF; 8 for 0F AE (fxsave/fxrstor); 9 for 9B (wait). */
  opc: number;
  modrm: number;
  mem: MemOperand | null;
  /** 0x66 prefix (16-bit fnstenv/fnsave formats). */
  opsize: boolean;
  rexW: boolean;
}

function x87Insn(i: Insn): X87Insn {
  const o = i.opcode[0];
  const mem = i.ops.find((op): op is MemOperand => op.kind === 'mem') ?? null;
  return { opc: o === 0x9b ? 9 : o === 0x0f ? 8 : o - 0xd8, modrm: i.modrm, mem, opsize: i.opsize, rexW: i.rexW };
}

/**
 * One x87 operation: an entry of the x87 sub-map of the instruction table (by opcode byte and
 * ModRM, table.ts x87Key), or of wait/fxsave/fxrstor (by Capstone id).
 */
interface X87Op {
  /** Computes the effects on the working copy; `addr` is the memory operand's address. */
  run(fpu: Fpu, x: X87Insn, addr: number): void;
  /** A control instruction: FIP/FDP/FOP are left alone. */
  control?: boolean;
  /** Non-waiting (fn*, fxsave): no check for a pending unmasked exception first. */
  noWait?: boolean;
  /** Writes RFLAGS (fcomi family). */
  rflags?: boolean;
  /** Writes AX (fnstsw ax). */
  ax?: boolean;
  /** Writes the XMM registers and MXCSR (fxrstor). */
  xmm?: boolean;
}

// ---- machine state ------------------------------------------------------------------------

class Fault extends Error {
  constructor(readonly vector: number) { super(`x87 fault ${vector}`); }
}

/**
 * A working copy of the FPU state for one instruction. Registers are read lazily; all changes
 * (registers, TOP, tags, status, memory, RFLAGS, AX) stay here until commit().
 */
class Fpu {
  readonly cw: number;
  top: number;
  tag: number;
  sw: number;
  private readonly regs: (F80 | undefined)[] = new Array(8);
  private readonly dirty = new Set<number>();
  readonly ctx: Ctx;
  readonly stores: { addr: number; data: Uint8Array }[] = [];
  rflags: number | null = null;
  ax: number | null = null;
  /** Control-state loads (fldcw, fldenv, frstor, fxrstor, fninit) bypass the unmasked check. */
  newCw: number | null = null;
  newIp: { ip: bigint; dp: bigint; op: number } | null = null;
  /** How an unmasked exception treats the instruction (see commit). */
  kind: 'compare' | 'partial' | 'load' | null = null;

  /** The state words as read (to write back only what changed). */
  private readonly top0: number;
  private readonly tag0: number;
  private readonly sw0: number;

  constructor(readonly cpu: CpuState, readonly env: JsEnv) {
    // Two reads for the four words (CpuState accesses are not free): fpTop|fpCw, fpSw|fpTag.
    const a = cpu.u64(CPU.fpTop), b = cpu.u64(CPU.fpSw);
    this.top = this.top0 = Number(a & 7n);
    this.cw = Number((a >> 32n) & 0xffffn);
    this.sw = this.sw0 = Number(b & 0xffffn) & ~0xb880;
    this.tag = this.tag0 = Number((b >> 32n) & 0xffn);
    this.ctx = F.ctxFromCw(this.cw);
  }

  phys(i: number): number { return (this.top + i) & 7; }
  empty(i: number): boolean { return ((this.tag >> this.phys(i)) & 1) === 0; }

  physReg(p: number): F80 {
    let r = this.regs[p];
    if (!r) {
      const off = CPU.fpr + p * 16;
      r = this.regs[p] = { se: this.cpu.u32(off + 8) & 0xffff, m: this.cpu.u64(off) };
    }
    return r;
  }
  setPhys(p: number, v: F80): void { this.regs[p] = v; this.dirty.add(p); }

  /** ST(i), raw (its tag is not looked at). */
  st(i: number): F80 { return this.physReg(this.phys(i)); }
  /** Writes ST(i) and marks it valid. */
  set(i: number, v: F80): void {
    const p = this.phys(i);
    this.setPhys(p, v);
    this.tag |= 1 << p;
  }
  push(v: F80): void {
    this.top = (this.top - 1) & 7;
    this.set(0, v);
  }
  pop(): void {
    this.tag &= ~(1 << this.top);
    this.top = (this.top + 1) & 7;
  }

  /** C1 after an instruction: the round-up indication of the softfloat. */
  setC1(on: boolean): void { this.sw = on ? this.sw | C1 : this.sw & ~C1; }
  setCC(bits: number, mask = CC): void { this.sw = (this.sw & ~mask) | (bits & mask); }
  /** Stack underflow (IM masked: IE + SF, C1 = 0). */
  underflow(): void { this.ctx.flags |= IE | SF; this.ctx.flags &= ~C1; }
  /** Stack overflow: pushing onto a valid ST(7). */
  overflows(): boolean { return !this.empty(7); }

  /**
   * Pushes make(), or on stack overflow the indefinite QNaN with IE + SF + C1 (then make() is
   * not evaluated: a conversion raises nothing more).
   */
  pushChecked(make: () => F80): void {
    if (this.overflows()) {
      this.ctx.flags |= IE | SF | C1;
      this.push(F.INDEFINITE);
      return;
    }
    this.push(make());
  }

  store(addr: number, data: Uint8Array): void { this.stores.push({ addr, data }); }

  /** The status word as the guest reads it. */
  statusWord(): number {
    const es = (this.sw & ~this.cw & EXC) !== 0;
    return (this.sw & ~0xb880) | (this.top << 11) | (es ? 0x8080 : 0);
  }

  /**
   * Writes everything back. With an unmasked IE, DE or ZE the hardware leaves the destination,
   * the stack and memory alone and only updates the status word (as measured): the exception
   * flags, C1 = 0 (1 for a stack overflow), the compare result of a compare (and RFLAGS of
   * fcomi), C2 = 0 for fprem/fsin-like instructions. A load with only DE unmasked completes.
   */
  commit(op: X87Op, x: X87Insn, i: Insn, addr: number): void {
    const cpu = this.cpu;
    const flags = this.ctx.flags;
    const cw = this.newCw ?? this.cw;
    const unmasked = flags & ~this.cw & (IE | DE | ZE);
    if (!op.control) {
      cpu.setU64(CPU.fpIp, BigInt(i.addr));
      cpu.setU32(CPU.fpOp, ((x.opc & 7) << 8) | x.modrm);
      if (x.mem) cpu.setU64(CPU.fpDp, BigInt(addr));
    }
    if (unmasked && !(this.kind === 'load' && unmasked === DE)) {
      let sw = this.sw0;
      // C1 = 0, except: a stack overflow sets it; fcomi leaves it unless the stack faulted.
      if (this.rflags === null || (flags & SF)) sw &= ~C1;
      sw |= flags & (IE | DE | ZE | SF); // the operation stops before PE/UE/OE could arise
      if ((flags & (SF | C1)) === (SF | C1)) sw |= C1;
      if (this.kind === 'compare') {
        sw = (sw & ~(C0 | C2 | C3)) | (this.sw & (C0 | C2 | C3));
        if (this.rflags !== null) this.env.setFlags(cpu.base, this.rflags);
      }
      if (this.kind === 'partial') sw &= ~C2;
      cpu.setU32(CPU.fpSw, sw & ~0xb880);
      return;
    }
    // (fpr slots: bytes 10..15 are never written by anyone, so they stay zero.)
    for (const s of this.stores) this.env.mem.write(s.addr, s.data);
    if (this.rflags !== null) this.env.setFlags(cpu.base, this.rflags);
    if (this.ax !== null) cpu.set(0, (cpu.get(0) & ~0xffffn) | BigInt(this.ax & 0xffff));
    for (const p of this.dirty) {
      const r = this.regs[p]!;
      const off = CPU.fpr + p * 16;
      cpu.setU64(off, r.m);
      cpu.setU32(off + 8, r.se & 0xffff);
    }
    const sw = (this.sw | (flags & (EXC | SF))) & ~0xb880;
    if (sw !== this.sw0 || this.tag !== this.tag0) cpu.setU64(CPU.fpSw, BigInt(sw) | (BigInt(this.tag) << 32n));
    if (this.top !== this.top0 || cw !== this.cw) cpu.setU64(CPU.fpTop, BigInt(this.top) | (BigInt(cw) << 32n));
    if (this.newIp) {
      cpu.setU64(CPU.fpIp, this.newIp.ip);
      cpu.setU64(CPU.fpDp, this.newIp.dp);
      cpu.setU32(CPU.fpOp, this.newIp.op & 0x7ff);
    }
  }
}

// ---- memory helpers -----------------------------------------------------------------------

function effAddr(cpu: CpuState, m: MemOperand): number {
  let a = m.disp;
  if (m.base >= 0) a += cpu.get(m.base);
  if (m.index >= 0) a += cpu.get(m.index) * BigInt(m.scale);
  if (m.seg === 'fs') a += cpu.fsBase;
  else if (m.seg === 'gs') a += cpu.gsBase;
  a = m.addr32 ? BigInt.asUintN(32, a) : BigInt.asUintN(64, a);
  return Number(a);
}

function leU(b: Uint8Array, off: number, n: number): bigint {
  let v = 0n;
  for (let k = n - 1; k >= 0; k--) v = (v << 8n) | BigInt(b[off + k]);
  return v;
}
function putLe(out: Uint8Array, off: number, n: number, v: bigint): void {
  for (let k = 0; k < n; k++) { out[off + k] = Number(v & 0xffn); v >>= 8n; }
}
function leBytes(n: number, v: bigint): Uint8Array {
  const b = new Uint8Array(n);
  putLe(b, 0, n, v);
  return b;
}

// ---- operand conversions ------------------------------------------------------------------

/**
 * A memory source operand of an arithmetic instruction (m32/m64 real, m16/m32 integer), as an
 * extended value. A narrower format's SNaN stays signalling (the operation raises IE); a
 * narrower denormal is converted exactly and reported through `denormal` (DE is raised by the
 * operation unless a NaN decides the result first).
 */
function memOperand(fpu: Fpu, opc: number, addr: number): { v: F80; denormal: boolean } {
  // D8: m32 real, DC: m64 real, DA: m32 int, DE: m16 int.
  const scratch: Ctx = { rc: 0, pc: 64, flags: 0 };
  switch (opc) {
    case 0: {
      const bits = Number(leU(fpu.env.mem.read(addr, 4), 0, 4));
      const v = F.fromF32(bits, scratch);
      return { v: keepSignalling(v, (bits & 0x7f800000) === 0x7f800000 && (bits & 0x400000) === 0 && (bits & 0x7fffff) !== 0), denormal: (scratch.flags & DE) !== 0 };
    }
    case 4: {
      const bits = leU(fpu.env.mem.read(addr, 8), 0, 8);
      const v = F.fromF64(bits, scratch);
      const snan = ((bits >> 52n) & 0x7ffn) === 0x7ffn && ((bits >> 51n) & 1n) === 0n && (bits & ((1n << 52n) - 1n)) !== 0n;
      return { v: keepSignalling(v, snan), denormal: (scratch.flags & DE) !== 0 };
    }
    case 2: return { v: F.fromInt(BigInt.asIntN(32, leU(fpu.env.mem.read(addr, 4), 0, 4))), denormal: false };
    default: return { v: F.fromInt(BigInt.asIntN(16, leU(fpu.env.mem.read(addr, 2), 0, 2))), denormal: false };
  }
}

function keepSignalling(v: F80, snan: boolean): F80 {
  return snan ? { se: v.se, m: v.m & ~(1n << 62n) } : v;
}

// ---- arithmetic ---------------------------------------------------------------------------

type Arith = 0 | 1 | 4 | 5 | 6 | 7; // add mul - sub subr div divr (the ModRM reg field)

function arith(op: Arith, a: F80, b: F80, ctx: Ctx, bDenormal: boolean): F80 {
  switch (op) {
    case 0: return F.addSub(a, b, false, ctx, ctx.pc, bDenormal);
    case 1: return F.mul(a, b, ctx, ctx.pc, bDenormal);
    case 4: return F.addSub(a, b, true, ctx, ctx.pc, bDenormal);
    case 5: return F.addSub(b, a, true, ctx, ctx.pc, bDenormal);
    case 6: return F.div(a, b, ctx, ctx.pc, bDenormal);
    default: return F.div(b, a, ctx, ctx.pc, bDenormal);
  }
}

function finishArith(fpu: Fpu): void {
  fpu.setC1((fpu.ctx.flags & C1) !== 0);
}

/** fcom/fucom family: sets C3 C2 C0 (C1 = 0) from an order. */
function setCompare(fpu: Fpu, o: F.Order): void {
  fpu.kind = 'compare';
  const cc = o === 2 ? C3 | C2 | C0 : o === 0 ? C3 : o < 0 ? C0 : 0;
  fpu.setCC(cc);
}

/** fcomi family: ZF PF CF (OF SF AF cleared). C1 is left as it was (as measured on AMD). */
function setEflagsCompare(fpu: Fpu, o: F.Order): void {
  fpu.kind = 'compare';
  fpu.rflags = o === 2 ? FL.ZF | FL.PF | FL.CF : o === 0 ? FL.ZF : o < 0 ? FL.CF : 0;
}

const UNORDERED_FLAGS = FL.ZF | FL.PF | FL.CF;

// ---- constants ----------------------------------------------------------------------------

/** fld1 fldl2t fldl2e fldpi fldlg2 fldln2 fldz: the exact value (to 128 bits), rounded by RC. */
const CONSTANTS: Record<number, [number, bigint] | null> = {
  0xe8: null, 0xee: null,
  0xe9: [1, 0xd49a784bcd1b8afe492bf6ff4dafdb4dn], // log2(10) = 0x0.D49A.. * 2^2
  0xea: [0, 0xb8aa3b295c17f0bbbe87fed0691d3e89n], // log2(e)
  0xeb: [1, 0xc90fdaa22168c234c4c6628b80dc1cd1n], // pi
  0xec: [-2, 0x9a209a84fbcff7988f8959ac0b7c9178n], // log10(2)
  0xed: [-1, 0xb17217f7d1cf79abc9e3b39803f2f6afn], // ln(2)
};

function loadConstant(fpu: Fpu, modrm: number): F80 {
  if (modrm === 0xe8) return F.ONE;
  if (modrm === 0xee) return F.ZERO;
  const [e, m] = CONSTANTS[modrm]!;
  // The value is m * 2^(e - 127); rounding it sets no flags on the hardware.
  const ctx: Ctx = { rc: fpu.ctx.rc, pc: 64, flags: 0 };
  return F.roundExact(0, m, e - 127, true, ctx);
}

// ---- environment images -------------------------------------------------------------------

/** The full tag word (2 bits per physical register) from the abridged tags and contents. */
function fullTag(fpu: Fpu): number {
  let t = 0;
  for (let p = 0; p < 8; p++) {
    let v: number;
    if (((fpu.tag >> p) & 1) === 0) v = 3;
    else {
      const r = fpu.physReg(p);
      const c = F.classify(r);
      v = c === 'zero' ? 1 : c === 'normal' ? 0 : 2;
    }
    t |= v << (2 * p);
  }
  return t;
}

function abridgedFromFull(t: number): number {
  let a = 0;
  for (let p = 0; p < 8; p++) if (((t >> (2 * p)) & 3) !== 3) a |= 1 << p;
  return a;
}

/** The fnstenv image: 28 bytes (32-bit protected-mode format) or 14 (with 0x66). */
function envImage(fpu: Fpu, small: boolean): Uint8Array {
  const cpu = fpu.cpu;
  const ip = cpu.u64(CPU.fpIp), dp = cpu.u64(CPU.fpDp), op = cpu.u32(CPU.fpOp) & 0x7ff;
  const sw = fpu.statusWord();
  const tw = fullTag(fpu);
  if (small) {
    const b = new Uint8Array(14);
    putLe(b, 0, 2, BigInt(fpu.cw));
    putLe(b, 2, 2, BigInt(sw));
    putLe(b, 4, 2, BigInt(tw));
    putLe(b, 6, 2, ip & 0xffffn);
    putLe(b, 8, 2, 0n);
    putLe(b, 10, 2, dp & 0xffffn);
    putLe(b, 12, 2, 0n);
    return b;
  }
  const b = new Uint8Array(28);
  putLe(b, 0, 4, 0xffff0000n | BigInt(fpu.cw));
  putLe(b, 4, 4, 0xffff0000n | BigInt(sw));
  putLe(b, 8, 4, 0xffff0000n | BigInt(tw));
  putLe(b, 12, 4, ip & 0xffff_ffffn);
  putLe(b, 16, 4, BigInt(op) << 16n);
  putLe(b, 20, 4, dp & 0xffff_ffffn);
  putLe(b, 24, 4, 0xffff0000n);
  return b;
}

/** Loads an environment image (fldenv/frstor). */
function loadEnv(fpu: Fpu, b: Uint8Array, small: boolean): void {
  const rd = (off: number, n: number) => Number(leU(b, off, n));
  const w = small ? 2 : 4; // field stride
  const cw = rd(0, 2), sw = rd(w, 2), tw = rd(2 * w, 2);
  fpu.newCw = (cw & 0x1f3f) | 0x40;
  fpu.top = (sw >> 11) & 7;
  fpu.sw = sw & ~0xb880;
  fpu.tag = abridgedFromFull(tw);
  if (small) fpu.newIp = { ip: BigInt(rd(6, 2)), dp: BigInt(rd(10, 2)), op: 0 };
  else fpu.newIp = { ip: BigInt(rd(12, 4)), dp: BigInt(rd(20, 4)), op: (rd(16, 4) >>> 16) & 0x7ff };
}

function initState(fpu: Fpu): void {
  fpu.newCw = 0x37f;
  fpu.sw = 0;
  fpu.top = 0;
  fpu.tag = 0;
  fpu.newIp = { ip: 0n, dp: 0n, op: 0 };
}

// ---- fxsave / fxrstor ---------------------------------------------------------------------

function fxsave(fpu: Fpu, addr: number, w64: boolean): void {
  const cpu = fpu.cpu;
  const b = new Uint8Array(416);
  putLe(b, 0, 2, BigInt(fpu.cw));
  putLe(b, 2, 2, BigInt(fpu.statusWord()));
  b[4] = fpu.tag;
  putLe(b, 6, 2, BigInt(cpu.u32(CPU.fpOp) & 0x7ff));
  const ip = cpu.u64(CPU.fpIp), dp = cpu.u64(CPU.fpDp);
  if (w64) {
    putLe(b, 8, 8, ip);
    putLe(b, 16, 8, dp);
  } else {
    putLe(b, 8, 4, ip & 0xffff_ffffn); // FCS = 0
    putLe(b, 16, 4, dp & 0xffff_ffffn); // FDS = 0
  }
  putLe(b, 24, 4, BigInt(cpu.u32(CPU.mxcsr)));
  putLe(b, 28, 4, 0xffffn);
  for (let i = 0; i < 8; i++) F.toBytes(fpu.st(i), b, 32 + 16 * i);
  for (let n = 0; n < 16; n++) {
    putLe(b, 160 + 16 * n, 8, cpu.u64(CPU.xmm + 16 * n));
    putLe(b, 168 + 16 * n, 8, cpu.u64(CPU.xmm + 16 * n + 8));
  }
  fpu.store(addr, b);
}

function fxrstor(fpu: Fpu, addr: number, w64: boolean): void {
  const cpu = fpu.cpu;
  const b = fpu.env.mem.read(addr, 416);
  const mxcsr = Number(leU(b, 24, 4));
  if (mxcsr & ~0xffff) throw new Fault(VECTOR_GP);
  const cw = Number(leU(b, 0, 2)), sw = Number(leU(b, 2, 2));
  fpu.newCw = (cw & 0x1f3f) | 0x40;
  fpu.top = (sw >> 11) & 7;
  fpu.sw = sw & ~0xb880;
  fpu.tag = b[4];
  const op = Number(leU(b, 6, 2)) & 0x7ff;
  fpu.newIp = w64
    ? { ip: leU(b, 8, 8), dp: leU(b, 16, 8), op }
    : { ip: leU(b, 8, 4), dp: leU(b, 16, 4), op };
  for (let i = 0; i < 8; i++) fpu.setPhys(fpu.phys(i), F.fromBytes(b, 32 + 16 * i));
  // XMM and MXCSR are not part of the FPU transaction: written at once (after all reads).
  cpu.setU32(CPU.mxcsr, mxcsr);
  for (let n = 0; n < 16; n++) {
    cpu.setU64(CPU.xmm + 16 * n, leU(b, 160 + 16 * n, 8));
    cpu.setU64(CPU.xmm + 16 * n + 8, leU(b, 168 + 16 * n, 8));
  }
}

// ---- BCD ----------------------------------------------------------------------------------

function fromBcd(b: Uint8Array): F80 {
  let v = 0n;
  for (let k = 8; k >= 0; k--) v = v * 100n + BigInt((b[k] >> 4) * 10 + (b[k] & 15));
  const r = F.fromInt(v);
  return b[9] & 0x80 ? F.neg(r) : r;
}

const BCD_INDEFINITE = new Uint8Array([0, 0, 0, 0, 0, 0, 0, 0xc0, 0xff, 0xff]);

function toBcd(a: F80, ctx: Ctx): Uint8Array {
  const c = F.classify(a);
  if (c === 'nan' || c === 'inf' || c === 'unsupported') { ctx.flags |= F.IE; return BCD_INDEFINITE; }
  const scratch: Ctx = { rc: ctx.rc, pc: 64, flags: 0 };
  const r = F.roundInt(a, scratch);
  const big = F.toInt(r, 64, { rc: 0, pc: 64, flags: 0 });
  let v = big < 0n ? -big : big;
  if (F.classify(r) !== 'zero' && (F.expOf(r) > 16383 + 62 || v > 999_999_999_999_999_999n)) {
    ctx.flags |= F.IE;
    return BCD_INDEFINITE;
  }
  ctx.flags |= scratch.flags & ~F.DE; // like fist, no DE for a denormal source (measured)
  const out = new Uint8Array(10);
  for (let k = 0; k < 9; k++) {
    const d = Number(v % 100n);
    v /= 100n;
    out[k] = ((Math.floor(d / 10)) << 4) | (d % 10);
  }
  out[9] = F.sign(a) ? 0x80 : 0;
  return out;
}

// ---- the interpreter ----------------------------------------------------------------------

/** Set when an fxrstor left MXCSR's fast control (see emitOp: the switch to precise SSE floating point). */
let mxcsrWritten = false;

/** Runs x87 instruction `i` (operation `op`) on CPU `base`. Returns -1, or an Exit code (#MF, #GP). */
function runOp(env: JsEnv, i: Insn, op: X87Op, x: X87Insn, base: number): number {
  const cpu = env.cpu(base);
  const fpu = new Fpu(cpu, env);
  if (!op.noWait && (fpu.sw & ~fpu.cw & EXC) !== 0) return raise(cpu, i, VECTOR_MF);
  const addr = x.mem ? effAddr(cpu, x.mem) : 0;
  const mxcsr = cpu.u32(CPU.mxcsr);
  try {
    op.run(fpu, x, addr);
  } catch (e) {
    if (e instanceof Fault) return raise(cpu, i, e.vector);
    throw e;
  }
  fpu.commit(op, x, i, addr);
  if (cpu.u32(CPU.mxcsr) !== mxcsr && !isFastMxcsr(cpu.u32(CPU.mxcsr))) mxcsrWritten = true;
  return -1;
}

function raise(cpu: CpuState, i: Insn, vector: number): number {
  cpu.rip = BigInt(i.addr);
  cpu.setU64(CPU.exitInsn, BigInt(i.addr));
  cpu.setU64(CPU.exitArg, BigInt(vector));
  return EXIT_EXCEPTION;
}

// ---- the sub-map: opcode D8..DF and ModRM -> operation --------------------------------------

/** An encoding Capstone decodes but the FPU rejects: #UD when it runs (after the #MF check). */
const INVALID: X87Op = { run: () => { throw new Fault(6); } };

const OPS = new Map<number, X87Op>();
/** A memory form: opcode D8 + opc, ModRM reg field `reg`. */
const memForm = (opc: number, reg: number, op: X87Op) => OPS.set(x87Key(0xd8 + opc, reg << 3), op);
/** The eight register forms ST(0..7) of opcode D8 + opc, reg field `reg`. */
const regForms = (opc: number, reg: number, op: X87Op) => {
  for (let rm = 0; rm < 8; rm++) OPS.set(x87Key(0xd8 + opc, 0xc0 | (reg << 3) | rm), op);
};
/** A register form with a fixed ModRM (fnstsw ax, fcompp...). */
const oneForm = (opc: number, modrm: number, op: X87Op) => OPS.set(x87Key(0xd8 + opc, modrm), op);

const pushLoaded = (load: (fpu: Fpu, addr: number) => F80): X87Op => ({
  run: (fpu, _x, addr) => {
    const v = load(fpu, addr);
    fpu.pushChecked(() => v);
    fpu.setC1((fpu.ctx.flags & C1) !== 0);
  },
});

// Arithmetic and compares with an m32/m64 real or m32/m16 integer operand (D8 DA DC DE).
const memArith = (reg: Arith): X87Op => ({
  run: (fpu, x, addr) => {
    const src = memOperand(fpu, x.opc, addr);
    if (fpu.empty(0)) { fpu.underflow(); fpu.set(0, F.INDEFINITE); fpu.setC1(false); return; }
    fpu.set(0, arith(reg, fpu.st(0), src.v, fpu.ctx, src.denormal));
    finishArith(fpu);
  },
});
const memCompare = (pop: boolean): X87Op => ({
  run: (fpu, x, addr) => {
    const src = memOperand(fpu, x.opc, addr);
    if (fpu.empty(0)) { setCompare(fpu, 2); fpu.underflow(); }
    else setCompare(fpu, F.compare(fpu.st(0), src.v, false, fpu.ctx, src.denormal));
    if (pop) fpu.pop();
  },
});
for (const opc of [0, 2, 4, 6]) {
  for (let reg = 0; reg < 8; reg++) memForm(opc, reg, reg === 2 || reg === 3 ? memCompare(reg === 3) : memArith(reg as Arith));
}

/** fst/fstp to m32/m64 real (`pop` for fstp). */
const storeReal = (bits: 32 | 64, pop: boolean): X87Op => ({
  run: (fpu, _x, addr) => {
    const ctx = fpu.ctx;
    let v: bigint;
    if (fpu.empty(0)) { fpu.underflow(); v = bits === 32 ? 0xffc00000n : 0xfff8000000000000n; }
    else v = bits === 32 ? BigInt(F.toF32(fpu.st(0), ctx)) : F.toF64(fpu.st(0), ctx);
    fpu.store(addr, leBytes(bits / 8, v));
    fpu.setC1((ctx.flags & C1) !== 0);
    if (pop) fpu.pop();
  },
});
/** fist/fistp/fisttp (`reg` 1..3 of the ModRM) to an integer of `bits`. */
const storeInt = (bits: number, reg: number): X87Op => ({ run: (fpu, _x, addr) => fist(fpu, addr, bits, reg) });

// D9 memory forms.
memForm(1, 0, { // fld m32
  run: (fpu, _x, addr) => {
    fpu.kind = 'load';
    const bits = Number(leU(fpu.env.mem.read(addr, 4), 0, 4));
    fpu.pushChecked(() => F.fromF32(bits, fpu.ctx));
    fpu.setC1((fpu.ctx.flags & C1) !== 0);
  },
});
memForm(1, 2, storeReal(32, false));
memForm(1, 3, storeReal(32, true));
memForm(1, 4, { control: true, run: (fpu, x, addr) => loadEnv(fpu, fpu.env.mem.read(addr, x.opsize ? 14 : 28), x.opsize) }); // fldenv
memForm(1, 5, { control: true, run: (fpu, _x, addr) => { fpu.newCw = (Number(leU(fpu.env.mem.read(addr, 2), 0, 2)) & 0x1f3f) | 0x40; } }); // fldcw
memForm(1, 6, { // fnstenv, then mask all exceptions
  control: true, noWait: true,
  run: (fpu, x, addr) => {
    fpu.store(addr, envImage(fpu, x.opsize));
    fpu.newCw = fpu.cw | EXC;
  },
});
memForm(1, 7, { control: true, noWait: true, run: (fpu, _x, addr) => fpu.store(addr, leBytes(2, BigInt(fpu.cw))) }); // fnstcw

// DB memory forms.
memForm(3, 0, pushLoaded((fpu, addr) => F.fromInt(BigInt.asIntN(32, leU(fpu.env.mem.read(addr, 4), 0, 4))))); // fild m32
for (const reg of [1, 2, 3]) memForm(3, reg, storeInt(32, reg)); // fisttp fist fistp m32
memForm(3, 5, pushLoaded((fpu, addr) => F.fromBytes(fpu.env.mem.read(addr, 10)))); // fld m80: raw
memForm(3, 7, { // fstp m80: raw
  run: (fpu, _x, addr) => {
    let v: F80;
    if (fpu.empty(0)) { fpu.underflow(); v = F.INDEFINITE; } else v = fpu.st(0);
    fpu.store(addr, F.toBytes(v));
    fpu.setC1(false);
    fpu.pop();
  },
});

// DD memory forms.
memForm(5, 0, { // fld m64
  run: (fpu, _x, addr) => {
    fpu.kind = 'load';
    const bits = leU(fpu.env.mem.read(addr, 8), 0, 8);
    fpu.pushChecked(() => F.fromF64(bits, fpu.ctx));
    fpu.setC1((fpu.ctx.flags & C1) !== 0);
  },
});
memForm(5, 1, storeInt(64, 1)); // fisttp m64
memForm(5, 2, storeReal(64, false));
memForm(5, 3, storeReal(64, true));
memForm(5, 4, { // frstor
  control: true,
  run: (fpu, x, addr) => {
    const n = x.opsize ? 14 : 28;
    const b = fpu.env.mem.read(addr, n + 80);
    loadEnv(fpu, b, x.opsize);
    for (let k = 0; k < 8; k++) fpu.setPhys(fpu.phys(k), F.fromBytes(b, n + 10 * k));
  },
});
memForm(5, 6, { // fnsave, then fninit
  control: true, noWait: true,
  run: (fpu, x, addr) => {
    const env = envImage(fpu, x.opsize);
    const b = new Uint8Array(env.length + 80);
    b.set(env);
    for (let k = 0; k < 8; k++) F.toBytes(fpu.st(k), b, env.length + 10 * k);
    fpu.store(addr, b);
    initState(fpu);
  },
});
memForm(5, 7, { control: true, noWait: true, run: (fpu, _x, addr) => fpu.store(addr, leBytes(2, BigInt(fpu.statusWord()))) }); // fnstsw m16

// DF memory forms.
memForm(7, 0, pushLoaded((fpu, addr) => F.fromInt(BigInt.asIntN(16, leU(fpu.env.mem.read(addr, 2), 0, 2))))); // fild m16
for (const reg of [1, 2, 3]) memForm(7, reg, storeInt(16, reg)); // fisttp fist fistp m16
memForm(7, 4, pushLoaded((fpu, addr) => fromBcd(fpu.env.mem.read(addr, 10)))); // fbld
memForm(7, 5, pushLoaded((fpu, addr) => F.fromInt(BigInt.asIntN(64, leU(fpu.env.mem.read(addr, 8), 0, 8))))); // fild m64
memForm(7, 6, { // fbstp
  run: (fpu, _x, addr) => {
    let b: Uint8Array;
    if (fpu.empty(0)) { fpu.underflow(); b = BCD_INDEFINITE; } else b = toBcd(fpu.st(0), fpu.ctx);
    fpu.store(addr, b);
    fpu.setC1((fpu.ctx.flags & C1) !== 0);
    fpu.pop();
  },
});
memForm(7, 7, storeInt(64, 3)); // fistp m64

// D8 register forms: st0 = st0 op st(i); fcom/fcomp st(i).
for (let reg = 0; reg < 8; reg++) {
  if (reg === 2 || reg === 3) regForms(0, reg, { run: (fpu, x) => fcom(fpu, x.modrm & 7, false, reg === 3 ? 1 : 0) });
  else regForms(0, reg, { run: (fpu, x) => binaryStack(fpu, reg as Arith, 0, x.modrm & 7, false) });
}
// DC: st(i) = st(i) op st0; DE: the same, then pop (sub/div reversed in the encoding).
for (let reg = 0; reg < 8; reg++) {
  if (reg === 2 || reg === 3) continue;
  const op = (reg >= 4 ? reg ^ 1 : reg) as Arith;
  regForms(4, reg, { run: (fpu, x) => binaryStack(fpu, op, x.modrm & 7, 0, false) });
  regForms(6, reg, { run: (fpu, x) => binaryStack(fpu, op, x.modrm & 7, 0, true) });
}
oneForm(6, 0xd9, { run: (fpu) => fcom(fpu, 1, false, 2) }); // fcompp
// DA/DB: fcmovcc (cc 0 b, 1 e, 2 be, 3 u; DB negated).
for (let cc = 0; cc < 4; cc++) {
  regForms(2, cc, { run: (fpu, x) => fcmov(fpu, cc, false, x.modrm & 7) });
  regForms(3, cc, { run: (fpu, x) => fcmov(fpu, cc, true, x.modrm & 7) });
}
oneForm(2, 0xe9, { run: (fpu) => fcom(fpu, 1, true, 2) }); // fucompp
regForms(3, 5, { rflags: true, run: (fpu, x) => fcomi(fpu, x.modrm & 7, true, false) }); // fucomi
regForms(3, 6, { rflags: true, run: (fpu, x) => fcomi(fpu, x.modrm & 7, false, false) }); // fcomi
for (const m of [0xe0, 0xe1, 0xe4]) oneForm(3, m, { noWait: true, run: () => {} }); // feni/fdisi/fsetpm: no-ops since the 387
oneForm(3, 0xe2, { control: true, noWait: true, run: (fpu) => { fpu.sw &= ~(EXC | SF); fpu.ctx.flags = 0; } }); // fnclex
oneForm(3, 0xe3, { control: true, noWait: true, run: (fpu) => initState(fpu) }); // fninit
// DD register forms.
regForms(5, 0, { run: (fpu, x) => { fpu.tag &= ~(1 << fpu.phys(x.modrm & 7)); fpu.setC1(false); } }); // ffree
for (const reg of [2, 3]) {
  regForms(5, reg, { // fst/fstp st(i)
    run: (fpu, x) => {
      let v: F80;
      if (fpu.empty(0)) { fpu.underflow(); v = F.INDEFINITE; } else v = fpu.st(0);
      fpu.set(x.modrm & 7, v);
      fpu.setC1(false);
      if (reg === 3) fpu.pop();
    },
  });
}
regForms(5, 4, { run: (fpu, x) => fcom(fpu, x.modrm & 7, true, 0) }); // fucom
regForms(5, 5, { run: (fpu, x) => fcom(fpu, x.modrm & 7, true, 1) }); // fucomp
// DF register forms.
oneForm(7, 0xe0, { control: true, noWait: true, ax: true, run: (fpu) => { fpu.ax = fpu.statusWord(); } }); // fnstsw ax
regForms(7, 0, { run: (fpu, x) => { fpu.tag &= ~(1 << fpu.phys(x.modrm & 7)); fpu.setC1(false); fpu.pop(); } }); // ffreep
regForms(7, 5, { rflags: true, run: (fpu, x) => fcomi(fpu, x.modrm & 7, true, true) }); // fucomip
regForms(7, 6, { rflags: true, run: (fpu, x) => fcomi(fpu, x.modrm & 7, false, true) }); // fcomip

function fist(fpu: Fpu, addr: number, bits: number, reg: number): void {
  const ctx = fpu.ctx;
  let v: bigint;
  if (fpu.empty(0)) { fpu.underflow(); v = -(1n << BigInt(bits - 1)); } else v = F.toInt(fpu.st(0), bits, ctx, reg === 1);
  fpu.store(addr, leBytes(bits / 8, v));
  fpu.setC1((ctx.flags & C1) !== 0);
  if (reg !== 2) fpu.pop();
}

/** st(dst) = st(dst) op st(src) (or the reverse for subr/divr), then pop if asked. */
function binaryStack(fpu: Fpu, op: Arith, dst: number, src: number, pop: boolean): void {
  const ctx = fpu.ctx;
  if (fpu.empty(dst) || fpu.empty(src)) {
    fpu.underflow();
    fpu.set(dst, F.INDEFINITE);
  } else {
    fpu.set(dst, arith(op, fpu.st(dst), fpu.st(src), ctx, false));
  }
  finishArith(fpu);
  if (pop) fpu.pop();
}

/** fcom/fcomp/fcompp (quiet = false) and fucom... (quiet = true); pops `pops` times. */
function fcom(fpu: Fpu, i: number, quiet: boolean, pops: number): void {
  if (fpu.empty(0) || fpu.empty(i)) { fpu.underflow(); setCompare(fpu, 2); }
  else setCompare(fpu, F.compare(fpu.st(0), fpu.st(i), quiet, fpu.ctx));
  for (let k = 0; k < pops; k++) fpu.pop();
}

function fcomi(fpu: Fpu, i: number, quiet: boolean, pop: boolean): void {
  if (fpu.empty(0) || fpu.empty(i)) {
    fpu.underflow();
    fpu.setC1(false);
    fpu.kind = 'compare';
    fpu.rflags = UNORDERED_FLAGS;
  } else {
    setEflagsCompare(fpu, F.compare(fpu.st(0), fpu.st(i), quiet, fpu.ctx));
  }
  if (pop) fpu.pop();
}

/** fcmovcc: cc 0 b, 1 e, 2 be, 3 u; negated for the DB forms. */
function fcmov(fpu: Fpu, cc: number, negate: boolean, i: number): void {
  const fl = fpu.env.getFlags(fpu.cpu.base);
  const cf = (fl & FL.CF) !== 0, zf = (fl & FL.ZF) !== 0, pf = (fl & FL.PF) !== 0;
  let cond = cc === 0 ? cf : cc === 1 ? zf : cc === 2 ? cf || zf : pf;
  if (negate) cond = !cond;
  if (fpu.empty(0) || fpu.empty(i)) {
    fpu.underflow();
    fpu.setC1(false);
    fpu.set(0, F.INDEFINITE);
    return;
  }
  if (cond) fpu.set(0, fpu.st(i));
}

// D9 register forms.
regForms(1, 0, { // fld st(i)
  run: (fpu, x) => {
    const rm = x.modrm & 7;
    // An empty source (C1 = 0) takes precedence over a full stack (C1 = 1).
    const src = fpu.empty(rm) ? null : fpu.st(rm);
    if (fpu.overflows()) fpu.pushChecked(() => F.INDEFINITE);
    else fpu.push(src ?? F.INDEFINITE);
    if (!src) fpu.underflow();
    fpu.setC1((fpu.ctx.flags & C1) !== 0);
  },
});
regForms(1, 1, { // fxch st(i)
  run: (fpu, x) => {
    const rm = x.modrm & 7;
    let a = fpu.st(0), b = fpu.st(rm);
    if (fpu.empty(0) || fpu.empty(rm)) {
      fpu.underflow();
      if (fpu.empty(0)) a = F.INDEFINITE;
      if (fpu.empty(rm)) b = F.INDEFINITE;
    }
    fpu.set(0, b);
    fpu.set(rm, a);
    fpu.setC1(false);
  },
});
// D9 D0..FF (fnop, fstp1, the constants and operations on ST(0)) by ModRM; what is not listed
// takes the operations' path, whose default is #UD.
for (let m = 0xd0; m <= 0xff; m++) oneForm(1, m, { run: (fpu, x) => st0Op(fpu, x.modrm) });
oneForm(1, 0xd0, { run: () => {} }); // fnop
// fstp1 (Capstone: fstpnce), the undocumented alias of fstp st(i): with ST(0) empty it only
// pops, raising nothing (measured).
regForms(1, 3, {
  run: (fpu, x) => {
    if (!fpu.empty(0)) fpu.set(x.modrm & 7, fpu.st(0));
    fpu.setC1(false);
    fpu.pop();
  },
});
for (let m = 0xe8; m <= 0xee; m++) { // constants
  oneForm(1, m, {
    run: (fpu) => {
      fpu.pushChecked(() => loadConstant(fpu, m));
      fpu.setC1((fpu.ctx.flags & C1) !== 0);
    },
  });
}
for (const m of [0xe0, 0xe1]) { // fchs, fabs
  oneForm(1, m, {
    run: (fpu) => {
      if (fpu.empty(0)) { fpu.underflow(); fpu.set(0, F.INDEFINITE); }
      else fpu.set(0, m === 0xe0 ? F.neg(fpu.st(0)) : F.abs(fpu.st(0)));
      fpu.setC1(false);
    },
  });
}
oneForm(1, 0xe4, { // ftst
  run: (fpu) => {
    if (fpu.empty(0)) { fpu.underflow(); setCompare(fpu, 2); return; }
    setCompare(fpu, F.compare(fpu.st(0), F.ZERO, false, fpu.ctx));
  },
});
oneForm(1, 0xe5, { run: (fpu) => fxam(fpu) });
oneForm(1, 0xf6, { run: (fpu) => { fpu.top = (fpu.top - 1) & 7; fpu.setC1(false); } }); // fdecstp
oneForm(1, 0xf7, { run: (fpu) => { fpu.top = (fpu.top + 1) & 7; fpu.setC1(false); } }); // fincstp

/** The D9 operations on ST(0) (and ST(1)): f2xm1 .. fcos, sharing their stack checks. */
function st0Op(fpu: Fpu, modrm: number): void {
  const ctx = fpu.ctx;
  // Operations on ST(0) (and ST(1)).
  if (modrm === 0xf8 || modrm === 0xf5 || modrm === 0xfe || modrm === 0xff || modrm === 0xf2 || modrm === 0xfb) fpu.kind = 'partial';
  const needs2 = modrm === 0xf1 || modrm === 0xf3 || modrm === 0xf5 || modrm === 0xf8 || modrm === 0xf9 || modrm === 0xfd;
  if (fpu.empty(0) || (needs2 && fpu.empty(1))) {
    unaryUnderflow(fpu, modrm);
    return;
  }
  const a = fpu.st(0);
  // The two-result instructions on a full stack: IE + SF, C1 = 1, both results indefinite,
  // nothing computed.
  if ((modrm === 0xf4 || modrm === 0xf2 || modrm === 0xfb) && fpu.overflows()) {
    if (modrm !== 0xf4) fpu.setCC(0, C2);
    fpu.ctx.flags |= IE | SF | C1;
    fpu.set(0, F.INDEFINITE);
    fpu.push(F.INDEFINITE);
    fpu.setC1(true);
    return;
  }
  switch (modrm) {
    case 0xfa: fpu.set(0, F.sqrt(a, ctx)); break;
    case 0xfc: fpu.set(0, F.roundInt(a, ctx)); break;
    case 0xfd: fpu.set(0, F.scale(a, fpu.st(1), ctx)); break;
    case 0xf4: { // fxtract
      const [e, s] = F.xtract(a, ctx);
      fpu.set(0, e);
      fpu.push(s);
      break;
    }
    case 0xf8: case 0xf5: { // fprem, fprem1
      const r = F.prem(a, fpu.st(1), modrm === 0xf5, ctx);
      fpu.set(0, r.r);
      // NaN and invalid operands: C2 = C1 = 0, C0 and C3 unchanged (measured).
      if (r.cc === null) fpu.setCC(0, C1 | C2);
      else fpu.setCC(r.cc);
      return;
    }
    case 0xf0: fpu.set(0, T.f2xm1(a, ctx)); break;
    case 0xf1: fpu.set(1, T.fyl2x(a, fpu.st(1), ctx)); fpu.setC1((ctx.flags & C1) !== 0); fpu.pop(); return;
    case 0xf9: fpu.set(1, T.fyl2xp1(a, fpu.st(1), ctx)); fpu.setC1((ctx.flags & C1) !== 0); fpu.pop(); return;
    case 0xf3: fpu.set(1, T.fpatan(a, fpu.st(1), ctx)); fpu.setC1((ctx.flags & C1) !== 0); fpu.pop(); return;
    case 0xfe: case 0xff: { // fsin, fcos
      const r = modrm === 0xfe ? T.fsin(a, ctx) : T.fcos(a, ctx);
      if (r === null) { fpu.setCC(C2, C2 | C1); return; }
      fpu.set(0, r);
      fpu.setCC(0, C2);
      break;
    }
    case 0xf2: { // fptan: tan(x), then push 1.0 (a NaN result is pushed again instead)
      const r = T.fptan(a, ctx);
      if (r === null) { fpu.setCC(C2, C2 | C1); return; }
      fpu.setCC(0, C2);
      fpu.set(0, r);
      fpu.push(F.isNaN(r) ? r : F.ONE);
      break;
    }
    case 0xfb: { // fsincos: sin replaces ST(0), cos is pushed
      const r = T.fsincos(a, ctx);
      if (r === null) { fpu.setCC(C2, C2 | C1); return; }
      fpu.setCC(0, C2);
      fpu.set(0, r[0]);
      fpu.push(r[1]);
      break;
    }
    default: throw new Fault(6);
  }
  fpu.setC1((ctx.flags & C1) !== 0);
}

/** The masked stack-underflow response of the D9 operations on ST(0)/ST(1). */
function unaryUnderflow(fpu: Fpu, modrm: number): void {
  fpu.underflow();
  switch (modrm) {
    case 0xf1: case 0xf9: case 0xf3: // result in ST(1), pop
      fpu.set(1, F.INDEFINITE);
      fpu.pop();
      break;
    case 0xf4: case 0xf2: case 0xfb: // two results (C1 = 0 even if the stack is also full)
      fpu.set(0, F.INDEFINITE);
      fpu.push(F.INDEFINITE);
      break;
    default:
      fpu.set(0, F.INDEFINITE);
  }
  // fprem/fprem1 and the trigonometric ones clear C2; the other condition codes stay.
  if (modrm === 0xf8 || modrm === 0xf5 || modrm === 0xf2 || modrm === 0xfb || modrm === 0xfe || modrm === 0xff) fpu.setCC(0, C2);
  fpu.setC1(false);
}

function fxam(fpu: Fpu): void {
  const v = fpu.st(0);
  let cc: number;
  if (fpu.empty(0)) cc = C3 | C0;
  else {
    switch (F.classify(v)) {
      case 'unsupported': cc = 0; break;
      case 'nan': cc = C0; break;
      case 'normal': cc = C2; break;
      case 'inf': cc = C2 | C0; break;
      case 'zero': cc = C3; break;
      default: cc = C3 | C2; break; // denormal, pseudo-denormal
    }
  }
  fpu.setCC(cc | (F.sign(v) ? C1 : 0));
}

// ---- the table entries ----------------------------------------------------------------------

/** The translation of an x87 operation: a call into TypeScript (runOp). */
function emitOp(op: X87Op): EmitFn {
  return (e: Emitter, i: Insn, env: JsEnv) => {
    const x = x87Insn(i);
    e.callJs((base) => runOp(env, i, op, x, base), !op.rflags, op.ax ? 1 : 0, !!op.xmm);
    if (op.xmm) refreshPE(e); // fxrstor may have changed MXCSR.PE (sse-flags.ts)
    // An fxrstor that changed MXCSR switches SSE floating point to its precise translations
    // (sse-precise.ts; the region is left). A second op, so that the XMM registers fxrstor loaded
    // are already back in the region's locals when it leaves.
    const fp = env.fp;
    if (op.xmm && fp && !e.host.preciseFp) {
      e.callJs((base) => {
        if (!mxcsrWritten) return -1;
        mxcsrWritten = false;
        return fp.enable(base, i.addr + i.len);
      }, true, 0, false);
    }
  };
}

const WAIT: X87Op = { control: true, run: () => {} }; // only the pending-exception check
/** fxsave/fxrstor (0F AE /0 /1): 16-byte aligned operand, else #GP. */
const FXSAVE: X87Op = {
  control: true, noWait: true,
  run: (fpu, x, addr) => { if (addr % 16 !== 0) throw new Fault(VECTOR_GP); fxsave(fpu, addr, x.rexW); },
};
const FXRSTOR: X87Op = {
  control: true, noWait: true, xmm: true,
  run: (fpu, x, addr) => { if (addr % 16 !== 0) throw new Fault(VECTOR_GP); fxrstor(fpu, addr, x.rexW); },
};

/** The x87 instructions Capstone's ids name unambiguously. */
export const x87: Family = {
  wait: emitOp(WAIT),
  fxsave: emitOp(FXSAVE), fxsave64: emitOp(FXSAVE), fxrstor: emitOp(FXRSTOR), fxrstor64: emitOp(FXRSTOR),
};

/** The x87 sub-map of the instruction table: x87Key(opcode D8..DF, ModRM) -> entry. */
export function x87SubMap(): [number, InsnDef][] {
  const out: [number, InsnDef][] = [];
  for (let opc = 0; opc < 8; opc++) {
    // The memory forms (ModRM reg field 0..7), then the register forms (ModRM C0..FF).
    const modrms = [...Array(8).keys()].map((reg) => reg << 3).concat([...Array(64).keys()].map((k) => 0xc0 + k));
    for (const m of modrms) {
      const k = x87Key(0xd8 + opc, m);
      out.push([k, define(emitOp(OPS.get(k) ?? INVALID), { fpu: true })]);
    }
  }
  return out;
}

/** Runs one x87 instruction without an Emitter (test/x87). */
export function execute(env: JsEnv, i: Insn, base: number): number {
  const x = x87Insn(i);
  const op = x.opc === 9 ? WAIT : x.opc === 8 ? (((x.modrm >> 3) & 7) === 1 ? FXRSTOR : FXSAVE)
    : OPS.get(x87Key(0xd8 + x.opc, x.modrm)) ?? INVALID;
  return runOp(env, i, op, x, base);
}

/** The mnemonics the x87 entries cover (tools: test/diff's implemented set). */
export const X87_MNEMONICS = [
  'fld', 'fst', 'fstp', 'fstpnce', 'fild', 'fist', 'fistp', 'fisttp', 'fbld', 'fbstp',
  'fldz', 'fld1', 'fldpi', 'fldl2e', 'fldl2t', 'fldlg2', 'fldln2', 'fxch',
  'fadd', 'faddp', 'fiadd', 'fsub', 'fsubp', 'fsubr', 'fsubrp', 'fisub', 'fisubr',
  'fmul', 'fmulp', 'fimul', 'fdiv', 'fdivp', 'fdivr', 'fdivrp', 'fidiv', 'fidivr',
  'fchs', 'fabs', 'fsqrt', 'frndint', 'fscale', 'fxtract', 'fprem', 'fprem1',
  'fcom', 'fcomp', 'fcompp', 'fucom', 'fucomp', 'fucompp', 'ficom', 'ficomp', 'ftst', 'fxam',
  'fcomi', 'fcomip', 'fcompi', 'fucomi', 'fucomip', 'fucompi',
  'fnstsw', 'fnstcw', 'fldcw', 'fnclex', 'fninit', 'fnstenv', 'fldenv', 'fnsave', 'frstor',
  'ffree', 'ffreep', 'fincstp', 'fdecstp', 'wait', 'fwait', 'fnop',
  'feni8087_nop', 'fdisi8087_nop', 'fsetpm',
  'fcmovb', 'fcmove', 'fcmovbe', 'fcmovu', 'fcmovnb', 'fcmovne', 'fcmovnbe', 'fcmovnu',
  'f2xm1', 'fyl2x', 'fyl2xp1', 'fptan', 'fpatan', 'fsin', 'fcos', 'fsincos',
  'fxsave', 'fxrstor', 'fxsave64', 'fxrstor64',
];
