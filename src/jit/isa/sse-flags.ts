import { CPU } from '../../core/layout.js';
import type { Emitter, JsEnv } from '../emitter.js';
import type { Insn } from '../../decoder/ir.js';
import { Bytes, Reloc, SIMD, T } from '../wasm/encoder.js';
import * as S from '../softfloat/ieee.js';
import { Exit } from '../../core/exits.js';

/**
 * Exact MXCSR exception flags for the inline ("fast") SSE floating-point translations.
 *
 * The inline Wasm SIMD arithmetic computes x86's results for MXCSR's default control (round to
 * nearest, no DAZ/FTZ, every exception masked: the only control those translations run under,
 * see isFastMxcsr) but raises no flags, and a program may read the sticky flags without ever
 * having written MXCSR (fetestexcept after a division). So every inline float instruction ends
 * with a guard, cheap on the common path:
 *  1. "hot": a few SIMD compares show every operand and result normal (and the result in the range
 *     the instruction class needs), so PE is the only flag it can raise; if MXCSR.PE is already
 *     set (nearly always, once a program has rounded anything), nothing more runs;
 *  2. otherwise: if everything the instruction can raise is already set in MXCSR, done;
 *  3. a finer test that also accepts zeros (x * 0, x - x: common, and exact) and the operands the
 *     class does not care about; passing it with PE set: done;
 *  4. passing it with PE clear: an exactness test per lane (TwoSum for add/sub, the exact double
 *     product for float32, a trailing-zero bound for float64); exact: done;
 *  5. otherwise the operands go to CPU.scratch, the region is left, and the softfloat
 *     (sse-bodies.ts) computes the instruction's exact flags, OR-ed into MXCSR. It never raises
 *     #XM: all exceptions are masked under the fast control.
 * Step 5 costs a return to the dispatcher: it runs for special operands (NaN, infinity, denormal,
 * a zero divisor, a tiny or huge result) while their flags are not yet all set, and for an
 * inexact result while PE is clear. Constants live in locals set in the region's prologue.
 */

export const IE = 0x1, DE = 0x2, ZE = 0x4, OE = 0x8, UE = 0x10, PE = 0x20;
export const ALL_FLAGS = 0x3f;

/** MXCSR's control bits (everything but the six flags) under which the fast translations run. */
export const FAST_CONTROL = 0x1f80;
/** Whether MXCSR value `mx` lets the fast translations run (only its sticky flags may differ). */
export const isFastMxcsr = (mx: number): boolean => (mx & ~ALL_FLAGS) === FAST_CONTROL;

/**
 * USMJIT_PRECISE_FP=1 runs the precise translations from the start; USMJIT_PRECISE_FP=0 forbids
 * them: a switch is an internal error (the differential tester's fast stream must stay fast).
 */
export function checkPreciseAllowed(): void {
  if (process.env.USMJIT_PRECISE_FP === '0') {
    throw new Error('MXCSR left the fast control under USMJIT_PRECISE_FP=0 (the precise SSE floating point is forbidden)');
  }
}

/** An instruction's exact flags from its staged operands (a: destination's old value, b: source). */
export type FlagBody = (a: bigint, b: bigint, env: S.Env) => void;

export interface Guard {
  /** Flags the instruction can raise at all. */
  mask: number;
  /** Pushes i32 1 if nothing but PE can be raised: the cheap test, run every time (step 1). */
  hot: () => void;
  /** `hot` already fails while PE is clear (PE-coupled limits): step 1 needs no MXCSR load. */
  hotHasPE?: boolean;
  /** Emitted first on the cold path (steps 2-5): e.g. materialises a vector the tests need. */
  cold?: () => void;
  /** The finer test of step 3 (required with hotHasPE). Absent: `hot` again. */
  hot2?: () => void;
  /** Pushes i32 1 if a hot instruction's result is exact. Absent: step 5 decides. */
  exact?: () => void;
  /** Stores the operands the body reads: a at CPU.scratch, b at CPU.scratch + 16. */
  stage: () => void;
  /** Writes the instruction's result (emitted on both paths, after the operands are staged). */
  commit: () => void;
  body: FlagBody;
}

