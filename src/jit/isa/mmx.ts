import { CPU } from '../../core/layout.js';
import { Vector } from '../../core/exits.js';
import type { Emitter } from '../emitter.js';
import { Unsupported } from '../emitter.js';
import type { Insn, Operand, RegOperand } from '../../decoder/ir.js';
import type { CpuState } from '../../core/cpu-state.js';
import { T, type Fn } from '../wasm/encoder.js';
import * as S from '../softfloat/ieee.js';
import type { EmitFn, Family } from './types.js';
import { commitFlags, raiseXM } from './sse-precise.js';

/**
 * MMX (and the MMX forms of SSE, SSE2 and SSSE3), on the x87 register file as on the hardware:
 * MMX register i is the 64-bit significand of physical x87 register i (CPU.fpr + 16 i). Every
 * MMX instruction first raises a pending unmasked x87 exception (#MF, like a waiting x87
 * instruction), then runs and makes the FPU "MMX-valid": TOP = 0 and all eight tags valid. A
 * write of an MMX register also sets bits 64-79 of the x87 register (sign and exponent) to ones.
 * emms empties the tag word. The x87 state stays in the CPU block (x87.ts reads it there), so
 * these instructions work on memory, not on locals; arithmetic is Wasm SIMD on an i64x2 splat
 * of the operands (lane 0 is the result), or on [dst, src] in one vector for the instructions
 * that combine both (packs, horizontal adds, palignr).
 *
 * The state changes at the end of the instruction: a faulting memory operand leaves the FPU and
 * the MMX registers untouched.
 *
 * The float conversions (cvtpi2ps cvtpi2pd cvtps2pi cvttps2pi cvtpd2pi cvttpd2pi) always run on
 * the exact softfloat (softfloat/ieee.ts): MXCSR rounding, DAZ, and the exception flags (and #XM
 * when unmasked), in both of sse-precise.ts's modes.
 */

const mmOff = (n: number) => CPU.fpr + 16 * n;
export const isMm = (o: Operand | undefined): o is RegOperand & { file: 'mm' } => o !== undefined && o.kind === 'reg' && o.file === 'mm';
const isXmm = (o: Operand): o is RegOperand & { file: 'xmm' } => o.kind === 'reg' && o.file === 'xmm';
const imm8 = (o: Operand) => Number((o as { value: bigint }).value & 0xffn);

/** Whether an instruction names an MMX register (what tells the MMX form of a shared name apart). */
export function usesMm(i: Insn): boolean {
  return i.ops.some((o) => isMm(o));
}

// ---- the x87 side ----------------------------------------------------------------------------

/** #MF if the x87 status word holds an exception its control word leaves unmasked. */
function mfCheck(e: Emitter): void {
  const f = e.f;
  f.get(e.cpu).i32_load(CPU.fpSw).get(e.cpu).i32_load(CPU.fpCw).i32(-1).i32_xor().i32_and().i32(0x3f).i32_and().if_();
  e.raise(Vector.MF);
  f.end();
}

/** The MMX transition at the end of an instruction: TOP = 0, all registers valid. */
function toMmx(e: Emitter): void {
  e.st32c(CPU.fpTop, 0);
  e.st32c(CPU.fpTag, 0xff);
}

/** Pushes MMX register n. */
function getMm(e: Emitter, n: number): void {
  e.f.get(e.cpu).i64_load(mmOff(n));
}

/** MMX register n = i64 local v (and its x87 sign/exponent = 0xffff). */
function setMm(e: Emitter, n: number, v: number): void {
  const f = e.f;
  f.get(e.cpu).get(v).i64_store(mmOff(n));
  f.get(e.cpu).i32(0xffff).i32_store16(mmOff(n) + 8);
}

function mmDest(o: Operand): number {
  if (!isMm(o)) throw new Unsupported(`MMX destination ${o.kind}`);
  return o.n;
}

