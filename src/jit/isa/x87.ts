import type { Emitter, JsEnv } from '../emitter.js';
import { isFastMxcsr, refreshPE } from './sse-flags.js';
import { Unsupported } from '../emitter.js';
import type { Insn, MemOperand } from '../../decoder/ir.js';
import type { CpuState } from '../../vmx/cpu.js';
import type { EmitFn, Family } from './types.js';
import { CPU } from '../layout.js';
import { F_CF, F_PF, F_ZF } from '../flags.js';
import * as F from '../softfloat/f80.js';
import type { Ctx, F80 } from '../softfloat/f80.js';
import * as T from '../softfloat/trans.js';

/**
 * The x87 FPU, executed in TypeScript (through Emitter.callJs) on the exact softfloat of
 * softfloat/f80.ts. Instructions are decoded from their bytes (opcode D8..DF + ModRM), not from
 * Capstone's names, which are ambiguous for x87 (Capstone calls `faddp st(i)` "fadd", for one);
 * Capstone's memory operand still supplies the effective address.
 *
 * State lives in the CPU block (jit/layout.ts): fpr[8] (physical registers, 80-bit values in
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
 * test/x87 compares everything else against the hardware.
 */

const IE = F.IE, DE = F.DE, ZE = F.ZE, SF = F.SF, C0 = F.C0, C1 = F.C1, C2 = F.C2, C3 = F.C3;
const EXC = 0x3f;
const CC = C0 | C1 | C2 | C3;
const EXIT_EXCEPTION = 2; // Exit.Exception (vmx/exits.ts)
// The state words are read and written in pairs (see Fpu).
if (CPU.fpCw !== CPU.fpTop + 4 || CPU.fpTag !== CPU.fpSw + 4) throw new Error('x87: CPU layout of the FPU words changed');
const VECTOR_GP = 13, VECTOR_MF = 16;

/** One decoded x87 instruction: the opcode byte's low 3 bits and the ModRM byte. */
interface Decoded {
  /** 0..7 for D8..DF; 8 for 0F AE (fxsave/fxrstor); 9 for 9B (wait). */
  opc: number;
  modrm: number;
  mem: MemOperand | null;
  /** 0x66 prefix (16-bit fnstenv/fnsave formats). */
  opsize: boolean;
  rexW: boolean;
}

const LEGACY_PREFIXES = new Set([0x66, 0x67, 0xf0, 0xf2, 0xf3, 0x2e, 0x36, 0x3e, 0x26, 0x64, 0x65]);

function decode(i: Insn): Decoded {
  const b = i.bytes;
  let k = 0;
  while (k < b.length && LEGACY_PREFIXES.has(b[k])) k++;
  if (k < b.length && (b[k] & 0xf0) === 0x40) k++;
  const mem = (i.ops.find((o) => o.kind === 'mem') as MemOperand | undefined) ?? null;
  const base = { mem, opsize: i.opsize, rexW: i.rexW };
  if (b[k] === 0x9b) return { opc: 9, modrm: 0, ...base };
  if (b[k] === 0x0f && b[k + 1] === 0xae) return { opc: 8, modrm: b[k + 2], ...base };
  if (b[k] >= 0xd8 && b[k] <= 0xdf) return { opc: b[k] - 0xd8, modrm: b[k + 1], ...base };
  throw new Unsupported(`not an x87 encoding: ${i.text}`);
}

/** Instructions that do not update FIP/FDP/FOP (the "control" instructions). */
function isControl(d: Decoded): boolean {
  const { opc, modrm } = d;
  if (opc >= 8) return true;
  const reg = (modrm >> 3) & 7;
  if (modrm < 0xc0) {
    if (opc === 1 && reg >= 4) return true; // fldenv fldcw fnstenv fnstcw
    if (opc === 5 && (reg === 4 || reg === 6 || reg === 7)) return true; // frstor fnsave fnstsw
    return false;
  }
  return (opc === 3 && (modrm === 0xe2 || modrm === 0xe3)) || (opc === 7 && modrm === 0xe0);
}