/**
 * Emits the guard (steps 1-5 above) and the instruction's result (`commit`).
 *
 * Step 5 leaves the region: the result is committed, every register written back, and the region
 * tail-calls the runtime's `op` with the softfloat, which returns Exit.Lookup at the next
 * instruction. A plain call would make every value live across it (all of them, in a region)
 * be saved around it, and V8 places those spills on the common path too: the guards then cost
 * as much again as the arithmetic they guard.
 */
export function guardFlags(e: Emitter, env: JsEnv, g: Guard): void {
  const f = e.f;
  const hot = e.tmp32();
  const mx = e.tmp32();
  const pe = (g.mask & PE) !== 0;
  f.block();
  // 1. hot and PE set (hot is 0 or 1); for an instruction that cannot raise PE, hot alone.
  g.hot();
  const loadPE = pe && !g.hotHasPE;
  if (!g.hot2) f.tee(hot);
  if (loadPE) f.get(e.cpu).i32_load(CPU.mxcsr).tee(mx).i32(5).i32_shr_u().i32_and();
  f.br_if(0);
  if (!loadPE) f.get(e.cpu).i32_load(CPU.mxcsr).set(mx);
  // 2. Everything it can raise is set.
  f.get(mx).i32(g.mask).i32_and().i32(g.mask).i32_eq().br_if(0);
  // 3. The finer test.
  g.cold?.();
  if (g.hot2) g.hot2(); else f.get(hot);
  if (!pe) f.br_if(0);
  else {
    f.if_();
    f.get(mx).i32(PE).i32_and().br_if(1);
    // 4. Exactness.
    if (g.exact) { g.exact(); f.br_if(1); }
    f.end();
  }
  // 5. The softfloat, after leaving the region.
  g.stage();
  g.commit();
  e.spillAll();
  const body = g.body;
  const next = BigInt(e.insn.addr + e.insn.len);
  const id = e.host.registerOp((base) => {
    const cpu = env.cpu(base);
    const m = cpu.u32(CPU.mxcsr);
    const fenv = S.envOf(m);
    body(rd128(cpu, CPU.scratch), rd128(cpu, CPU.scratch + 16), fenv);
    cpu.setU32(CPU.mxcsr, m | fenv.flags);
    cpu.rip = next;
    cpu.setU32(CPU.exitSlot, 0);
    cpu.setU32(CPU.exitRegion, 0);
    return Exit.Lookup;
  }, e.insn.addr);
  f.get(e.cpu).i32_reloc(Reloc.Op, id).return_call_rt(e.rt.op);
  f.end();
  e.free32(hot, mx);
  g.commit();
}

const rd128 = (cpu: ReturnType<JsEnv['cpu']>, off: number): bigint => cpu.u64(off) | (cpu.u64(off + 8) << 64n);

/** Stages two v128 locals (or an i64 local as b, see fromInt) for the body. */
export function stageV(e: Emitter, a: number | null, b: number, bIsI64 = false): () => void {
  return () => {
    const f = e.f;
    if (a !== null) f.get(e.cpu).get(a).v128_store(CPU.scratch);
    if (bIsI64) f.get(e.cpu).get(b).i64_store(CPU.scratch + 16);
    else f.get(e.cpu).get(b).v128_store(CPU.scratch + 16);
  };
}

// ---- SIMD predicates ------------------------------------------------------------------------

/** Lane format: element width and the Wasm SIMD opcodes and limits for it. */
export interface LaneFmt {
  w: 4 | 8;
  /** Smallest normal and largest finite magnitude. */
  min: number;
  max: number;
  abs: number; eq: number; ne: number; lt: number; gt: number; le: number; ge: number;
}

export const L32: LaneFmt = { w: 4, min: 2 ** -126, max: 3.4028234663852886e38, abs: SIMD.f32x4_abs, eq: SIMD.f32x4_eq, ne: SIMD.f32x4_ne, lt: SIMD.f32x4_lt, gt: SIMD.f32x4_gt, le: SIMD.f32x4_le, ge: SIMD.f32x4_ge };
export const L64: LaneFmt = { w: 8, min: 2 ** -1022, max: Number.MAX_VALUE, abs: SIMD.f64x2_abs, eq: SIMD.f64x2_eq, ne: SIMD.f64x2_ne, lt: SIMD.f64x2_lt, gt: SIMD.f64x2_gt, le: SIMD.f64x2_le, ge: SIMD.f64x2_ge };

