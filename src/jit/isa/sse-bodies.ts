import type { Insn, Operand } from '../../decoder/ir.js';
import * as S from '../softfloat/ieee.js';
import type { Fmt, Env } from '../softfloat/ieee.js';
import type { FlagBody } from './sse-flags.js';

/**
 * What each SSE floating-point instruction computes, exactly (softfloat/ieee.ts on 128-bit
 * bigints): the precise translations (sse-precise.ts) run these bodies, and the fast ones
 * (sse.ts, sse3.ts, sse41.ts) run them for the exception flags only, when their guard cannot
 * rule flags out (sse-flags.ts).
 */

const M32 = 0xffff_ffffn;
const M64 = (1n << 64n) - 1n;

export const lane = (v: bigint, w: 4 | 8, k: number): bigint => (v >> BigInt(k * w * 8)) & (w === 4 ? M32 : M64);
export function pack(w: 4 | 8, ls: bigint[]): bigint {
  let v = 0n;
  for (let k = ls.length - 1; k >= 0; k--) v = (v << BigInt(w * 8)) | (ls[k] & (w === 4 ? M32 : M64));
  return v;
}
const lanes = (v: bigint, w: 4 | 8): bigint[] => Array.from({ length: 16 / w }, (_, k) => lane(v, w, k));
export const fmtOf = (w: 4 | 8): Fmt => (w === 4 ? S.F32 : S.F64);
/** Replaces the low `w` bytes of v. */
export const withLow = (v: bigint, w: 4 | 8, x: bigint): bigint => (v & ~(w === 4 ? M32 : M64)) | x;
const imm8 = (o: Operand) => Number((o as { value: bigint }).value & 0xffn);

/** dst = body(dst, src): 128-bit values; b holds the source's low `mem` bytes when it is memory. */
export type Body = (a: bigint, b: bigint, env: Env) => bigint;
export interface VecOp {
  /** Bytes of a memory source operand. */
  mem: number;
  body: (i: Insn) => Body;
}

const fixed = (mem: number, body: Body): VecOp => ({ mem, body: () => body });

type Bin = (a: bigint, b: bigint, F: Fmt, env: Env) => bigint;
const ADD: Bin = (a, b, F, env) => S.add(a, b, false, F, env);
const SUB: Bin = (a, b, F, env) => S.add(a, b, true, F, env);
const MUL: Bin = (a, b, F, env) => S.mul(a, b, F, env);
const DIV: Bin = (a, b, F, env) => S.div(a, b, F, env);
const MIN: Bin = (a, b, F, env) => S.minmax(a, b, true, F, env);
const MAX: Bin = (a, b, F, env) => S.minmax(a, b, false, F, env);

function packedBin(w: 4 | 8, op: Bin): VecOp {
  const F = fmtOf(w);
  return fixed(16, (a, b, env) => pack(w, lanes(a, w).map((x, k) => op(x, lane(b, w, k), F, env))));
}

function scalarBin(w: 4 | 8, op: Bin): VecOp {
  const F = fmtOf(w);
  return fixed(w, (a, b, env) => withLow(a, w, op(lane(a, w, 0), lane(b, w, 0), F, env)));
}

const sqrtPacked = (w: 4 | 8): VecOp =>
  fixed(16, (_a, b, env) => pack(w, lanes(b, w).map((x) => S.sqrt(x, fmtOf(w), env))));
const sqrtScalar = (w: 4 | 8): VecOp =>
  fixed(w, (a, b, env) => withLow(a, w, S.sqrt(lane(b, w, 0), fmtOf(w), env)));

/** addsubps/pd: even lanes dst - src, odd lanes dst + src. */
function addsub(w: 4 | 8): VecOp {
  const F = fmtOf(w);
  return fixed(16, (a, b, env) => pack(w, lanes(a, w).map((x, k) => S.add(x, lane(b, w, k), (k & 1) === 0, F, env))));
}

/** haddps/hsubps/haddpd/hsubpd: dst's pairs then src's pairs, each even lane op odd lane. */
function horizontal(w: 4 | 8, subtract: boolean): VecOp {
  const F = fmtOf(w);
  return fixed(16, (a, b, env) => {
    const out: bigint[] = [];
    for (const v of [a, b]) {
      const ls = lanes(v, w);
      for (let k = 0; k < ls.length; k += 2) out.push(S.add(ls[k], ls[k + 1], subtract, F, env));
    }
    return pack(w, out);
  });
}

