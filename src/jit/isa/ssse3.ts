import type { Family, EmitFn } from './types.js';
import { packedWith } from './sse.js';
import { SIMD } from '../wasm/encoder.js';

/**
 * SSSE3, XMM forms only (MMX is neither implemented nor advertised: the MMX encodings decode to
 * `mm` registers, which loadV/storeV reject, so they raise #UD). Everything is inline Wasm SIMD.
 */

const splat8 = (v: number) => new Uint8Array(16).fill(v & 0xff);
const splat16 = (v: number) => { const b = new Uint8Array(16); for (let k = 0; k < 16; k += 2) { b[k] = v & 0xff; b[k + 1] = (v >> 8) & 0xff; } return b; };

/** Byte lanes picking elements `idx` of `w` bytes (0.. = first vector, 16/w.. = second). */
const elems = (w: number, idx: number[]) => idx.flatMap((k) => Array.from({ length: w }, (_, b) => k * w + b));

/**
 * pshufb: byte k = dst[src[k] & 15], or 0 when src[k] has bit 7 set. Wasm's swizzle gives 0 for
 * indices >= 16, so keeping bit 7 and the low nibble (src & 0x8f) is exactly x86's rule.
 */
const pshufb = packedWith((e, a, b) => {
  e.f.get(a).get(b).v128_const(splat8(0x8f)).simd(SIMD.v128_and).simd(SIMD.i8x16_swizzle);
});

/**
 * phadd/phsub (w, d; saturating sw): dst's adjacent pairs combined into the low half, src's into
 * the high half; subtraction is even - odd.
 */
function horizontal(w: 2 | 4, simdOp: number): EmitFn {
  const n = 16 / w;
  const even = Array.from({ length: n }, (_, k) => 2 * k);
  const odd = even.map((k) => k + 1);
  return packedWith((e, a, b) => {
    const f = e.f;
    f.get(a).get(b).shuffle(elems(w, even));
    f.get(a).get(b).shuffle(elems(w, odd));
    f.simd(simdOp);
  });
}

/**
 * pmaddubsw: unsigned bytes of dst times signed bytes of src, adjacent products added with signed
 * saturation. Each product fits in 16 bits, so widen each byte to a 16-bit lane (even bytes: mask
 * or shl+shr_s; odd bytes: shr), multiply, and add_sat_s.
 */
const pmaddubsw = packedWith((e, a, b) => {
  const f = e.f;
  f.get(a).v128_const(splat16(0xff)).simd(SIMD.v128_and); // dst even, unsigned
  f.get(b).i32(8).simd(SIMD.i16x8_shl).i32(8).simd(SIMD.i16x8_shr_s); // src even, signed (shl, shr_s)
  f.simd(SIMD.i16x8_mul);
  f.get(a).i32(8).simd(SIMD.i16x8_shr_u); // dst odd, unsigned
  f.get(b).i32(8).simd(SIMD.i16x8_shr_s); // src odd, signed
  f.simd(SIMD.i16x8_mul);
  f.simd(SIMD.i16x8_add_sat_s);
});

/**
 * pmulhrsw: (a*b + 0x4000) >> 15, truncated to 16 bits. Wasm's q15mulr_sat_s is the same except
 * that it saturates the one overflowing case (-32768 * -32768 -> 0x7fff, x86 gives 0x8000): flip
 * that lane back.
 */
const pmulhrsw = packedWith((e, a, b) => {
  const f = e.f;
  f.get(a).get(b).simd(SIMD.i16x8_q15mulr_sat_s);
  f.get(a).v128_const(splat16(0x8000)).simd(SIMD.i16x8_eq);
  f.get(b).v128_const(splat16(0x8000)).simd(SIMD.i16x8_eq);
  f.simd(SIMD.v128_and).simd(SIMD.v128_xor);
});

/**
 * psign (b, w, d): dst negated where src < 0, zeroed where src == 0, kept otherwise.
 * `ops`: [sub, lt_s, eq] of the lane type.
 */
function psign(ops: [number, number, number]): EmitFn {
  const sub = ops[0], lt = ops[1], eq = ops[2];
  return packedWith((e, a, b) => {
    const f = e.f;
    const zero = new Uint8Array(16);
    f.v128_const(zero).get(a).simd(sub); // -dst
    f.get(a);
    f.get(b).v128_const(zero).simd(lt);
    f.simd(SIMD.v128_bitselect); // bitselect(-dst, dst, src < 0)
    f.get(b).v128_const(zero).simd(eq);
    f.simd(SIMD.v128_andnot); // andnot: & ~(src == 0)
  });
}

/** pabs (b, w, d): dst = |src| (the minimum value stays itself, as on x86). */
function pabs(simdOp: number): EmitFn {
  return packedWith((e, _a, b) => { e.f.get(b).simd(simdOp); });
}

/**
 * palignr: the 32-byte concatenation dst:src shifted right by imm bytes, low 16 bytes kept
 * (zeros shifted in). Shuffle lanes 0-15 are src, 16-31 dst.
 */
const palignr: EmitFn = (e, i, env) => {
  const n = Number((i.ops[2] as { value: bigint }).value & 0xffn);
  const lanes: number[] = [];
  for (let k = 0; k < 16; k++) lanes.push(n <= 16 ? k + n : Math.min(k + n - 16, 16));
  // Both operands are always read: an m128 source faults (misaligned, unmapped) even if unused.
  packedWith((e2, a, b) => {
    const f = e2.f;
    if (n <= 16) f.get(b).get(a).shuffle(lanes);
    else if (n < 32) f.get(a).v128_const(new Uint8Array(16)).shuffle(lanes);
    else f.v128_const(new Uint8Array(16));
  })(e, i, env);
};

export const ssse3: Family = {
  pshufb,
  phaddw: horizontal(2, SIMD.i16x8_add), phaddd: horizontal(4, SIMD.i32x4_add), phaddsw: horizontal(2, SIMD.i16x8_add_sat_s),
  phsubw: horizontal(2, SIMD.i16x8_sub), phsubd: horizontal(4, SIMD.i32x4_sub), phsubsw: horizontal(2, SIMD.i16x8_sub_sat_s),
  pmaddubsw, pmulhrsw,
  psignb: psign([SIMD.i8x16_sub, SIMD.i8x16_lt_s, SIMD.i8x16_eq]), psignw: psign([SIMD.i16x8_sub, SIMD.i16x8_lt_s, SIMD.i16x8_eq]), psignd: psign([SIMD.i32x4_sub, SIMD.i32x4_lt_s, SIMD.i32x4_eq]),
  pabsb: pabs(SIMD.i8x16_abs), pabsw: pabs(SIMD.i16x8_abs), pabsd: pabs(SIMD.i32x4_abs),
  palignr,
};