const AND = SIMD.v128_and, OR = SIMD.v128_or, ALL_TRUE32 = SIMD.i32x4_all_true;

/** Per region (one Emitter each): v128 constants held in locals set by the prologue. */
const constLocals = new WeakMap<Emitter, Map<string, number>>();

/** Pushes a v128 constant, from a local the region's prologue sets (once per region entry). */
export function pushConst(e: Emitter, bytes: Uint8Array): void {
  let m = constLocals.get(e);
  if (!m) constLocals.set(e, (m = new Map()));
  const key = bytes.join(',');
  let l = m.get(key);
  if (l === undefined) {
    l = e.f.local(T.v128);
    m.set(key, l);
    const p = e.f.prologue;
    p.u8(0xfd); p.u32(12); p.bytes(bytes); // v128.const
    p.u8(0x21); p.u32(l); // local.set
  }
  e.f.get(l);
}

/**
 * "PE-coupled" limits: locals holding `x` while MXCSR.PE is set and -1 while it is clear, so that
 * a step-1 test `|v| <= limit` (or `v*v <= limit`) passes only when PE is already set: the test
 * of the operands and the test of PE cost one compare. Set by the region's prologue and again,
 * through refreshPE, wherever PE may change inside a region (ldmxcsr, fxrstor); every other
 * change of MXCSR happens outside translated code (system calls, signal delivery, step 5, which
 * leaves the region), and a region's next entry runs the prologue. A stale "clear" would only
 * cost time; a stale "set" would lose PE, hence the refreshes.
 */
interface PeLimit { local: number; F: LaneFmt | null; x: number }
const peLimits = new WeakMap<Emitter, PeLimit[]>();

/** Writes `local = (MXCSR.PE ? x : -1)` (as a splat for a lane format, or a plain f64) into `b`. */
function peLimitCode(b: Bytes, cpu: number, l: PeLimit): void {
  const f64 = (x: number) => { const t = new Uint8Array(8); new DataView(t.buffer).setFloat64(0, x, true); b.u8(0x44); b.bytes(t); };
  f64(l.x);
  f64(-1);
  b.u8(0x20); b.u32(cpu); b.u8(0x28); b.u32(2); b.u32(CPU.mxcsr); // i32.load mxcsr
  b.u8(0x41); b.s32(PE); b.u8(0x71); // i32.and
  b.u8(0x1b); // select
  if (l.F?.w === 4) { b.u8(0xb6); b.u8(0xfd); b.u32(19); } // f32.demote_f64, f32x4.splat
  else if (l.F) { b.u8(0xfd); b.u32(20); } // f64x2.splat
  b.u8(0x21); b.u32(l.local);
}

/** The local of a PE-coupled limit (F: a v128 splat of that format; null: a plain f64). */
export function peLimit(e: Emitter, F: LaneFmt | null, x: number): number {
  let ls = peLimits.get(e);
  if (!ls) peLimits.set(e, (ls = []));
  let l = ls.find((k) => k.F === F && k.x === x);
  if (!l) {
    l = { local: e.f.local(F ? T.v128 : T.f64), F, x };
    ls.push(l);
    peLimitCode(e.f.prologue, e.cpu, l);
  }
  return l.local;
}

/** Re-derives every PE-coupled limit of the region from MXCSR (after code that may change PE). */
export function refreshPE(e: Emitter): void {
  e.f.placeholder(() => {
    const b = new Bytes(64);
    for (const l of peLimits.get(e) ?? []) peLimitCode(b, e.cpu, l);
    return b;
  });
}

/** A v128 constant: `x` in every lane of format F. */
export function splat(F: LaneFmt, x: number): Uint8Array {
  const b = new Uint8Array(16);
  const dv = new DataView(b.buffer);
  for (let k = 0; k < 16 / F.w; k++) {
    if (F.w === 8) dv.setFloat64(8 * k, x, true); else dv.setFloat32(4 * k, x, true);
  }
  return b;
}

/** All-ones in the lanes in `sel`. */
function laneMaskOf(F: LaneFmt, sel: number): Uint8Array {
  const b = new Uint8Array(16);
  for (let k = 0; k < 16 / F.w; k++) if ((sel >> k) & 1) b.fill(0xff, k * F.w, k * F.w + F.w);
  return b;
}

