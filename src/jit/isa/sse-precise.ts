import { CPU } from '../../core/layout.js';
import type { Emitter, JsEnv } from '../emitter.js';
import type { Insn, Operand, XmmOperand } from '../../decoder/ir.js';
import type { CpuState } from '../../core/cpu-state.js';
import type { EmitFn } from './types.js';
import { T } from '../wasm/encoder.js';
import { F as FL } from '../../core/rflags.js';
import { Vector } from '../../core/exits.js';
import * as S from '../softfloat/ieee.js';
import type { Fmt, Env } from '../softfloat/ieee.js';
import { loadVL } from './sse.js';

/**
 * "Precise FP" translations of the SSE/SSE2/SSE3/SSE4.1 floating-point instructions: exact
 * results for MXCSR's rounding control, DAZ and FTZ, and the sticky exception flags, computed in
 * TypeScript by softfloat/ieee.ts (through Emitter.callJs).
 *
 * The default translations (sse.ts, sse3.ts, sse41.ts) are inline Wasm SIMD: round to nearest, no
 * exception flags, which is what a program sees as long as it never writes MXCSR. The first write
 * of MXCSR (ldmxcsr, or an fxrstor that changes it) switches the process to precise mode for good
 * (JsEnv.fp.enable: the code cache is flushed and every later translation of these instructions
 * comes from this file). The one approximation: exception flags raised by SSE instructions before
 * that first write are not recorded (glibc's feclearexcept/fesetround/fesetenv all write MXCSR,
 * so a program that tests the flags after clearing them sees exact results).
 *
 * Unmasked exceptions: the instruction's flags are OR-ed into MXCSR, the destination is left
 * unchanged and #XM (SIGFPE) is raised; the SDM's finer split between pre- and post-computation
 * exceptions across the lanes of a packed instruction is not modelled.
 */

const M32 = 0xffff_ffffn;
const M64 = (1n << 64n) - 1n;

const lane = (v: bigint, w: 4 | 8, k: number): bigint => (v >> BigInt(k * w * 8)) & (w === 4 ? M32 : M64);
function pack(w: 4 | 8, ls: bigint[]): bigint {
  let v = 0n;
  for (let k = ls.length - 1; k >= 0; k--) v = (v << BigInt(w * 8)) | (ls[k] & (w === 4 ? M32 : M64));
  return v;
}
const lanes = (v: bigint, w: 4 | 8): bigint[] => Array.from({ length: 16 / w }, (_, k) => lane(v, w, k));
const fmtOf = (w: 4 | 8): Fmt => (w === 4 ? S.F32 : S.F64);
/** Replaces the low `w` bytes of v. */
const withLow = (v: bigint, w: 4 | 8, x: bigint): bigint => (v & ~(w === 4 ? M32 : M64)) | x;

const rd128 = (cpu: CpuState, off: number): bigint => cpu.u64(off) | (cpu.u64(off + 8) << 64n);
function wr128(cpu: CpuState, off: number, v: bigint): void {
  cpu.setU64(off, v & M64);
  cpu.setU64(off + 8, (v >> 64n) & M64);
}

const xn = (o: Operand) => (o as { n: number }).n;
const isXmm = (o: Operand): o is XmmOperand => o.kind === 'reg' && o.file === 'xmm';
const imm8 = (o: Operand) => Number((o as { value: bigint }).value & 0xffn);

/** Leaves with #XM at the instruction if a raised flag is unmasked; else ORs the flags in. */
function commitFlags(cpu: CpuState, env: Env): boolean {
  const mx = cpu.u32(CPU.mxcsr);
  cpu.setU32(CPU.mxcsr, mx | env.flags);
  return (env.flags & ~(mx >> 7) & 0x3f) === 0;
}

function raiseXM(cpu: CpuState, i: Insn): number {
  cpu.rip = BigInt(i.addr);
  cpu.setU64(CPU.exitInsn, BigInt(i.addr));
  cpu.setU64(CPU.exitArg, BigInt(Vector.XM));
  return 2; // Exit.Exception
}

