import { CPU } from '../../core/layout.js';
import type { Emitter, JsEnv } from '../emitter.js';
import { Unsupported } from '../emitter.js';
import type { Insn, Operand, XmmOperand } from '../../decoder/ir.js';
import type { Family, EmitFn } from './types.js';
import { SIMD, T } from '../wasm/encoder.js';
import { F } from '../../core/rflags.js';
import { Vector } from '../../core/exits.js';
import { killsFlags } from './table.js';
import { flagBody } from './sse-bodies.js';
import { emitExact, emitHot, emitHot1, guardFlags, IE, L32, L64, Masks, PE, peLimit, stageV, vecGuard, type LaneFmt, type VecClass } from './sse-flags.js';

/**
 * SSE/SSE2 on Wasm SIMD. XMM registers are cached in v128 locals inside a region (Emitter.xmm),
 * like the GPRs, and written back to the CPU block when it is left. Most packed
 * instructions are one Wasm SIMD op; scalar float ops work on the low lane and keep the rest.
 * The float translations here round to nearest-even and raise no MXCSR exception flags: they
 * serve a program until it first writes MXCSR, after which sse-precise.ts translates the float
 * instructions exactly (rounding control, DAZ/FTZ, flags).
 */

export const xn = (o: Operand) => (o as { n: number }).n;

/** Lane opcodes: extract / replace. */
export const LANE = {
  i8: { get: SIMD.i8x16_extract_lane_u, set: SIMD.i8x16_replace_lane },
  i16: { get: SIMD.i16x8_extract_lane_u, set: SIMD.i16x8_replace_lane },
  i32: { get: SIMD.i32x4_extract_lane, set: SIMD.i32x4_replace_lane },
  i64: { get: SIMD.i64x2_extract_lane, set: SIMD.i64x2_replace_lane },
  f32: { get: SIMD.f32x4_extract_lane, set: SIMD.f32x4_replace_lane },
  f64: { get: SIMD.f64x2_extract_lane, set: SIMD.f64x2_replace_lane },
} as const;

/** Replaces lane `idx` of XMM n with the value `push` leaves on the stack. */
export function setLane(e: Emitter, n: number, kind: keyof typeof LANE, idx: number, push: () => void): void {
  const l = e.xmm(n);
  e.f.get(l);
  push();
  e.f.lane(LANE[kind].set, idx).set(l);
  e.xmmDirty(n);
}

/** Pushes lane `idx` of XMM n. */
export function getLane(e: Emitter, n: number, kind: keyof typeof LANE, idx: number): void {
  e.f.get(e.xmm(n)).lane(LANE[kind].get, idx);
}
/** An XMM register operand (a type guard: `o.n` is then the register number). */
export const isX = (o: Operand): o is XmmOperand => o.kind === 'reg' && o.file === 'xmm';

/** #GP(0) if a 16-byte operand of an alignment-checking instruction (table entry's align) is misaligned. */
function alignCheck(e: Emitter, ea: number): void {
  if (e.align < 16) return;
  e.f.get(ea).i32_wrap_i64().i32(15).i32_and().if_();
  e.raise(Vector.GP);
  e.f.end();
}

/** Pushes operand as v128 (xmm register or 16-byte memory). */
export function loadV(e: Emitter, o: Operand): void {
  if (o.kind === 'reg' && o.file === 'xmm') { e.f.get(e.xmm(o.n)); return; }
  if (o.kind === 'mem') {
    const ea = e.ea(o);
    if (o.size >= 16 || o.size === 0) { alignCheck(e, ea); e.load128(ea); }
    else {
      // A narrower memory operand (movq/movd/scalar): zero-extend into a vector.
      e.load(ea, o.size);
      e.f.i64x2Splat0();
    }
    e.free64(ea);
    return;
  }
  throw new Unsupported(`vector operand ${o.kind}`);
}

export function loadVL(e: Emitter, o: Operand): number {
  loadV(e, o);
  const l = e.f.temp(T.v128);
  e.f.set(l);
  return l;
}

/** Stores v128 local `v` to an xmm register or 16 bytes of memory. */
export function storeV(e: Emitter, o: Operand, v: number): void {
  if (o.kind === 'reg' && o.file === 'xmm') { e.f.get(v).set(e.xmm(o.n)); e.xmmDirty(o.n); return; }
  if (o.kind === 'mem') { const ea = e.ea(o); alignCheck(e, ea); e.store128(ea, v); e.free64(ea); return; }
  throw new Unsupported(`vector destination ${o.kind}`);
}

/** Pushes the low `size` bytes of an operand as i64 (xmm low lane, GPR, or memory). */
function loadLow(e: Emitter, o: Operand, size: number): void {
  const f = e.f;
  if (isX(o)) {
    if (size === 8) getLane(e, xn(o), 'i64', 0);
    else { getLane(e, xn(o), 'i32', 0); f.i64_extend_i32_u(); }
    return;
  }
  e.read(o, size);
}

/** Writes i64 local `v`'s low `size` bytes into xmm n's low lane, keeping the other bytes. */
function storeLowKeep(e: Emitter, n: number, v: number, size: number): void {
  if (size === 8) setLane(e, n, 'i64', 0, () => e.f.get(v));
  else setLane(e, n, 'i32', 0, () => e.f.get(v).i32_wrap_i64());
}

/** Writes i64 local `v` (size bytes) to xmm n and zeroes the rest of the register. */
function storeLowZero(e: Emitter, n: number, v: number, size: number): void {
  const f = e.f;
  f.get(v);
  if (size === 4) f.i64(0xffffffff).i64_and();
  f.i64x2Splat0().set(e.xmm(n));
  e.xmmDirty(n);
}

/** Packed binary op dst = op(dst, src) with a single SIMD opcode. */
export function packed(simdOp: number, swap = false): EmitFn {
  return (e, i) => {
    const d = i.ops[0], s = i.ops[1];
    const f = e.f;
    const src = loadVL(e, s);
    const r = f.temp(T.v128);
    if (swap) { f.get(src); loadV(e, d); } else { loadV(e, d); f.get(src); }
    f.simd(simdOp).set(r);
    storeV(e, d, r);
    f.free(T.v128, src);
    f.free(T.v128, r);
  };
}

/**
 * The flags guard of a float instruction (sse-flags.ts), given its operands, its result and how
 * to store the result (`commit`: the guard emits it, on each of its paths).
 */
