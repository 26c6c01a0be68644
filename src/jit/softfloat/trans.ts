/**
 * The x87 transcendental instructions (f2xm1 fyl2x fyl2xp1 fpatan fsin fcos fsincos fptan) on
 * extended values.
 *
 * Method: the mathematical function is evaluated in a 200-bit binary floating point on BigInt
 * (series after argument reduction) and the result is rounded once to 64 bits by RC: correctly
 * rounded (barring a true value within 2^-190 relative of a rounding boundary). fsin, fcos,
 * fsincos and fptan first reduce the argument modulo π/2 exactly as the hardware does, with its
 * 66-bit π (so large arguments give the hardware's "wrong" results, not the true sine).
 * The hardware is not correctly rounded (Intel documents errors up to about 1 ulp in
 * round-to-nearest). Tolerance, checked against this machine in test/x87: at most 1 ulp (of the
 * 64-bit significand) apart from the hardware's result for arguments in the documented domains
 * (in practice most results are bit-identical); special operands (zeros, infinities, NaNs,
 * exact cases) are bit-exact.
 * Outside an instruction's documented domain (f2xm1: |x| > 1, fyl2xp1: |x| >= 1 - √2/2) the
 * hardware result is undefined; these compute the mathematical function anyway.
 *
 * Status: IE/DE/UE/PE/OE as the operation implies, C1 = rounded up; PC does not apply.
 */
import type { Ctx, F80 } from './f80.js';
import * as F from './f80.js';

const P = 200;

/** (-1)^s * m * 2^e, m normalised to exactly P bits (or 0). */
interface BF { s: number; m: bigint; e: number }

const bitlen = F.bitlen;

function bnorm(s: number, m: bigint, e: number): BF {
  if (m === 0n) return { s, m: 0n, e: 0 };
  const n = bitlen(m);
  if (n > P) return { s, m: m >> BigInt(n - P), e: e + n - P };
  if (n < P) return { s, m: m << BigInt(P - n), e: e - (P - n) };
  return { s, m, e };
}

const bint = (v: bigint): BF => bnorm(v < 0n ? 1 : 0, v < 0n ? -v : v, 0);
const bmul = (a: BF, b: BF): BF => bnorm(a.s ^ b.s, a.m * b.m, a.e + b.e);
const bdiv = (a: BF, b: BF): BF => bnorm(a.s ^ b.s, (a.m << BigInt(P + 2)) / b.m, a.e - P - 2 - b.e);
const bneg = (a: BF): BF => ({ s: a.s ^ 1, m: a.m, e: a.e });
const bshift = (a: BF, k: number): BF => ({ s: a.s, m: a.m, e: a.e + k });
/** Exponent of the leading bit (-Infinity for 0). */
const blead = (a: BF): number => (a.m === 0n ? -Infinity : a.e + P - 1);

function badd(a: BF, b: BF): BF {
  if (a.m === 0n) return b;
  if (b.m === 0n) return a;
  // Keep an operand far below the other only as a sticky nudge.
  if (blead(b) < blead(a) - P - 8) b = { s: b.s, m: 1n << BigInt(P - 1), e: a.e - 16 - P };
  else if (blead(a) < blead(b) - P - 8) a = { s: a.s, m: 1n << BigInt(P - 1), e: b.e - 16 - P };
  const e = Math.min(a.e, b.e);
  const va = (a.m << BigInt(a.e - e)) * (a.s ? -1n : 1n);
  const vb = (b.m << BigInt(b.e - e)) * (b.s ? -1n : 1n);
  const v = va + vb;
  return bnorm(v < 0n ? 1 : 0, v < 0n ? -v : v, e);
}
const bsub = (a: BF, b: BF): BF => badd(a, bneg(b));

function bsqrt(a: BF): BF {
  let m = a.m << BigInt(P + 2);
  let e = a.e - P - 2;
  if (e & 1) { m <<= 1n; e -= 1; }
  return bnorm(0, F.isqrt(m), e / 2);
}

function bfrom(a: F80): BF {
  const x = F.exactOf(a);
  return bnorm(x.s, x.m, x.e);
}

/** Rounds to extended (64 bits, RC), inexact. */
function bto(a: BF, ctx: Ctx): F80 {
  return F.roundExact(a.s, a.m, a.e, true, ctx, 64);
}

// ---- constants ----------------------------------------------------------------------------

const FIX = 420n;