/** All-ones in the lanes NOT in `sel` (so OR-ing it into a mask ignores them), or null if none. */
function notSel(F: LaneFmt, sel: number): Uint8Array | null {
  const n = 16 / F.w;
  if ((sel & ((1 << n) - 1)) === (1 << n) - 1) return null;
  const b = new Uint8Array(16);
  for (let k = 0; k < n; k++) if (!((sel >> k) & 1)) b.fill(0xff, k * F.w, k * F.w + F.w);
  return b;
}

/**
 * Builds masks over v128 locals of one lane format: each method pushes a v128 with all-ones in
 * the lanes where the predicate holds. |x| is computed once per local.
 */
export class Masks {
  private absOf = new Map<number, number>();
  constructor(readonly e: Emitter, readonly F: LaneFmt) {}

  private abs(x: number): number {
    let t = this.absOf.get(x);
    if (t === undefined) {
      t = this.e.f.temp(T.v128);
      this.e.f.get(x).simd(this.F.abs).set(t);
      this.absOf.set(x, t);
    }
    return t;
  }

  private sqOf = new Map<number, number>();
  private sq(x: number): number {
    let t = this.sqOf.get(x);
    if (t === undefined) {
      t = this.e.f.temp(T.v128);
      this.e.f.get(x).get(x).simd(this.F.w === 8 ? SIMD.f64x2_mul : SIMD.f32x4_mul).set(t); // f64x2.mul / f32x4.mul
      this.sqOf.set(x, t);
    }
    return t;
  }

  /** x*x OP c, c a number or (as {local}) a v128 local: a magnitude test without abs. */
  cmpSq(x: number, op: number, c: number | { local: number }): this {
    this.e.f.get(this.sq(x));
    if (typeof c === 'number') pushConst(this.e, splat(this.F, c)); else this.e.f.get(c.local);
    this.e.f.simd(op);
    return this;
  }

  /** |x| OP the v128 local `l`. */
  cmpAbsL(x: number, op: number, l: number): this {
    this.e.f.get(this.abs(x)).get(l).simd(op);
    return this;
  }

  /** x OP the v128 local `l`. */
  cmpL(x: number, op: number, l: number): this {
    this.e.f.get(x).get(l).simd(op);
    return this;
  }

  /** Pushes a v128 constant. */
  v128Const(bytes: Uint8Array): this { pushConst(this.e, bytes); return this; }

  /** x OP c (signed). */
  cmp(x: number, op: number, c: number): this {
    this.e.f.get(x);
    pushConst(this.e, splat(this.F, c));
    this.e.f.simd(op);
    return this;
  }

  /** |x| OP c. */
  cmpAbs(x: number, op: number, c: number): this {
    this.e.f.get(this.abs(x));
    pushConst(this.e, splat(this.F, c));
    this.e.f.simd(op);
    return this;
  }

  /** Normal or zero: neither denormal nor infinite nor NaN. */
  ordinary(x: number): this {
    const f = this.e.f, F = this.F;
    this.cmpAbs(x, F.ge, F.min);
    this.zero(x);
    f.simd(OR);
    this.cmpAbs(x, F.le, F.max);
    f.simd(AND);
    return this;
  }

  /** min < |x| <= max for these limits (NaN: false). */
  within(x: number, min: number, max: number): this {
    this.cmpAbs(x, this.F.gt, min);
    this.cmpAbs(x, this.F.le, max);
    this.e.f.simd(AND);
    return this;
  }

  /** |x| >= min: not zero, denormal or NaN (infinities pass). */
  big(x: number): this { return this.cmpAbs(x, this.F.ge, this.F.min); }

  /** Normal: min <= |x| <= max (NaN: false). */
  normal(x: number): this {
    this.cmpAbs(x, this.F.ge, this.F.min);
    this.cmpAbs(x, this.F.le, this.F.max);
    this.e.f.simd(AND);
    return this;
  }

  /** Finite: |x| <= max. */
  finite(x: number): this { return this.cmpAbs(x, this.F.le, this.F.max); }

  /** |x| < c (NaN: false). */
  below(x: number, c: number): this { return this.cmpAbs(x, this.F.lt, c); }

