/**
 * SSE / SSE2 forms (the baseline the emulator advertises through CPUID): moves, logic, packed
 * integer arithmetic, compares, shuffles, unpacks, shifts, packs, scalar and packed float
 * arithmetic, conversions, (u)comis, cmpXX. Legacy-SSE m128 operands are 16-byte aligned except
 * for the explicitly unaligned moves (a misaligned one would fault).
 */
import { ARITH, type Builder } from './builder.js';
import { add, type Form } from './forms.js';
import { imm, type Gpr, type Mem, type Operand, type Xmm } from './x86enc.js';

const hex = (n: number) => n.toString(16).padStart(2, '0');

/**
 * Operand kinds: x (xmm), xmN (xmm or mN), mN (memory only), r32/r64, rmN (gpr or memory),
 * r32m16 (r32 or m16), i8 (imm8). A trailing 'u' on a 128-bit memory kind allows misalignment.
 */
type Kind = string;

interface SseSpec {
  mn: string;
  pfx: number; // 0, 0x66, 0xf2, 0xf3
  op: number; // after 0f
  ops: Kind[];
  w?: boolean; // REX.W
  digit?: number; // /digit (the single register operand goes to ModRM.rm)
  immGen?: (b: Builder) => number;
  /** Capstone name when it differs from mn (cmpXX pseudo-ops). */
  cs?: (immv: number) => string;
  fx?: { writes?: number; undef?: number };
}

const specs: SseSpec[] = [];
const S = (mn: string, pfx: number, op: number, ops: string, o: Partial<SseSpec> = {}) =>
  specs.push({ mn, pfx, op, ops: ops.split(','), ...o });

// moves
S('movaps', 0, 0x28, 'x,xm128'); S('movaps', 0, 0x29, 'm128,x');
S('movups', 0, 0x10, 'x,xm128u'); S('movups', 0, 0x11, 'm128u,x');
S('movapd', 0x66, 0x28, 'x,xm128'); S('movapd', 0x66, 0x29, 'm128,x');
S('movupd', 0x66, 0x10, 'x,xm128u'); S('movupd', 0x66, 0x11, 'm128u,x');
S('movdqa', 0x66, 0x6f, 'x,xm128'); S('movdqa', 0x66, 0x7f, 'm128,x');
S('movdqu', 0xf3, 0x6f, 'x,xm128u'); S('movdqu', 0xf3, 0x7f, 'm128u,x');
S('movntdq', 0x66, 0xe7, 'm128,x'); S('movntps', 0, 0x2b, 'm128,x'); S('movntpd', 0x66, 0x2b, 'm128,x');
S('movnti', 0, 0xc3, 'm32,r32'); S('movnti', 0, 0xc3, 'm64,r64', { w: true });
S('movd', 0x66, 0x6e, 'x,rm32'); S('movd', 0x66, 0x7e, 'rm32,x');
S('movq', 0x66, 0x6e, 'x,rm64', { w: true }); S('movq', 0x66, 0x7e, 'rm64,x', { w: true });
S('movq', 0xf3, 0x7e, 'x,xm64'); S('movq', 0x66, 0xd6, 'm64,x');
S('movss', 0xf3, 0x10, 'x,xm32'); S('movss', 0xf3, 0x11, 'm32,x');
S('movsd', 0xf2, 0x10, 'x,xm64'); S('movsd', 0xf2, 0x11, 'm64,x');
S('movlps', 0, 0x12, 'x,m64'); S('movlps', 0, 0x13, 'm64,x');
S('movhps', 0, 0x16, 'x,m64'); S('movhps', 0, 0x17, 'm64,x');
S('movlpd', 0x66, 0x12, 'x,m64'); S('movlpd', 0x66, 0x13, 'm64,x');
S('movhpd', 0x66, 0x16, 'x,m64'); S('movhpd', 0x66, 0x17, 'm64,x');
S('movhlps', 0, 0x12, 'x,x'); S('movlhps', 0, 0x16, 'x,x');
// logic
for (const [mn, pfx, op] of [['pxor', 0x66, 0xef], ['xorps', 0, 0x57], ['xorpd', 0x66, 0x57], ['por', 0x66, 0xeb], ['orps', 0, 0x56],
  ['orpd', 0x66, 0x56], ['pand', 0x66, 0xdb], ['andps', 0, 0x54], ['andpd', 0x66, 0x54], ['pandn', 0x66, 0xdf], ['andnps', 0, 0x55],
  ['andnpd', 0x66, 0x55]] as [string, number, number][]) S(mn, pfx, op, 'x,xm128');