/** atan(1/k) * 2^FIX by its series (k >= 2). */
function atanInvFix(k: bigint): bigint {
  const one = 1n << FIX;
  let sum = 0n, term = one / k, n = 1n, sign = 1n;
  const k2 = k * k;
  while (term !== 0n) {
    sum += sign * (term / n);
    term /= k2;
    n += 2n;
    sign = -sign;
  }
  return sum;
}

/** π * 2^FIX (Machin). */
const PI_FIX = 16n * atanInvFix(5n) - 4n * atanInvFix(239n);
/** ln 2 * 2^FIX: 2 atanh(1/3). */
const LN2_FIX = (() => {
  const one = 1n << FIX;
  let sum = 0n, term = one / 3n, n = 1n;
  while (term !== 0n) { sum += term / n; term /= 9n; n += 2n; }
  return 2n * sum;
})();

const PI = bnorm(0, PI_FIX, -Number(FIX));
const LN2 = bnorm(0, LN2_FIX, -Number(FIX));
const ONE = bint(1n);

// ---- series -------------------------------------------------------------------------------

/** Sums terms t_k = next(t_{k-1}) until they no longer matter at P bits. */
function series(first: BF, next: (t: BF, k: number) => BF): BF {
  let sum = first, t = first;
  for (let k = 1; k < 400; k++) {
    t = next(t, k);
    if (t.m === 0n) break;
    // The first negligible term is still added: badd keeps its sign as a nudge, so a result
    // within 2^-P of a representable value (sin x for tiny x) still rounds the right way.
    sum = badd(sum, t);
    if (blead(t) < blead(sum) - P - 4) break;
  }
  return sum;
}

/** atanh(t) for |t| <= 0.2: t + t^3/3 + t^5/5 ... */
function atanh(t: BF): BF {
  const t2 = bmul(t, t);
  let pow = t;
  return series(t, (_x, k) => {
    pow = bmul(pow, t2);
    return bdiv(pow, bint(BigInt(2 * k + 1)));
  });
}

/** ln(x), x > 0. */
function ln(x: BF): BF {
  // x = m * 2^k with m in [sqrt(1/2), sqrt(2)).
  let k = blead(x);
  let m = bshift(x, -k);
  if (m.m > 0xb504f333f9de6484n << BigInt(P - 64)) { m = bshift(m, -1); k += 1; }
  const t = bdiv(bsub(m, ONE), badd(m, ONE));
  const lm = bshift(atanh(t), 1);
  return badd(bmul(bint(BigInt(k)), LN2), lm);
}

/** ln(1 + x) for x > -1, accurate for small x. */
function ln1p(x: BF): BF {
  if (blead(x) >= -2) return ln(badd(ONE, x));
  // 1 + x = (1 + t)/(1 - t) with t = x / (2 + x).
  return bshift(atanh(bdiv(x, badd(bint(2n), x))), 1);
}

/** e^y - 1 for |y| <= 1. */
function expm1(y: BF): BF {
  // Halve the argument a few times, then expm1(2u) = expm1(u) * (expm1(u) + 2).
  const halvings = Math.max(0, Math.min(8, blead(y) + 9));
  const u = bshift(y, -halvings);
  let r = series(u, (t, k) => bdiv(bmul(t, u), bint(BigInt(k + 1))));
  for (let i = 0; i < halvings; i++) r = bmul(r, badd(r, bint(2n)));
  return r;
}

/** atan(z) for z >= 0. */
function atan(z: BF): BF {
  if (z.m === 0n) return z;
  if (blead(z) >= 0 && z.m !== 0n && !(blead(z) === 0 && z.m === 1n << BigInt(P - 1))) {
    // z > 1: π/2 - atan(1/z).
    return bsub(bshift(PI, -1), atan(bdiv(ONE, z)));
  }
  // Two angle halvings: z / (1 + sqrt(1 + z^2)).
  let w = z;
  for (let i = 0; i < 2; i++) w = bdiv(w, badd(ONE, bsqrt(badd(ONE, bmul(w, w)))));
  const w2 = bmul(w, w);
  let pow = w;
  const s = series(w, (_t, k) => {
    pow = bneg(bmul(pow, w2));
    return bdiv(pow, bint(BigInt(2 * k + 1)));
  });
  return bshift(s, 2);
}

function sinSeries(r: BF): BF {
  const r2 = bmul(r, r);
  return series(r, (t, k) => bneg(bdiv(bmul(t, r2), bint(BigInt((2 * k) * (2 * k + 1))))));
}

