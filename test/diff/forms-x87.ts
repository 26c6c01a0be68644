/**
 * x87 forms: loads and stores (fld fst fstp fild fist fistp fisttp, m16..m80 and st(i)), the
 * arithmetic (fadd fsub fsubr fmul fdiv fdivr with st(0)/st(i), m32/m64 and the popping forms; the
 * fi* integer forms with m16/m32), fchs fabs fsqrt frndint fscale fxtract fprem fprem1, the
 * compares (fcom fcomp fcompp fucom fucomp fucompp ficom ficomp fcomi fucomi fcomip fucomip ftst
 * fxam), fxch, the constants, fldcw fnstcw fnstsw, fcmovcc, ffree ffreep fincstp fdecstp fninit
 * fnclex, fbld fbstp and fstpnce (an alias of fstp st(i)); the environment and state images
 * (fnstenv fldenv fnsave frstor fxsave fxrstor) are in forms-x87-state.ts.
 *
 * Every case starts from a random x87 state (builder.ts x87Value: random precision and rounding
 * control, all exceptions masked, pre-set sticky flags and condition codes, random TOP and tags,
 * canonical register values: zeros, denormals, infinities, NaNs, extreme exponents, integers). In
 * single mode a form makes its operands valid (and ST(7) empty before a push) most of the time; the
 * rest of the time the stack faults (masked: IE + SF, the indefinite QNaN). Memory operands get
 * float values with special cases (or edge integers).
 *
 * FSW condition codes the SDM leaves undefined are masked like undefined RFLAGS (Builder.fpUndef):
 * C0, C2 and C3 after loads, stores, arithmetic, fxch, fcmovcc and the like (C1 is defined there:
 * round-up or stack fault); all four after fldcw, fnstcw, fnstsw, fnclex and ffree. fcomi and
 * friends (C1 "set to 0" by the SDM, left unchanged by this AMD CPU and by usmjit, which follows it)
 * leave the codes' status as it was. fnstsw is only generated while all four codes are defined.
 *
 * Not here: the transcendental instructions (fsin fcos fsincos fptan fpatan f2xm1 fyl2x fyl2xp1),
 * whose results may differ from the hardware's by up to 1 ulp (the project's documented
 * tolerance); test/x87 (trans.test.ts) checks them against the FPU with that tolerance.
 */
import { ARITH, CC_FLAGS, FC0, FC1, FC2, FC3, FCC, Retry, type Builder, type F80 } from './builder.js';
import { add, type Form } from './forms.js';
import { gpr, type Mem } from './x86enc.js';

const hex = (n: number) => n.toString(16).padStart(2, '0');
const C023 = FC0 | FC2 | FC3;

interface FpFx { fpWrites?: number; fpUndef?: number }
/** C1 defined (round-up, stack fault); C0, C2, C3 undefined. */
const FX_C1: FpFx = { fpWrites: FC1, fpUndef: C023 };
/** All four condition codes defined. */
const FX_ALL: FpFx = { fpWrites: FCC };
/** All four undefined. */
const FX_UNDEF: FpFx = { fpUndef: FCC };

// ---- single-mode preparation of the initial x87 state ----------------------------------------------

/** Makes ST(i) valid (most of the time; the rest tests stack underflow). */
function valid(b: Builder, ...sts: number[]): void {
  if (b.seq) return;
  for (const i of sts) if (b.rng.chance(0.92)) b.x87.tag |= 1 << b.fpPhys(i);
}

/** Makes ST(7) empty before a push (most of the time; the rest tests stack overflow). */
function room(b: Builder, n = 1): void {
  if (b.seq) return;
  for (let k = 0; k < n; k++) if (b.rng.chance(0.92)) b.x87.tag &= ~(1 << b.fpPhys(7 - k));
}

const J = 1n << 63n;

