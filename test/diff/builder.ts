/**
 * Builds one test case: the snippet's bytes (through test/diff/x86enc.ts), the initial machine
 * state, and what the comparison must ignore (flags the SDM leaves undefined, registers with
 * undefined results). Forms (test/diff/forms.ts) drive it.
 *
 * Two modes:
 *  - single: one instruction (or a small fixed template); the form may pin register and memory
 *    values (divisors, shift counts, string pointers), so undefined flags are known exactly.
 *  - seq: a random sequence of 2-8 instructions over a register pool, so lazy flags are checked
 *    across instruction boundaries. Two base registers are reserved (never written) and point into
 *    the data area; flags left undefined by one instruction are never consumed by a later one.
 */
import { Rng } from './rng.js';
import { encode, EncodeError, gpr, xmm, type EncSpec, type Gpr, type Mem, type Operand, type Size, type Xmm } from './x86enc.js';

export const MEM_SIZE = 512;
/** Memory operands address [0, SCRATCH) of the data area; the stack lives above it. */
export const SCRATCH = 256;
export const STACK_OFF = 384;
export const CODE_MAX = 512;
/** The x87 state's record part: a 108-byte fnsave image (frstor loads it), padded. */
export const FPU_SIZE = 112;
export const CASE_SIZE = 16 + CODE_MAX + 128 + 16 + 256 + MEM_SIZE + FPU_SIZE;

/** An 80-bit extended value: sign and exponent, significand (explicit integer bit). */
export interface F80 { se: number; m: bigint }
/** FSW condition-code bits. */
export const FC0 = 0x100, FC1 = 0x200, FC2 = 0x400, FC3 = 0x4000;
export const FCC = FC0 | FC1 | FC2 | FC3;

/** The x87 state of a case (physical registers; tag bit p = physical register p valid). */
export interface X87State { cw: number; sw: number; top: number; tag: number; regs: F80[] }

export const CF = 0x1, PF = 0x4, AF = 0x10, ZF = 0x40, SF = 0x80, DF = 0x400, OF = 0x800;
export const ARITH = CF | PF | AF | ZF | SF | OF;

/** Flags each condition code (x86 nibble) reads. */
export const CC_FLAGS = [OF, OF, CF, CF, ZF, ZF, CF | ZF, CF | ZF, SF, SF, PF, PF, SF | OF, SF | OF, ZF | SF | OF, ZF | SF | OF];
export const CC_NAMES = ['o', 'no', 'b', 'ae', 'e', 'ne', 'be', 'a', 's', 'ns', 'p', 'np', 'l', 'ge', 'le', 'g'];

/** Addresses reported by the native harness (its HARNESS line). */
export interface Layout { mem: number; code: number; landing: number; rsp: number; fs: number; gs: number }

export class Retry extends Error {}

/** What the self-check expects Capstone to decode at an offset. */
export interface Expect { off: number; len: number; mn: string; ops?: Operand[]; form: string }

export interface Case {
  code: Uint8Array;
  /** Offset of the snippet in the harness's two code pages. */
  codeOff: number;
  gpr: bigint[];
  relmask: number;
  rflags: bigint;
  mxcsr: number;
  xmm: Uint8Array;
  mem: Uint8Array;
  /** Comparison masks: bits that are compared. */
  flagsMask: bigint;
  mxcsrMask: number;
  gprMask: bigint[];
  /** Per XMM register, 16 byte masks (0xff = compared); undefined = all compared. */
  xmmMask?: Uint8Array;
  /** Per data-area byte: bits compared. */
  memMask: Uint8Array;
  /** The initial x87 state. */
  x87: X87State;
  /** FSW bits compared (the SDM leaves some condition codes undefined per instruction). */
  fswMask: number;
  /** Whether the x87 state is compared at all. */
  x87Compare: boolean;
  forms: string[];
  expects: Expect[];
  mode: 'single' | 'seq';
}

export interface MemOpts { span?: number; lo?: number; hi?: number; off?: number; noRip?: boolean; rspAfter?: number; align?: number }

const SEQ_BASES = [3, 5, 6, 7, 12, 13, 14, 15];

