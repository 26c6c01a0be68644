/**
 * Exact software floating point for the x87's 80-bit extended format, on BigInt.
 *
 * A value is { se, m }: `se` is the 16-bit sign/exponent word (sign in bit 15, biased exponent in
 * bits 0..14, bias 16383), `m` the 64-bit significand with its explicit integer bit (bit 63) —
 * exactly the 10 bytes an fstp m80 writes. Every operation computes the exact result (as an
 * integer times a power of two, or with a sticky bit) and rounds it once, so results are
 * bit-identical to the hardware's, including:
 *  - the control word's rounding control (RC) and precision control (PC: 24/53/64 bits; PC only
 *    shortens the significand, the exponent range stays the extended one);
 *  - masked-exception results: the default QNaN ("real indefinite", 0xFFFF_C000000000000000),
 *    NaN propagation (a QNaN operand wins over an SNaN, else the larger significand, else the
 *    positive one), overflow to ∞ or the largest finite value by RC, gradual underflow (tininess
 *    detected after rounding, UE only when also inexact);
 *  - operand classes as the CPU treats them: denormals and pseudo-denormals (exponent 0 with the
 *    integer bit set, read as exponent 1) raise DE; unnormals, pseudo-infinities and pseudo-NaNs
 *    are "unsupported" and raise IE with the indefinite result;
 *  - status flags, accumulated in Ctx.flags with their status word positions: IE DE ZE OE UE PE,
 *    and C1 (set when the result was rounded up in magnitude).
 * Only masked exception responses are modelled; the caller decides what to do with flags whose
 * exception is unmasked (see isa/x87.ts).
 */

export interface F80 {
  /** Sign (bit 15) and biased exponent (bits 0..14). */
  se: number;
  /** Significand, 64 bits, with the explicit integer bit (bit 63). */
  m: bigint;
}

// Status word bits.
export const IE = 0x1, DE = 0x2, ZE = 0x4, OE = 0x8, UE = 0x10, PE = 0x20, SF = 0x40, ES = 0x80;
export const C0 = 0x100, C1 = 0x200, C2 = 0x400, C3 = 0x4000;

/** Rounding control values (control word bits 10..11). */
export const RC_NEAREST = 0, RC_DOWN = 1, RC_UP = 2, RC_ZERO = 3;

/** Rounding context: RC, precision in bits, and the flags raised so far. */
export interface Ctx {
  rc: number;
  /** Significand precision for the PC-controlled operations: 24, 53 or 64. */
  pc: number;
  flags: number;
}

/** A context from a control word (PC 01, reserved, behaves like 64 bits on the hardware). */
export function ctxFromCw(cw: number): Ctx {
  const p = (cw >> 8) & 3;
  return { rc: (cw >> 10) & 3, pc: p === 0 ? 24 : p === 2 ? 53 : 64, flags: 0 };
}

export const BIAS = 16383;
const EXP_MAX = 0x7fff;
const J = 1n << 63n;
const QBIT = 1n << 62n;
const M64 = (1n << 64n) - 1n;
/** Exponent of the unit in the last place of an extended denormal: 2^-16445. */
const EXT_DENORM_Q = 1 - BIAS - 63;

export const INDEFINITE: F80 = Object.freeze({ se: 0xffff, m: 0xc000000000000000n }) as F80;
export const ZERO: F80 = Object.freeze({ se: 0, m: 0n }) as F80;
export const ONE: F80 = Object.freeze({ se: BIAS, m: J }) as F80;

export const f80 = (se: number, m: bigint): F80 => ({ se: se & 0xffff, m: m & M64 });
export const sign = (a: F80): number => (a.se >> 15) & 1;
export const expOf = (a: F80): number => a.se & EXP_MAX;
export const neg = (a: F80): F80 => ({ se: a.se ^ 0x8000, m: a.m });
export const abs = (a: F80): F80 => ({ se: a.se & 0x7fff, m: a.m });
const signed = (s: number, a: F80): F80 => ({ se: (a.se & 0x7fff) | (s << 15), m: a.m });
const inf = (s: number): F80 => ({ se: (s << 15) | EXP_MAX, m: J });
const zero = (s: number): F80 => ({ se: s << 15, m: 0n });