function cosSeries(r: BF): BF {
  const r2 = bmul(r, r);
  return series(ONE, (t, k) => bneg(bdiv(bmul(t, r2), bint(BigInt((2 * k - 1) * (2 * k))))));
}

/**
 * The π the hardware reduces with: 66 bits (0xC90FDAA22168C234C / 2^66, π truncated). Reducing
 * with it reproduces the hardware's fsin/fcos results exactly (measured: every random argument up
 * to 1e8 matched bit for bit, whereas an exact reduction diverges from ~π/4 on).
 */
const PI66_FIX = 0xc90fdaa22168c234cn << (FIX - 66n);

/** x = n π66/2 + r, |r| <= π66/4, r exact. */
function reduce(x: F80): { n: number; r: BF } {
  const u = F.exactOf(x);
  const lead = u.e + bitlen(u.m) - 1;
  if (lead < -1) return { n: 0, r: bnorm(u.s, u.m, u.e) }; // |x| < 1/2 < π/4
  const X = u.m << BigInt(u.e + Number(FIX)); // |x| * 2^FIX (u.e >= -64 here)
  const half = PI66_FIX >> 1n; // exact: PI66_FIX is even
  const n = (2n * X + half) / (2n * half); // round(|x| / (π66/2))
  const rr = X - n * half;
  const r = bnorm(rr < 0n ? 1 : 0, rr < 0n ? -rr : rr, -Number(FIX));
  return u.s ? { n: Number(-n & 3n), r: bneg(r) } : { n: Number(n & 3n), r };
}

// ---- instructions -------------------------------------------------------------------------

const EXP_MAX = 0x7fff;
const isDenormal = (a: F80): boolean => (a.se & EXP_MAX) === 0 && a.m !== 0n;
const TWO63 = 16383 + 63;

/** Common screening of one operand: returns a result for unsupported/NaN, else null. */
function screen1(a: F80, ctx: Ctx): F80 | null {
  const c = F.classify(a);
  if (c === 'unsupported') { ctx.flags |= F.IE; return F.INDEFINITE; }
  if (c === 'nan') return F.propagateNaN(a, a, ctx);
  return null;
}

function screen2(a: F80, b: F80, ctx: Ctx): F80 | null {
  const ca = F.classify(a), cb = F.classify(b);
  if (ca === 'unsupported' || cb === 'unsupported') { ctx.flags |= F.IE; return F.INDEFINITE; }
  if (ca === 'nan' || cb === 'nan') return F.propagateNaN(a, b, ctx);
  return null;
}

function denorm(ctx: Ctx, ...xs: F80[]): void {
  if (xs.some(isDenormal)) ctx.flags |= F.DE;
}

/** f2xm1: 2^x - 1. */
export function f2xm1(a: F80, ctx: Ctx): F80 {
  const r = screen1(a, ctx);
  if (r) return r;
  const c = F.classify(a);
  if (c === 'zero') return a;
  if (c === 'inf') return F.sign(a) ? F.neg(F.ONE) : a;
  denorm(ctx, a);
  const x = bfrom(a);
  // x = ±1: the hardware reports these inexact: 2^1 - 1 rounds as 1 - ε would (RD/RZ give the
  // value below 1), while 2^-1 - 1 gives -1/2 with PE in every mode (measured).
  if (a.m === 1n << 63n && (a.se & EXP_MAX) === 16383) {
    if (F.sign(a)) { ctx.flags |= F.PE; return { se: 0xbffe, m: 1n << 63n }; }
    return F.roundExact(0, (1n << 70n) - 1n, -70, true, ctx, 64);
  }
  if (blead(x) >= 1) {
    // Outside the documented domain: 2^x - 1 = 2^n * 2^f - 1.
    const e = bmul(x, LN2);
    return bto(expBig(e), ctx);
  }
  return bto(expm1(bmul(x, LN2)), ctx);
}

/** e^y - 1 for any y (outside f2xm1's domain). */
function expBig(y: BF): BF {
  // y = k ln2 + f
  const k = Math.round(Number(y.s ? -1 : 1) * Number(y.m >> BigInt(P - 60)) * 2 ** (y.e + P - 60) / Math.LN2);
  if (!Number.isFinite(k) || Math.abs(k) > 40000) {
    return k > 0 ? { s: 0, m: 1n << BigInt(P - 1), e: 40000 } : bneg(ONE);
  }
  const f = bsub(y, bmul(bint(BigInt(k)), LN2));
  const ef = badd(expm1(f), ONE);
  return bsub(bshift(ef, k), ONE);
}

