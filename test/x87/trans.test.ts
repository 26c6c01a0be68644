/**
 * The transcendental instructions (softfloat/trans.ts) against this machine's x87. These are
 * not correctly rounded on the hardware, so results are compared with the tolerance documented
 * in trans.ts: at most 1 ulp apart in the documented domains (counting adjacent representable
 * values), and special operands bit-exact. IE, DE and ZE must match exactly.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as F from '../../src/jit/softfloat/f80.js';
import type { Ctx, F80 } from '../../src/jit/softfloat/f80.js';
import * as T from '../../src/jit/softfloat/trans.js';
import { buildNative, cleanupNative, CONTROL_WORDS, fmt, image, Rng, runNative, stOf, swOf } from './harness.js';

/** Position of a finite value on the line of representable extended values. */
function ordinal(a: F80): bigint {
  const e = a.se & 0x7fff;
  const key = e === 0 ? a.m : (BigInt(e - 1) << 63n) + a.m; // continuous across binades and denormals
  return a.se & 0x8000 ? -key : key;
}

function ulps(a: F80, b: F80): number {
  if (fmt(a) === fmt(b)) return 0;
  const ca = F.classify(a), cb = F.classify(b);
  if (ca === 'nan' || cb === 'nan' || ca === 'inf' || cb === 'inf' || ca === 'unsupported' || cb === 'unsupported') return Infinity;
  const d = ordinal(a) - ordinal(b);
  return Number(d < 0n ? -d : d);
}

const hex = (s: string) => new Uint8Array(Buffer.from(s, 'hex'));
const num = (x: number): F80 => {
  const b = new DataView(new ArrayBuffer(8));
  b.setFloat64(0, x, true);
  return F.fromF64(b.getBigUint64(0, true), { rc: 0, pc: 64, flags: 0 });
};

interface TCase { a: F80; b?: F80; cw: number }

/**
 * Runs the cases natively and through `soft`; returns [mismatch descriptions, histogram of ulp
 * distances]. `results` picks which stack slots hold results (after the instruction).
 */
function compare(cases: TCase[], code: string, results: number, soft: (c: TCase, ctx: Ctx) => F80[] | null, tol = 1): { bad: string[]; hist: Map<number, number> } {
  const out = runNative(cases.map((c) => ({ img: image({ cw: c.cw, st: c.b ? [c.a, c.b] : [c.a] }), flags: 0x202, mem: new Uint8Array(512), code: hex(code) })));
  const bad: string[] = [];
  const hist = new Map<number, number>();
  cases.forEach((c, k) => {
    const ctx = F.ctxFromCw(c.cw);
    const s = soft(c, ctx);
    const n = out[k];
    const nsw = swOf(n.img);
    const got: F80[] = [];
    for (let i = 0; i < results; i++) got.push(stOf(n.img, i));
    let worst = 0;
    if (s === null) {
      // Out of range: C2 = 1 and the operand unchanged.
      if (!(nsw & F.C2) || fmt(got[0]) !== fmt(c.a)) bad.push(`a=${fmt(c.a)}: native ${got.map(fmt)} sw=${nsw.toString(16)}, soft out of range`);
      return;
    }
    for (let i = 0; i < results; i++) worst = Math.max(worst, ulps(got[i], s[i]));
    hist.set(worst, (hist.get(worst) ?? 0) + 1);
    const strict = F.IE | F.DE | F.ZE;
    if (worst > tol || (nsw & strict) !== (ctx.flags & strict) || (worst === 0 && (nsw & 0x3f) !== (ctx.flags & 0x3f))) {
      bad.push(`a=${fmt(c.a)}${c.b ? ' b=' + fmt(c.b) : ''} cw=${c.cw.toString(16)}: native ${got.map(fmt).join(' ')} sw=${nsw.toString(16)}; soft ${s.map(fmt).join(' ')} flags=${ctx.flags.toString(16)} (${worst} ulp)`);
    }
  });
  return { bad, hist };
}

function rand(r: Rng, lo: number, hi: number): number { return lo + (hi - lo) * (r.u32() / 4294967296); }

/** A random extended value with 64 random significand bits near x. */
function near(r: Rng, x: number): F80 {
  const v = num(x);
  if (F.classify(v) === 'zero') return v;
  return { se: v.se, m: (v.m & ~0x7ffn) | BigInt(r.int(0x800)) };
}

const SPECIALS: F80[] = [
  F.ZERO, F.neg(F.ZERO), { se: 0x7fff, m: 1n << 63n }, { se: 0xffff, m: 1n << 63n }, { se: 0x7fff, m: 0xc000000000000001n },
  { se: 0x7fff, m: 0x8000000000000001n }, { se: 0, m: 5n }, { se: 0x8000, m: 0x123456n }, F.ONE, F.neg(F.ONE),
  { se: 0x3fff, m: 0x4000000000000000n }, { se: 0x7fff, m: 0n }, { se: 0x3ffe, m: 1n << 63n }, { se: 0xbffe, m: 1n << 63n },
];