export type Class = 'zero' | 'denormal' | 'normal' | 'inf' | 'nan' | 'unsupported';

/**
 * The operand class as the arithmetic sees it. 'denormal' includes pseudo-denormals (exponent 0,
 * integer bit set); 'unsupported' covers unnormals, pseudo-infinities and pseudo-NaNs.
 */
export function classify(a: F80): Class {
  const e = a.se & EXP_MAX;
  if (e === 0) return a.m === 0n ? 'zero' : 'denormal';
  if ((a.m & J) === 0n) return 'unsupported';
  if (e === EXP_MAX) return (a.m & ~J) === 0n ? 'inf' : 'nan';
  return 'normal';
}

export const isNaN = (a: F80): boolean => classify(a) === 'nan';
export const isSNaN = (a: F80): boolean => classify(a) === 'nan' && (a.m & QBIT) === 0n;
const quiet = (a: F80): F80 => ({ se: a.se, m: a.m | QBIT });

/** Number of significant bits of a non-negative BigInt. */
export function bitlen(x: bigint): number {
  let n = 0;
  while (x > 0xffff_ffffn) { x >>= 32n; n += 32; }
  return n + 32 - Math.clz32(Number(x));
}

/** An exact finite value: (-1)^s * m * 2^e. */
interface Exact { s: number; m: bigint; e: number }

/** A finite operand (zero, denormal, pseudo-denormal or normal) as an exact value. */
function unpack(a: F80): Exact {
  const e = a.se & EXP_MAX;
  return { s: sign(a), m: a.m, e: (e === 0 ? 1 : e) - BIAS - 63 };
}

/** Exponent of the leading bit of a nonzero finite operand (denormals normalised). */
function leadExp(a: F80): number {
  const u = unpack(a);
  return u.e + bitlen(u.m) - 1;
}

// ---- rounding ------------------------------------------------------------------------------

/** A destination format: exponent range of the leading bit (normal numbers) and precision. */
interface Fmt { emin: number; emax: number }
const EXT: Fmt = { emin: 1 - BIAS, emax: BIAS };
const DBL: Fmt = { emin: -1022, emax: 1023 };
const SGL: Fmt = { emin: -126, emax: 127 };

/** A rounded result: inf, or k * 2^q with 0 <= k < 2^prec. */
type Rounded = { inf: true; s: number } | { inf: false; s: number; k: bigint; q: number };

/** Does rounding increment the kept part? (lsb: kept is odd; half/above: the dropped part.) */
function roundsUp(rc: number, s: number, odd: boolean, cmpHalf: number, inexact: boolean): boolean {
  if (!inexact) return false;
  switch (rc) {
    case RC_NEAREST: return cmpHalf > 0 || (cmpHalf === 0 && odd);
    case RC_DOWN: return s === 1;
    case RC_UP: return s === 0;
    default: return false;
  }
}

/** Splits m at `sh` dropped bits: kept part and how the dropped part compares with a half. */
function split(m: bigint, sh: number): { k: bigint; cmpHalf: number; inexact: boolean } {
  if (sh <= 0) return { k: m << BigInt(-sh), cmpHalf: -1, inexact: false };
  if (sh > 1024 && m < 1n << 1000n) return { k: 0n, cmpHalf: -1, inexact: m !== 0n }; // all of m is far below a half
  const b = BigInt(sh);
  const rem = m & ((1n << b) - 1n);
  const half = 1n << (b - 1n);
  return { k: m >> b, cmpHalf: rem > half ? 1 : rem < half ? -1 : 0, inexact: rem !== 0n };
}

/**
 * Rounds (-1)^s * m * 2^e (m > 0; with `sticky`, the true value is a little above m * 2^e: the
 * caller guarantees m has at least two bits below the rounding position) to `prec` significant
 * bits in format `fmt`, with gradual underflow. Raises PE, UE (tiny after rounding, and
 * inexact), OE, and C1 when the magnitude was rounded up.
 */