/** Sometimes makes ST(dst) a value related to ST(src): equal, negated, a few ulps off, nearby exponent. */
function relate(b: Builder, src: number, dst: number, maxExp = 3): void {
  if (b.seq || src === dst || !b.rng.chance(0.35)) return;
  const r = b.rng;
  const a = b.x87.regs[b.fpPhys(src)];
  let v: F80;
  switch (r.int(4)) {
    case 0: v = { ...a }; break;
    case 1: v = { se: a.se ^ 0x8000, m: a.m }; break;
    case 2: v = { se: a.se, m: a.m >> 63n ? (a.m ^ BigInt(r.range(1, 7))) | J : a.m ^ BigInt(r.range(1, 7)) }; break;
    default: {
      const e = a.se & 0x7fff;
      if (e === 0 || e === 0x7fff) { v = { ...a }; break; }
      const ne = Math.max(1, Math.min(0x7ffe, e + r.range(-maxExp, maxExp)));
      v = { se: (a.se & 0x8000) ^ (r.chance(0.3) ? 0x8000 : 0) | ne, m: J | r.u64() };
    }
  }
  b.x87.regs[b.fpPhys(dst)] = v;
}

/** A memory operand of w bytes holding a float (4, 8: with special values; 10: a canonical 80-bit value). */
function memFloat(b: Builder, w: 4 | 8 | 10): Mem {
  const m = b.mem(w);
  if (w === 4) b.setMem(b.lastOff, BigInt(b.f32Bits()), 4);
  else if (w === 8) b.setMem(b.lastOff, b.f64Bits(), 8);
  else {
    const v = b.f80Value();
    b.setMem(b.lastOff, v.m, 8);
    b.setMem(b.lastOff + 8, BigInt(v.se), 2);
  }
  return m;
}

/** A memory operand of w bytes holding an edge integer (small ones often: exact conversions). */
function memInt(b: Builder, w: 2 | 4 | 8): Mem {
  const m = b.mem(w);
  const v = b.rng.chance(0.3) ? BigInt.asUintN(w * 8, BigInt(b.rng.range(-300, 300))) : b.val(w);
  b.setMem(b.lastOff, v, w);
  return m;
}

/** An 80-bit value in an integer store's interesting ranges (around 2^15, 2^31, 2^63, halves). */
function intish(b: Builder, i: number): void {
  if (b.seq || !b.rng.chance(0.5)) return;
  const r = b.rng;
  const n = r.pick([15, 16, 31, 32, 63, 64, r.range(0, 70)]);
  const m = r.chance(0.5) ? J | (BigInt(r.int(8)) << BigInt(r.range(0, 61))) : J | r.u64();
  const e = 0x3fff + n + r.range(-1, 1);
  b.x87.regs[b.fpPhys(i)] = { se: (r.chance(0.5) ? 0x8000 : 0) | Math.max(1, Math.min(0x7ffe, e)), m: m & ((1n << 64n) - 1n) };
}

interface XForm {
  id: string;
  family: string;
  mn: string;
  fx: FpFx;
  /** Flags read / written (fcmovcc, fcomi). */
  reads?: number;
  writes?: number;
  weight?: number;
  seq?: boolean;
  gen(b: Builder): { opcode: number[]; reg?: number; rm?: Mem; ops?: Mem[] };
}

function x87(x: XForm): void {
  add({
    id: x.id, family: x.family, isa: [x.mn], seq: x.seq ?? true, body: true, weight: x.weight ?? 0.7,
    reads: x.reads, consumer: !!x.reads, producer: !!x.writes,
    gen: (b: Builder, f: Form) => {
      const e = x.gen(b);
      b.emit({ opcode: e.opcode, reg: e.reg, rm: e.rm }, { form: f.id, mn: x.mn, ops: e.ops ?? (e.rm ? [e.rm] : undefined), reads: x.reads, writes: x.writes, ...x.fx });
    },
  });
}

/** A register form `op (b0 b1+i)` with ST(i) random. */
const sti = (b: Builder) => b.rng.int(8);

// ---- loads -----------------------------------------------------------------------------------------

