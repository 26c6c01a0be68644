import { writeFileSync } from 'node:fs';
import type { Block } from '../decoder/ir.js';
import { discoverBlock, type CodeFetcher } from '../decoder/block.js';
import type { Decoder } from '../decoder/capstone.js';
import type { EmitHost, JsEnv, JsOp, RuntimeImports } from './emitter.js';
import { TERMINATORS } from './isa/index.js';
import { JC_BASE, JC_ENTRIES, JC_ENTRY_SIZE, SLOTS_BASE, SLOTS_COUNT } from './layout.js';
import { translateRegion, type UntranslatedNote } from './translate.js';
import { ModuleBuilder, T } from './wasm/encoder.js';

/**
 * A translated block. Blocks are named by an **entry**: (table index of its region << 8) | its
 * index in the region, which is what chain slots, the jump cache and the dispatcher hold; the
 * runtime's `chain`/`run` split it into the function to call and the pc to start at.
 */
interface Entry { index: number; block: Block; module: number }
export const ENTRY_PC_BITS = 8;

/** How many blocks one batch may translate: the block asked for plus statically known successors. */
const BATCH_BLOCKS = 16; // < 1 << ENTRY_PC_BITS
/** Regions alive at once before the whole cache is flushed (bounds host memory). */
const MAX_REGIONS = 32768;

export interface CacheStats { blocks: number; insns: number; batches: number; bytes: number; compileMs: number; decodeMs: number; emitMs: number; wasmMs: number; invalidations: number }

/**
 * The code cache: guest rip -> translated function (an index in the shared funcref table), the
 * chain slots direct exits patch, the jump cache indirect exits probe, and invalidation when the
 * guest writes to a page holding translated code.
 */
export class CodeCache {
  private blocks = new Map<number, Entry>();
  private pageBlocks = new Map<number, Set<number>>();
  private moduleBlocks = new Map<number, number[]>();
  private moduleSlot = new Map<number, number>();
  private nextSlot = 1;
  private nextIndex = 1; // table index 0 stays null
  private ops: JsOp[] = [];
  readonly notes = new Map<number, UntranslatedNote>();
  readonly stats: CacheStats = { blocks: 0, insns: 0, batches: 0, bytes: 0, compileMs: 0, decodeMs: 0, emitMs: 0, wasmMs: 0, invalidations: 0 };
  /** Called with the guest page numbers of newly translated code (to write-protect them). */
  onCodePages: (pages: number[]) => void = () => {};

  constructor(
    private readonly memory: WebAssembly.Memory,
    readonly table: WebAssembly.Table,
    private readonly runtimeImports: Record<string, WebAssembly.ExportValue | ((...a: never[]) => unknown)>,
    private readonly decoder: Decoder,
    private readonly code: CodeFetcher,
    private readonly env: JsEnv,
  ) {
    this.clearJumpCache();
  }

  /** Runs JS-implemented instruction `id` (the runtime's `op` import). */
  op(cpu: number, id: number): number {
    return this.ops[id](cpu);
  }

  lookup(rip: number): number {
    return this.blocks.get(rip)?.index ?? 0;
  }

  /** The table index for rip, translating (with a batch of successors) if needed. */
  get(rip: number): number {
    const e = this.blocks.get(rip);
    if (e) return e.index;
    this.translateBatch(rip);
    return this.blocks.get(rip)!.index;
  }

  /** Records rip -> index in the jump cache (indirect branches probe it inline). */
  fillJumpCache(rip: number, index: number): void {
    const dv = new DataView(this.memory.buffer);
    // The hash must match the emitted probe (Emitter.exitToLocal): (t ^ (t >> 12)) mod 2^32, masked.
    // rip < 2^47: split into 32-bit halves to avoid BigInt on this path.
    const lo = rip % 0x1_0000_0000, hi = Math.floor(rip / 0x1_0000_0000);
    const shifted = (lo >>> 12) | ((hi & 0xfff) << 20);
    const h = ((lo ^ shifted) >>> 0) & (JC_ENTRIES - 1);
    const e = JC_BASE + h * JC_ENTRY_SIZE;
    dv.setUint32(e, lo, true);
    dv.setUint32(e + 4, hi, true);
    dv.setInt32(e + 8, index, true);
  }

  patchSlot(slotAddr: number, index: number): void {
    new DataView(this.memory.buffer).setInt32(slotAddr, index, true);
  }

  private clearJumpCache(): void {
    const dv = new DataView(this.memory.buffer);
    for (let k = 0; k < JC_ENTRIES; k++) {
      dv.setBigInt64(JC_BASE + k * JC_ENTRY_SIZE, -1n, true);
      dv.setInt32(JC_BASE + k * JC_ENTRY_SIZE + 8, 0, true);
    }
  }

  private clearSlots(): void {
    new Uint8Array(this.memory.buffer, SLOTS_BASE, this.nextSlot * 4).fill(0);
  }

  /** Drops every translation of code on guest page `vpn` (self-modifying code, munmap). */
  invalidatePage(vpn: number): void {
    const set = this.pageBlocks.get(vpn);
    if (!set) return;
    this.pageBlocks.delete(vpn);
    // Blocks of one module reach each other by direct calls (and rely on each other's flag
    // liveness): drop every block of a module that had a block on this page.
    const modules = new Set<number>();
    for (const rip of set) {
      const e = this.blocks.get(rip);
      if (e) modules.add(e.module);
    }
    for (const m of modules) {
      for (const rip of this.moduleBlocks.get(m) ?? []) this.blocks.delete(rip);
      this.moduleBlocks.delete(m);
      // Nothing can reach the region any more (slots and jump cache are cleared below): let the
      // module be collected, so a guest that keeps rewriting code does not grow host memory.
      const slot = this.moduleSlot.get(m);
      if (slot !== undefined) this.table.set(slot, null);
      this.moduleSlot.delete(m);
    }
    // Chains and jump-cache entries may point at the dropped functions: forget them all. Cheap
    // and rare; the surviving blocks re-chain as they run.
    this.clearSlots();
    this.clearJumpCache();
    this.stats.invalidations++;
  }