// packed integer (66 0f xx)
for (const [mn, op] of [
  ['paddb', 0xfc], ['paddw', 0xfd], ['paddd', 0xfe], ['paddq', 0xd4], ['psubb', 0xf8], ['psubw', 0xf9], ['psubd', 0xfa], ['psubq', 0xfb],
  ['paddsb', 0xec], ['paddsw', 0xed], ['paddusb', 0xdc], ['paddusw', 0xdd], ['psubsb', 0xe8], ['psubsw', 0xe9], ['psubusb', 0xd8], ['psubusw', 0xd9],
  ['pcmpeqb', 0x74], ['pcmpeqw', 0x75], ['pcmpeqd', 0x76], ['pcmpgtb', 0x64], ['pcmpgtw', 0x65], ['pcmpgtd', 0x66],
  ['pminub', 0xda], ['pmaxub', 0xde], ['pminsw', 0xea], ['pmaxsw', 0xee], ['pavgb', 0xe0], ['pavgw', 0xe3],
  ['pmullw', 0xd5], ['pmulhw', 0xe5], ['pmulhuw', 0xe4], ['pmuludq', 0xf4], ['pmaddwd', 0xf5], ['psadbw', 0xf6],
  ['packsswb', 0x63], ['packuswb', 0x67], ['packssdw', 0x6b],
  ['punpcklbw', 0x60], ['punpcklwd', 0x61], ['punpckldq', 0x62], ['punpcklqdq', 0x6c],
  ['punpckhbw', 0x68], ['punpckhwd', 0x69], ['punpckhdq', 0x6a], ['punpckhqdq', 0x6d],
  ['psllw', 0xf1], ['pslld', 0xf2], ['psllq', 0xf3], ['psrlw', 0xd1], ['psrld', 0xd2], ['psrlq', 0xd3], ['psraw', 0xe1], ['psrad', 0xe2],
] as [string, number][]) S(mn, 0x66, op, 'x,xm128');
const shiftImm = (b: Builder) => b.rng.pick([0, 1, 2, 7, 8, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 255, b.rng.int(256), b.rng.int(16)]);
for (const [mn, op, d] of [['psrlw', 0x71, 2], ['psraw', 0x71, 4], ['psllw', 0x71, 6], ['psrld', 0x72, 2], ['psrad', 0x72, 4], ['pslld', 0x72, 6],
  ['psrlq', 0x73, 2], ['psrldq', 0x73, 3], ['psllq', 0x73, 6], ['pslldq', 0x73, 7]] as [string, number, number][]) {
  S(mn, 0x66, op, 'x,i8', { digit: d, immGen: shiftImm });
}
S('pmovmskb', 0x66, 0xd7, 'r32,x'); S('movmskps', 0, 0x50, 'r32,x'); S('movmskpd', 0x66, 0x50, 'r32,x');
const anyImm = (b: Builder) => b.rng.int(256);
S('pshufd', 0x66, 0x70, 'x,xm128,i8', { immGen: anyImm }); S('pshuflw', 0xf2, 0x70, 'x,xm128,i8', { immGen: anyImm });
S('pshufhw', 0xf3, 0x70, 'x,xm128,i8', { immGen: anyImm });
S('shufps', 0, 0xc6, 'x,xm128,i8', { immGen: anyImm }); S('shufpd', 0x66, 0xc6, 'x,xm128,i8', { immGen: anyImm });
S('unpcklps', 0, 0x14, 'x,xm128'); S('unpckhps', 0, 0x15, 'x,xm128'); S('unpcklpd', 0x66, 0x14, 'x,xm128'); S('unpckhpd', 0x66, 0x15, 'x,xm128');
S('pinsrw', 0x66, 0xc4, 'x,r32m16,i8', { immGen: anyImm }); S('pextrw', 0x66, 0xc5, 'r32,x,i8', { immGen: anyImm });
// float arithmetic
for (const [name, op] of [['add', 0x58], ['mul', 0x59], ['sub', 0x5c], ['min', 0x5d], ['div', 0x5e], ['max', 0x5f], ['sqrt', 0x51]] as [string, number][]) {
  S(`${name}ss`, 0xf3, op, 'x,xm32'); S(`${name}sd`, 0xf2, op, 'x,xm64');
  S(`${name}ps`, 0, op, 'x,xm128'); S(`${name}pd`, 0x66, op, 'x,xm128');
}
const FX_COMI = { writes: ARITH, undef: 0 };
S('ucomiss', 0, 0x2e, 'x,xm32', { fx: FX_COMI }); S('comiss', 0, 0x2f, 'x,xm32', { fx: FX_COMI });
S('ucomisd', 0x66, 0x2e, 'x,xm64', { fx: FX_COMI }); S('comisd', 0x66, 0x2f, 'x,xm64', { fx: FX_COMI });
// conversions
for (const w of [false, true]) {
  const r = w ? 'r64' : 'r32';
  const rm = w ? 'rm64' : 'rm32';
  S('cvttsd2si', 0xf2, 0x2c, `${r},xm64`, { w }); S('cvtsd2si', 0xf2, 0x2d, `${r},xm64`, { w });
  S('cvttss2si', 0xf3, 0x2c, `${r},xm32`, { w }); S('cvtss2si', 0xf3, 0x2d, `${r},xm32`, { w });
  S('cvtsi2sd', 0xf2, 0x2a, `x,${rm}`, { w }); S('cvtsi2ss', 0xf3, 0x2a, `x,${rm}`, { w });
}
S('cvtss2sd', 0xf3, 0x5a, 'x,xm32'); S('cvtsd2ss', 0xf2, 0x5a, 'x,xm64');
S('cvtdq2pd', 0xf3, 0xe6, 'x,xm64'); S('cvtdq2ps', 0, 0x5b, 'x,xm128'); S('cvtps2dq', 0x66, 0x5b, 'x,xm128');
S('cvttps2dq', 0xf3, 0x5b, 'x,xm128'); S('cvtps2pd', 0, 0x5a, 'x,xm64'); S('cvtpd2ps', 0x66, 0x5a, 'x,xm128');
S('cvtpd2dq', 0xf2, 0xe6, 'x,xm128'); S('cvttpd2dq', 0x66, 0xe6, 'x,xm128');
// compares (Capstone folds the predicate into the name)
const PRED = ['eq', 'lt', 'le', 'unord', 'neq', 'nlt', 'nle', 'ord'];
for (const [sfx, pfx, mem] of [['ps', 0, 'xm128'], ['pd', 0x66, 'xm128'], ['ss', 0xf3, 'xm32'], ['sd', 0xf2, 'xm64']] as [string, number, string][]) {
  for (let p = 0; p < 8; p++) {
    S(`cmp${PRED[p]}${sfx}`, pfx, 0xc2, `x,${mem},i8`, { immGen: () => p, cs: () => `cmp${PRED[p]}${sfx}` });
  }
  // imm8 >= 8: bits 7:3 are ignored by legacy SSE; Capstone keeps the plain name and the immediate.
  S(`cmp${sfx}`, pfx, 0xc2, `x,${mem},i8`, { immGen: (b) => 8 + b.rng.int(248) });
}