for (const [w, op, d] of [[4, 0xd9, 0], [8, 0xdd, 0], [10, 0xdb, 5]] as [4 | 8 | 10, number, number][]) {
  x87({
    id: `fld m${w * 8} (${hex(op)} /${d})`, family: 'x87-load', mn: 'fld', fx: FX_C1,
    gen: (b) => { room(b); return { opcode: [op], reg: d, rm: memFloat(b, w) }; },
  });
}
x87({
  id: 'fld st(i) (d9 c0+i)', family: 'x87-load', mn: 'fld', fx: FX_C1,
  gen: (b) => { const i = sti(b); valid(b, i); room(b); return { opcode: [0xd9, 0xc0 + i] }; },
});
for (const [w, op, d] of [[2, 0xdf, 0], [4, 0xdb, 0], [8, 0xdf, 5]] as [2 | 4 | 8, number, number][]) {
  x87({
    id: `fild m${w * 8} (${hex(op)} /${d})`, family: 'x87-load', mn: 'fild', fx: FX_C1,
    gen: (b) => { room(b); return { opcode: [op], reg: d, rm: memInt(b, w) }; },
  });
}
for (const [mn, lo] of [['fld1', 0xe8], ['fldl2t', 0xe9], ['fldl2e', 0xea], ['fldpi', 0xeb], ['fldlg2', 0xec], ['fldln2', 0xed], ['fldz', 0xee]] as [string, number][]) {
  x87({
    id: `${mn} (d9 ${hex(lo)})`, family: 'x87-load', mn, fx: FX_C1, weight: 0.4,
    gen: (b) => { room(b); return { opcode: [0xd9, lo] }; },
  });
}

// ---- stores ----------------------------------------------------------------------------------------

for (const [w, op, d, mn] of [
  [4, 0xd9, 2, 'fst'], [4, 0xd9, 3, 'fstp'], [8, 0xdd, 2, 'fst'], [8, 0xdd, 3, 'fstp'], [10, 0xdb, 7, 'fstp'],
] as [number, number, number, string][]) {
  x87({
    id: `${mn} m${w * 8} (${hex(op)} /${d})`, family: 'x87-store', mn, fx: FX_C1,
    gen: (b) => { valid(b, 0); return { opcode: [op], reg: d, rm: b.mem(w) }; },
  });
}
x87({
  id: 'fst st(i) (dd d0+i)', family: 'x87-store', mn: 'fst', fx: FX_C1,
  gen: (b) => { const i = sti(b); valid(b, 0); return { opcode: [0xdd, 0xd0 + i] }; },
});
x87({
  id: 'fstp st(i) (dd d8+i)', family: 'x87-store', mn: 'fstp', fx: FX_C1,
  gen: (b) => { const i = sti(b); valid(b, 0); return { opcode: [0xdd, 0xd8 + i] }; },
});
for (const [w, op, d, mn] of [
  [2, 0xdf, 2, 'fist'], [4, 0xdb, 2, 'fist'],
  [2, 0xdf, 3, 'fistp'], [4, 0xdb, 3, 'fistp'], [8, 0xdf, 7, 'fistp'],
  [2, 0xdf, 1, 'fisttp'], [4, 0xdb, 1, 'fisttp'], [8, 0xdd, 1, 'fisttp'],
] as [number, number, number, string][]) {
  x87({
    id: `${mn} m${w * 8} (${hex(op)} /${d})`, family: 'x87-store', mn, fx: FX_C1,
    gen: (b) => { valid(b, 0); intish(b, 0); return { opcode: [op], reg: d, rm: b.mem(w) }; },
  });
}

// BCD: fbld loads 18 packed decimal digits and a sign byte (valid digits only: the SDM leaves
// invalid ones undefined); fbstp stores ST(0) rounded by RC (out of range or NaN: the indefinite).
x87({
  id: 'fbld m80 (df /4)', family: 'x87-load', mn: 'fbld', fx: FX_C1, weight: 0.5,
  gen: (b) => {
    room(b);
    const m = b.mem(10);
    const r = b.rng;
    const digits = r.chance(0.3) ? r.range(0, 4) : r.range(1, 18);
    let v = 0n;
    for (let k = 0; k < digits; k++) v |= BigInt(r.int(10)) << BigInt(4 * k);
    b.setMem(b.lastOff, v, 9);
    b.setMem(b.lastOff + 9, r.chance(0.5) ? 0x80n : 0n, 1);
    return { opcode: [0xdf], reg: 4, rm: m };
  },
});
x87({
  id: 'fbstp m80 (df /6)', family: 'x87-store', mn: 'fbstp', fx: FX_C1, weight: 0.5,
  gen: (b) => {
    valid(b, 0);
    if (!b.seq && b.rng.chance(0.6)) {
      // Within the 18 digits most of the time (2^59 < 10^18), a fraction for the rounding.
      const r = b.rng;
      b.x87.regs[b.fpPhys(0)] = { se: (r.chance(0.5) ? 0x8000 : 0) | (0x3fff + r.range(-2, 62)), m: J | r.u64() };
    }
    return { opcode: [0xdf], reg: 6, rm: b.mem(10) };
  },
});

