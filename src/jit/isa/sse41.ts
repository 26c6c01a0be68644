import { CPU } from '../../core/layout.js';
import type { Operand } from '../../decoder/ir.js';
import type { Family, EmitFn } from './types.js';
import { SIMD, T } from '../wasm/encoder.js';
import { getLane, loadVL, move, packed, packedWith, setLane, storeV, xn, type LANE } from './sse.js';
import { killsFlags } from './table.js';
import { flagBody } from './sse-bodies.js';
import { guardFlags, IE, DE, OE, UE, PE, L32, L64, Masks, stageV, vecGuard } from './sse-flags.js';

/**
 * SSE4.1 (legacy 66 0f 38 / 66 0f 3a encodings), all inline Wasm SIMD. Memory operands: a full
 * m128 must be 16-byte aligned (loadV checks), the narrower ones (pmovsx/pmovzx m16/m32/m64,
 * insertps m32, roundss/roundsd, pinsr/pextr) need no alignment. Float results come from Wasm SIMD
 * ops that V8 lowers to the very SSE instructions being emulated (mulps, addps, roundps, ...).
 */

const imm8 = (o: Operand) => Number((o as { value: bigint }).value & 0xffn);
const ZERO = new Uint8Array(16);

/** Byte lanes of elements `idx` of `w` bytes (the second shuffle vector starts at 16 / w). */
const elems = (w: number, idx: number[]) => idx.flatMap((k) => Array.from({ length: w }, (_, b) => k * w + b));

/** A v128 constant with elements of `w` bytes set to all ones where `on(k)`. */
function laneMask(w: number, on: (k: number) => boolean): Uint8Array {
  const b = new Uint8Array(16);
  for (let k = 0; k < 16 / w; k++) if (on(k)) b.fill(0xff, k * w, k * w + w);
  return b;
}

/** pblendw/blendps/blendpd: element k from src where imm bit k is set, else from dst. */
function blendImm(w: number): EmitFn {
  return (e, i, env) => {
    const m = imm8(i.ops[2]);
    const lanes = elems(w, Array.from({ length: 16 / w }, (_, k) => ((m >> k) & 1 ? 16 / w + k : k)));
    packedWith((e2, a, b) => { e2.f.get(a).get(b).shuffle(lanes); })(e, i, env);
  };
}

/** pblendvb/blendvps/blendvpd: element from src where the sign bit of that element of XMM0 is set. */
function blendVar(w: 1 | 4 | 8): EmitFn {
  return packedWith((e, a, b) => {
    const f = e.f;
    f.get(b).get(a).get(e.xmm(0));
    if (w === 1) f.v128_const(ZERO).simd(SIMD.i8x16_lt_s);
    else f.i32(w * 8 - 1).simd(w === 4 ? SIMD.i32x4_shr_s : SIMD.i64x2_shr_s); // i32x4.shr_s / i64x2.shr_s
    f.simd(SIMD.v128_bitselect); // bitselect
  });
}

/** ptest: ZF = (dst & src) == 0, CF = (src & ~dst) == 0; AF OF PF SF cleared. */
const ptest: EmitFn = (e, i) => {
  const d = i.ops[0], s = i.ops[1];
  const f = e.f;
  const b = loadVL(e, s);
  const a = loadVL(e, d);
  f.get(a).get(b).simd(SIMD.v128_and).simd(SIMD.v128_any_true).i32_eqz().i32(6).i32_shl();
  f.get(b).get(a).simd(SIMD.v128_andnot).simd(SIMD.v128_any_true).i32_eqz().i32_or();
  e.setEflagsFromStack();
  f.free(T.v128, a); f.free(T.v128, b);
};

/**
 * pmovsx/pmovzx: widen the low elements of the source (an xmm, or an m16/m32/m64 that loadV
 * zero-extends into a vector) through `steps` extend_low ops.
 */
