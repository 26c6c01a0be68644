/**
 * Exact IEEE 754 binary32/binary64 arithmetic on BigInt, with x86 SSE semantics: MXCSR rounding
 * control, DAZ (denormal inputs read as signed zeros, no DE), FTZ (tiny results flushed to a
 * signed zero with UE and PE), the sticky exception flags in MXCSR bit positions (IE DE ZE OE UE
 * PE), the SSE NaN rules (an operation on NaNs returns the first NaN operand, quieted; invalid
 * operations return the default NaN, sign set, only the quiet bit in the fraction), tininess
 * detected after rounding, and masked UE raised only when the tiny result is also inexact.
 *
 * Values are raw bit patterns (bigint). Each operation computes the exact result as an integer
 * times a power of two (with a sticky bit for division and square root) and rounds once.
 * Used by isa/sse-precise.ts once the guest has written MXCSR (see there).
 */

import { fast32, fast64, Op } from './ieee-fast.js';

export const IE = 0x1, DE = 0x2, ZE = 0x4, OE = 0x8, UE = 0x10, PE = 0x20;
export const RC_NEAREST = 0, RC_DOWN = 1, RC_UP = 2, RC_ZERO = 3;

export interface Fmt {
  /** Fraction bits. */
  mb: number;
  /** Exponent bits. */
  eb: number;
  bias: number;
  /** Derived. */
  emask: number;
  mmask: bigint;
  qbit: bigint;
  signBit: bigint;
  /** The default NaN ("QNaN floating-point indefinite"). */
  indefinite: bigint;
  /** Largest finite magnitude and infinity (no sign). */
  maxFinite: bigint;
  inf: bigint;
}

function fmt(mb: number, eb: number): Fmt {
  const emask = (1 << eb) - 1;
  const mmask = (1n << BigInt(mb)) - 1n;
  const signBit = 1n << BigInt(mb + eb);
  const qbit = 1n << BigInt(mb - 1);
  const inf = BigInt(emask) << BigInt(mb);
  return {
    mb, eb, bias: (1 << (eb - 1)) - 1, emask, mmask, qbit, signBit,
    indefinite: signBit | inf | qbit, maxFinite: inf - 1n, inf,
  };
}

export const F32 = fmt(23, 8);
export const F64 = fmt(52, 11);

/** The rounding/exception environment of one instruction, from MXCSR. */
export interface Env {
  rc: number;
  daz: boolean;
  ftz: boolean;
  /** UM (underflow mask): when clear, UE is raised for tiny results even if exact. */
  um: boolean;
  flags: number;
}

export function envOf(mxcsr: number): Env {
  return { rc: (mxcsr >> 13) & 3, daz: (mxcsr & 0x40) !== 0, ftz: (mxcsr & 0x8000) !== 0, um: (mxcsr & 0x800) !== 0, flags: 0 };
}

export const enum K { Zero, Fin, Inf, QNaN, SNaN }

/** An unpacked operand: value = m * 2^e for Fin; `den` = it was a denormal (and DAZ was off). */
export interface U {
  k: K;
  s: number;
  m: bigint;
  e: number;
  den: boolean;
}

export function unpack(x: bigint, F: Fmt, env: Env): U {
  const s = Number((x >> BigInt(F.mb + F.eb)) & 1n);
  const ex = Number((x >> BigInt(F.mb)) & BigInt(F.emask));
  const fr = x & F.mmask;
  if (ex === F.emask) {
    if (fr === 0n) return { k: K.Inf, s, m: 0n, e: 0, den: false };
    return { k: fr & F.qbit ? K.QNaN : K.SNaN, s, m: fr, e: 0, den: false };
  }
  if (ex === 0) {
    if (fr === 0n || env.daz) return { k: K.Zero, s, m: 0n, e: 0, den: false };
    return { k: K.Fin, s, m: fr, e: 1 - F.bias - F.mb, den: true };
  }
  return { k: K.Fin, s, m: fr | (1n << BigInt(F.mb)), e: ex - F.bias - F.mb, den: false };
}

export const isNaNK = (k: K) => k === K.QNaN || k === K.SNaN;
const sgn = (F: Fmt, s: number) => (s ? F.signBit : 0n);
export const zeroOf = (F: Fmt, s: number) => sgn(F, s);
export const infOf = (F: Fmt, s: number) => sgn(F, s) | F.inf;
export const quiet = (x: bigint, F: Fmt) => x | F.qbit;

export function bitlen(x: bigint): number {
  if (x === 0n) return 0;
  // toString(16) is fast for big values; refine the last digit.
  const h = x.toString(16);
  const top = parseInt(h[0], 16);
  return (h.length - 1) * 4 + (32 - Math.clz32(top));
}

