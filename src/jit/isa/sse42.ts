import type { Emitter } from '../emitter.js';
import { Unsupported } from '../emitter.js';
import type { Insn } from '../../decoder/ir.js';
import type { Family, EmitFn } from './types.js';
import { SIMD, T } from '../wasm/encoder.js';
import { F } from '../../core/rflags.js';
import { isX, loadVL, packed } from './sse.js';
import { FLAGS_KILL } from './table.js';

/**
 * SSE4.2: the packed string compares (pcmpistri pcmpestri pcmpistrm pcmpestrm), crc32 and
 * pcmpgtq. (popcnt, which CPUID reports next to SSE4.2, lives in bits.ts.)
 *
 * The string compares are inline Wasm SIMD specialised on their imm8 (a constant of the
 * instruction), so each translation holds only the element format, aggregation, polarity and
 * output it needs (glibc's strcspn/strspn/strpbrk run one per 16 bytes of text: a shell calls
 * them all the time). Intel SDM vol. 2, "PCMPESTRI" .. "PCMPISTRM", and section 4.1, "Imm8
 * control byte operation for PCMPESTRI / PCMPESTRM / PCMPISTRI / PCMPISTRM":
 *
 *   bits 1:0  element format: 00 unsigned bytes, 01 unsigned words, 10 signed bytes, 11 signed words
 *   bits 3:2  aggregation: 00 equal any, 01 ranges, 10 equal each, 11 equal ordered
 *   bits 5:4  polarity: 00 / 10 positive, 01 negative, 11 masked negative (only valid elements of b)
 *   bit 6     index forms: most (1) or least (0) significant set bit; mask forms: byte/word
 *             mask (1) or bit mask (0)
 *   bit 7     ignored
 *
 * `a` is the first operand (xmm1: the character set, the ranges or the needle), `b` the second
 * (xmm2/m128: the text). IntRes1 bit j says something about element j of b; elements past a
 * length are "invalid", and the SDM's override table (4-7) fixes the comparison of invalid elements:
 *   - equal any / ranges: a comparison involving an invalid element is false;
 *   - equal each: both invalid -> true, exactly one invalid -> false;
 *   - equal ordered: an invalid needle element (a) matches anything, a valid one never matches an
 *     invalid text element.
 * The results are kept as i32 bit masks (bit j = element j), made from the comparison vectors
 * with i8x16/i16x8.bitmask.
 */

interface StrFmt {
  /** Bytes per element and elements per operand. */
  w: 1 | 2;
  n: 8 | 16;
  /** All n result bits. */
  all: number;
  eq: number; ge: number; le: number; ltU: number; splat: number; bitmask: number;
}

function strFmt(imm: number): StrFmt {
  const signed = (imm & 2) !== 0;
  if (imm & 1) {
    return {
      w: 2, n: 8, all: 0xff, eq: SIMD.i16x8_eq, ge: signed ? SIMD.i16x8_ge_s : SIMD.i16x8_ge_u,
      le: signed ? SIMD.i16x8_le_s : SIMD.i16x8_le_u, ltU: SIMD.i16x8_lt_u, splat: SIMD.i16x8_splat,
      bitmask: SIMD.i16x8_bitmask,
    };
  }
  return {
    w: 1, n: 16, all: 0xffff, eq: SIMD.i8x16_eq, ge: signed ? SIMD.i8x16_ge_s : SIMD.i8x16_ge_u,
    le: signed ? SIMD.i8x16_le_s : SIMD.i8x16_le_u, ltU: SIMD.i8x16_lt_u, splat: SIMD.i8x16_splat,
    bitmask: SIMD.i8x16_bitmask,
  };
}