/** Pushes the low `size` bytes of an operand as i64: an MMX register, memory, a GPR, an XMM register's low qword. */
function loadQ(e: Emitter, o: Operand, size = 8): void {
  if (isMm(o)) { getMm(e, o.n); return; }
  if (isXmm(o)) { e.f.get(e.xmm(o.n)).lane(29, 0); return; }
  if (o.kind === 'mem' || (o.kind === 'reg' && o.file === 'gpr')) { e.read(o, size); return; }
  throw new Unsupported(`MMX operand ${o.kind}`);
}

// ---- instruction shapes ----------------------------------------------------------------------

type Body = (f: Fn, a: number, b: number) => void;

/**
 * mm = body(dst, src): `a` and `b` are v128 locals holding the destination and the source in
 * both i64 lanes; the body leaves a v128 whose lane 0 is the result. `srcSize`: the memory
 * operand's width (punpckl*: 4 bytes).
 */
function vop(body: Body, srcSize = 8): EmitFn {
  return (e, i) => {
    const d = i.ops[0], s = i.ops[1];
    const n = mmDest(d);
    const f = e.f;
    mfCheck(e);
    const a = f.temp(T.v128), b = f.temp(T.v128);
    loadQ(e, s, s.kind === 'mem' ? srcSize : 8); f.simd(18).set(b);
    getMm(e, n); f.simd(18).set(a);
    body(f, a, b);
    const r = e.tmp64();
    f.lane(29, 0).set(r);
    setMm(e, n, r);
    toMmx(e);
    e.free64(r);
    f.free(T.v128, a); f.free(T.v128, b);
  };
}

/** A single Wasm SIMD instruction, lane by lane. */
const lanes = (op: number): EmitFn => vop((f, a, b) => { f.get(a).get(b).simd(op); });

/**
 * mm = body(c): `c` is a v128 local holding [dst, src] (srcLow: [src, dst]); the body leaves a
 * v128 whose lane 0 is the result.
 */
function combined(body: (f: Fn, c: number) => void, srcLow = false): EmitFn {
  return (e, i) => {
    const d = i.ops[0], s = i.ops[1];
    const n = mmDest(d);
    const f = e.f;
    mfCheck(e);
    const src = e.tmp64();
    loadQ(e, s); f.set(src);
    const c = f.temp(T.v128);
    if (srcLow) { f.get(src).simd(18); getMm(e, n); } else { getMm(e, n); f.simd(18).get(src); }
    f.lane(30, 1).set(c);
    body(f, c);
    const r = e.tmp64();
    f.lane(29, 0).set(r);
    setMm(e, n, r);
    toMmx(e);
    e.free64(r, src);
    f.free(T.v128, c);
  };
}

/** mm = body(dst, src) on i64 values (the body leaves an i64). */
function scalar(body: (f: Fn, a: number, b: number) => void): EmitFn {
  return (e, i) => {
    const d = i.ops[0], s = i.ops[1];
    const n = mmDest(d);
    const f = e.f;
    mfCheck(e);
    const a = e.tmp64(), b = e.tmp64(), r = e.tmp64();
    loadQ(e, s); f.set(b);
    getMm(e, n); f.set(a);
    body(f, a, b);
    f.set(r);
    setMm(e, n, r);
    toMmx(e);
    e.free64(a, b, r);
  };
}

/**
 * Shifts by an immediate or by the 64-bit count in an MMX register / m64: counts above the lane
 * width give 0 (logical) or all sign bits (arithmetic). `op` is the i16x8/i32x4/i64x2 shift.
 */
function shift(bits: number, op: number, arith: boolean): EmitFn {
  return (e, i) => {
    const d = i.ops[0], s = i.ops[1];
    const n = mmDest(d);
    const f = e.f;
    mfCheck(e);
    const r = e.tmp64();
    if (s.kind === 'imm') {
      const c = imm8(s);
      if (c > bits - 1 && !arith) f.i64(0);
      else { getMm(e, n); f.simd(18).i32(Math.min(c, bits - 1)).simd(op).lane(29, 0); }
    } else {
      const c = e.tmp64();
      loadQ(e, s); f.set(c);
      f.get(c).i64(bits - 1).i64_gt_u().if_(T.i64);
      if (arith) { getMm(e, n); f.simd(18).i32(bits - 1).simd(op).lane(29, 0); } else f.i64(0);
      f.else_();
      getMm(e, n); f.simd(18).get(c).i32_wrap_i64().simd(op).lane(29, 0);
      f.end();
      e.free64(c);
    }
    f.set(r);
    setMm(e, n, r);
    toMmx(e);
    e.free64(r);
  };
}

