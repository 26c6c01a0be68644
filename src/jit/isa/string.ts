import { F } from '../../core/rflags.js';
import { CPU } from '../../core/layout.js';
import type { Emitter, JsEnv } from '../emitter.js';
import type { Insn } from '../../decoder/ir.js';
import type { Family } from './types.js';
import { noFlags } from './table.js';
import { sizeMask } from './types.js';
import type { CpuState } from '../../core/cpu-state.js';

/**
 * String instructions (movs stos lods cmps scas, with rep/repe/repne) run in TypeScript: a rep
 * with a large count moves whole page-sized chunks at once, and registers are updated after
 * each chunk, so a fault part-way leaves rsi/rdi/rcx exactly where the hardware would.
 */

const RCX = 1, RSI = 6, RDI = 7;
const CHUNK = 4096;

function readN(env: JsEnv, addr: number, size: number): bigint {
  const b = env.mem.read(addr, size);
  let v = 0n;
  for (let k = size - 1; k >= 0; k--) v = (v << 8n) | BigInt(b[k]);
  return v;
}
function writeN(env: JsEnv, addr: number, size: number, v: bigint): void {
  const b = new Uint8Array(size);
  for (let k = 0; k < size; k++) b[k] = Number((v >> BigInt(8 * k)) & 0xffn);
  env.mem.write(addr, b);
}

/** SUB flags of a - b at `size`, computed eagerly (cmps/scas). */
function subFlags(a: bigint, b: bigint, size: number): number {
  const bits = BigInt(size * 8);
  const m = sizeMask(size);
  const r = (a - b) & m;
  const sign = 1n << (bits - 1n);
  let fl = 0;
  if (a < b) fl |= 1;
  let p = Number(r & 0xffn);
  p ^= p >> 4; p ^= p >> 2; p ^= p >> 1;
  if ((p & 1) === 0) fl |= 1 << 2;
  if (((a ^ b ^ r) & 0x10n) !== 0n) fl |= 1 << 4;
  if (r === 0n) fl |= 1 << 6;
  if ((r & sign) !== 0n) fl |= 1 << 7;
  if (((a ^ b) & (a ^ r) & sign) !== 0n) fl |= 1 << 11;
  return fl;
}

type Kind = 'movs' | 'stos' | 'lods' | 'cmps' | 'scas';

function run(env: JsEnv, i: Insn, kind: Kind, size: number, base: number): number {
  const cpu: CpuState = env.cpu(base);
  const down = (cpu.u64(CPU.rflags) & BigInt(F.DF)) !== 0n;
  const step = down ? -size : size;
  const rep = i.rep !== 0;
  const addr32 = i.ops.some((o) => o.kind === 'mem' && o.addr32);
  const am = addr32 ? 0xffff_ffffn : -1n;
  let count = rep ? (addr32 ? cpu.get(RCX) & 0xffff_ffffn : cpu.get(RCX)) : 1n;
  const acc = cpu.get(0) & sizeMask(size);
  // With a 0x67 prefix the counters are ecx/esi/edi: writing them zero-extends, as any 32-bit write.
  const setRcx = (c: bigint) => { if (rep) cpu.set(RCX, c & am); };
  const ptr = (reg: number) => Number(BigInt.asUintN(64, cpu.get(reg) & am));
  const advance = (reg: number, n: number) => {
    cpu.set(reg, (cpu.get(reg) + BigInt(n * step)) & am);
  };
  while (count > 0n) {
    if ((kind === 'movs' || kind === 'stos') && !down && rep) {
      // Bulk forward copy/fill in chunks that never cross a page or overlap unsafely.
      const d = ptr(RDI);
      let n = Math.min(Number(count > 1n << 40n ? 1n << 40n : count), Math.floor(CHUNK / size));
      n = Math.min(n, Math.floor((CHUNK - (d % CHUNK)) / size));
      // Chunks stay within one page (CHUNK is the page size), so each side is one host range; the
      // source is translated first, as the CPU reads before it writes. An element that straddles
      // a page boundary (n = 0) goes through the byte-wise path.
      if (kind === 'movs') {
        const s = ptr(RSI);
        n = Math.min(n, Math.floor((CHUNK - (s % CHUNK)) / size));
        const gap = d - s;
        if (gap > 0 && gap < n * size) n = Math.max(1, Math.floor(gap / size));
        if (n === 0) {
          n = 1;
          env.mem.write(d, env.mem.read(s, size));
        } else {
          const hs = env.hostAddr(s, false, n * size);
          const hd = env.hostAddr(d, true, n * size);
          env.bytes().copyWithin(hd, hs, hs + n * size);
        }
        advance(RSI, n);
      } else if (n === 0) {
        n = 1;
        writeN(env, d, size, acc);
      } else {
        const hd = env.hostAddr(d, true, n * size);
        const u8 = env.bytes();
        const len = n * size;
        for (let k = 0; k < size; k++) u8[hd + k] = Number((acc >> BigInt(8 * k)) & 0xffn);
        if (size === 1) u8.fill(u8[hd], hd, hd + len);
        else for (let done = size; done < len; done *= 2) u8.copyWithin(hd + done, hd, hd + Math.min(done, len - done));
      }
      advance(RDI, n);
      count -= BigInt(n);
      setRcx(count);
      continue;
    }
    switch (kind) {
      case 'movs': writeN(env, ptr(RDI), size, readN(env, ptr(RSI), size)); advance(RSI, 1); advance(RDI, 1); break;
      case 'stos': writeN(env, ptr(RDI), size, acc); advance(RDI, 1); break;
      case 'lods': {
        const v = readN(env, ptr(RSI), size);
        if (size === 4) cpu.set(0, v);
        else cpu.set(0, (cpu.get(0) & ~sizeMask(size)) | v);
        advance(RSI, 1);
        break;
      }
      case 'cmps': {
        const a = readN(env, ptr(RSI), size), b = readN(env, ptr(RDI), size);
        env.setFlags(base, subFlags(a, b, size));
        advance(RSI, 1); advance(RDI, 1);
        break;
      }
      case 'scas': {
        const b = readN(env, ptr(RDI), size);
        env.setFlags(base, subFlags(acc, b, size));
        advance(RDI, 1);
        break;
      }
    }
    count--;
    setRcx(count);
    if (rep && (kind === 'cmps' || kind === 'scas')) {
      const zf = (env.getFlags(base) >> 6) & 1;
      if (i.rep === 0xf3 && !zf) break; // repe: stop on mismatch
      if (i.rep === 0xf2 && zf) break; // repne: stop on match
    }
  }
  return -1;
}

function str(kind: Kind, size: number) {
  return (e: Emitter, i: Insn, env: JsEnv) => {
    // Writes rax (lods), rcx (rep), rsi, rdi.
    e.callJs((base) => run(env, i, kind, size, base), kind !== 'cmps' && kind !== 'scas', 0b1100_0011);
  };
}

const SIZES: [string, number][] = [['b', 1], ['w', 2], ['d', 4], ['q', 8]];
export const string: Family = {};
for (const kind of ['movs', 'stos', 'lods', 'cmps', 'scas'] as Kind[]) {
  // movs/stos/lods touch no arithmetic flag; cmps/scas write them unless rcx is 0 (rep): the default.
  for (const [suffix, size] of SIZES) string[kind + suffix] = kind === 'cmps' || kind === 'scas' ? str(kind, size) : noFlags(str(kind, size));
}