/** Shuffle lanes taking element idx[k] (of `w` bytes) into element k. */
const elemLanes = (w: number, idx: number[]) => idx.flatMap((k) => Array.from({ length: w }, (_, b) => k * w + b));
/** Shuffle lanes broadcasting element k. */
const splatLanes = (m: StrFmt, k: number) => elemLanes(m.w, new Array<number>(m.n).fill(k));
/** A v128 constant of n elements of width w, element k = val(k). */
function elemConst(m: StrFmt, val: (k: number) => number): Uint8Array {
  const v = new Uint8Array(16);
  for (let k = 0; k < m.n; k++) { v[k * m.w] = val(k) & 0xff; if (m.w === 2) v[k * m.w + 1] = val(k) >> 8; }
  return v;
}

/** The locals an aggregation reads: the operands (v128) and the valid lengths (i32, 0..n). */
interface StrOps { m: StrFmt; a: number; b: number; la: number; lb: number }

/** Pushes a vector whose element k is all ones where idx(k) < la. */
function validVec(e: Emitter, o: StrOps, idx: (k: number) => number): void {
  e.f.v128_const(elemConst(o.m, idx)).get(o.la).simd(o.m.splat).simd(o.m.ltU);
}

/** Pushes (1 << l) - 1: the valid elements as a bit mask. */
function validBits(e: Emitter, l: number): void {
  e.f.i32(1).get(l).i32_shl().i32(1).i32_sub();
}

/**
 * Equal any: b[j] is one of a[0..la). The invalid elements of a are first replaced by a[0], which
 * matches exactly what a[0] matches; only la = 0 then needs its own test (no match at all).
 */
function equalAny(e: Emitter, o: StrOps): void {
  const f = e.f, m = o.m;
  const ap = f.temp(T.v128);
  f.get(o.a).get(o.a).get(o.a).shuffle(splatLanes(m, 0));
  validVec(e, o, (k) => k);
  f.simd(SIMD.v128_bitselect).set(ap);
  for (let k = 0; k < m.n; k++) {
    f.get(o.b).get(ap).get(ap).shuffle(splatLanes(m, k)).simd(m.eq);
    if (k) f.simd(SIMD.v128_or);
  }
  f.free(T.v128, ap);
  f.simd(m.bitmask);
  validBits(e, o.lb);
  f.i32_and().i32(0).get(o.la).select();
}

/**
 * Ranges: a[2i] <= b[j] <= a[2i+1] for a pair inside a[0..la). Pairs not wholly valid are replaced
 * by the first pair (so la < 2 means no match), as in equalAny.
 */
function ranges(e: Emitter, o: StrOps): void {
  const f = e.f, m = o.m;
  const ap = f.temp(T.v128);
  f.get(o.a).get(o.a).get(o.a).shuffle(elemLanes(m.w, Array.from({ length: m.n }, (_, k) => k & 1)));
  validVec(e, o, (k) => k | 1);
  f.simd(SIMD.v128_bitselect).set(ap);
  for (let k = 0; k < m.n; k += 2) {
    f.get(o.b).get(ap).get(ap).shuffle(splatLanes(m, k)).simd(m.ge);
    f.get(o.b).get(ap).get(ap).shuffle(splatLanes(m, k + 1)).simd(m.le);
    f.simd(SIMD.v128_and);
    if (k) f.simd(SIMD.v128_or);
  }
  f.free(T.v128, ap);
  f.simd(m.bitmask);
  validBits(e, o.lb);
  f.i32_and().i32(0).get(o.la).i32(2).i32_ge_u().select();
}

/** Equal each: a[j] == b[j] where both are valid, true where neither is, false where one is. */
function equalEach(e: Emitter, o: StrOps): void {
  const f = e.f, m = o.m;
  const va = f.temp(T.i32), vb = f.temp(T.i32);
  validBits(e, o.la); f.set(va);
  validBits(e, o.lb); f.set(vb);
  f.get(o.a).get(o.b).simd(m.eq).simd(m.bitmask).get(va).i32_and().get(vb).i32_and();
  f.get(va).get(vb).i32_or().i32(m.all).i32_xor().i32_or();
  f.free(T.i32, va); f.free(T.i32, vb);
}