/**
 * Stages the source operand for the TypeScript side: an xmm register stays in the CPU block
 * (callJs spills it), memory is loaded by the emitted code (the normal TLB path, faults and the
 * 16-byte alignment check included) into CPU.scratch, a GPR is read from the CPU block.
 * Returns a reader for the TypeScript side.
 */
function stage(e: Emitter, s: Operand, memSize: number): (cpu: CpuState) => bigint {
  const f = e.f;
  if (isXmm(s)) { const off = CPU.xmm + 16 * xn(s); return (cpu) => rd128(cpu, off); }
  if (s.kind === 'mem') {
    if (memSize === 16) {
      const v = loadVL(e, s);
      f.get(e.cpu).get(v).v128_store(CPU.scratch);
      f.free(T.v128, v);
      return (cpu) => rd128(cpu, CPU.scratch);
    }
    const v = e.tmp64();
    e.read(s, memSize);
    f.set(v);
    e.st64(CPU.scratch, v);
    e.free64(v);
    const mask = (1n << BigInt(memSize * 8)) - 1n;
    return (cpu) => cpu.u64(CPU.scratch) & mask;
  }
  if (s.kind === 'reg' && s.file === 'gpr') {
    const n = s.n, size = s.size;
    return (cpu) => BigInt.asIntN(size * 8, cpu.get(n));
  }
  throw new Error(`precise FP: operand ${s.kind}`);
}

/** Reloads xmm n's local after TypeScript wrote the register in the CPU block. */
function reloadXmm(e: Emitter, n: number): void {
  e.f.get(e.cpu).v128_load(CPU.xmm + 16 * n).set(e.xmm(n));
  e.xmmDirty(n);
}

/** xmm dst = body(dst, src): the 128-bit values as bigints. */
function vec(memSize: (i: Insn) => number, body: (a: bigint, b: bigint, env: Env, i: Insn) => bigint): EmitFn {
  return (e, i, jenv) => {
    const [d, s] = i.ops;
    if (!isXmm(d)) throw new Error('precise FP: destination');
    const src = stage(e, s, memSize(i));
    const off = CPU.xmm + 16 * xn(d);
    e.callJs((base) => {
      const cpu = jenv.cpu(base);
      const env = S.envOf(cpu.u32(CPU.mxcsr));
      const r = body(rd128(cpu, off), src(cpu), env, i);
      if (!commitFlags(cpu, env)) return raiseXM(cpu, i);
      wr128(cpu, off, r);
      return -1;
    }, true, 0, false);
    reloadXmm(e, xn(d));
  };
}

const always = (n: number) => () => n;

// ---- the operations -----------------------------------------------------------------------

type Bin = (a: bigint, b: bigint, F: Fmt, env: Env) => bigint;
const ADD: Bin = (a, b, F, env) => S.add(a, b, false, F, env);
const SUB: Bin = (a, b, F, env) => S.add(a, b, true, F, env);
const MUL: Bin = (a, b, F, env) => S.mul(a, b, F, env);
const DIV: Bin = (a, b, F, env) => S.div(a, b, F, env);
const MIN: Bin = (a, b, F, env) => S.minmax(a, b, true, F, env);
const MAX: Bin = (a, b, F, env) => S.minmax(a, b, false, F, env);

function packedBin(w: 4 | 8, op: Bin): EmitFn {
  const F = fmtOf(w);
  return vec(always(16), (a, b, env) => pack(w, lanes(a, w).map((x, k) => op(x, lane(b, w, k), F, env))));
}

function scalarBin(w: 4 | 8, op: Bin): EmitFn {
  const F = fmtOf(w);
  return vec(always(w), (a, b, env) => withLow(a, w, op(lane(a, w, 0), lane(b, w, 0), F, env)));
}