// ---- form construction ----------------------------------------------------------------------

function memSize(k: Kind): number {
  const m = /m(\d+)/.exec(k);
  return m ? Number(m[1]) / 8 : 0;
}

for (const sp of specs) {
  const memIdx = sp.ops.findIndex((k) => k.includes('m'));
  const variants: ('r' | 'm')[] = memIdx < 0 ? ['r'] : sp.ops[memIdx].startsWith('m') ? ['m'] : ['r', 'm'];
  for (const v of variants) {
    const text = sp.ops.map((k, i) => {
      if (k === 'i8') return 'imm8';
      if (i === memIdx) return v === 'm' ? `m${memSize(k) * 8}` : k.startsWith('xm') ? 'xmm' : k.startsWith('rm') ? `r${k.slice(2)}` : k === 'r32m16' ? 'r32' : k;
      return k === 'x' ? 'xmm' : k;
    }).join(', ');
    const pfxText = `${sp.pfx ? hex(sp.pfx) + ' ' : ''}${sp.w ? 'rex.w ' : ''}0f ${hex(sp.op)}${sp.digit !== undefined ? ` /${sp.digit}` : ''}`;
    const id = `${sp.mn} ${text} (${pfxText})`;
    const isa = [sp.mn];
    const fx = sp.fx ?? {};
    add({
      id, family: sp.mn.startsWith('cmp') ? 'sse-cmp' : familyOf(sp.mn), isa, seq: true, body: true, producer: !!sp.fx, weight: sp.mn.startsWith('cmp') ? 0.3 : 1,
      gen: (b: Builder, f: Form) => {
        const ops: Operand[] = [];
        let regOp: Gpr | Xmm | number | undefined = sp.digit;
        let rmOp: Gpr | Xmm | Mem | undefined;
        let immv: number | undefined;
        sp.ops.forEach((k, i) => {
          let o: Operand;
          if (k === 'i8') { immv = sp.immGen!(b); o = imm(BigInt(immv), 1); ops.push(o); return; }
          if (i === memIdx && v === 'm') {
            const size = memSize(k);
            o = b.mem(size, { align: size === 16 && !k.endsWith('u') ? 16 : undefined });
          } else if (k.startsWith('x')) o = b.xreg();
          else o = b.reg(k.includes('64') ? 8 : 4, { high: false });
          ops.push(o);
          // The memory-capable operand (or, with none, the last register / the only one) is ModRM.rm.
          const isRm = memIdx >= 0 ? i === memIdx : sp.digit !== undefined || i === sp.ops.filter((x) => x !== 'i8').length - 1;
          if (isRm) rmOp = o as Gpr | Xmm | Mem; else regOp = o as Gpr | Xmm;
        });
        b.emit({ prefixes: sp.pfx ? [sp.pfx] : [], rexW: sp.w, opcode: [0x0f, sp.op], reg: regOp, rm: rmOp, imms: immv !== undefined ? [[BigInt(immv), 1]] : [] },
          { form: f.id, mn: sp.cs ? sp.cs(immv ?? 0) : sp.mn, ops: sp.cs ? ops.filter((o) => o.kind !== 'imm') : ops, ...fx });
      },
    });
  }
}