  zero(x: number): this {
    this.e.f.get(x);
    pushConst(this.e, new Uint8Array(16));
    this.e.f.simd(this.F.eq);
    return this;
  }

  eq(x: number, y: number): this {
    this.e.f.get(x).get(y).simd(this.F.eq);
    return this;
  }

  and(): this { this.e.f.simd(AND); return this; }
  or(): this { this.e.f.simd(OR); return this; }

  /** Reduces the mask on the stack to i32: 1 if it holds in every lane of `sel`. */
  all(sel: number): void {
    const full = (1 << (16 / this.F.w)) - 1;
    const f = this.e.f;
    f.simd(this.F.w === 8 ? SIMD.i64x2_bitmask : SIMD.i32x4_bitmask); // i64x2.bitmask / i32x4.bitmask
    if ((sel & full) !== full) f.i32(sel & full).i32_and();
    f.i32(sel & full).i32_eq();
  }

  free(): void {
    for (const t of this.absOf.values()) this.e.f.free(T.v128, t);
    for (const t of this.sqOf.values()) this.e.f.free(T.v128, t);
    this.absOf.clear();
    this.sqOf.clear();
  }
}

// ---- instruction classes --------------------------------------------------------------------

/**
 * How a vector instruction's lanes relate: lane k of `r` is computed from lane k of `a` and `b`.
 *  add:    r = a + b (b negated in the lanes of `neg`: subtraction)
 *  mul, div: r = a * b, a / b
 *  sqrt:   r = sqrt(b)
 *  cmp:    flags from the operands alone (compares, comis, min, max): IE DE
 *  widen:  float32 b converted to float64: IE DE
 *  narrow: float64 b converted to float32; r is the result promoted back to float64
 *  toint:  b converted to int32 (`limit`: |b| below it cannot be out of range); r = b rounded, as a float
 *  round:  r = b rounded to an integer (float)
 */
export type VecClass =
  | { k: 'add'; neg?: number }
  | { k: 'mul' } | { k: 'div' } | { k: 'sqrt' }
  | { k: 'cmp' } | { k: 'widen' } | { k: 'narrow' }
  | { k: 'toint'; limit: number }
  | { k: 'round'; noPE: boolean };

export interface VecSite {
  F: LaneFmt;
  /** Lanes the instruction computes (bit k = lane k). */
  sel: number;
  /**
   * Scalar two-operand instructions: a local holding a's lane 0 and b's lane 0 in lanes 0 and 1,
   * so that step 1 tests both operands at once.
   */
  pair?: number;
  a: number | null;
  b: number;
  r: number | null;
}

const MASK: Record<VecClass['k'], number> = {
  add: IE | DE | OE | PE, mul: IE | DE | OE | UE | PE, div: IE | DE | ZE | OE | UE | PE, sqrt: IE | DE | PE,
  cmp: IE | DE, widen: IE | DE, narrow: IE | DE | OE | UE | PE, toint: IE | PE, round: IE | PE,
};

/** The flags a class can raise. */
export const classMask = (c: VecClass): number => (c.k === 'round' && c.noPE ? IE : MASK[c.k]);

/**
 * |operand| within [2^-K, 2^K] (K = 500 for float64, 60 for float32): then sums, products and
 * quotients of such operands are normal or zero, never overflow, never tiny.
 */
const WINDOW = (F: LaneFmt) => (F.w === 8 ? 2 ** 500 : 2 ** 60);

/**
 * Pushes the cheap "hot" i32 of step 1: a test of the operands alone (no NaN, infinity,
 * denormal or zero, and small and large enough that the class's result cannot leave the normal
 * range), so that PE is the only flag left.
 */