/** log2 of a positive finite value: exact integer for powers of two (as an F80), else a BF. */
function log2Of(x: F80): { exact: F80 } | { approx: BF } {
  const u = F.exactOf(x);
  const n = bitlen(u.m);
  if (u.m === 1n << BigInt(n - 1)) return { exact: F.fromInt(BigInt(u.e + n - 1)) };
  return { approx: bdiv(ln(bfrom(x)), LN2) };
}

/** fyl2x: y * log2(x) (x = ST0, y = ST1). */
export function fyl2x(x: F80, y: F80, ctx: Ctx): F80 {
  const r = screen2(x, y, ctx);
  if (r) return r;
  const cx = F.classify(x), cy = F.classify(y);
  if (F.sign(x) && cx !== 'zero') { ctx.flags |= F.IE; return F.INDEFINITE; }
  if (cx === 'zero') {
    if (cy === 'zero') { ctx.flags |= F.IE; return F.INDEFINITE; }
    if (cy !== 'inf') ctx.flags |= F.ZE; // (no DE for a denormal y: ZE wins, as in fdiv)
    return { se: ((F.sign(y) ^ 1) << 15) | EXP_MAX, m: 1n << 63n };
  }
  if (cx === 'inf') {
    if (cy === 'zero') { ctx.flags |= F.IE; return F.INDEFINITE; }
    denorm(ctx, y);
    return { se: (F.sign(y) << 15) | EXP_MAX, m: 1n << 63n };
  }
  const isOne = x.m === 1n << 63n && (x.se & EXP_MAX) === 16383;
  if (cy === 'inf') {
    if (isOne) { ctx.flags |= F.IE; return F.INDEFINITE; }
    denorm(ctx, x);
    const neg = F.compare(x, F.ONE, true, { rc: 0, pc: 64, flags: 0 }) < 0;
    return { se: ((F.sign(y) ^ (neg ? 1 : 0)) << 15) | EXP_MAX, m: 1n << 63n };
  }
  denorm(ctx, x, y);
  const l = log2Of(x);
  if ('exact' in l) {
    // x a power of two: y * k, exactly rounded; the hardware still reports PE (and UE for a
    // tiny result) unless the product is zero (measured).
    const r = F.mul(y, l.exact, ctx, 64);
    if (F.classify(r) !== 'zero') {
      ctx.flags |= F.PE;
      if ((r.se & EXP_MAX) === 0) ctx.flags |= F.UE;
    }
    return r;
  }
  if (cy === 'zero') return { se: (F.sign(y) ^ l.approx.s) << 15, m: 0n };
  return bto(bmul(bfrom(y), l.approx), ctx);
}

/** fyl2xp1: y * log2(x + 1) (x = ST0, y = ST1). */
export function fyl2xp1(x: F80, y: F80, ctx: Ctx): F80 {
  const r = screen2(x, y, ctx);
  if (r) return r;
  const cx = F.classify(x), cy = F.classify(y);
  if (cx === 'zero') {
    if (cy === 'inf') { ctx.flags |= F.IE; return F.INDEFINITE; }
    denorm(ctx, y);
    return { se: (F.sign(x) ^ F.sign(y)) << 15, m: 0n };
  }
  const bx = bfrom(x);
  const less = cx === 'inf' ? F.sign(x) === 1 : F.compare(x, F.neg(F.ONE), true, { rc: 0, pc: 64, flags: 0 });
  if (less === true || less === -1) { ctx.flags |= F.IE; return F.INDEFINITE; }
  if (less === 0) { // x = -1: log2(0)
    if (cy === 'zero') { ctx.flags |= F.IE; return F.INDEFINITE; }
    if (cy !== 'inf') ctx.flags |= F.ZE;
    return { se: ((F.sign(y) ^ 1) << 15) | EXP_MAX, m: 1n << 63n };
  }
  if (cx === 'inf') {
    if (cy === 'zero') { ctx.flags |= F.IE; return F.INDEFINITE; }
    return { se: (F.sign(y) << 15) | EXP_MAX, m: 1n << 63n };
  }
  if (cy === 'inf') {
    denorm(ctx, x);
    return { se: ((F.sign(y) ^ F.sign(x)) << 15) | EXP_MAX, m: 1n << 63n };
  }
  denorm(ctx, x, y);
  if (cy === 'zero') return { se: (F.sign(x) ^ F.sign(y)) << 15, m: 0n };
  const l = bdiv(ln1p(bx), LN2);
  return bto(bmul(bfrom(y), l), ctx);
}