export class Builder {
  readonly gpr: bigint[] = [];
  relmask = 0;
  rflags: bigint;
  mxcsr = 0x1f80;
  /**
   * The SSE floating-point flavour the case is for (run.ts): `fast` cases must keep MXCSR's
   * default control (round to nearest, no DAZ/FTZ, all masked): usmjit must not switch.
   */
  flavour: 'fast' | 'precise' = 'fast';
  readonly xmm: Uint8Array;
  /** The data area's initial contents. */
  readonly data: Uint8Array;
  readonly code: number[] = [];
  readonly expects: Expect[] = [];
  readonly forms: string[] = [];
  readonly gprMask: bigint[] = new Array(16).fill(-1n);
  xmmMask?: Uint8Array;
  readonly memMask = new Uint8Array(MEM_SIZE).fill(0xff);
  mxcsrMask = 0xffff_ffff;
  /** Flags whose value is currently undefined (by the SDM). */
  undef = 0;
  /** The initial x87 state (forms may prepare it in single mode). */
  readonly x87: X87State;
  /** FSW condition codes whose value is currently undefined (by the SDM). */
  fpUndef = 0;
  x87Compare = true;
  /** Registers that must not be chosen as operands (rsp; the seq-mode bases). */
  readonly reserved = new Set<number>([4]);
  /** seq mode: base registers and their offsets in the data area. */
  readonly bases: { n: number; off: number }[] = [];
  /** rsp relative to the data area. */
  rsp = STACK_OFF;
  /** Registers already used by the instruction being built. */
  private used = new Set<number>();
  private memRegs = new Set<number>();
  private noRex = false;
  private rexUsed = false;
  /** Registers that appeared in earlier instructions of the snippet (may have been written). */
  private earlier = new Set<number>();
  /** Registers pinned by forms (single mode). */
  readonly pinned = new Set<number>();
  /** Inside a jcc body: no stack changes, no nested branches. */
  inBranch = false;

  constructor(readonly rng: Rng, readonly layout: Layout, readonly seq: boolean) {
    this.codeOff = rng.chance(0.25) ? 4096 - rng.range(1, 48) : 0;
    for (let i = 0; i < 16; i++) this.gpr.push(this.regValue());
    this.gpr[4] = 0n;
    this.rflags = BigInt(rng.u32() & (ARITH | DF));
    this.xmm = new Uint8Array(256);
    for (let i = 0; i < 16; i++) this.xmm.set(this.xmmValue(), i * 16);
    this.data = this.memValue();
    this.x87 = this.x87Value();
    if (seq) {
      const k = rng.range(1, 2);
      const cands = [...SEQ_BASES];
      for (let i = 0; i < k; i++) {
        const n = cands.splice(rng.int(cands.length), 1)[0];
        const off = rng.range(0, SCRATCH - 1);
        this.bases.push({ n, off });
        this.reserved.add(n);
        this.gpr[n] = BigInt(off);
        this.relmask |= 1 << n;
      }
    }
  }

  // ---- values ----------------------------------------------------------------------------

  /** An edge-heavy value of `w` bytes (unsigned). */
  val(w: number): bigint {
    const r = this.rng;
    const bits = w * 8;
    const mask = (1n << BigInt(bits)) - 1n;
    const sign = 1n << BigInt(bits - 1);
    switch (r.int(16)) {
      case 0: return 0n;
      case 1: return 1n;
      case 2: return mask;
      case 3: return sign;
      case 4: return sign - 1n;
      case 5: return r.chance(0.5) ? sign + 1n : mask - 1n;
      case 6: return BigInt(r.int(16));
      case 7: return (mask - BigInt(r.int(16))) & mask;
      case 8: return (1n << BigInt(r.int(bits))) & mask;
      case 9: return ((1n << BigInt(r.int(bits))) - 1n) & mask;
      case 10: return (r.chance(0.5) ? 0x5555_5555_5555_5555n : 0xaaaa_aaaa_aaaa_aaaan) & mask;
      case 11: return (sign + BigInt(r.range(-4, 4))) & mask;
      default: return r.bits(bits);
    }
  }

  /** A full register value: an edge value at a random width with random/zero/ones upper bits. */
  regValue(): bigint {
    const w = this.rng.pick([1, 2, 4, 8]);
    const low = this.val(w);
    if (w === 8) return low;
    const hi = this.rng.int(4);
    const upper = hi === 0 ? 0n : hi === 1 ? -1n : this.rng.u64();
    return BigInt.asUintN(64, (upper << BigInt(w * 8)) | low);
  }

