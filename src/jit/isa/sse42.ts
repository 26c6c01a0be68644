import { CPU } from '../../core/layout.js';
import type { Emitter, JsEnv } from '../emitter.js';
import { Unsupported } from '../emitter.js';
import type { Insn } from '../../decoder/ir.js';
import type { Family, EmitFn } from './types.js';
import { SIMD, T } from '../wasm/encoder.js';
import { F } from '../../core/rflags.js';
import { isX, loadVL, packed, xn } from './sse.js';
import { FLAGS_KILL } from './table.js';

/**
 * SSE4.2: the packed string compares (pcmpistri pcmpestri pcmpistrm pcmpestrm), crc32 and
 * pcmpgtq. (popcnt, which CPUID reports next to SSE4.2, lives in bits.ts.)
 *
 * The string compares are one TypeScript helper (`pcmpstr`, below) called through
 * Emitter.callJs: the emitted code only loads the operands (the memory operand through the normal
 * inline TLB path, so a fault is raised before the helper runs; these instructions have no
 * alignment requirement: see their table entries) and the explicit lengths into the CPU scratch area,
 * and afterwards picks the results up from there: ECX or XMM0, and the flags. The helper changes no
 * register or flag itself, so the region keeps its registers and lazy flags in locals.
 *
 * Scratch layout (CPU.scratch, 64 bytes):
 *   +0  first operand (xmm1), 16 bytes; on return, the mask result for the *strm forms
 *   +16 second operand (xmm2/m128), 16 bytes
 *   +32 rax (pcmpestr*: the first operand's length; sign-extended from eax without REX.W)
 *   +40 rdx (the second operand's length, likewise)
 *   +48 on return: the arithmetic flags (i32, RFLAGS positions)
 *   +52 on return: the index (i32) for the *stri forms
 */
const S_A = CPU.scratch, S_B = CPU.scratch + 16, S_LA = CPU.scratch + 32, S_LB = CPU.scratch + 40;
const S_FLAGS = CPU.scratch + 48, S_INDEX = CPU.scratch + 52;

/** The result of one packed string compare, before it is written to ECX or XMM0. */
interface StrCmpResult {
  /** IntRes2: one bit per element (bit j = element j of the second operand). */
  res: number;
  /** Elements per operand: 16 (bytes) or 8 (words). */
  n: number;
  /** RFLAGS: CF ZF SF OF as the SDM defines them, AF and PF clear. */
  flags: number;
}

/**
 * The SSE4.2 packed string compare (Intel SDM vol. 2, "PCMPESTRI" .. "PCMPISTRM" and section
 * 4.1, "Imm8 control byte operation for PCMPESTRI / PCMPESTRM / PCMPISTRI / PCMPISTRM").
 *
 * `a` and `b` are the 16 bytes of the first operand (xmm1: the character set, the ranges or the
 * needle) and of the second (xmm2/m128: the text). `la` and `lb` are their valid lengths in
 * elements (already computed: the implicit forms stop at the first zero element, the explicit
 * forms take |rax| / |rdx| saturated to the element count).
 *
 * imm8:
 *   bits 1:0  element format: 00 unsigned bytes, 01 unsigned words, 10 signed bytes, 11 signed words
 *   bits 3:2  aggregation: 00 equal any, 01 ranges, 10 equal each, 11 equal ordered
 *   bits 5:4  polarity: 00 / 10 positive, 01 negative, 11 masked negative (only valid elements of b)
 *   bit 6     index forms: most (1) or least (0) significant set bit; mask forms: byte/word
 *             mask (1) or bit mask (0)
 *   bit 7     ignored
 *
 * IntRes1 bit j says something about element j of `b` (the text); elements past a length are
 * "invalid", and the SDM's override table (4-7) fixes the comparison of invalid elements:
 *   - equal any / ranges: a comparison involving an invalid element is false;
 *   - equal each: both invalid -> true, exactly one invalid -> false;
 *   - equal ordered: an invalid needle element (a) matches anything, a valid one never matches an
 *     invalid text element.
 */
const ELEMS_A = new Int32Array(16), ELEMS_B = new Int32Array(16);