export type Guarded = (e: Emitter, i: Insn, env: JsEnv, a: number, b: number, r: number, commit: () => void) => void;

/**
 * Packed op with a three-operand AVX-free form: dst = op(dst, src) where op is a function;
 * `after` (a flags guard) sees the operands and the result, and stores it.
 */
export function packedWith(body: (e: Emitter, a: number, b: number) => void, after?: Guarded): EmitFn {
  return (e, i, env) => {
    const d = i.ops[0], s = i.ops[1];
    const f = e.f;
    const b = loadVL(e, s);
    const a = loadVL(e, d);
    const r = f.temp(T.v128);
    body(e, a, b);
    f.set(r);
    if (after) after(e, i, env, a, b, r, () => storeV(e, d, r));
    else storeV(e, d, r);
    f.free(T.v128, a); f.free(T.v128, b); f.free(T.v128, r);
  };
}

export function move(e: Emitter, i: Insn): void {
  const d = i.ops[0], s = i.ops[1];
  const v = loadVL(e, s);
  storeV(e, d, v);
  e.f.free(T.v128, v);
}

/** movd/movq between GPR/memory and xmm. */
function movdq(size: number): EmitFn {
  return (e, i) => {
    const d = i.ops[0], s = i.ops[1];
    const f = e.f;
    if (isX(d)) {
      if (isX(s)) {
        // movq xmm, xmm: low qword, upper zeroed.
        const v = e.tmp64();
        loadLow(e, s, 8); f.set(v);
        storeLowZero(e, (d as { n: number }).n, v, 8);
        e.free64(v);
        return;
      }
      const v = e.tmp64();
      loadLow(e, s, size); f.set(v);
      storeLowZero(e, (d as { n: number }).n, v, size);
      e.free64(v);
    } else {
      const v = e.tmp64();
      loadLow(e, s, size); f.set(v);
      e.write(d, v, size);
      e.free64(v);
    }
  };
}

/** movss/movsd: reg-reg merges the low lane; load from memory zeroes the rest; store writes the low lane. */
function movScalar(size: number): EmitFn {
  return (e, i) => {
    const d = i.ops[0], s = i.ops[1];
    const f = e.f;
    const v = e.tmp64();
    loadLow(e, s, size); f.set(v);
    if (isX(d) && isX(s)) storeLowKeep(e, (d as { n: number }).n, v, size);
    else if (isX(d)) storeLowZero(e, (d as { n: number }).n, v, size);
    else e.write(d, v, size);
    e.free64(v);
  };
}

/** Moves of one 64-bit half: movlps/movlpd/movhps/movhpd (memory forms), movhlps, movlhps. */
function movHalf(dstHigh: boolean, srcHigh: boolean): EmitFn {
  return (e, i) => {
    const d = i.ops[0], s = i.ops[1];
    const f = e.f;
    const v = e.tmp64();
    if (isX(s)) getLane(e, xn(s), 'i64', srcHigh ? 1 : 0); else e.read(s, 8);
    f.set(v);
    if (isX(d)) setLane(e, xn(d), 'i64', dstHigh ? 1 : 0, () => f.get(v));
    else e.write(d, v, 8);
    e.free64(v);
  };
}

type ScalarOp = (f: Emitter['f']) => void;

const ADD: VecClass = { k: 'add' }, SUB: VecClass = { k: 'add', neg: 0xf }, MUL: VecClass = { k: 'mul' }, DIV: VecClass = { k: 'div' };

const fmtL = (size: 4 | 8): LaneFmt => (size === 8 ? L64 : L32);
const laneK = (size: 4 | 8) => (size === 8 ? LANE.f64 : LANE.f32);

/**
 * A float instruction's source as a v128 local: an xmm register's own local, or a temp with a
 * memory operand's low `size` bytes in lane 0 (free it with freeSrc).
 */
function srcV(e: Emitter, s: Operand, size: number): number {
  if (isX(s)) return e.xmm(xn(s));
  const v = e.f.temp(T.v128);
  if (size === 16) loadV(e, s);
  else { e.read(s, size); e.f.simd(SIMD.i64x2_splat); } // i64x2.splat: lane 0 is what counts
  e.f.set(v);
  return v;
}
const freeSrc = (e: Emitter, s: Operand, v: number) => { if (!isX(s)) e.f.free(T.v128, v); };

/** The flags guard of a vector site whose operands are staged as they are (sse-flags.ts). */
function guardVec(e: Emitter, env: JsEnv, i: Insn, c: VecClass, F: LaneFmt, sel: number, a: number | null, b: number, r: number | null, commit: () => void): void {
  guardFlags(e, env, vecGuard(e, c, { F, sel, a, b, r }, stageV(e, a, b), flagBody(i), commit));
}

/**
 * A scalar two-operand float instruction's operands: a = the destination's local; b = the source
 * register's local, or a memory operand's value in an i64 local (`bi`).
 */
interface ScalarOps { a: number; bv: number | null; bi: number | null }

function scalarOps(e: Emitter, i: Insn, size: 4 | 8): ScalarOps {
  const d = i.ops[0], s = i.ops[1];
  const a = e.xmm(xn(d));
  if (isX(s)) return { a, bv: e.xmm(xn(s)), bi: null };
  const bi = e.tmp64();
  e.read(s, size);
  e.f.set(bi);
  return { a, bv: null, bi };
}

/** Pushes b's lane 0 as a float. */
function pushB(e: Emitter, o: ScalarOps, size: 4 | 8): void {
  const f = e.f;
  if (o.bv !== null) f.get(o.bv).lane(laneK(size).get, 0);
  else if (size === 8) f.get(o.bi!).f64_reinterpret_i64();
  else f.get(o.bi!).i32_wrap_i64().f32_reinterpret_i32();
}

/**
 * The guard of a scalar two-operand instruction: step 1 tests a and b packed in one vector; the
 * cold path builds b as a vector when it came from memory.
 */
