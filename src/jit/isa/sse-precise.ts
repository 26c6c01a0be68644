import { CPU } from '../../core/layout.js';
import type { Emitter, JsEnv } from '../emitter.js';
import type { Insn, Operand, XmmOperand } from '../../decoder/ir.js';
import type { CpuState } from '../../core/cpu-state.js';
import type { EmitFn } from './types.js';
import { T } from '../wasm/encoder.js';
import { F as FL } from '../../core/rflags.js';
import { Vector } from '../../core/exits.js';
import * as S from '../softfloat/ieee.js';
import type { Env } from '../softfloat/ieee.js';
import { loadVL } from './sse.js';
import { comisCompare, cvtFromInt, cvtToInt, memSize, VEC_OPS, withLow } from './sse-bodies.js';
import { ALL_FLAGS, FAST_CONTROL, isFastMxcsr, refreshPE } from './sse-flags.js';

/**
 * "Precise FP" translations of the SSE/SSE2/SSE3/SSE4.1 floating-point instructions: exact
 * results for any MXCSR rounding control, DAZ, FTZ and exception masks, with the sticky exception
 * flags, computed in TypeScript by softfloat/ieee.ts (the bodies are in sse-bodies.ts) through
 * Emitter.callJs.
 *
 * The default translations (sse.ts, sse3.ts, sse41.ts) are inline Wasm SIMD, exact for MXCSR's
 * default control (round to nearest, no DAZ/FTZ, all exceptions masked), with their exception flags
 * kept exact by the guards of sse-flags.ts. The first MXCSR write that leaves the default control
 * (ldmxcsr, an fxrstor, an rt_sigreturn: isFastMxcsr) switches the process to precise mode for
 * good (JsEnv.fp.enable: the SSE flavour is a translation-key bit, e.host.preciseFp, so every later
 * translation of these instructions comes from this file; none is flushed). Writes that only
 * change the sticky flags (feclearexcept) keep the fast translations.
 *
 * Unmasked exceptions: the instruction's flags are OR-ed into MXCSR, the destination is left
 * unchanged and #XM (SIGFPE) is raised; the SDM's finer split between pre- and post-computation
 * exceptions across the lanes of a packed instruction is not modelled.
 */

const M64 = (1n << 64n) - 1n;

const rd128 = (cpu: CpuState, off: number): bigint => cpu.u64(off) | (cpu.u64(off + 8) << 64n);
function wr128(cpu: CpuState, off: number, v: bigint): void {
  cpu.setU64(off, v & M64);
  cpu.setU64(off + 8, (v >> 64n) & M64);
}

const xn = (o: Operand) => (o as { n: number }).n;
const isXmm = (o: Operand): o is XmmOperand => o.kind === 'reg' && o.file === 'xmm';

/** ORs the raised flags into MXCSR; false if one is unmasked (the caller leaves with #XM). */
export function commitFlags(cpu: CpuState, env: Env): boolean {
  const mx = cpu.u32(CPU.mxcsr);
  cpu.setU32(CPU.mxcsr, mx | env.flags);
  return (env.flags & ~(mx >> 7) & 0x3f) === 0;
}