function pcmpstr(a: Uint8Array, la: number, b: Uint8Array, lb: number, imm: number): StrCmpResult {
  const words = (imm & 1) !== 0;
  const signed = (imm & 2) !== 0;
  const n = words ? 8 : 16;
  const el = (v: Uint8Array, k: number): number => {
    if (!words) return signed ? (v[k] << 24) >> 24 : v[k];
    const w = v[2 * k] | (v[2 * k + 1] << 8);
    return signed ? (w << 16) >> 16 : w;
  };
  // Module-level scratch: shells call this for every strlen/strchr (busy code, no allocation).
  const A = ELEMS_A, B = ELEMS_B;
  for (let k = 0; k < n; k++) { A[k] = el(a, k); B[k] = el(b, k); }

  let res1 = 0;
  switch ((imm >> 2) & 3) {
    case 0: // equal any: b[j] is one of a[0..la)
      for (let j = 0; j < lb; j++) {
        for (let i = 0; i < la; i++) if (A[i] === B[j]) { res1 |= 1 << j; break; }
      }
      break;
    case 1: // ranges: a holds pairs [lo, hi]; a pair with an invalid end never matches
      for (let j = 0; j < lb; j++) {
        for (let i = 0; i + 1 < la; i += 2) if (A[i] <= B[j] && B[j] <= A[i + 1]) { res1 |= 1 << j; break; }
      }
      break;
    case 2: // equal each: a[j] == b[j]; past both lengths true, past only one false
      for (let j = 0; j < n; j++) {
        const va = j < la, vb = j < lb;
        if (va && vb ? A[j] === B[j] : !va && !vb) res1 |= 1 << j;
      }
      break;
    case 3: // equal ordered: the needle a[0..la) starts at b[j] (a match may run off the end of b's register)
      for (let j = 0; j < n; j++) {
        let match = true;
        for (let k = 0; k < la && j + k < n; k++) {
          if (j + k >= lb || A[k] !== B[j + k]) { match = false; break; }
        }
        if (match) res1 |= 1 << j;
      }
      break;
  }

  const all = (1 << n) - 1;
  let res = res1;
  switch ((imm >> 4) & 3) {
    case 1: res = ~res1 & all; break; // negative
    case 3: res = res1 ^ ((1 << lb) - 1); break; // masked negative: only b's valid elements flip
  }

  let flags = 0;
  if (res !== 0) flags |= F.CF;
  if (lb < n) flags |= F.ZF;
  if (la < n) flags |= F.SF;
  if (res & 1) flags |= F.OF;
  return { res, n, flags };
}

/** The ECX result of pcmp?stri: the lowest (imm8 bit 6 clear) or highest set bit, or n if none. */
function strIndex(r: StrCmpResult, imm: number): number {
  if (r.res === 0) return r.n;
  return imm & 0x40 ? 31 - Math.clz32(r.res) : 31 - Math.clz32(r.res & -r.res);
}

/** The XMM0 result of pcmp?strm: the bit mask, or (imm8 bit 6) each element all ones / zeros. */
function strMask(r: StrCmpResult, imm: number): Uint8Array {
  const out = new Uint8Array(16);
  if (imm & 0x40) {
    const w = 16 / r.n;
    for (let j = 0; j < r.n; j++) if (r.res & (1 << j)) out.fill(0xff, j * w, j * w + w);
  } else {
    out[0] = r.res & 0xff;
    out[1] = (r.res >> 8) & 0xff;
  }
  return out;
}

/** Length of an implicit-length operand: the index of its first zero element, else n. */
function implicitLen(v: Uint8Array, n: number): number {
  const w = 16 / n;
  for (let k = 0; k < n; k++) if (v[k * w] === 0 && (w === 1 || v[k * w + 1] === 0)) return k;
  return n;
}

/** Length of an explicit-length operand: |v| as a signed 64-bit value, saturated to n. */
function explicitLen(v: bigint, n: number): number {
  const s = BigInt.asIntN(64, v);
  const abs = s < 0n ? -s : s;
  return abs >= BigInt(n) ? n : Number(abs);
}

/** The 16 bytes at `off` in the CPU block: a view of Wasm memory, valid for this call only. */
function readBytes(env: JsEnv, base: number, off: number): Uint8Array {
  return env.bytes().subarray(base + off, base + off + 16);
}