/** Byte lanes of elements `idx` of `w` bytes (0..: the first vector, 16/w..: the second). */
const elems = (w: number, idx: number[]) => idx.flatMap((k) => Array.from({ length: w }, (_, b) => k * w + b));

/** punpckl/h: interleave `w`-byte elements of the low (or high) halves of dst and src. */
function unpack(w: number, high: boolean): EmitFn {
  const lanes16: number[] = [];
  const start = high ? 4 : 0;
  for (let k = 0; k < 4 / w; k++) {
    for (let b = 0; b < w; b++) lanes16.push(start + k * w + b);
    for (let b = 0; b < w; b++) lanes16.push(16 + start + k * w + b);
  }
  while (lanes16.length < 16) lanes16.push(0);
  return vop((f, a, b) => { f.get(a).get(b).shuffle(lanes16); }, high ? 8 : 4);
}

/** packsswb/packuswb/packssdw: saturate dst's then src's elements into one qword. */
const pack = (op: number): EmitFn => combined((f, c) => { f.get(c).get(c).simd(op); });

/** phadd/phsub (w, d, sw): dst's adjacent pairs into the low half, src's into the high half. */
function horizontal(w: 2 | 4, op: number): EmitFn {
  const k = 8 / w; // elements per qword
  const even = Array.from({ length: 16 / w }, (_, j) => (2 * j) % (2 * k));
  const odd = even.map((x) => x + 1);
  return combined((f, c) => {
    f.get(c).get(c).shuffle(elems(w, even));
    f.get(c).get(c).shuffle(elems(w, odd));
    f.simd(op);
  });
}

const splat8 = (v: number) => new Uint8Array(16).fill(v & 0xff);
function splat16(v: number): Uint8Array {
  const b = new Uint8Array(16);
  for (let k = 0; k < 16; k += 2) { b[k] = v & 0xff; b[k + 1] = (v >> 8) & 0xff; }
  return b;
}
const ZERO = new Uint8Array(16);

/** psign (b, w, d): dst negated where src < 0, zeroed where src == 0. `ops`: [sub, lt_s, eq]. */
function psign([sub, lt, eq]: [number, number, number]): EmitFn {
  return vop((f, a, b) => {
    f.v128_const(ZERO).get(a).simd(sub);
    f.get(a);
    f.get(b).v128_const(ZERO).simd(lt);
    f.simd(82); // bitselect(-dst, dst, src < 0)
    f.get(b).v128_const(ZERO).simd(eq);
    f.simd(79); // andnot: & ~(src == 0)
  });
}

/** pshufw: word k = src word (imm >> 2k) & 3. */
const pshufw: EmitFn = (e, i, env) => {
  const m = imm8(i.ops[2]);
  const lanes16: number[] = [];
  for (let k = 0; k < 4; k++) { const w = (m >> (2 * k)) & 3; lanes16.push(2 * w, 2 * w + 1); }
  while (lanes16.length < 16) lanes16.push(0);
  vop((f, _a, b) => { f.get(b).get(b).shuffle(lanes16); })(e, i, env);
};

/** palignr: the 16-byte dst:src shifted right by imm bytes, low 8 bytes kept. */
const palignr: EmitFn = (e, i, env) => {
  const n = imm8(i.ops[2]);
  const lanes16: number[] = [];
  for (let k = 0; k < 16; k++) lanes16.push(k + n < 16 ? k + n : 16);
  combined((f, c) => {
    if (n >= 16) f.v128_const(ZERO);
    else f.get(c).v128_const(ZERO).shuffle(lanes16);
  }, true)(e, i, env);
};