  /** 16 bytes for an XMM register: integer lanes or float lanes with special values. */
  xmmValue(): Uint8Array {
    const r = this.rng;
    const out = new Uint8Array(16);
    const dv = new DataView(out.buffer);
    switch (r.int(4)) {
      case 0: out.set(r.bytes(16)); break;
      case 1: for (let i = 0; i < 4; i++) dv.setUint32(i * 4, Number(this.val(4)), true); break;
      case 2: for (let i = 0; i < 4; i++) dv.setUint32(i * 4, this.f32Bits(), true); break;
      default: for (let i = 0; i < 2; i++) dv.setBigUint64(i * 8, this.f64Bits(), true); break;
    }
    return out;
  }

  f32Bits(): number {
    const r = this.rng;
    const sgn = r.chance(0.5) ? 0x8000_0000 : 0;
    switch (r.int(14)) {
      case 0: return sgn; // ±0
      case 1: return (sgn | 0x7f80_0000) >>> 0; // ±inf
      case 2: return (sgn | 0x7fc0_0000 | r.int(0x40_0000)) >>> 0; // qnan
      case 3: return (sgn | 0x7f80_0000 | (1 + r.int(0x3f_ffff))) >>> 0; // snan
      case 4: return (sgn | r.range(1, 0x7f_ffff)) >>> 0; // denormal
      case 5: return (sgn | 0x3f80_0000) >>> 0; // ±1
      case 6: return (sgn | 0x7f7f_ffff) >>> 0; // max
      case 7: { const f = new Float32Array([r.range(-100000, 100000) / (r.chance(0.5) ? 1 : 8)]); return new Uint32Array(f.buffer)[0]; }
      case 8: { const f = new Float32Array([r.pick([2147483647, 2147483648, -2147483648, -2147483649, 4294967296, 9.3e18, 9.3e18 * 2, -9.3e18, 0.5, 1.5, 2.5, -0.5, -1.5, 1e-40])]); return new Uint32Array(f.buffer)[0]; }
      default: return (sgn | (r.range(0x30, 0x4f) << 23) | r.int(0x80_0000)) >>> 0; // ordinary magnitudes
    }
  }

  f64Bits(): bigint {
    const r = this.rng;
    const sgn = r.chance(0.5) ? 1n << 63n : 0n;
    switch (r.int(14)) {
      case 0: return sgn;
      case 1: return sgn | 0x7ff0_0000_0000_0000n;
      case 2: return sgn | 0x7ff8_0000_0000_0000n | r.bits(51);
      case 3: return sgn | 0x7ff0_0000_0000_0000n | (r.bits(51) | 1n);
      case 4: return sgn | (r.bits(52) | 1n);
      case 5: return sgn | 0x3ff0_0000_0000_0000n;
      case 6: return sgn | 0x7fef_ffff_ffff_ffffn;
      case 7: { const f = new Float64Array([r.range(-100000, 100000) / (r.chance(0.5) ? 1 : 8)]); return new BigUint64Array(f.buffer)[0]; }
      case 8: { const f = new Float64Array([r.pick([2147483647, 2147483647.5, 2147483648, -2147483648, -2147483648.5, -2147483649, 4294967296, 9223372036854775807, 9223372036854775808, -9223372036854775808, -9223372036854777856, 0.5, 1.5, 2.5, -0.5, -1.5, 3.4e38, 3.5e38, 1e-310, 1e-40])]); return new BigUint64Array(f.buffer)[0]; }
      default: return sgn | (BigInt(r.range(0x3c0, 0x43f)) << 52n) | r.bits(52);
    }
  }

  /** A canonical 80-bit value: edge-heavy (zero, denormal, inf, NaNs, extreme exponents, integers). */
  f80Value(): F80 {
    const r = this.rng;
    const s = r.chance(0.5) ? 0x8000 : 0;
    const J = 1n << 63n;
    const sig = () => (r.chance(0.3) ? J | (r.u64() & ~((1n << BigInt(r.range(1, 60))) - 1n)) : J | r.u64()) & ((1n << 64n) - 1n);
    switch (r.int(16)) {
      case 0: return { se: s, m: 0n };
      case 1: return { se: s, m: (r.u64() >> BigInt(r.range(1, 63))) || 1n }; // denormal
      case 2: return { se: s | 0x7fff, m: J }; // inf
      case 3: return { se: s | 0x7fff, m: J | (1n << 62n) | (r.chance(0.5) ? 0n : r.bits(62)) }; // qnan
      case 4: return { se: s | 0x7fff, m: J | (r.bits(62) || 1n) }; // snan
      case 5: return { se: s | r.range(1, 80), m: sig() }; // tiny
      case 6: return { se: s | (0x7ffe - r.int(80)), m: sig() }; // huge
      case 7: case 8: { // an integer (fist, frndint, fprem), often near the integer ranges' edges
        const n = r.pick([1, 2, 3, 8, 15, 16, 17, 31, 32, 33, 52, 53, 63, 64, 65, r.range(1, 64)]);
        const m = r.chance(0.5) ? J : sig() & ~((1n << BigInt(Math.max(0, 64 - n))) - 1n);
        return { se: s | (0x3fff + n - 1), m: r.chance(0.3) ? (m ^ BigInt(r.int(2)) << BigInt(Math.max(0, 64 - n))) | J : m };
      }
      case 9: return this.f80FromF64(this.f64Bits());
      case 10: return { se: s | (0x3fff + r.range(-2, 2)), m: r.pick([J, J | (1n << 62n), J | (1n << 61n), (1n << 64n) - 1n, J | 1n]) }; // halves, ties
      default: return { se: s | (0x3fff + r.range(-70, 70)), m: sig() };
    }
  }