/**
 * Equal ordered: the needle a[0..la) starts at b[j]; a match may run off the end of the register
 * (needle elements past element n-1 of b match). Needle element k found at b[j+k] (valid) is bit
 * j+k of a row mask, shifted down by k; the rows of the valid needle elements are ANDed.
 */
function equalOrdered(e: Emitter, o: StrOps): void {
  const f = e.f, m = o.m;
  const acc = f.temp(T.i32), vb = f.temp(T.i32);
  validBits(e, o.lb); f.set(vb);
  f.i32(m.all).set(acc);
  for (let k = 0; k < m.n; k++) {
    f.get(acc);
    f.get(o.b).get(o.a).get(o.a).shuffle(splatLanes(m, k)).simd(m.eq).simd(m.bitmask).get(vb).i32_and();
    if (k) f.i32(k).i32_shr_u().i32(m.all ^ (m.all >>> k)).i32_or();
    f.i32_and().get(acc).get(o.la).i32(k).i32_gt_u().select().set(acc);
  }
  f.get(acc);
  f.free(T.i32, acc); f.free(T.i32, vb);
}

const AGGREGATE = [equalAny, ranges, equalEach, equalOrdered];

/**
 * Pushes a valid length: the index of the first zero element (implicit forms), else |rax| or
 * |rdx| (a signed 64-bit value; eax/edx sign-extended without REX.W) saturated to n.
 */
function strLen(e: Emitter, m: StrFmt, v: number, explicitReg: number, rexW: boolean): void {
  const f = e.f;
  if (explicitReg < 0) {
    f.get(v).v128_const(new Uint8Array(16)).simd(m.eq).simd(m.bitmask).i32(1 << m.n).i32_or().i32_ctz();
    return;
  }
  const x = e.tmp64(), t = e.tmp64();
  e.gpr(explicitReg);
  if (!rexW) f.i64_extend32_s();
  f.tee(x).get(x).i64(63).i64_shr_s().tee(t).i64_xor().get(t).i64_sub().set(x); // |x| (2^63 stays negative: unsigned, it saturates)
  f.i32(m.n).get(x).i32_wrap_i64().get(x).i64(m.n).i64_gt_u().select();
  e.free64(x, t);
}

/** pcmpistri / pcmpestri / pcmpistrm / pcmpestrm. */
function pcmpStr(explicit: boolean, index: boolean): EmitFn {
  return (e: Emitter, i: Insn) => {
    const d = i.ops[0], s = i.ops[1], immOp = i.ops[2];
    if (!isX(d) || immOp?.kind !== 'imm') throw new Unsupported(`${i.op} operands`);
    const imm = Number(immOp.value & 0xffn);
    const m = strFmt(imm);
    const f = e.f;
    // The memory operand first: a fault leaves before anything changes.
    const b = loadVL(e, s);
    const a = e.xmm(d.n);
    const la = f.temp(T.i32), lb = f.temp(T.i32), res = f.temp(T.i32);
    strLen(e, m, a, explicit ? 0 : -1, i.rexW); f.set(la);
    strLen(e, m, b, explicit ? 2 : -1, i.rexW); f.set(lb);
    AGGREGATE[(imm >> 2) & 3](e, { m, a, b, la, lb });
    switch ((imm >> 4) & 3) {
      case 1: f.i32(m.all).i32_xor(); break; // negative
      case 3: validBits(e, lb); f.i32_xor(); break; // masked negative: only b's valid elements flip
    }
    f.set(res);
    f.free(T.v128, b);

    if (index) {
      // ECX: the lowest or highest set bit, n if none (a 32-bit write: the upper half of RCX is cleared).
      if (imm & 0x40) f.i32(31).get(res).i32_clz().i32_sub().i32(m.n).get(res).select();
      else f.get(res).i32(1 << m.n).i32_or().i32_ctz();
      const v = e.tmp64();
      f.i64_extend_i32_u().set(v);
      e.setGpr(1, v);
      e.free64(v);
    } else if (imm & 0x40) {
      // XMM0: each element all ones where its bit is set. Bytes: the mask's low byte to lanes
      // 0-7, its high byte to lanes 8-15, then each lane tests its own bit.
      const bits = elemConst(m, (k) => 1 << (k & 7));
      f.get(res).simd(SIMD.i16x8_splat);
      if (m.w === 1) f.v128_const(new Uint8Array(16)).shuffle([0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1]);
      f.v128_const(bits).simd(SIMD.v128_and).v128_const(bits).simd(m.eq).set(e.xmm(0));
      e.xmmDirty(0);
    } else {
      f.get(res).i64_extend_i32_u().i64x2Splat0().set(e.xmm(0)); // XMM0: the bit mask, zero-extended
      e.xmmDirty(0);
    }

    // CF: any result bit; ZF / SF: b / a shorter than the register; OF: result bit 0; AF PF clear.
    f.i32(F.CF).i32(0).get(res).select();
    f.i32(F.ZF).i32(0).get(lb).i32(m.n).i32_lt_u().select().i32_or();
    f.i32(F.SF).i32(0).get(la).i32(m.n).i32_lt_u().select().i32_or();
    f.i32(F.OF).i32(0).get(res).i32(1).i32_and().select().i32_or();
    e.setEflagsFromStack();
    f.free(T.i32, la); f.free(T.i32, lb); f.free(T.i32, res);
  };
}

