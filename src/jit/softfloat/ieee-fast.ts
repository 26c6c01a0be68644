/**
 * The common case of ieee.ts on host doubles: operands and result comfortably inside the normal
 * range (so no denormal, DAZ, FTZ, overflow or underflow question arises), the result rounded to
 * nearest by the host and the exact error's sign found with error-free transformations (TwoSum,
 * Dekker's product); a directed rounding mode then moves the result one ulp when needed, and an
 * inexact result raises PE. Anything else returns undefined and ieee.ts computes it on BigInt.
 */

const PE = 0x20;
const RC_NEAREST = 0, RC_DOWN = 1, RC_UP = 2;

const f64 = new Float64Array(1);
const u64 = new BigUint64Array(f64.buffer);
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

export const toD = (x: bigint): number => { u64[0] = x; return f64[0]; };
const fromD = (d: number): bigint => { f64[0] = d; return u64[0]; };
export const toS = (x: bigint): number => { u32[0] = Number(x); return f32[0]; };
const fromS = (d: number): bigint => { f32[0] = d; return BigInt(u32[0]); };

const LO64 = 2 ** -960, HI64 = 2 ** 990;
const LO32 = 2 ** -120, HI32 = 2 ** 120;
const safe64 = (v: number) => { const a = Math.abs(v); return a >= LO64 && a <= HI64; };
const safe32 = (v: number) => { const a = Math.abs(v); return a >= LO32 && a <= HI32; };

const SPLIT = 134217729; // 2^27 + 1

/** The exact error a*b - fl(a*b) (Dekker; exact in the safe range). */
function prodErr(a: number, b: number, p: number): number {
  let c = SPLIT * a;
  const ah = c - (c - a), al = a - ah;
  c = SPLIT * b;
  const bh = c - (c - b), bl = b - bh;
  return ((ah * bh - p) + ah * bl + al * bh) + al * bl;
}

export const enum Op { Add, Sub, Mul, Div, Sqrt }

/**
 * `r` = the host's round-to-nearest result and `err` the sign of (exact - r) (0: exact), or
 * undefined outside the safe range.
 */
function exact(op: Op, x: number, y: number, safe: (v: number) => boolean): [number, number] | undefined {
  if (!safe(x) || (op !== Op.Sqrt && !safe(y))) return undefined;
  let r: number, err: number;
  switch (op) {
    case Op.Add: case Op.Sub: {
      if (op === Op.Sub) y = -y;
      r = x + y;
      const bb = r - x;
      err = (x - (r - bb)) + (y - bb);
      break;
    }
    case Op.Mul:
      r = x * y;
      err = prodErr(x, y, r);
      break;
    case Op.Div: {
      r = x / y;
      if (!safe(r)) return undefined;
      const p = r * y;
      const rem = (x - p) - prodErr(r, y, p);
      err = rem === 0 ? 0 : (rem > 0) === (y > 0) ? 1 : -1;
      break;
    }
    default: {
      if (x < 0) return undefined;
      r = Math.sqrt(x);
      const p = r * r;
      err = (x - p) - prodErr(r, r, p);
      break;
    }
  }
  if (!safe(r)) return undefined;
  return [r, Math.sign(err)];
}

/** Moves a nearest-rounded `bits` one ulp for a directed mode, given the sign of exact - value. */
function directed(bits: bigint, neg: boolean, err: number, rc: number): bigint {
  if (rc === RC_NEAREST || err === 0) return bits;
  // Toward +inf: up when the exact value is above; toward -inf: down when below; toward zero:
  // down in magnitude when the exact value is nearer zero.
  const up = rc === RC_UP && err > 0;
  const down = rc === RC_DOWN && err < 0;
  const towardZero = rc !== RC_UP && rc !== RC_DOWN && (neg ? err > 0 : err < 0);
  if (up) return neg ? bits - 1n : bits + 1n;
  if (down) return neg ? bits + 1n : bits - 1n;
  if (towardZero) return bits - 1n;
  return bits;
}

/** binary64: the result bits, flags OR-ed into env, or undefined. */
export function fast64(op: Op, a: bigint, b: bigint, env: { rc: number; flags: number }): bigint | undefined {
  const t = exact(op, toD(a), toD(b), safe64);
  if (!t) return undefined;
  const r = t[0], err = t[1];
  if (err === 0) return fromD(r);
  env.flags |= PE;
  return directed(fromD(r), r < 0, err, env.rc);
}

/** binary32 (computed in doubles, then rounded once more with the exact error's sign). */
export function fast32(op: Op, a: bigint, b: bigint, env: { rc: number; flags: number }): bigint | undefined {
  const t = exact(op, toS(a), toS(b), safe32);
  if (!t) return undefined;
  const d = t[0], dErr = t[1];
  const r = Math.fround(d);
  if (!safe32(r)) return undefined;
  let err: number;
  if (r === d) err = dErr;
  else {
    // d lies strictly between two floats; if it is their midpoint the double error decides (rare:
    // left to the exact path).
    const other = d > r ? nextAway(r, 1) : nextAway(r, -1);
    if ((r + other) / 2 === d) return undefined;
    err = d > r ? 1 : -1;
  }
  if (err === 0) return fromS(r);
  env.flags |= PE;
  return directed(fromS(r), r < 0, err, env.rc);
}

/** The float next to r in direction dir (r normal, not at the range ends: the safe range). */
function nextAway(r: number, dir: number): number {
  f32[0] = r;
  const bits = u32[0];
  u32[0] = (r > 0) === (dir > 0) ? bits + 1 : bits - 1;
  return f32[0];
}