function guardScalar(e: Emitter, env: JsEnv, i: Insn, c: VecClass, size: 4 | 8, o: ScalarOps, r: number | null, commit: () => void): void {
  const f = e.f;
  const F = fmtL(size);
  const pair = f.temp(T.v128);
  if (o.bv !== null) {
    f.get(o.a).get(o.bv).shuffle(size === 8
      ? [0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23]
      : [0, 1, 2, 3, 16, 17, 18, 19, 0, 1, 2, 3, 16, 17, 18, 19]);
  } else {
    f.get(o.a).get(o.bi!);
    if (size === 8) f.lane(LANE.i64.set, 1); else f.i32_wrap_i64().lane(LANE.i32.set, 1);
  }
  f.set(pair);
  let b = o.bv ?? -1;
  const site = () => ({ F, sel: 1, pair, a: o.a, b, r });
  const g = vecGuard(e, c, site(), () => stageV(e, o.a, b)(), flagBody(i), commit);
  guardFlags(e, env, {
    ...g,
    hot: () => emitHot1(e, c, site()),
    cold: () => { if (o.bv === null) { b = f.temp(T.v128); f.get(o.bi!).simd(SIMD.i64x2_splat).set(b); } },
    hot2: () => emitHot(e, c, site()),
    exact: g.exact ? () => { emitExact(e, c, site()); } : undefined,
  });
  if (o.bv === null && b >= 0) f.free(T.v128, b);
  f.free(T.v128, pair);
}

const freeOps = (e: Emitter, o: ScalarOps) => { if (o.bi !== null) e.free64(o.bi); };

/** Scalar float arithmetic on the low lane: addsd, mulss, ... */
function scalar(size: 4 | 8, op: ScalarOp, c: VecClass): EmitFn {
  const L = laneK(size);
  return (e, i, env) => {
    const f = e.f;
    const n = xn(i.ops[0]);
    const o = scalarOps(e, i, size);
    const r = f.temp(T.v128);
    f.get(o.a).get(o.a).lane(L.get, 0);
    pushB(e, o, size);
    op(f);
    f.lane(L.set, 0).set(r);
    guardScalar(e, env, i, c, size, o, r, () => { f.get(r).set(o.a); e.xmmDirty(n); });
    f.free(T.v128, r);
    freeOps(e, o);
  };
}

/** x86 min/max: if either is NaN or both are zero, the second operand wins. */
function minmax(size: 4 | 8, isMin: boolean): EmitFn {
  const L = laneK(size);
  return (e, i, env) => {
    const f = e.f;
    const n = xn(i.ops[0]);
    const t = size === 8 ? T.f64 : T.f32;
    const a = f.temp(t), b = f.temp(t);
    const o = scalarOps(e, i, size);
    pushB(e, o, size); f.set(b);
    f.get(o.a).lane(L.get, 0).set(a);
    guardScalar(e, env, i, { k: 'cmp' }, size, o, null, () => setLane(e, n, size === 8 ? 'f64' : 'f32', 0, () => {
      f.get(a).get(b).get(a).get(b);
      if (size === 8) { if (isMin) f.f64_lt(); else f.f64_gt(); } else if (isMin) f.f32_lt(); else f.f32_gt();
      f.select();
    }));
    f.free(t, a); f.free(t, b);
    freeOps(e, o);
  };
}

/** ucomisd/comisd: ZF PF CF from the comparison, OF SF AF cleared. */
function compareFlags(size: 4 | 8): EmitFn {
  const L = laneK(size);
  return (e, i, env) => {
    const f = e.f;
    const t = size === 8 ? T.f64 : T.f32;
    const a = f.temp(t), b = f.temp(t);
    const o = scalarOps(e, i, size);
    pushB(e, o, size); f.set(b);
    f.get(o.a).lane(L.get, 0).set(a);
    const eq = size === 8 ? () => f.f64_eq() : () => f.f32_eq();
    const lt = size === 8 ? () => f.f64_lt() : () => f.f32_lt();
    guardScalar(e, env, i, { k: 'cmp' }, size, o, null, () => {
      // unordered: a != a or b != b
      f.get(a).get(a); eq(); f.get(b).get(b); eq(); f.i32_and().i32_eqz();
      f.if_(T.i32);
      f.i32(F.ZF | F.PF | F.CF);
      f.else_();
      f.get(a).get(b); eq(); f.i32(6).i32_shl();
      f.get(a).get(b); lt(); f.i32_or();
      f.end();
      e.setEflagsFromStack();
    });
    f.free(t, a); f.free(t, b);
    freeOps(e, o);
  };
}

/** cvttsd2si/cvtsd2si and the ss forms: NaN or out of range gives the "integer indefinite". */
function toInt(size: 4 | 8, truncate: boolean): EmitFn {
  const L = laneK(size);
  return (e, i, env) => {
    const d = i.ops[0], s = i.ops[1];
    const f = e.f;
    const out = d.size;
    const src = f.temp(T.f64);
    const x = f.temp(T.f64);
    const bv = srcV(e, s, size);
    f.get(bv).lane(L.get, 0);
    if (size === 4) f.f64_promote_f32();
    f.tee(src);
    if (truncate) f.f64_trunc(); else f.f64_nearest();
    f.set(x);
    // Below `safe` in magnitude the rounded value is in range (no IE); PE iff rounding moved it.
    const safe = out === 8 ? 2 ** 63 : truncate ? 2 ** 31 : 2 ** 31 - 1;
    const lim = out === 8 ? 9223372036854775808 : 2147483648;
    guardFlags(e, env, {
      mask: IE | PE,
      hot: () => { f.get(src).f64_abs().get(peLimit(e, null, safe)).f64_lt(); },
      hotHasPE: true,
      hot2: () => { f.get(src).f64_abs().f64(safe).f64_lt(); },
      exact: () => { f.get(x).get(src).f64_eq(); },
      stage: stageV(e, null, bv),
      commit: () => {
        const r = e.tmp64();
        f.get(x).f64(-lim).f64_ge().get(x).f64(lim).f64_lt().i32_and();
        f.if_(T.i64);
        f.get(x);
        f.sat(out === 8 ? 6 : 2); // i64.trunc_sat_f64_s / i32.trunc_sat_f64_s
        if (out === 4) f.i64_extend_i32_u();
        f.else_();
        f.i64(out === 8 ? -(1n << 63n) : 0x8000_0000n);
        f.end();
        f.set(r);
        e.write(d, r, out);
        e.free64(r);
      },
      body: flagBody(i),
    });
    f.free(T.f64, x); f.free(T.f64, src);
    freeSrc(e, s, bv);
  };
}