/** The compare predicate of cmpps/cmppd/cmpss/cmpsd and their pseudo-op names (from the imm8). */
export function cmpShape(i: Insn): { w: 4 | 8; scalarOnly: boolean; p: number } {
  const mnem = i.op; // (the mnemonic: no prefix word)
  const w: 4 | 8 = mnem.endsWith('d') ? 8 : 4;
  return { w, scalarOnly: mnem.endsWith(w === 8 ? 'sd' : 'ss'), p: i.bytes[i.bytes.length - 1] & 7 };
}

/** cmpps/cmppd/cmpss/cmpsd: all-ones where the predicate holds. */
const cmpFloat: VecOp = {
  mem: 16, // (scalar forms: see memSize)
  body: (i) => {
    const { w, scalarOnly, p } = cmpShape(i);
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
    return (a, b, envf) => {
      if (scalarOnly) return withLow(a, w, test(lane(a, w, 0), lane(b, w, 0), envf) ? ones : 0n);
      return pack(w, lanes(a, w).map((x, k) => (test(x, lane(b, w, k), envf) ? ones : 0n)));
    };
  },
};

/** Packed float -> int32 lanes (cvtps2dq, cvttps2dq, cvtpd2dq, cvttpd2dq: the high half zeroed). */
function toInt32Packed(w: 4 | 8, truncate: boolean): VecOp {
  const F = fmtOf(w);
  return fixed(16, (_a, b, env) => pack(4, lanes(b, w).map((x) => S.toInt(x, 32, truncate, F, env))));
}

/** roundps/pd/ss/sd: imm[1:0] the rounding mode unless imm[2] (MXCSR.RC); imm[3] suppresses PE. */
function round(w: 4 | 8, scalar: boolean): VecOp {
  const F = fmtOf(w);
  return {
    mem: scalar ? w : 16,
    body: (i) => {
      const m = imm8(i.ops[2]);
      return (a, b, envf) => {
        const rc = m & 4 ? envf.rc : m & 3;
        if (scalar) return withLow(a, w, S.roundInt(lane(b, w, 0), rc, (m & 8) !== 0, F, envf));
        return pack(w, lanes(b, w).map((x) => S.roundInt(x, rc, (m & 8) !== 0, F, envf)));
      };
    },
  };
}

/**
 * dpps/dppd: the products of the lanes selected by imm[7:4] (+0.0 for the others), summed as
 * (p0 + p1) + (p2 + p3), each step rounded; the sum to the lanes selected by imm[3:0].
 */
function dp(w: 4 | 8): VecOp {
  const F = fmtOf(w);
  const n = 16 / w;
  return {
    mem: 16,
    body: (i) => {
      const m = imm8(i.ops[2]);
      return (a, b, envf) => {
        const p = Array.from({ length: n }, (_, k) => ((m >> (4 + k)) & 1 ? S.mul(lane(a, w, k), lane(b, w, k), F, envf) : 0n));
        const sum = w === 8 ? S.add(p[0], p[1], false, F, envf)
          : S.add(S.add(p[0], p[1], false, F, envf), S.add(p[2], p[3], false, F, envf), false, F, envf);
        return pack(w, Array.from({ length: n }, (_, k) => ((m >> k) & 1 ? sum : 0n)));
      };
    },
  };
}

const CMP_NAMES = ['cmpps', 'cmppd', 'cmpss', 'cmpsd',
  ...['eq', 'lt', 'le', 'unord', 'neq', 'nlt', 'nle', 'ord'].flatMap((p) => ['ps', 'pd', 'ss', 'sd'].map((t) => 'cmp' + p + t))];