  /** The 80-bit value of a double (exact). */
  f80FromF64(bits: bigint): F80 {
    const s = Number(bits >> 63n) << 15;
    const e = Number((bits >> 52n) & 0x7ffn);
    const f = bits & ((1n << 52n) - 1n);
    if (e === 0x7ff) return { se: s | 0x7fff, m: (1n << 63n) | (f << 11n) };
    if (e === 0) {
      if (f === 0n) return { se: s, m: 0n };
      let m = f << 11n, ex = 0x3fff - 1022;
      while (!(m >> 63n)) { m <<= 1n; ex--; }
      return { se: s | ex, m };
    }
    return { se: s | (e - 1023 + 0x3fff), m: (1n << 63n) | (f << 11n) };
  }

  /** A random initial x87 state: all exceptions masked (no #MF), random PC/RC, sticky flags, stack. */
  x87Value(): X87State {
    const r = this.rng;
    const cw = 0x7f | (r.pick([0, 2, 3, 3]) << 8) | (r.int(4) << 10) | (r.chance(0.2) ? 0x1000 : 0);
    const sw = (r.chance(0.5) ? r.int(0x80) : 0) | (r.int(16) & 7) << 8 | (r.chance(0.5) ? FC3 : 0);
    const top = r.int(8);
    let tag = 0;
    if (r.chance(0.2)) tag = r.int(256);
    else { const n = r.pick([0, 1, 2, 3, 3, 4, 4, 5, 6, 7, 8]); for (let i = 0; i < n; i++) tag |= 1 << ((top + i) & 7); }
    const regs: F80[] = [];
    for (let p = 0; p < 8; p++) regs.push(this.f80Value());
    return { cw, sw, top, tag, regs };
  }

  /** Physical register of ST(i). */
  fpPhys(i: number): number { return (this.x87.top + i) & 7; }

  memValue(): Uint8Array {
    const m = this.rng.bytes(MEM_SIZE);
    const dv = new DataView(m.buffer);
    // Sprinkle edge values at aligned slots.
    for (let k = 0; k < 24; k++) {
      const w = this.rng.pick([1, 2, 4, 8]);
      const at = this.rng.int(MEM_SIZE / w) * w;
      const v = this.val(w);
      for (let i = 0; i < w; i++) dv.setUint8(at + i, Number((v >> BigInt(8 * i)) & 0xffn));
    }
    return m;
  }

  // ---- operands --------------------------------------------------------------------------

  /** Registers usable as (written) operands. */
  private pool(): number[] {
    const out: number[] = [];
    for (let n = 0; n < 16; n++) if (!this.reserved.has(n)) out.push(n);
    return out;
  }

  /**
   * Picks a register operand of size w. ah..bh are chosen sometimes for w = 1 (unless REX is already
   * needed); avoid: numbers not to use; fixed: take exactly this register.
   */
  reg(w: Size, opts: { avoid?: number[]; high?: boolean; alias?: boolean } = {}): Gpr {
    const r = this.rng;
    const avoid = new Set(opts.avoid ?? []);
    for (const n of this.memRegs) avoid.add(n);
    const allowAlias = opts.alias ?? true;
    let cands = this.pool().filter((n) => !avoid.has(n));
    if (!this.seq) {
      // Registers pinned for earlier instructions of a template (memory bases, counts) stay intact.
      const unpinned = cands.filter((n) => !this.pinned.has(n) || this.used.has(n));
      if (unpinned.length) cands = unpinned;
    }
    if (!(allowAlias && r.chance(0.12))) {
      const fresh = cands.filter((n) => !this.used.has(n));
      if (fresh.length) cands = fresh;
    }
    if (this.noRex) cands = cands.filter((n) => n < (w === 1 ? 4 : 8));
    if (!cands.length) throw new Retry('no register');
    if (w === 1 && (opts.high ?? true) && !this.rexUsed && r.chance(0.25)) {
      const hs = cands.filter((n) => n < 4);
      if (hs.length) {
        const n = r.pick(hs);
        this.used.add(n);
        this.noRex = true;
        return gpr(n, 1, true);
      }
    }
    const n = r.pick(cands);
    return this.take(n, w);
  }