/** pcmpistri / pcmpestri / pcmpistrm / pcmpestrm. */
function pcmpStr(explicit: boolean, index: boolean): EmitFn {
  return (e: Emitter, i: Insn, env: JsEnv) => {
    const [d, s, immOp] = i.ops;
    if (!isX(d) || immOp?.kind !== 'imm') throw new Unsupported(`${i.op} operands`);
    const imm = Number(immOp.value & 0xffn);
    const f = e.f;
    // Operands to the scratch area (the memory operand first: its slow path uses scratch too).
    const bv = loadVL(e, s);
    f.get(e.cpu).get(e.xmm(d.n)).v128_store(S_A);
    f.get(e.cpu).get(bv).v128_store(S_B);
    f.free(T.v128, bv);
    if (explicit) {
      // Lengths: rax/rdx with REX.W, else eax/edx as signed 32-bit values.
      for (const [reg, off] of [[0, S_LA], [2, S_LB]]) {
        f.get(e.cpu);
        e.gpr(reg);
        if (!i.rexW) f.i64_extend32_s();
        f.i64_store(off);
      }
    }
    e.callJs((base) => {
      const a = readBytes(env, base, S_A);
      const b = readBytes(env, base, S_B);
      const n = imm & 1 ? 8 : 16;
      let la: number, lb: number;
      if (explicit) {
        const cpu = env.cpu(base);
        la = explicitLen(cpu.u64(S_LA), n);
        lb = explicitLen(cpu.u64(S_LB), n);
      } else {
        la = implicitLen(a, n);
        lb = implicitLen(b, n);
      }
      const r = pcmpstr(a, la, b, lb, imm);
      const cpu = env.cpu(base);
      cpu.setU32(S_FLAGS, r.flags);
      if (index) cpu.setU32(S_INDEX, strIndex(r, imm));
      else env.bytes().set(strMask(r, imm), base + S_A);
      return -1;
    }, true, 0);
    if (index) {
      // ECX (a 32-bit write: the upper half of RCX is cleared).
      const v = e.tmp64();
      f.get(e.cpu).i64_load32_u(S_INDEX).set(v);
      e.setGpr(1, v);
      e.free64(v);
    } else {
      f.get(e.cpu).v128_load(S_A).set(e.xmm(0));
      e.xmmDirty(0);
    }
    f.get(e.cpu).i32_load(S_FLAGS);
    e.setEflagsFromStack();
  };
}

/** CRC-32C (Castagnoli), bit-reflected: the polynomial 0x1EDC6F41 reversed. */
const CRC32C_POLY = 0x82f63b78;

/**
 * crc32 r32/r64, r/m8/16/32/64: the CRC-32C of the source's bytes, continuing from the low 32 bits
 * of the destination; the result is zero-extended. Flags are unchanged. A reflected CRC is linear,
 * so XOR-ing up to 32 source bits in at once and then shifting once per bit equals the bytewise
 * algorithm; a 64-bit source is two such 32-bit rounds.
 */
function crc32(e: Emitter, i: Insn): void {
  const [d, s] = i.ops;
  const f = e.f;
  const size = s.size;
  if (![1, 2, 4, 8].includes(size) || d.kind !== 'reg') throw new Unsupported('crc32 operands');
  const src = e.readL(s, size);
  const c = e.tmp32();
  const k = e.tmp32();
  e.read(d, 4);
  f.i32_wrap_i64().set(c);
  const round = (bits: number, shift: number) => {
    f.get(c).get(src);
    if (shift) f.i64(shift).i64_shr_u();
    f.i32_wrap_i64().i32_xor().set(c);
    f.i32(bits).set(k);
    f.loop();
    // c = (c >>> 1) ^ (POLY & -(c & 1))
    f.get(c).i32(1).i32_shr_u();
    f.i32(CRC32C_POLY | 0).i32(0).get(c).i32(1).i32_and().i32_sub().i32_and();
    f.i32_xor().set(c);
    f.get(k).i32(1).i32_sub().tee(k).br_if(0);
    f.end();
  };
  if (size === 8) { round(32, 0); round(32, 32); } else round(size * 8, 0);
  const r = e.tmp64();
  f.get(c).i64_extend_i32_u().set(r);
  e.setGpr(d.n, r);
  e.free64(src, r);
  e.free32(c, k);
}

export const sse42: Family = {
  // The SDM exempts the string compares from the 16-byte alignment check. They write all six
  // arithmetic flags (CF ZF SF OF from the result, AF PF cleared).
  pcmpistri: { emit: pcmpStr(false, true), align: 1, flags: FLAGS_KILL },
  pcmpestri: { emit: pcmpStr(true, true), align: 1, flags: FLAGS_KILL },
  pcmpistrm: { emit: pcmpStr(false, false), align: 1, flags: FLAGS_KILL },
  pcmpestrm: { emit: pcmpStr(true, false), align: 1, flags: FLAGS_KILL },
  crc32: { emit: crc32, fpu: false }, // general registers only: no #NM with CR0.TS
  pcmpgtq: packed(SIMD.i64x2_gt_s), // i64x2.gt_s
};
