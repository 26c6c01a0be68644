/**
 * softfloat/f80.ts against this machine's x87, bit for bit: each case loads operands into
 * ST(0)/ST(1) (or memory), sets the control word, runs one instruction natively (native.c) and
 * compares the result bits and the status flags (IE DE ZE OE UE PE, C1 and, where defined,
 * C0 C2 C3) with the softfloat function's.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as F from '../../src/jit/softfloat/f80.js';
import type { Ctx, F80 } from '../../src/jit/softfloat/f80.js';
import { anyValue, buildNative, cleanupNative, CONTROL_WORDS, fmt, image, related, Rng, runNative, stOf, swOf } from './harness.js';
import type { Rec } from './harness.js';

const J = 1n << 63n;
const v = (se: number, m: bigint): F80 => ({ se, m });

/** Edge operands: both signs of each. */
const EDGE: F80[] = [
  v(0, 0n), v(0x7fff, J), v(0x7fff, J | (1n << 62n)), v(0x7fff, J | (1n << 62n) | 5n), v(0x7fff, J | 1n), v(0x7fff, J | 7n),
  v(0, 1n), v(0, J - 1n), v(0, J | 1n), v(0, 1n << 40n), v(1, J), v(1, ~0n & ((1n << 64n) - 1n)), v(0x7ffe, (1n << 64n) - 1n),
  v(0x3fff, J), v(0x3fff, J | 1n), v(0x3ffe, (1n << 64n) - 1n), v(0x3fff, 0xc000000000000000n), v(0x4000, J),
  v(0x3fff, 0x4000000000000000n), v(0x7fff, 0n), v(0x7fff, 0x4000000000000000n), v(0x403e, J), v(0x403d, 0xffffffffffffffffn),
  v(0x401e, J), v(0x400e, J), v(0x3ffe, J), v(0x3fbf, J), v(0x3fff, 0x8000000000000400n), v(0x3fff, 0x8000008000000000n),
].flatMap((x) => [x, F.neg(x)]);

interface Case { a: F80; b: F80; cw: number }

/** Random cases plus edge x edge, over all control words. */
function cases(seed: number, n: number, twoOperands: boolean): Case[] {
  const r = new Rng(seed);
  const out: Case[] = [];
  for (let k = 0; k < n; k++) {
    const a = anyValue(r);
    const b = r.chance(0.4) ? related(r, a) : anyValue(r);
    out.push({ a, b, cw: r.pick(CONTROL_WORDS) });
  }
  const cws = [0x037f, 0x077f, 0x0b7f, 0x0f7f, 0x007f, 0x027f];
  for (const a of EDGE) {
    if (twoOperands) for (const b of EDGE) out.push({ a, b, cw: r.pick(cws) });
    else for (const cw of cws) out.push({ a, b: a, cw });
  }
  return out;
}

const hex = (s: string) => new Uint8Array(Buffer.from(s.replace(/ /g, ''), 'hex'));

interface Result { st0: F80; st1?: F80; flags: number }

/**
 * Runs `code` on [a, b] (ST0, ST1) natively, and `soft` on the same operands; returns the
 * mismatching cases. `ccMask`: the status bits compared besides the exception flags.
 */
function check(cs: Case[], code: string, twoOperands: boolean, ccMask: number,
  soft: (c: Case, ctx: Ctx) => Result, pops = 0): string[] {
  const recs: Rec[] = cs.map((c) => ({
    img: image({ cw: c.cw, st: twoOperands ? [c.a, c.b] : [c.a] }),
    flags: 0x202, mem: new Uint8Array(512), code: hex(code),
  }));
  const out = runNative(recs);
  const bad: string[] = [];
  const mask = 0x7f | ccMask;
  cs.forEach((c, k) => {
    const n = out[k];
    const ctx = F.ctxFromCw(c.cw);
    const s = soft(c, ctx);
    const top = (swOf(n.img) >> 11) & 7;
    const nst0 = stOf(n.img, 0), nst1 = stOf(n.img, 1);
    const nflags = swOf(n.img) & mask;
    const sflags = (ctx.flags | (s.flags ?? 0)) & mask;
    void top;
    void pops;
    const ok = fmt(nst0) === fmt(s.st0) && (!s.st1 || fmt(nst1) === fmt(s.st1)) && nflags === sflags;
    if (!ok) {
      bad.push(`a=${fmt(c.a)} b=${fmt(c.b)} cw=${c.cw.toString(16)}: native ${fmt(nst0)}${s.st1 ? ' ' + fmt(nst1) : ''} sw=${nflags.toString(16)}; soft ${fmt(s.st0)}${s.st1 ? ' ' + fmt(s.st1) : ''} sw=${sflags.toString(16)}`);
    }
  });
  return bad;
}

const C1 = F.C1, C0 = F.C0, C2 = F.C2, C3 = F.C3;
const ccOfOrder = (o: F.Order): number => (o === 2 ? C3 | C2 | C0 : o === 0 ? C3 : o < 0 ? C0 : 0);