// ---- moves -----------------------------------------------------------------------------------

/**
 * movd/movq: to an MMX register (zero-extended) or from one (to a GPR or memory). The width is
 * the GPR or memory operand's: Capstone names the REX.W forms (0F 6E/7E) "movd" with 8-byte
 * operands, so the mnemonic alone does not tell 4 from 8.
 */
function mov(dflt: 4 | 8): EmitFn {
  return (e, i) => {
    const d = i.ops[0], s = i.ops[1];
    const f = e.f;
    const other = isMm(d) ? s : d;
    const size = other.kind === 'mem' || (other.kind === 'reg' && other.file === 'gpr') ? other.size : dflt;
    mfCheck(e);
    const v = e.tmp64();
    loadQ(e, s, size); f.set(v);
    if (isMm(d)) setMm(e, d.n, v);
    else e.write(d, v, size);
    toMmx(e);
    e.free64(v);
  };
}

/** pextrw r32, mm, imm8. */
const pextrw: EmitFn = (e, i) => {
  const d = i.ops[0], s = i.ops[1], k = i.ops[2];
  const f = e.f;
  mfCheck(e);
  const v = e.tmp64();
  loadQ(e, s); f.i64(BigInt(16 * (imm8(k) & 3))).i64_shr_u().i64(0xffff).i64_and().set(v);
  e.write(d, v, d.size);
  toMmx(e);
  e.free64(v);
};

/** pinsrw mm, r32/m16, imm8. */
const pinsrw: EmitFn = (e, i) => {
  const d = i.ops[0], s = i.ops[1], k = i.ops[2];
  const n = mmDest(d);
  const f = e.f;
  mfCheck(e);
  const w = e.tmp64(), r = e.tmp64();
  e.read(s, 2); f.set(w);
  const sh = BigInt(16 * (imm8(k) & 3));
  getMm(e, n); f.i64(~(0xffffn << sh)).i64_and().get(w).i64(0xffff).i64_and().i64(sh).i64_shl().i64_or().set(r);
  setMm(e, n, r);
  toMmx(e);
  e.free64(w, r);
};

/** pmovmskb r32, mm: the bytes' sign bits. */
const pmovmskb: EmitFn = (e, i) => {
  const d = i.ops[0], s = i.ops[1];
  const f = e.f;
  mfCheck(e);
  const v = e.tmp64();
  loadQ(e, s); f.simd(18).simd(100).i32(0xff).i32_and().i64_extend_i32_u().set(v);
  e.write(d, v, d.size);
  toMmx(e);
  e.free64(v);
};

/** maskmovq mm1, mm2: the bytes of mm1 whose mm2 byte has bit 7 set, stored at ds:rdi (edi with 0x67). */
const maskmovq: EmitFn = (e, i) => {
  const d = i.ops[0], s = i.ops[1];
  if (!isMm(d) || !isMm(s)) throw new Unsupported('maskmovq operands');
  const f = e.f;
  mfCheck(e);
  let k = 0;
  while (i.bytes[k] !== 0x0f) k++;
  const addr32 = i.bytes.subarray(0, k).includes(0x67);
  const data = e.tmp64(), mask = e.tmp64(), ea = e.tmp64(), byte = e.tmp64();
  getMm(e, d.n); f.set(data);
  getMm(e, s.n); f.set(mask);
  for (let b = 0; b < 8; b++) {
    f.get(mask).i64(BigInt(8 * b + 7)).i64_shr_u().i64(1).i64_and().i32_wrap_i64().if_();
    e.gpr(7);
    if (b) f.i64(b).i64_add();
    if (addr32) f.i64(0xffffffff).i64_and();
    f.set(ea);
    f.get(data).i64(BigInt(8 * b)).i64_shr_u().set(byte);
    e.store(ea, 1, byte);
    f.end();
  }
  toMmx(e);
  e.free64(data, mask, ea, byte);
};