/** cvtsi2sd/cvtsi2ss: integer (32/64, signed) to the low lane; PE when the integer does not fit. */
function fromInt(size: 4 | 8): EmitFn {
  return (e, i, env) => {
    const d = i.ops[0], s = i.ops[1];
    const f = e.f;
    const n = xn(d);
    const v = e.readL(s);
    const r = f.temp(T.f64);
    f.get(v);
    if (s.size === 4) f.i64_extend32_s();
    if (size === 8) f.f64_convert_i64_s(); else f.f32_convert_i64_s().f64_promote_f32();
    f.set(r);
    const commit = () => setLane(e, n, size === 8 ? 'f64' : 'f32', 0, () => {
      f.get(r);
      if (size === 4) f.f32_demote_f64();
    });
    // A 32-bit integer always fits a double; otherwise exact iff converting back gives it again
    // (2^63 itself saturates to 2^63-1: excluded). Step 1: PE already set.
    if (size === 8 && s.size === 4) commit();
    else {
      guardFlags(e, env, {
        mask: PE,
        hot: () => { f.get(peLimit(e, null, 1)).f64(0).f64_gt(); },
        hotHasPE: true,
        hot2: () => { f.i32(1); },
        exact: () => {
          f.get(r).sat(6).get(v);
          if (s.size === 4) f.i64_extend32_s();
          f.i64_eq().get(r).f64(2 ** 63).f64_lt().i32_and();
        },
        stage: stageV(e, null, v, true),
        commit,
        body: flagBody(i),
      });
    }
    f.free(T.f64, r);
    e.free64(v);
  };
}

/** Shift by immediate or by the low qword of an xmm/m128 (counts above the width give 0 / all sign). */
function vshift(lane: 2 | 4 | 8, simdOp: number, arith: boolean): EmitFn {
  return (e, i) => {
    const d = i.ops[0], s = i.ops[1];
    const f = e.f;
    const bits = lane * 8;
    const r = f.temp(T.v128);
    if (s.kind === 'imm') {
      // Immediate count: decide at translation time. Wasm masks the count; x86 saturates it.
      const n = Number(BigInt.asUintN(64, s.value) & 0xffn);
      if (n > bits - 1 && !arith) f.v128_const(new Uint8Array(16));
      else { loadV(e, d); f.i32(Math.min(n, bits - 1)).simd(simdOp); }
      f.set(r);
      storeV(e, d, r);
      f.free(T.v128, r);
      return;
    }
    const c = e.tmp64();
    loadLow(e, s, 8);
    f.set(c);
    f.get(c).i64(bits - 1).i64_gt_u().if_(T.v128);
    if (arith) { loadV(e, d); f.i32(bits - 1).simd(simdOp); } else f.v128_const(new Uint8Array(16));
    f.else_();
    loadV(e, d); f.get(c).i32_wrap_i64().simd(simdOp);
    f.end();
    f.set(r);
    storeV(e, d, r);
    e.free64(c);
    f.free(T.v128, r);
  };
}

/** dst = i8x16.shuffle(first, second, lanes): `second` null means a zero vector. */
export function shuffleInto(e: Emitter, d: Operand, first: Operand, second: Operand | null, lanes: number[]): void {
  const f = e.f;
  const r = f.temp(T.v128);
  loadV(e, first);
  if (second) loadV(e, second); else f.v128_const(new Uint8Array(16));
  f.shuffle(lanes).set(r);
  storeV(e, d, r);
  f.free(T.v128, r);
}

/** pslldq/psrldq: byte shifts of the whole register, through a shuffle with zeros. */
function byteShift(left: boolean): EmitFn {
  return (e, i) => {
    const d = i.ops[0], s = i.ops[1];
    const n = Math.min(16, Number((s as { value: bigint }).value & 0xffn));
    const lanes: number[] = [];
    for (let k = 0; k < 16; k++) {
      const src = left ? k - n : k + n;
      lanes.push(src >= 0 && src < 16 ? src : 16); // 16 = first byte of the zero vector
    }
    shuffleInto(e, d, d, null, lanes);
  };
}

/** pshufd/pshuflw/pshufhw/shufps/shufpd via i8x16.shuffle with lanes from the immediate. */
function pshuf(kind: 'd' | 'lw' | 'hw'): EmitFn {
  return (e, i) => {
    const d = i.ops[0], s = i.ops[1], imm = i.ops[2];
    const m = Number((imm as { value: bigint }).value & 0xffn);
    const lanes: number[] = [];
    if (kind === 'd') {
      for (let k = 0; k < 4; k++) { const w = (m >> (2 * k)) & 3; for (let b = 0; b < 4; b++) lanes.push(w * 4 + b); }
    } else {
      const words: number[] = [0, 1, 2, 3, 4, 5, 6, 7];
      const base = kind === 'lw' ? 0 : 4;
      for (let k = 0; k < 4; k++) words[base + k] = base + ((m >> (2 * k)) & 3);
      for (const w of words) lanes.push(w * 2, w * 2 + 1);
    }
    shuffleInto(e, d, s, null, lanes);
  };
}

function shufps(e: Emitter, i: Insn): void {
  const d = i.ops[0], s = i.ops[1], imm = i.ops[2];
  const m = Number((imm as { value: bigint }).value & 0xffn);
  const lanes: number[] = [];
  for (let k = 0; k < 4; k++) {
    const w = (m >> (2 * k)) & 3;
    const from = k < 2 ? 0 : 16; // low two from dst, high two from src
    for (let b = 0; b < 4; b++) lanes.push(from + w * 4 + b);
  }
  shuffleInto(e, d, d, s, lanes);
}

function shufpd(e: Emitter, i: Insn): void {
  const d = i.ops[0], s = i.ops[1], imm = i.ops[2];
  const m = Number((imm as { value: bigint }).value & 0x3n);
  const lanes: number[] = [];
  const lo = (m & 1) * 8, hi = 16 + ((m >> 1) & 1) * 8;
  for (let b = 0; b < 8; b++) lanes.push(lo + b);
  for (let b = 0; b < 8; b++) lanes.push(hi + b);
  shuffleInto(e, d, d, s, lanes);
}

/** punpckl/h: interleave elements of `w` bytes from the low or high halves of dst and src. */
function unpack(w: number, high: boolean): EmitFn {
  return (e, i) => {
    const d = i.ops[0], s = i.ops[1];
    const lanes: number[] = [];
    const start = high ? 8 : 0;
    for (let k = 0; k < 8 / w; k++) {
      for (let b = 0; b < w; b++) lanes.push(start + k * w + b);
      for (let b = 0; b < w; b++) lanes.push(16 + start + k * w + b);
    }
    shuffleInto(e, d, d, s, lanes);
  };
}