/** The instructions whose destination is an xmm register computed from (dst, src). */
export const VEC_OPS: Record<string, VecOp> = {
  addss: scalarBin(4, ADD), addsd: scalarBin(8, ADD), subss: scalarBin(4, SUB), subsd: scalarBin(8, SUB),
  mulss: scalarBin(4, MUL), mulsd: scalarBin(8, MUL), divss: scalarBin(4, DIV), divsd: scalarBin(8, DIV),
  minss: scalarBin(4, MIN), minsd: scalarBin(8, MIN), maxss: scalarBin(4, MAX), maxsd: scalarBin(8, MAX),
  addps: packedBin(4, ADD), addpd: packedBin(8, ADD), subps: packedBin(4, SUB), subpd: packedBin(8, SUB),
  mulps: packedBin(4, MUL), mulpd: packedBin(8, MUL), divps: packedBin(4, DIV), divpd: packedBin(8, DIV),
  minps: packedBin(4, MIN), minpd: packedBin(8, MIN), maxps: packedBin(4, MAX), maxpd: packedBin(8, MAX),
  sqrtss: sqrtScalar(4), sqrtsd: sqrtScalar(8), sqrtps: sqrtPacked(4), sqrtpd: sqrtPacked(8),
  addsubps: addsub(4), addsubpd: addsub(8),
  haddps: horizontal(4, false), hsubps: horizontal(4, true), haddpd: horizontal(8, false), hsubpd: horizontal(8, true),
  ...Object.fromEntries(CMP_NAMES.map((n) => [n, cmpFloat])),
  cvtss2sd: fixed(4, (a, b, env) => withLow(a, 8, S.convert(lane(b, 4, 0), S.F32, S.F64, env))),
  cvtsd2ss: fixed(8, (a, b, env) => withLow(a, 4, S.convert(lane(b, 8, 0), S.F64, S.F32, env))),
  cvtps2pd: fixed(8, (_a, b, env) => pack(8, [0, 1].map((k) => S.convert(lane(b, 4, k), S.F32, S.F64, env)))),
  cvtpd2ps: fixed(16, (_a, b, env) => pack(4, [0, 1].map((k) => S.convert(lane(b, 8, k), S.F64, S.F32, env)))),
  cvtdq2ps: fixed(16, (_a, b, env) => pack(4, lanes(b, 4).map((x) => S.fromInt(BigInt.asIntN(32, x), S.F32, env)))),
  cvtps2dq: toInt32Packed(4, false), cvttps2dq: toInt32Packed(4, true),
  cvtpd2dq: toInt32Packed(8, false), cvttpd2dq: toInt32Packed(8, true),
  roundps: round(4, false), roundpd: round(8, false), roundss: round(4, true), roundsd: round(8, true),
  dpps: dp(4), dppd: dp(8),
};

/** The memory operand size of a VEC_OPS instruction (cmpss/cmpsd read only their lane). */
export function memSize(i: Insn): number {
  const v = VEC_OPS[i.op];
  if (v === cmpFloat) { const { w, scalarOnly } = cmpShape(i); return scalarOnly ? w : 16; }
  return v.mem;
}

/** comiss/ucomiss/comisd/ucomisd: the comparison (comis* signal on QNaN too). */
export function comisCompare(i: Insn, a: bigint, b: bigint, env: Env): 'lt' | 'eq' | 'gt' | 'un' {
  const w: 4 | 8 = i.op.endsWith('d') ? 8 : 4;
  return S.compare(lane(a, w, 0), lane(b, w, 0), !i.op.startsWith('u'), fmtOf(w), env);
}

/** cvt(t)ss2si / cvt(t)sd2si: the low lane of b to a `bits`-bit integer. */
export function cvtToInt(i: Insn, b: bigint, bits: number, env: Env): bigint {
  const w: 4 | 8 = i.op.includes('sd2') ? 8 : 4;
  return S.toInt(lane(b, w, 0), bits, i.op.startsWith('cvtt'), fmtOf(w), env);
}

/** cvtsi2ss / cvtsi2sd: a signed integer (the source's `bits` low bits of b) to a float. */
export function cvtFromInt(i: Insn, b: bigint, bits: number, env: Env): bigint {
  return S.fromInt(BigInt.asIntN(bits, b), fmtOf(i.op.endsWith('sd') ? 8 : 4), env);
}

/** The exact-flags body of any SSE floating-point instruction (for the fast translations' guards). */
export function flagBody(i: Insn): FlagBody {
  const v = VEC_OPS[i.op];
  if (v) { const body = v.body(i); return (a, b, env) => { body(a, b, env); }; }
  if (/^u?comis[sd]$/.test(i.op)) return (a, b, env) => { comisCompare(i, a, b, env); };
  if (/^cvtt?s[sd]2si$/.test(i.op)) { const bits = i.ops[0].size * 8; return (_a, b, env) => { cvtToInt(i, b, bits, env); }; }
  if (/^cvtsi2s[sd]$/.test(i.op)) { const bits = i.ops[1].size * 8; return (_a, b, env) => { cvtFromInt(i, b, bits, env); }; }
  throw new Error(`no exact flags for ${i.op}`);
}