function pmovx(steps: number[]): EmitFn {
  return packedWith((e, _a, b) => {
    e.f.get(b);
    for (const op of steps) e.f.simd(op);
  });
}
const [XS8, XS16, XS32] = [SIMD.i16x8_extend_low_i8x16_s, SIMD.i32x4_extend_low_i16x8_s, SIMD.i64x2_extend_low_i32x4_s];
const [XU8, XU16, XU32] = [SIMD.i16x8_extend_low_i8x16_u, SIMD.i32x4_extend_low_i16x8_u, SIMD.i64x2_extend_low_i32x4_u];
const SX = { bw: [XS8], bd: [XS8, XS16], bq: [XS8, XS16, XS32], wd: [XS16], wq: [XS16, XS32], dq: [XS32] };
const ZX = { bw: [XU8], bd: [XU8, XU16], bq: [XU8, XU16, XU32], wd: [XU16], wq: [XU16, XU32], dq: [XU32] };

/** pmuldq: signed 32x32 -> 64 products of dwords 0 and 2. */
const pmuldq = packedWith((e, a, b) => {
  const even = elems(4, [0, 2, 0, 2]);
  e.f.get(a).get(a).shuffle(even).get(b).get(b).shuffle(even).simd(SIMD.i64x2_extmul_low_i32x4_s);
});

/**
 * phminposuw: word 0 = the minimum unsigned word of the source, bits 16-18 its lowest index, the
 * rest of the register zeroed.
 */
const phminposuw: EmitFn = (e, i) => {
  const d = i.ops[0], s = i.ops[1];
  const f = e.f;
  const v = loadVL(e, s);
  const mn = f.temp(T.v128);
  f.get(v).set(mn);
  for (const half of [4, 2, 1]) {
    const words = Array.from({ length: 8 }, (_, k) => (k + half) & 7);
    f.get(mn).get(mn).get(mn).shuffle(elems(2, words)).simd(SIMD.i16x8_min_u).set(mn);
  }
  f.get(mn).lane(25, 0);
  f.get(v).get(mn).get(mn).shuffle(elems(2, [0, 0, 0, 0, 0, 0, 0, 0])).simd(SIMD.i16x8_eq).simd(SIMD.i16x8_bitmask); // eq, bitmask
  f.i32_ctz().i32(16).i32_shl().i32_or();
  f.i64_extend_i32_u().i64x2Splat0().set(mn);
  storeV(e, d, mn);
  f.free(T.v128, v); f.free(T.v128, mn);
};

/** pextrb/pextrw/pextrd/pextrq/extractps: element imm (masked to the lane count) to r32/r64/memory. */
function pextr(kind: keyof typeof LANE, count: number): EmitFn {
  return (e, i) => {
    const d = i.ops[0], s = i.ops[1], imm = i.ops[2];
    const f = e.f;
    const v = e.tmp64();
    getLane(e, xn(s), kind, imm8(imm) & (count - 1));
    if (kind !== 'i64') f.i64_extend_i32_u();
    f.set(v);
    e.write(d, v, d.size);
    e.free64(v);
  };
}

/** pinsrb/pinsrd/pinsrq: r32/r64/memory into element imm. */
function pinsr(kind: keyof typeof LANE, count: number): EmitFn {
  return (e, i) => {
    const d = i.ops[0], s = i.ops[1], imm = i.ops[2];
    const f = e.f;
    const v = e.readL(s);
    setLane(e, xn(d), kind, imm8(imm) & (count - 1), () => { f.get(v); if (kind !== 'i64') f.i32_wrap_i64(); });
    e.free64(v);
  };
}

/**
 * insertps: dword imm[7:6] of the source (an m32 is dword 0) into dword imm[5:4] of dst, then the
 * dwords in the zero mask imm[3:0] cleared.
 */
const insertps: EmitFn = (e, i, env) => {
  const m = imm8(i.ops[2]);
  const from = i.ops[1].kind === 'mem' ? 0 : m >> 6;
  const to = (m >> 4) & 3;
  const lanes = elems(4, [0, 1, 2, 3].map((k) => (k === to ? 4 + from : k)));
  packedWith((e2, a, b) => {
    const f = e2.f;
    f.get(a).get(b).shuffle(lanes);
    if (m & 15) f.v128_const(laneMask(4, (k) => !((m >> k) & 1))).simd(SIMD.v128_and);
  })(e, i, env);
};