export function emitHot1(e: Emitter, c: VecClass, s: VecSite): void {
  const m = new Masks(e, s.F);
  const W = WINDOW(s.F);
  // The operands the class reads, with the lanes that matter.
  const ins: { v: number; sel: number }[] = [];
  const two = c.k === 'add' || c.k === 'mul' || c.k === 'div' || c.k === 'cmp';
  if (two && s.pair !== undefined) ins.push({ v: s.pair, sel: 0b11 });
  else {
    if (two) ins.push({ v: s.a!, sel: s.sel });
    ins.push({ v: s.b, sel: s.sel });
  }
  const peHi = (x: number) => peLimit(e, s.F, x);
  ins.forEach((x, k) => {
    switch (c.k) {
      // Squares: |v| in [1/W, W] without abs; the upper limit is PE-coupled. A zero operand is
      // exact too (x + 0, x * 0, 0 / x), except as a divisor.
      case 'add': case 'mul': case 'div':
        m.cmpSq(x.v, s.F.ge, 1 / (W * W)).cmpSq(x.v, s.F.le, { local: peHi(W * W) }).and();
        if (c.k !== 'div') m.zero(x.v).or();
        else if (k === 0 && s.pair === undefined) m.zero(x.v).or();
        else if (s.pair !== undefined) m.zero(x.v).v128Const(laneMaskOf(s.F, 0b1)).and().or(); // lane 0 = a
        break;
      // Positive normal: no IE, DE, and the root is normal.
      case 'sqrt': m.cmp(x.v, s.F.ge, s.F.min).cmpL(x.v, s.F.le, peHi(s.F.max)).and(); break;
      // Infinities raise nothing here; NaNs and denormals may.
      case 'cmp': m.big(x.v).zero(x.v).or(); break;
      case 'widen': m.big(x.v); break;
      case 'narrow': m.cmpSq(x.v, s.F.ge, 2 ** -240).cmpSq(x.v, s.F.le, { local: peHi(2 ** 240) }).and(); break;
      case 'toint': m.cmpAbsL(x.v, s.F.lt, peHi(c.limit)); break;
      // Not NaN (|v| <= inf); with imm[3] (no PE) not PE-coupled.
      case 'round': if (c.noPE) m.eq(x.v, x.v); else m.cmpAbsL(x.v, s.F.le, peHi(Infinity)); break;
    }
    if (k > 0) { // both operands with the same lanes (packed): one mask
      if (x.sel !== ins[0].sel) throw new Error('emitHot1: lanes differ');
      m.and();
    }
  });
  m.all(ins[0].sel);
  m.free();
}

/** Pushes the class's finer "hot" i32 of step 3 (see the header comment). */
export function emitHot(e: Emitter, c: VecClass, s: VecSite): void {
  const m = new Masks(e, s.F);
  const { a, b, r } = s;
  switch (c.k) {
    case 'add':
      // A finite sum of ordinary operands raises at most PE (tiny sums are exact).
      m.ordinary(a!).ordinary(b).and().finite(r!).and();
      break;
    case 'mul':
      // |r| = min is excluded: it may have been rounded up from a tiny product (UE).
      m.ordinary(a!).ordinary(b).and().within(r!, s.F.min, s.F.max).zero(r!).zero(a!).zero(b).or().and().or().and();
      break;
    case 'div':
      m.ordinary(a!).normal(b).and().within(r!, s.F.min, s.F.max).zero(r!).zero(a!).and().or().and();
      break;
    case 'sqrt':
      m.ordinary(b).finite(r!).and();
      break;
    case 'cmp':
      m.ordinary(a!).ordinary(b).and();
      break;
    case 'widen':
    case 'round':
      m.ordinary(b);
      break;
    case 'narrow':
      // r (float32, promoted) strictly normal for float32, or an exact zero.
      m.ordinary(b).within(r!, L32.min, L32.max).zero(r!).zero(b).and().or().and();
      break;
    case 'toint':
      m.below(b, c.limit);
      break;
  }
  m.all(s.sel);
  m.free();
}

/** Pushes the class's exactness i32 for a hot site, or returns false if it has no test. */
export function emitExact(e: Emitter, c: VecClass, s: VecSite): boolean {
  const f = e.f;
  const { F, a, b, r } = s;
  switch (c.k) {
    case 'toint':
    case 'round': {
      const m = new Masks(e, F);
      m.eq(r!, b).all(s.sel);
      m.free();
      return true;
    }
    case 'narrow': {
      const m = new Masks(e, L64);
      m.eq(r!, b).all(s.sel);
      m.free();
      return true;
    }
    case 'cmp':
    case 'widen':
      return false;
    default:
      break;
  }
  let first = true;
  for (let k = 0; k < 16 / F.w; k++) {
    if (!((s.sel >> k) & 1)) continue;
    laneExact(e, c, F, k, a, b, r!);
    if (!first) f.i32_and();
    first = false;
  }
  return true;
}