/** pmovmskb/movmskps/movmskpd: sign bits to a GPR. */
function movmsk(simdOp: number): EmitFn {
  return (e, i) => {
    const d = i.ops[0], s = i.ops[1];
    const f = e.f;
    const v = e.tmp64();
    loadV(e, s); f.simd(simdOp).i64_extend_i32_u().set(v);
    e.write(d, v, d.size);
    e.free64(v);
  };
}

/** Byte lanes of dwords 0, 2, 0, 2 (pmuludq's operands moved to where extmul_low reads them). */
const EVEN_DWORDS = [0, 1, 2, 3, 8, 9, 10, 11, 0, 1, 2, 3, 8, 9, 10, 11];

/**
 * pmuludq: unsigned 32x32->64 of the even dwords, as a widening multiply of the low dwords.
 * (A masked i64x2.mul is ~11 x86 instructions in V8, three multiplies among them: there is no
 * 64-bit lane multiply below AVX-512; gcc emits two pmuludq for every SSE2 32-bit vector multiply.)
 */
const pmuludq = packedWith((e, a, b) => {
  e.f.get(a).get(a).shuffle(EVEN_DWORDS).get(b).get(b).shuffle(EVEN_DWORDS).simd(SIMD.i64x2_extmul_low_i32x4_u);
});

/** pandn: (~dst) & src. Wasm andnot(a, b) = a & ~b. */
const pandn = packedWith((e, a, b) => { e.f.get(b).get(a).simd(SIMD.v128_andnot); });

/** psadbw: sums of absolute byte differences per 64-bit half. */
const psadbw = packedWith((e, a, b) => {
  const f = e.f;
  const d = f.temp(T.v128);
  // |a - b| = max_u - min_u
  f.get(a).get(b).simd(SIMD.i8x16_max_u).get(a).get(b).simd(SIMD.i8x16_min_u).simd(SIMD.i8x16_sub).set(d);
  // widen pairwise: u8 -> u16 -> u32 -> u64 sums
  f.get(d).simd(SIMD.i16x8_extadd_pairwise_i8x16_u).simd(SIMD.i32x4_extadd_pairwise_i16x8_u);
  const t = f.temp(T.v128);
  f.set(t);
  // add the two dwords of each qword: (t & low32) + (t >> 32)
  f.get(t).v128_const(new Uint8Array([255, 255, 255, 255, 0, 0, 0, 0, 255, 255, 255, 255, 0, 0, 0, 0])).simd(SIMD.v128_and);
  f.get(t).i32(32).simd(SIMD.i64x2_shr_u).simd(SIMD.i64x2_add);
  f.free(T.v128, d); f.free(T.v128, t);
});

/**
 * cmpps/cmppd/cmpss/cmpsd and their pseudo-op names (cmpeqps, cmpltsd, ...): the predicate is the
 * instruction's trailing imm8 (Capstone folds it into the mnemonic), the type its suffix.
 */
function cmpFloat(e: Emitter, i: Insn, env: JsEnv): void {
  const d = i.ops[0], s = i.ops[1];
  const f = e.f;
  const mnem = i.op; // (the mnemonic: no prefix word)
  const dbl = mnem.endsWith('d');
  const scalarOnly = mnem.endsWith('s' + (dbl ? 'd' : 's'));
  const p = i.bytes[i.bytes.length - 1] & 7;
  const b = loadVL(e, s);
  const a = loadVL(e, d);
  const r = f.temp(T.v128);
  const [eq, ne, lt, , le] = dbl ? [SIMD.f64x2_eq, SIMD.f64x2_ne, SIMD.f64x2_lt, SIMD.f64x2_gt, SIMD.f64x2_le] : [SIMD.f32x4_eq, SIMD.f32x4_ne, SIMD.f32x4_lt, SIMD.f32x4_gt, SIMD.f32x4_le];
  const ord = () => { f.get(a).get(a).simd(eq).get(b).get(b).simd(eq).simd(SIMD.v128_and); };
  switch (p) {
    case 0: f.get(a).get(b).simd(eq); break;
    case 1: f.get(a).get(b).simd(lt); break;
    case 2: f.get(a).get(b).simd(le); break;
    case 3: ord(); f.simd(SIMD.v128_not); break; // unordered
    case 4: f.get(a).get(b).simd(ne); break;
    case 5: f.get(a).get(b).simd(lt).simd(SIMD.v128_not); break; // not less than (true for NaN)
    case 6: f.get(a).get(b).simd(le).simd(SIMD.v128_not); break;
    case 7: ord(); break;
  }
  f.set(r);
  if (scalarOnly) {
    // Only the low lane changes; keep dst's upper lanes.
    const lanes: number[] = [];
    const w = dbl ? 8 : 4;
    for (let k = 0; k < 16; k++) lanes.push(k < w ? k : 16 + k);
    f.get(r).get(a).shuffle(lanes).set(r);
  }
  guardVec(e, env, i, { k: 'cmp' }, dbl ? L64 : L32, scalarOnly ? 1 : 0xf, a, b, null, () => storeV(e, d, r));
  f.free(T.v128, a); f.free(T.v128, b); f.free(T.v128, r);
}

const PRED = ['eq', 'lt', 'le', 'unord', 'neq', 'nlt', 'nle', 'ord'];

function cvt(body: (e: Emitter, v: number) => void, srcLowOnly = false, after?: Guarded): EmitFn {
  return (e, i, env) => {
    const d = i.ops[0], s = i.ops[1];
    const f = e.f;
    let v: number;
    if (srcLowOnly && s.kind === 'mem') {
      e.read(s, 8); v = f.temp(T.v128); f.i64x2Splat0(); f.set(v);
    } else v = loadVL(e, s);
    const r = f.temp(T.v128);
    body(e, v);
    f.set(r);
    if (after) after(e, i, env, v, v, r, () => storeV(e, d, r));
    else storeV(e, d, r);
    f.free(T.v128, v); f.free(T.v128, r);
  };
}

