/**
 * SSE3, SSSE3 (xmm forms) and SSE4.1 forms: legacy 0f / 0f 38 / 0f 3a encodings with mandatory
 * prefixes. Operand values are edge-heavy per instruction: pshufb indices with bit 7 set, words and
 * dwords at the saturation limits, equal lanes for pcmpeqq, ptest operands that set ZF/CF, and
 * floats at .5 ties, ±0, ±inf, NaNs and denormals for rounding, horizontal adds and dot products.
 * roundXX with imm bit 2 set takes its rounding mode from MXCSR.RC: single cases get a random RC.
 * Every full m128 operand is 16-byte aligned, except lddqu's (unaligned by definition); the
 * faulting forms (--signals) give each m128 form a misaligned address, so the CPU decides.
 */
import { ARITH, Retry, type Builder } from './builder.js';
import { add, type Form } from './forms.js';
import { imm, type Gpr, type Mem, type Operand, type Xmm } from './x86enc.js';

const hex = (n: number) => n.toString(16).padStart(2, '0');

/**
 * Operand kinds: x (xmm), xmN (xmm or mN), mN (memory only), rmN (r32/r64 or mN), r32mN (r32 or
 * mN), i8. A trailing 'u' on m128 allows misalignment.
 */
type Kind = string;

/** 16 bytes of edge values for an xmm operand (or the bytes of a memory operand). */
type ValGen = (b: Builder) => Uint8Array;

interface Spec {
  mn: string;
  family: string;
  pfx: number;
  /** Opcode bytes after the prefixes (0f ..). */
  op: number[];
  ops: Kind[];
  w?: boolean;
  immGen?: (b: Builder) => number;
  /** Value generators for the destination and the source operand. */
  dst?: ValGen;
  src?: ValGen;
  /** Before emitting (single or seq), e.g. set xmm0 for blendv or MXCSR.RC for round. */
  prep?: (b: Builder, immv: number, ops: Operand[]) => void;
  fx?: { writes?: number; undef?: number };
}

// ---- edge values --------------------------------------------------------------------------

function lanes(b: Builder, w: number, pick: () => bigint): Uint8Array {
  const out = new Uint8Array(16);
  for (let k = 0; k < 16; k += w) {
    const v = pick();
    for (let i = 0; i < w; i++) out[k + i] = Number((v >> BigInt(8 * i)) & 0xffn);
  }
  return out;
}
const mixed = (b: Builder, w: number, edges: bigint[]) => lanes(b, w, () => (b.rng.chance(0.75) ? b.rng.pick(edges) : b.rng.bits(w * 8)));
const BYTES: ValGen = (b) => mixed(b, 1, [0n, 1n, 2n, 0x7en, 0x7fn, 0x80n, 0x81n, 0xfen, 0xffn]);
const WORDS: ValGen = (b) => mixed(b, 2, [0n, 1n, 2n, 0x7ffen, 0x7fffn, 0x8000n, 0x8001n, 0xfffen, 0xffffn, 0x4000n, 0xc000n, 0x00ffn, 0xff00n, 0x0080n]);
const DWORDS: ValGen = (b) => mixed(b, 4, [0n, 1n, 0x7fff_ffffn, 0x8000_0000n, 0x8000_0001n, 0xffff_ffffn, 0xffffn, 0x1_0000n, 0x8000n, 0xffff_8000n, 0x7fffn, 0xffff_7fffn]);
const QWORDS: ValGen = (b) => mixed(b, 8, [0n, 1n, 0xffff_ffff_ffff_ffffn, 0x8000_0000_0000_0000n, 0x7fff_ffff_ffff_ffffn, 0xffff_ffffn, 0x8000_0000n]);
/** pshufb control bytes: bit 7 set (zeroing), in-range indices, bits 4-6 set (ignored). */
const SHUF: ValGen = (b) => mixed(b, 1, [0x80n, 0xffn, 0x8fn, 0x0fn, 0x10n, 0x7fn, 0x90n, 0x70n, BigInt(b.rng.int(16)), BigInt(b.rng.int(16))]);
/** Sign patterns for blendv masks (xmm0). */
const SIGNS: ValGen = (b) => mixed(b, 1, [0n, 0x80n, 0x7fn, 0xffn, 0x01n]);

