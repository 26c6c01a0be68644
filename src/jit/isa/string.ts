import { F } from '../../core/rflags.js';
import { CPU } from '../../core/layout.js';
import type { Emitter, JsEnv } from '../emitter.js';
import type { Insn, RegOperand } from '../../decoder/ir.js';
import { CC } from '../flags.js';
import type { Family } from './types.js';
import { noFlags } from './table.js';
import { sizeMask } from './types.js';
import type { CpuState } from '../../core/cpu-state.js';

/**
 * String instructions (movs stos lods cmps scas, with rep/repe/repne). The common forms are inline
 * Wasm (gcc -Os inlines rep movsb/stosq for every small copy, so a call into TypeScript per
 * instruction cost ~1 us each): single movs/stos/lods/cmps/scas are plain loads and stores, and a
 * forward rep movs/stos copies or fills page by page with memory.copy/fill while both ranges hit
 * the TLB. Everything else -- a TLB miss (including writes to pages holding translated code, which
 * have no write tag), a page-crossing element, overlap, DF=1, 0x67 or segment-prefixed forms,
 * rep cmps/scas -- runs in TypeScript (`run`) from the registers as they stand, so partial progress
 * and faults are exact. There a rep with a large count moves whole page-sized chunks at once, and
 * registers are updated after each chunk, so a fault part-way leaves rsi/rdi/rcx exactly where
 * the hardware would.
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
          writeN(env, d, size, readN(env, s, size));
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

/** The TypeScript form: the fallback of the inline forms, and rep cmps/scas. */
function viaJs(e: Emitter, i: Insn, env: JsEnv, kind: Kind, size: number): void {
  // Writes rax (lods), rcx (rep), rsi, rdi.
  // A fault part-way leaves through the exit tail with the registers `run` advanced (the elements
  // done): changesStateOnExit reloads them, or the tail would store the locals' older values.
  e.callJs((base) => run(env, i, kind, size, base), kind !== 'cmps' && kind !== 'scas', 0b1100_0011, false, true);
}

const SHIFT = [0, 0, 1, 0, 2, 0, 0, 0, 3];
const rax = (size: number): RegOperand => ({ kind: 'reg', file: 'gpr', n: 0, size, name: 'rax' });

/** Pushes the step (i64): size, or -size when RFLAGS.DF is set. */
function pushStep(e: Emitter, size: number): void {
  e.ld64(CPU.rflags);
  e.f.i64(Math.log2(F.DF)).i64_shr_u().i64(1).i64_and().i64(-2 * size).i64_mul().i64(size).i64_add();
}

/** GPR n += local `by` (i64). */
function advance(e: Emitter, n: number, by: number, negate = false): void {
  const t = e.tmp64();
  e.gpr(n);
  e.f.get(by);
  if (negate) e.f.i64_sub(); else e.f.i64_add();
  e.f.set(t);
  e.setGpr(n, t);
  e.free64(t);
}

/** A GPR's value in a new local (caller frees). */
function regL(e: Emitter, n: number): number {
  const l = e.tmp64();
  e.gpr(n);
  e.f.set(l);
  return l;
}

/** One element, no rep: loads and stores through the usual probes, then rsi/rdi move by the step. */
const single: Record<Kind, (e: Emitter, size: number) => void> = {
  movs(e, size) {
    const s = regL(e, RSI), d = regL(e, RDI);
    e.load(s, size);
    const v = e.tmp64();
    e.f.set(v);
    e.store(d, size, v);
    const st = e.tmp64();
    pushStep(e, size); e.f.set(st);
    advance(e, RSI, st); advance(e, RDI, st);
    e.free64(s, d, v, st);
  },
  stos(e, size) {
    const d = regL(e, RDI), v = regL(e, 0);
    e.store(d, size, v);
    const st = e.tmp64();
    pushStep(e, size); e.f.set(st);
    advance(e, RDI, st);
    e.free64(d, v, st);
  },
  lods(e, size) {
    const s = regL(e, RSI);
    e.load(s, size);
    const v = e.tmp64();
    e.f.set(v);
    e.setReg(rax(size), v);
    pushStep(e, size); e.f.set(v);
    advance(e, RSI, v);
    e.free64(s, v);
  },
  cmps(e, size) {
    const s = regL(e, RSI), d = regL(e, RDI);
    const a = e.tmp64(), b = e.tmp64(), r = e.tmp64();
    e.load(s, size); e.f.set(a);
    e.load(d, size); e.f.set(b);
    subFlagsInline(e, size, a, b, r);
    pushStep(e, size); e.f.set(r);
    advance(e, RSI, r); advance(e, RDI, r);
    e.free64(s, d, a, b, r);
  },
  scas(e, size) {
    const d = regL(e, RDI);
    const a = e.tmp64(), b = e.tmp64(), r = e.tmp64();
    e.getReg(rax(size)); e.f.set(a);
    e.load(d, size); e.f.set(b);
    subFlagsInline(e, size, a, b, r);
    pushStep(e, size); e.f.set(r);
    advance(e, RDI, r);
    e.free64(d, a, b, r);
  },
};

/** The flags of a - b (a and b zero-extended to `size`), as cmp records them; r is scratch. */
function subFlagsInline(e: Emitter, size: number, a: number, b: number, r: number): void {
  e.f.get(a).get(b).i64_sub();
  if (size < 8) e.f.i64(sizeMask(size)).i64_and();
  e.f.set(r);
  e.setFlags(CC.SUB, size, a, b, r);
}