function familyOf(mn: string): string {
  if (/^(mov|lddqu)/.test(mn)) return 'sse-move';
  if (/^(pxor|por|pand|xor|or|and)/.test(mn)) return 'sse-logic';
  if (/^cvt/.test(mn)) return 'sse-cvt';
  if (/^(u?comis)/.test(mn)) return 'sse-cmp';
  if (/^p/.test(mn)) return 'sse-int';
  if (/^(shuf|unpck)/.test(mn)) return 'sse-shuffle';
  return 'sse-float';
}

// stmxcsr / ldmxcsr (valid values only: reserved bits clear; exceptions stay masked).
add({
  id: 'stmxcsr m32 (0f ae /3)', family: 'sse-move', isa: ['stmxcsr'], seq: true, body: true,
  gen: (b, f) => {
    const m = b.mem(4);
    b.emit({ opcode: [0x0f, 0xae], reg: 3, rm: m }, { form: f.id, mn: 'stmxcsr', ops: [m] });
  },
});
add({
  id: 'ldmxcsr m32 (0f ae /2)', family: 'sse-move', isa: ['ldmxcsr'], seq: false,
  gen: (b, f) => {
    const m = b.mem(4);
    // Any flags; in the precise flavour any rounding mode, DAZ and FTZ too (the fast flavour keeps
    // the default control); all exceptions masked (single only: a sequence could overwrite the
    // operand with reserved bits).
    const ctl = b.flavour === 'fast' ? 0 : (b.rng.int(4) << 13) | (b.rng.chance(0.3) ? 0x40 : 0) | (b.rng.chance(0.3) ? 0x8000 : 0);
    const v = 0x1f80 | (b.rng.int(64) & 0x3f) | ctl;
    b.setMem(b.lastOff, BigInt(v), 4);
    b.emit({ opcode: [0x0f, 0xae], reg: 2, rm: m }, { form: f.id, mn: 'ldmxcsr', ops: [m] });
  },
});