/** movq2dq xmm, mm: the xmm register = the MMX register zero-extended. */
const movq2dq: EmitFn = (e, i) => {
  const d = i.ops[0], s = i.ops[1];
  if (!isXmm(d) || !isMm(s)) throw new Unsupported('movq2dq operands');
  mfCheck(e);
  getMm(e, s.n);
  e.f.i64x2Splat0().set(e.xmm(d.n));
  e.xmmDirty(d.n);
  toMmx(e);
};

/**
 * emms: every tag empty. The SDM names only the tag word; the AMD CPU the differential tester
 * compares against also sets TOP to 0, and usmjit follows it.
 */
const emms: EmitFn = (e) => {
  mfCheck(e);
  e.st32c(CPU.fpTop, 0);
  e.st32c(CPU.fpTag, 0);
};

// ---- float conversions (exact, in TypeScript) ------------------------------------------------

const M32 = 0xffff_ffffn;

/**
 * Stages a conversion's source where TypeScript reads it: an MMX or XMM register stays in the CPU
 * block (callJs writes cached XMM registers back), memory is loaded by emitted code (TLB path,
 * faults, the m128 alignment check) into CPU.scratch. Returns the reader of its low 128 bits.
 */
function stage(e: Emitter, s: Operand, memSize: 8 | 16): (cpu: CpuState) => bigint {
  const f = e.f;
  if (isMm(s)) { const off = mmOff(s.n); return (cpu) => cpu.u64(off); }
  if (isXmm(s)) { const off = CPU.xmm + 16 * s.n; return (cpu) => cpu.u64(off) | (cpu.u64(off + 8) << 64n); }
  if (s.kind !== 'mem') throw new Unsupported(`conversion operand ${s.kind}`);
  const ea = e.ea(s);
  if (memSize === 16) {
    f.get(ea).i32_wrap_i64().i32(15).i32_and().if_();
    e.raise(Vector.GP);
    f.end();
    const v = f.temp(T.v128);
    e.load128(ea); f.set(v);
    f.get(e.cpu).get(v).v128_store(CPU.scratch);
    f.free(T.v128, v);
  } else {
    const v = e.tmp64();
    e.load(ea, 8); f.set(v);
    e.st64(CPU.scratch, v);
    e.free64(v);
  }
  e.free64(ea);
  return (cpu) => cpu.u64(CPU.scratch) | (memSize === 16 ? cpu.u64(CPU.scratch + 8) << 64n : 0n);
}

/**
 * A conversion that cannot raise an exception, run in TypeScript: `body` gets the source's low
 * 128 bits and stores its result. An MMX register operand makes it an MMX transition.
 */
function convert(memSize: 8 | 16, body: (cpu: CpuState, src: bigint, env: S.Env, i: Insn) => void): EmitFn {
  return (e, i, jenv) => {
    const d = i.ops[0], s = i.ops[1];
    const mmx = isMm(d) || isMm(s);
    if (mmx) mfCheck(e);
    const src = stage(e, s, memSize);
    e.callJs((base) => {
      const cpu = jenv.cpu(base);
      body(cpu, src(cpu), S.envOf(cpu.u32(CPU.mxcsr)), i);
      return -1;
    }, true, 0, false);
    if (isXmm(d)) {
      e.f.get(e.cpu).v128_load(CPU.xmm + 16 * d.n).set(e.xmm(d.n));
      e.xmmDirty(d.n);
    }
    if (mmx) toMmx(e);
  };
}

/**
 * The TypeScript side of a conversion to an MMX register (cvt(t)ps2pi, cvt(t)pd2pi): two int32
 * results, committed unless an unmasked exception is raised.
 */