function round(s: number, m: bigint, e: number, sticky: boolean, fmt: Fmt, prec: number, ctx: Ctx): Rounded {
  if (sticky) { m = (m << 2n) | 1n; e -= 2; }
  const E = e + bitlen(m) - 1;
  const q = Math.max(E, fmt.emin) - prec + 1;
  const sp = split(m, q - e);
  let k = sp.k;
  const up = roundsUp(ctx.rc, s, (k & 1n) === 1n, sp.cmpHalf, sp.inexact);
  let qq = q;
  if (up) {
    k += 1n;
    if (k === 1n << BigInt(prec)) { k >>= 1n; qq += 1; }
  }
  const E2 = k === 0n ? -Infinity : qq + bitlen(k) - 1;
  if (E2 > fmt.emax) {
    ctx.flags |= OE | PE;
    const toInf = ctx.rc === RC_NEAREST || (ctx.rc === RC_UP && s === 0) || (ctx.rc === RC_DOWN && s === 1);
    if (toInf) { ctx.flags |= C1; return { inf: true, s }; }
    return { inf: false, s, k: (1n << BigInt(prec)) - 1n, q: fmt.emax - prec + 1 };
  }
  if (sp.inexact) {
    ctx.flags |= PE;
    if (up) ctx.flags |= C1;
    if (E < fmt.emin) {
      // Tiny unless rounding with an unbounded exponent would reach 2^emin.
      let tiny = true;
      if (E === fmt.emin - 1) {
        const u = split(m, E - prec + 1 - e);
        if (roundsUp(ctx.rc, s, (u.k & 1n) === 1n, u.cmpHalf, u.inexact) && u.k + 1n === 1n << BigInt(prec)) tiny = false;
      }
      if (tiny) ctx.flags |= UE;
    }
  }
  return { inf: false, s, k, q: qq };
}

/** Packs a rounded result into the extended format. */
function packExt(r: Rounded): F80 {
  if (r.inf) return inf(r.s);
  if (r.k === 0n) return zero(r.s);
  const E = r.q + bitlen(r.k) - 1;
  if (E < EXT.emin) return { se: r.s << 15, m: r.k << BigInt(r.q - EXT_DENORM_Q) };
  return { se: (r.s << 15) | (E + BIAS), m: r.k << BigInt(63 - (bitlen(r.k) - 1)) };
}

/** Rounds an exact value to extended precision with `prec` bits (zero when m == 0). */
function roundExt(s: number, m: bigint, e: number, sticky: boolean, prec: number, ctx: Ctx): F80 {
  if (m === 0n) return zero(s);
  return packExt(round(s, m, e, sticky, EXT, prec, ctx));
}

// ---- special operands ---------------------------------------------------------------------

/** The NaN a two-operand operation returns; raises IE for an SNaN. */
export function propagateNaN(a: F80, b: F80, ctx: Ctx): F80 {
  const na = isNaN(a), nb = isNaN(b);
  const sa = na && (a.m & QBIT) === 0n, sb = nb && (b.m & QBIT) === 0n;
  if (sa || sb) ctx.flags |= IE;
  if (na && nb) {
    if (sa && !sb) return quiet(b);
    if (sb && !sa) return quiet(a);
    if (a.m !== b.m) return quiet(a.m > b.m ? a : b);
    return quiet(sign(a) <= sign(b) ? a : b);
  }
  return quiet(na ? a : b);
}

function invalid(ctx: Ctx): F80 {
  ctx.flags |= IE;
  return INDEFINITE;
}

/**
 * Common screening of a two-operand arithmetic: unsupported formats and NaNs. Returns the
 * result when it is decided, else null.
 */
function screen2(a: F80, b: F80, ctx: Ctx): F80 | null {
  const ca = classify(a), cb = classify(b);
  if (ca === 'unsupported' || cb === 'unsupported') return invalid(ctx);
  if (ca === 'nan' || cb === 'nan') return propagateNaN(a, b, ctx);
  return null;
}

