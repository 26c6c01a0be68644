/**
 * Shared machinery for the x87 tests: the native oracle (native.c, compiled at test time and fed
 * machine states on stdin), random operand generation, and an emulated CPU (a CPU block in a plain
 * ArrayBuffer plus a 512-byte guest memory window) on which isa/x87.ts executes the same
 * instructions.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Decoder } from '../../src/decoder/capstone.js';
import type { Insn } from '../../src/decoder/ir.js';
import type { JsEnv } from '../../src/jit/emitter.js';
import { execute } from '../../src/jit/isa/x87.js';
import { CPU } from '../../src/core/layout.js';
import type { F80 } from '../../src/jit/softfloat/f80.js';
import type { GuestMemory } from '../../src/paging/guest-memory.js';
import { CpuState } from '../../src/core/cpu-state.js';
import type { FrameAllocator } from '../../src/paging/frames.js';

const HERE = dirname(fileURLToPath(import.meta.url));

// ---- the native oracle --------------------------------------------------------------------

let nativeBin: string | null = null;
let tmp: string | null = null;

/** Compiles native.c (once per test file). */
export function buildNative(): string {
  if (nativeBin) return nativeBin;
  tmp = mkdtempSync(join(tmpdir(), 'usmjit-x87-'));
  nativeBin = join(tmp, 'native');
  execFileSync('gcc', ['-O1', '-o', nativeBin, join(HERE, 'native.c')]);
  return nativeBin;
}

export function cleanupNative(): void {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
  tmp = nativeBin = null;
}

/** A machine state for one test: fxsave image, RFLAGS, 512 bytes of memory, code bytes. */
export interface Rec {
  img: Uint8Array;
  flags: number;
  mem: Uint8Array;
  code: Uint8Array;
}

