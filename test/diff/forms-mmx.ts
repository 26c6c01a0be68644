/**
 * MMX forms: the MMX instruction set (movd/movq, padd/psub with and without saturation, pmullw
 * pmulhw pmaddwd, logic, shifts by mm/m64 and imm8, packs, unpacks, compares, emms), the MMX forms
 * SSE and SSE2 added (pshufw pinsrw pextrw pmovmskb pminub pmaxub pminsw pmaxsw pavgb pavgw
 * pmulhuw psadbw maskmovq movntq paddq psubq pmuludq, cvtpi2ps cvtps2pi cvttps2pi cvtpi2pd
 * cvtpd2pi cvttpd2pi, movq2dq movdq2q) and the SSSE3 ones (pshufb phadd* phsub* pmaddubsw
 * pmulhrsw psign* pabs* palignr).
 *
 * MMX register i is the significand of physical x87 register i, so a case sets the MMX inputs
 * through the initial x87 state (random lane values in the significands, random sign/exponent
 * words) and the comparison of the x87 state checks the results: after an MMX instruction TOP is
 * 0 and every tag valid (all eight registers compared, 80 bits each: a written register's
 * sign/exponent must read 0xffff), after emms every tag is empty.
 *
 * Capstone's self-check sees only the mnemonic and the length here (the encoder describes
 * registers as xmm; the MMX encodings carry no 66 prefix, which the length checks).
 */
import { type Builder } from './builder.js';
import { add, type Form } from './forms.js';
import { xmm, type Gpr, type Mem, type Xmm } from './x86enc.js';

const hex = (n: number) => n.toString(16).padStart(2, '0');

/** An MMX register operand (encoded like xmm0-7: no REX bit is needed) with a random value. */
function mm(b: Builder): Xmm {
  const n = b.rng.int(8);
  const v = b.xmmValue();
  let m = 0n;
  for (let k = 7; k >= 0; k--) m = (m << 8n) | BigInt(v[k]);
  const r = b.rng;
  const se = r.chance(0.5) ? 0xffff : r.chance(0.5) ? b.x87.regs[n].se : r.int(0x10000);
  b.x87.regs[n] = { se, m };
  return xmm(n);
}

/**
 * Operand kinds: mm, mm/m64 (mmm64), mm/m32 (mmm32), m64, x (xmm), x/m64 (xm64), x/m128 (xm128,
 * 16-byte aligned), r32, r64, rm32, rm64, r32/m16 (r32m16), i8.
 */
interface MmxSpec {
  mn: string;
  pfx: number;
  op: number[];
  ops: string[];
  w?: boolean;
  digit?: number;
  immGen?: (b: Builder) => number;
  /** Single mode only (pinned registers). */
  single?: boolean;
}

const specs: MmxSpec[] = [];
const S = (mn: string, op: number | number[], ops: string, o: Partial<MmxSpec> = {}) =>
  specs.push({ mn, pfx: 0, op: Array.isArray(op) ? op : [0x0f, op], ops: ops.split(','), ...o });