/** The guard of a one-source float conversion or square root: b = the source, r = the result. */
function convGuard(c: VecClass, F: LaneFmt, sel: number, promoteR = false): Guarded {
  return (e, i, env, _a, b, r, commit) => {
    let rr = r;
    if (promoteR) { rr = e.f.temp(T.v128); e.f.get(r).simd(SIMD.f64x2_promote_low_f32x4).set(rr); } // f64x2.promote_low_f32x4
    guardFlags(e, env, vecGuard(e, c, { F, sel, a: null, b, r: rr }, stageV(e, null, b), flagBody(i), commit));
    if (promoteR) e.f.free(T.v128, rr);
  };
}

/** cvtdq2ps: PE where an int32 lane has more than 24 significant bits. */
const cvtdq2psGuard: Guarded = (e, i, env, _a, b, r, commit) => {
  const f = e.f;
  guardFlags(e, env, {
    mask: PE,
    hot: () => { f.get(peLimit(e, null, 1)).f64(0).f64_gt(); },
    hotHasPE: true,
    hot2: () => { f.i32(1); },
    commit,
    // Exact iff converting back gives the integer (2^31 saturates to 2^31-1: excluded).
    exact: () => {
      f.get(r).simd(SIMD.i32x4_trunc_sat_f32x4_s).get(b).simd(SIMD.i32x4_eq); // i32x4.trunc_sat_f32x4_s, i32x4.eq
      const m = new Masks(e, L32);
      m.below(r, 2 ** 31).and().all(0xf);
      m.free();
    },
    stage: stageV(e, null, b),
    body: flagBody(i),
  });
};

/** pinsrw/pextrw. */
function pinsrw(e: Emitter, i: Insn): void {
  const d = i.ops[0], s = i.ops[1], imm = i.ops[2];
  const f = e.f;
  const k = Number((imm as { value: bigint }).value & 7n);
  const v = e.tmp64();
  e.read(s, 2); f.set(v);
  setLane(e, xn(d), 'i16', k, () => f.get(v).i32_wrap_i64());
  e.free64(v);
}

function pextrw(e: Emitter, i: Insn): void {
  const d = i.ops[0], s = i.ops[1], imm = i.ops[2];
  const f = e.f;
  const k = Number((imm as { value: bigint }).value & 7n);
  const v = e.tmp64();
  getLane(e, xn(s), 'i16', k);
  f.i64_extend_i32_u().set(v);
  e.write(d, v, d.size);
  e.free64(v);
}

function sqrtScalar(size: 4 | 8): EmitFn {
  const L = laneK(size);
  return (e, i, env) => {
    const d = i.ops[0], s = i.ops[1];
    const f = e.f;
    const n = xn(d);
    const a = e.xmm(n);
    const b = srcV(e, s, size);
    const r = f.temp(T.v128);
    f.get(a).get(b).lane(L.get, 0);
    if (size === 8) f.f64_sqrt(); else f.f32_sqrt();
    f.lane(L.set, 0).set(r);
    guardVec(e, env, i, { k: 'sqrt' }, fmtL(size), 1, a, b, r, () => { f.get(r).set(a); e.xmmDirty(n); });
    f.free(T.v128, r);
    freeSrc(e, s, b);
  };
}

/** cvtss2sd / cvtsd2ss: low lane conversion, upper lanes kept. */
function cvtScalar(toDouble: boolean): EmitFn {
  return (e, i, env) => {
    const d = i.ops[0], s = i.ops[1];
    const f = e.f;
    const n = xn(d);
    const a = e.xmm(n);
    const b = srcV(e, s, toDouble ? 4 : 8);
    const r = f.temp(T.v128);
    f.get(a);
    if (toDouble) f.get(b).lane(LANE.f32.get, 0).f64_promote_f32().lane(LANE.f64.set, 0);
    else f.get(b).lane(LANE.f64.get, 0).f32_demote_f64().lane(LANE.f32.set, 0);
    f.set(r);
    const commit = () => { f.get(r).set(a); e.xmmDirty(n); };
    if (toDouble) guardVec(e, env, i, { k: 'widen' }, L32, 1, a, b, null, commit);
    else {
      const r64 = f.temp(T.v128);
      f.get(r).simd(SIMD.f64x2_promote_low_f32x4).set(r64); // f64x2.promote_low_f32x4
      guardFlags(e, env, vecGuard(e, { k: 'narrow' }, { F: L64, sel: 1, a: null, b, r: r64 }, stageV(e, a, b), flagBody(i), commit));
      f.free(T.v128, r64);
    }
    f.free(T.v128, r);
    freeSrc(e, s, b);
  };
}

/** Packed float arithmetic: dst = op(dst, src) lane by lane, one SIMD opcode, guarded. */
function packedFloat(simdOp: number, F: LaneFmt, c: VecClass): EmitFn {
  return packedWith((e, a, b) => { e.f.get(a).get(b).simd(simdOp); },
    (e, i, env, a, b, r, commit) => guardVec(e, env, i, c, F, 0xf, a, b, r, commit));
}

/** minps/maxps/minpd/maxpd: per lane, the second operand wins unless the first compares less/greater. */
function minmaxPacked(cmpOp: number, F: LaneFmt): EmitFn {
  return packedWith((e, a, b) => {
    const f = e.f;
    f.get(a).get(b).get(a).get(b).simd(cmpOp).simd(SIMD.v128_bitselect); // bitselect(a, b, a OP b)
  }, (e, i, env, a, b, _r, commit) => guardVec(e, env, i, { k: 'cmp' }, F, 0xf, a, b, null, commit));
}

/**
 * Packed float -> int32 (cvt(t)ps2dq, cvt(t)pd2dq): round (nearest or toward zero: `roundOp`),
 * convert, and give the "integer indefinite" 0x80000000 for NaN and out-of-range lanes, where
 * Wasm's conversion would saturate. Guarded: |v| below 2^31 (2^31 - 1 when rounding to nearest
 * from double) cannot be out of range; PE where rounding moved a lane.
 */