// ---- arithmetic ------------------------------------------------------------------------------------

/** ModRM.reg of each operation in d8/dc (st(0) op= src), and the popping register forms. */
const ARITH_OPS: [string, number][] = [['fadd', 0], ['fmul', 1], ['fsub', 4], ['fsubr', 5], ['fdiv', 6], ['fdivr', 7]];
for (const [mn, d] of ARITH_OPS) {
  x87({
    id: `${mn} m32 (d8 /${d})`, family: 'x87-arith', mn, fx: FX_C1,
    gen: (b) => { valid(b, 0); return { opcode: [0xd8], reg: d, rm: memFloat(b, 4) }; },
  });
  x87({
    id: `${mn} m64 (dc /${d})`, family: 'x87-arith', mn, fx: FX_C1,
    gen: (b) => { valid(b, 0); return { opcode: [0xdc], reg: d, rm: memFloat(b, 8) }; },
  });
  x87({
    id: `${mn} st(0), st(i) (d8 ${hex(0xc0 + 8 * d)}+i)`, family: 'x87-arith', mn, fx: FX_C1,
    gen: (b) => { const i = sti(b); valid(b, 0, i); relate(b, 0, i); return { opcode: [0xd8, 0xc0 + 8 * d + i] }; },
  });
  // dc c0+8d+i: st(i) = st(i) op st(0); the sub/div encodings swap the reversed forms (dc e0+i is fsubr).
  const dcMn = d >= 4 ? ARITH_OPS.find(([, x]) => x === (d ^ 1))![0] : mn;
  x87({
    id: `${dcMn} st(i), st(0) (dc ${hex(0xc0 + 8 * d)}+i)`, family: 'x87-arith', mn: dcMn, fx: FX_C1,
    gen: (b) => { const i = sti(b); valid(b, 0, i); relate(b, 0, i); return { opcode: [0xdc, 0xc0 + 8 * d + i] }; },
  });
  const pMn = dcMn + 'p';
  x87({
    id: `${pMn} st(i), st(0) (de ${hex(0xc0 + 8 * d)}+i)`, family: 'x87-arith', mn: pMn, fx: FX_C1,
    gen: (b) => { const i = sti(b); valid(b, 0, i); relate(b, 0, i); return { opcode: [0xde, 0xc0 + 8 * d + i] }; },
  });
  const imn = 'fi' + mn.slice(1);
  x87({
    id: `${imn} m32 (da /${d})`, family: 'x87-arith', mn: imn, fx: FX_C1,
    gen: (b) => { valid(b, 0); return { opcode: [0xda], reg: d, rm: memInt(b, 4) }; },
  });
  x87({
    id: `${imn} m16 (de /${d})`, family: 'x87-arith', mn: imn, fx: FX_C1,
    gen: (b) => { valid(b, 0); return { opcode: [0xde], reg: d, rm: memInt(b, 2) }; },
  });
}

for (const [mn, lo, fx, srcs, push] of [
  ['fchs', 0xe0, FX_C1, [0], false], ['fabs', 0xe1, FX_C1, [0], false], ['fsqrt', 0xfa, FX_C1, [0], false],
  ['frndint', 0xfc, FX_C1, [0], false], ['fscale', 0xfd, FX_C1, [0, 1], false], ['fxtract', 0xf4, FX_C1, [0], true],
  ['fprem', 0xf8, FX_ALL, [0, 1], false], ['fprem1', 0xf5, FX_ALL, [0, 1], false],
] as [string, number, FpFx, number[], boolean][]) {
  x87({
    id: `${mn} (d9 ${hex(lo)})`, family: 'x87-arith', mn, fx,
    gen: (b) => {
      valid(b, ...srcs);
      if (push) room(b);
      if (mn === 'fscale' && !b.seq && b.rng.chance(0.6)) {
        // A scale of moderate size (the interesting results), sometimes fractional or huge.
        const r = b.rng;
        b.x87.regs[b.fpPhys(1)] = r.chance(0.8)
          ? { se: (r.chance(0.5) ? 0x8000 : 0) | (0x3fff + r.range(0, 14)), m: J | (r.chance(0.7) ? 0n : r.u64()) }
          : { se: (r.chance(0.5) ? 0x8000 : 0) | (0x3fff + r.range(-3, 20)), m: J | r.u64() };
      }
      if (mn.startsWith('fprem')) relate(b, 0, 1, 80);
      if (mn === 'frndint') intish(b, 0);
      return { opcode: [0xd9, lo] };
    },
  });
}