/**
 * roundps/roundpd/roundss/roundsd: imm[1:0] = nearest-even, down, up, toward zero; imm[2] set =
 * use MXCSR.RC instead (same encoding, read from the CPU block at run time); imm[3] only
 * suppresses the precision exception (the guard of sse-flags.ts keeps IE and PE exact). Scalar
 * forms keep dst's upper lanes.
 */
function round(dbl: boolean, scalar: boolean): EmitFn {
  // nearest, floor, ceil, trunc
  const ops = dbl ? [SIMD.f64x2_nearest, SIMD.f64x2_floor, SIMD.f64x2_ceil, SIMD.f64x2_trunc] : [SIMD.f32x4_nearest, SIMD.f32x4_floor, SIMD.f32x4_ceil, SIMD.f32x4_trunc];
  const w = dbl ? 8 : 4;
  return (e, i, env) => {
    const m = imm8(i.ops[2]);
    packedWith((e2, a, b) => {
      const f = e2.f;
      if (m & 4) {
        const rc = e2.tmp32();
        f.get(e2.cpu).i32_load(CPU.mxcsr).i32(13).i32_shr_u().i32(3).i32_and().set(rc);
        f.get(rc).i32_eqz().if_(T.v128);
        f.get(b).simd(ops[0]);
        f.else_();
        f.get(rc).i32(1).i32_eq().if_(T.v128);
        f.get(b).simd(ops[1]);
        f.else_();
        f.get(rc).i32(2).i32_eq().if_(T.v128);
        f.get(b).simd(ops[2]);
        f.else_();
        f.get(b).simd(ops[3]);
        f.end(); f.end(); f.end();
        e2.free32(rc);
      } else {
        f.get(b).simd(ops[m & 3]);
      }
      if (scalar) f.get(a).shuffle(Array.from({ length: 16 }, (_, k) => (k < w ? k : 16 + k)));
    }, (e2, i2, env2, a, b, r, commit) => {
      guardFlags(e2, env2, vecGuard(e2, { k: 'round', noPE: (m & 8) !== 0 },
        { F: dbl ? L64 : L32, sel: scalar ? 1 : 0xf, a: null, b, r }, stageV(e2, a, b), flagBody(i2), commit));
    })(e, i, env);
  };
}

/**
 * dpps/dppd: products of the elements selected by imm[7:4] (+0.0 for the others), summed in the
 * SDM's order ((p0 + p1) + (p2 + p3) for dpps), the sum written to the elements selected by
 * imm[3:0] and +0.0 to the rest.
 */
function dp(dbl: boolean): EmitFn {
  const w = dbl ? 8 : 4;
  const F = dbl ? L64 : L32;
  const [mul, add] = dbl ? [SIMD.f64x2_mul, SIMD.f64x2_add] : [SIMD.f32x4_mul, SIMD.f32x4_add];
  return (e, i, env) => {
    const m = imm8(i.ops[2]);
    const d = i.ops[0], s = i.ops[1];
    const f = e.f;
    const b = loadVL(e, s);
    const a = loadVL(e, d);
    const p = f.temp(T.v128);
    const t = f.temp(T.v128);
    const r = f.temp(T.v128);
    f.get(a).get(b).simd(mul).v128_const(laneMask(w, (k) => !!((m >> (4 + k)) & 1))).simd(SIMD.v128_and).set(p);
    if (dbl) {
      f.get(p).get(p).get(p).shuffle(elems(8, [1, 0])).simd(add).set(t);
    } else {
      f.get(p).get(p).get(p).shuffle(elems(4, [1, 0, 3, 2])).simd(add).set(t);
      f.get(t).get(t).get(t).shuffle(elems(4, [2, 3, 0, 1])).simd(add).set(t);
    }
    f.get(t).v128_const(ZERO).shuffle(elems(w, Array.from({ length: 16 / w }, (_, k) => ((m >> k) & 1 ? 0 : 16 / w)))).set(r);
    // Flags: hot when the selected products are products of ordinary operands, strictly normal
    // or exact zeros, and the sum is finite; no exactness test (the softfloat decides PE).
    guardFlags(e, env, {
      mask: IE | DE | OE | UE | PE,
      hot: () => {
        const ms = new Masks(e, F);
        ms.ordinary(a).ordinary(b).and().within(p, F.min, F.max).zero(p).zero(a).zero(b).or().and().or().and().all(m >> 4);
        ms.finite(t).all(1);
        f.i32_and();
        ms.free();
      },
      stage: stageV(e, a, b),
      commit: () => storeV(e, d, r),
      body: flagBody(i),
    });
    f.free(T.v128, p); f.free(T.v128, t); f.free(T.v128, r); f.free(T.v128, a); f.free(T.v128, b);
  };
}