const sqrtPacked = (w: 4 | 8): EmitFn =>
  vec(always(16), (_a, b, env) => pack(w, lanes(b, w).map((x) => S.sqrt(x, fmtOf(w), env))));
const sqrtScalar = (w: 4 | 8): EmitFn =>
  vec(always(w), (a, b, env) => withLow(a, w, S.sqrt(lane(b, w, 0), fmtOf(w), env)));

/** addsubps/pd: even lanes dst - src, odd lanes dst + src. */
function addsub(w: 4 | 8): EmitFn {
  const F = fmtOf(w);
  return vec(always(16), (a, b, env) => pack(w, lanes(a, w).map((x, k) => S.add(x, lane(b, w, k), (k & 1) === 0, F, env))));
}

/** haddps/hsubps/haddpd/hsubpd: dst's pairs then src's pairs, each even lane op odd lane. */
function horizontal(w: 4 | 8, subtract: boolean): EmitFn {
  const F = fmtOf(w);
  return vec(always(16), (a, b, env) => {
    const out: bigint[] = [];
    for (const v of [a, b]) {
      const ls = lanes(v, w);
      for (let k = 0; k < ls.length; k += 2) out.push(S.add(ls[k], ls[k + 1], subtract, F, env));
    }
    return pack(w, out);
  });
}

/** cmpps/cmppd/cmpss/cmpsd (predicate from the imm8, see sse.ts cmpFloat). */
const cmpFloat: EmitFn = (e, i, env) => {
  const mnem = i.text.split(' ')[0];
  const w: 4 | 8 = mnem.endsWith('d') ? 8 : 4;
  const scalarOnly = mnem.endsWith(w === 8 ? 'sd' : 'ss');
  const p = i.bytes[i.bytes.length - 1] & 7;
  const F = fmtOf(w);
  const signaling = p === 1 || p === 2 || p === 5 || p === 6;
  const test = (a: bigint, b: bigint, envf: Env): boolean => {
    const c = S.compare(a, b, signaling, F, envf);
    switch (p) {
      case 0: return c === 'eq';
      case 1: return c === 'lt';
      case 2: return c === 'lt' || c === 'eq';
      case 3: return c === 'un';
      case 4: return c !== 'eq';
      case 5: return c !== 'lt';
      case 6: return c !== 'lt' && c !== 'eq';
      default: return c !== 'un';
    }
  };
  const ones = w === 4 ? M32 : M64;
  vec(always(scalarOnly ? w : 16), (a, b, envf) => {
    if (scalarOnly) return withLow(a, w, test(lane(a, w, 0), lane(b, w, 0), envf) ? ones : 0n);
    return pack(w, lanes(a, w).map((x, k) => (test(x, lane(b, w, k), envf) ? ones : 0n)));
  })(e, i, env);
};

/** comiss/ucomiss/comisd/ucomisd: ZF PF CF, OF SF AF cleared. */
function comis(w: 4 | 8, signaling: boolean): EmitFn {
  const F = fmtOf(w);
  return (e, i, jenv) => {
    const [d, s] = i.ops;
    const src = stage(e, s, w);
    const off = CPU.xmm + 16 * xn(d);
    e.callJs((base) => {
      const cpu = jenv.cpu(base);
      const env = S.envOf(cpu.u32(CPU.mxcsr));
      const c = S.compare(lane(rd128(cpu, off), w, 0), lane(src(cpu), w, 0), signaling, F, env);
      if (!commitFlags(cpu, env)) return raiseXM(cpu, i);
      const fl = c === 'un' ? FL.ZF | FL.PF | FL.CF : c === 'eq' ? FL.ZF : c === 'lt' ? FL.CF : 0;
      jenv.setFlags(base, fl);
      return -1;
    }, false, 0, false);
  };
}