/** Rounds m*2^e (+ sticky below) to a multiple of 2^q: [integer multiple, inexact]. */
function roundAt(s: number, m: bigint, e: number, sticky: boolean, q: number, rc: number): [bigint, boolean] {
  const shift = q - e;
  if (shift <= 0) return [m << BigInt(-shift), sticky];
  const sh = BigInt(shift);
  let r = m >> sh;
  const rem = m & ((1n << sh) - 1n);
  const half = 1n << (sh - 1n);
  const inexact = rem !== 0n || sticky;
  let inc = false;
  switch (rc) {
    case RC_NEAREST: inc = rem > half || (rem === half && (sticky || (r & 1n) === 1n)); break;
    case RC_DOWN: inc = inexact && s === 1; break;
    case RC_UP: inc = inexact && s === 0; break;
    default: break;
  }
  if (inc) r += 1n;
  return [r, inexact];
}

/**
 * Rounds the exact value (-1)^s * (m + sticky) * 2^e (m > 0; when `sticky`, m has at least
 * mb + 3 bits so the sticky bit lies below the rounding position) to format F, raising
 * OE/UE/PE and applying FTZ.
 */
export function roundPack(s: number, m: bigint, e: number, sticky: boolean, F: Fmt, env: Env): bigint {
  const L = bitlen(m);
  const E = e + L - 1;
  const emin = 1 - F.bias;
  let tiny = false;
  if (E < emin) {
    // Tininess after rounding: round to mb+1 bits with an unbounded exponent range.
    const [r1] = roundAt(s, m, e, sticky, E - F.mb, env.rc);
    tiny = bitlen(r1) + (E - F.mb) - 1 < emin;
  }
  let q = Math.max(E - F.mb, emin - F.mb);
  let [r, inexact] = roundAt(s, m, e, sticky, q, env.rc);
  if (r >> BigInt(F.mb + 1)) { r >>= 1n; q++; }
  if (tiny) {
    if (env.ftz && env.um) { env.flags |= UE | PE; return zeroOf(F, s); }
    if (inexact || !env.um) env.flags |= UE;
  }
  if (inexact) env.flags |= PE;
  if (r === 0n) return zeroOf(F, s);
  if (r >> BigInt(F.mb) === 0n) return sgn(F, s) | r; // denormal
  const biased = q + F.mb + F.bias;
  if (biased >= F.emask) {
    env.flags |= OE | PE;
    const toInf = env.rc === RC_NEAREST || (env.rc === RC_UP && s === 0) || (env.rc === RC_DOWN && s === 1);
    return sgn(F, s) | (toInf ? F.inf : F.maxFinite);
  }
  return sgn(F, s) | (BigInt(biased) << BigInt(F.mb)) | (r & F.mmask);
}

/** Two-operand NaN result (SSE: the first NaN operand wins, quieted), IE for an SNaN. */
function nan2(a: bigint, ua: U, b: bigint, ub: U, F: Fmt, env: Env): bigint {
  if (ua.k === K.SNaN || ub.k === K.SNaN) env.flags |= IE;
  return quiet(isNaNK(ua.k) ? a : b, F);
}

function denormals(env: Env, ...us: U[]): void {
  for (const u of us) if (u.den) env.flags |= DE;
}

/** Switches the host-double fast path off (tests compare it with the exact path). */
export const tuning = { fast: true };

/** The host-double fast path (ieee-fast.ts), or undefined. */
const fast = (op: Op, a: bigint, b: bigint, F: Fmt, env: Env) =>
  (!tuning.fast ? undefined : F === F64 ? fast64(op, a, b, env) : fast32(op, a, b, env));

export function add(a: bigint, b: bigint, subtract: boolean, F: Fmt, env: Env): bigint {
  const f = fast(subtract ? Op.Sub : Op.Add, a, b, F, env);
  if (f !== undefined) return f;
  const ua = unpack(a, F, env), ub = unpack(b, F, env);
  if (isNaNK(ua.k) || isNaNK(ub.k)) return nan2(a, ua, b, ub, F, env);
  const sb = ub.s ^ (subtract ? 1 : 0);
  if (ua.k === K.Inf || ub.k === K.Inf) {
    if (ua.k === K.Inf && ub.k === K.Inf && ua.s !== sb) { env.flags |= IE; return F.indefinite; }
    denormals(env, ua, ub);
    return ua.k === K.Inf ? infOf(F, ua.s) : infOf(F, sb);
  }
  denormals(env, ua, ub);
  if (ua.k === K.Zero && ub.k === K.Zero) return zeroOf(F, ua.s === sb ? ua.s : env.rc === RC_DOWN ? 1 : 0);
  if (ub.k === K.Zero) return roundPack(ua.s, ua.m, ua.e, false, F, env);
  if (ua.k === K.Zero) return roundPack(sb, ub.m, ub.e, false, F, env);
  const e = Math.min(ua.e, ub.e);
  const ma = ua.m << BigInt(ua.e - e), mbv = ub.m << BigInt(ub.e - e);
  const sum = (ua.s ? -ma : ma) + (sb ? -mbv : mbv);
  if (sum === 0n) return zeroOf(F, env.rc === RC_DOWN ? 1 : 0);
  return roundPack(sum < 0n ? 1 : 0, sum < 0n ? -sum : sum, e, false, F, env);
}

