import { writeFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import type { Block, Insn } from '../decoder/ir.js';
import { discoverBlock, type CodeFetcher } from '../decoder/block.js';
import { codeOf, type Decoder } from '../decoder/capstone.js';
import type { EmitHost, JsEnv, JsOp } from './emitter.js';
import { endsBlock, staticSuccessors } from './isa/index.js';
import { COUNTERS_BASE, COUNTERS_COUNT, isStepMode, JC_BASE, JC_ENTRIES, JC_ENTRY_SIZE, LINKED_BASE, Mode, MODE_STRIDE, SLOTS_BASE, SLOTS_COUNT, TRANSITIONS_BASE } from '../core/layout.js';
import { translateRegion, type UntranslatedNote } from './translate.js';
import { buildRuntimeTable, declareRuntimeCalls, RUNTIME_FUNCS, type RuntimeFuncValues } from './runtime-table.js';
import { ModuleBuilder } from './wasm/encoder.js';
import type { CodePages } from './code-pages.js';
import { codeKey, ENTRY_PC_BITS, ENTRY_PC_MASK, entryOf, fillJumpCacheEntry, keyOfTag } from './entry.js';
import type { TranslationStore } from './translation-store.js';
import { blockIndex, imageOf, linkImages, type LinkedRegions, type RegionImage, type StoredRegion } from './relocation.js';

/** Instruction bytes for a translation mode (the mode decides the rights checked: CPL, NX). */
export interface ModeFetcher {
  fetch(addr: number, len: number, mode: Mode): { bytes: Uint8Array; pages: number[] };
}

/**
 * A region: blocks compiled into one Wasm function (see translate.ts), occupying one slot of the
 * shared funcref table. A block is named by an **entry**: (table slot << 8) | its index in the
 * region, which is what chain slots, the jump cache and the dispatcher hold; the runtime's
 * `chain`/`run` split it into the function to call and the pc to start at.
 *
 * Regions **grow**: when an indirect branch (ret, jmp/call through a register) leaves a region for
 * a target the jump cache did not know, the target's block (and its static successors) is added
 * to the region and the region is recompiled in place (same slot, existing blocks keep their pc).
 * Its indirect branches then compare against the targets seen so far and stay inside the region:
 * a switch-dispatch interpreter loop or a call/return pair runs without leaving Wasm locals.
 */
interface Region {
  id: number;
  slot: number;
  blocks: Block[];
  index: Map<number, number>;
  /** Targets of the region's indirect branches compiled in, compared inline (in region order). */
  indirect: Set<number>;
  /** Targets seen but not compiled in yet (the region grows once it is hot). */
  pending: Set<number>;
  /** Targets of its direct exits to blocks of other regions (recorded as it is compiled). */
  exits: Set<number>;
  /** The entry count at which its direct exits are looked at again (growLoops). */
  nextLoopCheck: number;
  grows: number;
  /** The translation key's tag (entry.ts): blocks are named by codeKey(b.start, tag) in `blocks`. */
  tag: number;
  mode: Mode;
  /** Its compiled body with relocatable constants, kept while a translation store is attached. */
  image?: RegionImage;
  /** The stored region it was installed from (code-cache.ts installStored). */
  stored?: StoredRegion;
  /** Its guest registers stay in the CPU block (emitter.ts EmitHost.regsInMemory) until promoted. */
  regsInMemory: boolean;
  /** The IR of its instructions with JS-implemented ops, kept for the store when the rest is released. */
  opIr?: Insn[];
  /**
   * Set while its function is the only one of its module (compiled here, not yet relinked): the
   * first chain slot and op id its image was compiled with, which relink keeps.
   */
  alone?: { slotBase: number; opBase: number };
  /** An access of it can never hit the TLB (Exit.Miss said so): its accesses call the slow path. */
  missCalls?: boolean;
}

/**
 * Block key -> the stored region holding it, for a file's linked regions: built once per file
 * and shared by every process that adopts it (a shell's subshells: ~2 ms a fork). A block in
 * several regions maps to the one the storing run entered it in (StoredRegion.copies): growth copies
 * a hot function into its callers' regions, and the first of those in slot order was not always
 * where it ran (busybox md5sum's promoted loop was left for an unpromoted copy: warm 0.43 s,
 * 0.30 s entering the promoted one).
 */
const storedIndexes = new WeakMap<LinkedRegions, Map<number, number>>();
export function storedIndex(linked: LinkedRegions): Map<number, number> {
  let index = storedIndexes.get(linked);
  if (!index) storedIndexes.set(linked, (index = blockIndex(linked.regions)));
  return index;
}

/** A translation's name: the guest address plus its mode (layout.ts MODE_STRIDE). */


/** How many blocks one batch may translate: the block asked for plus statically known successors. */
const BATCH_BLOCKS = 16;
/**
 * Blocks a batch (or a growth) takes in beyond its count when a branch of its blocks goes into the
 * middle of one of them: a loop's head after the code that enters the loop (`xor eax,eax` then the
 * loop) is such a target, and translated on its own it became a one-block region that every
 * iteration left and entered again (busybox sh's string-table lookup: two region crossings per
 * character compared, ~1,000 crossings per iteration of a shell loop).
 */
const SPLIT_BLOCKS = 8;
/** A region stops growing at this many blocks or growth steps. */
const MAX_REGION_BLOCKS = 96; // < 1 << ENTRY_PC_BITS
const MAX_GROWS = 8;
/**
 * Recompiling regions as they grow may cost at most this fraction of the Wasm bytes compiled for
 * fresh batches. Each growth is a new module that V8 compiles again in Liftoff and then in
 * TurboFan (super-linear in function size), on the machine's few cores: a shell loop that keeps
 * finding hot exits in hundreds of regions regrew them ~600 times (bash 30,000 iterations: 17 MB of
 * Wasm, 55 s). A compute kernel grows its few hot regions early, well inside the budget
 * (nbody, interp keep their gain); measured 0.5 and 0.25 too (bash 16 and 12 s).
 */
const GROW_BUDGET_RATIO = 0.1;
/**
 * Entries after which a region may grow beyond the budget (its own MAX_GROWS and
 * MAX_REGION_BLOCKS still hold): a region crossing costs ~10 ns (a call/return pair made to cross
 * 200M times: +2.0 s), so one entered 3M times has spent ~30 ms crossing, more than recompiling
 * it costs. The budget goes to whatever grows first, lukewarm start-up code included; busybox
 * sort's input loop (a getc call per character) and its comparisons got hot after it was spent.
 */
const VERY_HOT = 3_000_000;
const MAX_INDIRECT = 16;
/**
 * Relinking (CodeCache.relink) waits until translation has been quiet for RELINK_QUIET_MS and at
 * least RELINK_MIN_HOT regions have been entered RELINK_HOT_ENTRIES times; it relinks those, at
 * most MAX_RELINKS times a run. (500 ms, 64 and 10,000 before V8's code spaces were packed
 * together, native/code-placement.c: with them, relinking fewer regions sooner pays.)
 */
const RELINK_QUIET_MS = 100;
const RELINK_MIN_HOT = 16;
const RELINK_HOT_ENTRIES = 1_000;
const MAX_RELINKS = 4;
/** Compilation hint: compile eagerly (2), TurboFan as the first tier (2 << 2) and the top one (2 << 4). */
const HINT_EAGER_TURBOFAN = 2 | (2 << 2) | (2 << 4);
/**
 * V8 versions whose compilation hints relink was measured with (Node 20's 11.3): another V8 may
 * not know the flag (setting an unknown one prints an error on the guest's stderr) or may compile
 * the section differently, and relinked without it the hot regions lose their TurboFan code.
 */
const HINTS_KNOWN = /^11\./.test(process.versions.v8);

/**
 * When regions are relinked (USMJIT_RELINK, for tests and measurements): auto (the default, see
 * CodeCache.relink), off, or always (at every budget exit, every region compiled here).
 */
export type RelinkMode = 'auto' | 'off' | 'always';
export function relinkMode(): RelinkMode {
  return envChoice('USMJIT_RELINK', ['auto', 'off', 'always'] as const);
}

/** An environment variable naming one of `values` (the first when unset or empty); else throws. */
function envChoice<T extends string>(name: string, values: readonly T[]): T {
  const v = process.env[name];
  if (v === undefined || v === '') return values[0];
  if ((values as readonly string[]).includes(v)) return v as T;
  throw new Error(`${name}=${v}: expected ${values.slice(0, -1).join(', ')} or ${values[values.length - 1]}`);
}

/** A relink compiling in the background: the regions it holds (function k) and their images then. */
interface RelinkJob {
  regions: { r: Region; image: RegionImage }[];
  state: 'compiling' | 'done' | 'failed';
  module?: WebAssembly.Module;
}
/** Entries before a region is worth recompiling with its indirect targets. */
const HOT_ENTRIES = 500;
/** Entries before a region's direct exits are looked at for hot loops (growLoops), and how often. */
const LOOP_HOT_ENTRIES = 10_000;
const LOOP_SCAN_MS = 20;
/**
 * Where guest registers live in a region's code (USMJIT_REGS, for tests and measurements):
 * - adaptive (the default): a new region keeps them in the CPU block, and is recompiled with them
 *   in Wasm locals (promoted) once it is seen to loop inside itself;
 * - memory / locals: always there.
 * Why: with registers in locals, each region entry loads every register it uses and each exit
 * writes back every one it changes, and a loop over the region's dispatch makes them all live
 * across every block. Code that is entered and left all the time (a shell or awk interpreting:
 * 200 region crossings per awk loop iteration, each ~35 ns with locals) is faster with them in
 * memory (bash 6%, awk 10%, sh 11%; fewer locals to compile); a compute loop that stays in its
 * region is faster with locals (sha256 12%, interp 24%, nbody 12-24% slower in memory). XMM
 * registers stay in locals (in memory: awk +40%, nbody +68%).
 */
export type RegisterPlacement = 'adaptive' | 'memory' | 'locals';
export function registerPlacement(): RegisterPlacement {
  return envChoice('USMJIT_REGS', ['adaptive', 'memory', 'locals'] as const);
}
/**
 * A region with its registers in memory is promoted when it has made PROMOTE_TRANSITIONS block
 * transitions, at least PROMOTE_RATIO per entry (a loop inside it) or PROMOTE_INSNS_PER_ENTRY
 * guest instructions per entry (transitions times its instructions per block: a loop of long
 * blocks, busybox md5sum's 15.9 transitions of ~33 instructions), looked at every LOOP_SCAN_MS
 * at most; at most MAX_PROMOTIONS recompilations per process.
 */
const PROMOTE_TRANSITIONS = 200_000;
const PROMOTE_RATIO = 16;
const PROMOTE_INSNS_PER_ENTRY = 200;
const MAX_PROMOTIONS = 256;

/**
 * Whether Linux-mode regions leave on a TLB miss instead of calling the slow path
 * (USMJIT_MISS_EXIT=0 turns it off, for measurements): see emitter.ts EmitHost.missExit.
 */
const MISS_EXIT = process.env.USMJIT_MISS_EXIT !== '0';

/** Regions alive at once before the whole cache is flushed (bounds host memory). */
const MAX_REGIONS = COUNTERS_COUNT;

export interface CacheStats { missCalls: number; relinks: number; relinked: number; redecoded: number; promotions: number; promoteBytes: number; stored: number; storedRejected: number; blocks: number; insns: number; batches: number; grows: number; loopGrows: number; bytes: number; regrowBytes: number; compileMs: number; decodeMs: number; emitMs: number; wasmMs: number; invalidations: number }

/** A region's guest instructions per block, on average. */
function insnsPerBlock(r: Region): number {
  let n = 0;
  for (const b of r.blocks) n += b.released?.insnCount ?? b.insns.length;
  return n / r.blocks.length;
}

/**
 * The code cache: guest rip -> entry, the regions, the chain slots direct exits patch, the jump
 * cache indirect exits probe, and invalidation when the guest writes to a page holding translated
 * code.
 */
export class CodeCache {
  /** The canonical entry for each translated key (a block may also be copied into other regions). */
  private blocks = new Map<number, { entry: number; region: Region }>();
  private regions = new Map<number, Region>(); // by table slot
  private pageRegions = new Map<number, Set<Region>>();
  private pendingRegions = new Set<Region>();
  private nextSlot = 1;
  private nextIndex = 1; // table index 0 stays null
  private nextId = 0;
  private ops: JsOp[] = [];
  readonly notes = new Map<number, UntranslatedNote>();
  readonly stats: CacheStats = { missCalls: 0, relinks: 0, relinked: 0, redecoded: 0, promotions: 0, promoteBytes: 0, stored: 0, storedRejected: 0, blocks: 0, insns: 0, batches: 0, grows: 0, loopGrows: 0, bytes: 0, regrowBytes: 0, compileMs: 0, decodeMs: 0, emitMs: 0, wasmMs: 0, invalidations: 0 };

  constructor(
    private readonly memory: WebAssembly.Memory,
    readonly table: WebAssembly.Table,
    runtimeFuncs: RuntimeFuncValues,
    private readonly decoder: Decoder,
    private readonly code: ModeFetcher,
    private readonly env: JsEnv,
    /** The pages translations were made from (filled by the fetcher); forgotten with them. */
    private readonly codePages: CodePages,
  ) {
    this.runtimeTable = buildRuntimeTable(runtimeFuncs, memory);
    this.clearJumpCache();
    this.linkedFlags().fill(0);
  }

  /** One byte per table slot: 1 while it runs a linked module's function (layout.ts LINKED_BASE). */
  private linkedFlags(): Uint8Array {
    return new Uint8Array(this.memory.buffer, LINKED_BASE, COUNTERS_COUNT);
  }

  /** The functions regions call (runtime-table.ts), imported by each region as env.table. */
  private readonly runtimeTable: WebAssembly.Table;

  /** Runs JS-implemented instruction `id` (the runtime's `op` import). */
  op(cpu: number, id: number): number {
    return this.ops[id](cpu);
  }

  /** The entry for a key (codeKey), translating (with a batch of successors) if needed. */
  get(key: number): number {
    const e = this.blocks.get(key);
    if (e) return e.entry;
    if (!this.installStored(key)) this.translateBatch(key % MODE_STRIDE, Math.floor(key / MODE_STRIDE));
    return this.blocks.get(key)!.entry;
  }

  /** Whether any translation holds code from guest page `vpn`. */
  hasPage(vpn: number): boolean {
    return this.pageRegions.has(vpn);
  }

  /**
   * An indirect branch in the region at table slot `slot` went to `target` without a jump-cache
   * hit: remember it; once the region is hot, it grows to include its targets, so the branches
   * stay inside it.
   */
  noteIndirect(slot: number, target: number): void {
    const r = this.regions.get(slot);
    if (!r || r.indirect.has(target) || !this.mayGrow(r)) return;
    if (r.indirect.size + r.pending.size >= MAX_INDIRECT) return;
    r.pending.add(target);
    this.pendingRegions.add(r);
    this.growHot();
  }

  /** The `n` regions entered most often (entries = calls and chained tail calls into them). */
  hottest(n: number): { entries: number; mode: Mode; blocks: number; first: number; last: number; transitions: number; regsInMemory: boolean }[] {
    const counters = new Uint32Array(this.memory.buffer, COUNTERS_BASE, COUNTERS_COUNT);
    const transitions = new Uint32Array(this.memory.buffer, TRANSITIONS_BASE, COUNTERS_COUNT);
    return [...this.regions.values()]
      .map((r) => ({ entries: counters[r.slot], mode: r.mode, blocks: r.blocks.length, first: Math.min(...r.blocks.map((b) => b.start)), last: Math.max(...r.blocks.map((b) => b.start)), transitions: transitions[r.slot], regsInMemory: r.regsInMemory }))
      .sort((a, b) => b.entries - a.entries)
      .slice(0, n);
  }

  /** Region entries so far, summed over the live regions (how often code crossed between regions). */
  totalEntries(): number {
    const counters = new Uint32Array(this.memory.buffer, COUNTERS_BASE, COUNTERS_COUNT);
    let n = 0;
    for (const r of this.regions.values()) n += counters[r.slot];
    return n;
  }

  /** Grows the regions with pending indirect targets that have become hot. */
  growHot(): void {
    if (!this.pendingRegions.size) return;
    const counters = new Int32Array(this.memory.buffer, COUNTERS_BASE, COUNTERS_COUNT);
    for (const r of this.pendingRegions) {
      if (this.regions.get(r.slot) !== r) { this.pendingRegions.delete(r); continue; }
      if (counters[r.slot] < HOT_ENTRIES) continue;
      this.pendingRegions.delete(r);
      if (!this.mayGrow(r)) { r.pending.clear(); continue; }
      this.grow(r);
    }
  }

  /**
   * Whether the region may grow once more (its own limit, then the global budget). The budget
   * counts what this run compiled: a run whose translations all come from the persistent cache
   * grows nothing, so it recompiles nothing and leaves the stored file as it is (it had grown one
   * region and rewritten the whole file at every warm start: busybox sh, 4 MB).
   */
  private mayGrow(r: Region): boolean {
    if (r.grows >= MAX_GROWS || isStepMode(r.mode)) return false;
    if (this.dv().getUint32(COUNTERS_BASE + 4 * r.slot, true) >= VERY_HOT) return true;
    return this.stats.regrowBytes < GROW_BUDGET_RATIO * (this.stats.bytes - this.stats.regrowBytes);
  }

  /**
   * A region installed from the store keeps only its code bytes (most blocks): decodes them again
   * before it is recompiled. False if a block no longer decodes to the same extent.
   */
  private decodeStored(r: Region): boolean {
    const fetcher: CodeFetcher = { fetch: (addr, len) => this.code.fetch(addr, len, r.mode) };
    for (let k = 0; k < r.blocks.length; k++) {
      const b = r.blocks[k];
      if (b.insns.length || b.end === b.start) continue;
      let d: Block;
      try {
        d = discoverBlock(this.decoder, fetcher, b.start, endsBlock);
      } catch {
        return false;
      }
      if (d.end !== b.end || d.fault) return false;
      this.stats.redecoded += d.insns.length;
      r.blocks[k] = d;
    }
    return true;
  }

  /**
   * Growth found Capstone not loaded yet (every translation so far came from the persistent
   * cache): the dispatcher lets it load at its next budget exit (vmx/machine.ts).
   */
  decoderWanted = false;

  /** Takes the pending indirect targets and `direct` into the region; false if nothing was new. */
  private grow(r: Region, direct: number[] = []): boolean {
    // A region recompiles with fresh chain slots; leave the room to new translations.
    if (this.nextSlot > SLOTS_COUNT - 8192) return false;
    if (!this.decoder.loaded) {
      this.decoderWanted = true;
      r.pending.clear(); // noted again on their next miss
      return false;
    }
    const t0 = performance.now();
    const added: Block[] = [];
    const indirectBefore = r.indirect.size;
    this.pendingRegions.delete(r); // its pending targets are taken in now
    for (const target of [...r.pending, ...direct]) {
      const room = Math.min(8, MAX_REGION_BLOCKS - r.blocks.length);
      if (!r.index.has(target)) {
        if (room <= 0) continue;
        let found: Block[];
        try {
          const splits = Math.min(SPLIT_BLOCKS, MAX_REGION_BLOCKS - r.blocks.length - room);
          found = this.discover(target, room, (a) => r.index.has(a), r.mode, splits, (a) => r.blocks.some((b) => a > b.start && a < b.end));
        } catch {
          continue;
        }
        for (const b of found) {
          r.index.set(b.start, r.blocks.length);
          r.blocks.push(b);
          added.push(b);
        }
      }
      if (r.index.has(target) && r.pending.has(target)) r.indirect.add(target);
    }
    r.pending.clear();
    this.stats.decodeMs += performance.now() - t0;
    if (!added.length && r.indirect.size === indirectBefore) return false; // nothing new to compile in
    if (!this.decodeStored(r)) return false;
    r.grows++;
    this.stats.grows++;
    this.compile(r, added, t0);
    return true;
  }

  private lastLoopScan = 0;
  private lastPromoteScan = 0;
  private readonly placement = registerPlacement();
  /** Regions that could not be promoted (their code changed since they were stored). */
  private unpromotable = new WeakSet<Region>();

  /**
   * Links the hot regions compiled here into one module (see RELINK_*): each compiled region is
   * a module of its own, and V8 gives each module its own instance, code space and jump table, so
   * a crossing into another region lands on code and data of their own. A warm bash loop whose
   * stored regions were installed one module each ran 18% slower (7.2-8.2 s against 6.1-6.8; a
   * busybox sh loop 10%; awk and sort, 28 and 35 hot regions, no slower). The new module keeps
   * the regions' table slots, chain slots and op ids (relocation.ts relocate). It is compiled in
   * the background, by TurboFan from the start (V8's compilation hints), while the regions run
   * their old code; relinked the plain way (lazily, in Liftoff, tiering up again) the hot regions
   * lost their optimised code: +0.3 s for a busybox sh loop's 164.
   * Called at budget exits; true while the compile runs (the caller lets the event loop turn, where
   * it completes).
   */
  relink(): boolean {
    const job = this.relinkJob;
    if (job) {
      if (job.state === 'compiling') return true;
      this.relinkJob = undefined;
      if (job.state === 'done') this.installRelinked(job);
      return false;
    }
    if (this.relinkMode === 'off' || !this.keepImages || (this.relinkMode === 'auto' && !HINTS_KNOWN)) return false;
    const now = performance.now();
    const q = this.relinkQuiet;
    if (this.stats.batches !== q.batches) { q.batches = this.stats.batches; q.since = now; }
    const auto = this.relinkMode === 'auto';
    if (auto && (this.stats.relinks >= MAX_RELINKS || now - q.since < RELINK_QUIET_MS)) return false;
    const entries = new Uint32Array(this.memory.buffer, COUNTERS_BASE, COUNTERS_COUNT);
    const rs = [...this.regions.values()].filter((r) => r.alone && r.image && !isStepMode(r.mode) && (!auto || entries[r.slot] >= RELINK_HOT_ENTRIES));
    if (rs.length < (auto ? RELINK_MIN_HOT : 1)) return false;
    const regions = rs.map((r) => ({ r, image: r.image! }));
    const part = new Map(rs.map((r, k) => [r, k]));
    const { module: bytes } = linkImages(rs.map((r) => ({ image: r.image!, at: { tableSlot: r.slot, ...r.alone! } })),
      declareRuntimeCalls, RUNTIME_FUNCS.length, auto ? HINT_EAGER_TURBOFAN : undefined, (k, rip) => {
        // Where the dispatcher chains an exit to `rip`: the block's canonical entry, if its region is here.
        const e = this.blocks.get(codeKey(rip, rs[k].tag));
        const j = e && part.get(e.region);
        return j === undefined ? undefined : { part: j, pc: e!.entry & ENTRY_PC_MASK };
      });
    this.stats.relinks++;
    if (!auto) {
      // always (tests): compiled lazily, as other modules are, and installed at once, so that a
      // short run relinks at every budget exit, the same way each time.
      this.installRelinked({ regions, state: 'done', module: new WebAssembly.Module(bytes) });
      return false;
    }
    const started: RelinkJob = { regions, state: 'compiling' };
    setFlagsFromString('--experimental-wasm-compilation-hints');
    try {
      WebAssembly.compile(bytes).then((mod) => { started.module = mod; started.state = 'done'; }, () => { started.state = 'failed'; });
    } finally {
      setFlagsFromString('--no-experimental-wasm-compilation-hints');
    }
    this.relinkJob = started;
    return true;
  }

  /** Installs a relinked module: each region that is still as it was runs the new module's copy. */
  private installRelinked(job: RelinkJob): void {
    const inst = new WebAssembly.Instance(job.module!, { env: { mem: this.memory, table: this.runtimeTable } });
    job.regions.forEach(({ r, image }, k) => {
      // Regrown, promoted, invalidated or flushed meanwhile: it keeps what it has.
      if (this.regions.get(r.slot) !== r || r.image !== image || !r.alone) return;
      this.table.set(r.slot, inst.exports[String(k)] as () => number);
      this.linkedFlags()[r.slot] = 1;
      r.alone = undefined;
      this.stats.relinked++;
    });
  }

  private readonly relinkMode = relinkMode();
  private relinkJob?: RelinkJob;
  /** A relink is compiling (the scheduler lets the event loop turn). */
  get relinking(): boolean { return this.relinkJob?.state === 'compiling'; }
  /** When this run last compiled a batch (relink waits until translation has settled). */
  private relinkQuiet = { batches: -1, since: 0 };

  /**
   * Recompiles, with their registers in Wasm locals, the regions whose code loops inside them
   * (see registerPlacement). Looked at every LOOP_SCAN_MS at most (at budget exits).
   */
  promoteLoops(): void {
    const now = performance.now();
    if (this.placement !== 'adaptive' || now - this.lastPromoteScan < LOOP_SCAN_MS || this.stats.promotions >= MAX_PROMOTIONS) return;
    this.lastPromoteScan = now;
    const entries = new Uint32Array(this.memory.buffer, COUNTERS_BASE, COUNTERS_COUNT);
    const transitions = new Uint32Array(this.memory.buffer, TRANSITIONS_BASE, COUNTERS_COUNT);
    for (const r of [...this.regions.values()]) {
      if (!r.regsInMemory || isStepMode(r.mode) || this.unpromotable.has(r) || this.regions.get(r.slot) !== r) continue;
      const t = transitions[r.slot];
      if (t < PROMOTE_TRANSITIONS || (t < PROMOTE_RATIO * entries[r.slot] && t * insnsPerBlock(r) < PROMOTE_INSNS_PER_ENTRY * entries[r.slot])) continue;
      if (!this.promote(r)) return;
      if (this.stats.promotions >= MAX_PROMOTIONS) return;
    }
  }

  /** Recompiles `r` with its registers in locals; false if it cannot be now (no decoder yet). */
  private promote(r: Region): boolean {
    if (this.nextSlot > SLOTS_COUNT - 8192) return false;
    if (!this.decoder.loaded) {
      this.decoderWanted = true;
      return false;
    }
    const t0 = performance.now();
    if (!this.decodeStored(r)) {
      this.unpromotable.add(r);
      return true;
    }
    r.regsInMemory = false;
    const before = this.stats.bytes;
    this.compile(r, [], t0);
    this.stats.promotions++;
    this.stats.promoteBytes += this.stats.bytes - before;
    return true;
  }

  /**
   * Grows hot regions along their hot direct exits. Batches are cut by a block count, so a hot
   * loop can end up split across two regions; every iteration then leaves one region through its
   * exit tail (registers and flags written back) and enters the other (reloaded): several times
   * the cost of a branch inside a region. A region entered LOOP_HOT_ENTRIES times takes in the
   * blocks its direct exits lead to when those blocks' region is hot too, so the loop closes
   * inside it. Looked at every LOOP_SCAN_MS at most (the dispatcher calls this at budget exits).
   */
  growLoops(): void {
    const now = performance.now();
    if (now - this.lastLoopScan < LOOP_SCAN_MS) return;
    this.lastLoopScan = now;
    const counters = new Int32Array(this.memory.buffer, COUNTERS_BASE, COUNTERS_COUNT);
    for (const r of [...this.regions.values()]) {
      const n = counters[r.slot];
      if (n < r.nextLoopCheck || this.regions.get(r.slot) !== r) continue;
      r.nextLoopCheck = n * 2;
      if (!this.mayGrow(r) || r.blocks.length >= MAX_REGION_BLOCKS) continue;
      const hot = [...r.exits].filter((t) => {
        const other = this.blocks.get(codeKey(t, r.tag));
        return !r.index.has(t) && other !== undefined && other.region !== r && counters[other.region.slot] >= LOOP_HOT_ENTRIES;
      });
      if (hot.length && this.grow(r, hot.slice(0, 4))) this.stats.loopGrows++;
    }
  }

  /** Records key -> entry in the jump cache (indirect branches probe it inline). */
  fillJumpCache(key: number, index: number): void {
    // The tag is the key: the emitted probe adds its mode to the target before comparing.
    fillJumpCacheEntry(this.dv(), key, index);
  }

  private dataView: DataView | null = null;
  /** Where a current DataView of the memory can be had cheaply (the frame allocator). */
  viewSource?: { readonly dv: DataView };
  /** A DataView of the memory (rebuilt only after it grows: reading memory.buffer is not free). */
  private dv(): DataView {
    if (this.viewSource) return this.viewSource.dv;
    const buf = this.memory.buffer;
    if (!this.dataView || this.dataView.buffer !== buf) this.dataView = new DataView(buf);
    return this.dataView;
  }

  patchSlot(slotAddr: number, index: number): void {
    this.dv().setInt32(slotAddr, index, true);
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

  /** Drops every region holding code from guest page `vpn` (self-modifying code, munmap). */
  invalidatePage(vpn: number): void {
    const set = this.pageRegions.get(vpn);
    if (!set) return;
    this.pageRegions.delete(vpn);
    for (const r of set) this.dropRegion(r);
    // Chains and jump-cache entries may point at the dropped regions: forget them all. Cheap
    // and rare; the surviving regions re-chain as they run.
    this.clearSlots();
    this.clearJumpCache();
    this.stats.invalidations++;
  }

  private dropRegion(r: Region): void {
    if (this.regions.get(r.slot) !== r) return;
    this.regions.delete(r.slot);
    for (const b of r.blocks) {
      const k = codeKey(b.start, r.tag);
      const e = this.blocks.get(k);
      if (e && e.region === r) this.blocks.delete(k);
    }
    // Nothing can reach the region any more (slots and the jump cache are cleared by the caller):
    // let its module be collected, so a guest that keeps rewriting code does not grow host memory.
    this.table.set(r.slot, null);
    this.linkedFlags()[r.slot] = 0;
    new DataView(this.memory.buffer).setInt32(COUNTERS_BASE + r.slot * 4, 0, true);
    new DataView(this.memory.buffer).setInt32(TRANSITIONS_BASE + r.slot * 4, 0, true);
  }

  /** Counts flushAll calls: a chain slot read before a flush must not be patched after it. */
  generation = 0;

  /** Forgets everything (slot or table space exhausted). */
  flushAll(): void {
    this.generation++;
    this.blocks.clear();
    this.regions.clear();
    this.pageRegions.clear();
    this.codePages.clear();
    this.pendingRegions.clear();
    new Uint8Array(this.memory.buffer, COUNTERS_BASE, COUNTERS_COUNT * 4).fill(0);
    new Uint8Array(this.memory.buffer, TRANSITIONS_BASE, COUNTERS_COUNT * 4).fill(0);
    for (let i = 0; i < this.nextIndex; i++) this.table.set(i, null);
    this.linkedFlags().fill(0);
    this.clearSlots();
    this.clearJumpCache();
    this.nextSlot = 1;
    this.nextIndex = 1;
    this.ops = [];
    // The stored regions' numbers were reserved from 1 up: they cannot be installed any more.
    this.adopted = undefined;
  }

  /**
   * Discovers the block at `rip` and breadth-first its static successors, skipping `known`, up to
   * `limit` blocks; then up to `splits` more that start inside a block already found or one
   * `inside` knows (see SPLIT_BLOCKS).
   */
  private discover(rip: number, limit: number, known: (a: number) => boolean, mode: Mode, splits = 0, inside: (a: number) => boolean = () => false): Block[] {
    const fetcher: CodeFetcher = { fetch: (addr, len) => this.code.fetch(addr, len, mode) };
    const todo = [rip];
    const found: Block[] = [];
    const seen = new Set<number>();
    // Instructions decoded past a block's end, for the blocks found next (discoverBlock): the
    // batch's code bytes do not change while it is discovered.
    const ahead = new Map<number, Insn>();
    // Decodes the block at `a` into the batch and queues its successors; false if `a` cannot be
    // fetched (a speculative successor that is not executable: skipped; rip itself: the guest's
    // own fetch fault).
    const take = (a: number, maxInsns?: number): boolean => {
      let b: Block;
      try {
        b = discoverBlock(this.decoder, fetcher, a, endsBlock, maxInsns, ahead);
      } catch (err) {
        if (a === rip) throw err;
        return false;
      }
      found.push(b);
      for (const s of staticSuccessors(b)) if (!seen.has(s)) todo.push(s);
      return true;
    };
    while (todo.length && found.length < limit) {
      const a = todo.shift()!;
      if (seen.has(a) || known(a)) continue;
      seen.add(a);
      take(a, isStepMode(mode) ? 1 : undefined);
    }
    const within = (a: number) => inside(a) || found.some((b) => a > b.start && a < b.end);
    for (let n = 0; n < splits && todo.length; ) {
      const a = todo.shift()!;
      if (seen.has(a) || known(a) || !within(a)) continue;
      seen.add(a);
      if (take(a)) n++;
    }
    return found;
  }

  private translateBatch(rip: number, tag: number): void {
    const t0 = performance.now();
    if (this.nextSlot > SLOTS_COUNT - 8192 || this.nextIndex >= MAX_REGIONS) this.flushAll();
    const mode = keyOfTag(tag).mode;
    const step = isStepMode(mode);
    const found = this.discover(rip, step ? 1 : BATCH_BLOCKS, (a) => this.blocks.has(codeKey(a, tag)), mode, step ? 0 : SPLIT_BLOCKS);
    const r: Region = {
      id: this.nextId++, slot: this.nextIndex++, blocks: found,
      index: new Map(found.map((b, k) => [b.start, k])), indirect: new Set(), pending: new Set(), grows: 0, mode, tag,
      exits: new Set(), nextLoopCheck: LOOP_HOT_ENTRIES, regsInMemory: this.placement !== 'locals',
    };
    this.regions.set(r.slot, r);
    this.stats.decodeMs += performance.now() - t0;
    this.stats.batches++;
    this.compile(r, found, t0);
  }

  /** (Re)compiles a region into its table slot; `added` are its blocks new since last time. */
  /**
   * Makes region `r`'s `blocks` reachable: each becomes its key's canonical entry unless another
   * region has it already, and its pages name the region (for invalidation).
   */
  private enter(r: Region, blocks: Block[]): void {
    // (Indexed loops: this runs while usmjit's JavaScript is cold, where for-of allocates.)
    for (let j = 0; j < blocks.length; j++) {
      const b = blocks[j];
      const k = codeKey(b.start, r.tag);
      if (!this.blocks.has(k)) this.blocks.set(k, { entry: entryOf(r.slot, r.index.get(b.start)!), region: r });
      for (let q = 0; q < b.pages.length; q++) {
        const p = b.pages[q];
        let set = this.pageRegions.get(p);
        if (!set) this.pageRegions.set(p, (set = new Set()));
        set.add(r);
      }
    }
  }

  /** What the emitter asks of the region it translates (compile, and rebuilding a stored one's ops). */
  private hostFor(r: Region, regionFunc: number, allocSlot: (target: number) => number, registerOp: (impl: JsOp, insnAddr: number) => number): EmitHost {
    return {
      allocSlot,
      localBlock: (target) => r.index.get(target) ?? -1,
      regionFunc,
      regionSlot: r.slot,
      indirectTargets: [...r.indirect].map((t) => ({ target: t, pc: r.index.get(t)! })),
      registerOp,
      mode: r.mode,
      tag: r.tag,
      watch: keyOfTag(r.tag).watching,
      preciseFp: keyOfTag(r.tag).preciseFp,
      fpuOff: keyOfTag(r.tag).fpuOff,
      regsInMemory: r.regsInMemory,
      missExit: r.mode === Mode.Linux && !r.missCalls && MISS_EXIT,
    };
  }

  /**
   * After Exit.Miss that no TLB entry can serve (a page-crossing access, a write to a page the slow
   * path must see): region `slot` is recompiled with slow-path calls, so that it does not leave
   * at every such access. The instruction itself runs again from a new block.
   */
  missCalls(slot: number): void {
    const r = this.regions.get(slot);
    if (!r || r.missCalls) return;
    if (!this.decoder.loaded) {
      this.decoderWanted = true; // (until then it leaves at such accesses, and runs)
      return;
    }
    r.missCalls = true;
    this.stats.missCalls++;
    if (this.decodeStored(r)) this.compile(r, [], performance.now());
  }

  private compile(r: Region, added: Block[], t0: number): void {
    const t1 = performance.now();
    const m = new ModuleBuilder({ memoryPages: 1, memoryMax: 65536, tableMin: RUNTIME_FUNCS.length });
    const imports = declareRuntimeCalls(m);
    r.exits.clear();
    const firstSlot = this.nextSlot, firstOp = this.ops.length;
    const opInsns: number[] = [], slotTargets: number[] = [];
    const host = this.hostFor(r, m.imports.length,
      (target) => { r.exits.add(target); slotTargets.push(target); return this.nextSlot++; },
      (impl, addr) => { opInsns.push(addr); this.ops.push(impl); return this.ops.length - 1; });
    const fn = translateRegion(r.blocks, imports, host, this.env, this.notes);
    const region = m.add(fn);
    const t2 = performance.now();
    this.stats.emitMs += t2 - t1;
    if (this.table.length <= r.slot) this.table.grow(r.slot - this.table.length + 1024);
    m.export('region', region);
    const bytes = m.emitOne('region');
    if (this.keepImages) r.image = imageOf(fn, firstSlot, slotTargets, firstOp, opInsns);
    r.alone = { slotBase: firstSlot, opBase: firstOp };
    if (process.env.USMJIT_DUMP) writeFileSync(`${process.env.USMJIT_DUMP}-${r.id}-${r.grows}.wasm`, bytes);
    this.stats.bytes += bytes.length;
    if (r.grows) this.stats.regrowBytes += bytes.length;
    const inst = new WebAssembly.Instance(new WebAssembly.Module(bytes), {
      env: { mem: this.memory, table: this.runtimeTable },
    });
    this.table.set(r.slot, inst.exports.region as () => number);
    this.linkedFlags()[r.slot] = 0;
    this.stats.wasmMs += performance.now() - t2;
    this.enter(r, added);
    for (const b of added) this.stats.insns += b.insns.length;
    this.stats.blocks += added.length;
    this.release(r);
    this.stats.compileMs += performance.now() - t0;
  }

  /**
   * Drops a compiled region's IR (~800 bytes per instruction: operand objects, strings, views),
   * keeping each block's code bytes; decodeStored decodes them again before the region is
   * recompiled (growth, promotion: a few per run). Kept, the IR of every translated instruction
   * outlived the young generation, and V8 copied it from one semi-space to the other and then to
   * the old generation: scavenges of 10-16 ms each, ~100 ms of a cold busybox sh loop.
   */
  private release(r: Region): void {
    if (r.image) {
      // The ops' IR carries no text: rebuildOps emits it again with its notes discarded, and
      // reading `text` decodes the instruction again (~2% of a cold busybox sh start).
      const opAddrs = new Set(r.image.opInsns);
      const opIr: Insn[] = [];
      if (opAddrs.size) {
        for (const b of r.blocks) for (const i of b.insns) if (opAddrs.has(i.addr)) opIr.push({
          addr: i.addr, len: i.len, id: i.id, op: i.op, opcode: i.opcode, modrm: i.modrm, ops: i.ops, rep: i.rep,
          lock: i.lock, opsize: i.opsize, rexW: i.rexW, bytes: i.bytes.slice(), text: '',
        });
      }
      r.opIr = opIr;
    }
    r.blocks = r.blocks.map((b) => b.insns.length === 0 || b.fault ? b : {
      start: b.start, end: b.end, pages: b.pages, insns: [],
      released: { code: codeOf(b.insns), insnCount: b.insns.length },
    });
  }

  // ---- the persistent translation cache (translation-store.ts) -------------------------------

  /** Keep each region's relocatable image (a translation store is attached: it saves them). */
  private keepImages = false;
  private store?: TranslationStore;

  /**
   * Uses `store` for this program: what it holds is adopted now (the cache must be fresh), and
   * save() writes back what this run compiled.
   */
  attachStore(store: TranslationStore): void {
    this.store = store;
    this.keepImages = true;
    store.join();
    const got = store.load();
    if (got) this.adopt(got.linked, got.module);
  }

  /**
   * Leaves the attached store (at exit or exec) with the regions to store if this run compiled
   * any; the last process of the program to leave writes them (TranslationStore.leave).
   */
  saveStore(): void {
    const store = this.store;
    if (!store) return;
    this.store = undefined; // once
    try {
      store.leave(this.compiledHere === 0 ? [] : this.storedRegions(), declareRuntimeCalls, RUNTIME_FUNCS.length);
    } catch (e) {
      // A cache that cannot be written (read-only home, full disk) costs speed, not the run.
      process.stderr.write(`usmjit: translation cache ${store.file}: ${(e as Error).message}\n`);
    }
  }
  /** Regions compiled here (batches and growth) since start: whether saving has anything new. */
  get compiledHere(): number { return this.stats.batches + this.stats.grows; }

  /** Stored regions linked into one instance, installed one by one as their code is reached. */
  private adopted?: {
    linked: LinkedRegions;
    module: WebAssembly.Module;
    instance: WebAssembly.Instance;
    /** Per stored region: 0 not yet looked at, 1 installed, 2 rejected (its code differs). */
    state: Uint8Array;
    /** codeKey -> stored region holding that block. */
    index: Map<number, number>;
  };

  /**
   * Takes stored regions (linked by relocation.ts link(), compiled as `mod`) before anything is
   * translated: their table slots, chain slots and op ids are reserved; each is installed when its
   * first block is asked for and its code bytes are still what they were.
   */
  adopt(linked: LinkedRegions, mod: WebAssembly.Module): void {
    if (this.nextIndex !== 1 || this.nextSlot !== 1 || this.ops.length) throw new Error('adopt: the cache is not fresh');
    const n = linked.regions.length;
    if (n + 1 >= MAX_REGIONS / 2 || linked.slots >= SLOTS_COUNT / 2) return; // stored by another configuration
    const instance = new WebAssembly.Instance(mod, { env: { mem: this.memory, table: this.runtimeTable } });
    const index = storedIndex(linked);
    this.nextIndex = 1 + n;
    this.nextSlot = linked.slots;
    const notInstalled: JsOp = () => { throw new Error('a stored region\'s op ran before the region was installed'); };
    this.ops = new Array<JsOp>(linked.ops).fill(notInstalled);
    if (this.table.length <= this.nextIndex) this.table.grow(this.nextIndex - this.table.length + 1024);
    this.adopted = { linked, module: mod, instance, state: new Uint8Array(n), index };
  }

  /**
   * A forked child's cache: it may install the stored regions its parent adopted (its memory is a
   * copy of the parent's, and each region is still checked against it), and what it translates
   * is stored with the parent's (TranslationStore.leave).
   */
  adoptFrom(parent: CodeCache): void {
    const a = parent.adopted;
    if (a) this.adopt(a.linked, a.module);
    // The child runs the same program: what it translates is stored with the parent's.
    if (parent.store) {
      this.store = parent.store;
      this.keepImages = true;
      parent.store.join();
    }
  }

  /** Installs the stored region holding block `key`, if its code is unchanged; false otherwise. */
  private installStored(key: number): boolean {
    const a = this.adopted;
    if (!a) return false;
    const k = a.index.get(key);
    if (k === undefined || a.state[k] !== 0) return false;
    const s = a.linked.regions[k], num = a.linked.numbering[k];
    const mode = keyOfTag(s.tag).mode;
    // The code must be byte for byte what was translated (another build of the program, a library
    // loaded elsewhere, code the program wrote): compare, and learn the pages it comes from.
    const blocks: Block[] = [];
    for (const b of s.blocks) {
      let got: { bytes: Uint8Array; pages: number[] };
      try {
        got = this.code.fetch(b.start, b.end - b.start, mode);
      } catch {
        got = { bytes: new Uint8Array(0), pages: [] };
      }
      let same = got.bytes.length === b.code.length;
      for (let j = 0; same && j < b.code.length; j++) same = got.bytes[j] === b.code[j];
      if (!same) {
        a.state[k] = 2;
        this.stats.storedRejected++;
        return false;
      }
      blocks.push({ start: b.start, end: b.end, pages: got.pages, insns: [] });
    }
    a.state[k] = 1;
    const r: Region = {
      id: this.nextId++, slot: num.tableSlot, blocks, index: new Map(blocks.map((b, j) => [b.start, j])),
      indirect: new Set(s.indirect), pending: new Set(), exits: new Set(s.exits), grows: 0, mode, tag: s.tag,
      nextLoopCheck: LOOP_HOT_ENTRIES, image: this.keepImages ? s.image : undefined, stored: s,
      regsInMemory: s.regsInMemory,
    };
    if (s.image.ops) {
      // Its JS-implemented ops are rebuilt when one of them first runs (most never do).
      const rebuild = (j: number): JsOp => (cpu) => {
        const ops = this.rebuildOps(r, s);
        if (!ops) throw new Error(`stored region at 0x${s.blocks[0].start.toString(16)}: its ops do not rebuild`);
        ops.forEach((op, i) => { this.ops[num.opBase + i] = op; });
        return ops[j](cpu);
      };
      for (let j = 0; j < s.image.ops; j++) this.ops[num.opBase + j] = rebuild(j);
    }
    for (const n of s.notes) this.notes.set(n.addr, n);
    this.regions.set(r.slot, r);
    this.table.set(r.slot, a.instance.exports[String(k)] as () => number);
    this.linkedFlags()[r.slot] = 1;
    this.enter(r, blocks);
    for (const b of s.blocks) this.stats.insns += b.insnCount;
    this.stats.stored++;
    return true;
  }

  /**
   * The closures of a stored region's JS-implemented ops: each instruction they belong to is
   * emitted again, alone, and must register the same ops in the same order (else undefined).
   */
  private rebuildOps(r: Region, s: StoredRegion): JsOp[] | undefined {
    const ops: JsOp[] = [], addrs: number[] = [];
    const m = new ModuleBuilder({ memoryPages: 1, memoryMax: 65536, tableMin: RUNTIME_FUNCS.length });
    const rt = declareRuntimeCalls(m);
    for (const insn of s.opIr) {
      const b: Block = { start: insn.addr, end: insn.addr + insn.len, insns: [insn], pages: [] };
      const one: Region = { ...r, blocks: [b], index: new Map([[insn.addr, 0]]), indirect: new Set() };
      try {
        translateRegion([b], rt, this.hostFor(one, 0, () => 0, (impl, addr) => { addrs.push(addr); return ops.push(impl) - 1; }), this.env, new Map());
      } catch {
        return undefined;
      }
    }
    const want = s.image.opInsns;
    if (addrs.length !== want.length || addrs.some((x, j) => x !== want[j])) return undefined;
    return ops;
  }

  /**
   * What to store: the live regions that can be (no step mode, no undecodable or unfetchable
   * block), then the stored ones this run never reached; nothing if
   * this run compiled nothing that can be stored.
   */
  storedRegions(): StoredRegion[] {
    const out: StoredRegion[] = [];
    const noteAt = [...this.notes.keys()];
    let fresh = 0;
    for (const r of [...this.regions.values()].sort((x, y) => x.slot - y.slot)) {
      if (!r.image || isStepMode(r.mode)) continue;
      if (r.stored && r.stored.image === r.image) {
        out.push(r.stored); // installed as stored, unchanged
        continue;
      }
      if (r.blocks.some((b) => b.fault)) continue;
      const opIr = r.opIr ?? [];
      const copies = r.blocks.filter((b) => this.blocks.get(codeKey(b.start, r.tag))?.region !== r).map((b) => b.start);
      const notes = noteAt.filter((a) => r.blocks.some((b) => a >= b.start && a < b.end)).map((a) => this.notes.get(a)!);
      out.push({
        tag: r.tag, indirect: [...r.indirect], exits: [...r.exits], image: r.image, notes, opIr, regsInMemory: r.regsInMemory,
        ...(copies.length ? { copies } : {}),
        blocks: r.blocks.map((b) => ({
          start: b.start, end: b.end, insnCount: b.released?.insnCount ?? b.insns.length,
          code: b.released?.code ?? codeOf(b.insns),
        })),
      });
      fresh++;
    }
    if (!fresh) return []; // nothing new: the stored file stays as it is
    const a = this.adopted;
    if (a) a.linked.regions.forEach((s, k) => { if (a.state[k] === 0) out.push(s); });
    return out;
  }
}