/** #XM at the instruction: the exception record, and the exit code that delivers it. */
export function raiseXM(cpu: CpuState, i: Insn): number {
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

/** xmm dst = body(dst, src): the 128-bit values as bigints (sse-bodies.ts). */
const vec: EmitFn = (e, i, jenv) => {
  const d = i.ops[0], s = i.ops[1];
  if (!isXmm(d)) throw new Error('precise FP: destination');
  const src = stage(e, s, memSize(i));
  const off = CPU.xmm + 16 * xn(d);
  const body = VEC_OPS[i.op].body(i);
  e.callJs((base) => {
    const cpu = jenv.cpu(base);
    const env = S.envOf(cpu.u32(CPU.mxcsr));
    const r = body(rd128(cpu, off), src(cpu), env);
    if (!commitFlags(cpu, env)) return raiseXM(cpu, i);
    wr128(cpu, off, r);
    return -1;
  }, true, 0, false);
  reloadXmm(e, xn(d));
};

/** comiss/ucomiss/comisd/ucomisd: ZF PF CF, OF SF AF cleared. */
const comis: EmitFn = (e, i, jenv) => {
  const d = i.ops[0], s = i.ops[1];
  const src = stage(e, s, i.op.endsWith('d') ? 8 : 4);
  const off = CPU.xmm + 16 * xn(d);
  e.callJs((base) => {
    const cpu = jenv.cpu(base);
    const env = S.envOf(cpu.u32(CPU.mxcsr));
    const c = comisCompare(i, rd128(cpu, off), src(cpu), env);
    if (!commitFlags(cpu, env)) return raiseXM(cpu, i);
    const fl = c === 'un' ? FL.ZF | FL.PF | FL.CF : c === 'eq' ? FL.ZF : c === 'lt' ? FL.CF : 0;
    jenv.setFlags(base, fl);
    return -1;
  }, false, 0, false);
};

/** cvt(t)ss2si / cvt(t)sd2si: to a 32/64-bit GPR. */
const toInt: EmitFn = (e, i, jenv) => {
  const d = i.ops[0], s = i.ops[1];
  if (d.kind !== 'reg' || d.file !== 'gpr') throw new Error('precise FP: cvt destination');
  const src = stage(e, s, i.op.includes('sd2') ? 8 : 4);
  const n = d.n, bits = d.size * 8;
  e.callJs((base) => {
    const cpu = jenv.cpu(base);
    const env = S.envOf(cpu.u32(CPU.mxcsr));
    const r = cvtToInt(i, src(cpu), bits, env);
    if (!commitFlags(cpu, env)) return raiseXM(cpu, i);
    cpu.set(n, r);
    return -1;
  }, true, 1 << n, false);
};

/** cvtsi2ss / cvtsi2sd: a 32/64-bit integer into the low lane. */
const fromInt: EmitFn = (e, i, jenv) => {
  const d = i.ops[0], s = i.ops[1];
  const w: 4 | 8 = i.op.endsWith('sd') ? 8 : 4;
  const src = stage(e, s, s.size);
  const bits = s.size * 8;
  const off = CPU.xmm + 16 * xn(d);
  e.callJs((base) => {
    const cpu = jenv.cpu(base);
    const env = S.envOf(cpu.u32(CPU.mxcsr));
    const r = cvtFromInt(i, src(cpu), bits, env);
    if (!commitFlags(cpu, env)) return raiseXM(cpu, i);
    wr128(cpu, off, withLow(rd128(cpu, off), w, r));
    return -1;
  }, true, 0, false);
  reloadXmm(e, xn(d));
};

/** The exact translations by instruction name: the table entries' `precise` (isa/index.ts). */
export const precise: Record<string, EmitFn> = {
  ...Object.fromEntries(Object.keys(VEC_OPS).map((n) => [n, vec])),
  comiss: comis, ucomiss: comis, comisd: comis, ucomisd: comis,
  cvtss2si: toInt, cvttss2si: toInt, cvtsd2si: toInt, cvttsd2si: toInt,
  cvtsi2ss: fromInt, cvtsi2sd: fromInt,
};

/**
 * ldmxcsr: store; before precise mode, a value outside the fast control switches to it (the
 * region is left right after). Only the sticky flags changed: the fast translations stay exact.
 */
export function ldmxcsr(e: Emitter, i: Insn, env: JsEnv): void {
  const v = e.readL(i.ops[0], 4);
  const f = e.f;
  // Reserved bits (16-31) set: #GP(0).
  f.get(v).i64(0xffff_0000n).i64_and().i64(0).i64_ne().if_();
  e.raise(Vector.GP);
  f.end();
  f.get(e.cpu).get(v).i64_store32(CPU.mxcsr);
  const fp = env.fp;
  if (fp && !e.host.preciseFp) {
    f.get(v).i32_wrap_i64().i32(~ALL_FLAGS).i32_and().i32(FAST_CONTROL).i32_ne().if_();
    e.callJs((base) => (isFastMxcsr(env.cpu(base).u32(CPU.mxcsr)) ? -1 : fp.enable(base, i.addr + i.len)), true, 0, false);
    f.end();
    refreshPE(e);
  }
  e.free64(v);
}