/** Raises DE for a denormal or pseudo-denormal operand (or `extra`: a narrower-format denormal). */
function denormCheck(ctx: Ctx, a: F80, b?: F80, extra = false): void {
  if (extra || ((a.se & EXP_MAX) === 0 && a.m !== 0n) || (b && (b.se & EXP_MAX) === 0 && b.m !== 0n)) ctx.flags |= DE;
}

// ---- arithmetic ---------------------------------------------------------------------------

/**
 * a + b (subtraction: addSub(a, b, true) = a - b). `prec` defaults to the PC precision; `xd`
 * (here and below) says one operand came from a denormal m32/m64 (it raises DE).
 */
export function addSub(a: F80, b: F80, subtract: boolean, ctx: Ctx, prec = ctx.pc, xd = false): F80 {
  const r = screen2(a, b, ctx);
  if (r) return r;
  const sb = sign(b) ^ (subtract ? 1 : 0);
  const ca = classify(a), cb = classify(b);
  if (ca === 'inf' || cb === 'inf') {
    if (ca === 'inf' && cb === 'inf' && sign(a) !== sb) return invalid(ctx);
    denormCheck(ctx, a, b, xd);
    return ca === 'inf' ? a : inf(sb);
  }
  denormCheck(ctx, a, b, xd);
  if (ca === 'zero' && cb === 'zero') {
    const s = sign(a) === sb ? sb : ctx.rc === RC_DOWN ? 1 : 0;
    return zero(s);
  }
  const x = unpack(a), y = unpack(b);
  y.s = sb;
  if (x.m === 0n) return roundExt(y.s, y.m, y.e, false, prec, ctx);
  if (y.m === 0n) return roundExt(x.s, x.m, x.e, false, prec, ctx);
  // Align; an operand entirely below the other's rounding position only matters as a sticky
  // nudge, so cap the alignment shift (the larger has at most 64 bits: 200 bits is plenty).
  let [big, small] = x.e + bitlen(x.m) >= y.e + bitlen(y.m) ? [x, y] : [y, x];
  const bigTop = big.e + bitlen(big.m);
  if (small.e + bitlen(small.m) < bigTop - 140) {
    small = { s: small.s, m: 1n, e: big.e - 140 };
    big = { s: big.s, m: big.m << 141n, e: big.e - 141 };
  }
  const e = Math.min(big.e, small.e);
  const vb = (big.m << BigInt(big.e - e)) * (big.s ? -1n : 1n);
  const vs = (small.m << BigInt(small.e - e)) * (small.s ? -1n : 1n);
  const sum = vb + vs;
  if (sum === 0n) return zero(ctx.rc === RC_DOWN ? 1 : 0);
  return roundExt(sum < 0n ? 1 : 0, sum < 0n ? -sum : sum, e, false, prec, ctx);
}

export const add = (a: F80, b: F80, ctx: Ctx): F80 => addSub(a, b, false, ctx);
export const sub = (a: F80, b: F80, ctx: Ctx): F80 => addSub(a, b, true, ctx);

export function mul(a: F80, b: F80, ctx: Ctx, prec = ctx.pc, xd = false): F80 {
  const r = screen2(a, b, ctx);
  if (r) return r;
  const s = sign(a) ^ sign(b);
  const ca = classify(a), cb = classify(b);
  if (ca === 'inf' || cb === 'inf') {
    if (ca === 'zero' || cb === 'zero') return invalid(ctx);
    denormCheck(ctx, a, b, xd);
    return inf(s);
  }
  denormCheck(ctx, a, b, xd);
  if (ca === 'zero' || cb === 'zero') return zero(s);
  const x = unpack(a), y = unpack(b);
  return roundExt(s, x.m * y.m, x.e + y.e, false, prec, ctx);
}

