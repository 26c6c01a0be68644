/**
 * A small x86-64 instruction encoder for the differential tester: legacy prefixes, REX, opcode,
 * ModRM, SIB, displacement, immediates. It covers the operand shapes test/diff/forms.ts uses.
 * Every operand is also described in Intel order so the self-check can compare it with what
 * Capstone decodes (test/diff/gen.ts).
 */

export type Size = 1 | 2 | 4 | 8;

/** A general register. `high`: ah ch dh bh (n = 0..3, encoded as 4..7 without REX). */
export interface Gpr { kind: 'gpr'; n: number; size: Size; high?: boolean }
export interface Xmm { kind: 'xmm'; n: number }
/**
 * A memory operand. base/index are GPR numbers or -1; base 'rip' means rip-relative with `disp`
 * the absolute target (resolved when encoded at a known address).
 */
export interface Mem {
  kind: 'mem';
  base: number | 'rip';
  index: number;
  scale: 1 | 2 | 4 | 8;
  disp: number;
  /** Access size in bytes (what Capstone reports), 0 for lea-like "no access". */
  size: number;
  /** Force a displacement width (0 = shortest). */
  dispWidth?: 0 | 1 | 4;
  /** 0x67 prefix: 32-bit address size. */
  addr32?: boolean;
  /** Segment override (fs/gs bases apply in 64-bit mode). */
  seg?: 'fs' | 'gs';
}
export interface Imm { kind: 'imm'; value: bigint; size: number }

export type Operand = Gpr | Xmm | Mem | Imm;

const N64 = ['rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi'];
const N32 = ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi'];
const N16 = ['ax', 'cx', 'dx', 'bx', 'sp', 'bp', 'si', 'di'];
const N8 = ['al', 'cl', 'dl', 'bl', 'spl', 'bpl', 'sil', 'dil'];
const N8H = ['ah', 'ch', 'dh', 'bh'];

export function gprName(r: Gpr): string {
  if (r.high) return N8H[r.n];
  if (r.n < 8) return (r.size === 8 ? N64 : r.size === 4 ? N32 : r.size === 2 ? N16 : N8)[r.n];
  return `r${r.n}${r.size === 8 ? '' : r.size === 4 ? 'd' : r.size === 2 ? 'w' : 'b'}`;
}

export const gpr = (n: number, size: Size, high = false): Gpr => ({ kind: 'gpr', n, size, high: high || undefined });
export const xmm = (n: number): Xmm => ({ kind: 'xmm', n });
export const imm = (value: bigint, size: number): Imm => ({ kind: 'imm', value, size });

export function opText(o: Operand): string {
  switch (o.kind) {
    case 'gpr': return gprName(o);
    case 'xmm': return `xmm${o.n}`;
    case 'imm': return `0x${BigInt.asUintN(o.size * 8, o.value).toString(16)}`;
    case 'mem': {
      const parts: string[] = [];
      if (o.base === 'rip') parts.push('rip');
      else if (o.base >= 0) parts.push(gprName(gpr(o.base, o.addr32 ? 4 : 8)));
      if (o.index >= 0) parts.push(`${gprName(gpr(o.index, o.addr32 ? 4 : 8))}*${o.scale}`);
      let s = parts.join(' + ');
      if (o.disp || !parts.length) s += `${o.disp < 0 ? ' - ' : parts.length ? ' + ' : ''}0x${Math.abs(o.disp).toString(16)}`;
      return `${o.seg ? o.seg + ':' : ''}[${s}]`;
    }
  }
}

/** Where each operand goes. */
export interface EncSpec {
  /** Legacy prefixes in order (lock, rep, mandatory 66/F2/F3, ...). */
  prefixes?: number[];
  /** Operand size: 2 adds 0x66 (unless already present), 8 sets REX.W. */
  osize?: number;
  rexW?: boolean;
  opcode: number[];
  /** ModRM.reg: a /digit or an operand. */
  reg?: number | Gpr | Xmm;
  rm?: Gpr | Xmm | Mem;
  /** Register added to the last opcode byte (bswap, push, mov r, imm...). */
  opreg?: Gpr;
  /** Immediates in encoding order: [value, bytes]. */
  imms?: [bigint, number][];
  /** Relative branch displacement bytes (already computed). */
  rel?: [number, number];
}

export class EncodeError extends Error {}

const needsRex8 = (r: Gpr | Xmm | Mem | number | undefined): boolean =>
  !!r && typeof r === 'object' && r.kind === 'gpr' && r.size === 1 && !r.high && r.n >= 4 && r.n < 8;
const isHigh = (r: Gpr | Xmm | Mem | number | undefined): boolean =>
  !!r && typeof r === 'object' && r.kind === 'gpr' && !!r.high;

function le(v: bigint, n: number): number[] {
  const out: number[] = [];
  let x = BigInt.asUintN(n * 8, v);
  for (let i = 0; i < n; i++) { out.push(Number(x & 0xffn)); x >>= 8n; }
  return out;
}