// moves
S('movd', 0x6e, 'mm,rm32'); S('movq', 0x6e, 'mm,rm64', { w: true });
S('movd', 0x7e, 'rm32,mm'); S('movq', 0x7e, 'rm64,mm', { w: true });
S('movq', 0x6f, 'mm,mmm64'); S('movq', 0x7f, 'mmm64,mm');
S('movntq', 0xe7, 'm64,mm');
S('movq2dq', 0xd6, 'x,mm', { pfx: 0xf3 }); S('movdq2q', 0xd6, 'mm,x', { pfx: 0xf2 });
// arithmetic, logic, compares, packs, unpacks (0f xx mm, mm/m64)
for (const [mn, op] of [
  ['paddb', 0xfc], ['paddw', 0xfd], ['paddd', 0xfe], ['paddq', 0xd4], ['psubb', 0xf8], ['psubw', 0xf9], ['psubd', 0xfa], ['psubq', 0xfb],
  ['paddsb', 0xec], ['paddsw', 0xed], ['paddusb', 0xdc], ['paddusw', 0xdd], ['psubsb', 0xe8], ['psubsw', 0xe9], ['psubusb', 0xd8], ['psubusw', 0xd9],
  ['pcmpeqb', 0x74], ['pcmpeqw', 0x75], ['pcmpeqd', 0x76], ['pcmpgtb', 0x64], ['pcmpgtw', 0x65], ['pcmpgtd', 0x66],
  ['pand', 0xdb], ['pandn', 0xdf], ['por', 0xeb], ['pxor', 0xef],
  ['pminub', 0xda], ['pmaxub', 0xde], ['pminsw', 0xea], ['pmaxsw', 0xee], ['pavgb', 0xe0], ['pavgw', 0xe3],
  ['pmullw', 0xd5], ['pmulhw', 0xe5], ['pmulhuw', 0xe4], ['pmuludq', 0xf4], ['pmaddwd', 0xf5], ['psadbw', 0xf6],
  ['packsswb', 0x63], ['packuswb', 0x67], ['packssdw', 0x6b],
  ['punpckhbw', 0x68], ['punpckhwd', 0x69], ['punpckhdq', 0x6a],
  ['psllw', 0xf1], ['pslld', 0xf2], ['psllq', 0xf3], ['psrlw', 0xd1], ['psrld', 0xd2], ['psrlq', 0xd3], ['psraw', 0xe1], ['psrad', 0xe2],
] as [string, number][]) S(mn, op, 'mm,mmm64');
for (const [mn, op] of [['punpcklbw', 0x60], ['punpcklwd', 0x61], ['punpckldq', 0x62]] as [string, number][]) S(mn, op, 'mm,mmm32');
const shiftImm = (b: Builder) => b.rng.pick([0, 1, 2, 7, 8, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 255, b.rng.int(256), b.rng.int(16)]);
for (const [mn, op, d] of [['psrlw', 0x71, 2], ['psraw', 0x71, 4], ['psllw', 0x71, 6], ['psrld', 0x72, 2], ['psrad', 0x72, 4], ['pslld', 0x72, 6],
  ['psrlq', 0x73, 2], ['psllq', 0x73, 6]] as [string, number, number][]) {
  S(mn, op, 'mm,i8', { digit: d, immGen: shiftImm });
}
const anyImm = (b: Builder) => b.rng.int(256);
S('pshufw', 0x70, 'mm,mmm64,i8', { immGen: anyImm });
S('pinsrw', 0xc4, 'mm,r32m16,i8', { immGen: anyImm });
S('pextrw', 0xc5, 'r32,mm,i8', { immGen: anyImm });
S('pmovmskb', 0xd7, 'r32,mm');
S('emms', 0x77, '');
// conversions
S('cvtpi2ps', 0x2a, 'x,mmm64'); S('cvtpi2pd', 0x2a, 'x,mmm64', { pfx: 0x66 });
S('cvtps2pi', 0x2d, 'mm,xm64'); S('cvttps2pi', 0x2c, 'mm,xm64');
S('cvtpd2pi', 0x2d, 'mm,xm128', { pfx: 0x66 }); S('cvttpd2pi', 0x2c, 'mm,xm128', { pfx: 0x66 });
// SSSE3
for (const [mn, op] of [['pshufb', 0x00], ['phaddw', 0x01], ['phaddd', 0x02], ['phaddsw', 0x03], ['pmaddubsw', 0x04], ['phsubw', 0x05],
  ['phsubd', 0x06], ['phsubsw', 0x07], ['psignb', 0x08], ['psignw', 0x09], ['psignd', 0x0a], ['pmulhrsw', 0x0b],
  ['pabsb', 0x1c], ['pabsw', 0x1d], ['pabsd', 0x1e]] as [string, number][]) S(mn, [0x0f, 0x38, op], 'mm,mmm64');
S('palignr', [0x0f, 0x3a, 0x0f], 'mm,mmm64,i8', { immGen: (b) => b.rng.chance(0.8) ? b.rng.int(17) : b.rng.int(256) });

// ---- form construction ----------------------------------------------------------------------

const memSize = (k: string) => { const m = /m(\d+)$/.exec(k); return m ? Number(m[1]) / 8 : 0; };
/** A kind that may be memory: mmm64, mmm32, xm64, xm128, rm32, rm64, r32m16, m64. */
const canMem = (k: string) => /^(mmm|xm|rm|m\d|r32m)/.test(k);