  /** A specific register as an operand (implicit operands: al/ax/eax/rax, cl...). */
  fixed(n: number, w: Size, high = false): Gpr {
    if (high) {
      if (this.rexUsed) throw new Retry('high with rex');
      this.noRex = true;
      this.used.add(n);
      return gpr(n, 1, true);
    }
    return this.take(n, w);
  }

  private take(n: number, w: Size): Gpr {
    if (n >= 8 || (w === 1 && n >= 4)) {
      if (this.noRex) throw new Retry('rex with high');
      this.rexUsed = true;
    }
    this.used.add(n);
    return gpr(n, w);
  }

  /** Marks implicit registers as used by the instruction being built. */
  claim(...ns: number[]): void {
    for (const n of ns) this.used.add(n);
  }

  claimAcc(w: number): void {
    void w;
    this.used.add(0);
  }

  /** Tracks a push of w bytes (the stack stays inside the data area). */
  push(w: number): void {
    if (this.rsp - w < SCRATCH) throw new Retry('stack full');
    this.rsp -= w;
  }

  pop(w: number): void {
    if (this.rsp + w > MEM_SIZE) throw new Retry('stack empty');
    this.rsp += w;
  }

  /** seq mode: emits 1-2 random body forms; otherwise the fallback (a marker instruction). */
  bodyPicker?: (b: Builder) => void;
  branchBody(fallback: (b: Builder) => void): void {
    if (this.inBranch) throw new Retry('nested branch');
    this.inBranch = true;
    try {
      if (this.bodyPicker) this.bodyPicker(this); else fallback(this);
    } finally {
      this.inBranch = false;
    }
  }

  /** State for rolling back a failed instruction (seq mode). */
  snapshot(): () => void {
    const s = {
      code: this.code.length, expects: this.expects.length, forms: this.forms.length, undef: this.undef,
      rsp: this.rsp, gpr: [...this.gpr], relmask: this.relmask, rflags: this.rflags, mem: this.data.slice(),
      pinned: new Set(this.pinned), gprMask: [...this.gprMask], inBranch: this.inBranch, memMask: this.memMask.slice(),
      fpUndef: this.fpUndef,
    };
    return () => {
      this.code.length = s.code;
      this.expects.length = s.expects;
      this.forms.length = s.forms;
      this.undef = s.undef;
      this.fpUndef = s.fpUndef;
      this.rsp = s.rsp;
      for (let i = 0; i < 16; i++) { this.gpr[i] = s.gpr[i]; this.gprMask[i] = s.gprMask[i]; }
      this.relmask = s.relmask;
      this.rflags = s.rflags;
      this.data.set(s.mem);
      this.pinned.clear();
      for (const n of s.pinned) this.pinned.add(n);
      this.inBranch = s.inBranch;
      this.memMask.set(s.memMask);
      this.endInsn();
    };
  }

  /** True if register n may be written by the instruction being built (not reserved). */
  writable(n: number): boolean {
    return !this.reserved.has(n);
  }

  /** single mode: sets the low w bytes of register n (the rest keeps its random value). */
  setReg(n: number, v: bigint, w: Size = 8): void {
    if (this.seq) throw new Error('setReg in seq mode');
    const bits = BigInt(w * 8);
    const mask = w === 8 ? (1n << 64n) - 1n : (1n << bits) - 1n;
    this.gpr[n] = BigInt.asUintN(64, (this.gpr[n] & ~mask) | (v & mask));
    this.pinned.add(n);
  }

  /** single mode: sets byte 1 (ah..bh) of register n. */
  setHigh(n: number, v: bigint): void {
    if (this.seq) throw new Error('setHigh in seq mode');
    this.gpr[n] = (this.gpr[n] & ~0xff00n) | ((v & 0xffn) << 8n);
    this.pinned.add(n);
  }