/** CRC-32C (Castagnoli), bit-reflected: the polynomial 0x1EDC6F41 reversed. */
const CRC32C_POLY = 0x82f63b78;

/**
 * crc32 r32/r64, r/m8/16/32/64: the CRC-32C of the source's bytes, continuing from the low 32 bits
 * of the destination; the result is zero-extended. Flags are unchanged. A reflected CRC is linear,
 * so XOR-ing up to 32 source bits in at once and then shifting once per bit equals the bytewise
 * algorithm; a 64-bit source is two such 32-bit rounds.
 */
function crc32(e: Emitter, i: Insn): void {
  const d = i.ops[0], s = i.ops[1];
  const f = e.f;
  const size = s.size;
  if (![1, 2, 4, 8].includes(size) || d.kind !== 'reg') throw new Unsupported('crc32 operands');
  const src = e.readL(s, size);
  const c = e.tmp32();
  const k = e.tmp32();
  e.read(d, 4);
  f.i32_wrap_i64().set(c);
  const round = (bits: number, shift: number) => {
    f.get(c).get(src);
    if (shift) f.i64(shift).i64_shr_u();
    f.i32_wrap_i64().i32_xor().set(c);
    f.i32(bits).set(k);
    f.loop();
    // c = (c >>> 1) ^ (POLY & -(c & 1))
    f.get(c).i32(1).i32_shr_u();
    f.i32(CRC32C_POLY | 0).i32(0).get(c).i32(1).i32_and().i32_sub().i32_and();
    f.i32_xor().set(c);
    f.get(k).i32(1).i32_sub().tee(k).br_if(0);
    f.end();
  };
  if (size === 8) { round(32, 0); round(32, 32); } else round(size * 8, 0);
  const r = e.tmp64();
  f.get(c).i64_extend_i32_u().set(r);
  e.setGpr(d.n, r);
  e.free64(src, r);
  e.free32(c, k);
}

export const sse42: Family = {
  // The SDM exempts the string compares from the 16-byte alignment check. They write all six
  // arithmetic flags (CF ZF SF OF from the result, AF PF cleared).
  pcmpistri: { emit: pcmpStr(false, true), align: 1, flags: FLAGS_KILL },
  pcmpestri: { emit: pcmpStr(true, true), align: 1, flags: FLAGS_KILL },
  pcmpistrm: { emit: pcmpStr(false, false), align: 1, flags: FLAGS_KILL },
  pcmpestrm: { emit: pcmpStr(true, false), align: 1, flags: FLAGS_KILL },
  crc32: { emit: crc32, fpu: false }, // general registers only: no #NM with CR0.TS
  pcmpgtq: packed(SIMD.i64x2_gt_s), // i64x2.gt_s
};