const F32_TIES = [0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 0.49999997, -0.49999997, 3.5, -3.5, 8388607.5, -8388607.5, 8388608, 16777215, 1e30, -1e-30, 0.75, -0.25, 1, -1, 123.456, -123.456, 2147483647, -2147483648];
const F64_TIES = [0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 0.49999999999999994, -0.49999999999999994, 3.5, -3.5, 4503599627370495.5, -4503599627370495.5, 4503599627370496, 9007199254740991, 1e300, -1e-300, 0.75, -0.25, 1, -1, 123.456, -123.456];
function f32Of(x: number): bigint { const a = new Float32Array([x]); return BigInt(new Uint32Array(a.buffer)[0]); }
function f64Of(x: number): bigint { const a = new Float64Array([x]); return new BigUint64Array(a.buffer)[0]; }
/** Floats: ties and fractions for rounding, plus the builder's specials (±0, ±inf, NaNs, denormals, max). */
const F32: ValGen = (b) => lanes(b, 4, () => (b.rng.chance(0.4) ? f32Of(b.rng.pick(F32_TIES)) : BigInt(b.f32Bits())));
const F64: ValGen = (b) => lanes(b, 8, () => (b.rng.chance(0.4) ? f64Of(b.rng.pick(F64_TIES)) : b.f64Bits()));

const anyImm = (b: Builder) => b.rng.int(256);

// ---- the table ------------------------------------------------------------------------------

const specs: Spec[] = [];
const S = (family: string, mn: string, pfx: number, op: number[], ops: string, o: Partial<Spec> = {}) =>
  specs.push({ family, mn, pfx, op, ops: ops.split(','), ...o });

// SSE3
for (const [mn, pfx, op, g] of [
  ['addsubps', 0xf2, 0xd0, F32], ['addsubpd', 0x66, 0xd0, F64], ['haddps', 0xf2, 0x7c, F32], ['haddpd', 0x66, 0x7c, F64],
  ['hsubps', 0xf2, 0x7d, F32], ['hsubpd', 0x66, 0x7d, F64],
] as [string, number, number, ValGen][]) S('sse3', mn, pfx, [0x0f, op], 'x,xm128', { dst: g, src: g });
S('sse3', 'movddup', 0xf2, [0x0f, 0x12], 'x,xm64', { src: F64 });
S('sse3', 'movshdup', 0xf3, [0x0f, 0x16], 'x,xm128', { src: F32 });
S('sse3', 'movsldup', 0xf3, [0x0f, 0x12], 'x,xm128', { src: F32 });
S('sse3', 'lddqu', 0xf2, [0x0f, 0xf0], 'x,m128u');

// SSSE3 (66 0f 38 xx; the MMX forms without 66 are not implemented)
const s38 = (op: number) => [0x0f, 0x38, op];
S('ssse3', 'pshufb', 0x66, s38(0x00), 'x,xm128', { dst: BYTES, src: SHUF });
for (const [mn, op, g] of [
  ['phaddw', 0x01, WORDS], ['phaddd', 0x02, DWORDS], ['phaddsw', 0x03, WORDS], ['pmaddubsw', 0x04, BYTES], ['phsubw', 0x05, WORDS],
  ['phsubd', 0x06, DWORDS], ['phsubsw', 0x07, WORDS], ['psignb', 0x08, BYTES], ['psignw', 0x09, WORDS], ['psignd', 0x0a, DWORDS],
  ['pmulhrsw', 0x0b, WORDS], ['pabsb', 0x1c, BYTES], ['pabsw', 0x1d, WORDS], ['pabsd', 0x1e, DWORDS],
] as [string, number, ValGen][]) S('ssse3', mn, 0x66, s38(op), 'x,xm128', { dst: g, src: g });
const alignImm = (b: Builder) => b.rng.pick([0, 1, 4, 8, 15, 16, 17, 24, 31, 32, 33, 255, b.rng.int(256), b.rng.int(32)]);
S('ssse3', 'palignr', 0x66, [0x0f, 0x3a, 0x0f], 'x,xm128,i8', { immGen: alignImm, dst: BYTES, src: BYTES });