function cvtToInt32(dbl: boolean, roundOp: number): EmitFn {
  return (e, i, env) => {
    const d = i.ops[0], s = i.ops[1];
    const f = e.f;
    const v = loadVL(e, s);
    const r = f.temp(T.v128);
    f.get(v).simd(roundOp).set(r);
    const nearestDbl = dbl && roundOp === SIMD.f64x2_nearest;
    const commit = () => {
      const bad = f.temp(T.v128);
      const out = f.temp(T.v128);
      const splat = (x: number) => { f.f64(x); if (dbl) f.simd(SIMD.f64x2_splat); else f.f32_demote_f64().simd(SIMD.f32x4_splat); };
      const [ne, lt, ge] = dbl ? [SIMD.f64x2_ne, SIMD.f64x2_lt, SIMD.f64x2_ge] : [SIMD.f32x4_ne, SIMD.f32x4_lt, SIMD.f32x4_ge];
      // bad = r != r | r >= 2^31 | r < -2^31
      f.get(r).get(r).simd(ne);
      f.get(r); splat(2147483648); f.simd(ge); f.simd(SIMD.v128_or);
      f.get(r); splat(-2147483648); f.simd(lt); f.simd(SIMD.v128_or);
      if (dbl) {
        // 64-bit lane masks -> the two low 32-bit lanes (the high two results are zero).
        f.v128_const(new Uint8Array(16)).shuffle([0, 1, 2, 3, 8, 9, 10, 11, 16, 16, 16, 16, 16, 16, 16, 16]);
      }
      f.set(bad);
      const indefinite = dbl ? [0, 0, 0, 0x80, 0, 0, 0, 0x80, 0, 0, 0, 0, 0, 0, 0, 0] : [0, 0, 0, 0x80, 0, 0, 0, 0x80, 0, 0, 0, 0x80, 0, 0, 0, 0x80];
      f.v128_const(indefinite);
      f.get(r).simd(dbl ? SIMD.i32x4_trunc_sat_f64x2_s_zero : SIMD.i32x4_trunc_sat_f32x4_s); // i32x4.trunc_sat_f64x2_s_zero / i32x4.trunc_sat_f32x4_s
      f.get(bad).simd(SIMD.v128_bitselect); // bitselect(indefinite, converted, bad)
      f.set(out);
      storeV(e, d, out);
      f.free(T.v128, bad); f.free(T.v128, out);
    };
    guardFlags(e, env, vecGuard(e, { k: 'toint', limit: nearestDbl ? 2 ** 31 - 1 : 2 ** 31 },
      { F: dbl ? L64 : L32, sel: 0xf, a: null, b: v, r }, stageV(e, null, v), flagBody(i), commit));
    f.free(T.v128, v); f.free(T.v128, r);
  };
}