export function div(a: F80, b: F80, ctx: Ctx, prec = ctx.pc, xd = false): F80 {
  const r = screen2(a, b, ctx);
  if (r) return r;
  const s = sign(a) ^ sign(b);
  const ca = classify(a), cb = classify(b);
  if (ca === 'inf') {
    if (cb === 'inf') return invalid(ctx);
    denormCheck(ctx, b, undefined, xd);
    return inf(s);
  }
  if (cb === 'inf') { denormCheck(ctx, a, undefined, xd); return zero(s); }
  if (cb === 'zero') {
    if (ca === 'zero') return invalid(ctx);
    ctx.flags |= ZE;
    return inf(s);
  }
  denormCheck(ctx, a, b, xd);
  if (ca === 'zero') return zero(s);
  const x = unpack(a), y = unpack(b);
  // Quotient with at least 66 significant bits, remainder as sticky.
  const k = Math.max(0, 67 + bitlen(y.m) - bitlen(x.m));
  const num = x.m << BigInt(k);
  const quo = num / y.m;
  return roundExt(s, quo, x.e - k - y.e, quo * y.m !== num, prec, ctx);
}

/** Integer square root (floor) of a non-negative BigInt. */
export function isqrt(n: bigint): bigint {
  if (n < 2n) return n;
  let x = 1n << BigInt((bitlen(n) + 1) >> 1);
  for (;;) {
    const y = (x + n / x) >> 1n;
    if (y >= x) return x;
    x = y;
  }
}

export function sqrt(a: F80, ctx: Ctx, prec = ctx.pc): F80 {
  const c = classify(a);
  if (c === 'unsupported') return invalid(ctx);
  if (c === 'nan') return propagateNaN(a, a, ctx);
  if (c === 'zero') return a;
  if (sign(a)) return invalid(ctx);
  if (c === 'inf') return a;
  denormCheck(ctx, a);
  const x = unpack(a);
  // m * 2^e with e even and m having at least 2*67 bits.
  let k = Math.max(0, 134 - bitlen(x.m));
  if ((x.e - k) & 1) k++;
  const n = x.m << BigInt(k);
  const r = isqrt(n);
  return roundExt(0, r, (x.e - k) / 2, r * r !== n, prec, ctx);
}

/** Rounds to an integer by RC (frndint). */
export function roundInt(a: F80, ctx: Ctx, rc = ctx.rc): F80 {
  const c = classify(a);
  if (c === 'unsupported') return invalid(ctx);
  if (c === 'nan') return propagateNaN(a, a, ctx);
  if (c === 'zero' || c === 'inf') return a;
  denormCheck(ctx, a);
  const x = unpack(a);
  if (x.e >= 0) return a;
  const sp = split(x.m, -x.e);
  let k = sp.k;
  const up = roundsUp(rc, x.s, (k & 1n) === 1n, sp.cmpHalf, sp.inexact);
  if (up) k += 1n;
  if (sp.inexact) { ctx.flags |= PE; if (up) ctx.flags |= C1; }
  if (k === 0n) return zero(x.s);
  return roundExt(x.s, k, 0, false, 64, ctx);
}

/** fscale: a * 2^trunc(b). */
export function scale(a: F80, b: F80, ctx: Ctx): F80 {
  const r = screen2(a, b, ctx);
  if (r) return r;
  const ca = classify(a), cb = classify(b);
  if (cb === 'inf') {
    if (sign(b) === 0) {
      if (ca === 'zero') return invalid(ctx);
      denormCheck(ctx, a);
      return ca === 'inf' ? a : inf(sign(a));
    }
    if (ca === 'inf') return invalid(ctx);
    denormCheck(ctx, a);
    return zero(sign(a));
  }
  denormCheck(ctx, a, b);
  if (ca === 'inf' || ca === 'zero') return a;
  // trunc(b), saturated far beyond any exponent range.
  let n = 0;
  if (cb !== 'zero') {
    const y = unpack(b);
    const E = y.e + bitlen(y.m) - 1;
    if (E >= 20) n = 1 << 20;
    else if (E >= 0) n = Number(y.m >> BigInt(-y.e));
    if (y.s) n = -n;
  }
  const x = unpack(a);
  return roundExt(x.s, x.m, x.e + n, false, 64, ctx);
}