// SSE4.1
const s3a = (op: number) => [0x0f, 0x3a, op];
S('sse41', 'pblendw', 0x66, s3a(0x0e), 'x,xm128,i8', { immGen: anyImm });
S('sse41', 'blendps', 0x66, s3a(0x0c), 'x,xm128,i8', { immGen: anyImm });
S('sse41', 'blendpd', 0x66, s3a(0x0d), 'x,xm128,i8', { immGen: anyImm });
const xmm0Signs = (b: Builder) => { if (b.rng.chance(0.7)) b.xmm.set(SIGNS(b), 0); };
S('sse41', 'pblendvb', 0x66, s38(0x10), 'x,xm128', { prep: xmm0Signs });
S('sse41', 'blendvps', 0x66, s38(0x14), 'x,xm128', { prep: xmm0Signs });
S('sse41', 'blendvpd', 0x66, s38(0x15), 'x,xm128', { prep: xmm0Signs });
const RAND: ValGen = (b) => b.rng.bytes(16);
S('sse41', 'ptest', 0x66, s38(0x17), 'x,xm128', { fx: { writes: ARITH, undef: 0 }, dst: RAND, src: RAND });
const SX: [string, number, string, ValGen][] = [['bw', 0x20, 'xm64', BYTES], ['bd', 0x21, 'xm32', BYTES], ['bq', 0x22, 'xm16', BYTES],
  ['wd', 0x23, 'xm64', WORDS], ['wq', 0x24, 'xm32', WORDS], ['dq', 0x25, 'xm64', DWORDS]];