export interface Out {
  fault?: number;
  img: Uint8Array;
  flags: number;
  rax: bigint;
  mem: Uint8Array;
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** Runs records on the real FPU. */
export function runNative(recs: Rec[]): Out[] {
  const bin = buildNative();
  const input = recs.map((r) => `${hex(r.img)} ${r.flags.toString(16).padStart(16, '0')} ${hex(r.mem)} ${hex(r.code)}\n`).join('');
  const out = execFileSync(bin, { input, maxBuffer: 1 << 30 }).toString().split('\n').filter((l) => l.length);
  if (out.length !== recs.length) throw new Error(`native: ${out.length} results for ${recs.length} records`);
  return out.map((l) => {
    if (l.startsWith('FAULT')) return { fault: Number(l.split(' ')[1]), img: new Uint8Array(512), flags: 0, rax: 0n, mem: new Uint8Array(512) };
    const [fx, fl, rax, mem] = l.split(' ');
    return { img: new Uint8Array(Buffer.from(fx, 'hex')), flags: Number(BigInt('0x' + fl) & 0xffffn), rax: BigInt('0x' + rax), mem: new Uint8Array(Buffer.from(mem, 'hex')) };
  });
}

// ---- images -------------------------------------------------------------------------------

export interface State {
  cw?: number;
  /** Status word bits other than TOP. */
  sw?: number;
  top?: number;
  /** ST(0), ST(1)... (null = empty). Registers beyond the list are empty. */
  st?: (F80 | null)[];
  /** Abridged tag override (physical registers). */
  tag?: number;
  mxcsr?: number;
}

/** Builds an fxsave64 image. */
export function image(s: State): Uint8Array {
  const b = new Uint8Array(512);
  const dv = new DataView(b.buffer);
  const top = s.top ?? 0;
  dv.setUint16(0, s.cw ?? 0x37f, true);
  dv.setUint16(2, ((s.sw ?? 0) & ~0xb880) | (top << 11), true);
  let tag = 0;
  (s.st ?? []).forEach((v, i) => {
    if (!v) return;
    tag |= 1 << ((top + i) & 7);
    dv.setBigUint64(32 + 16 * i, v.m, true);
    dv.setUint16(40 + 16 * i, v.se, true);
  });
  b[4] = s.tag ?? tag;
  dv.setUint32(24, s.mxcsr ?? 0x1f80, true);
  dv.setUint32(28, 0xffff, true);
  return b;
}

/** ST(i) from an fxsave image. */
export function stOf(img: Uint8Array, i: number): F80 {
  const dv = new DataView(img.buffer, img.byteOffset);
  return { se: dv.getUint16(40 + 16 * i, true), m: dv.getBigUint64(32 + 16 * i, true) };
}
export const swOf = (img: Uint8Array): number => img[2] | (img[3] << 8);
export const cwOf = (img: Uint8Array): number => img[0] | (img[1] << 8);

// ---- the emulated CPU ---------------------------------------------------------------------

export const MEM_BASE = 0x7f00_0000_0000;
export const CODE_BASE = 0x40_0000;

let decoder: Decoder | null = null;
export async function getDecoder(): Promise<Decoder> {
  if (!decoder) decoder = await Decoder.create();
  return decoder;
}

class Window implements GuestMemory {
  constructor(readonly bytes: Uint8Array) {}
  private at(addr: number, len: number): number {
    const off = addr - MEM_BASE;
    if (off < 0 || off + len > this.bytes.length) throw new Error(`guest access outside the window: ${addr.toString(16)}+${len}`);
    return off;
  }
  read(addr: number, len: number): Uint8Array { const o = this.at(addr, len); return this.bytes.slice(o, o + len); }
  write(addr: number, data: Uint8Array): void { this.bytes.set(data, this.at(addr, data.length)); }
  readU64(addr: number): bigint { return new DataView(this.read(addr, 8).buffer).getBigUint64(0, true); }
  readU32(addr: number): number { return new DataView(this.read(addr, 4).buffer).getUint32(0, true); }
  writeU64(addr: number, v: bigint): void { const b = new Uint8Array(8); new DataView(b.buffer).setBigUint64(0, v, true); this.write(addr, b); }
  writeU32(addr: number, v: number): void { const b = new Uint8Array(4); new DataView(b.buffer).setUint32(0, v, true); this.write(addr, b); }
  readCString(): string { return ''; }
}

/** Executes a record's code with isa/x87.ts; returns the state in the oracle's output format. */
export function runEmulated(dec: Decoder, r: Rec): Out & { exit: number } {
  const buffer = new ArrayBuffer(CPU.tlb);
  const cpu = new CpuState({ memory: { buffer } } as unknown as FrameAllocator, 0);
  const img = r.img;
  const dv = new DataView(img.buffer, img.byteOffset);
  const sw = dv.getUint16(2, true);
  const top = (sw >> 11) & 7;
  cpu.setU32(CPU.fpCw, dv.getUint16(0, true));
  cpu.setU32(CPU.fpSw, sw & ~0xb880);
  cpu.setU32(CPU.fpTop, top);
  cpu.setU32(CPU.fpTag, img[4]);
  for (let i = 0; i < 8; i++) {
    const p = (top + i) & 7;
    cpu.setU64(CPU.fpr + 16 * p, dv.getBigUint64(32 + 16 * i, true));
    cpu.setU32(CPU.fpr + 16 * p + 8, dv.getUint16(40 + 16 * i, true));
  }
  cpu.setU32(CPU.mxcsr, dv.getUint32(24, true));
  for (let n = 0; n < 16; n++) {
    cpu.setU64(CPU.xmm + 16 * n, dv.getBigUint64(160 + 16 * n, true));
    cpu.setU64(CPU.xmm + 16 * n + 8, dv.getBigUint64(168 + 16 * n, true));
  }
  cpu.set(0, BigInt(MEM_BASE));
  let flags = r.flags & 0x8d5;
  const mem = new Window(r.mem.slice());
  const env: JsEnv = {
    cpu: () => cpu,
    mem,
    getFlags: () => flags,
    setFlags: (_b, f) => { flags = f & 0x8d5; },
    cpuid: () => [0, 0, 0, 0],
    rdtsc: () => 0n,
    hostAddr: () => { throw new Error('x87 harness: no host memory'); },
    bytes: () => new Uint8Array(0),
  };
  const insns: Insn[] = dec.decode(r.code, CODE_BASE, 64);
  let exit = -1;
  for (const i of insns) {
    exit = execute(env, i, 0);
    if (exit >= 0) break;
  }
  // The state as fxsave64 would write it.
  const out = new Uint8Array(512);
  const o = new DataView(out.buffer);
  const cw = cpu.u32(CPU.fpCw), t = cpu.u32(CPU.fpTop);
  const s = cpu.u32(CPU.fpSw);
  const es = (s & ~cw & 0x3f) !== 0;
  o.setUint16(0, cw, true);
  o.setUint16(2, (s & ~0xb880) | (t << 11) | (es ? 0x8080 : 0), true);
  out[4] = cpu.u32(CPU.fpTag);
  o.setUint16(6, cpu.u32(CPU.fpOp), true);
  o.setBigUint64(8, cpu.u64(CPU.fpIp), true);
  o.setBigUint64(16, cpu.u64(CPU.fpDp), true);
  o.setUint32(24, cpu.u32(CPU.mxcsr), true);
  o.setUint32(28, 0xffff, true);
  for (let i = 0; i < 8; i++) {
    const p = (t + i) & 7;
    o.setBigUint64(32 + 16 * i, cpu.u64(CPU.fpr + 16 * p), true);
    o.setUint16(40 + 16 * i, cpu.u32(CPU.fpr + 16 * p + 8) & 0xffff, true);
  }
  for (let n = 0; n < 16; n++) {
    o.setBigUint64(160 + 16 * n, cpu.u64(CPU.xmm + 16 * n), true);
    o.setBigUint64(168 + 16 * n, cpu.u64(CPU.xmm + 16 * n + 8), true);
  }
  return { img: out, flags: flags | 0x202, rax: cpu.get(0), mem: mem.bytes, exit };
}

/**
 * Differences between a native and an emulated outcome (empty when equal). Ignored: FOP, FIP,
 * FDP (bytes 6..23 of the image: AMD's fxsave64 writes them only with an exception pending),
 * MXCSR_MASK, the reserved bytes of register slots, and the memory bytes in `memMask`.
 */
export function diff(n: Out, e: Out, memMask: (off: number) => boolean = () => false, loose = false): string[] {
  const d: string[] = [];
  if (n.fault) return [`native fault ${n.fault}`];
  const h = (b: Uint8Array, a: number, z: number) => Buffer.from(b.subarray(a, z)).toString('hex');
  // loose (transcendentals): registers within 1 ulp, C1 and PE not compared.
  const head = (b: Uint8Array) => { const c = b.slice(0, 6); if (loose) { c[2] &= ~0x20; c[3] &= ~0x02; } return h(c, 0, 6); };
  if (head(n.img) !== head(e.img)) d.push(`cw/sw/tag native ${h(n.img, 0, 6)} emu ${h(e.img, 0, 6)}`);
  for (let i = 0; i < 8; i++) {
    const a = h(n.img, 32 + 16 * i, 42 + 16 * i), b = h(e.img, 32 + 16 * i, 42 + 16 * i);
    if (a !== b && !(loose && ulpDistance(stOf(n.img, i), stOf(e.img, i)) <= 1)) d.push(`st${i} native ${fmt(stOf(n.img, i))} emu ${fmt(stOf(e.img, i))}`);
  }
  if (h(n.img, 160, 416) !== h(e.img, 160, 416) || h(n.img, 24, 28) !== h(e.img, 24, 28)) d.push('sse state');
  if ((n.flags & 0x8d5) !== (e.flags & 0x8d5)) d.push(`rflags native ${n.flags.toString(16)} emu ${e.flags.toString(16)}`);
  if ((n.rax & 0xffffn) !== (e.rax & 0xffffn)) d.push(`ax native ${(n.rax & 0xffffn).toString(16)} emu ${(e.rax & 0xffffn).toString(16)}`);
  for (let k = 0; k < 512; k++) {
    if (n.mem[k] !== e.mem[k] && !memMask(k)) { d.push(`mem[${k}] native ${h(n.mem, k & ~15, (k & ~15) + 16)} emu ${h(e.mem, k & ~15, (k & ~15) + 16)}`); break; }
  }
  return d;
}

/** Distance in representable values between two finite values (Infinity if not comparable). */
export function ulpDistance(a: F80, b: F80): number {
  const key = (v: F80) => {
    const e = v.se & 0x7fff;
    if (e === 0x7fff || (e !== 0 && !(v.m >> 63n))) return null;
    const k = e === 0 ? v.m : (BigInt(e - 1) << 63n) + v.m;
    return v.se & 0x8000 ? -k : k;
  };
  const ka = key(a), kb = key(b);
  if (ka === null || kb === null) return Infinity;
  const d = ka - kb;
  return Number(d < 0n ? -d : d);
}

export const fmt = (v: F80): string => v.se.toString(16).padStart(4, '0') + ':' + v.m.toString(16).padStart(16, '0');

/** Status word pieces. */
export const SWB = { IE: 1, DE: 2, ZE: 4, OE: 8, UE: 0x10, PE: 0x20, SF: 0x40, C0: 0x100, C1: 0x200, C2: 0x400, C3: 0x4000 };

// ---- random operands ----------------------------------------------------------------------

/** xorshift128+ on BigInt-free 32-bit halves: deterministic, seedable. */
export class Rng {
  private s: number[];
  constructor(seed: number) {
    this.s = [seed ^ 0x9e3779b9, seed * 0x85ebca6b, seed ^ 0xc2b2ae35, 0x27d4eb2f + seed].map((x) => x | 0 || 1);
    for (let i = 0; i < 20; i++) this.u32();
  }
  u32(): number {
    let t = this.s[3];
    const s = this.s[0];
    this.s[3] = this.s[2]; this.s[2] = this.s[1]; this.s[1] = s;
    t ^= t << 11; t ^= t >>> 8;
    this.s[0] = t ^ s ^ (s >>> 19);
    return this.s[0] >>> 0;
  }
  int(n: number): number { return this.u32() % n; }
  pick<T>(xs: readonly T[]): T { return xs[this.int(xs.length)]; }
  u64(): bigint { return (BigInt(this.u32()) << 32n) | BigInt(this.u32()); }
  chance(p: number): boolean { return this.u32() / 4294967296 < p; }
}

const J = 1n << 63n;
const M64 = (1n << 64n) - 1n;

/** A random significand with the integer bit, often with few significant bits (exact results, ties). */
function sig(r: Rng): bigint {
  switch (r.int(6)) {
    case 0: return J | (r.u64() & ~(M64 >> BigInt(1 + r.int(12)))); // a few top bits
    case 1: return J | (M64 >> 1n) ^ (BigInt(r.int(4)) << BigInt(r.int(64))) & (M64 >> 1n); // near all ones
    case 2: return J | (r.u64() & (M64 << BigInt(r.int(40)))) & M64; // trailing zeros: 24/53-bit ties
    case 3: return J | (1n << BigInt(r.int(63))) | (BigInt(r.int(3)) << BigInt(r.int(10)));
    default: return J | r.u64();
  }
}

export type Kind = 'normal' | 'near1' | 'tiny' | 'huge' | 'zero' | 'inf' | 'qnan' | 'snan' | 'denormal' | 'pseudodenormal' | 'unnormal' | 'pseudonan' | 'intlike';

/** A random extended value of `kind` (random sign). */
export function value(r: Rng, kind: Kind): F80 {
  const s = r.int(2) << 15;
  switch (kind) {
    case 'normal': return { se: s | (1 + r.int(0x7ffe)), m: sig(r) };
    case 'near1': return { se: s | (0x3fff - 70 + r.int(140)), m: sig(r) };
    case 'tiny': return { se: s | (1 + r.int(80)), m: sig(r) };
    case 'huge': return { se: s | (0x7ffe - r.int(80)), m: sig(r) };
    case 'zero': return { se: s, m: 0n };
    case 'inf': return { se: s | 0x7fff, m: J };
    case 'qnan': return { se: s | 0x7fff, m: J | (1n << 62n) | (r.chance(0.5) ? BigInt(r.int(4)) : r.u64() & (M64 >> 2n)) };
    case 'snan': return { se: s | 0x7fff, m: J | ((r.chance(0.5) ? BigInt(1 + r.int(4)) : r.u64() & (M64 >> 2n)) || 1n) };
    case 'denormal': return { se: s, m: (r.u64() >> BigInt(1 + r.int(63))) || 1n };
    case 'pseudodenormal': return { se: s, m: J | (r.u64() >> BigInt(1 + r.int(63))) };
    case 'unnormal': return { se: s | (1 + r.int(0x7ffe)), m: r.u64() >> BigInt(1 + r.int(63)) };
    case 'pseudonan': return { se: s | 0x7fff, m: r.u64() >> 1n };
    case 'intlike': {
      const n = 1 + r.int(64);
      return { se: s | (0x3fff + n - 1), m: sig(r) & (M64 << BigInt(64 - n)) };
    }
  }
}

const WEIGHTS: [Kind, number][] = [
  ['normal', 4], ['near1', 30], ['tiny', 4], ['huge', 4], ['zero', 3], ['inf', 3], ['qnan', 2], ['snan', 2],
  ['denormal', 4], ['pseudodenormal', 1], ['unnormal', 1], ['pseudonan', 1], ['intlike', 6],
];
const TOTAL = WEIGHTS.reduce((a, [, w]) => a + w, 0);

/** A random value from a mix of all kinds (mostly ordinary numbers). */
export function anyValue(r: Rng): F80 {
  let k = r.int(TOTAL);
  for (const [kind, w] of WEIGHTS) { if (k < w) return value(r, kind); k -= w; }
  return value(r, 'normal');
}

/** A second operand related to the first (same magnitude, tiny difference, or exact multiple). */
export function related(r: Rng, a: F80): F80 {
  switch (r.int(4)) {
    case 0: return { se: (a.se ^ (r.int(2) << 15)) & 0xffff, m: a.m };
    case 1: return { se: (a.se ^ (r.int(2) << 15)) & 0xffff, m: (a.m ^ BigInt(1 + r.int(7))) | J };
    case 2: return { se: ((a.se & 0x8000) | Math.max(1, Math.min(0x7ffe, (a.se & 0x7fff) + r.int(130) - 65))) ^ (r.int(2) << 15), m: sig(r) };
    default: return anyValue(r);
  }
}

/** Control words: every RC x PC, exceptions masked. */
export const CONTROL_WORDS = [0x037f, 0x077f, 0x0b7f, 0x0f7f, 0x027f, 0x067f, 0x0a7f, 0x0e7f, 0x007f, 0x047f, 0x087f, 0x0c7f];