  /** Value of register n's low w bytes as the initial state holds it (single mode). */
  regVal(r: Gpr): bigint {
    if (r.high) return (this.gpr[r.n] >> 8n) & 0xffn;
    return BigInt.asUintN(r.size * 8, this.gpr[r.n]);
  }

  /** Sets a register operand's value (single mode). */
  setOp(r: Gpr, v: bigint): void {
    if (r.high) this.setHigh(r.n, v); else this.setReg(r.n, v, r.size);
  }

  setMem(off: number, v: bigint, w: number): void {
    for (let i = 0; i < w; i++) this.data[off + i] = Number((v >> BigInt(8 * i)) & 0xffn);
  }

  memVal(off: number, w: number): bigint {
    let v = 0n;
    for (let i = w - 1; i >= 0; i--) v = (v << 8n) | BigInt(this.data[off + i]);
    return v;
  }

  /** The offset (in the data area) the last mem() operand addresses. */
  lastOff = 0;

  /**
   * A memory operand of `size` bytes addressing the data area at an offset in [lo, hi] (default
   * anywhere the `span` bytes fit in the scratch part). Single mode pins the base/index registers;
   * seq mode uses the reserved bases (or rsp, absolute, rip-relative).
   */
  mem(size: number, opts: MemOpts = {}): Mem {
    const r = this.rng;
    const span = opts.span ?? size;
    const lo = opts.lo ?? 0;
    const hi = opts.hi ?? SCRATCH - span;
    let off = opts.off ?? r.range(lo, hi);
    if (opts.align) off -= off % opts.align;
    this.lastOff = off;
    const target = this.layout.mem + off;
    const kind = r.int(17);
    if (kind === 16) {
      // fs:/gs: override (bases set by the harness): the effective address is relative to the base.
      const seg = r.chance(0.5) ? 'fs' : 'gs';
      const ea = target - (seg === 'fs' ? this.layout.fs : this.layout.gs);
      if (this.seq || r.chance(0.5)) return { kind: 'mem', base: -1, index: -1, scale: 1, disp: ea, size, seg };
      const cands: number[] = [];
      for (let n = 0; n < (this.noRex ? 8 : 16); n++) if (n !== 4 && !this.used.has(n) && !this.pinned.has(n) && !this.earlier.has(n)) cands.push(n);
      if (!cands.length) throw new Retry('no base register');
      const base = r.pick(cands);
      const disp = r.range(-128, 127);
      this.gpr[base] = BigInt.asUintN(64, BigInt(ea - disp));
      this.relmask &= ~(1 << base);
      this.pinned.add(base);
      this.memRegs.add(base);
      this.used.add(base);
      if (base >= 8) this.rexUsed = true;
      return { kind: 'mem', base, index: -1, scale: 1, disp, size, seg };
    }
    if (kind === 0 && !opts.noRip) return { kind: 'mem', base: 'rip', index: -1, scale: 1, disp: target, size };
    if (kind === 1 && target < 0x8000_0000) return { kind: 'mem', base: -1, index: -1, scale: 1, disp: target, size };
    if (kind === 2) {
      // [rsp + disp]: rsp is known (mem + this.rsp); pop m computes the address after the pop.
      return { kind: 'mem', base: 4, index: -1, scale: 1, disp: off - this.rsp - (opts.rspAfter ?? 0), size };
    }
    if (kind === 3 && !this.seq) {
      // 0x67: 32-bit address size; the registers' upper halves must be ignored.
      const cands: number[] = [];
      for (let n = 0; n < (this.noRex ? 8 : 16); n++) if (n !== 4 && !this.used.has(n) && !this.pinned.has(n) && !this.earlier.has(n)) cands.push(n);
      if (cands.length < 2) throw new Retry('no base register');
      const base = r.pick(cands);
      let index = -1, scale: 1 | 2 | 4 | 8 = 1, ival = 0n;
      if (r.chance(0.4)) {
        index = r.pick(cands.filter((n) => n !== base));
        scale = r.pick([1, 2, 4, 8] as const);
        ival = BigInt(r.range(0, 16));
      }
      const disp = r.chance(0.5) ? 0 : r.range(-128, 127);
      const garbage = () => BigInt(r.u32()) << 32n;
      this.gpr[base] = BigInt.asUintN(64, garbage() + BigInt(off - disp) - ival * BigInt(scale));
      this.relmask |= 1 << base;
      for (const n of index >= 0 ? [base, index] : [base]) {
        this.pinned.add(n);
        this.memRegs.add(n);
        this.used.add(n);
        if (n >= 8) this.rexUsed = true;
      }
      if (index >= 0) {
        this.gpr[index] = BigInt.asUintN(64, garbage() | ival);
        this.relmask &= ~(1 << index);
      }
      return { kind: 'mem', base, index, scale, disp, size, addr32: true };
    }
    const dispOf = (): number => {
      const k = r.int(4);
      return k === 0 ? 0 : k === 1 ? r.range(-128, 127) : k === 2 ? r.range(-0x400, 0x400) : r.range(-0x100000, 0x100000);
    };
    if (this.seq) {
      const b = r.pick(this.bases);
      if (this.noRex && b.n >= 8) throw new Retry('base needs rex');
      if (b.n >= 8) this.rexUsed = true;
      return { kind: 'mem', base: b.n, index: -1, scale: 1, disp: off - b.off, size };
    }
    // single mode: choose base (and maybe index) registers not used by the instruction.
    const maxN = this.noRex ? 8 : 16;
    const cands: number[] = [];
    for (let n = 0; n < maxN; n++) if (n !== 4 && !this.used.has(n) && !this.pinned.has(n) && !this.earlier.has(n)) cands.push(n);
    if (cands.length < 2) throw new Retry('no base register');
    const base = r.pick(cands);
    let index = -1, scale: 1 | 2 | 4 | 8 = 1, ival = 0n;
    if (r.chance(0.4)) {
      const ic = cands.filter((n) => n !== base);
      index = r.pick(ic);
      scale = r.pick([1, 2, 4, 8] as const);
      ival = BigInt(r.range(-16, 16));
    }
    const disp = dispOf();
    const baseVal = BigInt(off - disp) - ival * BigInt(scale);
    this.gpr[base] = BigInt.asUintN(64, baseVal);
    this.relmask |= 1 << base;
    this.pinned.add(base);
    this.memRegs.add(base);
    this.used.add(base);
    if (base >= 8) this.rexUsed = true;
    if (index >= 0) {
      this.gpr[index] = BigInt.asUintN(64, ival);
      this.relmask &= ~(1 << index);
      this.pinned.add(index);
      this.memRegs.add(index);
      this.used.add(index);
      if (index >= 8) this.rexUsed = true;
    }
    const dw = disp === 0 && r.chance(0.2) ? 1 : disp >= -128 && disp <= 127 && r.chance(0.1) ? 4 : 0;
    return { kind: 'mem', base, index, scale, disp, size, dispWidth: dw as 0 | 1 | 4 };
  }