export const sse: Family = {
  // The unaligned forms: exempt from the 16-byte alignment check.
  movaps: move, movups: { emit: move, align: 1 }, movapd: move, movupd: { emit: move, align: 1 },
  movdqa: move, movdqu: { emit: move, align: 1 }, lddqu: { emit: move, align: 1 },
  movntdq: move, movntps: move, movntpd: move,
  // A general-register store: no x87/SSE state, so no #NM with CR0.TS.
  movnti: { emit: (e, i) => { const v = e.readL(i.ops[1]); e.write(i.ops[0], v); e.free64(v); }, fpu: false },
  movd: movdq(4),
  movq: movdq(8),
  movss: movScalar(4),
  movsd: movScalar(8),
  // movlps/movhps: load into the low/high half of an xmm, or store that half to memory.
  movlps: movHalf(false, false), movlpd: movHalf(false, false),
  movhps: (e, i, env) => (i.ops[0].kind === 'mem' ? movHalf(false, true) : movHalf(true, false))(e, i, env),
  movhpd: (e, i, env) => (i.ops[0].kind === 'mem' ? movHalf(false, true) : movHalf(true, false))(e, i, env),
  movhlps: movHalf(false, true), movlhps: movHalf(true, false),
  pxor: packed(SIMD.v128_xor), xorps: packed(SIMD.v128_xor), xorpd: packed(SIMD.v128_xor),
  por: packed(SIMD.v128_or), orps: packed(SIMD.v128_or), orpd: packed(SIMD.v128_or),
  pand: packed(SIMD.v128_and), andps: packed(SIMD.v128_and), andpd: packed(SIMD.v128_and),
  pandn, andnps: pandn, andnpd: pandn,
  paddb: packed(SIMD.i8x16_add), paddw: packed(SIMD.i16x8_add), paddd: packed(SIMD.i32x4_add), paddq: packed(SIMD.i64x2_add),
  psubb: packed(SIMD.i8x16_sub), psubw: packed(SIMD.i16x8_sub), psubd: packed(SIMD.i32x4_sub), psubq: packed(SIMD.i64x2_sub),
  paddsb: packed(SIMD.i8x16_add_sat_s), paddusb: packed(SIMD.i8x16_add_sat_u), psubsb: packed(SIMD.i8x16_sub_sat_s), psubusb: packed(SIMD.i8x16_sub_sat_u),
  paddsw: packed(SIMD.i16x8_add_sat_s), paddusw: packed(SIMD.i16x8_add_sat_u), psubsw: packed(SIMD.i16x8_sub_sat_s), psubusw: packed(SIMD.i16x8_sub_sat_u),
  pcmpeqb: packed(SIMD.i8x16_eq), pcmpeqw: packed(SIMD.i16x8_eq), pcmpeqd: packed(SIMD.i32x4_eq),
  pcmpgtb: packed(SIMD.i8x16_gt_s), pcmpgtw: packed(SIMD.i16x8_gt_s), pcmpgtd: packed(SIMD.i32x4_gt_s),
  pminub: packed(SIMD.i8x16_min_u), pmaxub: packed(SIMD.i8x16_max_u), pminsw: packed(SIMD.i16x8_min_s), pmaxsw: packed(SIMD.i16x8_max_s),
  pavgb: packed(SIMD.i8x16_avgr_u), pavgw: packed(SIMD.i16x8_avgr_u),
  pmullw: packed(SIMD.i16x8_mul),
  // High halves of 16x16 products: widen with extmul, shift, narrow (the values fit, no saturation).
  pmulhw: packedWith((e, a, b) => {
    const f = e.f;
    f.get(a).get(b).simd(SIMD.i32x4_extmul_low_i16x8_s).i32(16).simd(SIMD.i32x4_shr_s).get(a).get(b).simd(SIMD.i32x4_extmul_high_i16x8_s).i32(16).simd(SIMD.i32x4_shr_s).simd(SIMD.i16x8_narrow_i32x4_s);
  }),
  pmulhuw: packedWith((e, a, b) => {
    const f = e.f;
    f.get(a).get(b).simd(SIMD.i32x4_extmul_low_i16x8_u).i32(16).simd(SIMD.i32x4_shr_u).get(a).get(b).simd(SIMD.i32x4_extmul_high_i16x8_u).i32(16).simd(SIMD.i32x4_shr_u).simd(SIMD.i16x8_narrow_i32x4_u);
  }),
  pmuludq,
  pmaddwd: packed(SIMD.i32x4_dot_i16x8_s), // i32x4.dot_i16x8_s
  minps: minmaxPacked(SIMD.f32x4_lt, L32), maxps: minmaxPacked(SIMD.f32x4_gt, L32), minpd: minmaxPacked(SIMD.f64x2_lt, L64), maxpd: minmaxPacked(SIMD.f64x2_gt, L64),
  cvtps2dq: cvtToInt32(false, SIMD.f32x4_nearest),
  cvtpd2dq: cvtToInt32(true, SIMD.f64x2_nearest),
  psadbw,
  packsswb: packed(SIMD.i8x16_narrow_i16x8_s), packuswb: packed(SIMD.i8x16_narrow_i16x8_u), packssdw: packed(SIMD.i16x8_narrow_i32x4_s),
  pmovmskb: movmsk(SIMD.i8x16_bitmask), movmskps: movmsk(SIMD.i32x4_bitmask), movmskpd: movmsk(SIMD.i64x2_bitmask),
  psllw: vshift(2, SIMD.i16x8_shl, false), pslld: vshift(4, SIMD.i32x4_shl, false), psllq: vshift(8, SIMD.i64x2_shl, false),
  psrlw: vshift(2, SIMD.i16x8_shr_u, false), psrld: vshift(4, SIMD.i32x4_shr_u, false), psrlq: vshift(8, SIMD.i64x2_shr_u, false),
  psraw: vshift(2, SIMD.i16x8_shr_s, true), psrad: vshift(4, SIMD.i32x4_shr_s, true),
  pslldq: byteShift(true), psrldq: byteShift(false),
  pshufd: pshuf('d'), pshuflw: pshuf('lw'), pshufhw: pshuf('hw'),
  shufps, shufpd,
  punpcklbw: unpack(1, false), punpcklwd: unpack(2, false), punpckldq: unpack(4, false), punpcklqdq: unpack(8, false),
  punpckhbw: unpack(1, true), punpckhwd: unpack(2, true), punpckhdq: unpack(4, true), punpckhqdq: unpack(8, true),
  unpcklps: unpack(4, false), unpckhps: unpack(4, true), unpcklpd: unpack(8, false), unpckhpd: unpack(8, true),
  pinsrw, pextrw,
  addss: scalar(4, (f) => f.f32_add(), ADD), addsd: scalar(8, (f) => f.f64_add(), ADD),
  subss: scalar(4, (f) => f.f32_sub(), SUB), subsd: scalar(8, (f) => f.f64_sub(), SUB),
  mulss: scalar(4, (f) => f.f32_mul(), MUL), mulsd: scalar(8, (f) => f.f64_mul(), MUL),
  divss: scalar(4, (f) => f.f32_div(), DIV), divsd: scalar(8, (f) => f.f64_div(), DIV),
  minss: minmax(4, true), minsd: minmax(8, true), maxss: minmax(4, false), maxsd: minmax(8, false),
  sqrtss: sqrtScalar(4), sqrtsd: sqrtScalar(8),
  addps: packedFloat(SIMD.f32x4_add, L32, ADD), addpd: packedFloat(SIMD.f64x2_add, L64, ADD), subps: packedFloat(SIMD.f32x4_sub, L32, SUB), subpd: packedFloat(SIMD.f64x2_sub, L64, SUB),
  mulps: packedFloat(SIMD.f32x4_mul, L32, MUL), mulpd: packedFloat(SIMD.f64x2_mul, L64, MUL), divps: packedFloat(SIMD.f32x4_div, L32, DIV), divpd: packedFloat(SIMD.f64x2_div, L64, DIV),
  sqrtpd: cvt((e, v) => { e.f.get(v).simd(SIMD.f64x2_sqrt); }, false, convGuard({ k: 'sqrt' }, L64, 0xf)),
  sqrtps: cvt((e, v) => { e.f.get(v).simd(SIMD.f32x4_sqrt); }, false, convGuard({ k: 'sqrt' }, L32, 0xf)),
  ucomiss: killsFlags(compareFlags(4)), comiss: killsFlags(compareFlags(4)),
  ucomisd: killsFlags(compareFlags(8)), comisd: killsFlags(compareFlags(8)),
  cvttsd2si: toInt(8, true), cvttss2si: toInt(4, true), cvtsd2si: toInt(8, false), cvtss2si: toInt(4, false),
  cvtsi2sd: fromInt(8), cvtsi2ss: fromInt(4),
  cvtss2sd: cvtScalar(true), cvtsd2ss: cvtScalar(false),
  cvtdq2pd: cvt((e, v) => { e.f.get(v).simd(SIMD.f64x2_convert_low_i32x4_s); }, true),
  cvtdq2ps: cvt((e, v) => { e.f.get(v).simd(SIMD.f32x4_convert_i32x4_s); }, false, cvtdq2psGuard),
  cvtps2pd: cvt((e, v) => { e.f.get(v).simd(SIMD.f64x2_promote_low_f32x4); }, true, convGuard({ k: 'widen' }, L32, 0x3)),
  cvtpd2ps: cvt((e, v) => { e.f.get(v).simd(SIMD.f32x4_demote_f64x2_zero); }, false, convGuard({ k: 'narrow' }, L64, 0x3, true)),
  cvttps2dq: cvtToInt32(false, SIMD.f32x4_trunc),
  cvttpd2dq: cvtToInt32(true, SIMD.f64x2_trunc),
  // The pseudo-ops (cmpeqps, cmpltsd...) decode as these (decoder/capstone.ts).
  cmpps: cmpFloat, cmppd: cmpFloat, cmpss: cmpFloat, cmpsd: cmpFloat,
  stmxcsr: (e, i) => { const v = e.tmp64(); e.f.get(e.cpu).i64_load32_u(CPU.mxcsr).set(v); e.write(i.ops[0], v, 4); e.free64(v); },
  ldmxcsr: (e, i) => { const v = e.readL(i.ops[0], 4); e.f.get(e.cpu).get(v).i64_store32(CPU.mxcsr); e.free64(v); },
};