/**
 * mpsadbw: eight sums of absolute differences between the 4-byte block of src at 4*imm[1:0] and
 * the 4-byte windows of dst starting at bytes o+0..o+7, o = 4*imm[2]. Bytes are widened to 16-bit
 * lanes by shuffling with a zero vector.
 */
const mpsadbw: EmitFn = (e, i, env) => {
  const m = imm8(i.ops[2]);
  const o1 = ((m >> 2) & 1) * 4;
  const o2 = (m & 3) * 4;
  packedWith((e2, a, b) => {
    const f = e2.f;
    for (let j = 0; j < 4; j++) {
      f.get(a).v128_const(ZERO).shuffle(Array.from({ length: 8 }, (_, k) => [o1 + j + k, 16]).flat());
      f.get(b).v128_const(ZERO).shuffle(Array.from({ length: 8 }, () => [o2 + j, 16]).flat());
      f.simd(SIMD.i16x8_sub).simd(SIMD.i16x8_abs); // i16x8.sub, i16x8.abs
      if (j) f.simd(SIMD.i16x8_add);
    }
  })(e, i, env);
};

export const sse41: Family = {
  pblendw: blendImm(2), blendps: blendImm(4), blendpd: blendImm(8),
  pblendvb: blendVar(1), blendvps: blendVar(4), blendvpd: blendVar(8),
  ptest: killsFlags(ptest),
  pmovsxbw: pmovx(SX.bw), pmovsxbd: pmovx(SX.bd), pmovsxbq: pmovx(SX.bq),
  pmovsxwd: pmovx(SX.wd), pmovsxwq: pmovx(SX.wq), pmovsxdq: pmovx(SX.dq),
  pmovzxbw: pmovx(ZX.bw), pmovzxbd: pmovx(ZX.bd), pmovzxbq: pmovx(ZX.bq),
  pmovzxwd: pmovx(ZX.wd), pmovzxwq: pmovx(ZX.wq), pmovzxdq: pmovx(ZX.dq),
  pminsb: packed(SIMD.i8x16_min_s), pmaxsb: packed(SIMD.i8x16_max_s), pminuw: packed(SIMD.i16x8_min_u), pmaxuw: packed(SIMD.i16x8_max_u),
  pminsd: packed(SIMD.i32x4_min_s), pmaxsd: packed(SIMD.i32x4_max_s), pminud: packed(SIMD.i32x4_min_u), pmaxud: packed(SIMD.i32x4_max_u),
  pmulld: packed(SIMD.i32x4_mul), pmuldq,
  pcmpeqq: packed(SIMD.i64x2_eq),
  packusdw: packed(SIMD.i16x8_narrow_i32x4_u),
  phminposuw,
  pextrb: pextr('i8', 16), pextrd: pextr('i32', 4), pextrq: pextr('i64', 2), extractps: pextr('i32', 4),
  pinsrb: pinsr('i8', 16), pinsrd: pinsr('i32', 4), pinsrq: pinsr('i64', 2),
  insertps,
  roundps: round(false, false), roundpd: round(true, false), roundss: round(false, true), roundsd: round(true, true),
  dpps: dp(false), dppd: dp(true),
  mpsadbw,
  movntdqa: move,
};