/** cvt(t)ss2si / cvt(t)sd2si: to a 32/64-bit GPR. */
function toInt(w: 4 | 8, truncate: boolean): EmitFn {
  const F = fmtOf(w);
  return (e, i, jenv) => {
    const [d, s] = i.ops;
    if (d.kind !== 'reg' || d.file !== 'gpr') throw new Error('precise FP: cvt destination');
    const src = stage(e, s, w);
    const n = d.n, bits = d.size * 8;
    e.callJs((base) => {
      const cpu = jenv.cpu(base);
      const env = S.envOf(cpu.u32(CPU.mxcsr));
      const r = S.toInt(lane(src(cpu), w, 0), bits, truncate, F, env);
      if (!commitFlags(cpu, env)) return raiseXM(cpu, i);
      cpu.set(n, r);
      return -1;
    }, true, 1 << n, false);
  };
}

/** cvtsi2ss / cvtsi2sd: a 32/64-bit integer into the low lane. */
function fromInt(w: 4 | 8): EmitFn {
  const F = fmtOf(w);
  return (e, i, jenv) => {
    const [d, s] = i.ops;
    let src: (cpu: CpuState) => bigint;
    if (s.kind === 'mem') {
      const get = stage(e, s, s.size);
      const bits = s.size * 8;
      src = (cpu) => BigInt.asIntN(bits, get(cpu));
    } else src = stage(e, s, s.size);
    const off = CPU.xmm + 16 * xn(d);
    e.callJs((base) => {
      const cpu = jenv.cpu(base);
      const env = S.envOf(cpu.u32(CPU.mxcsr));
      const r = S.fromInt(src(cpu), F, env);
      if (!commitFlags(cpu, env)) return raiseXM(cpu, i);
      wr128(cpu, off, withLow(rd128(cpu, off), w, r));
      return -1;
    }, true, 0, false);
    reloadXmm(e, xn(d));
  };
}

/** Packed float -> int32 lanes (cvtps2dq, cvttps2dq, cvtpd2dq, cvttpd2dq: the high half zeroed). */
function toInt32Packed(w: 4 | 8, truncate: boolean): EmitFn {
  const F = fmtOf(w);
  return vec(always(16), (_a, b, env) => pack(4, lanes(b, w).map((x) => S.toInt(x, 32, truncate, F, env))));
}

/** The exact translations by instruction name: the table entries' `precise` (isa/index.ts). */
export const precise: Record<string, EmitFn> = {
  addss: scalarBin(4, ADD), addsd: scalarBin(8, ADD), subss: scalarBin(4, SUB), subsd: scalarBin(8, SUB),
  mulss: scalarBin(4, MUL), mulsd: scalarBin(8, MUL), divss: scalarBin(4, DIV), divsd: scalarBin(8, DIV),
  minss: scalarBin(4, MIN), minsd: scalarBin(8, MIN), maxss: scalarBin(4, MAX), maxsd: scalarBin(8, MAX),
  addps: packedBin(4, ADD), addpd: packedBin(8, ADD), subps: packedBin(4, SUB), subpd: packedBin(8, SUB),
  mulps: packedBin(4, MUL), mulpd: packedBin(8, MUL), divps: packedBin(4, DIV), divpd: packedBin(8, DIV),
  minps: packedBin(4, MIN), minpd: packedBin(8, MIN), maxps: packedBin(4, MAX), maxpd: packedBin(8, MAX),
  sqrtss: sqrtScalar(4), sqrtsd: sqrtScalar(8), sqrtps: sqrtPacked(4), sqrtpd: sqrtPacked(8),
  addsubps: addsub(4), addsubpd: addsub(8),
  haddps: horizontal(4, false), hsubps: horizontal(4, true), haddpd: horizontal(8, false), hsubpd: horizontal(8, true),
  cmpps: cmpFloat, cmppd: cmpFloat, cmpss: cmpFloat, cmpsd: cmpFloat,
  comiss: comis(4, true), ucomiss: comis(4, false), comisd: comis(8, true), ucomisd: comis(8, false),
  cvtss2si: toInt(4, false), cvttss2si: toInt(4, true), cvtsd2si: toInt(8, false), cvttsd2si: toInt(8, true),
  cvtsi2ss: fromInt(4), cvtsi2sd: fromInt(8),
  cvtss2sd: vec(always(4), (a, b, env) => withLow(a, 8, S.convert(lane(b, 4, 0), S.F32, S.F64, env))),
  cvtsd2ss: vec(always(8), (a, b, env) => withLow(a, 4, S.convert(lane(b, 8, 0), S.F64, S.F32, env))),
  cvtps2pd: vec(always(8), (_a, b, env) => pack(8, [0, 1].map((k) => S.convert(lane(b, 4, k), S.F32, S.F64, env)))),
  cvtpd2ps: vec(always(16), (_a, b, env) => pack(4, [0, 1].map((k) => S.convert(lane(b, 8, k), S.F64, S.F32, env)))),
  cvtdq2ps: vec(always(16), (_a, b, env) => pack(4, lanes(b, 4).map((x) => S.fromInt(BigInt.asIntN(32, x), S.F32, env)))),
  cvtps2dq: toInt32Packed(4, false), cvttps2dq: toInt32Packed(4, true),
  cvtpd2dq: toInt32Packed(8, false), cvttpd2dq: toInt32Packed(8, true),
  roundps: round(4, false), roundpd: round(8, false), roundss: round(4, true), roundsd: round(8, true),
  dpps: dp(4), dppd: dp(8),
};