// ---- compares --------------------------------------------------------------------------------------

for (const [mn, op, lo, pops] of [
  ['fcom', 0xd8, 0xd0, 0], ['fcomp', 0xd8, 0xd8, 1], ['fucom', 0xdd, 0xe0, 0], ['fucomp', 0xdd, 0xe8, 1],
] as [string, number, number, number][]) {
  x87({
    id: `${mn} st(i) (${hex(op)} ${hex(lo)}+i)`, family: 'x87-cmp', mn, fx: FX_ALL,
    gen: (b) => { const i = sti(b); valid(b, 0, i); relate(b, 0, i); return { opcode: [op, lo + i] }; },
  });
  void pops;
}
x87({ id: 'fcompp (de d9)', family: 'x87-cmp', mn: 'fcompp', fx: FX_ALL, gen: (b) => { valid(b, 0, 1); relate(b, 0, 1); return { opcode: [0xde, 0xd9] }; } });
x87({ id: 'fucompp (da e9)', family: 'x87-cmp', mn: 'fucompp', fx: FX_ALL, gen: (b) => { valid(b, 0, 1); relate(b, 0, 1); return { opcode: [0xda, 0xe9] }; } });
for (const [mn, d] of [['fcom', 2], ['fcomp', 3]] as [string, number][]) {
  x87({ id: `${mn} m32 (d8 /${d})`, family: 'x87-cmp', mn, fx: FX_ALL, gen: (b) => { valid(b, 0); return { opcode: [0xd8], reg: d, rm: memFloat(b, 4) }; } });
  x87({ id: `${mn} m64 (dc /${d})`, family: 'x87-cmp', mn, fx: FX_ALL, gen: (b) => { valid(b, 0); return { opcode: [0xdc], reg: d, rm: memFloat(b, 8) }; } });
  const imn = 'fi' + mn.slice(1);
  x87({ id: `${imn} m32 (da /${d})`, family: 'x87-cmp', mn: imn, fx: FX_ALL, gen: (b) => { valid(b, 0); return { opcode: [0xda], reg: d, rm: memInt(b, 4) }; } });
  x87({ id: `${imn} m16 (de /${d})`, family: 'x87-cmp', mn: imn, fx: FX_ALL, gen: (b) => { valid(b, 0); return { opcode: [0xde], reg: d, rm: memInt(b, 2) }; } });
}
// fcomi family: ZF PF CF from the compare, OF SF AF cleared; the FSW codes keep their status (see above).
for (const [id, mn, op, lo] of [
  ['fcomi st(0), st(i) (db f0+i)', 'fcomi', 0xdb, 0xf0], ['fucomi st(0), st(i) (db e8+i)', 'fucomi', 0xdb, 0xe8],
  ['fcomip st(0), st(i) (df f0+i)', 'fcompi', 0xdf, 0xf0], ['fucomip st(0), st(i) (df e8+i)', 'fucompi', 0xdf, 0xe8],
] as [string, string, number, number][]) {
  x87({
    id, family: 'x87-cmp', mn, fx: {}, writes: ARITH,
    gen: (b) => { const i = sti(b); valid(b, 0, i); relate(b, 0, i); return { opcode: [op, lo + i] }; },
  });
}
x87({ id: 'ftst (d9 e4)', family: 'x87-cmp', mn: 'ftst', fx: FX_ALL, gen: (b) => { valid(b, 0); return { opcode: [0xd9, 0xe4] }; } });
x87({ id: 'fxam (d9 e5)', family: 'x87-cmp', mn: 'fxam', fx: FX_ALL, gen: (b) => { valid(b, 0); return { opcode: [0xd9, 0xe5] }; } });

// ---- stack, control --------------------------------------------------------------------------------