/** Non-waiting instructions: they do not raise a pending unmasked exception. */
function isNoWait(d: Decoded): boolean {
  const { opc, modrm } = d;
  if (opc === 8) return true; // fxsave/fxrstor
  if (opc === 9) return false;
  const reg = (modrm >> 3) & 7;
  if (modrm < 0xc0) return (opc === 1 && (reg === 6 || reg === 7)) || (opc === 5 && (reg === 6 || reg === 7));
  return (opc === 3 && (modrm === 0xe2 || modrm === 0xe3 || modrm === 0xe0 || modrm === 0xe1 || modrm === 0xe4))
    || (opc === 7 && modrm === 0xe0);
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
  commit(d: Decoded, i: Insn, addr: number): void {
    const cpu = this.cpu;
    const flags = this.ctx.flags;
    const cw = this.newCw ?? this.cw;
    const unmasked = flags & ~this.cw & (IE | DE | ZE);
    if (!isControl(d)) {
      cpu.setU64(CPU.fpIp, BigInt(i.addr));
      cpu.setU32(CPU.fpOp, ((d.opc & 7) << 8) | d.modrm);
      if (d.mem) cpu.setU64(CPU.fpDp, BigInt(addr));
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
  fpu.rflags = o === 2 ? F_ZF | F_PF | F_CF : o === 0 ? F_ZF : o < 0 ? F_CF : 0;
}

const UNORDERED_FLAGS = F_ZF | F_PF | F_CF;

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

/** Set when an fxrstor left MXCSR's fast control (see emit: the switch to precise SSE floating point). */
let mxcsrWritten = false;

/** Runs one x87 instruction on CPU `base`. Returns -1, or an Exit code (#MF, #GP). */
export function execute(env: JsEnv, i: Insn, d: Decoded, base: number): number {
  const cpu = env.cpu(base);
  const fpu = new Fpu(cpu, env);
  if (!isNoWait(d) && (fpu.sw & ~fpu.cw & EXC) !== 0) return raise(cpu, i, VECTOR_MF);
  const addr = d.mem ? effAddr(cpu, d.mem) : 0;
  const mxcsr = cpu.u32(CPU.mxcsr);
  try {
    run(fpu, d, addr);
  } catch (e) {
    if (e instanceof Fault) return raise(cpu, i, e.vector);
    throw e;
  }
  fpu.commit(d, i, addr);
  if (cpu.u32(CPU.mxcsr) !== mxcsr && !isFastMxcsr(cpu.u32(CPU.mxcsr))) mxcsrWritten = true;
  return -1;
}

function raise(cpu: CpuState, i: Insn, vector: number): number {
  cpu.rip = BigInt(i.addr);
  cpu.setU64(CPU.exitInsn, BigInt(i.addr));
  cpu.setU64(CPU.exitArg, BigInt(vector));
  return EXIT_EXCEPTION;
}

function run(fpu: Fpu, d: Decoded, addr: number): void {
  const { opc, modrm } = d;
  const ctx = fpu.ctx;
  const reg = (modrm >> 3) & 7;
  const rm = modrm & 7;
  const mem = fpu.env.mem;
  if (opc === 9) return; // wait: only the pending-exception check
  if (opc === 8) {
    if (addr % 16 !== 0) throw new Fault(VECTOR_GP);
    if (reg === 0) fxsave(fpu, addr, d.rexW);
    else if (reg === 1) fxrstor(fpu, addr, d.rexW);
    else throw new Fault(6);
    return;
  }
  if (modrm < 0xc0) {
    // ---- memory forms ----
    switch (opc) {
      case 0: case 2: case 4: case 6: {
        // Arithmetic and compares with an m32/m64 real or m32/m16 integer operand.
        const src = memOperand(fpu, opc, addr);
        if (reg === 2 || reg === 3) {
          if (fpu.empty(0)) { setCompare(fpu, 2); fpu.underflow(); }
          else setCompare(fpu, F.compare(fpu.st(0), src.v, false, ctx, src.denormal));
          if (reg === 3) fpu.pop();
          return;
        }
        if (fpu.empty(0)) { fpu.underflow(); fpu.set(0, F.INDEFINITE); fpu.setC1(false); return; }
        fpu.set(0, arith(reg as Arith, fpu.st(0), src.v, ctx, src.denormal));
        finishArith(fpu);
        return;
      }
      case 1:
        switch (reg) {
          case 0: { // fld m32
            fpu.kind = 'load';
            const bits = Number(leU(mem.read(addr, 4), 0, 4));
            fpu.pushChecked(() => F.fromF32(bits, ctx));
            fpu.setC1((ctx.flags & C1) !== 0);
            return;
          }
          case 2: case 3: { // fst/fstp m32
            let bits: bigint;
            if (fpu.empty(0)) { fpu.underflow(); bits = 0xffc00000n; } else bits = BigInt(F.toF32(fpu.st(0), ctx));
            fpu.store(addr, leBytes(4, bits));
            fpu.setC1((ctx.flags & C1) !== 0);
            if (reg === 3) fpu.pop();
            return;
          }
          case 4: loadEnv(fpu, mem.read(addr, d.opsize ? 14 : 28), d.opsize); return; // fldenv
          case 5: fpu.newCw = (Number(leU(mem.read(addr, 2), 0, 2)) & 0x1f3f) | 0x40; return; // fldcw
          case 6: // fnstenv, then mask all exceptions
            fpu.store(addr, envImage(fpu, d.opsize));
            fpu.newCw = fpu.cw | EXC;
            return;
          case 7: fpu.store(addr, leBytes(2, BigInt(fpu.cw))); return; // fnstcw
          default: throw new Fault(6);
        }
      case 3:
        switch (reg) {
          case 0: { // fild m32
            const v = F.fromInt(BigInt.asIntN(32, leU(mem.read(addr, 4), 0, 4)));
            fpu.pushChecked(() => v);
            fpu.setC1((ctx.flags & C1) !== 0);
            return;
          }
          case 1: case 2: case 3: fist(fpu, addr, 32, reg); return;
          case 5: { // fld m80: raw
            const v = F.fromBytes(mem.read(addr, 10));
            fpu.pushChecked(() => v);
            fpu.setC1((ctx.flags & C1) !== 0);
            return;
          }
          case 7: { // fstp m80: raw
            let v: F80;
            if (fpu.empty(0)) { fpu.underflow(); v = F.INDEFINITE; } else v = fpu.st(0);
            fpu.store(addr, F.toBytes(v));
            fpu.setC1(false);
            fpu.pop();
            return;
          }
          default: throw new Fault(6);
        }
      case 5:
        switch (reg) {
          case 0: { // fld m64
            fpu.kind = 'load';
            const bits = leU(mem.read(addr, 8), 0, 8);
            fpu.pushChecked(() => F.fromF64(bits, ctx));
            fpu.setC1((ctx.flags & C1) !== 0);
            return;
          }
          case 1: fist(fpu, addr, 64, reg); return; // fisttp m64
          case 2: case 3: { // fst/fstp m64
            let bits: bigint;
            if (fpu.empty(0)) { fpu.underflow(); bits = 0xfff8000000000000n; } else bits = F.toF64(fpu.st(0), ctx);
            fpu.store(addr, leBytes(8, bits));
            fpu.setC1((ctx.flags & C1) !== 0);
            if (reg === 3) fpu.pop();
            return;
          }
          case 4: { // frstor
            const small = d.opsize;
            const n = small ? 14 : 28;
            const b = mem.read(addr, n + 80);
            loadEnv(fpu, b, small);
            for (let k = 0; k < 8; k++) fpu.setPhys(fpu.phys(k), F.fromBytes(b, n + 10 * k));
            return;
          }
          case 6: { // fnsave, then fninit
            const env = envImage(fpu, d.opsize);
            const b = new Uint8Array(env.length + 80);
            b.set(env);
            for (let k = 0; k < 8; k++) F.toBytes(fpu.st(k), b, env.length + 10 * k);
            fpu.store(addr, b);
            initState(fpu);
            return;
          }
          case 7: fpu.store(addr, leBytes(2, BigInt(fpu.statusWord()))); return; // fnstsw m16
          default: throw new Fault(6);
        }
      case 7:
        switch (reg) {
          case 0: { // fild m16
            const v = F.fromInt(BigInt.asIntN(16, leU(mem.read(addr, 2), 0, 2)));
            fpu.pushChecked(() => v);
            fpu.setC1((ctx.flags & C1) !== 0);
            return;
          }
          case 1: case 2: case 3: fist(fpu, addr, 16, reg); return;
          case 4: { // fbld
            const v = fromBcd(mem.read(addr, 10));
            fpu.pushChecked(() => v);
            fpu.setC1((ctx.flags & C1) !== 0);
            return;
          }
          case 5: { // fild m64
            const v = F.fromInt(BigInt.asIntN(64, leU(mem.read(addr, 8), 0, 8)));
            fpu.pushChecked(() => v);
            fpu.setC1((ctx.flags & C1) !== 0);
            return;
          }
          case 6: { // fbstp
            let b: Uint8Array;
            if (fpu.empty(0)) { fpu.underflow(); b = BCD_INDEFINITE; } else b = toBcd(fpu.st(0), ctx);
            fpu.store(addr, b);
            fpu.setC1((ctx.flags & C1) !== 0);
            fpu.pop();
            return;
          }
          case 7: fist(fpu, addr, 64, 3); return; // fistp m64
          default: throw new Fault(6);
        }
      default: throw new Fault(6);
    }
  }
  // ---- register forms ----
  switch (opc) {
    case 0: // D8: st0 = st0 op st(i); fcom/fcomp st(i)
      if (reg === 2 || reg === 3) { fcom(fpu, rm, false, reg === 3 ? 1 : 0); return; }
      binaryStack(fpu, reg as Arith, 0, rm, false);
      return;
    case 4: // DC: st(i) = st(i) op st0 (sub/div reversed in the encoding)
      if (reg === 2 || reg === 3) throw new Fault(6);
      binaryStack(fpu, (reg >= 4 ? reg ^ 1 : reg) as Arith, rm, 0, false);
      return;
    case 6: // DE: ...p forms
      if (reg === 3 && rm === 1) { fcom(fpu, 1, false, 2); return; } // fcompp
      if (reg === 2 || reg === 3) throw new Fault(6);
      binaryStack(fpu, (reg >= 4 ? reg ^ 1 : reg) as Arith, rm, 0, true);
      return;
    case 1: d9(fpu, modrm); return;
    case 2:
      if (reg < 4) { fcmov(fpu, reg, false, rm); return; }
      if (modrm === 0xe9) { fcom(fpu, 1, true, 2); return; } // fucompp
      throw new Fault(6);
    case 3:
      if (reg < 4) { fcmov(fpu, reg, true, rm); return; }
      if (reg === 5) { fcomi(fpu, rm, true, false); return; }
      if (reg === 6) { fcomi(fpu, rm, false, false); return; }
      switch (modrm) {
        case 0xe0: case 0xe1: case 0xe4: return; // feni/fdisi/fsetpm: no-ops since the 387
        case 0xe2: fpu.sw &= ~(EXC | SF); fpu.ctx.flags = 0; return; // fnclex
        case 0xe3: initState(fpu); return; // fninit
        default: throw new Fault(6);
      }
    case 5:
      switch (reg) {
        case 0: fpu.tag &= ~(1 << fpu.phys(rm)); fpu.setC1(false); return; // ffree
        case 2: case 3: { // fst/fstp st(i)
          let v: F80;
          if (fpu.empty(0)) { fpu.underflow(); v = F.INDEFINITE; } else v = fpu.st(0);
          fpu.set(rm, v);
          fpu.setC1(false);
          if (reg === 3) fpu.pop();
          return;
        }
        case 4: fcom(fpu, rm, true, 0); return; // fucom
        case 5: fcom(fpu, rm, true, 1); return; // fucomp
        default: throw new Fault(6);
      }
    case 7:
      if (modrm === 0xe0) { fpu.ax = fpu.statusWord(); return; } // fnstsw ax
      if (reg === 0) { fpu.tag &= ~(1 << fpu.phys(rm)); fpu.setC1(false); fpu.pop(); return; } // ffreep
      if (reg === 5) { fcomi(fpu, rm, true, true); return; }
      if (reg === 6) { fcomi(fpu, rm, false, true); return; }
      throw new Fault(6);
    default:
      throw new Fault(6);
  }
}

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
  const cf = (fl & F_CF) !== 0, zf = (fl & F_ZF) !== 0, pf = (fl & F_PF) !== 0;
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

/** D9 register forms. */
function d9(fpu: Fpu, modrm: number): void {
  const ctx = fpu.ctx;
  const rm = modrm & 7;
  if (modrm < 0xc8) { // fld st(i)
    // An empty source (C1 = 0) takes precedence over a full stack (C1 = 1).
    const src = fpu.empty(rm) ? null : fpu.st(rm);
    if (fpu.overflows()) fpu.pushChecked(() => F.INDEFINITE);
    else fpu.push(src ?? F.INDEFINITE);
    if (!src) fpu.underflow();
    fpu.setC1((fpu.ctx.flags & C1) !== 0);
    return;
  }
  if (modrm < 0xd0) { // fxch st(i)
    let a = fpu.st(0), b = fpu.st(rm);
    if (fpu.empty(0) || fpu.empty(rm)) {
      fpu.underflow();
      if (fpu.empty(0)) a = F.INDEFINITE;
      if (fpu.empty(rm)) b = F.INDEFINITE;
    }
    fpu.set(0, b);
    fpu.set(rm, a);
    fpu.setC1(false);
    return;
  }
  if (modrm === 0xd0) return; // fnop
  if (modrm >= 0xd8 && modrm < 0xe0) {
    // fstp1 (Capstone: fstpnce), the undocumented alias of fstp st(i): with ST(0) empty it only
    // pops, raising nothing (measured).
    if (!fpu.empty(0)) fpu.set(rm, fpu.st(0));
    fpu.setC1(false);
    fpu.pop();
    return;
  }
  if (modrm >= 0xe8 && modrm <= 0xee) { // constants
    fpu.pushChecked(() => loadConstant(fpu, modrm));
    fpu.setC1((ctx.flags & C1) !== 0);
    return;
  }
  switch (modrm) {
    case 0xe0: case 0xe1: // fchs, fabs
      if (fpu.empty(0)) { fpu.underflow(); fpu.set(0, F.INDEFINITE); }
      else fpu.set(0, modrm === 0xe0 ? F.neg(fpu.st(0)) : F.abs(fpu.st(0)));
      fpu.setC1(false);
      return;
    case 0xe4: // ftst
      if (fpu.empty(0)) { fpu.underflow(); setCompare(fpu, 2); return; }
      setCompare(fpu, F.compare(fpu.st(0), F.ZERO, false, ctx));
      return;
    case 0xe5: fxam(fpu); return;
    case 0xf6: fpu.top = (fpu.top - 1) & 7; fpu.setC1(false); return; // fdecstp
    case 0xf7: fpu.top = (fpu.top + 1) & 7; fpu.setC1(false); return; // fincstp
    default: break;
  }
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

// ---- the family ---------------------------------------------------------------------------

const emit: EmitFn = (e: Emitter, i: Insn, env: JsEnv) => {
  const d = decode(i);
  // Only fcomi/fucomi (DB/DF E8..F7) write RFLAGS, and only fnstsw ax (DF E0) a GPR.
  const setsFlags = (d.opc === 3 || d.opc === 7) && d.modrm >= 0xe8 && d.modrm < 0xf8;
  const writesAx = d.opc === 7 && d.modrm === 0xe0;
  // fxrstor (0F AE /1) loads the XMM registers too.
  const writesXmm = d.opc === 8 && ((d.modrm >> 3) & 7) === 1;
  e.callJs((base) => execute(env, i, d, base), !setsFlags, writesAx ? 1 : 0, writesXmm);
  if (writesXmm) refreshPE(e); // fxrstor may have changed MXCSR.PE (sse-flags.ts)
  // An fxrstor that changed MXCSR switches SSE floating point to its precise translations
  // (sse-precise.ts; the region is left). A second op, so that the XMM registers fxrstor loaded
  // are already back in the region's locals when it leaves.
  const fp = env.fp;
  if (writesXmm && fp && !fp.precise) {
    e.callJs((base) => {
      if (!mxcsrWritten) return -1;
      mxcsrWritten = false;
      return fp.enable(base, i.addr + i.len);
    }, true, 0, false);
  }
};

const NAMES = [
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

export const x87: Family = Object.fromEntries(NAMES.map((n) => [n, emit]));

/** For tests: decode + execute without an Emitter. */
export function decodeX87(i: Insn): Decoded {
  return decode(i);
}
export type { Decoded as X87Decoded };