for (const [sfx, op, m, g] of SX) {
  S('sse41', `pmovsx${sfx}`, 0x66, s38(op), `x,${m}`, { src: g });
  S('sse41', `pmovzx${sfx}`, 0x66, s38(op + 0x10), `x,${m}`, { src: g });
}
for (const [mn, op, g] of [
  ['pmuldq', 0x28, DWORDS], ['pcmpeqq', 0x29, QWORDS], ['packusdw', 0x2b, DWORDS], ['pminsb', 0x38, BYTES], ['pminsd', 0x39, DWORDS],
  ['pminuw', 0x3a, WORDS], ['pminud', 0x3b, DWORDS], ['pmaxsb', 0x3c, BYTES], ['pmaxsd', 0x3d, DWORDS], ['pmaxuw', 0x3e, WORDS],
  ['pmaxud', 0x3f, DWORDS], ['pmulld', 0x40, DWORDS], ['phminposuw', 0x41, WORDS],
] as [string, number, ValGen][]) S('sse41', mn, 0x66, s38(op), 'x,xm128', { dst: g, src: g });
S('sse41', 'movntdqa', 0x66, s38(0x2a), 'x,m128');
S('sse41', 'pextrb', 0x66, s3a(0x14), 'r32m8,x,i8', { immGen: anyImm });
S('sse41', 'pextrb', 0x66, s3a(0x14), 'r32,x,i8', { immGen: anyImm, w: true });
S('sse41', 'pextrw', 0x66, s3a(0x15), 'r32m16,x,i8', { immGen: anyImm });
S('sse41', 'pextrw', 0x66, s3a(0x15), 'r32,x,i8', { immGen: anyImm, w: true });
S('sse41', 'pextrd', 0x66, s3a(0x16), 'rm32,x,i8', { immGen: anyImm });
S('sse41', 'pextrq', 0x66, s3a(0x16), 'rm64,x,i8', { immGen: anyImm, w: true });
S('sse41', 'extractps', 0x66, s3a(0x17), 'rm32,x,i8', { immGen: anyImm, src: F32 });
S('sse41', 'extractps', 0x66, s3a(0x17), 'r32,x,i8', { immGen: anyImm, w: true });
S('sse41', 'pinsrb', 0x66, s3a(0x20), 'x,r32m8,i8', { immGen: anyImm });
S('sse41', 'pinsrb', 0x66, s3a(0x20), 'x,r32,i8', { immGen: anyImm, w: true });
S('sse41', 'pinsrd', 0x66, s3a(0x22), 'x,rm32,i8', { immGen: anyImm });
S('sse41', 'pinsrq', 0x66, s3a(0x22), 'x,rm64,i8', { immGen: anyImm, w: true });
S('sse41', 'insertps', 0x66, s3a(0x21), 'x,xm32,i8', { immGen: anyImm, dst: F32, src: F32 });
/** MXCSR.RC for round with imm bit 2 (precise flavour, single cases; the fast flavour keeps RC 0). */
const rcPrep = (b: Builder, immv: number) => { if (immv & 4 && !b.seq && b.flavour === 'precise') b.mxcsr = 0x1f80 | (b.rng.int(4) << 13); };
const roundImm = (b: Builder) => b.rng.int(16);
S('sse41', 'roundps', 0x66, s3a(0x08), 'x,xm128,i8', { immGen: roundImm, src: F32, prep: rcPrep });
S('sse41', 'roundpd', 0x66, s3a(0x09), 'x,xm128,i8', { immGen: roundImm, src: F64, prep: rcPrep });
S('sse41', 'roundss', 0x66, s3a(0x0a), 'x,xm32,i8', { immGen: roundImm, src: F32, dst: F32, prep: rcPrep });
S('sse41', 'roundsd', 0x66, s3a(0x0b), 'x,xm64,i8', { immGen: roundImm, src: F64, dst: F64, prep: rcPrep });
S('sse41', 'dpps', 0x66, s3a(0x40), 'x,xm128,i8', { immGen: anyImm, dst: F32, src: F32 });
S('sse41', 'dppd', 0x66, s3a(0x41), 'x,xm128,i8', { immGen: anyImm, dst: F64, src: F64 });
S('sse41', 'mpsadbw', 0x66, s3a(0x42), 'x,xm128,i8', { immGen: anyImm, dst: BYTES, src: BYTES });

// ---- form construction ----------------------------------------------------------------------

function memSize(k: Kind): number {
  const m = /m(\d+)/.exec(k);
  return m ? Number(m[1]) / 8 : 0;
}

/**
 * Extra relations between the operands' initial values: pcmpeqq wants equal lanes, ptest wants
 * src & dst == 0 or src & ~dst == 0 now and then.
 */
function relate(b: Builder, mn: string, dv: Uint8Array, sv: Uint8Array): void {
  const r = b.rng;
  if (mn === 'pcmpeqq') {
    for (const q of [0, 8]) if (r.chance(0.5)) sv.set(dv.subarray(q, q + 8), q);
  } else if (mn === 'ptest') {
    const k = r.int(5);
    for (let i = 0; i < 16; i++) {
      if (k === 0) sv[i] &= ~dv[i]; // ZF
      else if (k === 1) sv[i] &= dv[i]; // CF
      else if (k === 2) sv[i] = 0; // both
    }
  } else if (mn === 'phminposuw' && r.chance(0.5)) {
    // Ties for the minimum: the lowest index wins.
    const w = r.int(8);
    for (let k = 0; k < 8; k++) if (r.chance(0.3)) { sv[k * 2] = sv[w * 2]; sv[k * 2 + 1] = sv[w * 2 + 1]; }
  }
}

function opsText(sp: Spec, memIdx: number, v: 'r' | 'm'): string {
  return sp.ops.map((k, i) => {
    if (k === 'i8') return 'imm8';
    if (i === memIdx) {
      if (v === 'm') return `m${memSize(k) * 8}`;
      if (k.startsWith('xm')) return 'xmm';
      if (k.startsWith('rm')) return `r${k.slice(2)}`;
      return 'r32';
    }
    return k === 'x' ? 'xmm' : k;
  }).join(', ');
}