/** fxtract: [exponent, significand] of a (the significand is in [1, 2) with a's sign). */
export function xtract(a: F80, ctx: Ctx): [F80, F80] {
  const c = classify(a);
  if (c === 'unsupported') { invalid(ctx); return [INDEFINITE, INDEFINITE]; }
  if (c === 'nan') { const q = propagateNaN(a, a, ctx); return [q, q]; }
  if (c === 'zero') { ctx.flags |= ZE; return [inf(1), a]; }
  if (c === 'inf') return [inf(0), a];
  denormCheck(ctx, a);
  const E = leadExp(a);
  const x = unpack(a);
  const sig = { se: (x.s << 15) | BIAS, m: x.m << BigInt(64 - bitlen(x.m)) };
  return [fromInt(BigInt(E)), sig];
}

/**
 * fprem (ieee = false: quotient truncated) / fprem1 (ieee = true: quotient rounded to nearest
 * even). Returns the new ST(0) and the C0 C1 C2 C3 bits: C2 set when the reduction is partial;
 * when complete, C0 = Q2, C3 = Q1, C1 = Q0 of the quotient. cc is null for NaN and invalid
 * operands (the hardware then clears C1 and C2 and leaves C0 and C3).
 */
export function prem(a: F80, b: F80, ieee: boolean, ctx: Ctx): { r: F80; cc: number | null } {
  const ca = classify(a), cb = classify(b);
  if (ca === 'unsupported' || cb === 'unsupported') return { r: invalid(ctx), cc: null };
  if (ca === 'nan' || cb === 'nan') return { r: propagateNaN(a, b, ctx), cc: null };
  if (ca === 'inf' || cb === 'zero') return { r: invalid(ctx), cc: null };
  denormCheck(ctx, a, b);
  if (ca === 'zero' || cb === 'inf') return { r: ca === 'denormal' ? normalise(a) : a, cc: 0 };
  const x = unpack(a), y = unpack(b);
  const ea = leadExp(a), eb = leadExp(b);
  const d = ea - eb;
  if (d >= 64) {
    // Partial remainder: reduce by a multiple of b * 2^(d - n).
    const n = 32 + (d & 31);
    const shift = d - n; // y scaled by 2^shift
    const e = Math.min(x.e, y.e + shift);
    const xm = x.m << BigInt(x.e - e);
    const ym = y.m << BigInt(y.e + shift - e);
    const rm = xm % ym;
    return { r: roundExt(x.s, rm, e, false, 64, ctx), cc: C2 };
  }
  if (d < -1 || (d < 0 && !ieee)) {
    return { r: ca === 'denormal' ? normalise(a) : a, cc: 0 };
  }
  const e = Math.min(x.e, y.e);
  const xm = x.m << BigInt(x.e - e);
  const ym = y.m << BigInt(y.e - e);
  let qt = xm / ym;
  let rm = xm - qt * ym;
  let s = x.s;
  if (ieee) {
    const twice = rm << 1n;
    if (twice > ym || (twice === ym && (qt & 1n) === 1n)) {
      qt += 1n;
      rm = ym - rm;
      s ^= 1;
    }
  }
  const cc = ((qt & 4n) ? C0 : 0) | ((qt & 2n) ? C3 : 0) | ((qt & 1n) ? C1 : 0);
  if (rm === 0n) return { r: zero(x.s), cc };
  return { r: roundExt(s, rm, e, false, 64, ctx), cc };
}

/** A pseudo-denormal or denormal in canonical form (value unchanged; exact). */
function normalise(a: F80): F80 {
  const x = unpack(a);
  const ctx: Ctx = { rc: 0, pc: 64, flags: 0 };
  return roundExt(x.s, x.m, x.e, false, 64, ctx);
}

// ---- comparison ---------------------------------------------------------------------------

/** -1 (a < b), 0 (equal), 1 (a > b), or 2 (unordered). */
export type Order = -1 | 0 | 1 | 2;

/**
 * Compares a with b. `quietNaN`: fucom semantics (only an SNaN raises IE); otherwise any NaN
 * raises IE (fcom). Unsupported formats raise IE and compare unordered.
 */