describe('f80 softfloat vs the native x87', () => {
  beforeAll(() => { buildNative(); });
  afterAll(() => cleanupNative());

  const N = 4000;
  const binary: [string, string, (a: F80, b: F80, ctx: Ctx) => F80][] = [
    ['fadd', 'd8c1', (a, b, ctx) => F.add(a, b, ctx)],
    ['fsub', 'd8e1', (a, b, ctx) => F.sub(a, b, ctx)],
    ['fsubr', 'd8e9', (a, b, ctx) => F.sub(b, a, ctx)],
    ['fmul', 'd8c9', (a, b, ctx) => F.mul(a, b, ctx)],
    ['fdiv', 'd8f1', (a, b, ctx) => F.div(a, b, ctx)],
    ['fdivr', 'd8f9', (a, b, ctx) => F.div(b, a, ctx)],
    ['fscale', 'd9fd', (a, b, ctx) => F.scale(a, b, ctx)],
  ];
  binary.forEach(([name, code, fn], k) => {
    it(`${name} (st0 = st0 op st1), all RC/PC`, () => {
      const cs = cases(100 + k, N, true);
      if (name === 'fscale') {
        // Results around the smallest normal and the largest finite value.
        const r = new Rng(500);
        for (let j = 0; j < 1500; j++) {
          const m = (1n << 63n) | (r.chance(0.5) ? (1n << 63n) - 1n - BigInt(r.int(1 << 20)) : r.u64());
          const ea = 0x3fff + r.int(200) - 100;
          const target = r.chance(0.5) ? r.int(70) - 66 : 0x7ffe - r.int(3);
          cs.push({ a: F.f80((r.int(2) << 15) | ea, m), b: F.fromInt(BigInt(target - ea)), cw: r.pick(CONTROL_WORDS) });
        }
      }
      const bad = check(cs, code, true, C1, (c, ctx) => ({ st0: fn(c.a, c.b, ctx), flags: 0 }));
      expect(bad.slice(0, 12)).toEqual([]);
    });
  });

  it('fsqrt', () => {
    const bad = check(cases(200, N, false), 'd9fa', false, C1, (c, ctx) => ({ st0: F.sqrt(c.a, ctx), flags: 0 }));
    expect(bad.slice(0, 12)).toEqual([]);
  });

  it('frndint', () => {
    const bad = check(cases(201, N, false), 'd9fc', false, C1, (c, ctx) => ({ st0: F.roundInt(c.a, ctx), flags: 0 }));
    expect(bad.slice(0, 12)).toEqual([]);
  });

  it('fxtract', () => {
    const bad = check(cases(202, N, false), 'd9f4', false, C1, (c, ctx) => {
      const [e, s] = F.xtract(c.a, ctx);
      return { st0: s, st1: e, flags: 0 };
    });
    expect(bad.slice(0, 12)).toEqual([]);
  });

  for (const [name, code, ieee] of [['fprem', 'd9f8', false], ['fprem1', 'd9f5', true]] as const) {
    it(`${name} (remainder and C0 C1 C2 C3)`, () => {
      const cs = cases(ieee ? 204 : 203, N, true);
      // Exponent differences around the 64-bit partial-remainder boundary.
      const r = new Rng(ieee ? 304 : 303);
      for (let k = 0; k < 1500; k++) {
        const b = F.f80((r.int(2) << 15) | (0x3fff - 40 + r.int(80)), (1n << 63n) | r.u64());
        const a = F.f80((r.int(2) << 15) | ((b.se & 0x7fff) + r.int(140) - 8), (1n << 63n) | r.u64());
        cs.push({ a, b, cw: r.pick(CONTROL_WORDS) });
      }
      const bad = check(cs, code, true, C0 | C1 | C2 | C3, (c, ctx) => {
        const p = F.prem(c.a, c.b, ieee, ctx);
        return { st0: p.r, flags: p.cc ?? 0 };
      });
      expect(bad.slice(0, 12)).toEqual([]);
    });
  }

  for (const [name, code, quiet] of [['fcom', 'd8d1', false], ['fucom', 'dde1', true]] as const) {
    it(`${name} (C0 C2 C3)`, () => {
      const bad = check(cases(quiet ? 206 : 205, N, true), code, true, C0 | C1 | C2 | C3, (c, ctx) => ({
        st0: c.a, flags: ccOfOrder(F.compare(c.a, c.b, quiet, ctx)),
      }));
      expect(bad.slice(0, 12)).toEqual([]);
    });
  }

  // Stores to memory: fst m32 / m64, fist(tp) m16/m32/m64.
  const stores: [string, string, number, (a: F80, ctx: Ctx) => bigint][] = [
    ['fst m32', 'd910', 4, (a, ctx) => BigInt(F.toF32(a, ctx))],
    ['fst m64', 'dd10', 8, (a, ctx) => F.toF64(a, ctx)],
    ['fist m16', 'df10', 2, (a, ctx) => F.toInt(a, 16, ctx)],
    ['fist m32', 'db10', 4, (a, ctx) => F.toInt(a, 32, ctx)],
    ['fistp m64', 'df38', 8, (a, ctx) => F.toInt(a, 64, ctx)],
    ['fisttp m16', 'df08', 2, (a, ctx) => F.toInt(a, 16, ctx, true)],
    ['fisttp m32', 'db08', 4, (a, ctx) => F.toInt(a, 32, ctx, true)],
    ['fisttp m64', 'dd08', 8, (a, ctx) => F.toInt(a, 64, ctx, true)],
  ];
  stores.forEach(([name, code, size, fn], k) => {
    it(`${name} (conversion, all RC)`, () => {
      const cs = cases(210 + k, N, false);
      const r = new Rng(410 + k);
      // Values around the integer and f32/f64 ranges.
      for (let j = 0; j < 1500; j++) {
        const e = name.startsWith('fst') ? (r.chance(0.5) ? 0x3fff + r.pick([127, 128, 126, 1023, 1024, 1022]) : 0x3fff - r.pick([126, 127, 149, 150, 148, 1022, 1023, 1074, 1075, 1073])) + r.int(3) - 1
          : 0x3fff + r.int(size * 8 + 2);
        const m = r.chance(0.3) ? ((1n << 64n) - 1n - (r.u64() >> BigInt(r.int(64)))) : r.chance(0.5) ? r.u64() : (r.u64() >> BigInt(r.int(64))) << BigInt(r.int(64));
        cs.push({ a: F.f80((r.int(2) << 15) | e, (1n << 63n) | m), b: F.ZERO, cw: r.pick(CONTROL_WORDS) });
      }
      const recs: Rec[] = cs.map((c) => ({ img: image({ cw: c.cw, st: [c.a] }), flags: 0x202, mem: new Uint8Array(512), code: hex(code) }));
      const out = runNative(recs);
      const bad: string[] = [];
      cs.forEach((c, j) => {
        const ctx = F.ctxFromCw(c.cw);
        const want = BigInt.asUintN(size * 8, fn(c.a, ctx));
        let got = 0n;
        for (let i = size - 1; i >= 0; i--) got = (got << 8n) | BigInt(out[j].mem[i]);
        const nf = swOf(out[j].img) & (0x7f | C1), sf = ctx.flags & (0x7f | C1);
        if (got !== want || nf !== sf) bad.push(`a=${fmt(c.a)} cw=${c.cw.toString(16)}: native ${got.toString(16)} sw=${nf.toString(16)}; soft ${want.toString(16)} sw=${sf.toString(16)}`);
      });
      expect(bad.slice(0, 12)).toEqual([]);
    });
  });

  // Loads: fld m32 / m64 (exact, SNaN quieted with IE, denormal DE), fild.
  const loads: [string, string, number, (bits: bigint, ctx: Ctx) => F80][] = [
    ['fld m32', 'd900', 4, (b, ctx) => F.fromF32(Number(b), ctx)],
    ['fld m64', 'dd00', 8, (b, ctx) => F.fromF64(b, ctx)],
    ['fild m16', 'df00', 2, (b) => F.fromInt(BigInt.asIntN(16, b))],
    ['fild m32', 'db00', 4, (b) => F.fromInt(BigInt.asIntN(32, b))],
    ['fild m64', 'df28', 8, (b) => F.fromInt(BigInt.asIntN(64, b))],
  ];
  loads.forEach(([name, code, size, fn], k) => {
    it(`${name}`, () => {
      const r = new Rng(220 + k);
      const bitsList: bigint[] = [];
      const ebits = size === 4 ? 8 : 11, fbits = size === 4 ? 23 : 52;
      for (let j = 0; j < 3000; j++) {
        let b = BigInt.asUintN(size * 8, r.u64());
        if (name.startsWith('fld') && r.chance(0.5)) {
          // Force a special exponent: 0 (zero/denormal) or all ones (inf/NaN).
          const e = r.chance(0.5) ? 0n : (1n << BigInt(ebits)) - 1n;
          b = (b & ~(((1n << BigInt(ebits)) - 1n) << BigInt(fbits))) | (e << BigInt(fbits));
          if (r.chance(0.3)) b &= ~((1n << BigInt(fbits)) - 1n) | BigInt(r.int(4));
        }
        bitsList.push(b);
      }
      const recs: Rec[] = bitsList.map((b) => {
        const mem = new Uint8Array(512);
        for (let i = 0; i < size; i++) mem[i] = Number((b >> BigInt(8 * i)) & 0xffn);
        return { img: image({ cw: r.pick(CONTROL_WORDS) }), flags: 0x202, mem, code: hex(code) };
      });
      const out = runNative(recs);
      const bad: string[] = [];
      bitsList.forEach((b, j) => {
        const ctx = F.ctxFromCw(0x37f);
        const want = fn(b, ctx);
        const got = stOf(out[j].img, 0);
        const nf = swOf(out[j].img) & (0x7f | C1), sf = ctx.flags & (0x7f | C1);
        if (fmt(got) !== fmt(want) || nf !== sf) bad.push(`bits=${b.toString(16)}: native ${fmt(got)} sw=${nf.toString(16)}; soft ${fmt(want)} sw=${sf.toString(16)}`);
      });
      expect(bad.slice(0, 12)).toEqual([]);
    });
  });
});