/** Pushes i32 1 if lane k of the (hot) result is exact. */
function laneExact(e: Emitter, c: VecClass, F: LaneFmt, k: number, a: number | null, b: number, r: number): void {
  const f = e.f;
  const d = F.w === 8;
  // Pushes lane k of x as f64 (float32 lanes promoted: exactly).
  const get = (x: number) => { f.get(x).lane(d ? SIMD.f64x2_extract_lane : SIMD.f32x4_extract_lane, k); if (!d) f.f64_promote_f32(); };
  const getRaw = (x: number) => { f.get(x).lane(d ? SIMD.f64x2_extract_lane : SIMD.f32x4_extract_lane, k); };
  switch (c.k) {
    case 'add': {
      // TwoSum (Knuth): with s = fl(a + b), bb = s - a, err = (a - (s - bb)) + (b - bb) is the
      // exact rounding error, in the lanes' own format (an overflowing step makes err NaN: "inexact").
      const t = f.temp(d ? T.f64 : T.f32);
      const add = () => (d ? f.f64_add() : f.f32_add());
      const sub = () => (d ? f.f64_sub() : f.f32_sub());
      const negB = ((c.neg ?? 0) >> k) & 1;
      const pushB = () => { getRaw(b); if (negB) { if (d) f.f64_neg(); else f.f32_neg(); } };
      getRaw(r); getRaw(a!); sub(); f.set(t); // bb
      getRaw(a!); getRaw(r); f.get(t); sub(); sub();
      pushB(); f.get(t); sub();
      add();
      if (d) f.f64(0).f64_eq(); else f.f64(0).f32_demote_f64().f32_eq();
      f.free(d ? T.f64 : T.f32, t);
      return;
    }
    case 'mul':
      if (!d) { get(a!); get(b); f.f64_mul(); get(r); f.f64_eq(); return; }
      // a or b zero, or fewer than 54 significant bits between them: the product is representable.
      get(a!); f.f64(0).f64_eq(); get(b); f.f64(0).f64_eq(); f.i32_or();
      tz(e, () => get(a!)); tz(e, () => get(b)); f.i64_add().i64(53).i64_ge_u();
      f.i32_or();
      return;
    case 'div':
      if (!d) { get(r); get(b); f.f64_mul(); get(a!); f.f64_eq(); return; }
      // a = 0, or r * b representable and equal to a (|a| > min: a product below min could
      // have been rounded up to it).
      get(a!); f.f64(0).f64_eq();
      tz(e, () => get(r)); tz(e, () => get(b)); f.i64_add().i64(53).i64_ge_u();
      get(r); get(b); f.f64_mul(); get(a!); f.f64_eq(); f.i32_and();
      get(a!); f.f64_abs().f64(F.min).f64_gt(); f.i32_and();
      f.i32_or();
      return;
    case 'sqrt':
      if (!d) { get(r); get(r); f.f64_mul(); get(b); f.f64_eq(); return; }
      get(b); f.f64(0).f64_eq();
      tz(e, () => get(r)); f.i64(1).i64_shl().i64(53).i64_ge_u();
      get(r); get(r); f.f64_mul(); get(b); f.f64_eq(); f.i32_and();
      get(b); f.f64_abs().f64(F.min).f64_gt(); f.i32_and();
      f.i32_or();
      return;
    default:
      throw new Error(`no lane exactness test for ${c.k}`);
  }
}

/** Pushes (i64) the trailing zeros of a normal float64's 53-bit significand. */
function tz(e: Emitter, push: () => void): void {
  push();
  e.f.i64_reinterpret_f64().i64(1n << 52n).i64_or().i64_ctz();
}

/** The guard of a vector site: hot/exact by class, the operands staged as given. */
export function vecGuard(e: Emitter, c: VecClass, s: VecSite, stage: () => void, body: FlagBody, commit: () => void): Guard {
  return {
    commit,
    mask: classMask(c),
    hot: () => emitHot1(e, c, s),
    hotHasPE: (classMask(c) & PE) !== 0,
    hot2: () => emitHot(e, c, s),
    exact: c.k === 'cmp' || c.k === 'widen' ? undefined : () => { emitExact(e, c, s); },
    stage,
    body,
  };
}