x87({
  id: 'fxch st(i) (d9 c8+i)', family: 'x87-misc', mn: 'fxch', fx: FX_C1,
  gen: (b) => { const i = sti(b); valid(b, 0, i); return { opcode: [0xd9, 0xc8 + i] }; },
});
// fcmovcc st(0), st(i): da c0/c8/d0/d8 (b e be u), db (nb ne nbe nu).
for (const [k, [mn, cc]] of ([['fcmovb', 2], ['fcmove', 4], ['fcmovbe', 6], ['fcmovu', 10], ['fcmovnb', 3], ['fcmovne', 5], ['fcmovnbe', 7], ['fcmovnu', 11]] as [string, number][]).entries()) {
  const op = k < 4 ? 0xda : 0xdb, lo = 0xc0 + 8 * (k & 3);
  x87({
    id: `${mn} st(0), st(i) (${hex(op)} ${hex(lo)}+i)`, family: 'x87-misc', mn, fx: FX_C1, reads: CC_FLAGS[cc],
    gen: (b) => { const i = sti(b); valid(b, 0, i); return { opcode: [op, lo + i] }; },
  });
}
x87({ id: 'ffree st(i) (dd c0+i)', family: 'x87-misc', mn: 'ffree', fx: FX_UNDEF, weight: 0.4, gen: (b) => ({ opcode: [0xdd, 0xc0 + sti(b)] }) });
x87({ id: 'ffreep st(i) (df c0+i)', family: 'x87-misc', mn: 'ffreep', fx: FX_UNDEF, weight: 0.4, gen: (b) => ({ opcode: [0xdf, 0xc0 + sti(b)] }) });
// d9 d8+i: an undocumented alias of fstp st(i) (Capstone: fstpnce).
x87({
  id: 'fstpnce st(i) (d9 d8+i)', family: 'x87-store', mn: 'fstpnce', fx: FX_C1, weight: 0.4,
  gen: (b) => { const i = sti(b); valid(b, 0); return { opcode: [0xd9, 0xd8 + i] }; },
});
x87({ id: 'fincstp (d9 f7)', family: 'x87-misc', mn: 'fincstp', fx: FX_C1, weight: 0.4, gen: () => ({ opcode: [0xd9, 0xf7] }) });
x87({ id: 'fdecstp (d9 f6)', family: 'x87-misc', mn: 'fdecstp', fx: FX_C1, weight: 0.4, gen: () => ({ opcode: [0xd9, 0xf6] }) });
x87({ id: 'fninit (db e3)', family: 'x87-ctl', mn: 'fninit', fx: FX_ALL, weight: 0.2, gen: () => ({ opcode: [0xdb, 0xe3] }) });
x87({ id: 'fnclex (db e2)', family: 'x87-ctl', mn: 'fnclex', fx: FX_UNDEF, weight: 0.3, gen: () => ({ opcode: [0xdb, 0xe2] }) });
x87({
  // Single only: in a sequence an earlier store may have rewritten the control word in memory.
  id: 'fldcw m16 (d9 /5)', family: 'x87-ctl', mn: 'fldcw', fx: FX_UNDEF, weight: 0.5, seq: false,
  gen: (b) => {
    // Exceptions stay masked (an unmasked pending one would raise #MF at the next x87 instruction).
    const r = b.rng;
    const cw = 0x3f | (r.pick([0, 2, 3]) << 8) | (r.int(4) << 10) | (r.chance(0.3) ? r.int(2) << 12 | r.int(4) << 6 | r.int(8) << 13 : 0x40);
    const m = b.mem(2);
    b.setMem(b.lastOff, BigInt(cw), 2);
    return { opcode: [0xd9], reg: 5, rm: m };
  },
});
x87({ id: 'fnstcw m16 (d9 /7)', family: 'x87-ctl', mn: 'fnstcw', fx: FX_UNDEF, weight: 0.4, gen: (b) => ({ opcode: [0xd9], reg: 7, rm: b.mem(2) }) });
// fnstsw stores the condition codes: only while all four are defined.
x87({
  id: 'fnstsw m16 (dd /7)', family: 'x87-ctl', mn: 'fnstsw', fx: FX_UNDEF, weight: 0.4,
  gen: (b) => { if (b.fpUndef) throw new Retry('fsw undefined'); return { opcode: [0xdd], reg: 7, rm: b.mem(2) }; },
});
add({
  id: 'fnstsw ax (df e0)', family: 'x87-ctl', isa: ['fnstsw'], seq: true, body: true, weight: 0.6,
  gen: (b, f) => {
    if (b.fpUndef) throw new Retry('fsw undefined');
    const ax = b.fixed(0, 2);
    b.emit({ opcode: [0xdf, 0xe0] }, { form: f.id, mn: 'fnstsw', ops: [gpr(0, 2)], ...FX_UNDEF });
    void ax;
  },
});