describe('x87 transcendentals vs the native x87 (within 1 ulp)', () => {
  beforeAll(() => { buildNative(); });
  afterAll(() => cleanupNative());

  const report = (name: string, hist: Map<number, number>) => {
    const h = [...hist.entries()].sort((a, b) => a[0] - b[0]).map(([k, n]) => `${k}ulp:${n}`).join(' ');
    console.log(`${name}: ${h}`);
  };

  const trig: [string, string, number, (a: F80, ctx: Ctx) => F80[] | null][] = [
    ['fsin', 'd9fe', 1, (a, ctx) => { const r = T.fsin(a, ctx); return r && [r]; }],
    ['fcos', 'd9ff', 1, (a, ctx) => { const r = T.fcos(a, ctx); return r && [r]; }],
    ['fptan', 'd9f2', 2, (a, ctx) => { const r = T.fptan(a, ctx); return r && [F.isNaN(r) ? r : F.ONE, r]; }],
    ['fsincos', 'd9fb', 2, (a, ctx) => { const r = T.fsincos(a, ctx); return r && [r[1], r[0]]; }],
  ];
  trig.forEach(([name, code, nres, fn], k) => {
    it(`${name}`, () => {
      const r = new Rng(700 + k);
      const cs: TCase[] = [];
      for (let j = 0; j < 2000; j++) {
        const range = r.pick([1e-6, 0.5, Math.PI / 4, 3, 10, 100, 1e4, 1e9, 1e15, 9e18, 2e19]);
        cs.push({ a: near(r, rand(r, -range, range)), cw: r.pick([0x37f, 0x37f, 0x77f, 0xb7f, 0xf7f, 0x27f]) });
      }
      for (const a of SPECIALS) for (const cw of [0x37f, 0x77f, 0xb7f, 0xf7f]) cs.push({ a, cw });
      for (let j = 0; j < 200; j++) cs.push({ a: F.f80((r.int(2) << 15) | r.int(40), (BigInt(r.int(2)) << 63n) | (r.u64() >> 1n)), cw: r.pick([0x37f, 0x77f, 0xb7f, 0xf7f]) });
      const { bad, hist } = compare(cs, code, nres, (c, ctx) => fn(c.a, ctx));
      report(name, hist);
      expect(bad.slice(0, 10)).toEqual([]);
    });
  });

  it('f2xm1 (|x| <= 1)', () => {
    const r = new Rng(710);
    const cs: TCase[] = [];
    for (let j = 0; j < 2000; j++) cs.push({ a: near(r, rand(r, -1, 1) * r.pick([1, 1e-3, 1e-10])), cw: r.pick(CONTROL_WORDS) });
    for (const a of SPECIALS) for (const cw of [0x37f, 0x77f, 0xb7f, 0xf7f]) cs.push({ a, cw });
    cs.push({ a: { se: 0xbfff, m: 1n << 63n }, cw: 0x37f });
    const { bad, hist } = compare(cs, 'd9f0', 1, (c, ctx) => [T.f2xm1(c.a, ctx)]);
    report('f2xm1', hist);
    expect(bad.slice(0, 10)).toEqual([]);
  });

  it('fyl2x', () => {
    const r = new Rng(711);
    const cs: TCase[] = [];
    for (let j = 0; j < 2000; j++) {
      const x = near(r, Math.exp(rand(r, -300, 300)));
      const y = near(r, rand(r, -10, 10));
      cs.push({ a: x, b: y, cw: r.pick(CONTROL_WORDS) });
    }
    for (const a of SPECIALS) for (const b of SPECIALS) for (const cw of [0x37f, 0x77f, 0xb7f, 0xf7f]) cs.push({ a, b, cw });
    const { bad, hist } = compare(cs, 'd9f1', 1, (c, ctx) => [T.fyl2x(c.a, c.b!, ctx)]);
    report('fyl2x', hist);
    expect(bad.slice(0, 10)).toEqual([]);
  });

  it('fyl2xp1 (|x| < 1 - sqrt(2)/2)', () => {
    const r = new Rng(712);
    const cs: TCase[] = [];
    for (let j = 0; j < 2000; j++) {
      const x = near(r, rand(r, -0.29, 0.29) * r.pick([1, 1e-5, 1e-15]));
      const y = near(r, rand(r, -10, 10));
      cs.push({ a: x, b: y, cw: r.pick(CONTROL_WORDS) });
    }
    for (const a of SPECIALS) for (const b of SPECIALS) if (F.classify(a) !== 'inf' && F.compare(F.abs(a), F.ONE, true, { rc: 0, pc: 64, flags: 0 }) < 0) for (const cw of [0x37f, 0x77f, 0xb7f, 0xf7f]) cs.push({ a, b, cw });
    const { bad, hist } = compare(cs, 'd9f9', 1, (c, ctx) => [T.fyl2xp1(c.a, c.b!, ctx)]);
    report('fyl2xp1', hist);
    expect(bad.slice(0, 10)).toEqual([]);
  });

  it('fpatan', () => {
    const r = new Rng(713);
    const cs: TCase[] = [];
    for (let j = 0; j < 2000; j++) {
      const x = near(r, rand(r, -1, 1) * Math.exp(rand(r, -20, 20)));
      const y = near(r, rand(r, -1, 1) * Math.exp(rand(r, -20, 20)));
      cs.push({ a: x, b: y, cw: r.pick(CONTROL_WORDS) });
    }
    for (const a of SPECIALS) for (const b of SPECIALS) for (const cw of [0x37f, 0x77f, 0xb7f, 0xf7f]) cs.push({ a, b, cw });
    const { bad, hist } = compare(cs, 'd9f3', 1, (c, ctx) => [T.fpatan(c.a, c.b!, ctx)]);
    report('fpatan', hist);
    expect(bad.slice(0, 10)).toEqual([]);
  });
});