export function compare(a: F80, b: F80, quietNaN: boolean, ctx: Ctx, xd = false): Order {
  const ca = classify(a), cb = classify(b);
  if (ca === 'unsupported' || cb === 'unsupported') { ctx.flags |= IE; return 2; }
  if (ca === 'nan' || cb === 'nan') {
    if (!quietNaN || isSNaN(a) || isSNaN(b)) ctx.flags |= IE;
    return 2;
  }
  denormCheck(ctx, a, b, xd);
  return cmpValues(a, b);
}

/** Orders two non-NaN supported values. */
function cmpValues(a: F80, b: F80): -1 | 0 | 1 {
  const ca = classify(a), cb = classify(b);
  if (ca === 'zero' && cb === 'zero') return 0;
  const sa = sign(a), sb = sign(b);
  if (ca === 'zero') return sb ? 1 : -1;
  if (cb === 'zero') return sa ? -1 : 1;
  if (sa !== sb) return sa ? -1 : 1;
  let mag: number;
  if (ca === 'inf' || cb === 'inf') mag = ca === cb ? 0 : ca === 'inf' ? 1 : -1;
  else {
    const x = unpack(a), y = unpack(b);
    const e = Math.min(x.e, y.e);
    const xm = x.m << BigInt(x.e - e), ym = y.m << BigInt(y.e - e);
    mag = xm === ym ? 0 : xm > ym ? 1 : -1;
  }
  return (sa ? -mag : mag) as -1 | 0 | 1;
}

// ---- conversions --------------------------------------------------------------------------

/** An integer (any size) to extended: exact for |v| < 2^64. */
export function fromInt(v: bigint): F80 {
  if (v === 0n) return zero(0);
  const s = v < 0n ? 1 : 0;
  const m = s ? -v : v;
  const n = bitlen(m);
  return { se: (s << 15) | (BIAS + n - 1), m: m << BigInt(64 - n) };
}

/**
 * Extended to a signed integer of `bits` (16/32/64) by RC, or by truncation (fisttp). NaN,
 * infinity, unsupported and out-of-range values raise IE and give the integer indefinite (the
 * most negative value).
 */
export function toInt(a: F80, bits: number, ctx: Ctx, truncate = false): bigint {
  const indefinite = -(1n << BigInt(bits - 1));
  const c = classify(a);
  if (c === 'unsupported' || c === 'nan' || c === 'inf') { ctx.flags |= IE; return indefinite; }
  if (c === 'zero') return 0n;
  const x = unpack(a); // (no DE for a denormal source, as measured)
  const rc = truncate ? RC_ZERO : ctx.rc;
  if (x.e > 64) { ctx.flags |= IE; return indefinite; }
  const sp = split(x.m, -x.e);
  let k = sp.k;
  const inexact = sp.inexact;
  const up = roundsUp(rc, x.s, (k & 1n) === 1n, sp.cmpHalf, inexact);
  if (up) k += 1n;
  const v = x.s ? -k : k;
  if (v < indefinite || v > -indefinite - 1n) { ctx.flags |= IE; return indefinite; }
  if (inexact) { ctx.flags |= PE; if (up) ctx.flags |= C1; }
  return v;
}

/** f32 bits to extended (exact; SNaN raises IE and is quieted, a denormal raises DE). */
export function fromF32(bits: number, ctx: Ctx): F80 {
  return fromIeee(BigInt(bits >>> 0), 8, 23, ctx);
}

/** f64 bits to extended. */
export function fromF64(bits: bigint, ctx: Ctx): F80 {
  return fromIeee(BigInt.asUintN(64, bits), 11, 52, ctx);
}