/** fpatan: atan2(y, x) (x = ST0, y = ST1). */
export function fpatan(x: F80, y: F80, ctx: Ctx): F80 {
  const r = screen2(x, y, ctx);
  if (r) return r;
  const cx = F.classify(x), cy = F.classify(y);
  const sx = F.sign(x), sy = F.sign(y);
  const withSign = (v: BF): F80 => bto(sy ? bneg(v) : v, ctx);
  if (cy === 'zero') {
    denorm(ctx, x);
    if (sx === 0) return y; // ±0
    return withSign(PI);
  }
  if (cy === 'inf') {
    if (cx === 'inf') return withSign(sx ? bshift(bmul(PI, bint(3n)), -2) : bshift(PI, -2));
    denorm(ctx, x);
    return withSign(bshift(PI, -1));
  }
  if (cx === 'zero') { denorm(ctx, y); return withSign(bshift(PI, -1)); }
  if (cx === 'inf') {
    denorm(ctx, y);
    return sx ? withSign(PI) : { se: sy << 15, m: 0n };
  }
  denorm(ctx, x, y);
  const ax = bfrom(F.abs(x)), ay = bfrom(F.abs(y));
  let a = atan(bdiv(ay, ax));
  if (sx) a = bsub(PI, a);
  return withSign(a);
}

/** Operand screening of fsin/fcos/fsincos/fptan: a result, 'range' (C2 = 1), or null. */
function trigScreen(a: F80, ctx: Ctx): F80 | 'range' | null {
  const r = screen1(a, ctx);
  if (r) return r;
  const c = F.classify(a);
  if (c === 'inf') { ctx.flags |= F.IE; return F.INDEFINITE; }
  if (c !== 'zero' && c !== 'denormal' && (a.se & EXP_MAX) >= TWO63) return 'range';
  return null;
}

function sinCos(a: F80, ctx: Ctx): { sin: () => F80; cos: () => F80; tan: () => F80 } {
  denorm(ctx, a);
  const { n, r } = reduce(a);
  const s = () => sinSeries(r), c = () => cosSeries(r);
  const pick = (k: number): BF => [s(), c(), bneg(s()), bneg(c())][k & 3];
  // tan r; for tiny r as r + r^3/3 (keeps the direction of the tiny correction).
  const tanR = (): BF => (blead(r) < -P / 2 ? badd(r, bdiv(bmul(bmul(r, r), r), bint(3n))) : bdiv(s(), c()));
  return {
    sin: () => bto(pick(n), ctx),
    cos: () => bto(pick(n + 1), ctx),
    tan: () => bto(n & 1 ? bneg(bdiv(ONE, tanR())) : tanR(), ctx),
  };
}

/** fsin: null when |x| >= 2^63 (C2 = 1, ST0 unchanged). */
export function fsin(a: F80, ctx: Ctx): F80 | null {
  const sc = trigScreen(a, ctx);
  if (sc === 'range') return null;
  if (sc) return sc;
  if (F.classify(a) === 'zero') return a;
  return sinCos(a, ctx).sin();
}

export function fcos(a: F80, ctx: Ctx): F80 | null {
  const sc = trigScreen(a, ctx);
  if (sc === 'range') return null;
  if (sc) return sc;
  if (F.classify(a) === 'zero') return F.ONE;
  return sinCos(a, ctx).cos();
}

/** fptan: tan(x) (the caller pushes 1.0). */
export function fptan(a: F80, ctx: Ctx): F80 | null {
  const sc = trigScreen(a, ctx);
  if (sc === 'range') return null;
  if (sc) return sc;
  if (F.classify(a) === 'zero') return a;
  return sinCos(a, ctx).tan();
}

/** fsincos: [sin, cos] (sin replaces ST0, cos is pushed). */
export function fsincos(a: F80, ctx: Ctx): [F80, F80] | null {
  const sc = trigScreen(a, ctx);
  if (sc === 'range') return null;
  if (sc) return [sc, sc];
  if (F.classify(a) === 'zero') return [a, F.ONE];
  const t = sinCos(a, ctx);
  return [t.sin(), t.cos()];
}