function toPi(w: 4 | 8, truncate: boolean, memSize: 8 | 16): EmitFn {
  const F = w === 4 ? S.F32 : S.F64;
  const mask = w === 4 ? M32 : (1n << 64n) - 1n;
  return (e, i, jenv) => {
    const d = i.ops[0], s = i.ops[1];
    const n = mmDest(d);
    mfCheck(e);
    const src = stage(e, s, memSize);
    e.callJs((base) => {
      const cpu = jenv.cpu(base);
      const env = S.envOf(cpu.u32(CPU.mxcsr));
      const v = src(cpu);
      const lo = S.toInt(v & mask, 32, truncate, F, env);
      const hi = S.toInt((v >> BigInt(8 * w)) & mask, 32, truncate, F, env);
      if (!commitFlags(cpu, env)) return raiseXM(cpu, i);
      cpu.setU64(mmOff(n), lo | (hi << 32n));
      cpu.setU32(mmOff(n) + 8, (cpu.u32(mmOff(n) + 8) & 0xffff0000) | 0xffff);
      return -1;
    }, true, 0, false);
    toMmx(e);
  };
}

/** cvtpi2ps xmm, mm/m64: two int32 to the low two floats (rounded by MXCSR), the rest kept. */
function cvtpi2ps(): EmitFn {
  return (e, i, jenv) => {
    const d = i.ops[0], s = i.ops[1];
    if (!isXmm(d)) throw new Unsupported('cvtpi2ps destination');
    const mmx = isMm(s);
    if (mmx) mfCheck(e);
    const src = stage(e, s, 8);
    const off = CPU.xmm + 16 * d.n;
    e.callJs((base) => {
      const cpu = jenv.cpu(base);
      const env = S.envOf(cpu.u32(CPU.mxcsr));
      const v = src(cpu);
      const lo = S.fromInt(BigInt.asIntN(32, v & M32), S.F32, env);
      const hi = S.fromInt(BigInt.asIntN(32, (v >> 32n) & M32), S.F32, env);
      if (!commitFlags(cpu, env)) return raiseXM(cpu, i);
      cpu.setU64(off, lo | (hi << 32n));
      return -1;
    }, true, 0, false);
    e.f.get(e.cpu).v128_load(off).set(e.xmm(d.n));
    e.xmmDirty(d.n);
    if (mmx) toMmx(e);
  };
}

/** cvtpi2pd xmm, mm/m64: two int32 to two doubles (always exact). */
const cvtpi2pd: EmitFn = convert(8, (cpu, v, _env, i) => {
  const off = CPU.xmm + 16 * (i.ops[0] as RegOperand).n;
  const lo = S.fromInt(BigInt.asIntN(32, v & M32), S.F64, _env);
  const hi = S.fromInt(BigInt.asIntN(32, (v >> 32n) & M32), S.F64, _env);
  cpu.setU64(off, lo);
  cpu.setU64(off + 8, hi);
});

// ---- the table -------------------------------------------------------------------------------