for (const sp of specs) {
  const memIdx = sp.ops.findIndex(canMem);
  const variants: ('r' | 'm')[] = memIdx < 0 ? ['r'] : sp.ops[memIdx].startsWith('m6') ? ['m'] : ['r', 'm'];
  for (const v of variants) {
    const text = sp.ops.filter((k) => k).map((k, i) => {
      if (k === 'i8') return 'imm8';
      if (i === memIdx) {
        if (v === 'm') return k === 'r32m16' ? 'm16' : `m${memSize(k) * 8}`;
        return k.startsWith('mmm') ? 'mm' : k.startsWith('xm') ? 'xmm' : k === 'r32m16' ? 'r32' : `r${k.slice(2)}`;
      }
      return k === 'x' ? 'xmm' : k;
    }).join(', ');
    const enc = `${sp.pfx ? hex(sp.pfx) + ' ' : ''}${sp.w ? 'rex.w ' : ''}${sp.op.map(hex).join(' ')}${sp.digit !== undefined ? ` /${sp.digit}` : ''}`;
    add({
      id: `${[sp.mn, text].filter(Boolean).join(' ')} (${enc})`, family: sp.mn.startsWith('cvt') ? 'mmx-cvt' : 'mmx',
      isa: [sp.mn], seq: !sp.single, body: true, weight: 0.6,
      gen: (b: Builder, f: Form) => {
        let regOp: Gpr | Xmm | number | undefined = sp.digit;
        let rmOp: Gpr | Xmm | Mem | undefined;
        let immv: number | undefined;
        const real = sp.ops.filter((k) => k && k !== 'i8');
        sp.ops.forEach((k, i) => {
          if (!k) return;
          if (k === 'i8') { immv = sp.immGen!(b); return; }
          let o: Gpr | Xmm | Mem;
          if (i === memIdx && v === 'm') {
            const size = k === 'r32m16' ? 2 : memSize(k);
            o = b.mem(size, { align: size === 16 ? 16 : undefined });
          } else if (k.startsWith('mm')) o = mm(b);
          else if (k === 'x' || k.startsWith('xm')) o = b.xreg();
          else o = b.reg(k.includes('64') ? 8 : 4, { high: false });
          // The memory-capable operand (or, without one, the last register) is ModRM.rm.
          const isRm = memIdx >= 0 ? i === memIdx : sp.digit !== undefined || i === sp.ops.indexOf(real[real.length - 1]);
          if (isRm) rmOp = o; else regOp = o as Gpr | Xmm;
        });
        b.emit({ prefixes: sp.pfx ? [sp.pfx] : [], rexW: sp.w, opcode: sp.op, reg: regOp, rm: rmOp, imms: immv !== undefined ? [[BigInt(immv), 1]] : [] },
          { form: f.id, mn: sp.mn });
      },
    });
  }
}

// maskmovq mm1, mm2: stores the bytes of mm1 selected by mm2's sign bits at [rdi] (single mode: rdi
// points into the data area; with 0x67, edi does and rdi's upper half is garbage).
for (const a32 of [false, true]) {
  add({
    id: `maskmovq mm, mm (${a32 ? '67 ' : ''}0f f7)`, family: 'mmx', isa: ['maskmovq'], seq: false, weight: 0.6,
    gen: (b: Builder, f: Form) => {
      const off = b.rng.int(256 - 8);
      const addr = BigInt(b.layout.mem + off);
      if (a32 && addr >> 32n) throw new Error('maskmovq: the data area is above 4 GiB');
      b.setReg(7, a32 ? addr | (BigInt(b.rng.int(0x10000)) << 40n) : addr);
      b.claim(7);
      const src = mm(b);
      let msk = mm(b);
      if (msk.n === src.n && b.rng.chance(0.7)) msk = xmm((src.n + 1) & 7);
      // Mask bytes: mostly sign-bit patterns (all, none, alternating, random).
      const r = b.rng;
      const pick = r.int(4);
      let m = 0n;
      for (let k = 0; k < 8; k++) {
        const on = pick === 0 ? true : pick === 1 ? false : pick === 2 ? (k & 1) === 1 : r.chance(0.5);
        m |= BigInt((on ? 0x80 : 0) | r.int(0x80)) << BigInt(8 * k);
      }
      b.x87.regs[msk.n] = { se: b.x87.regs[msk.n].se, m };
      b.emit({ prefixes: a32 ? [0x67] : [], opcode: [0x0f, 0xf7], reg: src, rm: msk }, { form: f.id, mn: 'maskmovq' });
    },
  });
}