  /** An XMM register operand (any of the 16; never reserved). */
  xreg(): Xmm {
    const n = this.rng.int(16);
    if (n >= 8) {
      if (this.noRex) return xmm(n - 8);
      this.rexUsed = true;
    }
    return xmm(n);
  }

  /** Register or memory operand (50/50). */
  rm(w: Size, memOpts: MemOpts = {}): Gpr | Mem {
    return this.rng.chance(0.5) ? this.reg(w) : this.mem(w, memOpts);
  }

  /** A condition code whose flags are defined now; Retry if none. */
  cc(): number {
    const ok: number[] = [];
    for (let c = 0; c < 16; c++) if ((CC_FLAGS[c] & this.undef) === 0) ok.push(c);
    if (!ok.length) throw new Retry('no defined condition');
    return this.rng.pick(ok);
  }

  /** Marks register n's compared bits (undefined results). */
  undefReg(n: number, keepMask: bigint): void {
    this.gprMask[n] &= keepMask;
  }

  // ---- emission --------------------------------------------------------------------------

  /** Offset of the snippet in the code pages (near 4096: it crosses the page boundary). */
  readonly codeOff: number;

  /** Guest address of the snippet's first byte. */
  get codeBase(): number {
    return this.layout.code + this.codeOff;
  }

  get here(): number {
    return this.codeBase + this.code.length;
  }