/** The instructions, by Capstone name; each handles only its MMX forms (see addMmx). */
export const mmx: Record<string, EmitFn> = {
  movd: mov(4),
  movq: mov(8),
  movntq: mov(8),
  movq2dq,
  movdq2q: mov(8),
  emms,
  paddb: lanes(110), paddw: lanes(142), paddd: lanes(174), paddq: lanes(206),
  psubb: lanes(113), psubw: lanes(145), psubd: lanes(177), psubq: lanes(209),
  paddsb: lanes(111), paddusb: lanes(112), psubsb: lanes(114), psubusb: lanes(115),
  paddsw: lanes(143), paddusw: lanes(144), psubsw: lanes(146), psubusw: lanes(147),
  pcmpeqb: lanes(35), pcmpeqw: lanes(45), pcmpeqd: lanes(55),
  pcmpgtb: lanes(39), pcmpgtw: lanes(49), pcmpgtd: lanes(59),
  pand: lanes(78), por: lanes(80), pxor: lanes(81),
  pandn: vop((f, a, b) => { f.get(b).get(a).simd(79); }),
  pmullw: lanes(149),
  // High halves of the 16x16 products: widen (extmul), shift, narrow (the values fit).
  pmulhw: vop((f, a, b) => { f.get(a).get(b).simd(188).i32(16).simd(172); f.v128_const(ZERO).simd(133); }),
  pmulhuw: vop((f, a, b) => { f.get(a).get(b).simd(190).i32(16).simd(173); f.v128_const(ZERO).simd(134); }),
  pmaddwd: lanes(186), // i32x4.dot_i16x8_s
  pmuludq: scalar((f, a, b) => { f.get(a).i64(0xffffffff).i64_and().get(b).i64(0xffffffff).i64_and().i64_mul(); }),
  pminub: lanes(119), pmaxub: lanes(121), pminsw: lanes(150), pmaxsw: lanes(152),
  pavgb: lanes(123), pavgw: lanes(155),
  // psadbw: |a - b| = max_u - min_u, summed by widening pairwise adds; the result's upper 48 bits are 0.
  psadbw: vop((f, a, b) => {
    f.get(a).get(b).simd(121).get(a).get(b).simd(119).simd(113);
    f.simd(125).simd(127); // u8 -> u16 -> u32 pairwise sums
    f.simd(201 /* i64x2.extend_low_i32x4_u */);
    // lane 0 + lane 1 of the widened sums
    const t = f.temp(T.v128);
    f.set(t);
    f.get(t).get(t).get(t).shuffle([8, 9, 10, 11, 12, 13, 14, 15, 8, 9, 10, 11, 12, 13, 14, 15]).simd(206);
    f.free(T.v128, t);
  }),
  packsswb: pack(101), packuswb: pack(102), packssdw: pack(133),
  punpcklbw: unpack(1, false), punpcklwd: unpack(2, false), punpckldq: unpack(4, false),
  punpckhbw: unpack(1, true), punpckhwd: unpack(2, true), punpckhdq: unpack(4, true),
  psllw: shift(16, 139, false), pslld: shift(32, 171, false), psllq: shift(64, 203, false),
  psrlw: shift(16, 141, false), psrld: shift(32, 173, false), psrlq: shift(64, 205, false),
  psraw: shift(16, 140, true), psrad: shift(32, 172, true),
  pshufw, pextrw, pinsrw, pmovmskb, maskmovq,
  // SSSE3
  pshufb: vop((f, a, b) => { f.get(a).get(b).v128_const(splat8(0x87)).simd(78).simd(14); }),
  phaddw: horizontal(2, 142), phaddd: horizontal(4, 174), phaddsw: horizontal(2, 143),
  phsubw: horizontal(2, 145), phsubd: horizontal(4, 177), phsubsw: horizontal(2, 146),
  pmaddubsw: vop((f, a, b) => {
    f.get(a).v128_const(splat16(0xff)).simd(78); // dst even bytes, unsigned
    f.get(b).i32(8).simd(139).i32(8).simd(140); // src even bytes, signed
    f.simd(149);
    f.get(a).i32(8).simd(141); // dst odd, unsigned
    f.get(b).i32(8).simd(140); // src odd, signed
    f.simd(149);
    f.simd(143); // i16x8.add_sat_s
  }),
  // (a*b + 0x4000) >> 15: Wasm's q15mulr saturates -32768 * -32768 to 0x7fff where x86 gives 0x8000.
  pmulhrsw: vop((f, a, b) => {
    f.get(a).get(b).simd(130);
    f.get(a).v128_const(splat16(0x8000)).simd(45);
    f.get(b).v128_const(splat16(0x8000)).simd(45);
    f.simd(78).simd(81);
  }),
  psignb: psign([113, 37, 35]), psignw: psign([145, 47, 45]), psignd: psign([177, 57, 55]),
  pabsb: vop((f, _a, b) => { f.get(b).simd(96); }),
  pabsw: vop((f, _a, b) => { f.get(b).simd(128); }),
  pabsd: vop((f, _a, b) => { f.get(b).simd(160); }),
  palignr,
  // conversions
  cvtpi2ps: cvtpi2ps(),
  cvtpi2pd,
  cvtps2pi: toPi(4, false, 8), cvttps2pi: toPi(4, true, 8),
  cvtpd2pi: toPi(8, false, 16), cvttpd2pi: toPi(8, true, 16),
};