/**
 * Encodes one instruction. `at` is the instruction's address (needed for rip-relative operands,
 * whose Mem.disp is the absolute target).
 */
export function encode(s: EncSpec, at = 0): number[] {
  const out: number[] = [];
  // Prefix order: lock, segment, address size, operand size, then rep / mandatory (F2 F3 66).
  const given = s.prefixes ?? [];
  const prefixes: number[] = given.filter((p) => p === 0xf0);
  const m = s.rm && s.rm.kind === 'mem' ? s.rm : undefined;
  if (m?.seg) prefixes.push(m.seg === 'fs' ? 0x64 : 0x65);
  if (m?.addr32 || given.includes(0x67)) prefixes.push(0x67);
  if (s.osize === 2 && !given.includes(0x66)) prefixes.push(0x66);
  prefixes.push(...given.filter((p) => p !== 0xf0 && p !== 0x67));
  out.push(...prefixes);

  const regN = s.reg === undefined ? 0 : typeof s.reg === 'number' ? s.reg : s.reg.n;
  let rex = 0;
  if (s.osize === 8 || s.rexW) rex |= 8;
  if (typeof s.reg === 'object' && s.reg.n >= 8) rex |= 4;
  if (m) {
    if (m.index >= 8) rex |= 2;
    if (typeof m.base === 'number' && m.base >= 8) rex |= 1;
  } else if (s.rm && s.rm.kind !== 'mem' && s.rm.n >= 8) rex |= 1;
  if (s.opreg && s.opreg.n >= 8) rex |= 1;
  const force = needsRex8(s.reg) || needsRex8(s.rm) || (!!s.opreg && needsRex8(s.opreg));
  if (rex || force) {
    if (isHigh(s.reg) || isHigh(s.rm) || (s.opreg && s.opreg.high)) throw new EncodeError('high byte register with REX');
    out.push(0x40 | rex);
  }
  const op = [...s.opcode];
  if (s.opreg) op[op.length - 1] += s.opreg.high ? s.opreg.n + 4 : s.opreg.n & 7;
  out.push(...op);

  let ripFix = -1;
  if (s.rm) {
    const reg3 = (typeof s.reg === 'object' && s.reg.kind === 'gpr' && s.reg.high ? regN + 4 : regN) & 7;
    if (s.rm.kind !== 'mem') {
      const rmN = s.rm.kind === 'gpr' && s.rm.high ? s.rm.n + 4 : s.rm.n & 7;
      out.push(0xc0 | (reg3 << 3) | rmN);
    } else if (m!.base === 'rip') {
      out.push((reg3 << 3) | 5);
      ripFix = out.length;
      out.push(0, 0, 0, 0);
    } else {
      const mm = m!;
      const base = mm.base as number;
      if (mm.index === 4) throw new EncodeError('rsp cannot be an index');
      const sc = mm.index >= 0 ? { 1: 0, 2: 1, 4: 2, 8: 3 }[mm.scale] : 0;
      if (base < 0) {
        // No base: SIB with base=101, mod=00, disp32.
        out.push((reg3 << 3) | 4, (sc << 6) | ((mm.index >= 0 ? mm.index & 7 : 4) << 3) | 5);
        out.push(...le(BigInt(mm.disp), 4));
      } else {
        const needSib = mm.index >= 0 || (base & 7) === 4;
        let mod: number;
        let dw = mm.dispWidth ?? 0;
        if (dw === 0) dw = mm.disp === 0 && (base & 7) !== 5 ? 0 : mm.disp >= -128 && mm.disp <= 127 ? 1 : 4;
        if (dw === 0 && (base & 7) === 5) dw = 1;
        if (dw === 1 && (mm.disp < -128 || mm.disp > 127)) throw new EncodeError('disp8 out of range');
        mod = dw === 0 ? 0 : dw === 1 ? 1 : 2;
        out.push((mod << 6) | (reg3 << 3) | (needSib ? 4 : base & 7));
        if (needSib) out.push((sc << 6) | ((mm.index >= 0 ? mm.index & 7 : 4) << 3) | (base & 7));
        if (dw === 1) out.push(mm.disp & 0xff);
        else if (dw === 4) out.push(...le(BigInt(mm.disp), 4));
      }
    }
  }
  for (const [v, n] of s.imms ?? []) out.push(...le(v, n));
  if (s.rel) out.push(...le(BigInt(s.rel[0]), s.rel[1]));
  if (ripFix >= 0) {
    const next = at + out.length;
    const d = m!.disp - next;
    if (d < -0x8000_0000 || d > 0x7fff_ffff) throw new EncodeError('rip-relative target out of range');
    out.splice(ripFix, 4, ...le(BigInt(d), 4));
  }
  if (out.length > 15) throw new EncodeError('instruction longer than 15 bytes');
  return out;
}