  /**
   * Appends one instruction. reads: flags it consumes (must be defined); writes: flags it sets
   * to defined values; undef: flags it leaves undefined.
   */
  emit(spec: EncSpec, info: { form: string; mn: string; ops?: Operand[]; reads?: number; writes?: number; undef?: number; fpWrites?: number; fpUndef?: number }): number {
    let bytes: number[];
    try {
      bytes = encode(spec, this.here);
    } catch (e) {
      if (e instanceof EncodeError) throw new Retry(e.message);
      throw e;
    }
    if (this.code.length + bytes.length > CODE_MAX - 16) throw new Retry('snippet too long');
    if ((info.reads ?? 0) & this.undef) throw new Error(`${info.form}: reads undefined flags ${(info.reads! & this.undef).toString(16)}`);
    const off = this.code.length;
    this.code.push(...bytes);
    this.expects.push({ off, len: bytes.length, mn: info.mn, ops: info.ops, form: info.form });
    this.forms.push(info.form);
    const w = info.writes ?? 0;
    const u = info.undef ?? 0;
    this.undef = (this.undef & ~(w | u)) | u;
    this.fpUndef = (this.fpUndef & ~((info.fpWrites ?? 0) | (info.fpUndef ?? 0))) | (info.fpUndef ?? 0);
    this.endInsn();
    return off;
  }

  /** Resets per-instruction operand tracking (emit does it). */
  endInsn(): void {
    for (const n of this.used) this.earlier.add(n);
    this.used.clear();
    this.memRegs.clear();
    this.noRex = false;
    this.rexUsed = false;
  }

  /** Patches a rel8 at `at` (the byte offset of the displacement) to jump to the current end. */
  patchRel8(at: number): void {
    const d = this.code.length - (at + 1);
    if (d > 127) throw new Retry('branch too far');
    this.code[at] = d & 0xff;
  }

  finish(): Case {
    let flagsMask = ~BigInt(this.undef) & 0xffff_ffffn;
    return {
      code: Uint8Array.from(this.code),
      codeOff: this.codeOff,
      gpr: this.gpr.map((v) => BigInt.asUintN(64, v)),
      relmask: this.relmask,
      rflags: this.rflags,
      mxcsr: this.mxcsr,
      xmm: this.xmm,
      mem: this.data,
      flagsMask,
      mxcsrMask: this.mxcsrMask,
      gprMask: this.gprMask,
      xmmMask: this.xmmMask,
      memMask: this.memMask,
      x87: this.x87,
      fswMask: 0xffff & ~this.fpUndef,
      x87Compare: this.x87Compare,
      forms: this.forms,
      expects: this.expects,
      mode: this.seq ? 'seq' : 'single',
    };
  }
}

/** Serialises a case into the harness's fixed-size record. */
export function serialize(c: Case, out: Uint8Array, at: number): void {
  const dv = new DataView(out.buffer, out.byteOffset + at, CASE_SIZE);
  dv.setUint32(0, 0x46464944, true);
  dv.setUint32(4, c.code.length, true);
  dv.setUint32(8, c.codeOff, true);
  dv.setUint32(12, c.relmask, true);
  out.set(c.code, at + 16);
  let p = 16 + CODE_MAX;
  for (let i = 0; i < 16; i++, p += 8) dv.setBigUint64(p, c.gpr[i], true);
  dv.setBigUint64(p, c.rflags, true); p += 8;
  dv.setUint32(p, c.mxcsr, true); p += 8;
  out.set(c.xmm, at + p); p += 256;
  out.set(c.mem, at + p); p += MEM_SIZE;
  out.set(fnsaveImage(c.x87), at + p);
}

/** The full tag word's 2-bit class of a valid register: 0 valid, 1 zero, 2 special. */
function tagClass(v: F80): number {
  const e = v.se & 0x7fff;
  if (e === 0) return v.m === 0n ? 1 : 2;
  if (e === 0x7fff || !(v.m >> 63n)) return 2;
  return 0;
}

/** The 108-byte fnsave image (32-bit protected-mode format) of an x87 state, for frstor. */
export function fnsaveImage(x: X87State): Uint8Array {
  const b = new Uint8Array(FPU_SIZE);
  const dv = new DataView(b.buffer);
  let tw = 0;
  for (let p = 0; p < 8; p++) tw |= ((x.tag >> p) & 1 ? tagClass(x.regs[p]) : 3) << (2 * p);
  dv.setUint32(0, 0xffff0000 | x.cw, true);
  dv.setUint32(4, 0xffff0000 | ((x.sw & ~0xb880) | (x.top << 11)), true);
  dv.setUint32(8, 0xffff0000 | tw, true);
  for (let i = 0; i < 8; i++) {
    const v = x.regs[(x.top + i) & 7];
    dv.setBigUint64(28 + 10 * i, v.m, true);
    dv.setUint16(36 + 10 * i, v.se, true);
  }
  return b;
}