function fromIeee(v: bigint, ebits: number, fbits: number, ctx: Ctx): F80 {
  const fb = BigInt(fbits);
  const s = Number(v >> BigInt(ebits + fbits)) & 1;
  const emax = (1 << ebits) - 1;
  const bias = emax >> 1;
  const e = Number((v >> fb) & BigInt(emax));
  const frac = v & ((1n << fb) - 1n);
  if (e === emax) {
    if (frac === 0n) return inf(s);
    if ((frac >> (fb - 1n)) === 0n) ctx.flags |= IE;
    return { se: (s << 15) | EXP_MAX, m: J | QBIT | (frac << BigInt(63 - fbits)) };
  }
  if (e === 0) {
    if (frac === 0n) return zero(s);
    ctx.flags |= DE;
    const n = bitlen(frac);
    // value = frac * 2^(1 - bias - fbits)
    return { se: (s << 15) | (1 - bias - fbits + n - 1 + BIAS), m: frac << BigInt(64 - n) };
  }
  return { se: (s << 15) | (e - bias + BIAS), m: J | (frac << BigInt(63 - fbits)) };
}

/** Extended to f32 bits, rounded by RC (PC does not apply). */
export function toF32(a: F80, ctx: Ctx): number {
  return Number(toIeee(a, 8, 23, SGL, ctx));
}

/** Extended to f64 bits. */
export function toF64(a: F80, ctx: Ctx): bigint {
  return toIeee(a, 11, 52, DBL, ctx);
}

function toIeee(a: F80, ebits: number, fbits: number, fmt: Fmt, ctx: Ctx): bigint {
  const fb = BigInt(fbits);
  const emax = (1 << ebits) - 1;
  const bias = emax >> 1;
  const c = classify(a);
  const s = BigInt(sign(a));
  const signBit = s << BigInt(ebits + fbits);
  const expField = (x: number) => BigInt(x) << fb;
  switch (c) {
    case 'unsupported': ctx.flags |= IE; return (1n << BigInt(ebits + fbits)) | expField(emax) | (1n << (fb - 1n));
    case 'nan': {
      if ((a.m & QBIT) === 0n) ctx.flags |= IE;
      const frac = ((a.m | QBIT) >> BigInt(63 - fbits)) & ((1n << fb) - 1n);
      return signBit | expField(emax) | frac;
    }
    case 'inf': return signBit | expField(emax);
    case 'zero': return signBit;
    default: break;
  }
  // No DE here: the hardware does not report denormal sources of stores (tested).
  const x = unpack(a);
  const r = round(x.s, x.m, x.e, false, fmt, fbits + 1, ctx);
  if (r.inf) return signBit | expField(emax);
  if (r.k === 0n) return signBit;
  const E = r.q + bitlen(r.k) - 1;
  if (E < fmt.emin) return signBit | r.k; // denormal: q = emin - fbits
  return signBit | expField(E + bias) | (r.k & ((1n << fb) - 1n));
}

/** Rounds an extended value to extended precision with `prec` bits (used for constants). */
export function roundExact(s: number, m: bigint, e: number, sticky: boolean, ctx: Ctx, prec = 64): F80 {
  return roundExt(s, m, e, sticky, prec, ctx);
}

/** Exact value of a finite operand as (-1)^s m 2^e (for the transcendental code). */
export function exactOf(a: F80): { s: number; m: bigint; e: number } {
  return unpack(a);
}

// ---- byte images --------------------------------------------------------------------------

/** Reads an extended value from 10 bytes (little-endian significand, then sign/exponent). */
export function fromBytes(b: Uint8Array, off = 0): F80 {
  let m = 0n;
  for (let i = 7; i >= 0; i--) m = (m << 8n) | BigInt(b[off + i]);
  return { se: b[off + 8] | (b[off + 9] << 8), m };
}

export function toBytes(a: F80, out: Uint8Array = new Uint8Array(10), off = 0): Uint8Array {
  let m = a.m;
  for (let i = 0; i < 8; i++) { out[off + i] = Number(m & 0xffn); m >>= 8n; }
  out[off + 8] = a.se & 0xff;
  out[off + 9] = (a.se >> 8) & 0xff;
  return out;
}

export function toHex(a: F80): string {
  return a.se.toString(16).padStart(4, '0') + ':' + a.m.toString(16).padStart(16, '0');
}