/** roundps/pd/ss/sd: imm[1:0] the rounding mode unless imm[2] (MXCSR.RC); imm[3] suppresses PE. */
function round(w: 4 | 8, scalar: boolean): EmitFn {
  const F = fmtOf(w);
  return (e, i, env) => {
    const m = imm8(i.ops[2]);
    vec(always(scalar ? w : 16), (a, b, envf) => {
      const rc = m & 4 ? envf.rc : m & 3;
      if (scalar) return withLow(a, w, S.roundInt(lane(b, w, 0), rc, (m & 8) !== 0, F, envf));
      return pack(w, lanes(b, w).map((x) => S.roundInt(x, rc, (m & 8) !== 0, F, envf)));
    })(e, i, env);
  };
}

/**
 * dpps/dppd: the products of the lanes selected by imm[7:4] (+0.0 for the others), summed as
 * (p0 + p1) + (p2 + p3), each step rounded; the sum to the lanes selected by imm[3:0].
 */
function dp(w: 4 | 8): EmitFn {
  const F = fmtOf(w);
  const n = 16 / w;
  return (e, i, env) => {
    const m = imm8(i.ops[2]);
    vec(always(16), (a, b, envf) => {
      const p = Array.from({ length: n }, (_, k) => ((m >> (4 + k)) & 1 ? S.mul(lane(a, w, k), lane(b, w, k), F, envf) : 0n));
      const sum = w === 8 ? S.add(p[0], p[1], false, F, envf)
        : S.add(S.add(p[0], p[1], false, F, envf), S.add(p[2], p[3], false, F, envf), false, F, envf);
      return pack(w, Array.from({ length: n }, (_, k) => ((m >> k) & 1 ? sum : 0n)));
    })(e, i, env);
  };
}

/** ldmxcsr: store; before precise mode, switch to it (the region is left right after). */
export function ldmxcsr(e: Emitter, i: Insn, env: JsEnv): void {
  const v = e.readL(i.ops[0], 4);
  const f = e.f;
  // Reserved bits (16-31) set: #GP(0).
  f.get(v).i64(0xffff_0000n).i64_and().i64(0).i64_ne().if_();
  e.raise(Vector.GP);
  f.end();
  f.get(e.cpu).get(v).i64_store32(CPU.mxcsr);
  e.free64(v);
  const fp = env.fp;
  if (fp && !e.host.preciseFp) e.callJs((base) => fp.enable(base, i.addr + i.len), true, 0, false);
}