for (const sp of specs) {
  const memIdx = sp.ops.findIndex((k) => k.includes('m'));
  const variants: ('r' | 'm')[] = memIdx < 0 ? ['r'] : sp.ops[memIdx].startsWith('m') ? ['m'] : ['r', 'm'];
  const enc = `${hex(sp.pfx)} ${sp.w ? 'rex.w ' : ''}${sp.op.map(hex).join(' ')}`;
  const hasGpr = sp.ops.some((k) => k.startsWith('r'));
  const m128 = memIdx >= 0 && memSize(sp.ops[memIdx]) === 16 && !sp.ops[memIdx].endsWith('u');
  for (const v of variants) {
    const id = `${sp.mn} ${opsText(sp, memIdx, v)} (${enc})`;
    const gen = (b: Builder, f: Form, misalign = false): void => {
      const ops: Operand[] = [];
      let regOp: Gpr | Xmm | undefined;
      let rmOp: Gpr | Xmm | Mem | undefined;
      let immv: number | undefined;
      // Initial values: the destination's and source's 16 bytes (xmm register or memory).
      const dv = sp.dst && b.rng.chance(0.7) ? sp.dst(b) : undefined;
      const sv = sp.src && b.rng.chance(0.7) ? sp.src(b) : undefined;
      const xmmOps: { o: Xmm | Mem; off: number; size: number; isSrc: boolean }[] = [];
      sp.ops.forEach((k, i) => {
        let o: Operand;
        if (k === 'i8') { immv = sp.immGen!(b); o = imm(BigInt(immv), 1); ops.push(o); return; }
        if (i === memIdx && v === 'm') {
          const size = memSize(k);
          const aligned = size === 16 && !k.endsWith('u');
          o = b.mem(size, { align: aligned && !misalign ? 16 : undefined });
          if (misalign && (b.layout.mem + b.lastOff) % 16 === 0) throw new Retry('aligned');
          if (k.startsWith('xm') || k === 'm128' || k === 'm128u') xmmOps.push({ o, off: b.lastOff, size, isSrc: i > 0 });
        } else if (k.startsWith('x')) {
          o = b.xreg();
          xmmOps.push({ o, off: 0, size: 16, isSrc: i > 0 });
        } else o = b.reg(k.includes('64') ? 8 : 4, { high: false });
        ops.push(o);
        // ModRM.rm: the memory-capable operand, else the GPR (pextrb r32 / pinsrb r32), else the source.
        const isRm = memIdx >= 0 ? i === memIdx : hasGpr ? k.startsWith('r') : i === sp.ops.filter((x) => x !== 'i8').length - 1;
        if (isRm) rmOp = o as Gpr | Xmm | Mem; else regOp = o as Gpr | Xmm;
      });
      if (dv && sv) relate(b, sp.mn, dv, sv);
      for (const x of xmmOps) {
        const val = x.isSrc ? sv : dv;
        if (!val) continue;
        if (x.o.kind === 'xmm') b.xmm.set(val, x.o.n * 16);
        else b.data.set(val.subarray(0, x.size), x.off);
      }
      sp.prep?.(b, immv ?? 0, ops);
      b.emit({ prefixes: [sp.pfx], rexW: sp.w, opcode: sp.op, reg: regOp, rm: rmOp, imms: immv !== undefined ? [[BigInt(immv), 1]] : [] },
        { form: f.id, mn: sp.mn, ops, ...(sp.fx ?? {}) });
    };
    add({ id, family: sp.family, isa: [sp.mn], seq: true, body: true, producer: !!sp.fx, gen: (b, f) => gen(b, f) });
    // The CPU decides whether a misaligned m128 faults (#GP -> SIGSEGV) for this form.
    if (v === 'm' && m128) {
      add({ id: `fault: ${id} misaligned`, family: 'fault', isa: [sp.mn], seq: false, fault: true, weight: 0.5, gen: (b, f) => gen(b, f, true) });
    }
  }
}