export function mul(a: bigint, b: bigint, F: Fmt, env: Env): bigint {
  const f = fast(Op.Mul, a, b, F, env);
  if (f !== undefined) return f;
  const ua = unpack(a, F, env), ub = unpack(b, F, env);
  if (isNaNK(ua.k) || isNaNK(ub.k)) return nan2(a, ua, b, ub, F, env);
  const s = ua.s ^ ub.s;
  if (ua.k === K.Inf || ub.k === K.Inf) {
    if (ua.k === K.Zero || ub.k === K.Zero) { env.flags |= IE; return F.indefinite; }
    denormals(env, ua, ub);
    return infOf(F, s);
  }
  denormals(env, ua, ub);
  if (ua.k === K.Zero || ub.k === K.Zero) return zeroOf(F, s);
  return roundPack(s, ua.m * ub.m, ua.e + ub.e, false, F, env);
}

export function div(a: bigint, b: bigint, F: Fmt, env: Env): bigint {
  const f = fast(Op.Div, a, b, F, env);
  if (f !== undefined) return f;
  const ua = unpack(a, F, env), ub = unpack(b, F, env);
  if (isNaNK(ua.k) || isNaNK(ub.k)) return nan2(a, ua, b, ub, F, env);
  const s = ua.s ^ ub.s;
  if (ua.k === K.Inf) {
    if (ub.k === K.Inf) { env.flags |= IE; return F.indefinite; }
    denormals(env, ub);
    return infOf(F, s);
  }
  if (ub.k === K.Inf) { denormals(env, ua); return zeroOf(F, s); }
  if (ub.k === K.Zero) {
    if (ua.k === K.Zero) { env.flags |= IE; return F.indefinite; }
    // A denormal dividend: ZE only (division by zero takes priority over DE).
    env.flags |= ZE;
    return infOf(F, s);
  }
  denormals(env, ua, ub);
  if (ua.k === K.Zero) return zeroOf(F, s);
  const k = Math.max(0, F.mb + 4 + bitlen(ub.m) - bitlen(ua.m));
  const n = ua.m << BigInt(k);
  const qt = n / ub.m;
  return roundPack(s, qt, ua.e - ub.e - k, qt * ub.m !== n, F, env);
}

export function isqrt(n: bigint): bigint {
  if (n < 2n) return n;
  let x = BigInt(Math.floor(Math.sqrt(Number(n))));
  // Newton from a floating estimate (may be off for large n), then correct.
  if (x === 0n) x = 1n;
  for (;;) {
    const y = (x + n / x) >> 1n;
    if (y >= x) break;
    x = y;
  }
  while (x * x > n) x -= 1n;
  while ((x + 1n) * (x + 1n) <= n) x += 1n;
  return x;
}

export function sqrt(a: bigint, F: Fmt, env: Env): bigint {
  const f = fast(Op.Sqrt, a, 0n, F, env);
  if (f !== undefined) return f;
  const ua = unpack(a, F, env);
  if (isNaNK(ua.k)) { if (ua.k === K.SNaN) env.flags |= IE; return quiet(a, F); }
  if (ua.k === K.Zero) return zeroOf(F, ua.s);
  if (ua.s) { env.flags |= IE; return F.indefinite; }
  if (ua.k === K.Inf) return F.inf;
  denormals(env, ua);
  let m = ua.m, e = ua.e;
  if (e & 1) { m <<= 1n; e -= 1; }
  const need = 2 * (F.mb + 4);
  let sh = Math.max(0, need - bitlen(m));
  if (sh & 1) sh++;
  m <<= BigInt(sh);
  e -= sh;
  const r = isqrt(m);
  return roundPack(0, r, e / 2, r * r !== m, F, env);
}

/** minss/maxss and friends: a < b ? a : b (a > b for max); NaN or equal → b; IE for any NaN. */
export function minmax(a: bigint, b: bigint, isMin: boolean, F: Fmt, env: Env): bigint {
  const ua = unpack(a, F, env), ub = unpack(b, F, env);
  if (isNaNK(ua.k) || isNaNK(ub.k)) { env.flags |= IE; return repack(b, ub, F); }
  denormals(env, ua, ub);
  const c = cmpU(ua, ub);
  const pickA = isMin ? c < 0 : c > 0;
  return pickA ? repack(a, ua, F) : repack(b, ub, F);
}