/**
 * Forward rep movs/stos, one page-bounded chunk per iteration: n = min(rcx, elements left in the
 * destination's page and in the source's), both ranges probed whole (first byte's entry against
 * the last byte's page), then memory.copy/fill and rcx/rsi/rdi updated. Leaves for the
 * TypeScript path (`slow`, depth given) on anything else, with the registers as far as done.
 */
function repChunks(e: Emitter, kind: 'movs' | 'stos', size: number, slowDepth: () => number, doneDepth: () => number): void {
  const f = e.f;
  const sh = SHIFT[size];
  const n = e.tmp64(), len = e.tmp64(), d = e.tmp64(), s = e.tmp64(), v = e.tmp64();
  const ed = e.tmp32(), es = e.tmp32(), hd = e.tmp32(), hs = e.tmp32();
  /** Pushes the number of whole elements from local `p` to the end of its page. */
  const room = (p: number) => f.i64(4096).get(p).i64(4095).i64_and().i64_sub().i64(sh).i64_shr_u();
  const min = (x: number) => { f.get(n).get(x).get(n).get(x).i64_lt_u().select().set(n); };
  if (kind === 'stos') { e.gpr(0); if (size < 8) f.i64(sizeMask(size)).i64_and(); f.set(v); }
  f.loop();
  e.gpr(RCX); f.tee(n).i64_eqz().br_if(f.depth - doneDepth());
  e.gpr(RDI); f.set(d);
  room(d); f.set(len); min(len);
  if (kind === 'movs') { e.gpr(RSI); f.set(s); room(s); f.set(len); min(len); }
  // An element that straddles a page boundary: TypeScript does it byte-wise.
  f.get(n).i64_eqz().br_if(f.depth - slowDepth());
  f.get(n).i64(sh).i64_shl().set(len);
  const last = (p: number) => () => f.get(p).get(len).i64_add().i64(1).i64_sub();
  e.probeRange(d, last(d), true, ed);
  f.i32_eqz().br_if(f.depth - slowDepth());
  e.hostAddr(d, ed); f.set(hd);
  if (kind === 'movs') {
    e.probeRange(s, last(s), false, es);
    f.i32_eqz().br_if(f.depth - slowDepth());
    e.hostAddr(s, es); f.set(hs);
    // The destination starting inside the source: x86 copies forward element by element (the
    // pattern repeats), memory.copy would move the original bytes. Rare; TypeScript does it.
    f.get(hd).get(hs).i32_sub().tee(ed).i32(0).i32_ne()
      .get(ed).get(len).i32_wrap_i64().i32_lt_u().i32_and().br_if(f.depth - slowDepth());
    f.get(hd).get(hs).get(len).i32_wrap_i64().memory_copy();
    advance(e, RSI, len);
  } else if (size === 1) {
    f.get(hd).get(v).i32_wrap_i64().get(len).i32_wrap_i64().memory_fill();
  } else {
    // memory.fill when every byte of the element is the same (zeroing, mostly), else a store loop.
    f.get(v).get(v).i64(0xff).i64_and().i64(((1n << BigInt(8 * size)) - 1n) / 0xffn).i64_mul().i64_eq().if_();
    f.get(hd).get(v).i32_wrap_i64().get(len).i32_wrap_i64().memory_fill();
    f.else_();
    f.get(hd).get(len).i32_wrap_i64().i32_add().set(hs); // the end
    f.loop();
    f.get(hd).get(v);
    if (size === 2) f.i64_store16(); else if (size === 4) f.i64_store32(); else f.i64_store();
    f.get(hd).i32(size).i32_add().tee(hd).get(hs).i32_ne().br_if(0);
    f.end();
    f.end();
  }
  advance(e, RDI, len);
  advance(e, RCX, n, true);
  f.br(0);
  f.end();
  e.free64(n, len, d, s, v);
  e.free32(ed, es, hd, hs);
}

function str(kind: Kind, size: number) {
  return (e: Emitter, i: Insn, env: JsEnv) => {
    // 0x67 (32-bit counters) and segment overrides stay in TypeScript.
    const plain = !i.ops.some((o) => o.kind === 'mem' && (o.addr32 || o.seg));
    if (!plain) return viaJs(e, i, env, kind, size);
    if (!i.rep) return single[kind](e, size);
    if (kind !== 'movs' && kind !== 'stos') return viaJs(e, i, env, kind, size);
    const f = e.f;
    f.block(); // $done
    const done = f.depth;
    f.block(); // $slow
    const slow = f.depth;
    e.ld64(CPU.rflags); f.i64(F.DF).i64_and().i64_eqz().i32_eqz().br_if(0);
    repChunks(e, kind, size, () => slow, () => done);
    f.end();
    viaJs(e, i, env, kind, size);
    f.end();
  };
}

const SIZES: [string, number][] = [['b', 1], ['w', 2], ['d', 4], ['q', 8]];
export const string: Family = {};
for (const kind of ['movs', 'stos', 'lods', 'cmps', 'scas'] as Kind[]) {
  // movs/stos/lods touch no arithmetic flag; cmps/scas write them unless rcx is 0 (rep): the default.
  for (const [suffix, size] of SIZES) string[kind + suffix] = kind === 'cmps' || kind === 'scas' ? str(kind, size) : noFlags(str(kind, size));
}