  /** Forgets everything (slot or table space exhausted). */
  flushAll(): void {
    this.blocks.clear();
    this.pageBlocks.clear();
    this.moduleBlocks.clear();
    this.moduleSlot.clear();
    for (let i = 0; i < this.nextIndex; i++) this.table.set(i, null);
    this.clearSlots();
    this.clearJumpCache();
    this.nextSlot = 1;
    this.nextIndex = 1;
    this.ops = [];
  }

  private translateBatch(rip: number): void {
    const t0 = performance.now();
    if (this.nextSlot > SLOTS_COUNT - 4096 || this.nextIndex >= MAX_REGIONS) this.flushAll();
    // Discover: the requested block, then breadth-first its static successors.
    const todo = [rip];
    const found: Block[] = [];
    const seen = new Set<number>();
    while (todo.length && found.length < BATCH_BLOCKS) {
      const a = todo.shift()!;
      if (seen.has(a) || this.blocks.has(a)) continue;
      seen.add(a);
      let b: Block;
      try {
        b = discoverBlock(this.decoder, this.code, a, TERMINATORS);
      } catch (err) {
        if (a === rip) throw err; // the guest's own fetch fault
        continue; // a speculative successor that is not executable: skip it
      }
      found.push(b);
      for (const s of successors(b)) if (!seen.has(s)) todo.push(s);
    }
    const t1 = performance.now();
    this.stats.decodeMs += t1 - t0;
    const imports: RuntimeImports = {
      rd: 0, wr: 1, rd128: 2, wr128: 3, getFlags: 4, op: 5, mulhu: 6, mulhs: 7, chain: 8,
    };
    const m = new ModuleBuilder({ memoryPages: 1, memoryMax: 65536, tableMin: 1, noTable: true });
    m.importFunc('rt', 'rd', [T.i32, T.i64, T.i32, T.i64], [T.i64]);
    m.importFunc('rt', 'wr', [T.i32, T.i64, T.i32, T.i64, T.i64], []);
    m.importFunc('rt', 'rd128', [T.i32, T.i64, T.i64], [T.i32]);
    m.importFunc('rt', 'wr128', [T.i32, T.i64, T.i64], []);
    m.importFunc('rt', 'flags_of', [T.i32, T.i64, T.i64, T.i64], [T.i32]);
    m.importFunc('rt', 'op', [T.i32, T.i32], [T.i32]);
    m.importFunc('rt', 'mulhu', [T.i64, T.i64], [T.i64]);
    m.importFunc('rt', 'mulhs', [T.i64, T.i64], [T.i64]);
    m.importFunc('rt', 'chain', [T.i32, T.i32], [T.i32]);
    const index = new Map(found.map((b, k) => [b.start, k]));
    const host: EmitHost = {
      allocSlot: () => this.nextSlot++,
      localBlock: (target) => index.get(target) ?? -1,
      regionFunc: m.imports.length,
      registerOp: (impl) => { this.ops.push(impl); return this.ops.length - 1; },
    };
    const region = m.add(translateRegion(found, imports, host, this.env, this.notes));
    const slot = this.nextIndex;
    const t2 = performance.now();
    this.stats.emitMs += t2 - t1;
    if (this.table.length <= slot) this.table.grow(slot - this.table.length + 1024);
    m.export('region', region);
    const bytes = m.emit();
    if (process.env.USMJIT_DUMP) writeFileSync(`${process.env.USMJIT_DUMP}-${this.stats.batches}.wasm`, bytes);
        this.stats.bytes += bytes.length;
    const mod = new WebAssembly.Module(bytes);
    const inst = new WebAssembly.Instance(mod, {
      env: { mem: this.memory },
      rt: this.runtimeImports as WebAssembly.ModuleImports,
    });
    this.table.set(slot, inst.exports.region as () => number);
    this.stats.wasmMs += performance.now() - t2;
    const pages = new Set<number>();
    found.forEach((b, k) => {
      this.blocks.set(b.start, { index: (slot << ENTRY_PC_BITS) | k, block: b, module: this.stats.batches });
      for (const p of b.pages) {
        pages.add(p);
        let s = this.pageBlocks.get(p);
        if (!s) this.pageBlocks.set(p, (s = new Set()));
        s.add(b.start);
      }
      this.stats.insns += b.insns.length;
    });
    this.moduleBlocks.set(this.stats.batches, found.map((b) => b.start));
    this.moduleSlot.set(this.stats.batches, slot);
    this.nextIndex++;
    this.onCodePages([...pages]);
    this.stats.blocks += found.length;
    this.stats.batches++;
    this.stats.compileMs += performance.now() - t0;
  }
}

/** Statically known next addresses of a block (for batching). */
function successors(b: Block): number[] {
  if (b.fault) return [];
  const last = b.insns[b.insns.length - 1];
  if (!last) return [];
  const out: number[] = [];
  const imm = last.ops[0];
  const target = imm && imm.kind === 'imm' ? Number(BigInt.asUintN(64, imm.value)) : -1;
  if (!TERMINATORS.has(last.op)) return [b.end];
  if (last.op === 'jmp') return target >= 0 ? [target] : [];
  if (last.op === 'call') { if (target >= 0) out.push(target); out.push(b.end); return out; }
  if (last.op.startsWith('j') || last.op.startsWith('loop')) { out.push(b.end); if (target >= 0) out.push(target); return out; }
  if (last.op === 'syscall') return [b.end];
  return out;
}