/** An operand as read (a DAZ-flushed denormal becomes the signed zero). */
function repack(x: bigint, u: U, F: Fmt): bigint {
  return u.k === K.Zero ? zeroOf(F, u.s) : x;
}

/** Orders two non-NaN operands: -1, 0, 1. */
function cmpU(a: U, b: U): number {
  const val = (u: U): [number, bigint, number] => [u.k === K.Zero ? 0 : u.s ? -1 : 1, u.m, u.e];
  if (a.k === K.Zero && b.k === K.Zero) return 0;
  const [sa] = val(a), [sb] = val(b);
  if (sa !== sb) return sa < sb ? -1 : 1;
  // Same sign, both non-zero.
  let mag: number;
  if (a.k === K.Inf || b.k === K.Inf) mag = a.k === b.k ? 0 : a.k === K.Inf ? 1 : -1;
  else {
    const e = Math.min(a.e, b.e);
    const ma = a.m << BigInt(a.e - e), mbv = b.m << BigInt(b.e - e);
    mag = ma === mbv ? 0 : ma > mbv ? 1 : -1;
  }
  return sa < 0 ? -mag : mag;
}

/**
 * Compares a and b: 'lt' | 'eq' | 'gt' | 'un'. IE for an SNaN, or for any NaN when `signaling`;
 * DE for denormal operands.
 */
export function compare(a: bigint, b: bigint, signaling: boolean, F: Fmt, env: Env): 'lt' | 'eq' | 'gt' | 'un' {
  const ua = unpack(a, F, env), ub = unpack(b, F, env);
  if (isNaNK(ua.k) || isNaNK(ub.k)) {
    if (signaling || ua.k === K.SNaN || ub.k === K.SNaN) env.flags |= IE;
    return 'un';
  }
  denormals(env, ua, ub);
  const c = cmpU(ua, ub);
  return c < 0 ? 'lt' : c > 0 ? 'gt' : 'eq';
}

/** Integer (signed bigint) to F, rounded by RC. */
export function fromInt(v: bigint, F: Fmt, env: Env): bigint {
  if (v === 0n) return 0n;
  return v < 0n ? roundPack(1, -v, 0, false, F, env) : roundPack(0, v, 0, false, F, env);
}

/**
 * F to a signed integer of `bits` bits, rounded by RC (or truncated): NaN and out of range give
 * the integer indefinite (the minimum) with IE, inexact results PE. Returns the unsigned pattern.
 */
export function toInt(a: bigint, bits: number, truncate: boolean, F: Fmt, env: Env): bigint {
  const ua = unpack(a, F, env);
  const indefinite = 1n << BigInt(bits - 1);
  if (isNaNK(ua.k) || ua.k === K.Inf) { env.flags |= IE; return indefinite; }
  if (ua.k === K.Zero) return 0n;
  const [r, inexact] = roundAt(ua.s, ua.m, ua.e, false, 0, truncate ? RC_ZERO : env.rc);
  const lim = 1n << BigInt(bits - 1);
  if (ua.s ? r > lim : r >= lim) { env.flags |= IE; return indefinite; }
  if (inexact) env.flags |= PE;
  return BigInt.asUintN(bits, ua.s ? -r : r);
}

/** Format conversion (cvtss2sd, cvtsd2ss, cvtps2pd, cvtpd2ps). */
export function convert(a: bigint, from: Fmt, to: Fmt, env: Env): bigint {
  const ua = unpack(a, from, env);
  if (isNaNK(ua.k)) {
    if (ua.k === K.SNaN) env.flags |= IE;
    const d = to.mb - from.mb;
    const fr = d >= 0 ? ua.m << BigInt(d) : ua.m >> BigInt(-d);
    return sgn(to, ua.s) | to.inf | to.qbit | fr;
  }
  if (ua.k === K.Inf) return infOf(to, ua.s);
  if (ua.k === K.Zero) return zeroOf(to, ua.s);
  denormals(env, ua);
  return roundPack(ua.s, ua.m, ua.e, false, to, env);
}

/** roundss/roundps: to an integral value by `rc`; PE unless `noPE`; IE for SNaN. */
export function roundInt(a: bigint, rc: number, noPE: boolean, F: Fmt, env: Env): bigint {
  const ua = unpack(a, F, env);
  if (isNaNK(ua.k)) { if (ua.k === K.SNaN) env.flags |= IE; return quiet(a, F); }
  if (ua.k === K.Inf) return a;
  if (ua.k === K.Zero) return zeroOf(F, ua.s);
  if (ua.e >= 0) return a;
  const [r, inexact] = roundAt(ua.s, ua.m, ua.e, false, 0, rc);
  if (inexact && !noPE) env.flags |= PE;
  if (r === 0n) return zeroOf(F, ua.s);
  const sub: Env = { ...env, rc: RC_NEAREST, flags: 0 };
  return roundPack(ua.s, r, 0, false, F, sub);
}
